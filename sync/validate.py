"""Validate: parse a commune's normalized tabs and check them against the registry.

Returns the accepted rows (typed values, the hamlet code, the source cell) and the
findings. Checks are column-wise over the whole tab; only the rows that fail are visited
one by one, to build their findings. A bad cell rejects its row, never the tab, and never
stops the run.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import numpy as np
import pandas as pd

from .findings import Finding, finding
from .layout import Tab, commune_layout
from .normalize import RawTable, object_frame
from .registry import HELD_PREFIX, NO_MATCH, Registry, name_key
from .text import closest
from .values import PARSERS, BadValue, map_distinct, parse_column, parse_text

FORMULA_STARTS = ("=", "+", "-", "@")
#: Columns where a blank cell is allowed although the column is required in the template.
BLANK_ALLOWED = {("meetings", "meeting_date"), ("meetings", "present")}


class Tables(Mapping[str, pd.DataFrame]):
    """One commune's accepted tables, each a run of rows in a frame shared by the communes
    validated together.

    Reading a table (``tables["meetings"]``) gives a frame of its own; the merge takes the
    shared frames whole (:meth:`part`), so a large run never builds a frame per commune.
    """

    def __init__(self) -> None:
        self._parts: dict[str, tuple[pd.DataFrame, int, int]] = {}
        self._columns: dict[str, dict[tuple[str, bool], np.ndarray]] = {}

    def add(
        self,
        key: str,
        frame: pd.DataFrame,
        start: int = 0,
        end: int | None = None,
        columns: dict[tuple[str, bool], np.ndarray] | None = None,
    ) -> None:
        """Add a table: rows ``start:end`` of ``frame``. Tables sharing a frame may share
        ``columns`` too, a cache of its columns as object arrays (see :meth:`column`)."""
        self._parts[key] = (frame, start, len(frame) if end is None else end)
        self._columns[key] = {} if columns is None else columns

    def part(self, key: str) -> tuple[pd.DataFrame, int, int]:
        """(shared frame, first row, end row) of one table."""
        return self._parts[key]

    def rows(self, key: str) -> int:
        _, start, end = self._parts[key]
        return end - start

    def column(self, key: str, column: str, text: bool = False) -> np.ndarray:
        """One column of one table as an object array (``text``: each value as ``str``),
        without building the table. The shared frame's column is converted once for all
        the tables that share it."""
        frame, start, end = self._parts[key]
        cache = self._columns[key]
        values = cache.get((column, text))
        if values is None:
            values = frame[column].to_numpy(dtype=object)
            if text and pd.api.types.infer_dtype(values, skipna=False) != "string":
                values = np.array(list(map(str, values)), dtype=object)
            cache[(column, text)] = values
        return values[start:end]

    def __getitem__(self, key: str) -> pd.DataFrame:
        frame, start, end = self._parts[key]
        if start == 0 and end == len(frame):
            return frame
        return frame.iloc[start:end].reset_index(drop=True)

    def __contains__(self, key: object) -> bool:
        return key in self._parts

    def __iter__(self) -> Iterator[str]:
        return iter(self._parts)

    def __len__(self) -> int:
        return len(self._parts)


def row_count(tables: Mapping[str, pd.DataFrame]) -> int:
    """Rows over all tables (without building frames for :class:`Tables`)."""
    if isinstance(tables, Tables):
        return sum(tables.rows(k) for k in tables)
    return sum(len(t) for t in tables.values())


@dataclass
class CommuneResult:
    """What one commune sheet contributed to a run."""

    commune: str
    tables: Tables = field(default_factory=Tables)
    findings: list[Finding] = field(default_factory=list)
    rejected: int = 0

    @property
    def accepted(self) -> int:
        return row_count(self.tables)


def _shown(value: Any) -> str:
    if value is None or (isinstance(value, float) and value != value):
        return ""
    return parse_text(value)


def _shown_param(value: Any) -> str:
    """A message parameter: text as given (spacing kept), anything else as shown."""
    return value if isinstance(value, str) else _shown(value)


def _field(value: Any, pos: int) -> Any:
    """A finding's message field at one row: per-row arrays are indexed, functions called
    (so a field is only computed for the rows that fail)."""
    if callable(value):
        return value(pos)
    if isinstance(value, np.ndarray | list):
        return value[pos]
    return value


def _month_label(month: Any) -> str:
    return f"{month[5:]}/{month[:4]}" if isinstance(month, str) and month else ""


class _TabCheck:
    """One input tab of many communes at once: the rows, their findings and rejections.

    ``frame`` holds every commune's rows of the tab, ``_src`` says which (commune, title as
    found, column letters) each row came from, so a finding names the commune's own cell.
    """

    def __init__(self, tab: Tab, raws: list[tuple[str, RawTable]]) -> None:
        self.tab = tab
        self.sources = [(commune, raw.title, raw.letters) for commune, raw in raws]
        rows: list[list[Any]] = []
        numbers: list[int] = []
        src: list[int] = []
        for i, (_, raw) in enumerate(raws):
            rows.extend(raw.rows)
            numbers.extend(raw.row_numbers)
            src.extend([i] * len(raw.rows))
        self.frame = object_frame(rows, tab.keys)
        self.rows = np.array(numbers, dtype=np.int64)
        self.src = np.array(src, dtype=np.int64)
        #: Each sheet's commune, and each row's.
        self.sheet_communes = np.array([c for c, _, _ in self.sources] or [""], dtype=object)
        self.communes = self.sheet_communes[self.src]
        self.bad = np.zeros(len(self.frame), dtype=bool)
        self.findings: list[Finding] = []

    def add(self, code: str, key: str, positions, *, reject: bool = True, **fields) -> None:
        raw_values = self.frame[key].to_numpy() if key in self.frame else None
        for pos in np.flatnonzero(positions) if isinstance(positions, np.ndarray) else positions:
            extra = {k: _shown_param(_field(v, pos)) for k, v in fields.items()}
            value = extra.pop("value", _shown(raw_values[pos]) if raw_values is not None else "")
            commune, title, letters = self.sources[self.src[pos]]
            row = int(self.rows[pos])
            self.findings.append(
                finding(
                    code,
                    commune=commune,
                    tab=title,
                    cell=f"{letters.get(key, 'A')}{row}",
                    row=row,
                    value=value,
                    **extra,
                )
            )
            if reject:
                self.bad[pos] = True


def _resolve_hamlets(check: _TabCheck, registry: Registry) -> pd.Series:
    """Hamlet text → hamlet code of the row's own commune, read as SPEC "Names are
    identities" says; findings for names read loosely, ambiguous, unknown or foreign.
    Each distinct (sheet, text) is matched once."""
    texts = check.frame["hamlet"]
    text_codes, text_uniques = pd.factorize(texts, use_na_sentinel=True)
    shown = [_shown(v) for v in text_uniques]
    n_texts = len(shown) + 1  # the last: NA hamlet text
    pair_codes, pairs = pd.factorize(
        check.src * n_texts + np.where(text_codes < 0, len(shown), text_codes)
    )
    pair_texts = (pairs % n_texts).tolist()
    pair_communes = check.sheet_communes[pairs // n_texts].tolist()
    matches = [
        registry.match_hamlet(commune, shown[t]) if t < len(shown) else NO_MATCH
        for commune, t in zip(pair_communes, pair_texts, strict=True)
    ]
    lookup = np.array([m.code for m in matches] + [None], dtype=object)
    resolved = lookup[pair_codes]
    text_index = np.where(text_codes < 0, len(shown), text_codes)
    row_texts = np.array([*shown, ""], dtype=object)[text_index]
    missing = np.array([not t.strip() for t in shown] + [True], dtype=bool)[text_index]
    plain = np.array(
        [m.how == "exact" and not m.codes[0].startswith(HELD_PREFIX) for m in matches] + [True]
    )
    column = check.tab.column("hamlet").header
    check.add("missing_value", "hamlet", missing, column=column, expected="tên ấp/khu phố")
    first_row: dict[int, int] = {}
    elsewhere_of: dict[int, list[str]] = {}
    counts = np.bincount(pair_codes, minlength=len(pairs))
    for pos in np.flatnonzero(~missing & ~plain[pair_codes]):
        pair = pair_codes[pos]
        match = matches[pair]
        commune, text = check.communes[pos], row_texts[pos]
        if match.how == "loose" and not match.codes[0].startswith(HELD_PREFIX):
            if pair not in elsewhere_of:
                owners = registry.owners(text, exact=True)
                elsewhere_of[pair] = [c for c in owners if c != commune]
            elsewhere = elsewhere_of[pair]
            if elsewhere:  # exactly another commune's hamlet: not read as one of ours
                check.add(
                    "foreign_hamlet", "hamlet", [pos], other=registry.commune_name(elsewhere[0])
                )
                continue
            if pair not in first_row:  # one warning per name as typed, at its first cell
                first_row[pair] = pos
                check.add(
                    "name_read_loosely",
                    "hamlet",
                    [pos],
                    reject=False,
                    name=match.names[0],
                    count=int(counts[pair]),
                )
            continue
        if match.code is not None:  # a hamlet whose code the registry gives twice
            resolved[pos] = None
            check.add("hamlet_code_held", "hamlet", [pos])
        elif match.how == "ambiguous":
            candidates = " hoặc ".join(f'"{n}"' for n in match.names)
            check.add("ambiguous_name", "hamlet", [pos], candidates=candidates)
        else:
            others = [c for c in registry.owners(text) if c != commune]
            if others:
                check.add("foreign_hamlet", "hamlet", [pos], other=registry.commune_name(others[0]))
            else:
                guesses = closest(name_key(text), registry.hamlet_names(commune))
                hint = (
                    " Có phải " + " hoặc ".join(f'"{g}"' for g in guesses) + "?" if guesses else ""
                )
                check.add("unknown_hamlet", "hamlet", [pos], suggestion=hint)
    resolved[np.flatnonzero(missing)] = None
    return pd.Series(resolved, index=texts.index, dtype=object)


def _parse_columns(check: _TabCheck) -> dict[str, pd.Series]:
    tab = check.tab
    parsed: dict[str, pd.Series] = {}
    for column in tab.columns:
        if column.key == "hamlet":
            continue
        result = parse_column(check.frame[column.key], PARSERS[column.type])
        values = parsed[column.key] = result.values
        has_problem = result.bad
        for pos in np.flatnonzero(has_problem):
            problem: BadValue = result.problem(pos)
            check.add(
                problem.code,
                column.key,
                [pos],
                column=column.header,
                expected=problem.expected,
                example=problem.example,
            )
        blank = result.missing & ~has_problem
        if column.required and (tab.key, column.key) not in BLANK_ALLOWED:
            if column.type == "yesno":
                parsed[column.key] = values.where(~blank, False)
            else:
                what = f"{column.header.lower()}"
                check.add("missing_value", column.key, blank, column=column.header, expected=what)
        elif column.type == "yesno":
            parsed[column.key] = values.where(~blank, False)
        if column.type == "text":
            starts = result.map_distinct(_looks_like_formula, False, bool)
            for pos in np.flatnonzero(starts):
                first = str(check.frame[column.key].iloc[pos]).lstrip()[0]
                check.add("formula_text", column.key, [pos], reject=False, first=first)
    return parsed


def _counts(check: _TabCheck, parsed: dict[str, pd.Series], key: str, minimum: int) -> None:
    values = pd.array(parsed[key].tolist(), dtype="Int64")
    parsed[key] = pd.Series(values, index=parsed[key].index)
    values = parsed[key]
    header = check.tab.column(key).header
    negative = (values < 0).to_numpy(dtype=bool, na_value=False)
    check.add("negative_count", key, negative, column=header)
    if minimum > 0:
        zero = (values == 0).to_numpy(dtype=bool, na_value=False)
        check.add("zero_members", key, zero)


def _month_of(dates: pd.Series) -> pd.Series:
    """``YYYY-MM`` of each date (None where there is none)."""
    months = map_distinct(dates, lambda d: f"{d.year:04d}-{d.month:02d}")
    return pd.Series(months, index=dates.index, dtype=object)


def _blank_cells(raw: pd.Series) -> np.ndarray:
    """Whether each raw cell is empty (None, NaN or only spaces)."""
    return map_distinct(raw, lambda v: _shown(v) == "", True, bool)


def _looks_like_formula(value: Any) -> bool:
    return isinstance(value, str) and value.lstrip()[:1] in FORMULA_STARTS


def _before_start(
    check: _TabCheck, key: str, early: np.ndarray, start: str, shown: Callable[[int], Any]
) -> None:
    """``Lỗi`` for the rows whose period (month, year or date) is before the reporting
    period: a mistyped year ("03/2008" in a 2018 project) never reaches the statistics."""
    check.add(
        "period_before_start",
        key,
        early,
        column=check.tab.column(key).header,
        period=shown,
        start=_month_label(start),
    )


def _period_checks(
    check: _TabCheck, parsed: dict[str, pd.Series], today: date, start: str | None
) -> None:
    tab = check.tab
    this_month = f"{today.year:04d}-{today.month:02d}"
    if tab.key == "meetings":
        months = parsed["month"]
        if start:
            early = map_distinct(months, lambda m: isinstance(m, str) and m < start, False, bool)
            _before_start(check, "month", early, start, lambda p: _month_label(months.iloc[p]))
        future = map_distinct(months, lambda m: isinstance(m, str) and m > this_month, False, bool)
        header = tab.column("month").header
        check.add(
            "future_period",
            "month",
            future,
            column=header,
            today=today.strftime("%d/%m/%Y"),
            period=lambda p: _month_label(months.iloc[p]),
        )
        dates = parsed["meeting_date"]
        date_month = _month_of(dates)
        outside = (dates.notna() & months.notna() & (date_month != months)).to_numpy()
        check.add(
            "date_outside_month",
            "meeting_date",
            outside,
            date=lambda p: dates.iloc[p].strftime("%d/%m/%Y"),
            month=lambda p: _month_label(months.iloc[p]),
        )
        members, present = parsed["members"], parsed["present"]
        met = dates.notna().to_numpy()
        missing_present = met & present.isna().to_numpy() & _blank_cells(check.frame["present"])
        check.add(
            "missing_value",
            "present",
            missing_present,
            column=tab.column("present").header,
            expected="số đảng viên dự (chi bộ có sinh hoạt)",
        )
        parsed["present"] = present.where(present.notna() | met, 0)
        over = (present > members).to_numpy(dtype=bool, na_value=False)
        check.add(
            "present_over_total",
            "present",
            over,
            present=lambda p: present.iloc[p],
            members=lambda p: members.iloc[p],
        )
    elif tab.key == "ratings":
        years = pd.to_numeric(parsed["year"], errors="coerce")
        if start:
            early = (years < int(start[:4])).to_numpy(dtype=bool, na_value=False)
            _before_start(check, "year", early, start, lambda p: years.iloc[p])
        future = (years > today.year).to_numpy(dtype=bool, na_value=False)
        check.add(
            "future_period",
            "year",
            future,
            column=tab.column("year").header,
            today=today.strftime("%d/%m/%Y"),
            period=lambda p: years.iloc[p],
        )
    elif tab.key == "support":
        dates = parsed["date"]
        if start:
            first_day = pd.Timestamp(f"{start}-01")
            early = (pd.to_datetime(dates, errors="coerce") < first_day).to_numpy(bool)
            _before_start(check, "date", early, start, lambda p: _shown(dates.iloc[p]))
        future = (pd.to_datetime(dates, errors="coerce") > pd.Timestamp(today)).to_numpy(bool)
        check.add(
            "future_period",
            "date",
            future,
            column=tab.column("date").header,
            today=today.strftime("%d/%m/%Y"),
            period=lambda p: _shown(dates.iloc[p]),
        )
        amounts = pd.to_numeric(parsed["amount"], errors="coerce")
        check.add(
            "negative_count",
            "amount",
            (amounts < 0).to_numpy(dtype=bool, na_value=False),
            column=tab.column("amount").header,
        )


def _period_label(tab_key: str, period: Any) -> str:
    if tab_key == "meetings":
        return f"tháng {period[5:]}/{period[:4]}"
    return f"năm {period}"


#: How many other rows a duplicate finding names; the rest are counted, so a finding's
#: text stays short however many rows share one (hamlet, period).
ROWS_NAMED = 3


def _rows_named(rows: np.ndarray, skip: int | None = None) -> str:
    """``12, 15, 18 và 9.997 dòng khác``: the first :data:`ROWS_NAMED` sheet rows (leaving
    out ``skip``, the finding's own row), then how many more."""
    first = rows[: ROWS_NAMED + 1].tolist()
    if skip in first:
        first.remove(skip)
    total = len(rows) - (skip is not None)
    named = ", ".join(str(r) for r in first[:ROWS_NAMED])
    more = total - ROWS_NAMED
    return f"{named} và {_thousands(more)} dòng khác" if more > 0 else named


def _thousands(n: int) -> str:
    """``10.001``: a count as Vietnamese write it."""
    return f"{n:,}".replace(",", ".")


def _duplicates(check: _TabCheck, accepted: pd.DataFrame, value_keys: list[str]) -> pd.DataFrame:
    """Identical duplicates kept once (Cảnh báo); conflicting ones all rejected (Lỗi).

    ``accepted`` is indexed by the rows' positions in ``check.frame``. Each finding names
    a few of the other rows and counts the rest, so a thousand conflicting rows give a
    thousand short findings (memory, the state store and the feedback tab grow linearly).
    """
    tab_key = check.tab.key
    period = check.tab.period  # templates/commune.toml: the column a report's period is in
    if period is None or accepted.empty:
        return accepted
    key = ["hamlet_code", period]
    dup = accepted.duplicated(key, keep=False)
    if not dup.any():
        return accepted
    drop: list[int] = []
    for _, group in accepted[dup].groupby(key, sort=False):
        rows = check.rows[group.index.to_numpy()]
        hamlet = _shown(check.frame["hamlet"].iloc[group.index[0]])
        label = _period_label(tab_key, group[period].iloc[0])
        same = len(group[value_keys].astype(str).drop_duplicates()) == 1
        if same:
            check.add(
                "duplicate_identical",
                "hamlet",
                list(group.index[:1]),
                reject=False,
                hamlet=hamlet,
                period=label,
                rows=_rows_named(rows),
                count=_thousands(len(group)),
            )
            drop.extend(group.index[1:])
            continue
        check.add(
            "duplicate_conflict",
            "hamlet",
            list(group.index),
            hamlet=hamlet,
            period=label,
            rows=lambda p, rows=rows: _rows_named(rows, int(check.rows[p])),
            count=_thousands(len(group)),
        )
        drop.extend(group.index)
    return accepted.drop(index=drop)


def validate_tabs(
    tab: Tab,
    raws: list[tuple[str, RawTable]],
    registry: Registry,
    today: date,
    period_start: str | None = None,
) -> tuple[pd.DataFrame, list[Finding], dict[str, int]]:
    """One input tab of many communes: (accepted rows with ``commune_code``, findings,
    rejected rows per commune). Every check runs once over all the rows. Periods before
    ``period_start`` (``YYYY-MM``) or after ``today`` are refused."""
    findings = [f for _, raw in raws for f in raw.findings]
    usable = [(commune, raw) for commune, raw in raws if raw.ok and raw.rows]
    check = _TabCheck(tab, usable)
    if check.frame.empty:
        return _empty_accepted(tab), findings, {}
    hamlet_codes = _resolve_hamlets(check, registry)
    parsed = _parse_columns(check)
    for column in tab.columns:
        if column.type in ("count", "positive_count"):
            _counts(check, parsed, column.key, 1 if column.type == "positive_count" else 0)
    _period_checks(check, parsed, today, period_start)
    good = ~check.bad
    accepted = pd.DataFrame({"hamlet_code": hamlet_codes, **parsed})[good]
    value_keys = [c.key for c in tab.columns if c.key != "hamlet"]
    accepted = _duplicates(check, accepted, value_keys)
    positions = accepted.index.to_numpy()
    accepted = accepted.reset_index(drop=True)
    accepted.insert(0, "commune_code", check.communes[positions])
    accepted["_row"] = check.rows[positions]
    prefixes = np.array(
        [f"{c} · {title}!{letters.get('hamlet', 'A')}" for c, title, letters in check.sources],
        dtype=object,
    )
    rows = check.rows[positions]
    numbers = np.array([str(n) for n in range(int(rows.max(initial=0)) + 1)], dtype=object)
    accepted["source"] = prefixes[check.src[positions]] + numbers[rows]
    sheets = len(check.sources)
    rejected = np.bincount(check.src, minlength=sheets) - np.bincount(
        check.src[positions], minlength=sheets
    )
    findings.extend(check.findings)
    return (
        accepted,
        findings,
        {check.sources[i][0]: int(rejected[i]) for i in np.flatnonzero(rejected)},
    )


def _empty_accepted(tab: Tab) -> pd.DataFrame:
    keys = ["commune_code", "hamlet_code", *[k for k in tab.keys if k != "hamlet"]]
    return pd.DataFrame({k: pd.Series(dtype=object) for k in [*keys, "_row", "source"]})


def validate_communes(
    raws_by_commune: dict[str, dict[str, RawTable]],
    registry: Registry,
    today: date,
    period_start: str | None = None,
) -> dict[str, CommuneResult]:
    """Validate the input tabs of many commune sheets at once, one result per commune.

    ``period_start`` is ``[rules] period_start`` (``YYYY-MM``): reports before it are
    ``Lỗi``, as are reports after ``today``."""
    results = {code: CommuneResult(code) for code in raws_by_commune}
    for tab in commune_layout().by_role("input"):
        raws = [(c, raws[tab.key]) for c, raws in raws_by_commune.items() if tab.key in raws]
        accepted, findings, rejected = validate_tabs(tab, raws, registry, today, period_start)
        for f in findings:
            results[f.commune].findings.append(f)
        for code, n in rejected.items():
            results[code].rejected += n
        if accepted.empty:
            continue
        codes = accepted.pop("commune_code").to_numpy()
        # Rows arrive grouped by commune (sheets were stacked in order), so each commune's
        # rows are one contiguous run of the shared frame.
        starts = np.flatnonzero(np.r_[True, codes[1:] != codes[:-1]])
        ends = np.r_[starts[1:], len(codes)]
        columns: dict[tuple[str, bool], np.ndarray] = {}
        for start, end in zip(starts.tolist(), ends.tolist(), strict=True):
            tables = results[codes[start]].tables
            if tab.key in tables:  # not expected: a commune's rows split in two runs
                both = pd.concat([tables[tab.key], accepted.iloc[start:end]], ignore_index=True)
                tables.add(tab.key, both)
            else:
                tables.add(tab.key, accepted, start, end, columns)
    return results


def validate_commune(
    raws: dict[str, RawTable],
    commune: str,
    registry: Registry,
    today: date,
    period_start: str | None = None,
) -> CommuneResult:
    """Validate every input tab of one commune sheet."""
    return validate_communes({commune: raws}, registry, today, period_start)[commune]
