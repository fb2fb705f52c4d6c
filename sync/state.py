"""The state store: what sync remembers between runs, in one SQLite file.

Runs; per commune: the fingerprint last read, status, last good accepted rows and their
findings (and the history of those findings, one entry each time they changed); the
first-seen time of every reported (hamlet, period); hashes of what was last written, so a
run with nothing new writes nothing. WAL with ``synchronous=FULL``; each run's change of
state is one transaction (:meth:`StateStore.commit`), so a crash (even ``kill -9``) leaves
either the old state or the new one, never a mix.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from itertools import repeat
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .errors import StateUnavailable
from .faults import crash_point
from .findings import Finding
from .layout import commune_layout
from .normalize import object_frame
from .render import cell
from .units import vietnam_now

SCHEMA = """
CREATE TABLE IF NOT EXISTS runs (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    started TEXT NOT NULL,
    mode TEXT NOT NULL,
    stats TEXT NOT NULL,
    changed INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS sources (
    commune TEXT PRIMARY KEY,
    source TEXT NOT NULL,
    fingerprint TEXT,
    status TEXT NOT NULL,
    last_read TEXT,
    detail TEXT
);
CREATE TABLE IF NOT EXISTS accepted (
    commune TEXT PRIMARY KEY,
    tables TEXT NOT NULL,
    rows INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS findings (
    commune TEXT PRIMARY KEY,
    findings TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS first_seen (
    commune TEXT NOT NULL,
    hamlet TEXT NOT NULL,
    period TEXT NOT NULL,
    seen TEXT NOT NULL,
    PRIMARY KEY (hamlet, period)
);
CREATE TABLE IF NOT EXISTS outputs (
    target TEXT PRIMARY KEY,
    hash TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS findings_history (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    commune TEXT NOT NULL,
    recorded TEXT NOT NULL,
    findings TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS findings_history_commune ON findings_history (commune, id);
CREATE TABLE IF NOT EXISTS registry_digests (
    commune TEXT PRIMARY KEY,
    digest TEXT NOT NULL
);
"""
#: Columns added since the first schema: (table, column, declaration).
MIGRATIONS = [("sources", "token", "TEXT")]


@dataclass
class SourceRecord:
    """What the store knows of one commune's sheet after the last run."""

    commune: str
    source: str
    fingerprint: str | None
    status: str  # "ok" | "unreadable" | "held"
    last_read: datetime | None
    detail: str = ""
    #: What the last read read (``CommuneSheet.token``): another commune's sheet with the
    #: same token holds identical content.
    token: str | None = None


@dataclass
class StateChange:
    """Everything one run changes in the store, committed together."""

    sources: dict[str, SourceRecord] = field(default_factory=dict)
    accepted: dict[str, dict[str, pd.DataFrame]] = field(default_factory=dict)
    findings: dict[str, list[Finding]] = field(default_factory=dict)
    #: Reports seen this run, a batch per commune table: (commune, hamlet codes, periods,
    #: ISO time); see :meth:`first_seen_rows`.
    first_seen: list[tuple[str, Sequence[str], Sequence[str], str]] = field(default_factory=list)
    outputs: dict[str, str] = field(default_factory=dict)
    #: Per commune, the digest of the registry rows and rules it was checked against.
    registry: dict[str, str] = field(default_factory=dict)
    run: dict[str, Any] | None = None

    def first_seen_rows(self) -> Iterator[tuple[str, str, str, str]]:
        """(commune, hamlet, period, seen) for each report in :attr:`first_seen`."""
        for commune, hamlets, periods, seen in self.first_seen:
            yield from zip(repeat(commune), hamlets, periods, repeat(seen))

    def first_seen_frame(self) -> pd.DataFrame:
        """:attr:`first_seen` as a frame, built a column at a time."""
        batches = self.first_seen
        sizes = [len(h) for _, h, _, _ in batches]

        def joined(i: int) -> np.ndarray:
            parts = [np.asarray(b[i], dtype=object) for b in batches]
            return np.concatenate(parts) if parts else np.empty(0, dtype=object)

        def repeated(i: int) -> np.ndarray:
            return np.repeat(np.array([b[i] for b in batches], dtype=object), sizes)

        return pd.DataFrame(
            {
                "commune_code": repeated(0),
                "hamlet_code": joined(1),
                "period": joined(2),
                "seen": repeated(3),
            },
            dtype=object,
        )


def _to_json(value: Any) -> Any:
    value = cell(value)
    return value.isoformat() if isinstance(value, datetime | date) else value


def tables_to_json(tables: dict[str, pd.DataFrame]) -> str:
    """A commune's accepted tables as JSON (dates as ISO text, missing values as null)."""
    payload = {}
    for key, frame in tables.items():
        payload[key] = {
            "columns": list(frame.columns),
            "rows": [[_to_json(v) for v in row] for row in frame.itertuples(index=False)],
        }
    return json.dumps(payload, ensure_ascii=False)


def tables_from_json(text: str) -> dict[str, pd.DataFrame]:
    """The inverse of :func:`tables_to_json`, with the column types of the layout."""
    layout = commune_layout()
    out = {}
    for key, payload in json.loads(text).items():
        frame = object_frame(payload["rows"], payload["columns"])
        for column in layout[key].columns:
            if column.key not in frame:
                continue
            if column.type == "date":
                frame[column.key] = [
                    date.fromisoformat(v) if v else None for v in frame[column.key]
                ]
            elif column.type in ("count", "positive_count", "year", "amount"):
                frame[column.key] = pd.array(frame[column.key].tolist(), dtype="Int64")
        out[key] = frame
    return out


class StateStore:
    """The SQLite state of one project."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self.db = sqlite3.connect(self.path, isolation_level=None, timeout=30)
        except (OSError, sqlite3.Error) as e:
            raise StateUnavailable(
                f"Không mở được kho trạng thái {self.path}", detail=_why(e)
            ) from e
        try:
            self.db.execute("PRAGMA journal_mode=WAL")
            self.db.execute("PRAGMA synchronous=FULL")
            self.db.executescript(SCHEMA)
            for table, column, declaration in MIGRATIONS:
                have = {r[1] for r in self.db.execute(f"PRAGMA table_info({table})")}
                if column not in have:
                    self.db.execute(f"ALTER TABLE {table} ADD COLUMN {column} {declaration}")
        except sqlite3.Error as e:
            self.db.close()
            raise StateUnavailable(
                f"Không mở được kho trạng thái {self.path}", detail=_why(e)
            ) from e

    def is_new(self) -> bool:
        """Whether the store knows no commune yet (new, or lost and created again)."""
        return self.db.execute("SELECT 1 FROM sources LIMIT 1").fetchone() is None

    def registry_digests(self) -> dict[str, str]:
        """Per commune, the digest of the registry rows it was last checked against."""
        return dict(self.db.execute("SELECT commune, digest FROM registry_digests"))

    def close(self) -> None:
        """Close the connection (the last one to close checkpoints the WAL)."""
        self.db.close()

    def __enter__(self) -> StateStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def sources(self) -> dict[str, SourceRecord]:
        """Each commune's source record: what was last read, its status and when."""
        rows = self.db.execute(
            "SELECT commune, source, fingerprint, status, last_read, detail, token FROM sources"
        )
        return {
            r[0]: SourceRecord(
                r[0],
                r[1],
                r[2],
                r[3],
                datetime.fromisoformat(r[4]) if r[4] else None,
                r[5] or "",
                r[6],
            )
            for r in rows
        }

    def accepted(self, commune: str) -> tuple[dict[str, pd.DataFrame], int] | None:
        """The last good accepted rows of a commune and their count."""
        row = self.db.execute(
            "SELECT tables, rows FROM accepted WHERE commune = ?", (commune,)
        ).fetchone()
        return None if row is None else (tables_from_json(row[0]), row[1])

    def findings(self, commune: str) -> list[Finding]:
        """The findings of the last read (or read attempt) of a commune's sheet."""
        row = self.db.execute(
            "SELECT findings FROM findings WHERE commune = ?", (commune,)
        ).fetchone()
        return [] if row is None else [Finding(**f) for f in json.loads(row[0])]

    def findings_history(self, commune: str) -> list[tuple[datetime, list[Finding]]]:
        """Each change of a commune's findings, oldest first: when, and the new findings."""
        rows = self.db.execute(
            "SELECT recorded, findings FROM findings_history WHERE commune = ? ORDER BY id",
            (commune,),
        )
        return [
            (datetime.fromisoformat(r[0]), [Finding(**f) for f in json.loads(r[1])]) for r in rows
        ]

    def first_seen(self) -> pd.DataFrame:
        """When a sync first saw each (hamlet, month) and (hamlet, year) reported; ``seen``
        is the ISO text as stored."""
        rows = self.db.execute("SELECT commune, hamlet, period, seen FROM first_seen").fetchall()
        return pd.DataFrame(rows, columns=["commune_code", "hamlet_code", "period", "seen"])

    def outputs(self) -> dict[str, str]:
        """Content hashes of what was last written, by target (``master:<tab>``,
        ``commune:<code>``)."""
        return dict(self.db.execute("SELECT target, hash FROM outputs"))

    def runs(self, limit: int = 20, changed_only: bool = False) -> list[dict[str, Any]]:
        """The last runs, newest first, with their counts."""
        where = "WHERE changed = 1" if changed_only else ""
        rows = self.db.execute(
            f"SELECT started, mode, stats, changed FROM runs {where} ORDER BY id DESC LIMIT ?",
            (limit,),
        )
        return [
            {"started": r[0], "mode": r[1], "changed": bool(r[3]), **json.loads(r[2])} for r in rows
        ]

    def commit(self, change: StateChange) -> None:
        """Apply one run's change of state in a single transaction."""
        db = self.db
        recorded = (change.run or {}).get("started") or vietnam_now().isoformat()
        db.execute("BEGIN IMMEDIATE")
        try:
            for rec in change.sources.values():
                db.execute(
                    "INSERT OR REPLACE INTO sources "
                    "(commune, source, fingerprint, status, last_read, detail, token) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?)",
                    (
                        rec.commune,
                        rec.source,
                        rec.fingerprint,
                        rec.status,
                        rec.last_read.isoformat() if rec.last_read else None,
                        rec.detail,
                        rec.token,
                    ),
                )
            for commune, tables in change.accepted.items():
                rows = sum(len(t) for t in tables.values())
                db.execute(
                    "INSERT OR REPLACE INTO accepted VALUES (?, ?, ?)",
                    (commune, tables_to_json(tables), rows),
                )
            for commune, findings in change.findings.items():
                payload = json.dumps([f.as_dict() for f in findings], ensure_ascii=False)
                before = db.execute(
                    "SELECT findings FROM findings WHERE commune = ?", (commune,)
                ).fetchone()
                if before is None or before[0] != payload:
                    db.execute(
                        "INSERT INTO findings_history (commune, recorded, findings) "
                        "VALUES (?, ?, ?)",
                        (commune, recorded, payload),
                    )
                db.execute("INSERT OR REPLACE INTO findings VALUES (?, ?)", (commune, payload))
            db.executemany(
                "INSERT OR IGNORE INTO first_seen VALUES (?, ?, ?, ?)", change.first_seen_rows()
            )
            db.executemany("INSERT OR REPLACE INTO outputs VALUES (?, ?)", change.outputs.items())
            db.executemany(
                "INSERT OR REPLACE INTO registry_digests VALUES (?, ?)", change.registry.items()
            )
            if change.run is not None:
                run = dict(change.run)
                db.execute(
                    "INSERT INTO runs (started, mode, stats, changed) VALUES (?, ?, ?, ?)",
                    (
                        run.pop("started"),
                        run.pop("mode"),
                        json.dumps(run, ensure_ascii=False),
                        int(run.get("changed", False)),
                    ),
                )
            crash_point("inside_state_commit")
            db.execute("COMMIT")
        except sqlite3.Error as e:
            # SQLite may have rolled back already (disk full does): say what failed, not
            # that there was nothing to roll back.
            if db.in_transaction:
                db.execute("ROLLBACK")
            raise StateUnavailable(
                f"Không ghi được kho trạng thái {self.path}", detail=_why(e)
            ) from e
        except BaseException:
            if db.in_transaction:
                db.execute("ROLLBACK")
            raise


def _why(error: BaseException) -> str:
    """An OS or SQLite error in a few words (``database or disk is full``)."""
    if isinstance(error, OSError) and error.strerror:
        return error.strerror
    return str(error)
