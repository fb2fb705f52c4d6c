"""``namcoso report``: draft the Party committee's report (.docx) from the master.

read the master (registry + sync-owned tabs, through the backend) → figures per year
(pure pandas) → what the template reads → charts → the filled Word template. Every figure
comes from the master; every word comes from ``templates/report.docx``.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from ..config import Config
from ..errors import ConfigError, NamcosoError
from ..registry import commune_code, load_registry
from . import charts
from .context import LOW_MONTHS, dated, percent, review_rows, year_context
from .document import packaged_template, render, write_atomically
from .figures import has_data, year_figures
from .letterhead import commune_letterhead, district_letterhead, with_settings
from .tables import MasterTables, master_tables, report_titles

__all__ = ["DraftedReport", "NoData", "draft_report", "read_tables"]


class NoData(NamcosoError):
    """The master holds nothing for a year the report was asked for."""

    exit_code = 2


@dataclass(frozen=True)
class DraftedReport:
    path: Path
    years: list[int]
    commune: str | None
    seconds: float


def read_tables(config: Config) -> MasterTables:
    """The registry and the sync-owned tabs of the project's master (local or Google)."""
    from ..pipeline import make_backend

    backend = make_backend(config)
    registry = load_registry(backend.read_registry())
    return master_tables(registry, backend.read_master_tabs(report_titles()))


def _years(tables: MasterTables, year: int | None, first: int | None, commune: str | None):
    where = f" của xã {commune}" if commune else ""
    known = [y for y in tables.years() if has_data(tables, y, commune)]
    if not known:
        raise NoData(f"Master chưa có số liệu{where}: chạy namcoso sync trước")
    last = known[-1] if year is None else year
    first = last if first is None else first
    if first > last:
        raise ConfigError(f"--from {first} phải trước --year {last}")
    wanted = list(range(first, last + 1))
    missing = [y for y in wanted if y not in known]
    if missing:
        have = ", ".join(map(str, known))
        raise NoData(
            f"Master không có số liệu năm {', '.join(map(str, missing))}{where} "
            f"(có số liệu các năm: {have})"
        )
    return wanted


def draft_report(
    config: Config,
    *,
    year: int | None = None,
    first_year: int | None = None,
    commune: str | None = None,
    out: Path | None = None,
    today: date | None = None,
    tables: MasterTables | None = None,
) -> DraftedReport:
    """Write the report of ``year`` (default: the master's latest), a review of
    ``first_year``…``year`` when given, for the district or one ``commune``."""
    started = time.perf_counter()
    tables = tables or read_tables(config)
    registry = tables.registry
    if commune is not None:
        commune = commune_code(commune)
        if commune not in set(registry.communes["code"]):
            raise ConfigError(f"Không có xã mã {commune} trong trang Danh mục xã của master")
    years = _years(tables, year, first_year, commune)
    rules = config.rules
    figures = [year_figures(tables, y, rules, commune) for y in years]
    last = figures[-1]
    head = with_settings(district_letterhead(registry, config.name, config.scope), config.report)
    if commune:
        head = commune_letterhead(head, registry.commune_name(commune))
    context = year_context(last, rules, bool(commune))
    review = len(years) > 1
    span = f"{years[0]} - {years[-1]}"
    context |= {
        "org": head.context(),
        "date": dated(today or date.today()),
        "year": years[-1],
        "first_year": years[0],
        "years": [str(y) for y in years],
        "review": review,
        "review_rows": review_rows(figures) if review else [],
        "commune": bool(commune),
        "scope": "toàn xã" if commune else config.total_label.lower(),
        "scope_cap": "Toàn xã" if commune else config.total_label,
        "unit_kind": "chi bộ ấp, khu phố" if commune else "xã, thị trấn",
        "unit_header": "Chi bộ ấp, khu phố" if commune else "Xã, thị trấn",
        "threshold": percent(rules.attendance_threshold, 0),
        "cadre_threshold": percent(rules.cadre_attendance_threshold, 0),
        "deadline_day": rules.report_deadline_day,
        "low_months": LOW_MONTHS,
        "subject": (
            f"sơ kết {len(years)} năm ({span}) thực hiện chủ trương"
            if review
            else f"kết quả năm {years[-1]} thực hiện chủ trương"
        ).capitalize(),
        "subject_period": "“tỉnh nắm tới xã, huyện nắm tới ấp, xã nắm tới hộ gia đình”",
        "purpose": (
            f"sơ kết {len(years)} năm ({span}) thực hiện chủ trương"
            if review
            else f"kết quả thực hiện năm {years[-1]}"
        ),
        "part": {"limits": "III" if review else "II", "tasks": "IV" if review else "III"},
        "ratings_caption": f"năm {span}" if review else f"năm {years[-1]}",
    }
    rated = [f.ratings for f in figures if f.ratings]
    if not review and last.previous and last.ratings:
        rated = [last.previous, last.ratings]
    pictures = {
        "attendance": charts.attendance_chart(figures, rules.attendance_threshold),
        "reporting": charts.reporting_chart(last, bool(commune)),
        "ratings": charts.ratings_chart(rated),
    }
    if out is None:
        name = f"bao-cao-{span.replace(' ', '')}" if review else f"bao-cao-{years[-1]}"
        out = Path.cwd() / (f"{name}-{commune}.docx" if commune else f"{name}.docx")
    data = render(_template(config), context, pictures)
    write_atomically(data, Path(out))
    return DraftedReport(Path(out), years, commune, time.perf_counter() - started)


def _template(config: Config) -> Path:
    if config.report.template:
        path = config.root / config.report.template
        if not path.is_file():
            raise ConfigError(f"namcoso.toml: [report] template: không tìm thấy tệp {path}")
        return path
    return packaged_template()
