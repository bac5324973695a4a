"""Intake's tables, in the ``intake`` schema."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from sqlalchemy import (
    BigInteger,
    Date,
    DateTime,
    Enum,
    Float,
    ForeignKey,
    Identity,
    Index,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
    event,
    func,
    inspect,
    text,
    update,
)
from sqlalchemy.dialects.postgresql import JSONB, UUID
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column
from sqlalchemy.orm.attributes import set_committed_value

from shared.db import schema_metadata
from shared.messaging.tables import messaging_tables
from shared.vocabulary import AgencyKind, Channel

SCHEMA = "intake"


class Base(DeclarativeBase):
    metadata = schema_metadata(SCHEMA)


MESSAGING = messaging_tables(Base.metadata)


class Unit(Base):
    """Đơn vị hành chính: a tree of any depth, addressed by a materialised path of codes."""

    __tablename__ = "units"
    code: Mapped[str] = mapped_column(String(16), primary_key=True)
    name: Mapped[str] = mapped_column(Text)
    level: Mapped[str] = mapped_column(String(32))
    parent_code: Mapped[str | None] = mapped_column(ForeignKey("units.code"))
    path: Mapped[str] = mapped_column(Text, index=True)
    retired_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))


class Procedure(Base):
    """Thủ tục hành chính, as seeded; ``data`` keeps the whole catalogue entry."""

    __tablename__ = "procedures"
    key: Mapped[str] = mapped_column(String(128), primary_key=True)
    code: Mapped[str | None] = mapped_column(String(32), index=True)
    name: Mapped[str] = mapped_column(Text)
    field: Mapped[str] = mapped_column(Text)
    level: Mapped[str] = mapped_column(String(32))
    online: Mapped[str] = mapped_column(String(16))
    processing_working_days: Mapped[float] = mapped_column(Float)
    version: Mapped[int] = mapped_column(Integer, default=1)
    data: Mapped[dict[str, Any]] = mapped_column(JSONB)
    # A retired procedure takes no new dossiers; those already received keep their version.
    retired_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))


class Dossier(Base):
    """Hồ sơ. ``version`` is the ETag; ``status`` is derived from the action log and cached."""

    __tablename__ = "dossiers"
    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True, default=uuid.uuid4)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    procedure_key: Mapped[str] = mapped_column(ForeignKey("procedures.key"))
    procedure_version: Mapped[int] = mapped_column(Integer)
    unit_code: Mapped[str] = mapped_column(ForeignKey("units.code"))
    unit_path: Mapped[str] = mapped_column(Text)
    channel: Mapped[Channel] = mapped_column(
        Enum(Channel, native_enum=False, length=16, values_callable=lambda e: [m.value for m in e])
    )
    status: Mapped[str] = mapped_column(String(32))
    applicant: Mapped[dict[str, Any]] = mapped_column(JSONB)
    applicant_id_number: Mapped[str] = mapped_column(String(20), index=True)
    # Người được ủy quyền: who filed for the applicant (name, ID number, relationship, the
    # authorisation document), when someone did. The number has its own column so the
    # representative finds the dossier among their own.
    representative: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    representative_id_number: Mapped[str | None] = mapped_column(String(20), index=True)
    submitted_by: Mapped[str] = mapped_column(Text)
    received_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    appointment_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    # The new date of an apology slip; on-time status is still judged on ``appointment_at``.
    rescheduled_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    fee_amount_vnd: Mapped[int] = mapped_column(BigInteger)
    case_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
    fee_request_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
    # What payment says the dossier owes and was paid, folded from its events by
    # ``domain.payments_view``; kept beside the row rather than in the action log because paying
    # is not a lifecycle step and must not move ``version``.
    payments: Mapped[dict[str, Any]] = mapped_column(
        JSONB, default=dict, server_default=text("'{}'::jsonb")
    )
    # What workflow's current pause asks of the applicant (``domain.pauses``): the supplement's
    # items, or the financial obligation's amount; None while nothing is asked.
    pause: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    # Where an integration client (LGSP/NGSP, post office) knows this dossier from.
    source_system: Mapped[str | None] = mapped_column(String(64))
    external_id: Mapped[str | None] = mapped_column(String(128))
    # The applicant's consent to officers seeing (and reusing) the documents they had digitised
    # before; given at submission or later, and withdrawn the same way. Not a lifecycle step,
    # so it does not move ``version``; each change is in the action log.
    reuse_consent: Mapped[bool] = mapped_column(default=False, server_default=text("false"))
    reuse_consent_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[dt.datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now()
    )
    # Bumped by SQLAlchemy on every UPDATE of the row (``version_id_col``), except a change of
    # only the columns that are no lifecycle step (see ``QUIET_COLUMNS``).
    version: Mapped[int] = mapped_column(Integer)

    __table_args__ = (
        Index("ix_dossiers_unit_path_created", "unit_path", "created_at", "id"),
        UniqueConstraint("source_system", "external_id"),
    )
    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012 (the mapper reads it once)


# What changes without moving the dossier's version (its ETag): the payment view, the consent to
# reuse, the ids of the case and the fee request. An officer's If-Match must not go stale because
# a citizen paid or consented, nor because a case was opened elsewhere.
QUIET_COLUMNS = frozenset(
    {"payments", "reuse_consent", "reuse_consent_at", "case_id", "fee_request_id"}
)


@event.listens_for(Session, "before_flush")
def _write_quiet_changes(session: Session, _context: object, _instances: object) -> None:
    """A dossier whose only changes are in ``QUIET_COLUMNS`` is written by one Core UPDATE, which
    the mapper's version counter does not see; any other change is a new version as usual."""
    table = Dossier.__table__
    assert isinstance(table, Table)
    for row in list(session.dirty):
        if not isinstance(row, Dossier):
            continue
        state = inspect(row)
        changed = {a.key: a.value for a in state.attrs if a.history.has_changes()}
        if not changed or not changed.keys() <= QUIET_COLUMNS:
            continue
        session.execute(update(table).where(table.c.id == row.id).values(**changed))
        for key, value in changed.items():
            set_committed_value(row, key, value)


