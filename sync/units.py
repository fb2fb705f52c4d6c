"""Units every part of namcoso shares, each spelled once: Vietnam's time zone, day 0 of
spreadsheet serial dates, and how each column ``format`` of ``templates/`` is shown.

Every time namcoso shows or logs is Vietnam time (UTC+7, no daylight saving), whatever the
server's own zone: a district office reads "08:00" as its own morning.

A foundation module: it imports nothing from ``sync``, so anything may import it.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from typing import Any

#: Vietnam's time zone (Indochina Time), UTC+7 all year.
VIETNAM = timezone(timedelta(hours=7), "ICT")

#: Day 0 of spreadsheet serial dates, in Excel (1900 system), LibreOffice and Google Sheets.
SHEET_EPOCH = date(1899, 12, 30)


def vietnam_now() -> datetime:
    """The current time in Vietnam (aware)."""
    return datetime.now(VIETNAM)


#: The number format of a month cell in every tab (SPEC: a date cell holding the month's
#: first day, shown ``03/2018``). Columns say ``format = "month"`` in ``templates/``.
MONTH_FORMAT = "mm/yyyy"


def serial_day(day: date) -> int:
    """A date as a spreadsheet serial day number (``2018-03-05`` → ``43164``)."""
    return (day - SHEET_EPOCH).days


#: The display pattern of each column ``format`` named in ``templates/`` (Excel and Sheets
#: read the same patterns).
NUMBER_FORMATS: dict[str, str] = {
    "percent": "0.0%",
    "date": "dd/mm/yyyy",
    "month": MONTH_FORMAT,
    "datetime": "dd/mm/yyyy hh:mm",
    "vnd": "#,##0",
    "integer": "0",
}
#: The pattern that keeps a cell's typed text as text (``03/2018`` is not turned into a date).
TEXT_FORMAT = "@"


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
