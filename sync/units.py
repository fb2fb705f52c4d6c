"""Time every module shares: Vietnam's time zone, the spreadsheet epoch, months as cells.

Every time namcoso shows or logs is Vietnam time (UTC+7, no daylight saving), whatever the
server's own zone: a district office reads "08:00" as its own morning.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from typing import Any

#: Vietnam's time zone (Indochina Time), UTC+7 all year.
VIETNAM = timezone(timedelta(hours=7), "ICT")
#: Serial day 0 of Excel and Google Sheets dates.
SHEET_EPOCH = datetime(1899, 12, 30)


def vietnam_now() -> datetime:
    """The current time in Vietnam (aware)."""
    return datetime.now(VIETNAM)


#: The number format of a month cell in every tab (SPEC: a date cell holding the month's
#: first day, shown ``03/2018``). Columns say ``format = "month"`` in ``templates/``.
MONTH_FORMAT = "mm/yyyy"


def month_start(month: Any) -> date | None:
    """A month as its first day: ``"2018-03"`` (the pipeline's month key), or a date or
    datetime (a month cell read back); None for anything else."""
    if isinstance(month, datetime):
        return date(month.year, month.month, 1)
    if isinstance(month, date):
        return month.replace(day=1)
    if isinstance(month, str) and len(month) == 7 and month[4] == "-":
        try:
            return date(int(month[:4]), int(month[5:]), 1)
        except ValueError:
            return None
    return None
