"""The report's figures for one year, from the master's tabs. Pure pandas, no I/O.

Every figure is read from (or counted in) a tab of the master, so a reader can find it
there: ratings from ``Thống kê xếp loại``, late and missing reports from ``Tiến độ báo
cáo``, resources from ``Thống kê hỗ trợ``, household coverage from ``Thống kê phân công
hộ``, cells under the attendance threshold from ``Thống kê sinh hoạt``. The assigned
cadres' attendance is counted per year from ``TH Sinh hoạt`` (each meeting names the cadre
assigned on its date), because the rule judges a cadre on one year's meetings, while
``Cán bộ phụ trách`` adds up every year the master holds.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import date

import pandas as pd

from ..config import Rules
from ..layout import vocab
from ..summarize import (
    STATUS_LATE,
    STATUS_NONE,
    STATUS_NOT_DUE,
    STATUS_OK,
    STATUS_PARTIAL,
    STATUS_STALE,
    STATUS_UNREADABLE,
)
from .tables import MasterTables

RATING_CODES = tuple(r.code for r in vocab().ratings)
#: The four ratings, best first (``mappings/vocab.toml``).
EXCELLENT, GOOD, DONE, FAILED = RATING_CODES
RATING_NAMES = {r.code: r.label for r in vocab().ratings}
RATING_LABELS = {r.label: r.code for r in vocab().ratings}
YES = vocab().yes_label


@dataclass(frozen=True)
class Assignment:
    """Who follows whom during the year (``Phân công``), and the gaps."""

    hamlets: int
    hamlets_covered: int
    district_cadres: int
    communes: int
    communes_covered: int
    provincial_cadres: int
    provincial_multi: int  # provincial cadres following more than one commune
    hamlets_uncovered: list[str] = field(default_factory=list)
    communes_uncovered: list[str] = field(default_factory=list)
    unknown_units: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class CellLine:
    commune: str
    hamlet: str
    months: int
    attendance: float | None


@dataclass(frozen=True)
class Meetings:
    cells: int
    cell_months: int  # reports received (hamlet × month)
    held: int
    not_held: int
    missing: int  # expected hamlet × month reports not received (past their deadline)
    attendance: float | None
    below: int  # meetings under the attendance threshold
    committee_share: float | None
    cells_below: list[CellLine] = field(default_factory=list)
    cells_not_held: list[CellLine] = field(default_factory=list)
    by_month: dict[int, float] = field(default_factory=dict)  # month → average attendance


@dataclass(frozen=True)
class CadreLine:
    code: str
    name: str
    hamlet: str
    commune: str
    meetings: int
    attended: int
    hamlet_code: str = ""
    commune_code: str = ""

    @property
    def share(self) -> float:
        return self.attended / self.meetings if self.meetings else 0.0


@dataclass(frozen=True)
class Cadres:
    judged: int  # district cadres with at least one meeting of their cell that year
    below: list[CadreLine] = field(default_factory=list)


@dataclass(frozen=True)
class ReportingLine:
    code: str
    commune: str
    late: int
    missing: int  # "Thiếu" + "Chưa nộp"
    unreadable: int  # "Lỗi truy cập" + "Dữ liệu cũ"
    on_time: int = 0  # "Đủ"


@dataclass(frozen=True)
class Reporting:
    commune_months: int  # commune × month whose deadline passed
    complete_on_time: int
    late: int
    partial: int
    none: int
    unreadable: int
    lines: list[ReportingLine] = field(default_factory=list)  # every commune, in order

    @property
    def missing(self) -> int:
        return self.partial + self.none

    @property
    def flagged(self) -> list[ReportingLine]:
        return [x for x in self.lines if x.late or x.missing or x.unreadable]


@dataclass(frozen=True)
class Support:
    by_field: list[tuple[str, int, int]]  # (field, count, total đồng)

    @property
    def count(self) -> int:
        return sum(c for _, c, _ in self.by_field)

    @property
    def total(self) -> int:
        return sum(t for _, _, t in self.by_field)


@dataclass(frozen=True)
class Households:
    registry: int
    followed: int
    hamlets: int
    hamlets_short: int
    commune_cadres: int
    lowest: list[tuple[str, float]] = field(default_factory=list)  # (unit, share)

    @property
    def share(self) -> float | None:
        return self.followed / self.registry if self.registry else None


@dataclass(frozen=True)
class Ratings:
    year: int
    counts: dict[str, int]
    unrated: int
    cells: int

    @property
    def rated(self) -> int:
        return sum(self.counts.values())

    def share(self, code: str) -> float | None:
        return self.counts[code] / self.cells if self.cells else None


@dataclass(frozen=True)
class UnitLine:
    """One row of the appendix: a commune (district report) or a hamlet cell."""

    name: str
    cells: int
    held: int
    attendance: float | None
    below: int
    cadres_below: int
    late: int | None
    missing: int
    ratings: dict[str, int]
    support: int
    households: float | None


@dataclass(frozen=True)
class YearFigures:
    year: int
    assignment: Assignment
    meetings: Meetings
    cadres: Cadres
    reporting: Reporting
    support: Support
    households: Households
    ratings: Ratings | None
    previous: Ratings | None
    units: list[UnitLine]


def has_data(tables: MasterTables, year: int, commune: str | None = None) -> bool:
    """Whether the master holds a meeting or a rating of this year (in this commune)."""
    m, r = tables["meetings"], tables["ratings"]
    if commune:
        m, r = m[m["commune_code"] == commune], r[r["commune_code"] == commune]
    return bool((m["month"].str[:4] == str(year)).any() or (r["year"] == year).any())


def year_figures(
    tables: MasterTables, year: int, rules: Rules, commune: str | None = None
) -> YearFigures:
    """Every figure of the report for one year, for the district or one commune."""
    t = _scoped(tables, commune)
    meetings = t["meetings"][t["meetings"]["month"].str[:4] == str(year)]
    progress = t["progress"][t["progress"]["month"].str[:4] == str(year)]
    cadres = _cadres(tables, meetings, rules)
    return YearFigures(
        year=year,
        assignment=_assignment(tables, year, commune),
        meetings=_meetings(t, meetings, progress, year, rules),
        cadres=cadres,
        reporting=_reporting(t, progress),
        support=_support(t, year, commune),
        households=_households(t, commune),
        ratings=_ratings(t, year, commune),
        previous=_ratings(t, year - 1, commune),
        units=_units(tables, t, year, meetings, progress, cadres, commune),
    )


def _scoped(tables: MasterTables, commune: str | None) -> dict[str, pd.DataFrame]:
    if not commune:
        return dict(tables.tabs)
    out = {}
    for key, frame in tables.tabs.items():
        if "commune_code" in frame:
            frame = frame[frame["commune_code"] == commune]
        out[key] = frame
    return out


def _active(assignments: pd.DataFrame, year: int) -> pd.DataFrame:
    """Assignments that hold at some time during the year."""
    start, end = date(year, 1, 1), date(year, 12, 31)

    def holds(row) -> bool:
        begins, ends = row["start"], row["end"]
        return (pd.isna(begins) or _day(begins) <= end) and (pd.isna(ends) or _day(ends) >= start)

    if assignments.empty:
        return assignments
    return assignments[assignments.apply(holds, axis=1)]


def _day(value) -> date:
    return value.date() if hasattr(value, "date") and callable(value.date) else value


def _assignment(tables: MasterTables, year: int, commune: str | None) -> Assignment:
    reg = tables.registry
    hamlets = reg.hamlets if not commune else reg.hamlets[reg.hamlets["commune_code"] == commune]
    communes = reg.communes if not commune else reg.communes[reg.communes["code"] == commune]
    a = _active(reg.assignments, year)
    levels = reg.cadres.set_index("code")["level"]
    on_hamlets = a[a["unit"].isin(hamlets["code"])]
    on_communes = a[a["unit"].isin(communes["code"])]
    known = set(reg.hamlets["code"]) | set(reg.communes["code"])
    unknown = a[~a["unit"].isin(known)]
    if commune:
        unknown = unknown.iloc[0:0]
    provincial = on_communes[on_communes["cadre_code"].map(levels) != "Huyện"]
    per_provincial = provincial.groupby("cadre_code")["unit"].nunique()
    names = reg.commune_names
    return Assignment(
        hamlets=len(hamlets),
        hamlets_covered=int(hamlets["code"].isin(on_hamlets["unit"]).sum()),
        district_cadres=int(on_hamlets["cadre_code"].nunique()),
        communes=len(communes),
        communes_covered=int(communes["code"].isin(on_communes["unit"]).sum()),
        provincial_cadres=int(provincial["cadre_code"].nunique()),
        provincial_multi=int((per_provincial > 1).sum()),
        hamlets_uncovered=[
            f"{n} ({names.get(c, c)})"
            for code, c, n in zip(
                hamlets["code"], hamlets["commune_code"], hamlets["name"], strict=True
            )
            if code not in set(on_hamlets["unit"])
        ],
        communes_uncovered=[
            n
            for c, n in zip(communes["code"], communes["name"], strict=True)
            if c not in set(on_communes["unit"])
        ],
        unknown_units=sorted(
            {f"{k} → {u}" for k, u in zip(unknown["cadre_code"], unknown["unit"], strict=True)}
        ),
    )


def _due(progress: pd.DataFrame) -> pd.DataFrame:
    return progress[progress["status"] != STATUS_NOT_DUE]


def _meetings(t, meetings, progress, year: int, rules: Rules) -> Meetings:
    held = meetings[meetings["meeting_date"].notna()]
    stats = t["meeting_stats"][t["meeting_stats"]["year"] == year]
    due = _due(progress)
    below = stats[stats["months_below"] > 0].sort_values(
        ["months_below", "avg_attendance"], ascending=[False, True]
    )
    skipped = stats.assign(skipped=stats["months_reported"] - stats["meetings"])
    skipped = skipped[skipped["skipped"] > 0].sort_values("skipped", ascending=False)
    attendance = held["attendance"].dropna()
    return Meetings(
        cells=int(stats["hamlet_code"].nunique()),
        cell_months=len(meetings),
        held=len(held),
        not_held=len(meetings) - len(held),
        missing=int((due["expected"] - due["reported"]).clip(lower=0).sum()),
        attendance=float(attendance.mean()) if len(attendance) else None,
        below=int((attendance < rules.attendance_threshold).sum()),
        committee_share=float((held["committee_met"] == YES).mean()) if len(held) else None,
        cells_below=[_cell(r, r["months_below"]) for _, r in below.iterrows()],
        cells_not_held=[_cell(r, r["skipped"]) for _, r in skipped.iterrows()],
        by_month={
            int(month[5:]): float(v)
            for month, v in held.groupby("month")["attendance"].mean().dropna().items()
        },
    )


def _cell(row, months) -> CellLine:
    attendance = row["avg_attendance"]
    return CellLine(
        row["commune_name"],
        row["hamlet_name"],
        int(months),
        None if pd.isna(attendance) else float(attendance),
    )


def _cadres(tables: MasterTables, meetings: pd.DataFrame, rules: Rules) -> Cadres:
    held = meetings[(meetings["meeting_date"].notna()) & (meetings["cadre_name"] != "")]
    if held.empty:
        return Cadres(0)
    g = (
        held.assign(attended=held["cadre_attended"] == YES)
        .groupby(["hamlet_code", "cadre_name"], sort=False)
        .agg(
            meetings=("attended", "size"),
            attended=("attended", "sum"),
            hamlet=("hamlet_name", "first"),
            commune=("commune_name", "first"),
            commune_code=("commune_code", "first"),
        )
        .reset_index()
    )
    codes = _cadre_codes(tables)
    lines = [
        CadreLine(
            codes.get((r.hamlet_code, r.cadre_name), ""),
            r.cadre_name,
            r.hamlet,
            r.commune,
            int(r.meetings),
            int(r.attended),
            r.hamlet_code,
            r.commune_code,
        )
        for r in g.itertuples()
        if r.attended < rules.cadre_attendance_threshold * r.meetings
    ]
    lines.sort(key=lambda x: (x.share, x.commune, x.hamlet))
    return Cadres(len(g), lines)


def _cadre_codes(tables: MasterTables) -> dict[tuple[str, str], str]:
    """(hamlet code, cadre name) → cadre code, from ``Phân công`` and ``Cán bộ``."""
    reg = tables.registry
    names = reg.cadres.set_index("code")["name"]
    a = reg.assignments
    return {(u, names.get(c, "")): c for c, u in zip(a["cadre_code"], a["unit"], strict=True)}


def _reporting(t, progress: pd.DataFrame) -> Reporting:
    due = _due(progress)
    status = due["status"]
    lines = []
    for (code, name), g in due.groupby(["commune_code", "commune_name"], sort=False):
        s = g["status"]
        lines.append(
            ReportingLine(
                code,
                name,
                int((s == STATUS_LATE).sum()),
                int(s.isin([STATUS_PARTIAL, STATUS_NONE]).sum()),
                int(s.isin([STATUS_UNREADABLE, STATUS_STALE]).sum()),
                int((s == STATUS_OK).sum()),
            )
        )
    return Reporting(
        commune_months=len(due),
        complete_on_time=int((status == STATUS_OK).sum()),
        late=int((status == STATUS_LATE).sum()),
        partial=int((status == STATUS_PARTIAL).sum()),
        none=int((status == STATUS_NONE).sum()),
        unreadable=int(status.isin([STATUS_UNREADABLE, STATUS_STALE]).sum()),
        lines=lines,
    )


def _total_rows(frame: pd.DataFrame, commune: str | None) -> pd.DataFrame:
    """The scope's own rows of a statistics tab: the total rows (no commune code: "Toàn
    huyện", or "Toàn tỉnh" for a province's master), or the commune's."""
    return frame[frame["commune_code"] == (commune or "")]


