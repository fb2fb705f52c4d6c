"""Merge: every commune's accepted rows → the master's combined tables.

Rows come from this run's reads or, for communes not read (unchanged, unreadable, or
held by the drop guard), from their last good rows. Commune and hamlet names come from
the registry; which commune a row belongs to is the sheet it came from, never its text.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from .layout import commune_layout
from .registry import Registry
from .validate import Tables

INPUT_TABS = [t.key for t in commune_layout().by_role("input")]


def _empty(tab_key: str) -> pd.DataFrame:
    keys = ["commune_code", "hamlet_code", *commune_layout()[tab_key].keys, "_row", "source"]
    return pd.DataFrame({k: pd.Series(dtype=object) for k in dict.fromkeys(keys) if k != "hamlet"})


def combine(tables_by_commune: Mapping[str, Mapping[str, pd.DataFrame]]) -> dict[str, pd.DataFrame]:
    """Concatenate each input tab over communes, adding ``commune_code`` from the source.

    Tables validated together (:class:`~sync.validate.Tables`) share one frame: its rows
    are taken in one go, whole when every commune in it is kept. Row order is left to
    :func:`master_tables`, which sorts. ``commune_code`` is categorical, its categories
    the communes in code order: it is built from their positions, never hashed per row.
    """
    combined: dict[str, pd.DataFrame] = {}
    communes = sorted(tables_by_commune)
    for tab_key in INPUT_TABS:
        shared: dict[int, tuple[pd.DataFrame, list[tuple[int, int, int]]]] = {}
        parts, codes = [], []
        for position, commune in enumerate(communes):
            tables = tables_by_commune[commune]
            if tab_key not in tables:
                continue
            if isinstance(tables, Tables):
                frame, start, end = tables.part(tab_key)
                if end > start:
                    shared.setdefault(id(frame), (frame, []))[1].append((start, end, position))
                continue
            frame = tables[tab_key]
            if len(frame):
                parts.append(frame)
                codes.append(np.full(len(frame), position))
        for frame, runs in shared.values():
            runs.sort()
            lengths = [end - start for start, end, _ in runs]
            if sum(lengths) != len(frame):
                frame = frame.take(np.concatenate([np.arange(s, e) for s, e, _ in runs]))
            parts.append(frame)
            codes.append(np.repeat([p for _, _, p in runs], lengths))
        if not parts:
            combined[tab_key] = _empty(tab_key)
            continue
        frame = pd.concat(parts, ignore_index=True) if len(parts) > 1 else parts[0].copy()
        frame["commune_code"] = pd.Categorical.from_codes(np.concatenate(codes), communes)
        combined[tab_key] = frame.reset_index(drop=True)
    return combined


def district_cadres(registry: Registry) -> pd.DataFrame:
    """hamlet_code → cadre_code, cadre_name of the district cadre(s) following it."""
    a = registry.assignments.merge(
        registry.cadres[["code", "name"]], left_on="cadre_code", right_on="code", how="left"
    )
    a = a[a["unit"].isin(registry.hamlets["code"])][["unit", "cadre_code", "name"]]
    a["name"] = a["name"].fillna("")
    shared = a["unit"].duplicated(keep=False)
    single = a[~shared]
    several = (
        a[shared]
        .groupby("unit", sort=False)
        .agg(
            cadre_code=("cadre_code", ", ".join),
            name=("name", lambda s: ", ".join(x for x in s if x)),
        )
    )
    out = pd.concat([single.set_index("unit"), several])
    out = out.rename(columns={"name": "cadre_name"})
    return out.rename_axis("hamlet_code").reset_index()


def with_names(frame: pd.DataFrame, registry: Registry) -> pd.DataFrame:
    """Add commune_name and hamlet_name from the registry (codes are unique there, so a
    lookup per row; the frame's other columns are not copied)."""
    out = frame.copy(deep=False)
    communes = registry.commune_names
    (out["commune_name"],) = _lookup(out["commune_code"], communes.index, communes)
    if "hamlet_code" in out:
        hamlets = registry.hamlet_names_by_code
        (out["hamlet_name"],) = _lookup(out["hamlet_code"], hamlets.index, hamlets)
    return out


def _lookup(keys: pd.Series, index: pd.Index, *values: pd.Series) -> list[np.ndarray]:
    """Each of ``values`` (aligned with ``index``, whose labels are unique) at each key's
    label, NaN where there is none: one position lookup serves every column."""
    if isinstance(keys.dtype, pd.CategoricalDtype):  # look up each category once
        at = np.append(index.get_indexer(keys.cat.categories), -1)[keys.cat.codes.to_numpy()]
    else:
        at = index.get_indexer(keys)
    return [np.append(v.to_numpy(dtype=object), np.nan)[at] for v in values]


def master_tables(
    tables_by_commune: Mapping[str, Mapping[str, pd.DataFrame]], registry: Registry
) -> dict[str, pd.DataFrame]:
    """The combined, named input tables; meetings also get attendance and their cadre."""
    combined = combine(tables_by_commune)
    meetings = combined["meetings"]
    # The keys every summary groups, joins and sorts a million meetings by are categorical
    # (commune_code already is), so each is hashed once here rather than once per use.
    for column in ("hamlet_code", "month"):
        meetings[column] = pd.Categorical(meetings[column])
    for key, frame in combined.items():  # sorted before names are added: fewer columns move
        sort = [c for c in ("commune_code", "hamlet_code", "month", "year", "date") if c in frame]
        frame = frame.sort_values([*sort, "_row"], kind="stable").reset_index(drop=True)
        combined[key] = with_names(frame, registry)
    meetings = combined["meetings"]
    members = pd.to_numeric(meetings["members"], errors="coerce")
    present = pd.to_numeric(meetings["present"], errors="coerce")
    held = meetings["meeting_date"].notna()
    meetings["attendance"] = (present / members).where(held & (members > 0))
    cadres = district_cadres(registry)
    meetings["cadre_code"], meetings["cadre_name"] = _lookup(
        meetings["hamlet_code"],
        pd.Index(cadres["hamlet_code"]),  # one row per hamlet
        cadres["cadre_code"],
        cadres["cadre_name"],
    )
    return combined
