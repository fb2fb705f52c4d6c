"""Which cells of the master are coloured, and why: the flags, as data.

A :class:`Flag` says "in this tab, colour this column (or the row) when its value is below a
threshold, is a given text, or is filled"; :func:`flags` lists them with the project's
thresholds. Each backend renders them its own way: conditional formats in ``master.xlsx``
(:mod:`sync.backends.local_views`), ``addConditionalFormatRule`` requests on Google
(:mod:`sync.backends.google_views`).
"""

from __future__ import annotations

from dataclasses import dataclass

from .config import Rules
from .findings import ERROR, WARNING
from .layout import vocab
from .summarize import (
    STATUS_LATE,
    STATUS_NONE,
    STATUS_OK,
    STATUS_PARTIAL,
    STATUS_STALE,
    STATUS_UNREADABLE,
)

# (fill, text colour), RRGGBB
BAD = ("FFC7CE", "9C0006")
WARN = ("FFEB9C", "9C5700")
GOOD = ("C6EFCE", "006100")
STATUS_COLOURS = {
    STATUS_LATE: WARN,
    STATUS_PARTIAL: ("F8CBAD", "843C0C"),
    STATUS_NONE: BAD,
    STATUS_UNREADABLE: ("D9D2E9", "3F3151"),
    STATUS_STALE: ("D9D9D9", "404040"),
}
#: Chart colour of each rating code, best (dark green) to worst (red): ``mappings/vocab.toml``
#: lists the ratings in that order.
RATING_COLOURS = dict(
    zip(
        (r.code for r in vocab().ratings),
        ("1B5E20", "66BB6A", "FFB300", "C62828"),
        strict=True,
    )
)


@dataclass(frozen=True)
class Flag:
    """One conditional format: in tab ``tab`` (master key), colour the cells of column
    ``column`` (or the whole row) when its value is ``below`` a number, ``is`` a text, or
    is ``filled`` (not blank)."""

    tab: str
    column: str
    when: str  # "below" | "is" | "filled"
    value: float | str | None
    colours: tuple[str, str]
    whole_row: bool = False


def flags(rules: Rules) -> list[Flag]:
    """Every conditional format of the master, with the thresholds of ``rules``."""
    out = [
        Flag("meetings", "attendance", "below", rules.attendance_threshold, BAD),
        Flag("meeting_stats", "avg_attendance", "below", rules.attendance_threshold, BAD),
        Flag("cadre_stats", "attendance", "below", rules.cadre_attendance_threshold, BAD),
    ]
    for status, colours in STATUS_COLOURS.items():
        out.append(Flag("progress", "status", "is", status, colours, whole_row=True))
    out.append(Flag("progress", "status", "is", STATUS_OK, GOOD))
    out.append(Flag("findings", "severity", "is", ERROR, BAD, whole_row=True))
    out.append(Flag("findings", "severity", "is", WARNING, WARN, whole_row=True))
    for key in ("meeting_stats", "cadre_stats", "household_stats"):
        out.append(Flag(key, "warning", "filled", None, WARN))
    return out
