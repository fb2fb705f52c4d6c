"""Units every part of namcoso shares, each spelled once: Vietnam's time zone, day 0 of
spreadsheet serial dates, and how each column ``format`` of ``templates/`` is shown.

Every time namcoso shows or logs is Vietnam time (UTC+7, no daylight saving), whatever the
server's own zone: a district office reads "08:00" as its own morning.

A foundation module: it imports nothing from ``sync``, so anything may import it.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

#: Vietnam's time zone (Indochina Time), UTC+7 all year.
VIETNAM = timezone(timedelta(hours=7), "ICT")

#: Day 0 of spreadsheet serial dates, in Excel (1900 system), LibreOffice and Google Sheets.
SHEET_EPOCH = date(1899, 12, 30)


def vietnam_now() -> datetime:
    """The current time in Vietnam (aware)."""
    return datetime.now(VIETNAM)


def serial_day(day: date) -> int:
    """A date as a spreadsheet serial day number (``2018-03-05`` → ``43164``)."""
    return (day - SHEET_EPOCH).days


#: The display pattern of each column ``format`` named in ``templates/`` (Excel and Sheets
#: read the same patterns).
NUMBER_FORMATS: dict[str, str] = {
    "percent": "0.0%",
    "date": "dd/mm/yyyy",
    "datetime": "dd/mm/yyyy hh:mm",
    "vnd": "#,##0",
    "integer": "0",
    "text": "@",  # what is typed stays text (``03/2018`` is not turned into a date)
}
