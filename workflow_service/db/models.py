"""Workflow's tables, in the ``workflow`` schema."""

from __future__ import annotations

import datetime as dt
import uuid
from types import MappingProxyType
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Identity,
    Index,
    Integer,
    LargeBinary,
    String,
    Table,
    Text,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB, UUID
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from shared.db import schema_metadata
from shared.messaging.tables import messaging_tables

SCHEMA = "workflow"


class Base(DeclarativeBase):
    metadata = schema_metadata(SCHEMA)


MESSAGING = messaging_tables(Base.metadata)


def table_of(model: type[Base]) -> Table:
    """A model's Core table, for the hot paths that write many rows in one statement without
    the unit of work (opening a poll's cases)."""
    table = model.__table__
    assert isinstance(table, Table)
    return table


class Case(Base):
    """Hồ sơ xử lý: one per received dossier (the unique dossier id makes redelivery harmless)."""

    __tablename__ = "cases"
    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True, default=uuid.uuid4)
    dossier_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), unique=True)
    dossier_code: Mapped[str] = mapped_column(String(40), index=True)
    procedure_code: Mapped[str] = mapped_column(String(128))
    unit_code: Mapped[str] = mapped_column(String(16))
    unit_path: Mapped[str] = mapped_column(Text, index=True)
    status: Mapped[str] = mapped_column(String(32))
    opened_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    due_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    # Bumped by the mapper on every UPDATE of the row (``version_id_col``): the ETag, and what
    # ``If-Match`` compares.
    version: Mapped[int] = mapped_column(Integer, default=1)
    procedure_key: Mapped[str | None] = mapped_column(String(128))
    route_version: Mapped[int | None] = mapped_column(Integer)
    # Copied from the received dossier so results and slips can name them without asking intake.
    procedure_name: Mapped[str | None] = mapped_column(Text)
    applicant_name: Mapped[str | None] = mapped_column(Text)
    # Office time from receipt to the appointment, in working days: what the steps share.
    processing_working_days: Mapped[float | None] = mapped_column(Float)
    received_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    paused_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    pause_reason: Mapped[str | None] = mapped_column(String(32))
    current_step_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
    finished_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    timeliness: Mapped[str | None] = mapped_column(String(16))
    # The applicant's pseudonym (HMAC of the ID number) from the received dossier: how an
    # applicant's token finds their own results without workflow holding the number.
    applicant_ref: Mapped[str | None] = mapped_column(String(64), index=True)

    __mapper_args__ = MappingProxyType({"version_id_col": version})


class Agency(Base):
    """An agency as intake's catalogue publishes it (``AgencyChanged``), seeded from the shared
    reference data: where steps are assigned, what transfers may name, the name results print."""

    __tablename__ = "agencies"
    code: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(Text)
    kind: Mapped[str] = mapped_column(String(40))
    unit_code: Mapped[str] = mapped_column(String(16))
    unit_path: Mapped[str] = mapped_column(Text)
    retired: Mapped[bool] = mapped_column(Boolean, default=False)
    # When the catalogue published this entry; an older publication arriving late changes nothing.
    changed_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    # When workflow first knew it: a unit's first agency of a kind is the one its steps go to.
    created_at: Mapped[dt.datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now()
    )

    __table_args__ = (Index("ix_agencies_unit_kind", "unit_code", "kind"),)


class AgencyMember(Base):
    """An officer's membership of an agency, kept by ops, beside the one agency the identity
    provider may name in the token (``agency`` claim)."""

    __tablename__ = "agency_members"
    agency_code: Mapped[str] = mapped_column(String(64), primary_key=True)
    officer_sub: Mapped[str] = mapped_column(String(200), primary_key=True, index=True)
    added_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    added_by: Mapped[str] = mapped_column(Text)


class CaseAction(Base):
    """Append-only log behind the process control sheet."""

    __tablename__ = "case_actions"
    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    case_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("cases.id"), index=True)
    action: Mapped[str] = mapped_column(String(32))
    from_status: Mapped[str | None] = mapped_column(String(32))
    to_status: Mapped[str] = mapped_column(String(32))
    actor: Mapped[str] = mapped_column(Text)
    at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    note: Mapped[str | None] = mapped_column(Text)
    step_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
    role: Mapped[str | None] = mapped_column(String(32))
    agency_code: Mapped[str | None] = mapped_column(String(64))


