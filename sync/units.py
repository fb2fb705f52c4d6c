"""Units every part of namcoso shares, each spelled once: the time zone users live in, day 0
of spreadsheet serial dates, and how each column ``format`` of ``templates/`` is shown.

A foundation module: it imports nothing from ``sync``, so anything may import it.
"""

from __future__ import annotations

from datetime import date, timedelta, timezone

#: Vietnam's time (UTC+7, no daylight saving): every time users read is in it.
VIETNAM = timezone(timedelta(hours=7))

#: Day 0 of spreadsheet serial dates, in Excel (1900 system), LibreOffice and Google Sheets.
SHEET_EPOCH = date(1899, 12, 30)


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
}
#: The pattern that keeps a cell's typed text as text (``03/2018`` is not turned into a date).
TEXT_FORMAT = "@"
