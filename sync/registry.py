"""The district's registry (the master's district-owned tabs), parsed and indexed.

Communes, hamlets, cadres and assignments are read with the same header mapping as the
commune sheets, so staff may add columns or notes to these tabs freely.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cached_property, lru_cache
from typing import Any, NamedTuple

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
def _prefixes() -> tuple[dict[str, tuple[tuple[str, ...], ...]], ...]:
    """(exact, folded) prefix word groups by their first word, longest first."""
    exact = {name_words(p) for p in vocab().hamlet_prefix_words}
    loose = {tuple(map(loose_word, p)) for p in exact}
    out = []
    for groups in (exact, loose):
        by_first: dict[str, list[tuple[str, ...]]] = {}
        for group in sorted(groups, key=len, reverse=True):
            by_first.setdefault(group[0], []).append(group)
        out.append({k: tuple(v) for k, v in by_first.items()})
    return tuple(out)


@lru_cache(maxsize=1)
def _kinds() -> dict[tuple[str, ...], tuple[str, ...]]:
    """Prefix words → the words of the kind they name (``mappings/vocab.toml``)."""
    return {name_words(k): name_words(v) for k, v in vocab().hamlet_prefix_kinds.items()}


def _prefix(words: tuple[str, ...], prefixes: dict[str, tuple[tuple[str, ...], ...]]) -> int:
    """How many leading words are one prefix group (0: none), when something is left."""
    for prefix in prefixes.get(words[0], ()) if words else ():
        if len(words) > len(prefix) and words[: len(prefix)] == prefix:
            return len(prefix)
    return 0


class NameKeys(NamedTuple):
    """The keys a name is matched by (see :class:`NameIndex`)."""

    full: str  # every diacritic, a prefix read as its kind ("KP 1" is "khu phố 1")
    stripped: str  # every diacritic, without the prefix
    loose: str  # without diacritics, without the prefix
    loose_alt: str  # without diacritics, without a prefix recognised once folded


@lru_cache(maxsize=400_000)
def name_keys(name: str) -> NameKeys:
    """How a name is matched: tone placement, case, spacing and punctuation aside (see
    :func:`sync.text.name_words`), with and without diacritics and prefix."""
    words = name_words(name)
    exact_prefixes, loose_prefixes = _prefixes()
    n = _prefix(words, exact_prefixes)
    stripped = words[n:]
    full = (*_kinds().get(words[:n], words[:n]), *stripped)
    folded = words if name.isascii() else tuple(map(loose_word, words))
    return NameKeys(
        " ".join(full),
        " ".join(stripped),
        " ".join(folded[n:]),
        " ".join(folded[_prefix(folded, loose_prefixes) :]),
    )


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
    """Registered names (and other names of the same thing: a code, a cell's name) → code,
    within scopes (a commune's hamlets), or one scope ``""`` for communes and cadres.

    A typed name is matched as SPEC "Names are identities" says: exactly as written,
    then exactly without its "Ấp"/"Khu phố"/"KP" prefix, then ignoring diacritics only if
    exactly one registered thing of the scope matches that way. Nothing is ever picked
    among several.

    Most cells repeat a registered name character for character, so those are looked up
    as they are; a scope's keys are worked out the first time a name in it is not, and a
    match once per (scope, typed text).
    """

    def __init__(self) -> None:
        #: (tier, key, scope) → codes
        self._keys: dict[tuple[int, str, str], list[str]] = {}
        self._pending: dict[str, list[tuple[str, tuple[Any, ...]]]] = {}
        #: (scope, name exactly as registered) → code, or "" when two codes share it
        self._verbatim: dict[tuple[str, str], str] = {}
        self._memo: dict[tuple[str, str], NameMatch] = {}
        self._by_key: dict[tuple[int, str], set[str]] | None = None
        self.display: dict[str, str] = {}

    def add(self, code: str, display: str, *names: Any, scope: str = "") -> None:
        """Register ``code`` shown as ``display``, known by ``display`` and ``names``."""
        self.display.setdefault(code, display)
        names = (display, *names)
        self._pending.setdefault(scope, []).append((code, names))
        for name in names:
            if isinstance(name, str) and name:
                known = self._verbatim.setdefault((scope, name), code)
                if known != code:
                    self._verbatim[(scope, name)] = ""
        self._memo.clear()
        self._by_key = None

    def _build(self, scope: str) -> None:
        for code, names in self._pending.pop(scope, ()):
            for name in names:
                if not isinstance(name, str) or not name.strip():
                    continue
                keys = name_keys(name)
                for tier, key in ((0, keys.full), (1, keys.stripped), (2, keys.loose)):
                    codes = self._keys.setdefault((tier, key, scope), [])
                    if code not in codes:
                        codes.append(code)
                if keys.loose_alt != keys.loose:
                    codes = self._keys.setdefault((2, keys.loose_alt, scope), [])
                    if code not in codes:
                        codes.append(code)

    @staticmethod
    def _tiers(typed: str) -> tuple[tuple[int, str], ...]:
        keys = name_keys(typed)
        return ((0, keys.full), (1, keys.stripped), (2, keys.loose), (2, keys.loose_alt))

    def match(self, typed: Any, scope: str = "") -> NameMatch:
        """Read one typed name within ``scope`` (see the class docstring)."""
        if not isinstance(typed, str) or not typed.strip():
            return NO_MATCH
        memo = self._memo.get((scope, typed))
        if memo is not None:
            return memo
        code = self._verbatim.get((scope, typed))
        if code:
            result = NameMatch("exact", (code,), (self.display[code],))
        else:
            result = self._match_keys(typed, scope)
        self._memo[(scope, typed)] = result
        return result

    def _match_keys(self, typed: str, scope: str) -> NameMatch:
        if scope in self._pending:
            self._build(scope)
        found: list[str] = []
        tier = 0
        for tier, key in self._tiers(typed):
            found.extend(c for c in self._keys.get((tier, key, scope), ()) if c not in found)
            if found and tier < 2:
                break
        if not found:
            return NO_MATCH
        how = "ambiguous" if len(found) > 1 else "loose" if tier == 2 else "exact"
        found.sort()
        return NameMatch(how, tuple(found), tuple(self.display[c] for c in found), tier < 2)

    def scopes(self, typed: Any, exact: bool = False) -> list[str]:
        """The scopes holding something this name reads as: exactly, else (unless
        ``exact``) without diacritics; in order. (Builds every scope: for the rare name
        that matches nothing in its own.)"""
        if not isinstance(typed, str) or not typed.strip():
            return []
        if self._by_key is None:
            for scope in list(self._pending):
                self._build(scope)
            self._by_key = {}
            for tier, key, scope in self._keys:
                self._by_key.setdefault((tier, key), set()).add(scope)
        for tiers in ((0, 1), () if exact else (2,)):
            found = set().union(
                *(self._by_key.get((t, k), ()) for t, k in self._tiers(typed) if t in tiers)
            )
            if found:
                return sorted(found)
        return []


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
    def _hamlet_index(self) -> NameIndex:
        """Each commune's hamlets (the scope: the commune code) by name, cell name and code.
        A held hamlet is known by a code of its own (``HELD_PREFIX`` + its row), never by
        its duplicated one."""
        index = NameIndex()
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
                if held:
                    index.add(f"{HELD_PREFIX}{i}", name or code, cell_name, scope=commune)
                else:
                    index.add(code, name or code, cell_name, code, scope=commune)
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
        return self._hamlet_index.match(typed, commune)

    def owners(self, typed: Any, exact: bool = False) -> list[str]:
        """Communes with a hamlet this typed name reads as (exactly, else by ignoring
        diacritics unless ``exact``), in code order."""
        return self._hamlet_index.scopes(typed, exact)

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
    keys = hamlets["name"].map(lambda n: name_key(n) if n else "")
    pairs = pd.DataFrame({"commune": hamlets["commune_code"], "key": keys})
    twin = hamlets[(keys != "") & pairs.duplicated(keep=False)]
    for _, group in twin.groupby([twin["commune_code"], keys[twin.index]], sort=False):
        for name, row in zip(group["name"], group["_row"], strict=True):
            others = ", ".join(f'"{n}"' for n in group["name"] if n != name) or f'"{name}"'
            findings.append(
                finding(
                    "registry_diacritic_twins",
                    tab=raw.title,
                    cell=raw.cell("name", row),
                    row=row,
                    value=name,
                    others=others,
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
