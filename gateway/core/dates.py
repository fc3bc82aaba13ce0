"""The days and moments the API accepts: years 2000 to 2100, so that no date from outside
reaches arithmetic (a day after, a conversion to UTC) that runs past the calendar's end.

The bound is a rule checked in code (a 422 naming the field): OpenAPI cannot state a range of
dates, so a request outside it still matches the document.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Annotated

from pydantic import AfterValidator, AwareDatetime

FIRST_DAY = date(2000, 1, 1)
LAST_DAY = date(2100, 12, 31)
YEARS = f"the years {FIRST_DAY.year} to {LAST_DAY.year}"


def _within_day(day: date) -> date:
    if not FIRST_DAY <= day <= LAST_DAY:
        raise ValueError(f"a day in {YEARS}")
    return day


def _within_moment(moment: datetime) -> datetime:
    # Compared as offsets from the first moment: converting 9999-12-31T23:00-05:00 to UTC
    # would itself run past the calendar's end.
    first = datetime(FIRST_DAY.year, 1, 1, tzinfo=UTC)
    end = datetime(LAST_DAY.year + 1, 1, 1, tzinfo=UTC)
    if not first <= moment < end:
        raise ValueError(f"a moment in {YEARS} (UTC)")
    return moment


Day = Annotated[date, AfterValidator(_within_day)]
Moment = Annotated[AwareDatetime, AfterValidator(_within_moment)]