class DossierAction(Base):
    """Append-only log of what happened to a dossier: the record from which status derives."""

    __tablename__ = "dossier_actions"
    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    dossier_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("dossiers.id"), index=True)
    action: Mapped[str] = mapped_column(String(32))
    from_status: Mapped[str | None] = mapped_column(String(32))
    to_status: Mapped[str] = mapped_column(String(32))
    actor: Mapped[str] = mapped_column(Text)
    role: Mapped[str | None] = mapped_column(String(32))
    unit_code: Mapped[str | None] = mapped_column(String(16))
    at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    note: Mapped[str | None] = mapped_column(Text)
    # A supplement request's list, structured: {"items": [{component, reason}], "note": …}. The
    # note above is its readable rendering for the history; slips and views read this.
    supplement: Mapped[dict[str, Any] | None] = mapped_column(JSONB)


class DossierSequence(Base):
    """Daily counter per unit behind readable dossier codes."""

    __tablename__ = "dossier_sequences"
    unit_code: Mapped[str] = mapped_column(String(16), primary_key=True)
    day: Mapped[dt.date] = mapped_column(Date, primary_key=True)
    last: Mapped[int] = mapped_column(Integer)


class IdempotencyKey(Base):
    """A client's retry of a creation gets the first answer back."""

    __tablename__ = "idempotency_keys"
    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    principal: Mapped[str] = mapped_column(Text, primary_key=True)
    request_hash: Mapped[str] = mapped_column(String(64))
    dossier_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True))
    created_at: Mapped[dt.datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now()
    )


class Agency(Base):
    """Cơ quan: departments, the service centre, one-stop desks, and outside bodies in a chain."""

    __tablename__ = "agencies"
    code: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(Text)
    # Stored as the kind's code in a VARCHAR (no database enum type, no check constraint).
    kind: Mapped[AgencyKind] = mapped_column(
        Enum(
            AgencyKind,
            native_enum=False,
            create_constraint=False,
            length=40,
            values_callable=lambda kinds: [k.value for k in kinds],
        )
    )
    unit_code: Mapped[str] = mapped_column(ForeignKey("units.code"), index=True)
    created_at: Mapped[dt.datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now()
    )
    retired_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))


class CalendarDay(Base):
    """One exception to the weekly rhythm: a holiday, a day off in compensation, or a weekend
    day declared a working day. Loaded per year from the base calendar, then edited by ops."""

    __tablename__ = "calendar_days"
    day: Mapped[dt.date] = mapped_column(Date, primary_key=True)
    kind: Mapped[str] = mapped_column(String(32))
    name: Mapped[str] = mapped_column(Text)
    source: Mapped[str] = mapped_column(String(16))
    updated_by: Mapped[str | None] = mapped_column(Text)
    updated_at: Mapped[dt.datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now()
    )


class CalendarYear(Base):
    """A year whose base calendar was loaded, so a day ops removed is not loaded back."""

    __tablename__ = "calendar_years"
    year: Mapped[int] = mapped_column(Integer, primary_key=True)
    loaded_at: Mapped[dt.datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now()
    )


class ProcedureVersion(Base):
    """Every version of a catalogue entry; a dossier keeps the version it was received under."""

    __tablename__ = "procedure_versions"
    key: Mapped[str] = mapped_column(String(128), primary_key=True)
    version: Mapped[int] = mapped_column(Integer, primary_key=True)
    data: Mapped[dict[str, Any]] = mapped_column(JSONB)
    created_by: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now()
    )


class Blob(Base):
    """Content-addressed file in the blob store (the bytes live there, keyed by sha256)."""

    __tablename__ = "blobs"
    sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    size: Mapped[int] = mapped_column(BigInteger)
    content_type: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[dt.datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now()
    )


class Document(Base):
    """Thành phần hồ sơ attached to a dossier: uploaded, referenced, or reused from an earlier
    digitised copy of the same applicant."""

    __tablename__ = "documents"
    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True, default=uuid.uuid4)
    dossier_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("dossiers.id"), index=True)
    component: Mapped[str] = mapped_column(Text)
    kind: Mapped[str | None] = mapped_column(String(128))
    source: Mapped[str] = mapped_column(String(16))
    sha256: Mapped[str | None] = mapped_column(ForeignKey("blobs.sha256"))
    reference: Mapped[str | None] = mapped_column(Text)
    filename: Mapped[str | None] = mapped_column(Text)
    reused_from: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
    applicant_id_number: Mapped[str] = mapped_column(String(20))
    valid_until: Mapped[dt.date | None] = mapped_column(Date)
    digitised: Mapped[bool] = mapped_column(default=False)
    digitised_by: Mapped[str | None] = mapped_column(Text)
    digitised_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    created_by: Mapped[str] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now()
    )

    __table_args__ = (Index("ix_documents_applicant_kind", "applicant_id_number", "kind"),)


class Rating(Base):
    """Đánh giá mức độ hài lòng: one per dossier per channel."""

    __tablename__ = "ratings"
    dossier_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("dossiers.id"), primary_key=True)
    channel: Mapped[str] = mapped_column(String(16), primary_key=True)
    score: Mapped[int] = mapped_column(Integer)
    comment: Mapped[str | None] = mapped_column(Text)
    rated_at: Mapped[dt.datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now()
    )