def _support(t, year: int, commune: str | None) -> Support:
    s = _total_rows(t["support_stats"], commune)
    s = s[s["year"] == year]
    order = {label: i for i, label in enumerate(vocab().field_labels)}
    rows = sorted(
        ((f, int(c), int(v)) for f, c, v in zip(s["field"], s["count"], s["total"], strict=True)),
        key=lambda x: order.get(x[0], len(order)),
    )
    return Support(rows)


def _households(t, commune: str | None) -> Households:
    h = t["household_stats"]
    registry = h["registry_households"].fillna(0)
    followed = h["followed_households"].fillna(0).clip(upper=registry.where(registry > 0))
    per = h.assign(registry=registry, followed=followed.fillna(h["followed_households"]))
    key = "hamlet_name" if commune else "commune_name"
    by = per.groupby(key, sort=False)[["registry", "followed"]].sum()
    by = by[by["registry"] > 0]
    shares = (by["followed"] / by["registry"]).sort_values()
    cadres = t["households"]
    return Households(
        registry=int(registry.sum()),
        followed=int(per["followed"].sum()),
        hamlets=len(h),
        hamlets_short=int((h["followed_households"].fillna(0) < registry).sum()),
        commune_cadres=int(cadres[["commune_code", "cadre"]].drop_duplicates().shape[0]),
        lowest=[(name, float(v)) for name, v in shares.head(3).items() if v < 1],
    )


