"""The demo project: Ba Tri district (Bến Tre), 2018, on the local backend.

``build_demo_project`` writes ``namcoso.toml``, ``master.xlsx`` (the four registry tabs) and
one workbook per commune (the four input tabs) into a folder. Everything comes from one
seeded generator, so every build holds the same values. The commune files are realistic,
not clean: several communes drift from the template (titles above the header, renamed or
reordered columns, extra columns, blank and totals rows, NFD text, old tone placement,
numbers as text, every accepted month/date/yes-no/amount form, legacy encodings), and some
rows are planted wrong. Every planted problem is listed in :data:`PLANTED` (district) or
:func:`planted_problems` with its commune, tab, A1 cell and the finding it should raise.
The planted rows are extra rows, or take the place of one month's report of one hamlet:
the 129 ratings of 2018 always come through (:data:`EXPECTED_2018`).
"""

from __future__ import annotations

import csv
import math
import random
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import cache
from pathlib import Path
from typing import Any

from ..backends.base import Grid
from ..backends.local import write_workbook
from ..findings import column_letter
from ..layout import Tab, commune_layout, master_layout, vocab
from ..text import fold, strip_prefixes
from ..units import VIETNAM
from . import names as N

DATA_DIR = Path(__file__).resolve().parent.parent / "data"
SEED = 20181231
YEAR = 2018
#: Earlier years the demo carries as synced history (the seed's "sơ kết 3 năm" 2016-2018).
HISTORY = (YEAR - 2, YEAR - 1)
FIRST_YEAR = HISTORY[0]
#: Rating shares of the history years, of 129 cells: fewer "xuất sắc" before 2018.
HISTORY_RATINGS = {YEAR - 2: (20, 10, 1), YEAR - 1: (27, 6, 0)}  # (HTXSNV, HTNV, KHTNV)
#: The clock of ``run_demo``'s sync: the deadline of the demo year's last reports (UTC+7).
DEMO_NOW = datetime(YEAR + 1, 1, 5, 16, 0, tzinfo=VIETNAM)
EXPECTED_2018 = {"HTXSNV": 34, "HTTNV": 91, "HTNV": 4, "KHTNV": 0, "unrated": 0, "cells": 129}
#: Communes whose typed text is written in a legacy encoding, through ``sync.legacy``
#: (skipped, and no finding planted, while that module or ``encode_legacy`` is missing).
LEGACY_COMMUNES = {"29170": "TCVN3", "29173": "VNI-Windows"}
#: A note pasted from two old files: "Đã họp bổ sung theo" in TCVN3, "Nghị quyết" in VNI.
#: Neither encoding reads it whole, so it is kept as typed and reported (legacy_suspected).
MIXED_LEGACY_NOTE = "§· häp bæ sung theo Nghò quyeát"
CONFIG_TEXT = """[project]
name = "{name}"
scope = "{scope}"
backend = "local"

[local]
master = "master.xlsx"
communes_dir = "communes"

[rules]
period_start = "{year}-01"
""".replace("{year}", str(YEAR - 1))  # from the oldest year the demo holds (its 2017
# ratings; 2016 with the synced history): a year before period_start is refused
# Planted problems, by position in the district list. Province keeps fewer of them.
PLANTS = {
    0: ("bad_amount",), 1: ("formula_eq",), 2: ("formula_plus",), 3: ("unknown_hamlet",),
    4: ("foreign_hamlet",), 6: ("bad_month", "impossible_month", "future_month"),
    7: ("bad_date", "impossible_date"), 8: ("formula_minus",), 9: ("date_outside_month",),
    10: ("early_month",), 11: ("loose_name",), 12: ("present_over_total", "negative_count"),
    13: ("not_integer", "zero_members"),
    14: ("missing_value",), 16: ("duplicate_conflict", "duplicate_identical"),
    17: ("formula_at",), 19: ("unknown_rating", "rating_conflict"), 22: ("missing_column",),
    23: ("missing_tab",),
}  # fmt: skip
PROVINCE_PLANTS = {"unknown_hamlet", "foreign_hamlet", "bad_date", "present_over_total",
                   "formula_eq", "duplicate_identical", "bad_amount", "missing_tab"}  # fmt: skip


