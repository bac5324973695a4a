"""Every query of the dossier feature: the dossier rows, their history, the idempotency keys and
daily numbers of submission, and who sees which dossier (unit subtree, own dossiers)."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, cast

import asyncpg
import orjson
from sqlalchemy import ColumnElement, Table, false, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.orm.util import identity_key

# The procedure and unit reads a dossier needs belong to their features; named here too so the
# features that read dossiers (documents, slips, lookup, ratings) have one repository to ask.
from intake_service.catalogue.repository import (
    procedure_as_received as procedure_as_received,
)
from intake_service.catalogue.repository import procedures_by_key as procedures_by_key
from intake_service.db.models import (
    Dossier,
    DossierAction,
    Procedure,
)
from intake_service.units.repository import active_unit as active_unit
from shared.auth import Principal, Role, unit_scope
from shared.pagination import Keyset

# Lists of dossiers run in creation order; the index (unit_path, created_at, id) serves it.
DOSSIER_ORDER = Keyset(columns=(Dossier.created_at, Dossier.id))
_DOSSIERS = cast(Table, Dossier.__table__)


def own_dossiers(principal: Principal) -> ColumnElement[bool]:
    """The dossiers of the verified subject: filed in their name, or by them as the authorised
    representative of the person named. Only an applicant's ``sub`` is their ID number."""
    if not principal.has_role(Role.applicant):
        return false()
    return or_(
        Dossier.applicant_id_number == principal.sub,
        Dossier.representative_id_number == principal.sub,
    )


def visible_to(principal: Principal) -> ColumnElement[bool]:
    """Officers see their unit's subtree; an applicant sees only their own dossiers, whatever
    unit claims their token carries (``unit_scope`` ignores them for an applicant). A token that
    holds an office as well sees both."""
    return or_(unit_scope(Dossier.unit_path, principal), own_dossiers(principal))


async def dossier_by_code(
    session: AsyncSession, code: str, principal: Principal, *, for_update: bool = False
) -> Dossier | None:
    query = select(Dossier).where(Dossier.code == code, visible_to(principal))
    if for_update:
        query = query.with_for_update()
    return await session.scalar(query)


async def dossier_by_id(session: AsyncSession, dossier_id: uuid.UUID) -> Dossier | None:
    return await session.get(Dossier, dossier_id)


async def locked_dossier(session: AsyncSession, dossier_id: uuid.UUID) -> Dossier | None:
    """The dossier row locked for an event's change (no scoping: events are the system's)."""
    return await session.scalar(select(Dossier).where(Dossier.id == dossier_id).with_for_update())


# --- Quiet columns written by the events of other services ---------------------------------------
#
# Through the table, not the mapper: no row loaded whole, no unit of work, and (like the mapper's
# own ``_write_quiet_changes``) no new version, since these are no lifecycle step. A copy of the
# dossier the session already holds is told the new value, so it does not read stale.


def _tell_loaded(session: AsyncSession, dossier_id: uuid.UUID, **values: Any) -> None:
    loaded = session.sync_session.identity_map.get(identity_key(Dossier, dossier_id))
    if loaded is not None:
        for key, value in values.items():
            set_committed_value(loaded, key, value)


async def set_fee_request(
    session: AsyncSession, dossier_id: uuid.UUID, fee_request_id: uuid.UUID
) -> bool:
    """Name the dossier's fee request; False when there is no such dossier."""
    table = _DOSSIERS
    found = await session.scalar(
        update(table)
        .where(table.c.id == dossier_id)
        .values(fee_request_id=fee_request_id)
        .returning(table.c.id)
    )
    if found is None:
        return False
    _tell_loaded(session, dossier_id, fee_request_id=fee_request_id)
    return True


async def locked_payments(session: AsyncSession, dossier_id: uuid.UUID) -> dict[str, Any] | None:
    """The dossier's payment view, its row locked for the change; None when there is none."""
    table = _DOSSIERS
    row = (
        await session.execute(
            select(table.c.payments).where(table.c.id == dossier_id).with_for_update()
        )
    ).first()
    return None if row is None else dict(row[0] or {})