def _ratings(t, year: int, commune: str | None) -> Ratings | None:
    r = _total_rows(t["rating_stats"], commune)
    r = r[r["year"] == year]
    if r.empty:
        return None
    row = r.iloc[0]
    counts = {code: int(row[code]) for code in RATING_CODES}
    if not sum(counts.values()):
        return None
    return Ratings(year, counts, int(row["unrated"]), int(row["cells"]))


def _units(tables, t, year, meetings, progress, cadres: Cadres, commune) -> list[UnitLine]:
    """The appendix: one line per commune (district) or per hamlet cell (one commune)."""
    key = "hamlet_code" if commune else "commune_code"
    reg = tables.registry
    if commune:
        units = reg.hamlets[reg.hamlets["commune_code"] == commune][["code", "name"]]
    else:
        units = reg.communes[["code", "name"]]
    held = meetings[meetings["meeting_date"].notna()]
    attendance = held.groupby(key)["attendance"].mean()
    held_n = held.groupby(key).size()
    stats = t["meeting_stats"][t["meeting_stats"]["year"] == year]
    below = stats.groupby(key)["months_below"].sum()
    cells = reg.hamlets.groupby("commune_code").size()
    cadre_counts = Counter(c.hamlet_code if commune else c.commune_code for c in cadres.below)
    due = _due(progress)
    late = due[due["status"] == STATUS_LATE].groupby("commune_code").size()
    missing_c = (
        due[due["status"].isin([STATUS_PARTIAL, STATUS_NONE])].groupby("commune_code").size()
    )
    due_months = len(set(due["month"]))
    reported = stats.groupby(key)["months_reported"].sum()
    ratings = _unit_ratings(t, year, commune)
    support = _unit_support(t, year, commune)
    households = _unit_households(t, key)
    lines = []
    for code, label in zip(units["code"], units["name"], strict=True):
        lines.append(
            UnitLine(
                name=label,
                cells=1 if commune else int(cells.get(code, 0)),
                held=int(held_n.get(code, 0)),
                attendance=_float(attendance.get(code)),
                below=int(below.get(code, 0)),
                cadres_below=cadre_counts.get(code, 0),
                late=None if commune else int(late.get(code, 0)),
                missing=(
                    max(0, due_months - int(reported.get(code, 0)))
                    if commune
                    else int(missing_c.get(code, 0))
                ),
                ratings=ratings.get(code, dict.fromkeys(RATING_CODES, 0)),
                support=int(support.get(code, 0)),
                households=households.get(code),
            )
        )
    return lines