class Raw:
    """A cell value written exactly as given (planted values)."""

    def __init__(self, value: Any) -> None:
        self.value = value


@dataclass
class Cadre:
    code: str
    name: str
    level: str
    position: str
    workplace: str
    phone: str
    units: list[str] = field(default_factory=list)


@dataclass
class Hamlet:
    code: str
    name: str
    kind: str
    households: int
    members: int
    cadre: Cadre | None = None
    rating: str = ""
    low: bool = False  # attendance persistently under 85%
    rare: bool = False  # the district cadre rarely attends
    past: dict[int, str] = field(default_factory=dict)  # history year → rating code


@dataclass
class Commune:
    index: int
    code: str
    name: str
    kind: str
    hamlets: list[Hamlet] = field(default_factory=list)


@dataclass
class Project:
    name: str
    master: dict[str, Grid]
    communes: dict[str, dict[str, Grid]]
    planted: list[dict]
    ratings: dict[str, int]


def _load_communes(scale: str) -> list[tuple[str, str, str]]:
    if scale == "district":
        path, wanted = DATA_DIR / "ba_tri_2019_communes.csv", None
    elif scale == "province":
        path, wanted = DATA_DIR / "vn_admin_units_2020.csv", "Tỉnh Bến Tre"
    else:
        raise ValueError(f"scale must be 'district' or 'province', not {scale!r}")
    with path.open(encoding="utf-8") as f:
        rows = [r for r in csv.DictReader(f) if wanted is None or r["province_name"] == wanted]
    return [(r["commune_code"].zfill(5), r["commune_name"], r["commune_type"]) for r in rows]


def _hamlet_counts(rng: random.Random, n: int, scale: str) -> list[int]:
    if scale == "province":
        return [rng.randint(5, 7) for _ in range(n)]
    counts = [rng.randint(4, 7) for _ in range(n)]
    while sum(counts) != EXPECTED_2018["cells"]:
        i = rng.randrange(n)
        if sum(counts) < EXPECTED_2018["cells"] and counts[i] < 8:
            counts[i] += 1
        elif sum(counts) > EXPECTED_2018["cells"] and counts[i] > 4:
            counts[i] -= 1
    return counts


def _key(name: str) -> str:
    return strip_prefixes(fold(name), vocab().hamlet_prefixes)


def _rating_counts(n: int) -> dict[str, int]:
    if n == EXPECTED_2018["cells"]:
        return {k: EXPECTED_2018[k] for k in ("HTXSNV", "HTTNV", "HTNV", "KHTNV")}
    top, low, fail = round(n * 34 / 129), round(n * 4 / 129), n // 400
    return {"HTXSNV": top, "HTTNV": n - top - low - fail, "HTNV": low, "KHTNV": fail}


