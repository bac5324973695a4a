"""Sampling profiles of the services during a benchmark window, with py-spy.

py-spy is a tool on the machine that runs the benchmark (``pip install py-spy``), not a
dependency of the project: without it the benchmark says so and measures without profiles.
Each service is recorded in raw (collapsed-stack) format, one file per service and window; the
report is the functions with the most *own* time, that is the leaf frames of the samples.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
from collections import Counter
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

SERVICES = ("intake", "workflow", "metrics", "payment")
# Samples per second; low enough that py-spy's own CPU stays small beside the services'.
RATE = 100

# "function (path/to/file.py:123)": the line number is dropped, so a function's samples
# gather into one entry whichever of its lines was running.
_FRAME = re.compile(r"^(?P<name>.*) \((?P<file>.*?)(?::\d+)?\)$")


def py_spy() -> str | None:
    """The py-spy executable: on PATH, or installed beside this interpreter."""
    found = shutil.which("py-spy")
    if found:
        return found
    beside = Path(sys.executable).parent / "py-spy"
    return str(beside) if beside.exists() else None


def frame_name(frame: str) -> str:
    """``function (file)`` of a collapsed-stack frame, with the file shortened to the part from
    ``site-packages/`` or the project's own package on."""
    m = _FRAME.match(frame.strip())
    if m is None:
        return frame.strip()
    path = m["file"]
    if "site-packages/" in path:
        path = path.rsplit("site-packages/", 1)[1]
    return f"{m['name']} ({path})"


def own_time(collapsed: str) -> Counter[str]:
    """Samples per function as the leaf (own time) of collapsed stacks: one stack per line,
    frames root first separated by ``;``, then a space and the sample count."""
    counts: Counter[str] = Counter()
    for line in collapsed.splitlines():
        stack, _, n = line.rstrip().rpartition(" ")
        if not stack or not n.isdigit():
            continue
        leaf = stack.rsplit(";", 1)[-1]
        counts[frame_name(leaf)] += int(n)
    return counts


def top(counts: Counter[str], n: int = 12) -> list[tuple[str, int, float]]:
    """The ``n`` functions with the most own samples: (function, samples, share of all)."""
    total = sum(counts.values())
    return [(name, c, c / total if total else 0.0) for name, c in counts.most_common(n)]


@contextmanager
def recording(
    directory: Path | None, window: str, pids: Mapping[str, int | None]
) -> Iterator[None]:
    """Record each of ``pids`` (service name → pid) into ``directory/<service>-<window>.txt``
    for the duration of the block; nothing when ``directory`` is None."""
    exe = py_spy() if directory is not None else None
    if directory is None or exe is None:
        yield
        return
    directory.mkdir(parents=True, exist_ok=True)
    procs: list[subprocess.Popen[bytes]] = []
    for name, pid in pids.items():
        if pid is None:
            continue
        out = directory / f"{name}-{window}.txt"
        with (directory / f"{name}-{window}.log").open("wb") as log:
            procs.append(
                subprocess.Popen(
                    [
                        exe,
                        "record",
                        *("--pid", str(pid), "--format", "raw", "--output", str(out)),
                        *("--rate", str(RATE), "--nonblocking", "--function"),
                    ],
                    stdout=subprocess.DEVNULL,
                    stderr=log,
                )
            )
    try:
        yield
    finally:
        # SIGINT makes py-spy stop sampling and write what it recorded.
        for proc in procs:
            if proc.poll() is None:
                os.kill(proc.pid, signal.SIGINT)
        for proc in procs:
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def print_profiles(directory: Path, window: str, n: int = 12) -> None:
    """The top ``n`` functions by own time of each service recorded in ``window``."""
    for name in SERVICES:
        path = directory / f"{name}-{window}.txt"
        if not path.exists():
            print(f"\n  {name}: no profile (see {directory / f'{name}-{window}.log'})")
            continue
        counts = own_time(path.read_text())
        total = sum(counts.values())
        print(f"\n  {name} ({total} samples at {RATE}/s, {path}):")
        if not total:
            print("    (no samples)")
        for func, c, share in top(counts, n):
            print(f"    {100 * share:5.1f}%  {c:6d}  {func}")
