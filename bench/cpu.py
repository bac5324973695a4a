"""CPU time of process trees from /proc/<pid>/stat, for CPU seconds per dossier.

A tree is a root process and its descendants (a PostgreSQL postmaster and its backends). Its
time is utime + stime of every live member plus cutime + cstime, the time of the children each
member has reaped: a backend that exits during the window still counts, through the postmaster.
"""

from __future__ import annotations

import os
from collections.abc import Mapping

import psutil

TICKS = os.sysconf("SC_CLK_TCK")


def parse_stat(text: str) -> tuple[int, int, int, int]:
    """(utime, stime, cutime, cstime) in clock ticks from the text of /proc/<pid>/stat."""
    # The command name (field 2) is in parentheses and may hold spaces or parentheses itself.
    rest = text[text.rindex(")") + 2 :].split()
    # rest[0] is field 3 (state); utime..cstime are fields 14..17.
    utime, stime, cutime, cstime = (int(x) for x in rest[11:15])
    return utime, stime, cutime, cstime


def _ticks(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/stat") as f:
            utime, stime, cutime, cstime = parse_stat(f.read())
    except (FileNotFoundError, ProcessLookupError):
        return 0
    return utime + stime + cutime + cstime


def tree(root: int) -> list[int]:
    try:
        return [root, *(p.pid for p in psutil.Process(root).children(recursive=True))]
    except psutil.NoSuchProcess:
        return []


def snapshot(roots: Mapping[str, int | None]) -> dict[str, float]:
    """CPU seconds used so far by each named tree (0 for a name without a process)."""
    return {
        name: sum(_ticks(pid) for pid in tree(root)) / TICKS if root else 0.0
        for name, root in roots.items()
    }


def delta(before: Mapping[str, float], after: Mapping[str, float]) -> dict[str, float]:
    return {name: after[name] - before.get(name, 0.0) for name in after}


def parent(pid: int) -> int:
    return int(psutil.Process(pid).ppid())


def process_name(pid: int) -> str:
    """The process's name, or "" when there is no such process here."""
    try:
        return str(psutil.Process(pid).name())
    except psutil.Error:
        return ""


def listening_pid(port: int) -> int | None:
    """The process listening on TCP ``port`` here, if this user may see it."""
    try:
        for conn in psutil.net_connections(kind="tcp"):
            if conn.status == psutil.CONN_LISTEN and conn.laddr and conn.laddr.port == port:
                return conn.pid
    except psutil.AccessDenied:
        return None
    return None


def machine_busy() -> float:
    """CPU seconds the whole machine has spent busy (every core, every process) since boot."""
    with open("/proc/stat") as f:
        fields = [int(x) for x in f.readline().split()[1:]]
    # user nice system idle iowait irq softirq steal (guest time is inside user already)
    idle = fields[3] + fields[4]
    return (sum(fields[:8]) - idle) / TICKS
