"""The shape every service shares, checked without a database: one vocabulary, one overdue rule,
the layering lint, the commit route, problems as classes and the one list contract."""

from __future__ import annotations

import ast
import datetime as dt
import uuid
from pathlib import Path

import httpx
import pytest
from fastapi import APIRouter, Depends, FastAPI, Request
from pydantic import BaseModel

from services import layers
from shared.deadlines import is_overdue, timeliness
from shared.errors import Problem, install_problem_handlers, problem_responses
from shared.http.commit import CommitRoute, track
from shared.pagination import Keyset, Page
from shared.vocabulary import Channel, Timeliness

ROOT = Path(__file__).resolve().parents[2]
CODE = [
    p
    for top in (
        "shared",
        "intake_service",
        "workflow_service",
        "payment_service",
        "metrics_service",
    )
    for p in (ROOT / top).rglob("*.py")
    if "migrations" not in p.parts
]
NOW = dt.datetime(2026, 12, 4, 9, 0, tzinfo=dt.UTC)


def _definitions(name: str) -> list[str]:
    """Modules that define ``name`` as a class or as a module-level alias."""
    found = []
    for path in CODE:
        tree = ast.parse(path.read_text("utf-8"))
        for node in tree.body:
            if isinstance(node, ast.ClassDef) and node.name == name:
                found.append(str(path.relative_to(ROOT)))
            elif isinstance(node, ast.Assign | ast.AnnAssign):
                targets = node.targets if isinstance(node, ast.Assign) else [node.target]
                if any(isinstance(t, ast.Name) and t.id == name for t in targets):
                    found.append(str(path.relative_to(ROOT)))
    return found


@pytest.mark.parametrize(
    "name", ["Channel", "Timeliness", "AgencyKind", "RatingChannel", "PauseReason"]
)
def test_each_word_of_the_vocabulary_is_defined_once_in_shared(name: str) -> None:
    assert _definitions(name) == ["shared/vocabulary.py"]


def test_the_overdue_rule_is_defined_once() -> None:
    functions = [
        str(p.relative_to(ROOT))
        for p in CODE
        for node in ast.walk(ast.parse(p.read_text("utf-8")))
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
        and node.name in ("is_overdue", "timeliness", "timeliness_of")
    ]
    assert sorted(functions) == ["shared/deadlines.py", "shared/deadlines.py"]


def test_a_due_instant_is_still_in_time_and_one_microsecond_later_is_not() -> None:
    assert not is_overdue(NOW, NOW)
    assert is_overdue(NOW, NOW + dt.timedelta(microseconds=1))
    assert not is_overdue(None, NOW)
    assert timeliness(NOW, NOW) is Timeliness.on_time
    assert timeliness(NOW + dt.timedelta(microseconds=1), NOW) is Timeliness.late
    assert timeliness(NOW - dt.timedelta(days=1), NOW) is Timeliness.early


def test_vocabulary_values_and_labels_are_stable() -> None:
    assert [c.value for c in Channel] == ["online", "direct", "postal", "integration"]
    assert Channel.postal.label_vi == "Qua dịch vụ bưu chính công ích"
    assert Timeliness.late.label_vi == "Trễ hạn"


def test_the_repository_passes_its_own_layering_lint() -> None:
    assert layers.breaches(ROOT) == []


def test_the_layering_lint_finds_sql_and_transactions_in_a_router(tmp_path: Path) -> None:
    feature = tmp_path / "intake_service" / "things"
    feature.mkdir(parents=True)
    (feature / "router.py").write_text(
        "from sqlalchemy import select\n"
        "from sqlalchemy.ext.asyncio import AsyncSession\n"
        "async def read(session: AsyncSession):\n"
        "    async with session.begin():\n"
        "        await session.execute(select(1))\n"
    )
    (tmp_path / "intake_service" / "peek.py").write_text("from workflow_service import app\n")
    found = layers.breaches(tmp_path)
    assert any("imports select from sqlalchemy" in f for f in found)
    assert any("session.begin()" in f for f in found)
    assert any("session.execute()" in f for f in found)
    assert any("intake_service imports workflow_service" in f for f in found)
    assert not any("AsyncSession" in f for f in found)


