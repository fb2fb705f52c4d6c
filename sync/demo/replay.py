"""``namcoso demo``: build the Ba Tri project and replay 2018 month by month.

Communes send each month's report early in the next month, most by the deadline (day 5),
a few late, a few never; the district syncs on day 4 of every month. Each sync runs with
an explicit simulated ``now`` (never a patched system clock), so ``Tiến độ báo cáo`` ends
up with a realistic mix of on-time, late and missing reports, from first-seen times the
state store really recorded.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import TextIO

from ..backends.base import Grid
from ..backends.local import write_workbook
from ..config import load_config
from ..layout import commune_layout
from ..normalize import normalize_tab
from ..pipeline import SyncResult, run_sync
from ..units import VIETNAM
from ..values import BadValue, parse_month, parse_year
from .generate import FIRST_YEAR, SEED, YEAR, _project, build_demo_project

SYNC_DAY = 4
#: The last sync: after every December report, late ones included, has come in.
REPLAY_END = datetime(YEAR + 1, 1, 20, 9, 0, tzinfo=VIETNAM)
#: Share of a month's reports sent after the deadline: a few habitually late communes,
#: and now and then anybody.
HABITUALLY_LATE = 0.45
OCCASIONALLY_LATE = 0.06


def sync_times(history: bool = False) -> list[datetime]:
    """Day 4 of every month from February of the demo year (of the first history year, with
    ``history``) to January after the demo year, then the end."""
    first = FIRST_YEAR if history else YEAR
    times = [
        datetime(year, m, SYNC_DAY, 17, 0, tzinfo=VIETNAM)
        for year in range(first, YEAR + 2)
        for m in range(1, 13)
        if (first, 1) < (year, m) <= (YEAR + 1, 1)
    ]
    return [*times, REPLAY_END]


def report_day(code: str, month: tuple[int, int], late_share: float) -> date:
    """When a commune sends a month's report: by day 4 of the next month, or late."""
    rng = random.Random(f"{SEED}:report:{code}:{month}")
    year, mon = month
    year, mon = (year + 1, 1) if mon == 12 else (year, mon + 1)
    day = rng.randint(8, 25) if rng.random() < late_share else rng.randint(1, SYNC_DAY)
    return date(year, mon, day)


def _row_months(grids: dict[str, Grid], tab_key: str) -> dict[int, tuple[int, int] | None]:
    """Sheet row (1-based) → the (year, month) it reports, or None when unreadable."""
    raw = normalize_tab(grids, commune_layout()[tab_key])
    months: dict[int, tuple[int, int] | None] = {}
    for row, value in zip(raw.frame["_row"], raw.frame.get("month", []), strict=False):
        try:
            text = parse_month(value)
            months[row] = (int(text[:4]), int(text[5:]))
        except (BadValue, TypeError):
            months[row] = None
    return months


@dataclass(frozen=True)
class _Periods:
    """What each data row of a commune's sheet reports: read once, not once per sync."""

    months: dict[int, tuple[int, int] | None]
    years: dict[int, int | None]

    @classmethod
    def of(cls, grids: dict[str, Grid]) -> _Periods:
        layout = commune_layout()
        has = {key: layout[key].title in grids for key in ("meetings", "ratings")}
        return cls(
            _row_months(grids, "meetings") if has["meetings"] else {},
            _row_years(grids) if has["ratings"] else {},
        )


def _visible(
    grids: dict[str, Grid],
    code: str,
    when: datetime,
    late_share: float,
    final: bool,
    periods: _Periods | None = None,
) -> dict[str, Grid]:
    """What a commune's sheet holds at ``when``: the reports it has sent so far."""
    layout = commune_layout()
    meetings, ratings = layout["meetings"].title, layout["ratings"].title
    periods = periods or _Periods.of(grids)
    out = dict(grids)
    if meetings in grids:
        months = periods.months
        out[meetings] = [
            row
            for r, row in enumerate(grids[meetings], start=1)
            if r not in months
            or final
            or (months[r] is not None and report_day(code, months[r], late_share) <= when.date())
        ]
    if ratings in grids:  # a year's ratings come at its end: seen from January after
        years = periods.years
        out[ratings] = [
            row
            for r, row in enumerate(grids[ratings], start=1)
            if r not in years or years[r] is None or years[r] < when.year
        ]
    return out


def _row_years(grids: dict[str, Grid]) -> dict[int, int | None]:
    """Sheet row (1-based) of a rating → the year it rates, or None when unreadable."""
    raw = normalize_tab(grids, commune_layout()["ratings"])
    years: dict[int, int | None] = {}
    for row, value in zip(raw.frame["_row"], raw.frame.get("year", []), strict=False):
        try:
            years[row] = parse_year(value)
        except (BadValue, TypeError):
            years[row] = None
    return years


def replay(
    root: Path, *, scale: str = "district", out: TextIO | None = None, history: bool = False
) -> SyncResult:
    """Build the demo project, then sync it once a month through the demo year."""
    config = load_config(build_demo_project(root, scale=scale, history=history))
    # The demo starts from scratch: a state store left by an earlier demo in the same folder
    # would make the replayed months look like sudden drops.
    for path in config.state_path.parent.glob(config.state_path.name + "*"):
        path.unlink()
    communes = _project(scale, history).communes
    rng = random.Random(f"{SEED}:late")
    late_codes = set(rng.sample(sorted(communes), k=max(1, len(communes) // 8)))
    written: dict[str, dict[str, Grid]] = {}
    periods = {code: _Periods.of(grids) for code, grids in communes.items()}
    times = sync_times(history)
    result = None
    for i, when in enumerate(times):
        final = i == len(times) - 1
        for code, grids in communes.items():
            share = HABITUALLY_LATE if code in late_codes else OCCASIONALLY_LATE
            visible = _visible(grids, code, when, share, final, periods[code])
            if written.get(code) != visible:
                write_workbook(config.communes_dir / f"{code}.xlsx", visible)
                written[code] = visible
        result = run_sync(config, now=when)
        if out is not None:
            print(
                f"  {when:%d/%m/%Y}: đọc {result.communes_read} xã, "
                f"nhận {result.rows_accepted} dòng",
                file=out,
            )
    assert result is not None
    return result


def run_demo(
    root: Path, *, scale: str = "district", out: TextIO | None = None, history: bool = False
) -> SyncResult:
    """``namcoso demo``: replay the demo year and print the last sync's summary."""
    from ..report import print_sync

    if out is not None:
        print(
            f"Tạo dự án mẫu trong {root} và đồng bộ lại từng tháng, "
            f"{FIRST_YEAR if history else YEAR}-{YEAR}:",
            file=out,
        )
    result = replay(root, scale=scale, out=out, history=history)
    if out is not None:
        print_sync(result, out)
    return result
