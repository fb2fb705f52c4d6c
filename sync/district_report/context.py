"""Figures → what the Word template reads: numbers written the Vietnamese way (``1.234.567``,
``26,4%``), names joined into phrases, the "hạn chế" flags. Pure: no I/O.

The template (``templates/report.docx``) holds the wording; this module only decides which
flags are raised and writes each figure once, the way an official would type it.
"""

from __future__ import annotations

from datetime import date

from ..config import Rules
from .figures import (
    EXCELLENT,
    FAILED,
    RATING_CODES,
    RATING_NAMES,
    CadreLine,
    CellLine,
    Ratings,
    YearFigures,
)

#: A cell under the attendance threshold this many months of a year is named.
LOW_MONTHS = 3
#: How many names a sentence lists before "…".
NAMED = 12


def number(value: float | int | None) -> str:
    """``1234567`` → ``1.234.567``; None → ``–``."""
    if value is None:
        return "–"
    return f"{round(value):,}".replace(",", ".")


def percent(value: float | None, digits: int = 1) -> str:
    """``0.2636`` → ``26,4%``; None → ``–``."""
    if value is None:
        return "–"
    text = f"{value * 100:.{digits}f}".replace(".", ",")
    if "," in text:
        text = text.rstrip("0").rstrip(",")
    return f"{text}%"


def millions(value: float | int | None) -> str:
    """``249500000`` đồng → ``249,5`` (triệu đồng)."""
    if value is None:
        return "–"
    text = f"{value / 1_000_000:,.1f}".replace(",", " ").replace(".", ",").replace(" ", ".")
    return text[:-2] if text.endswith(",0") else text


def joined(items: list[str], limit: int = NAMED, noun: str = "đơn vị") -> str:
    """``a, b, c`` — at most ``limit`` items, then "và N đơn vị khác"."""
    if len(items) <= limit:
        return ", ".join(items)
    return ", ".join(items[:limit]) + f" và {len(items) - limit} {noun} khác"


def _cell_name(c: CellLine, commune: bool) -> str:
    return c.hamlet if commune else f"{c.hamlet} ({c.commune})"


def _cadre(x: CadreLine) -> dict:
    return {
        "name": x.name,
        "code": x.code,
        "hamlet": x.hamlet,
        "commune": x.commune,
        "attended": x.attended,
        "meetings": x.meetings,
        "share": percent(x.share, 0),
    }


def change(now: int, before: int) -> str:
    """``tăng 30 (từ 4 lên 34)`` / ``giảm 2 (từ 6 xuống 4)`` / ``không đổi (4)``."""
    if now > before:
        return f"tăng {number(now - before)} (từ {number(before)} lên {number(now)})"
    if now < before:
        return f"giảm {number(before - now)} (từ {number(before)} xuống {number(now)})"
    return f"không đổi ({number(now)})"


def ratings_context(r: Ratings | None, prev: Ratings | None) -> dict | None:
    if r is None:
        return None
    out: dict = {code: number(r.counts[code]) for code in RATING_CODES}
    out |= {"cells": number(r.cells), "unrated": r.unrated, "failed": r.counts[FAILED]}
    out["share"] = {code: percent(r.share(code)) for code in RATING_CODES}
    if prev is not None:
        out["prev"] = prev.year
        out["change"] = {code: change(r.counts[code], prev.counts[code]) for code in RATING_CODES}
        out["prev_unrated"] = prev.unrated
    return out


