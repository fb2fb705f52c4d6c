"""Summarize: the master's statistics tabs from the combined tables.

Pure pandas: every function takes DataFrames and the rules, and returns a DataFrame
whose columns are the keys of the tab in ``templates/master.toml``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

import numpy as np
import pandas as pd

from .config import Rules
from .layout import master_layout, vocab
from .registry import Registry
from .values import map_distinct

DISTRICT = "Toàn huyện"
RATING_CODES = [r.code for r in vocab().ratings]
#: ``mappings/vocab.toml`` lists the ratings best first.
EXCELLENT = RATING_CODES[0]


@dataclass(frozen=True)
class CommuneState:
    """How a commune's sheet fared on the last run, for ``Tiến độ báo cáo``."""

    status: str = "ok"  # "ok" | "unreadable" | "held" | "never"
    last_read: datetime | None = None


def _share(numerator: pd.Series, denominator: pd.Series) -> pd.Series:
    num = pd.to_numeric(numerator, errors="coerce").astype(float)
    den = pd.to_numeric(denominator, errors="coerce").astype(float)
    return (num / den).where(den > 0)


def _columns(tab_key: str, frame: pd.DataFrame) -> pd.DataFrame:
    keys = master_layout()[tab_key].keys
    for k in keys:
        if k not in frame:
            frame[k] = None
    return frame[keys].reset_index(drop=True)


def rating_stats(
    ratings: pd.DataFrame, registry: Registry, total_label: str = DISTRICT
) -> pd.DataFrame:
    """Commune × year counts of the four ratings, then one total row per year (named
    ``total_label``: ``Toàn huyện``, or ``Toàn tỉnh`` for a province's master)."""
    years = sorted(int(y) for y in pd.unique(ratings["year"].dropna()))
    cells = registry.hamlets.groupby("commune_code").size()
    communes = registry.communes[["code", "name"]]
    if not years or communes.empty:
        return _columns("rating_stats", pd.DataFrame())
    grid = pd.MultiIndex.from_product([communes["code"], years], names=["commune_code", "year"])
    counts = (
        ratings.assign(year=ratings["year"].astype(int))
        .pivot_table(index=["commune_code", "year"], columns="rating", aggfunc="size", fill_value=0)
        .reindex(index=grid, columns=RATING_CODES, fill_value=0)
    )
    out = counts.reset_index()
    out["cells"] = out["commune_code"].map(cells).fillna(0).astype(int)
    out["unrated"] = (out["cells"] - out[RATING_CODES].sum(axis=1)).clip(lower=0)
    out["commune_name"] = out["commune_code"].map(registry.commune_names)
    totals = out.groupby("year", as_index=False)[[*RATING_CODES, "unrated", "cells"]].sum()
    totals["commune_code"] = ""
    totals["commune_name"] = total_label
    out = pd.concat([out, totals], ignore_index=True)
    out["excellent_share"] = _share(out[EXCELLENT], out[RATING_CODES].sum(axis=1))
    return _columns("rating_stats", out)


def expected_months(rules: Rules, data_months: pd.Series, now: date) -> list[str]:
    """The reporting period: from ``period_start`` (or the first month in the data, or
    January of this year) to this month."""
    current = f"{now.year:04d}-{now.month:02d}"
    known = sorted(m for m in pd.unique(data_months.dropna()) if m <= current)
    start = rules.period_start or (known[0] if known else f"{now.year:04d}-01")
    months = pd.period_range(start, current, freq="M")
    return [str(p) for p in months]


def due_date(month: str, rules: Rules) -> date:
    """The last day on which a month's report is on time: day N of the next month."""
    year, mon = int(month[:4]), int(month[5:])
    year, mon = (year + 1, 1) if mon == 12 else (year, mon + 1)
    return date(year, mon, rules.report_deadline_day)


