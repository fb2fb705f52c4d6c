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
from .text import fold, loose_word, name_words, strip_prefixes
from .values import parse_column, parse_date, parse_integer, parse_text

_LETTER_DIGIT = re.compile(r"([a-z])(\d)")


def commune_code(value: Any) -> str:
    """A GSO commune code as 5 digits (``29110``), whatever type the cell holds."""
    text = parse_text(value)
    return text.zfill(5) if text.isdigit() else text


@lru_cache(maxsize=200_000)
def name_key(name: str) -> str:
    """A name folded for suggestions: no diacritics, without "Ấp"/"Khu phố"/"KP"… prefixes.

    Never used to decide an identity on its own (see :class:`NameIndex`)."""
    spaced = _LETTER_DIGIT.sub(r"\1 \2", fold(name))
    return strip_prefixes(spaced, vocab().hamlet_prefixes)


@lru_cache(maxsize=1)
def _prefixes() -> tuple[tuple[tuple[str, ...], ...], tuple[tuple[str, ...], ...]]:
    """(exact, folded) prefix word groups, longest first."""
    exact = {name_words(p) for p in vocab().hamlet_prefix_words}
    loose = {tuple(map(loose_word, p)) for p in exact}
    return (
        tuple(sorted(exact, key=len, reverse=True)),
        tuple(sorted(loose, key=len, reverse=True)),
    )


@lru_cache(maxsize=1)
def _kinds() -> dict[tuple[str, ...], tuple[str, ...]]:
    """Prefix words → the words of the kind they name (``mappings/vocab.toml``)."""
    return {name_words(k): name_words(v) for k, v in vocab().hamlet_prefix_kinds.items()}


