"""Findings: problems in a commune's data, as values (never exceptions).

Each finding names the commune, the tab, the A1 cell, the value as typed, a message in
plain Vietnamese and how to fix it. ``Lỗi`` rejects the row (or the tab), ``Cảnh báo``
keeps it, ``Thông tin`` only informs. Message texts live in ``mappings/findings.toml``.
"""

from __future__ import annotations

import tomllib
from collections import Counter
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from functools import cache, lru_cache

from .resources import MAPPINGS_DIR

ERROR = "Lỗi"
WARNING = "Cảnh báo"
INFO = "Thông tin"
SEVERITY_ORDER = {ERROR: 0, WARNING: 1, INFO: 2}


@cache
def _texts() -> dict[str, dict[str, str]]:
    with (MAPPINGS_DIR / "findings.toml").open("rb") as f:
        return tomllib.load(f)


class _Blank(dict):
    def __missing__(self, key: str) -> str:
        return ""


@dataclass(frozen=True)
class Finding:
    code: str
    severity: str
    commune: str
    tab: str
    cell: str
    value: str
    message: str
    fix: str
    row: int = 0  # sheet row, for sorting; 0 for a tab- or sheet-wide finding

    def as_dict(self) -> dict:
        return asdict(self)


def finding(
    code: str,
    *,
    commune: str = "",
    tab: str = "",
    cell: str = "",
    row: int = 0,
    value: object = "",
    **fields: object,
) -> Finding:
    """A finding of kind ``code`` with its texts filled from ``mappings/findings.toml``."""
    text = _texts()[code]
    shown = "" if value is None else str(value)
    params = _Blank(
        value=shown,
        tab=tab,
        commune=commune,
        **{k: "" if v is None else str(v) for k, v in fields.items()},
    )
    return Finding(
        code=code,
        severity=text["severity"],
        commune=commune,
        tab=tab,
        cell=cell,
        value=shown,
        message=text["message"].format_map(params),
        fix=text["fix"].format_map(params),
        row=row,
    )


@lru_cache(maxsize=1024)
def column_letter(index: int) -> str:
    """0-based column index → spreadsheet letters (0 → A, 26 → AA)."""
    letters = ""
    index += 1
    while index:
        index, rem = divmod(index - 1, 26)
        letters = chr(65 + rem) + letters
    return letters


def sort_key(f: Finding) -> tuple:
    return (f.commune, f.tab, f.row, SEVERITY_ORDER.get(f.severity, 9), f.cell)


@dataclass(frozen=True)
class Report:
    """The findings of one check (a commune sheet, or a whole run)."""

    findings: tuple[Finding, ...]

    @classmethod
    def of(cls, findings: Iterable[Finding]) -> Report:
        return cls(tuple(sorted(findings, key=sort_key)))

    @property
    def valid(self) -> bool:
        return not any(f.severity == ERROR for f in self.findings)

    def counts(self) -> Counter:
        return Counter(f.severity for f in self.findings)

    def codes(self) -> Counter:
        return Counter(f.code for f in self.findings)
