"""Running each service as its own uvicorn process, with its log lines prefixed."""

from __future__ import annotations

import contextlib
import ctypes
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import IO

import httpx

from services.registry import ServiceSpec

_PR_SET_PDEATHSIG = 1


def _die_with_parent() -> None:
    # If the stack is killed outright, its services must not outlive it and keep their ports.
    with contextlib.suppress(OSError):
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)


class ServiceProcess:
    def __init__(
        self, spec: ServiceSpec, port: int, env: dict[str, str], log_file: Path | None = None
    ) -> None:
        self.spec = spec
        self.port = port
        self.env = env
        self.log_file = log_file
        self.proc: subprocess.Popen[bytes] | None = None
        self._pump: threading.Thread | None = None
        # Where this process's lines begin in a log file earlier runs appended to; restarts
        # keep the first start's offset, so a reader sees every line of this stack.
        self.log_offset: int | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        cmd = [
            sys.executable,
            "-m",
            "uvicorn",
            f"{self.spec.package}.app:app",
            "--host",
            "127.0.0.1",
            "--port",
            str(self.port),
            # X-Forwarded-For only from the proxies named (a local one by default).
            "--proxy-headers",
            "--forwarded-allow-ips",
            self.env.get("FORWARDED_ALLOW_IPS", os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")),
            "--timeout-graceful-shutdown",
            "5",
            # Named rather than left to "auto", which quietly falls back to asyncio and h11
            # when either is missing; the services' consumers and relays share this loop.
            "--loop",
            "uvloop",
            "--http",
            "httptools",
        ]
        # The access log is off unless asked for (the test suite asks, to check that no line
        # of it carries a credential or an ID number).
        if self.env.get("HTTP_ACCESS_LOG", "").lower() not in ("1", "true", "yes"):
            cmd.insert(cmd.index("--proxy-headers"), "--no-access-log")
        out: IO[bytes] | int
        if self.log_file is not None:
            self.log_file.parent.mkdir(parents=True, exist_ok=True)
            out = self.log_file.open("ab")
            if self.log_offset is None:
                self.log_offset = out.tell()
        else:
            out = subprocess.PIPE
        self.proc = subprocess.Popen(
            cmd,
            env={**os.environ, **self.env},
            stdout=out,
            stderr=subprocess.STDOUT,
            preexec_fn=_die_with_parent,
        )
        if out is subprocess.PIPE:
            self._pump = threading.Thread(target=self._prefix_lines, daemon=True)
            self._pump.start()
        elif not isinstance(out, int):
            out.close()

    def _prefix_lines(self) -> None:
        assert self.proc is not None and self.proc.stdout is not None
        prefix = f"{self.spec.name:>8} | ".encode()
        for line in iter(self.proc.stdout.readline, b""):
            sys.stdout.buffer.write(prefix + line)
            sys.stdout.buffer.flush()

    def wait_ready(self, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        last = ""
        while time.monotonic() < deadline:
            if self.proc is not None and self.proc.poll() is not None:
                raise RuntimeError(f"{self.spec.name} exited with {self.proc.returncode}")
            try:
                r = httpx.get(f"{self.url}/readyz", timeout=3)
                if r.status_code == 200:
                    return
                last = r.text
            except httpx.HTTPError as exc:
                last = repr(exc)
            time.sleep(0.2)
        raise RuntimeError(f"{self.spec.name} not ready after {timeout}s: {last}")

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def stop(self, timeout: float = 10.0) -> None:
        if self.proc is None:
            return
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self._pump is not None:
            self._pump.join(timeout=2)

    def kill(self) -> None:
        """SIGKILL, as a crash would: no shutdown hooks run."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