def meeting_stats(meetings: pd.DataFrame, registry: Registry, rules: Rules, months: list[str]):
    """Hamlet × year: months reported, meetings held, attendance, flags.

    ``months`` are the months whose report is due: a missing one counts as missing.
    """
    hamlets = (
        registry.hamlets[["code", "commune_code", "name"]]
        .rename(columns={"code": "hamlet_code", "name": "hamlet_name"})
        .sort_values(["commune_code", "hamlet_code"])  # the output's order: sort the few
    )
    reported_months = meetings["month"].dropna().unique()
    years = sorted({m[:4] for m in months} | {m[:4] for m in reported_months})
    if hamlets.empty or not years:
        return _columns("meeting_stats", pd.DataFrame())
    expected_by_year = pd.Series([m[:4] for m in months]).value_counts()
    m = meetings.assign(
        year=map_distinct(meetings["month"], lambda m: m[:4]),
        held=meetings["meeting_date"].notna(),
        below=(meetings["attendance"] < rules.attendance_threshold),
        committee=meetings["committee_met"].astype(bool) & meetings["meeting_date"].notna(),
        due_month=meetings["month"].where(meetings["month"].isin(months)),
    )
    g = m.groupby(["hamlet_code", "year"])
    stats = pd.DataFrame(
        {
            "months_reported": g["month"].nunique(),
            "due_reported": g["due_month"].nunique(),
            "meetings": g["held"].sum(),
            "avg_attendance": g["attendance"].mean(),
            "months_below": g["below"].sum(),
            "committee_meetings": g["committee"].sum(),
        }
    )
    grid = hamlets.merge(pd.DataFrame({"year": years}), how="cross")
    out = grid.merge(stats.reset_index(), on=["hamlet_code", "year"], how="left")
    for col in (
        "months_reported",
        "due_reported",
        "meetings",
        "months_below",
        "committee_meetings",
    ):
        out[col] = out[col].fillna(0).astype(int)
    out["committee_share"] = _share(out["committee_meetings"], out["meetings"])
    expected = out["year"].map(expected_by_year).fillna(0).astype(int)
    missing = (expected - out["due_reported"]).clip(lower=0)  # a month not yet due hides none
    not_met = out["months_reported"] - out["meetings"]
    threshold = f"{rules.attendance_threshold:.0%}"
    parts = [
        np.where(missing > 0, "Thiếu báo cáo " + missing.astype(str) + " tháng", ""),
        np.where(not_met > 0, "Không sinh hoạt " + not_met.astype(str) + " tháng", ""),
        np.where(
            out["months_below"] > 0,
            "Dự dưới " + threshold + ": " + out["months_below"].astype(str) + " tháng",
            "",
        ),
    ]
    out["warning"] = ["; ".join(p for p in row if p) for row in zip(*parts, strict=True)]
    out["year"] = out["year"].astype(int)
    out["commune_name"] = out["commune_code"].map(registry.commune_names)
    return _columns("meeting_stats", out)  # hamlets in order, each with its years in order


def cadre_stats(meetings: pd.DataFrame, registry: Registry, rules: Rules) -> pd.DataFrame:
    """Each assigned cadre's attendance at their hamlets' meetings, then coverage gaps."""
    a = registry.assignments[["cadre_code", "unit"]].drop_duplicates()
    unit_names = pd.concat(
        [
            registry.commune_names,
            registry.hamlet_names_by_code,
        ]
    )
    unit_names = unit_names[~unit_names.index.duplicated()]
    held = meetings[meetings["meeting_date"].notna()]
    per_hamlet = held.groupby("hamlet_code").agg(
        meetings=("hamlet_code", "size"), attended=("cadre_attended", "sum")
    )
    hamlet_codes = set(registry.hamlets["code"])
    a = a.assign(
        known=a["unit"].isin(unit_names.index),
        on_hamlet=a["unit"].isin(hamlet_codes),
        label=(a["unit"] + " " + a["unit"].map(unit_names).fillna("")).str.strip(),
    )
    a = a.join(per_hamlet, on="unit")
    by_cadre = a.groupby("cadre_code", sort=True)
    out = pd.DataFrame(
        {
            "unit": _joined_by(a["cadre_code"], a["label"]),
            "meetings": by_cadre["meetings"].sum(min_count=1),
            "attended": by_cadre["attended"].sum(min_count=1),
            "on_hamlets": by_cadre["on_hamlet"].any(),
            "unknown": by_cadre.apply(
                lambda g: ", ".join(g.loc[~g["known"], "unit"]), include_groups=False
            )
            if (~a["known"]).any()
            else "",
        }
    )
    out["meetings"] = out["meetings"].where(out["on_hamlets"]).fillna(0).where(out["on_hamlets"])
    out["attended"] = out["attended"].where(out["on_hamlets"]).fillna(0).where(out["on_hamlets"])
    out["attendance"] = _share(out["attended"], out["meetings"])
    cadres = registry.cadres.set_index("code")
    out["cadre_name"] = out.index.map(cadres["name"]).fillna("")
    out["level"] = out.index.map(cadres["level"]).fillna("")
    limit = f"{rules.cadre_attendance_threshold:.0%}"
    low = out["attendance"] < rules.cadre_attendance_threshold
    warnings = [
        np.where(
            low,
            "Dự dưới "
            + limit
            + " số buổi sinh hoạt ("
            + out["attended"].fillna(0).astype(int).astype(str)
            + "/"
            + out["meetings"].fillna(0).astype(int).astype(str)
            + ")",
            "",
        ),
        np.where(out["unknown"] != "", "Đơn vị không có trong danh mục: " + out["unknown"], ""),
        np.where(~out.index.isin(cadres.index), "Mã cán bộ không có trong trang Cán bộ", ""),
    ]
    out["warning"] = ["; ".join(w for w in row if w) for row in zip(*warnings, strict=True)]
    for key in ("meetings", "attended"):
        out[key] = out[key].astype("Int64")
    out = out.rename_axis("cadre_code").reset_index()
    gaps = [
        _unassigned(registry.hamlets, a["unit"], "Ấp/khu phố chưa có cán bộ huyện phụ trách"),
        _unassigned(registry.communes, a["unit"], "Xã chưa có cán bộ tỉnh phụ trách"),
    ]
    return _columns("cadre_stats", pd.concat([out, *gaps], ignore_index=True))