def _float(value) -> float | None:
    return None if value is None or pd.isna(value) else float(value)


def _unit_ratings(t, year: int, commune: str | None) -> dict[str, dict[str, int]]:
    if commune:
        r = t["ratings"][t["ratings"]["year"] == year]
        out: dict[str, dict[str, int]] = {}
        for code, label in zip(r["hamlet_code"], r["rating"], strict=True):
            counts = out.setdefault(code, dict.fromkeys(RATING_CODES, 0))
            if label in RATING_LABELS:
                counts[RATING_LABELS[label]] += 1
        return out
    s = t["rating_stats"]
    s = s[(s["year"] == year) & (s["commune_code"] != "")]
    return {
        code: {k: int(v) for k, v in zip(RATING_CODES, row, strict=True)}
        for code, *row in zip(s["commune_code"], *(s[k] for k in RATING_CODES), strict=True)
    }


def _unit_support(t, year: int, commune: str | None) -> pd.Series:
    if commune:
        s = t["support"]
        s = s[s["date"].map(lambda d: d is not None and d.year == year)]
        return s.groupby("hamlet_code")["amount"].sum()
    s = t["support_stats"]
    s = s[(s["year"] == year) & (s["commune_code"] != "")]
    return s.groupby("commune_code")["total"].sum()


def _unit_households(t, key: str) -> dict[str, float]:
    h = t["household_stats"]
    g = h.groupby(key)[["registry_households", "followed_households"]].sum()
    g = g[g["registry_households"] > 0]
    share = (g["followed_households"] / g["registry_households"]).clip(upper=1)
    return {k: float(v) for k, v in share.items()}
