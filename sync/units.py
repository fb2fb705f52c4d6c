"""Constants of time every module shares: Vietnam's time zone and the spreadsheet epoch.

Every time namcoso shows or logs is Vietnam time (UTC+7, no daylight saving), whatever the
server's own zone: a district office reads "08:00" as its own morning.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

#: Vietnam's time zone (Indochina Time), UTC+7 all year.
VIETNAM = timezone(timedelta(hours=7), "ICT")
#: Serial day 0 of Excel and Google Sheets dates.
SHEET_EPOCH = datetime(1899, 12, 30)


def vietnam_now() -> datetime:
    """The current time in Vietnam (aware)."""
    return datetime.now(VIETNAM)