def _split(
    words: tuple[str, ...], prefixes: tuple[tuple[str, ...], ...]
) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(one leading prefix group, the rest), when something is left after it."""
    for prefix in prefixes:
        if len(words) > len(prefix) and words[: len(prefix)] == prefix:
            return prefix, words[len(prefix) :]
    return (), words


@lru_cache(maxsize=200_000)
def name_keys(name: str) -> tuple[str, str, frozenset[str]]:
    """(the name as typed, without its prefix, its forms without diacritics), each a key.

    The first two compare every diacritic (tone placement aside, see
    :func:`sync.text.name_words`); the first reads a prefix as the kind it names ("KP 1"
    is "Khu phố 1"); the last is how the name reads with no diacritics at all."""
    words = name_words(name)
    exact_prefixes, loose_prefixes = _prefixes()
    prefix, stripped = _split(words, exact_prefixes)
    full = (*_kinds().get(prefix, prefix), *stripped)
    folded = tuple(map(loose_word, words))
    loose = {" ".join(map(loose_word, stripped)), " ".join(_split(folded, loose_prefixes)[1])}
    return " ".join(full), " ".join(stripped), frozenset(loose)


@dataclass(frozen=True)
class NameMatch:
    """How a typed name was read against the registry.

    ``how`` is ``exact`` (the name as registered), ``loose`` (only once diacritics are
    ignored, and only one registered name reads so), ``ambiguous`` (several registered
    names match) or ``none``. ``codes`` are the codes that matched, ``names`` their
    registered names (for messages).
    """

    how: str
    codes: tuple[str, ...] = ()
    names: tuple[str, ...] = ()
    by_diacritics: bool = True  # whether every diacritic was compared (not the last tier)

    @property
    def code(self) -> str | None:
        """The one code read, or None when the name was not matched."""
        return self.codes[0] if self.how in ("exact", "loose") else None


NO_MATCH = NameMatch("none")


class NameIndex:
    """Registered names (and other names of the same thing: a code, a cell's name) → code.

    A typed name is matched as SPEC "Names are identities" says: exactly as written,
    then exactly without its "Ấp"/"Khu phố"/"KP" prefix, then ignoring diacritics only if
    exactly one registered thing matches that way. Nothing is ever picked among several.
    """

    def __init__(self) -> None:
        self._tiers: tuple[dict[str, set[str]], ...] = ({}, {}, {})
        self.display: dict[str, str] = {}

    def add(self, code: str, display: str, *names: Any) -> None:
        """Register ``code`` shown as ``display``, known by ``display`` and ``names``."""
        self.display.setdefault(code, display)
        for name in (display, *names):
            if not isinstance(name, str) or not name.strip():
                continue
            full, stripped, loose = name_keys(name)
            self._tiers[0].setdefault(full, set()).add(code)
            self._tiers[1].setdefault(stripped, set()).add(code)
            for key in loose:
                self._tiers[2].setdefault(key, set()).add(code)

    def match(self, typed: Any) -> NameMatch:
        """Read one typed name (see the class docstring)."""
        if not isinstance(typed, str) or not typed.strip():
            return NO_MATCH
        full, stripped, loose = name_keys(typed)
        for tier, keys in enumerate(((full,), (stripped,), tuple(loose))):
            codes = sorted(set().union(*(self._tiers[tier].get(k, ()) for k in keys)))
            if codes:
                how = "ambiguous" if len(codes) > 1 else "loose" if tier == 2 else "exact"
                names = tuple(self.display[c] for c in codes)
                return NameMatch(how, tuple(codes), names, tier < 2)
        return NO_MATCH

    def twins(self) -> list[list[str]]:
        """Groups of codes whose names read the same once diacritics are ignored."""
        groups: dict[str, list[str]] = {}
        for code, display in self.display.items():
            stripped = name_keys(display)[1]
            groups.setdefault(" ".join(map(loose_word, stripped.split())), []).append(code)
        return [codes for codes in groups.values() if len(codes) > 1]


@dataclass
class Registry:
    communes: pd.DataFrame  # code, name, kind, source, email
    hamlets: pd.DataFrame  # code, commune_code, name, kind, cell_name, households
    cadres: pd.DataFrame  # code, name, level, position, workplace, phone, email
    assignments: pd.DataFrame  # cadre_code, unit, start, end, note
    findings: list[Finding] = field(default_factory=list)
    #: Hamlets left out of ``hamlets`` because their code is another hamlet's (a registry
    #: error): code, commune_code, name, cell_name. Their names are still recognised, so a
    #: commune typing one is told why the row waits, not that the hamlet is unknown.
    held_hamlets: pd.DataFrame | None = None

    @cached_property
    def _hamlet_indexes(self) -> dict[str, NameIndex]:
        """Per commune: its hamlets' names, cells' names and codes. A held hamlet is known
        by a code of its own (``HELD_PREFIX`` + its row), never its duplicated one."""
        out: dict[str, NameIndex] = {}
        frames = [(self.hamlets, False)]
        if self.held_hamlets is not None:
            frames.append((self.held_hamlets, True))
        for frame, held in frames:
            rows = zip(
                frame["commune_code"].tolist(),
                frame["code"].tolist(),
                frame["name"].tolist(),
                frame["cell_name"].tolist(),
                strict=True,
            )
            for i, (commune, code, name, cell_name) in enumerate(rows):
                index = out.setdefault(commune, NameIndex())
                if held:
                    index.add(f"{HELD_PREFIX}{i}", name or code, cell_name)
                else:
                    index.add(code, name or code, cell_name, code)
        return out

    @cached_property
    def _hamlet_owner_index(self) -> NameIndex:
        """Every hamlet of the district by its names, the code naming its commune."""
        index = NameIndex()
        h = self.hamlets
        for commune, code, name, cell_name in zip(
            h["commune_code"], h["code"], h["name"], h["cell_name"], strict=True
        ):
            index.add(f"{commune}|{code}", name or code, cell_name, code)
        return index

    @cached_property
    def _commune_index(self) -> NameIndex:
        index = NameIndex()
        for code, name in zip(self.communes["code"], self.communes["name"], strict=True):
            index.add(code, name or code, code)
        return index

    @cached_property
    def _cadre_index(self) -> NameIndex:
        index = NameIndex()
        for code, name in zip(self.cadres["code"], self.cadres["name"], strict=True):
            index.add(code, name or code, code)
        return index

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

    def match_hamlet(self, commune: str, typed: Any) -> NameMatch:
        """Read a hamlet name typed in ``commune``'s sheet against that commune's hamlets.

        A match on a held hamlet (its code duplicated in the registry) has a code starting
        with ``HELD_PREFIX``."""
        index = self._hamlet_indexes.get(commune)
        return index.match(typed) if index is not None else NO_MATCH

    def owners(self, typed: Any, exact: bool = False) -> list[str]:
        """Communes with a hamlet this typed name reads as (exactly, else by ignoring
        diacritics unless ``exact``), in code order."""
        found = self._hamlet_owner_index.match(typed)
        if exact and not found.by_diacritics:
            return []
        return sorted({c.partition("|")[0] for c in found.codes})

    def match_commune(self, typed: Any) -> NameMatch:
        """Read a commune name (or code) against ``Danh mục xã``."""
        return self._commune_index.match(typed)

    def match_cadre(self, typed: Any) -> NameMatch:
        """Read a cadre's name (or code) against ``Cán bộ``."""
        return self._cadre_index.match(typed)

    def hamlet_names(self, commune: str) -> dict[str, str]:
        """Folded key → display name, for suggestions."""
        return {name_key(n): n for _, n in self.hamlets_of(commune)}


#: Codes given to held hamlets in name matching (never a real code: it has a space).
HELD_PREFIX = "held "


def _table(grids: dict[str, Grid], key: str, findings: list[Finding]) -> tuple[pd.DataFrame, Any]:
    """One registry tab as a frame (with ``_row``, its sheet row) and the tab as read."""
    tab = master_layout()[key]
    raw = normalize_tab(grids, tab)
    for f in raw.findings:
        if f.code in ("missing_tab", "missing_columns"):
            findings.append(f)
    frame = raw.frame
    for column in tab.columns:
        # Registry cells are the district's own: an unreadable date or number is left
        # empty rather than reported, exactly as a blank one.
        if column.type in ("date", "count"):
            parser = parse_date if column.type == "date" else parse_integer
            frame[column.key] = parse_column(frame[column.key], parser).values
        else:
            text = parse_column(frame[column.key], parse_text).values
            frame[column.key] = text.where(text.notna(), "")
    return frame, raw


def _first_of_each_code(
    frame: pd.DataFrame, raw: Any, findings: list[Finding], column: str = "code"
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(rows with a code, the first of each; the later rows sharing a code). Every row of
    a shared code gets a ``Lỗi``, so neither is dropped without a word."""
    frame = frame[frame[column] != ""]
    shared = frame[frame.duplicated(column, keep=False)]
    for code, group in shared.groupby(column, sort=False):
        rows = group["_row"].tolist()
        for row, name in zip(rows, group["name"], strict=True):
            others = ", ".join(str(r) for r in rows if r != row)
            findings.append(
                finding(
                    "registry_duplicate_code",
                    tab=raw.title,
                    cell=raw.cell(column, row),
                    row=row,
                    value=code,
                    name=name,
                    rows=others,
                    kept=rows[0],
                )
            )
    later = frame.duplicated(column, keep="first")
    return frame[~later].reset_index(drop=True), frame[later].reset_index(drop=True)


def _twin_findings(hamlets: pd.DataFrame, raw: Any, findings: list[Finding]) -> None:
    """Two hamlets of one commune whose names read the same without diacritics: names
    typed in that commune must then be exact, so the district is told."""
    for _commune, group in hamlets.groupby("commune_code", sort=False):
        index = NameIndex()
        rows = {}
        for code, name, row in zip(group["code"], group["name"], group["_row"], strict=True):
            if name:
                index.add(code, name)
                rows[code] = row
        for codes in index.twins():
            for code in codes:
                others = [f'"{index.display[c]}"' for c in codes if c != code]
                findings.append(
                    finding(
                        "registry_diacritic_twins",
                        tab=raw.title,
                        cell=raw.cell("name", rows[code]),
                        row=rows[code],
                        value=index.display[code],
                        others=", ".join(others),
                    )
                )


def _unknown_units(
    assignments: pd.DataFrame, raw: Any, units: set[str], cadres: set[str], findings: list[Finding]
) -> None:
    """Assignments to a unit that is neither a registered commune nor hamlet, or of a
    cadre not in ``Cán bộ``."""
    for cadre, unit, row in zip(
        assignments["cadre_code"], assignments["unit"], assignments["_row"], strict=True
    ):
        if unit not in units:
            findings.append(
                finding(
                    "registry_unknown_unit",
                    tab=raw.title,
                    cell=raw.cell("unit", row),
                    row=row,
                    value=unit,
                    cadre=cadre,
                )
            )
        if cadre not in cadres:
            findings.append(
                finding(
                    "registry_unknown_cadre",
                    tab=raw.title,
                    cell=raw.cell("cadre_code", row),
                    row=row,
                    value=cadre,
                )
            )


def load_registry(grids: dict[str, Grid]) -> Registry:
    """Parse the master's registry tabs and check them; problems become findings with no
    commune, at the district tab's own cell."""
    findings: list[Finding] = []
    communes, communes_raw = _table(grids, "communes", findings)
    communes["code"] = communes["code"].map(commune_code)
    communes, _ = _first_of_each_code(communes, communes_raw, findings)
    hamlets, hamlets_raw = _table(grids, "hamlets", findings)
    hamlets["commune_code"] = hamlets["commune_code"].map(commune_code)
    hamlets, held = _first_of_each_code(hamlets, hamlets_raw, findings)
    _twin_findings(hamlets, hamlets_raw, findings)
    cadres, cadres_raw = _table(grids, "cadres", findings)
    cadres, _ = _first_of_each_code(cadres, cadres_raw, findings)
    assignments, assignments_raw = _table(grids, "assignments", findings)
    assignments = assignments[assignments["cadre_code"] != ""].reset_index(drop=True)
    assignments["unit"] = assignments["unit"].map(
        lambda u: commune_code(u) if str(u).isdigit() else u
    )
    units = set(communes["code"]) | set(hamlets["code"])
    _unknown_units(assignments, assignments_raw, units, set(cadres["code"]), findings)
    for code in communes.loc[communes["source"] == "", "code"]:
        findings.append(
            finding(
                "source_unavailable",
                commune=code,
                tab=master_layout()["communes"].title,
                reason="chưa ghi bảng tính báo cáo trong Danh mục xã",
            )
        )
    return Registry(
        *(f.drop(columns="_row") for f in (communes, hamlets, cadres, assignments)),
        findings=findings,
        held_hamlets=held.drop(columns="_row"),
    )
