"""The request guard and the truthful OpenAPI on a small app of their own: what every service
mounts, without a stack."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

import httpx
from fastapi import FastAPI, Header, Query
from pydantic import BaseModel

from shared.errors import CLEAN_TEXT_PATTERN, IF_MATCH_RESPONSES, install_problem_handlers
from shared.request_guard import RequestGuardMiddleware


class Note(BaseModel):
    text: str
    tags: dict[str, str] = {}


def app(max_json_bytes: int = 200) -> FastAPI:
    application = FastAPI()
    install_problem_handlers(application)
    application.add_middleware(RequestGuardMiddleware, max_json_bytes=max_json_bytes)

    @application.post("/notes")
    def create(note: Note) -> Note:
        return note

    @application.get("/notes")
    def search(
        q: str | None = None, tag: Annotated[list[str] | None, Query()] = None
    ) -> dict[str, object]:
        return {"q": q, "tag": tag}

    @application.put("/notes/{name}", responses=IF_MATCH_RESPONSES)
    def replace(name: str, note: Note, if_match: Annotated[str | None, Header()] = None) -> Note:
        return note

    return application


def client(application: FastAPI) -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=application, raise_app_exceptions=False)
    return httpx.AsyncClient(transport=transport, base_url="http://test")


async def test_control_characters_anywhere_in_a_json_body_are_named() -> None:
    async with client(app()) as http:
        r = await http.post("/notes", json={"text": "ok", "tags": {"a\u0001": "x", "b": "y\u0000"}})
        assert r.status_code == 422
        assert r.headers["content-type"].startswith("application/problem+json")
        assert {e["field"] for e in r.json()["errors"]} == {"body.tags.<key>", "body.tags.b"}
        ok = await http.post("/notes", json={"text": "dòng 1\ndòng 2\tcột"})
        assert ok.status_code == 200


async def test_bodies_over_the_cap_are_413_whether_declared_or_streamed() -> None:
    big = b'{"text": "' + b"x" * 100 + b'"}'
    json_type = {"content-type": "application/json"}
    async with client(app(max_json_bytes=50)) as http:
        declared = await http.post("/notes", content=big, headers=json_type)
        assert declared.status_code == 413 and declared.json()["title_vi"]

        async def chunks() -> AsyncIterator[bytes]:
            yield big[:30]
            yield big[30:]

        streamed = await http.post("/notes", content=chunks(), headers=json_type)
        assert streamed.status_code == 413


async def test_a_json_body_under_another_type_is_415() -> None:
    async with client(app()) as http:
        r = await http.post(
            "/notes", content=b'{"text": "a"}', headers={"content-type": "text/plain"}
        )
    assert r.status_code == 415 and r.json()["title_vi"]


async def test_repeated_parameters_only_where_the_schema_takes_a_list() -> None:
    async with client(app()) as http:
        listed = await http.get("/notes?tag=a&tag=b")
        assert listed.json() == {"q": None, "tag": ["a", "b"]}
        r = await http.get("/notes?q=a&q=b")
        assert r.status_code == 422 and r.json()["errors"][0]["field"] == "query.q"
        r = await http.get("/notes?q=%00")
        assert r.status_code == 422 and r.json()["errors"][0]["field"] == "query.q"


async def test_405_allows_every_method_of_the_path() -> None:
    async with client(app()) as http:
        r = await http.delete("/notes")
    assert r.status_code == 405
    assert set(r.headers["allow"].split(", ")) == {"GET", "HEAD", "POST"}


def test_the_openapi_states_the_rules_the_layers_enforce() -> None:
    doc = app().openapi()
    put = doc["paths"]["/notes/{name}"]["put"]
    (if_match,) = [p for p in put["parameters"] if p["name"] == "if-match"]
    assert if_match["required"] is True
    assert {"413", "415", "422", "428"} <= set(put["responses"])
    note = doc["components"]["schemas"]["Note"]
    assert note["properties"]["text"]["pattern"] == CLEAN_TEXT_PATTERN
    assert "413" not in doc["paths"]["/notes"]["get"]["responses"]
