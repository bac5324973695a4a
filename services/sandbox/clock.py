"""Vietnam time: VNPay timestamps and statement days are GMT+7 whatever the server's zone."""

from __future__ import annotations

import datetime as dt

VN_TZ = dt.timezone(dt.timedelta(hours=7), "GMT+7")
VNP_FORMAT = "%Y%m%d%H%M%S"


def now_vn() -> dt.datetime:
    return dt.datetime.now(VN_TZ)


def vnp_time(moment: dt.datetime) -> str:
    """``yyyyMMddHHmmss`` in GMT+7."""
    return moment.astimezone(VN_TZ).strftime(VNP_FORMAT)


def parse_vnp_time(text: str) -> dt.datetime:
    """The inverse of :func:`vnp_time`; ``ValueError`` unless exactly 14 digits of a real time."""
    if len(text) != 14 or not text.isdigit():
        raise ValueError(f"not yyyyMMddHHmmss: {text!r}")
    return dt.datetime.strptime(text, VNP_FORMAT).replace(tzinfo=VN_TZ)


def parse_day(text: str) -> dt.date:
    """A statement day, given as ``YYYY-MM-DD`` or as VNPay's ``yyyyMMdd``."""
    if len(text) == 8 and text.isdigit():
        return dt.datetime.strptime(text, "%Y%m%d").date()
    return dt.date.fromisoformat(text)


def parse_instant(text: str) -> dt.datetime:
    """An ISO 8601 instant; one written without an offset is taken as Vietnam time."""
    moment = dt.datetime.fromisoformat(text)
    return moment if moment.tzinfo else moment.replace(tzinfo=VN_TZ)


def vn_day(moment: dt.datetime) -> dt.date:
    return moment.astimezone(VN_TZ).date()