class RouteTemplateRow(Base):
    """Every version of a procedure's route; a case keeps the version it was opened with."""

    __tablename__ = "route_templates"
    procedure_key: Mapped[str] = mapped_column(String(128), primary_key=True)
    version: Mapped[int] = mapped_column(Integer, primary_key=True)
    steps: Mapped[list[dict[str, Any]]] = mapped_column(JSONB)
    created_by: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now()
    )


class ProcedureHours(Base):
    """A procedure whose processing time is set in working hours (``ProcedurePublished``'s
    ``processing_working_hours``), as its newest published version says; its steps share those
    hours instead of the working days between receipt and appointment."""

    __tablename__ = "procedure_hours"
    procedure_key: Mapped[str] = mapped_column(String(128), primary_key=True)
    version: Mapped[int] = mapped_column(Integer)
    working_hours: Mapped[float | None] = mapped_column(Float)


class Step(Base):
    """One passage of a case through one step of its route, at one agency. Sending back or
    transferring ends this row and starts a new one, so the history stays whole."""

    __tablename__ = "steps"
    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True, default=uuid.uuid4)
    case_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("cases.id"), index=True)
    seq: Mapped[int] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(String(64))
    agency_kind: Mapped[str] = mapped_column(String(40))
    agency_code: Mapped[str | None] = mapped_column(String(64))
    role: Mapped[str] = mapped_column(String(32))
    unit_path: Mapped[str] = mapped_column(Text)
    assignee: Mapped[str | None] = mapped_column(Text)
    claimed_by: Mapped[str | None] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16))
    share: Mapped[float] = mapped_column(Float)
    started_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    due_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    finished_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    timeliness: Mapped[str | None] = mapped_column(String(16))
    note: Mapped[str | None] = mapped_column(Text)

    __table_args__ = (
        # Work queues: open steps of an agency or role, soonest due first.
        Index(
            "ix_steps_open_queue",
            "agency_kind",
            "role",
            "due_at",
            "id",
            postgresql_where=text("status IN ('waiting', 'in_progress')"),
        ),
    )


class Timer(Base):
    """A durable deadline: fired once by whichever workflow process claims it first."""

    __tablename__ = "timers"
    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    case_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("cases.id"), index=True)
    step_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
    kind: Mapped[str] = mapped_column(String(16))
    due_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    # A paused case's timers wait; on resume they get new due instants.
    suspended: Mapped[bool] = mapped_column(Boolean, default=False)
    fired_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))

    __table_args__ = (
        Index(
            "ix_timers_pending_due",
            "due_at",
            postgresql_where=text("fired_at IS NULL AND NOT suspended"),
        ),
    )


class CalendarYearRow(Base):
    """The working calendar of a year as intake last published it."""

    __tablename__ = "calendar_years"
    year: Mapped[int] = mapped_column(Integer, primary_key=True)
    entries: Mapped[list[dict[str, Any]]] = mapped_column(JSONB)
    changed_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))


class Apology(Base):
    """Phiếu xin lỗi và hẹn lại ngày trả kết quả: issued when a case will be or is late. The
    dossier still counts as late; the new appointment is what the applicant is told."""

    __tablename__ = "apologies"
    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True, default=uuid.uuid4)
    case_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("cases.id"), index=True)
    agency_code: Mapped[str | None] = mapped_column(String(64))
    reason: Mapped[str] = mapped_column(Text)
    original_due_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    new_appointment_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    issued_by: Mapped[str] = mapped_column(Text)
    issued_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))


class SignedResult(Base):
    """The electronic result of a case: a PAdES-signed PDF, kept with its hash."""

    __tablename__ = "signed_results"
    case_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("cases.id"), primary_key=True)
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    pdf: Mapped[bytes] = mapped_column(LargeBinary)
    agency_code: Mapped[str] = mapped_column(String(64))
    signer_name: Mapped[str] = mapped_column(Text)
    signed_by: Mapped[str] = mapped_column(Text)
    signed_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