def _joined_by(keys: pd.Series, texts: pd.Series) -> pd.Series:
    """``texts`` joined with "; " per key, in row order (by key, sorted)."""
    groups: dict[str, list[str]] = {}
    for key, text in zip(keys.tolist(), texts.tolist(), strict=True):
        groups.setdefault(key, []).append(text)
    return pd.Series({k: "; ".join(v) for k, v in sorted(groups.items())}, dtype=object)


def _unassigned(units: pd.DataFrame, assigned: pd.Series, warning: str) -> pd.DataFrame:
    """A coverage-gap row for each unit (hamlet or commune) nobody is assigned to."""
    left = units[~units["code"].isin(assigned)]
    return pd.DataFrame(
        {"unit": (left["code"] + " " + left["name"]).to_numpy(dtype=object), "warning": warning}
    )


def household_stats(households: pd.DataFrame, registry: Registry) -> pd.DataFrame:
    """Hamlet: registry households against households followed by commune cadres."""
    h = registry.hamlets.rename(
        columns={"code": "hamlet_code", "name": "hamlet_name", "households": "registry_households"}
    )
    g = households.groupby("hamlet_code").agg(
        followed_households=("households", "sum"), cadres=("cadre", "nunique")
    )
    out = h.merge(g.reset_index(), on="hamlet_code", how="left")
    out["followed_households"] = out["followed_households"].fillna(0).astype(int)
    out["cadres"] = out["cadres"].fillna(0).astype(int)
    registry_h = pd.to_numeric(out["registry_households"], errors="coerce")
    out["share"] = _share(out["followed_households"], registry_h)
    gap = (registry_h - out["followed_households"]).fillna(0).astype(int)
    out["warning"] = np.where(
        gap > 0,
        gap.astype(str) + " hộ chưa có cán bộ xã phụ trách",
        np.where(registry_h.isna(), "Chưa có số hộ trong danh mục ấp", ""),
    )
    out["commune_name"] = out["commune_code"].map(registry.commune_names)
    return _columns("household_stats", out)


def support_stats(
    support: pd.DataFrame, registry: Registry, total_label: str = DISTRICT
) -> pd.DataFrame:
    """Commune × year × field: number and total value, then total rows (``total_label``)."""
    if support.empty:
        return _columns("support_stats", pd.DataFrame())
    s = support.assign(
        year=support["date"].map(lambda d: d.year), amount=support["amount"].astype(float)
    )
    out = s.groupby(["commune_code", "year", "field"], as_index=False).agg(
        count=("amount", "size"), total=("amount", "sum")
    )
    totals = out.groupby(["year", "field"], as_index=False)[["count", "total"]].sum()
    totals["commune_code"] = ""
    totals["commune_name"] = total_label
    out["commune_name"] = out["commune_code"].map(registry.commune_names)
    out = pd.concat([out, totals], ignore_index=True)
    out["total"] = out["total"].round().astype("int64")
    return _columns("support_stats", out)


