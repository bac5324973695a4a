"""``make run`` on the embedded default: four services and the payment sandbox answer; SIGTERM
leaves nothing behind."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
import uuid

import httpx
import psutil

from services.registry import SERVICES
from services.stack import SANDBOX, free_ports
from tests.conftest import ROOT, TEST_DATA

# Everything `make run` starts as a uvicorn process: ours, and the sandbox standing in for VNPay
# and the bank.
PROCESSES = (SANDBOX, *SERVICES)


def listening(port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(0.5)
        return s.connect_ex(("127.0.0.1", port)) == 0


def test_make_run_starts_everything_and_sigterm_leaves_no_process_or_port() -> None:
    ports = free_ports()
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("DATABASE_URL", "KAFKA_BOOTSTRAP_SERVERS", "MAKEFLAGS", "MAKELEVEL")
    }
    env["MOTCUA_DATA_DIR"] = str(TEST_DATA / f"make-run-{uuid.uuid4().hex[:6]}")
    env.update({f"{spec.env_prefix}HTTP_PORT": str(ports[spec.name]) for spec in PROCESSES})
    proc = subprocess.Popen(
        ["make", "-s", "run"], cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
    )
    descendants: set[psutil.Process] = set()
    try:
        deadline = time.monotonic() + 120
        ready: set[str] = set()
        while time.monotonic() < deadline and len(ready) < len(PROCESSES):
            assert proc.poll() is None, proc.stdout.read().decode() if proc.stdout else ""
            for spec in PROCESSES:
                try:
                    r = httpx.get(f"http://127.0.0.1:{ports[spec.name]}/readyz", timeout=2)
                    if r.status_code == 200:
                        ready.add(spec.name)
                except httpx.HTTPError:
                    pass
            time.sleep(0.5)
        assert len(ready) == len(PROCESSES), f"ready: {ready}"
        for spec in PROCESSES:
            docs = httpx.get(f"http://127.0.0.1:{ports[spec.name]}/docs", timeout=5)
            assert docs.status_code == 200 and "swagger" in docs.text.lower()
        descendants = set(psutil.Process(proc.pid).children(recursive=True))
        # PostgreSQL daemonises away from make's tree: find it by its data directory.
        for p in psutil.process_iter(["cmdline"]):
            if env["MOTCUA_DATA_DIR"] in " ".join(p.info["cmdline"] or []):
                descendants.add(p)
        assert len(descendants) >= 7  # four services, the sandbox, the broker, PostgreSQL

        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=60)
        _, alive = psutil.wait_procs(list(descendants), timeout=20)
        assert not alive, [p.pid for p in alive]
        assert not [p for p in ports.values() if listening(p)]
    finally:
        if proc.poll() is None:
            proc.kill()
        for p in descendants:
            if p.is_running():
                p.kill()