def _registry(scale: str) -> tuple[list[Commune], list[Cadre], dict[str, int]]:
    """Communes, hamlets, cadres and their assignments, and the 2018 rating counts."""
    rng = random.Random(f"{SEED}:{scale}")
    units = _load_communes(scale)
    counts = _hamlet_counts(rng, len(units), scale)
    names: set[str] = set()
    phones: set[str] = set()
    communes: list[Commune] = []
    for i, ((code, name, ctype), n) in enumerate(zip(units, counts, strict=True)):
        kind = ctype[:1].upper() + ctype[1:]
        hkind = "Ấp" if kind == "Xã" else "Khu phố"
        commune = Commune(i, code, name, kind)
        named = "unknown_hamlet" in PLANTS.get(i, ())  # a misspelling needs a name to miss
        for j, hname in enumerate(N.hamlet_names(rng, hkind, n, named), start=1):
            hh = rng.randint(150, 600)
            members = max(15, min(60, hh // 10 + rng.randint(-8, 8)))
            commune.hamlets.append(Hamlet(f"{code}-{j:02d}", hname, hkind, hh, members))
        communes.append(commune)
    hamlets = [h for c in communes for h in c.hamlets]
    width = max(3, len(str(len(hamlets))))
    cadres = []
    for k, h in enumerate(hamlets, start=1):
        pos, unit = rng.choice(N.DISTRICT_POSITIONS), rng.choice(N.DISTRICT_UNITS)
        h.cadre = Cadre(f"H{k:0{width}d}", N.person(rng, names), "Huyện", pos, unit,
                        N.phone(rng, phones), [h.code])  # fmt: skip
        cadres.append(h.cadre)
    twos = len(communes) // 8  # Ba Tri: 21 provincial cadres, three of them on two communes
    order = rng.sample([c.code for c in communes], len(communes))
    width = max(2, len(str(len(communes) - twos)))
    for k in range(len(communes) - twos):
        followed = order[2 * k : 2 * k + 2] if k < twos else [order[twos + k]]
        pos, unit = rng.choice(N.PROVINCE_POSITIONS), rng.choice(N.PROVINCE_UNITS)
        cadres.append(Cadre(f"T{k + 1:0{width}d}", N.person(rng, names), "Tỉnh", pos, unit,
                            N.phone(rng, phones), followed))  # fmt: skip
    ratings = _rating_counts(len(hamlets))
    codes = [code for code, count in ratings.items() for _ in range(count)]
    rng.shuffle(codes)
    for h, code in zip(hamlets, codes, strict=True):
        h.rating = code
    flagged = max(2, len(hamlets) * 10 // 129)
    for h in rng.sample(hamlets, flagged):
        h.low = True
    for h in rng.sample(hamlets, flagged):
        h.rare = True
    return communes, cadres, ratings


def _master(
    communes: list[Commune], cadres: list[Cadre], scale: str, since: int
) -> dict[str, Grid]:
    layout = master_layout()
    domain = "batri.bentre.gov.vn" if scale == "district" else "bentre.gov.vn"
    rows_c, rows_h = [], []
    for c in communes:
        slug = fold(c.name.split(" ", 1 if c.kind != "Thị trấn" else 2)[-1]).replace(" ", "")
        email = f"vpdu.{slug}@{domain}" if c.index % 5 else None
        rows_c.append([c.code, c.name, c.kind, f"{c.code}.xlsx", email])
        for h in c.hamlets:
            cell = "Chi bộ " + h.name[:1].lower() + h.name[1:]
            rows_h.append([h.code, c.code, h.name, h.kind, cell, h.households])
    rows_k = [[k.code, k.name, k.level, k.position, k.workplace, k.phone, None] for k in cadres]
    start = datetime(since, 1, 1)
    rows_a = [[k.code, unit, start, None, None] for k in cadres for unit in k.units]
    grids = {"communes": rows_c, "hamlets": rows_h, "cadres": rows_k, "assignments": rows_a}
    return {layout[key].title: [[c.header for c in layout[key].columns], *rows]
            for key, rows in grids.items()}  # fmt: skip


# -- the commune sheets ---------------------------------------------------------------------
class _Sheet:
    """Writes one commune's records as grids in that commune's habits, noting planted cells."""

    def __init__(self, c: Commune, style: dict, planted: list[dict]) -> None:
        self.c, self.style, self.planted = c, style, planted
        self.rng = random.Random(f"{SEED}:{c.code}:cells")
        self.transform = N.text_transform(LEGACY_COMMUNES.get(c.code), style)
        self.legacy = c.code in LEGACY_COMMUNES and N.legacy_encoder() is not None
        self.rows = 0

    def plant(self, tab: str, cell: str | None, code: str, value: Any, what: str) -> None:
        self.planted.append({"commune": self.c.code, "tab": tab, "cell": cell, "code": code,
                             "value": value, "what": what})  # fmt: skip

    def text(self, s: str) -> str:
        return self.transform(s) if self.transform else s

    def form(self, kind: str, forms: tuple[str, ...]) -> str:
        main = self.style.get(kind, forms[0])
        if main == "mixed":
            return forms[self.rows % len(forms)]
        return self.rng.choice(forms) if self.rng.random() < 0.05 else main

    def value(self, tab: Tab, key: str, v: Any) -> Any:
        if isinstance(v, Raw) or v is None:
            return v.value if isinstance(v, Raw) else None
        kind = tab.column(key).type
        if kind == "month":
            return N.month_cell(*v, self.form("month", N.MONTH_FORMS))
        if kind == "date":
            return N.date_cell(v, self.form("date", N.DATE_FORMS))
        if kind == "yesno":
            yes, no = self.style.get("yes", ("x",)), self.style.get("no", ())
            if v:
                return "X" if yes == ("x",) and self.rng.random() < 0.05 else self.rng.choice(yes)
            return self.rng.choice(no) if no and self.rng.random() < 0.6 else None
        if kind == "amount":
            return N.amount_cell(v, self.rng.choice(N.AMOUNT_FORMS))
        if isinstance(v, int) and self.style.get("text_numbers") and self.rng.random() < 0.7:
            return str(v)
        return self.text(v) if isinstance(v, str) else v

    def render(self, tab: Tab, records: list[dict], drop: tuple[str, ...] = ()) -> Grid:
        st, rng = self.style, self.rng
        keys = [k for k in tab.keys if k not in drop]
        if st.get("reorder"):
            rng.shuffle(keys)
        aliases = N.HEADER_ALIASES.get(st.get("aliases", ""), {}).get(tab.key, {})
        lead = ["STT"] if st.get("stt") else []
        header = lead + [aliases.get(k, tab.column(k).header) for k in keys]
        header += [N.EXTRA_HEADERS[1]] if st.get("extra") else []
        grid: Grid = []
        if st.get("title"):
            grid.append([self.text(f"ĐẢNG ỦY {self.c.name.upper()}")])
            if st["title"] > 2:
                grid.append([self.text(f"{tab.title.upper()} NĂM {YEAR}")])
            grid.append([])
        grid.append(header)
        top = f"A{len(grid)}"
        if st.get("extra"):
            self.plant(tab.title, top, "unmapped_columns", header[0], "cột thêm ngoài mẫu")
        for missing in drop:
            what = f"thiếu cột {tab.column(missing).header}"
            self.plant(tab.title, top, "missing_columns", header[0], what)
        maker, rendered = self.text(N.person(rng, set())), {}
        for n, rec in enumerate(records, start=1):
            if st.get("blank_rows") and rng.random() < 0.04:
                grid.append([None] * len(header))
            self.rows += 1
            if "_copy" in rec:
                row = list(rendered[id(rec["_copy"])])
            else:
                row = [self.value(tab, k, rec.get(k)) for k in keys]
                row = ([n] if lead else []) + row + ([maker] if st.get("extra") else [])
            rendered[id(rec)] = row
            grid.append(row)
            for key, code, what in rec.get("_plants", ()):
                col = len(lead) + keys.index(key)
                self.plant(tab.title, f"{column_letter(col)}{len(grid)}", code, row[col], what)
            if self.legacy and n == 1 and tab.key == "meetings":
                col = len(lead) + keys.index("hamlet")
                cell = f"{column_letter(col)}{len(grid)}"
                self.plant(tab.title, cell, "legacy_text", row[col], LEGACY_COMMUNES[self.c.code])
            if self.legacy and n == 2 and tab.key == "meetings" and "note" in keys:
                col = len(lead) + keys.index("note")
                if "_copy" not in rec and all(k != "note" for k, _, _ in rec.get("_plants", ())):
                    row[col] = MIXED_LEGACY_NOTE
                    cell = f"{column_letter(col)}{len(grid)}"
                    what = "ghi chú dán từ hai tệp cũ (TCVN3 và VNI)"
                    self.plant(tab.title, cell, "legacy_suspected", row[col], what)
        if st.get("totals"):
            sums = {k: sum(r[k] for r in records if isinstance(r.get(k), int))
                    for k in keys if tab.column(k).type in ("count", "positive_count")}  # fmt: skip
            total = [sums.get(k) for k in keys]
            total[keys.index("hamlet")] = self.text("Tổng cộng")
            grid.append([None] * len(lead) + total)
        return grid


def _mark(rec: dict, key: str, code: str, what: str) -> dict:
    rec.setdefault("_plants", []).append((key, code, what))
    return rec


def _meetings(c: Commune, style: dict, rng: random.Random) -> list[dict]:
    records = []
    usual = {h.code: rng.randint(3, 10) for h in c.hamlets}
    joins = {h.code: rng.choice((13, 13, rng.randint(2, 12))) for h in c.hamlets}
    for m in range(1, 13):
        if m in style.get("missing_months", ()):
            continue
        for h in c.hamlets:
            members = h.members + (m >= joins[h.code])
            rec = {"hamlet": h.name, "month": (YEAR, m), "members": members, "_h": h}
            if rng.random() < 0.03:  # did not meet
                rec["note"] = rng.choice(N.NO_MEETING_NOTES)
            else:
                day = min(28, max(1, usual[h.code] + rng.randint(-2, 3)))
                if h.low or rng.random() < 0.05:
                    present = int(members * rng.uniform(0.62, 0.84))
                else:
                    present = min(members, math.ceil(members * rng.uniform(0.86, 1.0)))
                note = rng.choice(N.MEETING_NOTES) if rng.random() < 0.1 else None
                rec |= {"meeting_date": date(YEAR, m, day), "present": present,
                        "cadre_attended": rng.random() < (0.25 if h.rare else 0.9),
                        "committee_met": rng.random() < 0.9, "note": note}  # fmt: skip
            records.append(rec)
    return records


def _ratings(c: Commune, style: dict, rng: random.Random, history: bool) -> list[dict]:
    forms, habit = N.rating_forms(), style.get("ratings", "mixed")
    records = []
    if style.get("ratings_2017"):  # with the synced history, _history rates every 2017
        for h in c.hamlets:  # cell instead (drawn all the same: the data after stays put)
            code = rng.choices(list(forms), weights=(25, 70, 5, 0))[0]
            rating = {"hamlet": h.name, "year": YEAR - 1, "rating": rng.choice(forms[code][habit])}
            if not history:
                records.append(rating)
    for h in c.hamlets:
        note = rng.choice(N.RATING_NOTES) if h.rating == "HTXSNV" and rng.random() < 0.3 else None
        rating = rng.choice(forms[h.rating][habit])
        records.append({"hamlet": h.name, "year": YEAR, "rating": rating, "note": note})
    return records


def _support(c: Commune, cadres: list[Cadre], rng: random.Random, n: int) -> list[dict]:
    fields = [(f["label"], f["forms"]) for f in N.vocab_raw()["fields"]]
    provincial = [k.name for k in cadres if c.code in k.units and k.level == "Tỉnh"]
    records = []
    for _ in range(n):
        h = rng.choice(c.hamlets)
        i = rng.choices(range(len(fields)), weights=(5, 4, 1))[0]
        label, forms = fields[i]
        amount = rng.choice(N.AMOUNTS)
        records.append({
            "hamlet": h.name, "date": date(YEAR, rng.randint(1, 12), rng.randint(1, 28)),
            "field": label if rng.random() < 0.7 else rng.choice(forms),
            "content": rng.choice(N.SUPPORT_CONTENTS[i]), "amount": amount,
            "mobilizer": h.cadre.name if rng.random() < 0.8 or not provincial else provincial[0],
        })  # fmt: skip
    return sorted(records, key=lambda r: r["date"])


def _households(c: Commune, rng: random.Random) -> list[dict]:
    used: set[str] = set()
    pool = [(N.person(rng, used), p) for p in rng.sample(N.COMMUNE_POSITIONS, rng.randint(8, 12))]
    records = []
    for h in c.hamlets:
        k = rng.randint(2, 4)
        total = round(h.households * rng.uniform(0.7, 1.0))
        cuts = [0, *sorted(rng.sample(range(20, total - 20), k - 1)), total]
        for j, (name, position) in enumerate(rng.sample(pool, k)):
            group = f"Tổ {2 * j + 1}, {2 * j + 2}" if rng.random() < 0.5 else f"Tổ {j + 1}"
            records.append({"hamlet": h.name, "cadre": name, "position": position,
                            "households": cuts[j + 1] - cuts[j], "group": group})  # fmt: skip
    return records


def _other_names(c: Commune, communes: list[Commune]) -> tuple[str, str]:
    """(a misspelling of one of c's hamlets, a hamlet name found only in another commune)."""
    owners: dict[str, set[str]] = {}
    for other in communes:
        for h in other.hamlets:
            owners.setdefault(_key(h.name), set()).add(other.code)
    named = [h.name for h in c.hamlets if not h.name[-1].isdigit()] or [h.name for h in c.hamlets]
    typo = next(x for x in (named[0] + named[0][-1], named[0][:-1], named[0] + " A")
                if _key(x) not in owners)  # fmt: skip
    mine = {_key(h.name) for h in c.hamlets}
    others = [(len(owners[k]), h.name) for o in communes if o is not c for h in o.hamlets
              if (k := _key(h.name)) not in mine and not h.name[-1].isdigit()]  # fmt: skip
    foreign = min(others)[1]  # preferably a name only one other commune has
    return typo, foreign


def _apply_plants(c, plants, tabs, communes, rng) -> tuple[str, ...]:
    """Add the planted rows to the records; returns the support columns to drop."""
    meet, rat, sup = tabs["meetings"], tabs["ratings"], tabs["support"]

    def pick(month: int | None = None) -> dict:
        ok = [r for r in meet if r.get("meeting_date") and "_plants" not in r
              and "_taken" not in r and (month is None or r["month"][1] == month)]  # fmt: skip
        rec = rng.choice(ok)
        rec["_taken"] = True
        return rec

    def extra(src: dict, **changes: Any) -> dict:
        rec = {k: v for k, v in src.items() if k not in ("_plants", "_taken")} | changes
        meet.insert(meet.index(src) + 1, rec)
        return rec

    typo, foreign = _other_names(c, communes)
    h0, h1 = c.hamlets[0].name, c.hamlets[-1].name
    slot = {"bad_date": ("meeting_date", Raw("15//2018"), "bad_value", None),
            "impossible_date": ("meeting_date", Raw(f"31/02/{YEAR}"), "bad_value", 2),
            "date_outside_month": ("meeting_date", Raw(f"05/10/{YEAR}"), "date_outside_month", 11),
            "negative_count": ("present", Raw(-3), "negative_count", None),
            "not_integer": ("members", Raw(12.5), "not_integer", None),
            "zero_members": ("members", Raw(0), "zero_members", None),
            "missing_value": ("members", Raw(None), "missing_value", None)}  # fmt: skip
    drop: tuple[str, ...] = ()
    for kind in plants:
        if kind in slot:
            key, value, code, month = slot[kind]
            rec = pick(month)
            rec[key] = value
            if kind in ("not_integer", "zero_members"):
                rec["present"] = Raw(min(rec["present"], 12) if kind == "not_integer" else 0)
            _mark(rec, key, code, kind)
        elif kind in ("unknown_hamlet", "foreign_hamlet"):
            name = typo if kind == "unknown_hamlet" else foreign
            _mark(extra(pick(), hamlet=name), "hamlet", kind, f"tên {name}")
        elif kind in ("bad_month", "impossible_month", "future_month"):
            value = {"bad_month": "Quý 4/2018", "impossible_month": f"13/{YEAR}",
                     "future_month": "12/2030"}[kind]  # fmt: skip
            rec = extra(pick(), month=Raw(value))
            if kind == "future_month":
                rec["meeting_date"] = Raw("05/12/2030")
            _mark(rec, "month", "future_period" if kind == "future_month" else "bad_value", kind)
        elif kind == "early_month":  # a mistyped year, before the reporting period
            rec = extra(
                pick(3), month=Raw(f"03/{YEAR - 10}"), meeting_date=Raw(f"05/03/{YEAR - 10}")
            )
            _mark(rec, "month", "period_before_start", kind)
        elif kind == "loose_name":  # typed without diacritics: read, with a warning
            rec = pick()
            rec["hamlet"] = Raw(N.without_diacritics(rec["hamlet"]).lower())
            _mark(rec, "hamlet", "name_read_loosely", kind)
        elif kind == "present_over_total":
            rec = pick()
            rec["present"] = Raw(rec["members"] + 4)
            _mark(rec, "present", kind, kind)
        elif kind == "duplicate_conflict":
            rec = _mark(pick(), "hamlet", kind, "dòng 1 của cặp trùng khác nhau")
            twin = {k: v for k, v in rec.items() if k not in ("_plants", "_taken")}
            meet.append(_mark(twin | {"present": rec["present"] - 2}, "hamlet", kind, "dòng 2"))
        elif kind == "duplicate_identical":
            rec = _mark(pick(), "hamlet", kind, "dòng chép lặp y hệt (giữ một)")
            meet.insert(meet.index(rec) + 1, {"_copy": rec})
        elif kind in N.FORMULAS:
            rec = pick()
            rec["note"] = Raw(N.FORMULAS[kind])
            _mark(rec, "note", "formula_text", kind)
        elif kind == "unknown_rating":
            rec = {"hamlet": h0, "year": YEAR - 1, "rating": Raw("Khá")}
            rat.insert(0, _mark(rec, "rating", "bad_value", "xếp loại không có trong danh mục"))
        elif kind == "rating_conflict":
            for form in ("Tốt", "Xuất sắc"):
                rec = {"hamlet": h1, "year": YEAR - 1, "rating": form}
                rat.insert(1, _mark(rec, "hamlet", "duplicate_conflict", f"xếp loại {YEAR - 1}"))
        elif kind == "bad_amount":
            rec = dict(sup[0], amount=Raw("50 bao xi măng"), content="Vận động xi măng làm đường")
            sup.append(_mark(rec, "amount", "bad_value", kind))
        elif kind == "missing_column":
            drop = ("amount",)
    return drop


def _commune_sheets(c, communes, cadres, style, plants, planted, scale, history) -> dict[str, Grid]:
    rng = random.Random(f"{SEED}:{c.code}")
    layout = commune_layout()
    tabs = {"meetings": _meetings(c, style, rng), "ratings": _ratings(c, style, rng, history),
            "support": _support(c, cadres, rng, rng.randint(3, 6) if scale == "district" else 2),
            "households": _households(c, rng)}  # fmt: skip
    drop = _apply_plants(c, plants, tabs, communes, rng)
    for key, older in (_history(c, cadres, style, plants, scale) if history else {}).items():
        tabs[key] = older + tabs[key]  # one sheet a commune keeps, oldest rows first
    sheet = _Sheet(c, style, planted)
    grids = {}
    for key, records in tabs.items():
        tab = layout[key]
        if key == "households" and "missing_tab" in plants:
            sheet.plant(tab.title, None, "missing_tab", None, "trang không có trong bảng tính")
            continue
        grids[tab.title] = sheet.render(tab, records, drop if key == "support" else ())
    return grids


def _history_ratings(communes: list[Commune]) -> None:
    """Each cell's rating in the history years, with fewer "xuất sắc" than in 2018."""
    hamlets = [h for c in communes for h in c.hamlets]
    n = len(hamlets)
    for year, (top, low, fail) in HISTORY_RATINGS.items():
        top, low, fail = (round(n * k / 129) for k in (top, low, fail))
        codes = ["HTXSNV"] * top + ["HTNV"] * low + ["KHTNV"] * fail
        codes += ["HTTNV"] * (n - len(codes))
        random.Random(f"{SEED}:ratings:{year}").shuffle(codes)
        for h, code in zip(hamlets, codes, strict=True):
            h.past[year] = code


def _history(c, cadres, style, plants, scale) -> dict[str, list[dict]]:
    """The commune's rows of the history years: meetings, ratings, support (clean rows; the
    planted problems are all in the demo year, except the 2017 rating ones)."""
    rng = random.Random(f"{SEED}:{c.code}:history")
    forms, habit = N.rating_forms(), style.get("ratings", "mixed")
    usual = {h.code: rng.randint(3, 10) for h in c.hamlets}
    meetings, ratings, support = [], [], []
    for year in HISTORY:
        for m in range(1, 13):
            for h in c.hamlets:
                members = max(10, h.members - (YEAR - year) * rng.randint(0, 2))
                rec = {"hamlet": h.name, "month": (year, m), "members": members, "_h": h}
                if rng.random() < 0.03 + 0.01 * (YEAR - year):  # did not meet
                    rec["note"] = rng.choice(N.NO_MEETING_NOTES)
                else:
                    day = min(28, max(1, usual[h.code] + rng.randint(-2, 3)))
                    if h.low or rng.random() < 0.05 + 0.02 * (YEAR - year):
                        present = int(members * rng.uniform(0.62, 0.84))
                    else:
                        present = min(members, math.ceil(members * rng.uniform(0.86, 1.0)))
                    rec |= {"meeting_date": date(year, m, day), "present": present,
                            "cadre_attended": rng.random() < (0.25 if h.rare else 0.88),
                            "committee_met": rng.random() < 0.85, "note": None}  # fmt: skip
                meetings.append(rec)
        # The 2017 rating rows planted wrong (unknown, conflicting) stand for those cells.
        taken = set()
        if year == YEAR - 1 and "unknown_rating" in plants:
            taken.add(c.hamlets[0].name)
        if year == YEAR - 1 and "rating_conflict" in plants:
            taken.add(c.hamlets[-1].name)
        for h in c.hamlets:
            if h.name not in taken:
                rating = rng.choice(forms[h.past[year]][habit])
                ratings.append({"hamlet": h.name, "year": year, "rating": rating})
        n = rng.randint(2, 4) if scale == "district" else 1
        support += [dict(r, date=r["date"].replace(year=year)) for r in _support(c, cadres, rng, n)]
    return {"meetings": meetings, "ratings": ratings, "support": support}


@cache
def _project(scale: str, history: bool = False) -> Project:
    communes, cadres, ratings = _registry(scale)
    if history:
        _history_ratings(communes)
    planted: list[dict] = []
    sheets = {}
    for c in communes:
        plants = PLANTS.get(c.index, ()) if c.index < len(N.STYLES) else ()
        if scale == "province":
            plants = tuple(p for p in plants if p in PROVINCE_PLANTS)
        style = N.STYLES[c.index % len(N.STYLES)]
        sheets[c.code] = _commune_sheets(
            c, communes, cadres, style, plants, planted, scale, history
        )
    name = "Huyện ủy Ba Tri" if scale == "district" else "Tỉnh ủy Bến Tre"
    master = _master(communes, cadres, scale, FIRST_YEAR if history else YEAR)
    return Project(name, master, sheets, planted, ratings)


def planted_problems(scale: str = "district") -> list[dict]:
    """The planted problems: commune, tab, cell (A1; None for a missing tab), code (the
    finding expected), value (as written) and what (a description)."""
    return [dict(p) for p in _project(scale).planted]


def expected_ratings(scale: str = "district") -> dict[str, int]:
    """The 2018 rating counts of the whole dataset, as ``EXPECTED_2018``."""
    counts = dict(_project(scale).ratings)
    return {**counts, "unrated": 0, "cells": sum(counts.values())}


def build_demo_project(root: Path, *, scale: str = "district", history: bool = False) -> Path:
    """Write a complete local-backend project into root: namcoso.toml, master.xlsx (the four
    registry tabs only: Danh mục xã, Danh mục ấp, Cán bộ, Phân công), communes/<code>.xlsx
    (one per commune, the four input tabs); with ``history``, the sheets also hold 2016 and
    2017 (:data:`HISTORY`). Deterministic (random.Random with a fixed seed;
    same bytes of data every time). Returns the path of namcoso.toml."""
    root = Path(root)
    project = _project(scale, history)
    root.mkdir(parents=True, exist_ok=True)
    write_workbook(root / "master.xlsx", project.master)
    for code, tabs in project.communes.items():
        write_workbook(root / "communes" / f"{code}.xlsx", tabs)
    config = root / "namcoso.toml"
    scope = "huyện" if scale == "district" else "tỉnh"
    text = CONFIG_TEXT.format(name=project.name, scope=scope, year=YEAR)
    if history:
        text = text.replace(f'"{YEAR - 1}-01"', f'"{FIRST_YEAR}-01"')
    config.write_text(text, encoding="utf-8")
    return config


def __getattr__(name: str) -> Any:
    if name == "PLANTED":
        return planted_problems("district")
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