async def set_payments(
    session: AsyncSession, dossier_id: uuid.UUID, payments: dict[str, Any]
) -> None:
    table = _DOSSIERS
    await session.execute(update(table).where(table.c.id == dossier_id).values(payments=payments))
    _tell_loaded(session, dossier_id, payments=payments)


async def list_dossiers(
    session: AsyncSession,
    principal: Principal,
    *,
    status: str | None,
    cursor: str | None,
    limit: int,
) -> list[Dossier]:
    """One page (and one row more, which says there is a next page) of the dossiers the
    principal sees, in creation order."""
    query = select(Dossier).where(visible_to(principal))
    if status:
        query = query.where(Dossier.status == status)
    return list((await session.scalars(DOSSIER_ORDER.apply(query, cursor, limit))).all())


async def history(session: AsyncSession, dossier_id: uuid.UUID) -> list[DossierAction]:
    query = (
        select(DossierAction)
        .where(DossierAction.dossier_id == dossier_id)
        .order_by(DossierAction.id)
    )
    return list((await session.scalars(query)).all())


async def procedure(session: AsyncSession, key: str) -> Procedure | None:
    return await session.get(Procedure, key)


def add_action(
    session: AsyncSession,
    dossier: Dossier,
    action: str,
    to_status: str,
    *,
    actor: str,
    role: str | None,
    unit_code: str | None,
    at: dt.datetime,
    note: str | None = None,
    supplement: dict[str, object] | None = None,
) -> DossierAction:
    """Append one row to the dossier's log (the status it leaves is the dossier's current)."""
    row = DossierAction(
        dossier_id=dossier.id,
        action=action,
        from_status=dossier.status or None,
        to_status=to_status,
        actor=actor,
        role=role,
        unit_code=unit_code,
        at=at,
        note=note,
        supplement=supplement,
    )
    session.add(row)
    return row


async def flush(session: AsyncSession) -> None:
    await session.flush()


async def rollback(session: AsyncSession) -> None:
    await session.rollback()


async def refresh(session: AsyncSession, *rows: object) -> None:
    for row in rows:
        await session.refresh(row)


# --- The submission's one statement (asyncpg, autocommit) ---------------------------------------

# The dossier code's last four characters hold the low 16 bits of the daily number (see
# ``domain.dossier_codes``); the statement writes them from the number it takes, so the number,
# the dossier, its log, its events and the idempotency key are one statement: one round trip and
# one transaction, with the counter's row locked only for the rest of that statement and its
# commit, never across a round trip to this process.
_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
TAIL_SQL = " || ".join(
    f"substr('{_ALPHABET}', ((w >> {shift}) & 31) + 1, 1)" for shift in (15, 10, 5, 0)
)

SUBMISSION_SQL = f"""
WITH seq AS (
    -- Only while the unit is active and the procedure is at the version the cache gave: a
    -- replica that has not yet heard of a retirement or a new version writes nothing (and no
    -- number is spent), and the statement returns no row.
    INSERT INTO intake.dossier_sequences AS s (unit_code, day, last)
    SELECT $1::text, $2::date, 1
    WHERE EXISTS (
        SELECT 1 FROM intake.units u WHERE u.code = $1::text AND u.retired_at IS NULL
    ) AND EXISTS (
        SELECT 1 FROM intake.procedures p
        WHERE p.key = $6::text AND p.version = $7::int AND p.retired_at IS NULL
    )
    ON CONFLICT (unit_code, day) DO UPDATE SET last = s.last + 1
    RETURNING last
), tail AS (
    SELECT ($4::int << 16) | (last & 65535) AS w FROM seq
), dossier AS (
    INSERT INTO intake.dossiers (
        id, code, procedure_key, procedure_version, unit_code, unit_path, channel, status,
        applicant, applicant_id_number, representative, representative_id_number, submitted_by,
        received_at, appointment_at, fee_amount_vnd, payments, source_system, external_id,
        reuse_consent, reuse_consent_at, version
    )
    SELECT $5::uuid, $3::text || {TAIL_SQL}, $6::text, $7::int, $1::text, $8::text,
        $9::text, $10::text, $11::jsonb, $12::text, $13::jsonb, $14::text, $15::text,
        $16::timestamptz, $17::timestamptz, $18::bigint, '{{}}'::jsonb, $19::text, $20::text,
        $21::bool, $22::timestamptz, $23::int
    FROM tail
    RETURNING id, code
), actions AS (
    INSERT INTO intake.dossier_actions (
        dossier_id, action, from_status, to_status, actor, role, unit_code, at
    )
    SELECT dossier.id, a.action, a.from_status, a.to_status, $24::text, $25::text, $26::text,
        $27::timestamptz
    FROM dossier,
        unnest($28::text[], $29::text[], $30::text[]) WITH ORDINALITY
            AS a(action, from_status, to_status, n)
    ORDER BY a.n
), events AS (
    INSERT INTO intake.outbox (event_id, event_type, topic, key, headers, payload)
    SELECT e.event_id, e.event_type, e.topic, e.key,
        replace(e.headers, $31::text, dossier.code)::jsonb,
        convert_to(replace(e.payload, $31::text, dossier.code), 'UTF8')
    FROM dossier,
        unnest($32::text[], $33::text[], $34::text[], $35::text[], $36::text[], $37::text[])
            WITH ORDINALITY AS e(event_id, event_type, topic, key, headers, payload, n)
    ORDER BY e.n
), claim AS (
    INSERT INTO intake.idempotency_keys (key, principal, request_hash, dossier_id)
    SELECT $38::text, $39::text, $40::text, dossier.id FROM dossier WHERE $38::text IS NOT NULL
)
SELECT code FROM dossier
"""

