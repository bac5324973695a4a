"""The whole system on one machine: infrastructure (given or embedded), the payment sandbox,
then four services.

Used by ``python -m services up`` and by the test suite's session fixtures.
"""

from __future__ import annotations

import json
import os
import secrets
from dataclasses import dataclass, field
from pathlib import Path

import structlog

from services.infra import EmbeddedBroker, EmbeddedPostgres, free_port
from services.processes import ServiceProcess
from services.registry import SERVICES, ServiceSpec
from shared.auth import ensure_dev_keypair, ensure_dev_secret

log = structlog.get_logger(__name__)

DEFAULT_DATA_DIR = Path(".data")

# The external payment world (a VNPay gateway, a bank), played by a process of its own. Not in
# SERVICES: it is not ours, has no schema and no migrations.
SANDBOX = ServiceSpec("sandbox", "services.sandbox", 8009)
SANDBOX_TMN_CODE = "MOTCUADEV"


@dataclass
class Infrastructure:
    """A PostgreSQL server and a broker: the configured ones, or private ones started here."""

    data_dir: Path
    server_url: str
    bootstrap_servers: str
    postgres: EmbeddedPostgres | None = None
    broker: EmbeddedBroker | None = None

    @classmethod
    def start(
        cls,
        data_dir: Path,
        database_url: str | None = None,
        bootstrap_servers: str | None = None,
        broker_log: Path | None = None,
        *,
        durable: bool = True,
    ) -> Infrastructure:
        """``durable=False`` only for disposable data (the test suite): see EmbeddedPostgres."""
        data_dir.mkdir(parents=True, exist_ok=True)
        postgres = broker = None
        try:
            if not database_url:
                postgres = EmbeddedPostgres(data_dir.resolve() / "postgres", durable=durable)
                postgres.start()
                # Said whether or not it moved: a user must be able to find their data.
                print(postgres.describe(), flush=True)
                database_url = postgres.url
            if not bootstrap_servers:
                broker = EmbeddedBroker(log_path=broker_log or data_dir / "broker.log")
                broker.start()
                bootstrap_servers = broker.bootstrap_servers
        except BaseException:
            if broker is not None:
                broker.stop()
            if postgres is not None:
                postgres.stop()
            raise
        return cls(data_dir, database_url, bootstrap_servers, postgres, broker)

    @classmethod
    def from_environment(
        cls, data_dir: Path, broker_log: Path | None = None, *, durable: bool = True
    ) -> Infrastructure:
        return cls.start(
            data_dir,
            os.environ.get("DATABASE_URL") or None,
            os.environ.get("KAFKA_BOOTSTRAP_SERVERS") or None,
            broker_log,
            durable=durable,
        )

    def stop(self) -> None:
        if self.broker is not None:
            self.broker.stop()
        if self.postgres is not None:
            self.postgres.stop()