class Missing(Problem):
    status = 404
    code = "thing-not-found"
    title = "No such thing"
    title_vi = "Không tìm thấy"


def test_a_problem_subclass_carries_its_class_attributes_and_documents_itself() -> None:
    problem = Missing(detail="no thing 7")
    assert (problem.status, problem.code, problem.title_vi) == (
        404,
        "thing-not-found",
        "Không tìm thấy",
    )
    assert problem.body("/v1/things/7")["type"].endswith("/thing-not-found")
    responses = problem_responses(Missing)
    examples = responses[404]["content"]["application/problem+json"]["examples"]
    assert examples["thing-not-found"]["value"]["title"] == "No such thing"
    legacy = Problem(409, "conflict", "Conflict", "Xung đột")
    assert (legacy.status, legacy.code) == (409, "conflict")


async def test_the_commit_route_commits_after_the_endpoint_and_not_when_it_raised() -> None:
    from sqlalchemy.ext.asyncio import AsyncSession

    log: list[str] = []

    class Recording(AsyncSession):
        # No engine: the route only asks whether a transaction is open and commits it.
        def __init__(self) -> None:
            pass

        def in_transaction(self) -> bool:
            return True

        async def commit(self) -> None:
            log.append("commit")

    # Asked for below the endpoint (a dependency of a dependency), as a real route may.
    def session(request: Request) -> AsyncSession:
        opened = Recording()
        track(request, opened)
        return opened

    def desk(s: AsyncSession = Depends(session)) -> AsyncSession:
        return s

    router = APIRouter(route_class=CommitRoute)

    @router.post("/ok")
    async def ok(s: AsyncSession = Depends(desk)) -> dict[str, str]:
        log.append("endpoint")
        return {"ok": "yes"}

    @router.post("/fails")
    async def fails(s: AsyncSession = Depends(desk)) -> dict[str, str]:
        raise Missing()

    app = FastAPI()
    install_problem_handlers(app)
    app.include_router(router)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url="http://t") as c:
        assert (await c.post("/ok")).status_code == 200
        assert log == ["endpoint", "commit"]
        assert (await c.post("/fails")).status_code == 404
        assert log == ["endpoint", "commit"]


class Row(BaseModel):
    at: dt.datetime
    id: uuid.UUID


def test_a_keyset_cursor_round_trips_and_names_the_last_row_of_a_full_page() -> None:
    from sqlalchemy import Column, DateTime, MetaData, Table, Uuid, select

    table = Table("t", MetaData(), Column("at", DateTime(timezone=True)), Column("id", Uuid))
    keyset = Keyset((table.c.at, table.c.id))
    rows = [Row(at=NOW + dt.timedelta(minutes=i), id=uuid.uuid4()) for i in range(3)]
    page, cursor = keyset.page(rows, 2, lambda r: (r.at, r.id))
    assert page == rows[:2] and cursor is not None
    assert keyset.decode(cursor) == (rows[1].at, rows[1].id)
    assert keyset.page(rows, 3, lambda r: (r.at, r.id)) == (rows, None)
    sql = str(keyset.apply(select(table), cursor, 2).compile())
    assert "(t.at, t.id) >" in sql and "LIMIT" in sql
    assert Page[Row](items=page, next_cursor=cursor).next_cursor == cursor


@pytest.mark.parametrize("bad", ["bm90IGpzb24", "W10", "WyJ4Il0", "!!!", "eyJ0IjoieCJ9"])
def test_a_cursor_that_is_not_ours_is_a_422_problem_naming_the_cursor(bad: str) -> None:
    from sqlalchemy import column

    keyset = Keyset((column("at"), column("id")))
    with pytest.raises(Problem) as caught:
        keyset.decode(bad)
    assert caught.value.status == 422