# The unique constraints whose violation by the statement is a race another request won.
EXTERNAL_ID_CONSTRAINT = "uq_dossiers_source_system"
IDEMPOTENCY_CONSTRAINT = "pk_idempotency_keys"


def code_parts(unit_code: str, day: dt.date, noise: int) -> tuple[str, int]:
    """The code's fixed prefix (unit, day, and the four leading characters of pure noise) and
    the four noise bits the statement puts beside the daily number."""
    value = noise << 16
    text = "".join(_ALPHABET[(value >> shift) & 31] for shift in (35, 30, 25, 20))
    return f"{unit_code}-{day:%y%m%d}-{text}-", noise & 15


@dataclass(frozen=True, slots=True)
class NewDossier:
    """The final state of a new dossier, as the statement writes it."""

    id: uuid.UUID
    unit_code: str
    unit_path: str
    day: dt.date
    code_prefix: str
    code_low_bits: int
    procedure_key: str
    procedure_version: int
    channel: str
    status: str
    applicant_json: str
    applicant_id_number: str
    representative_json: str | None
    representative_id_number: str | None
    submitted_by: str
    received_at: dt.datetime | None
    appointment_at: dt.datetime | None
    fee_amount_vnd: int
    source_system: str | None
    external_id: str | None
    reuse_consent: bool
    reuse_consent_at: dt.datetime | None
    version: int


@dataclass(frozen=True, slots=True)
class NewAction:
    action: str
    from_status: str | None
    to_status: str


@dataclass(frozen=True, slots=True)
class NewOutboxRow:
    """An outbox row whose headers and payload still hold ``placeholder`` for the code."""

    event_id: str
    event_type: str
    topic: str
    key: str
    headers_json: str
    payload_json: str


def new_outbox_row(row: dict[str, Any]) -> NewOutboxRow:
    """An outbox row as ``Outbox.row`` gives it, in the text the statements take."""
    return NewOutboxRow(
        event_id=row["event_id"],
        event_type=row["event_type"],
        topic=row["topic"],
        key=row["key"],
        headers_json=orjson.dumps(row["headers"]).decode(),
        payload_json=row["payload"].decode(),
    )