def year_context(f: YearFigures, rules: Rules, commune: bool) -> dict:
    """Every figure of one year, written for the template."""
    a, m, c, rep, s, h = (
        f.assignment,
        f.meetings,
        f.cadres,
        f.reporting,
        f.support,
        f.households,
    )
    threshold = rules.attendance_threshold
    low = [x for x in m.cells_below if x.months >= LOW_MONTHS or (x.attendance or 1) < threshold]
    gaps = [f"ấp, khu phố {x}" for x in a.hamlets_uncovered]
    gaps += [f"{x} (chưa có cán bộ tỉnh)" for x in a.communes_uncovered]
    gaps += [f"cán bộ {x} (đơn vị không có trong danh mục)" for x in a.unknown_units]
    flagged = sorted(rep.flagged, key=lambda x: (-(x.late + x.missing + x.unreadable), x.code))
    gap = max(0, h.registry - h.followed)
    lim = {
        "cadres": len(c.below),
        "cadre_names": joined(
            [f"{x.name} ({x.hamlet}, {x.commune})" for x in c.below], 5, "đồng chí"
        ),
        "cells": len(low),
        "cell_names": joined([_cell_name(x, commune) for x in low]),
        "not_held": m.not_held,
        "reporting": joined([x.commune for x in flagged], 5) if rep.late + rep.missing else "",
        "households": percent(gap / h.registry) if h.registry and gap else "",
        "failed": f.ratings.counts[FAILED] if f.ratings else 0,
        "fewer_excellent": (
            max(0, f.previous.counts[EXCELLENT] - f.ratings.counts[EXCELLENT])
            if f.ratings and f.previous
            else 0
        ),
    }
    lim["any"] = any(
        lim[k]
        for k in (
            "cadres",
            "cells",
            "not_held",
            "reporting",
            "households",
            "failed",
            "fewer_excellent",
        )
    ) or bool(gaps)
    return {
        "a": {
            "district_cadres": number(a.district_cadres),
            "hamlets_covered": number(a.hamlets_covered),
            "hamlets": number(a.hamlets),
            "provincial_cadres": number(a.provincial_cadres),
            "communes_covered": number(a.communes_covered),
            "communes": number(a.communes),
            "provincial_multi": a.provincial_multi,
            "gaps": joined(gaps),
        },
        "m": {
            "cells": number(m.cells),
            "cell_months": number(m.cell_months),
            "held": number(m.held),
            "not_held": m.not_held,
            "missing": m.missing,
            "attendance": percent(m.attendance),
            "below": number(m.below),
            "committee": percent(m.committee_share),
            "cells_low": lim["cell_names"],
            "cells_skip": joined(
                [f"{_cell_name(x, commune)}: {x.months} tháng" for x in m.cells_not_held]
            ),
        },
        "c": {"judged": number(c.judged), "below": [_cadre(x) for x in c.below]},
        "rep": {
            "commune_months": number(rep.commune_months),
            "ok": number(rep.complete_on_time),
            "ok_share": percent(rep.complete_on_time / rep.commune_months)
            if rep.commune_months
            else "–",
            "late": rep.late,
            "partial": rep.partial,
            "none": rep.none,
            "missing": rep.missing,
            "unreadable": rep.unreadable,
            "flagged": [
                {
                    "commune": x.commune,
                    "code": x.code,
                    "late": x.late,
                    "missing": x.missing,
                    "unreadable": x.unreadable,
                }
                for x in rep.flagged
            ],
        },
        "s": {
            "count": s.count,
            "total": number(s.total),
            "fields": [
                {"field": name, "count": number(n), "total": number(v)} for name, n, v in s.by_field
            ],
        },
        "h": {
            "commune_cadres": number(h.commune_cadres),
            "followed": number(h.followed),
            "registry": number(h.registry),
            "share": percent(h.share),
            "hamlets": number(h.hamlets),
            "gap": number(gap) if gap else "",
            "lowest": joined([f"{name} ({percent(v)})" for name, v in h.lowest]),
        },
        "r": ratings_context(f.ratings, f.previous),
        "lim": lim,
        "units": [_unit(u) for u in f.units],
        "units_total": _unit_total(f),
    }


