"""Metrics' tables, in the ``metrics`` schema."""

from __future__ import annotations

import datetime as dt
import uuid
from enum import StrEnum
from typing import Any, Generic, TypeVar

from sqlalchemy import BigInteger, Boolean, DateTime, Dialect, Float, String, Text
from sqlalchemy.dialects.postgresql import UUID
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeDecorator

from shared.db import schema_metadata
from shared.messaging.tables import messaging_tables
from shared.vocabulary import Channel, Timeliness

E = TypeVar("E", bound=StrEnum)


class EnumText(TypeDecorator[E], Generic[E]):
    """A shared vocabulary enum stored as its plain string value (the column stays a varchar,
    so no migration and no database enum type), read back as the enum member."""

    impl = String
    cache_ok = True

    def __init__(self, enum: type[E], length: int) -> None:
        super().__init__(length)
        self.enum = enum

    def process_bind_param(self, value: Any, dialect: Dialect) -> str | None:
        return None if value is None else str(value)

    def process_result_value(self, value: Any, dialect: Dialect) -> E | None:
        return None if value is None else self.enum(value)


SCHEMA = "metrics"


class Base(DeclarativeBase):
    metadata = schema_metadata(SCHEMA)


MESSAGING = messaging_tables(Base.metadata)


class DossierFact(Base):
    """What metrics knows of one dossier; counters can always be rebuilt from these rows.

    Events of different topics arrive in any order, so every column but the id may be unknown."""

    __tablename__ = "dossier_facts"
    dossier_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True)
    dossier_code: Mapped[str | None] = mapped_column(String(40))
    unit_code: Mapped[str | None] = mapped_column(String(16))
    unit_path: Mapped[str | None] = mapped_column(Text, index=True)
    procedure_code: Mapped[str | None] = mapped_column(String(128))
    channel: Mapped[Channel | None] = mapped_column(EnumText(Channel, 16))
    received_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    appointment_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    processing_working_days: Mapped[float | None] = mapped_column(Float)
    fee_amount_vnd: Mapped[int | None] = mapped_column(BigInteger)
    case_opened_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    fee_requested_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    input_digitised_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    resolved_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    resolution_outcome: Mapped[str | None] = mapped_column(String(16))
    timeliness: Mapped[Timeliness | None] = mapped_column(EnumText(Timeliness, 16))
    result_digitised: Mapped[bool | None] = mapped_column(Boolean)
    due_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    fee_paid_online_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    rated_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    satisfied: Mapped[bool | None] = mapped_column(Boolean)
    withdrawn_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    # When the receipt was counted: the end of the end-to-end path that benchmarks measure.
    counted_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))


class Counter(Base):
    """Counts by unit × period × procedure × channel × metric; ``*`` means all."""

    __tablename__ = "counters"
    unit_code: Mapped[str] = mapped_column(String(16), primary_key=True)
    period: Mapped[str] = mapped_column(String(7), primary_key=True)
    procedure_code: Mapped[str] = mapped_column(String(128), primary_key=True)
    channel: Mapped[str] = mapped_column(String(16), primary_key=True)
    metric: Mapped[str] = mapped_column(String(32), primary_key=True)
    value: Mapped[int] = mapped_column(BigInteger)