async def insert_submission(
    conn: asyncpg.Connection,
    dossier: NewDossier,
    actions: Sequence[NewAction],
    *,
    actor: str,
    role: str | None,
    actor_unit: str | None,
    at: dt.datetime,
    outbox: Sequence[NewOutboxRow],
    placeholder: str,
    idempotency: tuple[str, str, str] | None,
) -> str | None:
    """Write the submission in one statement; returns the dossier's code, or None when the unit
    is no longer active or the procedure no longer at ``dossier.procedure_version`` (the
    caller's reference data is stale; nothing was written). Raises asyncpg's
    ``UniqueViolationError`` naming ``EXTERNAL_ID_CONSTRAINT`` or ``IDEMPOTENCY_CONSTRAINT``
    when a concurrent request won a race; then nothing of this one was written."""
    key, principal, request_hash = idempotency or (None, None, None)
    d = dossier
    code = await conn.fetchval(
        SUBMISSION_SQL,
        d.unit_code,
        d.day,
        d.code_prefix,
        d.code_low_bits,
        d.id,
        d.procedure_key,
        d.procedure_version,
        d.unit_path,
        d.channel,
        d.status,
        d.applicant_json,
        d.applicant_id_number,
        d.representative_json,
        d.representative_id_number,
        d.submitted_by,
        d.received_at,
        d.appointment_at,
        d.fee_amount_vnd,
        d.source_system,
        d.external_id,
        d.reuse_consent,
        d.reuse_consent_at,
        d.version,
        actor,
        role,
        actor_unit,
        at,
        [a.action for a in actions],
        [a.from_status for a in actions],
        [a.to_status for a in actions],
        placeholder,
        [o.event_id for o in outbox],
        [o.event_type for o in outbox],
        [o.topic for o in outbox],
        [o.key for o in outbox],
        [o.headers_json for o in outbox],
        [o.payload_json for o in outbox],
        key,
        principal,
        request_hash,
    )
    return None if code is None else str(code)


async def idempotency_hash(
    conn: asyncpg.Connection, key: str, principal: str
) -> tuple[str, uuid.UUID] | None:
    """The request hash and dossier of an earlier submission under this key."""
    row = await conn.fetchrow(
        "SELECT request_hash, dossier_id FROM intake.idempotency_keys"
        " WHERE key = $1 AND principal = $2",
        key,
        principal,
    )
    return None if row is None else (row["request_hash"], row["dossier_id"])


# --- The desk's reception in one statement (asyncpg, autocommit) --------------------------------

_JSONB_COLUMNS = ("applicant", "representative", "payments", "pause")


async def dossier_row(conn: asyncpg.Connection, code: str) -> Dossier | None:
    """The dossier ``code`` as a detached row (no scoping: the caller checks who may see it)."""
    row = await conn.fetchrow("SELECT * FROM intake.dossiers WHERE code = $1", code)
    if row is None:
        return None
    values = dict(row.items())
    for column in _JSONB_COLUMNS:
        if isinstance(values[column], str):
            values[column] = orjson.loads(values[column])
    return Dossier(**values)


RECEPTION_SQL = """
WITH dossier AS (
    UPDATE intake.dossiers
    SET status = $2::text, received_at = $3::timestamptz, appointment_at = $4::timestamptz,
        version = version + 1
    WHERE id = $1::uuid AND version = $5::int AND status = $6::text
    RETURNING id, version
), action AS (
    INSERT INTO intake.dossier_actions (
        dossier_id, action, from_status, to_status, actor, role, unit_code, at, note
    )
    SELECT id, 'receive', $6::text, $2::text, $7::text, $8::text, $9::text, $3::timestamptz,
        $10::text
    FROM dossier
), event AS (
    INSERT INTO intake.outbox (event_id, event_type, topic, key, headers, payload)
    SELECT $11::text, $12::text, $13::text, $14::text, $15::jsonb, $16::bytea FROM dossier
)
SELECT version FROM dossier
"""


async def receive_in_one_statement(
    conn: asyncpg.Connection,
    dossier: Dossier,
    *,
    to_status: str,
    at: dt.datetime,
    appointment_at: dt.datetime,
    actor: str,
    role: str | None,
    actor_unit: str | None,
    note: str | None,
    event: NewOutboxRow,
) -> int | None:
    """Write the reception if the dossier is still at the version and status it was read at;
    its new version, or None when another change came first (nothing is written then)."""
    version = await conn.fetchval(
        RECEPTION_SQL,
        dossier.id,
        to_status,
        at,
        appointment_at,
        dossier.version,
        dossier.status,
        actor,
        role,
        actor_unit,
        note,
        event.event_id,
        event.event_type,
        event.topic,
        event.key,
        event.headers_json,
        event.payload_json.encode(),
    )
    return None if version is None else int(version)