def _unit(u) -> dict:
    return {
        "name": u.name,
        "cells": number(u.cells),
        "held": number(u.held),
        "attendance": percent(u.attendance),
        "below": number(u.below),
        "cadres_below": number(u.cadres_below),
        "late": "–" if u.late is None else number(u.late),
        "missing": number(u.missing),
        **{code: number(u.ratings.get(code, 0)) for code in RATING_CODES},
        "support": millions(u.support),
        "households": percent(u.households),
    }


def _unit_total(f: YearFigures) -> dict:
    units = f.units
    late = [u.late for u in units if u.late is not None]
    return {
        "name": "Cộng",
        "cells": number(sum(u.cells for u in units)),
        "held": number(sum(u.held for u in units)),
        "attendance": percent(f.meetings.attendance),
        "below": number(sum(u.below for u in units)),
        "cadres_below": number(sum(u.cadres_below for u in units)),
        "late": number(sum(late)) if late else "–",
        "missing": number(sum(u.missing for u in units)),
        **{code: number(sum(u.ratings.get(code, 0) for u in units)) for code in RATING_CODES},
        "support": millions(sum(u.support for u in units)),
        "households": percent(f.households.share),
    }


def _cell_text(value: float | None, pct: bool | None) -> str:
    """A percentage (``pct``), millions of đồng (None) or a count."""
    if pct is None:
        return millions(None if value is None else value * 1e6)
    return percent(value) if pct else number(value)


def _trend(values: list[float | None], points: bool | None = False) -> str:
    known = [v for v in values if v is not None]
    if len(known) < 2:
        return "–"
    first, last = known[0], known[-1]
    if points:
        delta = (last - first) * 100
        if abs(delta) < 0.05:
            return "không đổi"
        word = "tăng" if delta > 0 else "giảm"
        return f"{word} {abs(delta):.1f} điểm %".replace(".", ",")
    if last == first:
        return "không đổi"
    size = millions(abs(last - first) * 1e6) if points is None else number(abs(last - first))
    return f"{'tăng' if last > first else 'giảm'} {size}"


def review_rows(years: list[YearFigures]) -> list[dict]:
    """The multi-year table: one row per indicator, one value per year, and the trend."""

    def rating(f: YearFigures, code: str) -> int | None:
        return f.ratings.counts[code] if f.ratings else None

    def share(f: YearFigures, code: str) -> float | None:
        return f.ratings.share(code) if f.ratings else None

    rows: list[tuple[str, list, bool | None]] = [
        ("Số chi bộ ấp, khu phố", [f.assignment.hamlets for f in years], False),
        *[
            (f"{label} (chi bộ)", [rating(f, code) for f in years], False)
            for code, label in RATING_NAMES.items()
        ],
        ("Tỷ lệ hoàn thành xuất sắc nhiệm vụ", [share(f, EXCELLENT) for f in years], True),
        ("Số lượt sinh hoạt chi bộ", [f.meetings.held for f in years], False),
        ("Số lượt chi bộ không sinh hoạt", [f.meetings.not_held for f in years], False),
        ("Tỷ lệ đảng viên dự sinh hoạt bình quân", [f.meetings.attendance for f in years], True),
        ("Số lượt sinh hoạt có tỷ lệ dự dưới ngưỡng", [f.meetings.below for f in years], False),
        ("Cán bộ phụ trách dự dưới ngưỡng (người)", [len(f.cadres.below) for f in years], False),
        ("Lượt báo cáo tháng trễ hạn", [f.reporting.late for f in years], False),
        ("Lượt báo cáo thiếu, chưa nộp", [f.reporting.missing for f in years], False),
        ("Vận động, hỗ trợ (triệu đồng)", [f.support.total / 1e6 for f in years], None),
    ]
    return [
        {
            "label": label,
            "cells": [_cell_text(v, pct) for v in values],
            "trend": _trend(values, pct),
        }
        for label, values, pct in rows
    ]


def dated(today: date) -> dict:
    return {"day": f"{today.day:02d}", "month": f"{today.month:02d}", "year": str(today.year)}
