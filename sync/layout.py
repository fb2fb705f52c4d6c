"""Tab layouts (``templates/``) and vocabularies (``mappings/``), read from data files.

Code refers to tabs and columns by their stable keys; what users see (titles, headers,
labels) comes from these files only.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from functools import cache
from importlib.resources.abc import Traversable

from .backends.base import ColumnSpec
from .resources import MAPPINGS_DIR, TEMPLATES_DIR
from .text import fold


@dataclass(frozen=True)
class Column:
    key: str
    header: str
    type: str = "text"
    required: bool = False
    width: float = 12
    format: str | None = None
    #: The values a district tab's dropdown offers (``Loại``, ``Cấp``).
    choices: tuple[str, ...] = ()

    def spec(self) -> ColumnSpec:
        return ColumnSpec(self.header, self.width, self.format)


@dataclass(frozen=True)
class Tab:
    key: str
    title: str
    role: str  # "input" | "output" | "registry"
    columns: tuple[Column, ...]
    period: str | None = None
    note: str = ""

    def column(self, key: str) -> Column:
        return next(c for c in self.columns if c.key == key)

    @property
    def keys(self) -> list[str]:
        return [c.key for c in self.columns]

    @property
    def required(self) -> list[str]:
        return [c.key for c in self.columns if c.required]

    def specs(self) -> list[ColumnSpec]:
        return [c.spec() for c in self.columns]


@dataclass(frozen=True)
class Layout:
    """All tabs of one kind of spreadsheet (commune or master), by key."""

    tabs: dict[str, Tab]
    extra: dict

    def __getitem__(self, key: str) -> Tab:
        return self.tabs[key]

    def by_role(self, role: str) -> list[Tab]:
        return [t for t in self.tabs.values() if t.role == role]


def _load_toml(path: Traversable) -> dict:
    with path.open("rb") as f:
        return tomllib.load(f)


def _layout(name: str) -> Layout:
    data = _load_toml(TEMPLATES_DIR / f"{name}.toml")
    tabs = {}
    for t in data.pop("tabs"):
        columns = tuple(
            Column(**{k: tuple(v) if isinstance(v, list) else v for k, v in c.items()})
            for c in t.pop("columns")
        )
        tabs[t["key"]] = Tab(columns=columns, **t)
    return Layout(tabs, data)


@cache
def commune_layout() -> Layout:
    """The commune sheet: input tabs the commune fills, output tabs namcoso writes."""
    return _layout("commune")


@cache
def master_layout() -> Layout:
    """The master: registry tabs the district keeps, output tabs sync writes."""
    return _layout("master")


@dataclass(frozen=True)
class Rating:
    code: str
    label: str


@dataclass(frozen=True)
class Vocab:
    """Accepted forms (folded) → canonical values, and the lists users pick from."""

    ratings: tuple[Rating, ...]
    rating_forms: dict[str, str]  # folded form → code
    yes_label: str
    no_label: str
    yesno_forms: dict[str, bool]  # folded form → bool
    field_labels: tuple[str, ...]
    field_forms: dict[str, str]  # folded form → label
    hamlet_prefixes: tuple[str, ...]  # folded, longest first
    hamlet_prefix_words: tuple[str, ...]  # as written (with diacritics)
    hamlet_prefix_kinds: dict[str, str]  # a prefix → the kind it names ("kp" → "khu phố")
    total_exact: frozenset[str]
    total_starts: tuple[str, ...]


@cache
def vocab() -> Vocab:
    data = _load_toml(MAPPINGS_DIR / "vocab.toml")
    ratings = tuple(Rating(r["code"], r["label"]) for r in data["ratings"])
    rating_forms: dict[str, str] = {}
    for r in data["ratings"]:
        for form in [r["code"], r["label"], *r["forms"]]:
            rating_forms[fold(form)] = r["code"]
    yesno_forms = {fold(w) or w: True for w in data["yesno"]["yes"]}
    yesno_forms.update({fold(w) or w: False for w in data["yesno"]["no"]})
    yesno_forms[fold(data["yesno"]["yes_label"])] = True
    yesno_forms[fold(data["yesno"]["no_label"])] = False
    field_forms = {}
    for f in data["fields"]:
        for form in [f["label"], *f["forms"]]:
            field_forms[fold(form)] = f["label"]
    prefixes = sorted({fold(w) for w in data["hamlet_prefixes"]["words"]}, key=len, reverse=True)
    return Vocab(
        ratings=ratings,
        rating_forms=rating_forms,
        yes_label=data["yesno"]["yes_label"],
        no_label=data["yesno"]["no_label"],
        yesno_forms=yesno_forms,
        field_labels=tuple(f["label"] for f in data["fields"]),
        field_forms=field_forms,
        hamlet_prefixes=tuple(prefixes),
        hamlet_prefix_words=tuple(data["hamlet_prefixes"]["words"]),
        hamlet_prefix_kinds=dict(data["hamlet_prefixes"].get("kinds", {})),
        total_exact=frozenset(data["totals"]["exact"]),
        total_starts=tuple(data["totals"]["starts"]),
    )
