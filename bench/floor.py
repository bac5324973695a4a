"""THE REFERENCE FLOOR, not a service: the least a correct submission endpoint can do.

``make bench`` measures intake's ``POST /v1/dossiers`` against this endpoint in the same run,
under the same load generator, so the ratio says how much of the machine intake spends beyond
the unavoidable. It does what no submission can skip, and nothing more:

- parse and validate the same pydantic body (``DossierCreate``, imported from intake);
- verify the caller's RS256 bearer token with PyJWT against the stack's public key, as
  ``shared.auth`` does, and require the receptionist role;
- one asyncpg transaction inserting a dossier-like row and an outbox-like row, in tables of
  its own (schema ``floor`` of the bench database).

No reference data, no daily number, no rules, no ORM. Run as one uvicorn worker with uvloop and
httptools, like each service::

    FLOOR_DATABASE_URL=postgresql://… FLOOR_PUBLIC_KEY_FILE=….pem \\
    python -m uvicorn bench.floor:app --loop uvloop --http httptools
"""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Annotated, Any

import asyncpg
import jwt
import orjson
from cryptography.hazmat.primitives import serialization
from fastapi import FastAPI, Header, Request, Response

from intake_service.dossiers.schemas import DossierCreate

SCHEMA_SQL = """
CREATE SCHEMA IF NOT EXISTS floor;
CREATE SEQUENCE IF NOT EXISTS floor.dossier_numbers;
CREATE TABLE IF NOT EXISTS floor.dossiers (
    id uuid PRIMARY KEY,
    code text NOT NULL UNIQUE,
    procedure_key text NOT NULL,
    unit_code text NOT NULL,
    channel text NOT NULL,
    status text NOT NULL,
    applicant jsonb NOT NULL,
    applicant_id_number text NOT NULL,
    submitted_by text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    version integer NOT NULL DEFAULT 1
);
CREATE TABLE IF NOT EXISTS floor.outbox (
    id uuid PRIMARY KEY,
    topic text NOT NULL,
    key text NOT NULL,
    type text NOT NULL,
    payload jsonb NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    published_at timestamptz
);
"""

INSERT_DOSSIER = """
INSERT INTO floor.dossiers (id, code, procedure_key, unit_code, channel, status, applicant,
    applicant_id_number, submitted_by)
VALUES ($1, 'F-' || lpad(nextval('floor.dossier_numbers')::text, 9, '0'), $2, $3, $4, $5,
    $6::jsonb, $7, $8)
RETURNING code, created_at
"""

INSERT_OUTBOX = """
INSERT INTO floor.outbox (id, topic, key, type, payload) VALUES ($1, $2, $3, $4, $5::jsonb)
"""

PROBLEM = "application/problem+json"


def _problem(status: int, title: str) -> Response:
    return Response(
        orjson.dumps({"type": "about:blank", "title": title, "status": status}),
        status_code=status,
        media_type=PROBLEM,
    )


def _public_key() -> Any:
    # Parsed once, as shared.auth does: loading a PEM per request costs more than verifying.
    pem = Path(os.environ["FLOOR_PUBLIC_KEY_FILE"]).read_bytes()
    return serialization.load_pem_public_key(pem)


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    dsn = os.environ["FLOOR_DATABASE_URL"].replace("postgresql+asyncpg://", "postgresql://", 1)
    app.state.key = _public_key()
    conn = await asyncpg.connect(dsn)
    try:
        await conn.execute(SCHEMA_SQL)
    finally:
        await conn.close()
    # The same pool size each service's engine has (shared.settings database_pool_size).
    app.state.pool = await asyncpg.create_pool(dsn, min_size=10, max_size=10)
    try:
        yield
    finally:
        await app.state.pool.close()


app = FastAPI(title="bench floor (reference endpoint, not a service)", lifespan=lifespan)


@app.post("/v1/dossiers", status_code=201)
async def submit(
    body: DossierCreate,
    request: Request,
    authorization: Annotated[str | None, Header()] = None,
) -> Response:
    scheme, _, token = (authorization or "").partition(" ")
    if scheme.lower() != "bearer" or not token:
        return _problem(401, "a bearer token is required")
    try:
        claims: dict[str, Any] = jwt.decode(
            token, request.app.state.key, algorithms=["RS256"], options={"require": ["exp", "sub"]}
        )
    except jwt.PyJWTError:
        return _problem(401, "invalid token")
    if "receptionist" not in (claims.get("roles") or []):
        return _problem(403, "the receptionist role is required")

    dossier_id = uuid.uuid4()
    status = "received" if body.channel == "direct" else "awaiting_check"
    applicant = body.applicant.model_dump_json()
    async with request.app.state.pool.acquire() as conn, conn.transaction():
        row = await conn.fetchrow(
            INSERT_DOSSIER,
            dossier_id,
            body.procedure_key,
            body.unit_code,
            str(body.channel),
            status,
            applicant,
            body.applicant.id_number,
            str(claims["sub"]),
        )
        payload = {
            "dossier_id": str(dossier_id),
            "code": row["code"],
            "unit_code": body.unit_code,
            "procedure_key": body.procedure_key,
            "channel": str(body.channel),
            "status": status,
        }
        await conn.execute(
            INSERT_OUTBOX,
            uuid.uuid4(),
            "dossier.submitted",
            str(dossier_id),
            "vn.motcua.intake.dossier.submitted",
            orjson.dumps(payload).decode(),
        )
    answer = {**payload, "id": str(dossier_id), "created_at": row["created_at"].isoformat()}
    return Response(
        orjson.dumps(answer),
        status_code=201,
        media_type="application/json",
        headers={"ETag": '"1"'},
    )
