"""The naive gspread flow, with real gspread 6.2.1 calls, for comparison with GoogleBackend.

What a first script usually does: ``open_by_key`` each commune sheet, then
``worksheet(title)`` + ``get_all_records()`` per tab; then ``open_by_key`` the master and
``clear()`` + ``update()`` each master tab (``add_worksheet`` when it is missing). Run it
against :class:`google_fake.FakeGoogle` to count the requests it spends.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import gspread
from google.oauth2 import service_account
from google_fake import FakeGoogle, service_account_info


def run_naive_flow(
    fake: FakeGoogle,
    master_id: str,
    commune_ids: Iterable[str],
    master_tabs: dict[str, list[list[Any]]],
    input_tabs: Iterable[str],
) -> dict[str, int]:
    """Pull every ``input_tabs`` tab of every commune and replace ``master_tabs`` in the
    master, the naive way. Returns the requests it made (counted by the fake), the records
    read, and how many tabs ``get_all_records`` refused (a header row with blank or
    repeated names, as real commune sheets have)."""
    reads_before, writes_before = sum(fake.reads.values()), sum(fake.writes.values())
    credentials = service_account.Credentials.from_service_account_info(
        service_account_info(), scopes=gspread.auth.DEFAULT_SCOPES
    )
    client = gspread.authorize(credentials)
    records = crashed = 0
    for sid in commune_ids:
        sheet = client.open_by_key(sid)
        for title in input_tabs:
            try:
                worksheet = sheet.worksheet(title)
            except gspread.WorksheetNotFound:
                continue
            try:
                records += len(worksheet.get_all_records())
            except gspread.exceptions.GSpreadException:
                crashed += 1  # drifting headers (blank or repeated): the request was spent
    master = client.open_by_key(master_id)
    for title, grid in master_tabs.items():
        try:
            worksheet = master.worksheet(title)
        except gspread.WorksheetNotFound:
            worksheet = master.add_worksheet(
                title, rows=max(len(grid), 1), cols=max(len(grid[0]), 1)
            )
        worksheet.clear()
        worksheet.update(grid, "A1")
    reads = sum(fake.reads.values()) - reads_before
    writes = sum(fake.writes.values()) - writes_before
    return {
        "reads": reads,
        "writes": writes,
        "requests": reads + writes,
        "records": records,
        "tabs_failed": crashed,
    }
