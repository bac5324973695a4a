"""Bounds on numbers and instants a client sends, so every value fits what it is stored in or
computed with.

Dates go from 2000 to 2100: the span the working calendars and reports cover. Outside it a date
means a typing error or a probe, and arithmetic on it (17:00 of the working day after
9999-12-31) overflows Python's dates rather than answering.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from pydantic import AfterValidator, AwareDatetime

FIRST_YEAR, LAST_YEAR = 2000, 2100
BIGINT_MAX = 2**63 - 1
INT_MAX = 2**31 - 1
# The largest sum of money any route takes (đồng): what VNPay's amount field (in hundredths)
# and the BIGINT columns hold with room to add.
MAX_AMOUNT_VND = 9_999_999_999_999

_RANGE = f"must be between {FIRST_YEAR}-01-01 and {LAST_YEAR}-12-31"


def _date_in_range(value: dt.date) -> dt.date:
    if not FIRST_YEAR <= value.year <= LAST_YEAR:
        raise ValueError(_RANGE)
    return value


def _instant_in_range(value: dt.datetime) -> dt.datetime:
    # Judged in UTC too: 2100-12-31T23:00-05:00 is already 2101 there.
    if not FIRST_YEAR <= value.year <= LAST_YEAR or not (
        FIRST_YEAR <= value.astimezone(dt.UTC).year <= LAST_YEAR
    ):
        raise ValueError(_RANGE)
    return value


BoundedDate = Annotated[dt.date, AfterValidator(_date_in_range)]
BoundedAwareDatetime = Annotated[AwareDatetime, AfterValidator(_instant_in_range)]