STATUS_OK = "Đủ"
STATUS_LATE = "Trễ hạn"
STATUS_PARTIAL = "Thiếu"
STATUS_NONE = "Chưa nộp"
STATUS_NOT_DUE = "Chưa đến hạn"
STATUS_UNREADABLE = "Lỗi truy cập"
STATUS_STALE = "Dữ liệu cũ"


def progress(
    meetings: pd.DataFrame,
    registry: Registry,
    rules: Rules,
    months: list[str],
    first_seen: pd.DataFrame,
    states: dict[str, CommuneState],
    today: date,
) -> pd.DataFrame:
    """Commune × month: how many cells reported, whether on time, and the status."""
    communes = registry.communes[["code", "name"]].rename(
        columns={"code": "commune_code", "name": "commune_name"}
    )
    if communes.empty or not months:
        return _columns("progress", pd.DataFrame())
    expected = registry.hamlets.groupby("commune_code").size()
    reported = meetings.groupby(["commune_code", "month"])["hamlet_code"].nunique()
    seen = first_seen.rename(columns={"period": "month"})
    seen = seen[_among(seen, meetings, ["commune_code", "hamlet_code", "month"])]
    last_seen = seen.groupby(["commune_code", "month"])["seen"].max()
    grid = communes.merge(pd.DataFrame({"month": months}), how="cross")
    index = pd.MultiIndex.from_frame(grid[["commune_code", "month"]])
    grid["expected"] = grid["commune_code"].map(expected).fillna(0).astype(int)
    grid["reported"] = reported.reindex(index).fillna(0).astype(int).to_numpy()
    grid["completeness"] = _share(grid["reported"], grid["expected"])
    due_by_month = {m: due_date(m, rules) for m in months}
    due = grid["month"].map(due_by_month)
    latest = pd.to_datetime(last_seen.reindex(index).to_numpy())
    due_days = pd.to_datetime(due).to_numpy()
    on_time = np.asarray(latest.isna() | (latest.normalize().to_numpy() <= due_days))
    complete = grid["reported"] >= grid["expected"]
    past_due = due < today
    status = np.select(
        [complete & on_time, complete, ~past_due, grid["reported"] > 0],
        [STATUS_OK, STATUS_LATE, STATUS_NOT_DUE, STATUS_PARTIAL],
        STATUS_NONE,
    )
    grid["on_time"] = np.where(grid["reported"] == 0, "", np.where(on_time, "Có", "Không"))
    overrides = {"unreadable": STATUS_UNREADABLE, "held": STATUS_STALE}
    codes = communes["commune_code"]
    blank = CommuneState()
    state_of = {c: overrides.get(states.get(c, blank).status) for c in codes}
    state_status = grid["commune_code"].map(state_of)
    grid["status"] = np.where(state_status.notna(), state_status, status)
    grid["last_read"] = grid["commune_code"].map(
        {c: _when(states.get(c, blank).last_read) for c in codes}
    )
    return _columns("progress", grid)


def _among(rows: pd.DataFrame, reference: pd.DataFrame, keys: list[str]) -> np.ndarray:
    """Whether each row's ``keys`` occur together in some row of ``reference``.

    Each key becomes its position among ``reference``'s distinct values (its categories
    when categorical, as a run's meetings keys are), and the positions one integer, so
    a million rows are matched without a join on text.
    """
    ours = np.zeros(len(rows), dtype=np.int64)
    theirs = np.zeros(len(reference), dtype=np.int64)
    unknown = np.zeros(len(rows), dtype=bool)
    for key in keys:
        column = reference[key]
        if isinstance(column.dtype, pd.CategoricalDtype):
            codes, values = column.cat.codes.to_numpy(np.int64), column.cat.categories
        else:
            codes, values = pd.factorize(column)
            values = pd.Index(values)
        positions = values.get_indexer(rows[key])
        unknown |= positions < 0
        size = len(values) + 1  # codes and positions are -1 for a missing value
        ours = ours * size + positions + 1
        theirs = theirs * size + codes + 1
    return ~unknown & pd.Series(ours).isin(pd.unique(theirs)).to_numpy()


def _when(moment: datetime | None) -> str:
    return moment.strftime("%d/%m/%Y %H:%M") if moment else ""
