"""The district's registry (the master's district-owned tabs), parsed and indexed.

Communes, hamlets, cadres and assignments are read with the same header mapping as the
commune sheets, so staff may add columns or notes to these tabs freely.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cached_property, lru_cache
from typing import Any

import pandas as pd

from .backends.base import Grid
from .findings import Finding, finding
from .layout import master_layout, vocab
from .normalize import normalize_tab
from .text import fold, strip_prefixes
from .values import parse_column, parse_date, parse_integer, parse_text

_LETTER_DIGIT = re.compile(r"([a-z])(\d)")


def commune_code(value: Any) -> str:
    """A GSO commune code as 5 digits (``29110``), whatever type the cell holds."""
    text = parse_text(value)
    return text.zfill(5) if text.isdigit() else text


@lru_cache(maxsize=200_000)
def name_key(name: str) -> str:
    """How hamlet names are matched: folded, without "Ấp"/"Khu phố"/"KP"… prefixes.

    Remembered: the same names ("Thôn 1", "Ấp 2") recur across communes, and every input
    tab names the commune's hamlets again."""
    spaced = _LETTER_DIGIT.sub(r"\1 \2", fold(name))
    return strip_prefixes(spaced, vocab().hamlet_prefixes)


def _key_or_none(text: Any) -> str | None:
    return name_key(text) if isinstance(text, str) and text else None


@dataclass
class Registry:
    communes: pd.DataFrame  # code, name, kind, source, email
    hamlets: pd.DataFrame  # code, commune_code, name, kind, cell_name, households
    cadres: pd.DataFrame  # code, name, level, position, workplace, phone, email
    assignments: pd.DataFrame  # cadre_code, unit, start, end, note
    findings: list[Finding] = field(default_factory=list)
    _hamlet_keys: dict[str, dict[str, str]] = field(default_factory=dict)
    _key_owners: dict[str, list[str]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        h = self.hamlets
        keys = {c: [_key_or_none(t) for t in h[c].tolist()] for c in ("name", "cell_name", "code")}
        rows = zip(
            h["commune_code"].tolist(),
            h["code"].tolist(),
            keys["name"],
            keys["cell_name"],
            keys["code"],
            strict=True,
        )
        for commune, code, *row_keys in rows:
            own = self._hamlet_keys.setdefault(commune, {})
            for key in row_keys:
                if key is not None:
                    own.setdefault(key, code)
            self._key_owners.setdefault(row_keys[0] or "", []).append(commune)

    @cached_property
    def commune_names(self) -> pd.Series:
        """Commune name by code."""
        return self.communes.set_index("code")["name"]

    @cached_property
    def hamlet_names_by_code(self) -> pd.Series:
        """Hamlet name by code."""
        return self.hamlets.set_index("code")["name"]

    def commune_name(self, code: str) -> str:
        return str(self.commune_names.get(code, code))

    @cached_property
    def _hamlets_by_commune(self) -> dict[str, list[tuple[str, str]]]:
        out: dict[str, list[tuple[str, str]]] = {}
        h = self.hamlets
        for commune, code, name in zip(h["commune_code"], h["code"], h["name"], strict=True):
            out.setdefault(commune, []).append((code, name))
        return out

    def hamlets_of(self, commune: str) -> list[tuple[str, str]]:
        """(code, name) of a commune's hamlets, in registry order."""
        return self._hamlets_by_commune.get(commune, [])

    @cached_property
    def followers(self) -> dict[str, list[str]]:
        """Unit (hamlet or commune code) → the cadres assigned to it, in registry order."""
        out: dict[str, list[str]] = {}
        a = self.assignments
        for unit, cadre in zip(a["unit"], a["cadre_code"], strict=True):
            out.setdefault(unit, []).append(cadre)
        return out

    @cached_property
    def cadre_details(self) -> dict[str, tuple[Any, Any, Any]]:
        """Cadre code → (name, position, phone)."""
        c = self.cadres
        return {
            code: (name, position, phone)
            for code, name, position, phone in zip(
                c["code"], c["name"], c["position"], c["phone"], strict=True
            )
        }

    def hamlet_code(self, commune: str, key: str) -> str | None:
        """The code of the commune's hamlet with this name key, or None."""
        return self._hamlet_keys.get(commune, {}).get(key) if key else None

    def owners(self, key: str) -> list[str]:
        """Communes that have a hamlet with this name key."""
        return self._key_owners.get(key, [])

    def hamlet_names(self, commune: str) -> dict[str, str]:
        """Folded key → display name, for suggestions."""
        return {name_key(n): n for _, n in self.hamlets_of(commune)}


def _table(grids: dict[str, Grid], key: str, findings: list[Finding]) -> pd.DataFrame:
    tab = master_layout()[key]
    raw = normalize_tab(grids, tab)
    for f in raw.findings:
        if f.code in ("missing_tab", "missing_columns"):
            findings.append(f)
    frame = raw.frame.drop(columns="_row")
    for column in tab.columns:
        # Registry cells are the district's own: an unreadable date or number is left
        # empty rather than reported, exactly as a blank one.
        if column.type in ("date", "count"):
            parser = parse_date if column.type == "date" else parse_integer
            frame[column.key] = parse_column(frame[column.key], parser).values
        else:
            text = parse_column(frame[column.key], parse_text).values
            frame[column.key] = text.where(text.notna(), "")
    return frame


def load_registry(grids: dict[str, Grid]) -> Registry:
    """Parse the master's registry tabs; problems become findings with no commune."""
    findings: list[Finding] = []
    communes = _table(grids, "communes", findings)
    communes["code"] = communes["code"].map(commune_code)
    communes = communes[communes["code"] != ""].drop_duplicates("code").reset_index(drop=True)
    hamlets = _table(grids, "hamlets", findings)
    hamlets["commune_code"] = hamlets["commune_code"].map(commune_code)
    hamlets = hamlets[hamlets["code"] != ""].drop_duplicates("code").reset_index(drop=True)
    cadres = _table(grids, "cadres", findings)
    cadres = cadres[cadres["code"] != ""].drop_duplicates("code").reset_index(drop=True)
    assignments = _table(grids, "assignments", findings)
    assignments = assignments[assignments["cadre_code"] != ""].reset_index(drop=True)
    assignments["unit"] = assignments["unit"].map(
        lambda u: commune_code(u) if str(u).isdigit() else u
    )
    for code in communes.loc[communes["source"] == "", "code"]:
        findings.append(
            finding(
                "source_unavailable",
                commune=code,
                tab=master_layout()["communes"].title,
                reason="chưa ghi bảng tính báo cáo trong Danh mục xã",
            )
        )
    return Registry(communes, hamlets, cadres, assignments, findings)
