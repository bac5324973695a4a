"""``python -m services up``: the whole stack on this machine. Also ``migrate`` and ``token``."""

from __future__ import annotations

import argparse
import os
import signal
import sys
import threading
from pathlib import Path

from services import database
from services.registry import SERVICES
from services.stack import DEFAULT_DATA_DIR, SANDBOX, Infrastructure, Stack, default_ports
from shared import devtoken


def _data_dir() -> Path:
    return Path(os.environ.get("MOTCUA_DATA_DIR", str(DEFAULT_DATA_DIR)))


def up() -> int:
    data_dir = _data_dir()
    stop_requested = threading.Event()

    def request_stop(signum: int, _frame: object) -> None:
        stop_requested.set()

    signal.signal(signal.SIGTERM, request_stop)
    signal.signal(signal.SIGINT, request_stop)

    infra = Infrastructure.from_environment(data_dir)
    stack: Stack | None = None
    try:
        database_url = infra.server_url
        if infra.postgres is not None:
            database_url = database.create_database(infra.server_url, "motcua")
        loaded = database.prepare(database_url)
        print(
            f"database ready ({', '.join(f'{k}: {v} loaded' for k, v in loaded.items())})",
            flush=True,
        )
        stack = Stack(database_url, infra.bootstrap_servers, data_dir / "keys", default_ports())
        stack.start()
        print("\nMột Cửa is up:", flush=True)
        for spec in SERVICES:
            print(f"  {spec.name:<9} {stack.url(spec.name)}/docs", flush=True)
        # Not ours: it plays the VNPay gateway and the bank the payment service talks to.
        print(
            f"  {SANDBOX.name:<9} {stack.url(SANDBOX.name)}/docs  (VNPay gateway and bank)",
            flush=True,
        )
        print(f"  postgres  {database_url}", flush=True)
        print(f"  kafka     {infra.bootstrap_servers}", flush=True)
        print(
            "  token     python -m services token --roles receptionist --unit 00070 --unit-path 01.00070\n",
            flush=True,
        )
        while not stop_requested.wait(0.5):
            dead = [n for n, p in stack.processes.items() if not p.alive()]
            if dead:
                print(
                    f"service(s) exited: {', '.join(dead)}; stopping", file=sys.stderr, flush=True
                )
                return 1
        return 0
    finally:
        if stack is not None:
            stack.stop()
        infra.stop()
        print("stopped", flush=True)


def migrate() -> int:
    url = os.environ.get("DATABASE_URL")
    if not url:
        print("DATABASE_URL is not set", file=sys.stderr)
        return 2
    print(database.prepare(url))
    return 0


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["token"]:
        # Keys live with the stack's data unless --keys-dir says otherwise.
        return devtoken.main(["--keys-dir", str(_data_dir() / "keys"), *argv[1:]])
    parser = argparse.ArgumentParser(prog="motcua", description="Một Cửa stack")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser(
        "up",
        help="start PostgreSQL and Kafka if not configured, the payment sandbox, then the four services",
    )
    sub.add_parser(
        "migrate", help="run every service's migrations on DATABASE_URL and load reference data"
    )
    sub.add_parser("token", help="mint a development bearer token (see --help of this command)")
    args = parser.parse_args(argv)
    if args.command == "up":
        return up()
    return migrate()


if __name__ == "__main__":
    sys.exit(main())
