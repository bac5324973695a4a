"""The layering lint of ``make lint``: what the shape of a service promises, checked on the AST.

1. A router (``<service>/<feature>/router.py``, or a module under ``<service>/api/``) parses,
   calls one service function and shapes the answer: it builds no SQL (nothing imported from
   SQLAlchemy but the session type it is handed) and opens, commits or rolls back no
   transaction, nor executes a statement. The commit point is the route class.
2. No service package imports another service's package: what they share lives in ``shared/``,
   and what one tells another travels as an event or over HTTP.

``python -m services.layers`` prints each breach as ``path:line: message`` and exits 1 if any.
"""

from __future__ import annotations

import ast
import sys
from collections.abc import Iterator
from pathlib import Path

SERVICES = ("intake_service", "workflow_service", "payment_service", "metrics_service")
# Session methods that run SQL or move a transaction: a router calls none of them.
SESSION_CALLS = frozenset(
    {
        "begin",
        "begin_nested",
        "commit",
        "rollback",
        "execute",
        "scalar",
        "scalars",
        "stream",
        "flush",
        "merge",
        "delete",
        "add",
        "add_all",
        "get",
        "refresh",
    }
)
# Receivers whose ``get``/``delete``/``add`` are not a session's (headers, dicts, routers …) are
# told apart by name: the lint looks only at calls on something named like a session.
SESSION_NAMES = frozenset({"session", "db", "conn", "connection", "tx"})
ALLOWED_SQLALCHEMY = {"sqlalchemy.ext.asyncio": {"AsyncSession"}}


def router_modules(root: Path) -> Iterator[Path]:
    yield from sorted((root / "shared").glob("**/router.py"))
    for service in SERVICES:
        base = root / service
        yield from sorted(base.glob("**/router.py"))
        yield from sorted(p for p in (base / "api").glob("*.py") if p.name != "__init__.py")


def _receiver_name(node: ast.expr) -> str | None:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return node.attr
    return None


def router_breaches(path: Path) -> Iterator[tuple[int, str]]:
    tree = ast.parse(path.read_text("utf-8"), str(path))
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.ImportFrom)
            and node.module
            and node.module.startswith("sqlalchemy")
        ):
            allowed = ALLOWED_SQLALCHEMY.get(node.module, set())
            for alias in node.names:
                if alias.name not in allowed:
                    yield node.lineno, f"router imports {alias.name} from {node.module}"
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.startswith("sqlalchemy"):
                    yield node.lineno, f"router imports {alias.name}"
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            receiver = _receiver_name(node.func.value)
            if node.func.attr in SESSION_CALLS and receiver in SESSION_NAMES:
                yield node.lineno, f"router calls {receiver}.{node.func.attr}()"
            if (
                node.func.attr in ("begin", "commit", "rollback", "begin_nested")
                and receiver not in SESSION_NAMES
            ):
                yield node.lineno, f"router opens or ends a transaction ({node.func.attr})"


def import_breaches(path: Path, service: str) -> Iterator[tuple[int, str]]:
    tree = ast.parse(path.read_text("utf-8"), str(path))
    others = [s for s in SERVICES if s != service]
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [node.module]
        elif isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        else:
            continue
        for name in names:
            top = name.split(".", 1)[0]
            if top in others:
                yield node.lineno, f"{service} imports {name}"


def breaches(root: Path) -> list[str]:
    found: list[str] = []
    for path in router_modules(root):
        found += [f"{path.relative_to(root)}:{line}: {msg}" for line, msg in router_breaches(path)]
    for service in SERVICES:
        for path in sorted((root / service).rglob("*.py")):
            found += [
                f"{path.relative_to(root)}:{line}: {msg}"
                for line, msg in import_breaches(path, service)
            ]
    return found


def main() -> int:
    found = breaches(Path.cwd())
    for line in found:
        print(line)
    if found:
        print(f"{len(found)} layering breach(es)", file=sys.stderr)
        return 1
    print("layers: routers build no SQL and open no transaction; no service imports another")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