@dataclass
class Stack:
    """The four services over one database and one broker, and the payment sandbox they pay
    through."""

    database_url: str
    bootstrap_servers: str
    keys_dir: Path
    ports: dict[str, int]
    log_dir: Path | None = None
    extra_env: dict[str, str] = field(default_factory=dict)
    processes: dict[str, ServiceProcess] = field(default_factory=dict)

    def __post_init__(self) -> None:
        _, public = ensure_dev_keypair(self.keys_dir)
        self.public_key_file = public
        self.private_key_file = self.keys_dir / "jwt-private.pem"
        # A port map written before the sandbox existed still works: it gets a free port.
        self.ports = {**self.ports}
        self.ports.setdefault(SANDBOX.name, free_port())
        # Fresh for every stack: development secrets shared only by the sandbox and the
        # payment service, never written anywhere.
        self.sandbox_secrets = {
            "tmn_code": SANDBOX_TMN_CODE,
            "hash_secret": secrets.token_hex(32),
            "bank_secret": secrets.token_hex(32),
        }
        # First in the map, so start() brings it up before the services that call it.
        self.processes[SANDBOX.name] = ServiceProcess(
            SANDBOX,
            self.ports[SANDBOX.name],
            self._sandbox_env(),
            self.log_dir / f"{SANDBOX.name}.log" if self.log_dir else None,
        )
        for spec in SERVICES:
            self.processes[spec.name] = ServiceProcess(
                spec,
                self.ports[spec.name],
                self._env(spec),
                self.log_dir / f"{spec.name}.log" if self.log_dir else None,
            )

    def _env(self, spec: ServiceSpec) -> dict[str, str]:
        p = spec.env_prefix
        return {
            f"{p}DATABASE_URL": self.database_url,
            f"{p}KAFKA_BOOTSTRAP_SERVERS": self.bootstrap_servers,
            f"{p}JWT_PUBLIC_KEY_FILE": str(self.public_key_file.resolve()),
            # The development CA that signs results lives beside the JWT keys, so a test stack
            # and a `make run` stack each keep their own.
            f"{p}PKI_DIR": str(self.keys_dir.resolve().parent / "pki"),
            f"{p}HTTP_PORT": str(self.ports[spec.name]),
            # Kept with the stack's keys, so applicants' pseudonyms survive a restart.
            f"{p}APPLICANT_REF_KEY": ensure_dev_secret(self.keys_dir / "applicant-ref.key"),
            **(self._payment_env() if spec.name == "payment" else {}),
            **self.extra_env,
        }

    def _local(self, name: str) -> str:
        return f"http://127.0.0.1:{self.ports[name]}"

    def _payment_env(self) -> dict[str, str]:
        sandbox, s = self._local(SANDBOX.name), self.sandbox_secrets
        return {
            "PAYMENT_VNPAY_PAY_URL": f"{sandbox}/paymentv2/vpcpay.html",
            "PAYMENT_VNPAY_API_URL": f"{sandbox}/merchant_webapi/api/transaction",
            "PAYMENT_VNPAY_STATEMENT_URL": f"{sandbox}/merchant_webapi/api/statement",
            "PAYMENT_VNPAY_TMN_CODE": s["tmn_code"],
            "PAYMENT_VNPAY_HASH_SECRET": s["hash_secret"],
            "PAYMENT_VNPAY_RETURN_URL": f"{self._local('payment')}/v1/gateways/vnpay/return",
            "PAYMENT_BANK_NOTICE_SECRET": s["bank_secret"],
            "PAYMENT_BANK_STATEMENT_URL": f"{sandbox}/bank/statements",
        }

    def _sandbox_env(self) -> dict[str, str]:
        payment, s = self._local("payment"), self.sandbox_secrets
        return {
            "SANDBOX_HTTP_PORT": str(self.ports[SANDBOX.name]),
            "SANDBOX_VNPAY_TERMINALS": json.dumps({s["tmn_code"]: s["hash_secret"]}),
            # Registered with the gateway, as the IPN URL is at VNPay.
            "SANDBOX_IPN_URL": f"{payment}/v1/gateways/vnpay/ipn",
            "SANDBOX_BANK_NOTICE_URL": f"{payment}/v1/bank-credits",
            "SANDBOX_BANK_SECRET": s["bank_secret"],
            # The sandbox plays VNPay and the bank, whose access logs are theirs to keep (the
            # bank's statement API takes the agency's account number in its query).
            **{k: v for k, v in self.extra_env.items() if k != "HTTP_ACCESS_LOG"},
        }

    def url(self, name: str) -> str:
        return self.processes[name].url

    def log_files(self) -> dict[Path, int]:
        """Each log file this stack writes, with the offset where its own lines begin."""
        return {
            proc.log_file: proc.log_offset or 0
            for proc in self.processes.values()
            if proc.log_file is not None
        }

    def start(self, names: list[str] | None = None, timeout: float = 60.0) -> None:
        chosen = [self.processes[n] for n in (names or list(self.processes))]
        for proc in chosen:
            proc.start()
        for proc in chosen:
            proc.wait_ready(timeout)

    def stop(self) -> None:
        for proc in self.processes.values():
            proc.stop()

    def kill(self, name: str) -> None:
        self.processes[name].kill()

    def restart(self, name: str) -> None:
        self.processes[name].stop()
        self.start([name])


def default_ports() -> dict[str, int]:
    ports = {}
    for spec in (SANDBOX, *SERVICES):
        raw = os.environ.get(f"{spec.env_prefix}HTTP_PORT")
        ports[spec.name] = int(raw) if raw else spec.default_port
    return ports


def free_ports() -> dict[str, int]:
    return {spec.name: free_port() for spec in (SANDBOX, *SERVICES)}
