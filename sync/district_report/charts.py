"""The report's three charts as PNG pictures (matplotlib, Agg: no display needed).

Word cannot draw a chart from a template tag, and a picture reads the same in Word,
LibreOffice and a printed copy; each chart is drawn from the same figures as the text.
"""

from __future__ import annotations

import io

import matplotlib

matplotlib.use("Agg")  # before pyplot: no display on a server or in CI
import matplotlib.pyplot as plt
from matplotlib.ticker import PercentFormatter

from .figures import RATING_CODES, RATING_NAMES, Ratings, YearFigures

#: Best rating first: dark green to red.
RATING_COLORS = ("#1b7837", "#7fbf7b", "#f6c141", "#d73027")
STATUS_COLORS = ("#4575b4", "#fdae61", "#d73027")
DPI = 150
plt.rcParams.update({"font.family": "DejaVu Sans", "font.size": 9})


def _png(fig) -> io.BytesIO:
    out = io.BytesIO()
    fig.savefig(out, format="png", dpi=DPI, bbox_inches="tight")
    plt.close(fig)
    out.seek(0)
    return out


def attendance_chart(years: list[YearFigures], threshold: float) -> io.BytesIO:
    """Average attendance by month, one line per year, against the threshold."""
    fig, ax = plt.subplots(figsize=(6.3, 2.8))
    for f in years:
        months = sorted(f.meetings.by_month)
        ax.plot(months, [f.meetings.by_month[m] for m in months], marker="o", label=str(f.year))
    ax.axhline(threshold, color="#d73027", linestyle="--", label=f"Ngưỡng {threshold:.0%}")
    ax.set_xticks(range(1, 13), [f"T{m}" for m in range(1, 13)])
    ax.yaxis.set_major_formatter(PercentFormatter(1.0, decimals=0))
    ax.set_ylim(min(0.6, threshold - 0.1), 1.0)
    ax.set_ylabel("Tỷ lệ dự bình quân")
    ax.grid(axis="y", alpha=0.3)
    ax.legend(loc="lower right", fontsize=8, ncol=4)
    return _png(fig)


def reporting_chart(f: YearFigures, commune: bool) -> io.BytesIO:
    """Months on time / late / missing per commune (district), or months reported per
    hamlet cell (one commune)."""
    if commune:
        names = [u.name for u in f.units]
        series = [
            ("Tháng có sinh hoạt", [u.held for u in f.units]),
            ("Tháng thiếu báo cáo", [u.missing for u in f.units]),
        ]
    else:
        lines = f.reporting.lines
        names = [x.commune for x in lines]
        series = [
            ("Đủ, đúng hạn", [x.on_time for x in lines]),
            ("Trễ hạn", [x.late for x in lines]),
            ("Thiếu, chưa nộp", [x.missing + x.unreadable for x in lines]),
        ]
    height = max(2.5, 0.22 * len(names) + 0.8)
    fig, ax = plt.subplots(figsize=(6.3, height))
    left = [0] * len(names)
    for (label, values), color in zip(series, STATUS_COLORS, strict=False):
        ax.barh(names, values, left=left, color=color, label=label)
        left = [a + b for a, b in zip(left, values, strict=True)]
    ax.invert_yaxis()
    ax.set_xlabel("Số tháng")
    ax.legend(loc="lower center", bbox_to_anchor=(0.5, 1.0), ncol=3, fontsize=8, frameon=False)
    ax.grid(axis="x", alpha=0.3)
    return _png(fig)


def ratings_chart(ratings: list[Ratings]) -> io.BytesIO:
    """The four ratings per year, stacked."""
    fig, ax = plt.subplots(figsize=(6.3, 2.6))
    labels = [str(r.year) for r in ratings]
    left = [0] * len(ratings)
    for code, color in zip(RATING_CODES, RATING_COLORS, strict=True):
        values = [r.counts[code] for r in ratings]
        bars = ax.barh(labels, values, left=left, color=color, label=RATING_NAMES[code])
        for bar, v in zip(bars, values, strict=True):
            if v:
                ax.text(
                    bar.get_x() + bar.get_width() / 2,
                    bar.get_y() + bar.get_height() / 2,
                    str(v),
                    ha="center",
                    va="center",
                    fontsize=8,
                )
        left = [a + b for a, b in zip(left, values, strict=True)]
    ax.invert_yaxis()
    ax.set_xlabel("Số chi bộ")
    ax.legend(loc="lower center", bbox_to_anchor=(0.5, 1.0), ncol=2, fontsize=8, frameon=False)
    return _png(fig)
