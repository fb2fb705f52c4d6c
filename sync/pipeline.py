"""One sync run, top to bottom: pull → normalize → validate → merge → summarize → write.

Only :func:`run_sync` touches the backend and the state store; every step between is
pure pandas. A commune whose sheet cannot be read, or whose rows suddenly drop, keeps
its last good rows. Nothing is written when nothing changed.
"""

from __future__ import annotations

import gc
import logging
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime

import numpy as np
import pandas as pd

from .backends.base import Backend, OutputTab
from .charts import chart_tab
from .config import Config
from .errors import ConfigError, SourceChanged, SourceUnavailable
from .faults import crash_point
from .findings import ERROR, Finding, finding
from .layout import commune_layout, master_layout
from .lock import run_lock
from .merge import master_tables
from .normalize import normalize_commune
from .provision import protection_findings
from .registry import Registry, load_registry
from .render import assignments_tab, content_hash, feedback_tab, findings_tab, frame_tab
from .state import SourceRecord, StateChange, StateStore
from .summarize import (
    CommuneState,
    cadre_stats,
    due_date,
    expected_months,
    household_stats,
    meeting_stats,
    progress,
    rating_stats,
    support_stats,
)
from .units import VIETNAM
from .validate import CommuneResult, Tables, row_count, validate_communes

log = logging.getLogger("namcoso")


@dataclass
class SyncResult:
    """What one run did: counts for the log, and the tabs it computed."""

    mode: str
    started: datetime
    communes_read: int = 0
    communes_skipped: int = 0
    communes_failed: int = 0
    rows_accepted: int = 0
    rows_rejected: int = 0
    findings: list[Finding] = field(default_factory=list)
    requests: int = 0
    seconds: float = 0.0
    master_tabs_written: list[str] = field(default_factory=list)
    communes_written: list[str] = field(default_factory=list)
    held: list[str] = field(default_factory=list)
    unreadable: list[str] = field(default_factory=list)
    tabs: dict[str, OutputTab] = field(default_factory=dict)
    dry_run: bool = False

    @property
    def changed(self) -> bool:
        return bool(self.master_tabs_written or self.communes_written)

    def log_row(self) -> list:
        return _log_row(self.started, self.mode, self.stats())

    def stats(self) -> dict:
        return {
            "communes_read": self.communes_read,
            "communes_skipped": self.communes_skipped,
            "communes_failed": self.communes_failed,
            "rows_accepted": self.rows_accepted,
            "rows_rejected": self.rows_rejected,
            "findings": len(self.findings),
            "errors": sum(f.severity == ERROR for f in self.findings),
            "requests": self.requests,
            "seconds": round(self.seconds, 2),
            "changed": self.changed,
            "master_tabs": self.master_tabs_written,
            "communes_written": self.communes_written,
        }


def make_backend(config: Config) -> Backend:
    """The backend named in the configuration."""
    if config.backend == "google":
        from .backends.google import GoogleBackend

        return GoogleBackend.from_config(config)
    from .backends.local import LocalBackend
    from .backends.local_views import master_decorator

    titles = [t.title for t in master_layout().by_role("registry")]
    decorate = master_decorator(config.rules)
    return LocalBackend(config.master, config.communes_dir, titles, decorate=decorate)


@dataclass
class _Commune:
    code: str
    source: str
    tables: dict[str, pd.DataFrame]
    findings: list[Finding]
    record: SourceRecord
    #: Whether the sheet still has namcoso's own tabs (None when it was not read this run).
    has_own_tabs: bool | None = None
    #: The content the feedback write expects to find (read token, else the fingerprint).
    expected: str | None = None


@dataclass
class _Read:
    """A commune sheet read this run, normalized, waiting for the batch validation."""

    code: str
    source: str
    fingerprint: str | None
    previous: SourceRecord | None
    raws: dict
    has_own_tabs: bool
    #: What the backend read (``CommuneSheet.token``): a feedback write checks it first.
    token: str | None = None
    #: ``validation_removed`` findings: dropdowns or header locks a commune removed.
    control_findings: list[Finding] = field(default_factory=list)


def _pull_one(
    code: str,
    source: str,
    fingerprint: str | None,
    previous: SourceRecord | None,
    backend: Backend,
    store: StateStore,
    registry: Registry,
    force: bool,
    result: SyncResult,
    change: StateChange,
) -> _Commune | _Read:
    """Read and normalize one commune if it changed; else (or if unreadable) its last good
    rows."""
    unchanged = (
        previous is not None
        and previous.source == source
        and fingerprint is not None
        and previous.fingerprint == fingerprint
        and previous.status != "unreadable"
    )
    if unchanged and not force:
        result.communes_skipped += 1
        if previous.status == "held":
            result.held.append(code)
        return _Commune(
            code,
            source,
            _last_tables(store, code),
            store.findings(code),
            previous,
            expected=fingerprint,
        )
    try:
        sheet = backend.read_commune(source)
    except SourceUnavailable as e:
        result.communes_failed += 1
        result.unreadable.append(code)
        log.warning("Xã %s: không đọc được %s: %s", code, backend.describe(source), e)
        problem = finding(
            "source_unavailable", commune=code, reason=e.message, value=backend.describe(source)
        )
        record = SourceRecord(
            code, source, None, "unreadable", previous.last_read if previous else None, str(e)
        )
        change.sources[code] = record
        change.findings[code] = [problem]
        return _Commune(code, source, _last_tables(store, code), [problem], record)
    result.communes_read += 1
    own_titles = {commune_layout()[k].title for k in ("assignments", "feedback")}
    read = _Read(
        code,
        source,
        fingerprint,
        previous,
        normalize_commune(sheet.grids, code),
        own_titles <= set(sheet),
        sheet.token,
    )
    hamlets = [name for _, name in registry.hamlets_of(code)]
    read.control_findings = protection_findings(code, backend.missing_controls(source, hamlets))
    return read


def _last_tables(store: StateStore, code: str) -> dict[str, pd.DataFrame]:
    stored = store.accepted(code)
    return stored[0] if stored else {}


def _accept_one(
    read: _Read,
    checked: CommuneResult,
    store: StateStore,
    config: Config,
    now: datetime,
    force: bool,
    accept: bool,
    result: SyncResult,
    change: StateChange,
) -> _Commune:
    """Take a commune's newly validated rows, unless they dropped suddenly (drop guard)."""
    code, source, fingerprint, previous = read.code, read.source, read.fingerprint, read.previous
    checked.findings.extend(read.control_findings)
    result.rows_rejected += checked.rejected
    content_changed = previous is None or previous.fingerprint != fingerprint or force
    last_read = now if content_changed or previous.last_read is None else previous.last_read
    stored = store.accepted(code)
    last_tables, last_rows = stored if stored else ({}, 0)
    dropped = last_rows > 0 and checked.accepted < last_rows * (1 - config.rules.max_drop_ratio)
    if dropped and not accept:
        held = finding("drop_held", commune=code, before=last_rows, after=checked.accepted)
        findings = [held, *checked.findings]
        record = SourceRecord(code, source, fingerprint, "held", last_read)
        result.held.append(code)
        log.warning(
            "Xã %s: số dòng giảm từ %d xuống %d, giữ số liệu cũ", code, last_rows, checked.accepted
        )
        change.sources[code] = record
        change.findings[code] = findings
        return _Commune(code, source, last_tables, findings, record, read.has_own_tabs, read.token)
    record = SourceRecord(code, source, fingerprint, "ok", last_read)
    change.sources[code] = record
    change.accepted[code] = checked.tables
    change.findings[code] = checked.findings
    note_first_seen(change, code, checked.tables, now)
    return _Commune(
        code, source, checked.tables, checked.findings, record, read.has_own_tabs, read.token
    )


def note_first_seen(change: StateChange, code: str, tables: Tables, now: datetime) -> None:
    """Remember when each (hamlet, period) of a commune's accepted tables was seen."""
    iso = now.isoformat()
    for tab in commune_layout().by_role("input"):
        if tab.period and tab.key in tables and tables.rows(tab.key):
            hamlets = tables.column(tab.key, "hamlet_code")
            periods = tables.column(tab.key, tab.period, text=True)
            change.first_seen.append((code, hamlets, periods, iso))


def _summary_tabs(
    communes: list[_Commune],
    registry: Registry,
    config: Config,
    store: StateStore,
    change: StateChange,
    now: datetime,
) -> tuple[dict[str, OutputTab], list[Finding]]:
    layout = master_layout()
    tables = master_tables({c.code: c.tables for c in communes}, registry)
    months = expected_months(config.rules, tables["meetings"]["month"], now.date())
    seen = store.first_seen()
    if change.first_seen:
        new = change.first_seen_frame()
        seen = pd.concat([seen, new]).drop_duplicates(["hamlet_code", "period"], keep="first")
    seen["seen"] = vietnam_time(seen["seen"])
    states = {c.code: CommuneState(c.record.status, c.record.last_read) for c in communes}
    findings = [*registry.findings, *(f for c in communes for f in c.findings)]
    frames = {
        "meetings": tables["meetings"],
        "ratings": tables["ratings"],
        "support": tables["support"],
        "households": tables["households"],
        "rating_stats": rating_stats(tables["ratings"], registry),
        "meeting_stats": meeting_stats(
            tables["meetings"],
            registry,
            config.rules,
            [m for m in months if due_date(m, config.rules) < now.date()],
        ),
        "cadre_stats": cadre_stats(tables["meetings"], registry, config.rules),
        "household_stats": household_stats(tables["households"], registry),
        "support_stats": support_stats(tables["support"], registry),
        "progress": progress(
            tables["meetings"], registry, config.rules, months, seen, states, now.date()
        ),
    }
    tabs = {key: frame_tab(layout[key], frame) for key, frame in frames.items()}
    tabs["findings"] = findings_tab(findings, registry)
    tabs["charts"] = chart_tab({t.title: t.grid() for t in tabs.values()}, config.rules)
    return tabs, findings


def vietnam_time(texts: pd.Series) -> pd.Series:
    """ISO times → Vietnam wall-clock times (naive). Times with an offset are converted,
    whatever the offset; times without one are taken as Vietnam time already. Each
    distinct text is parsed once (a run stamps all it sees with one time)."""
    codes, uniques = pd.factorize(texts.astype(object))
    uniques = pd.Series(uniques, dtype=object)
    aware = uniques.str.contains(r"(?:Z|[+-]\d\d:?\d\d)$", regex=True, na=False).to_numpy(bool)
    parsed = pd.Series(pd.NaT, index=uniques.index, dtype="datetime64[us]")
    if aware.any():
        utc = pd.to_datetime(uniques[aware], format="ISO8601", utc=True)
        parsed[aware] = utc.dt.tz_convert(VIETNAM).dt.tz_localize(None).astype("datetime64[us]")
    if (~aware).any():
        parsed[~aware] = pd.to_datetime(uniques[~aware], format="ISO8601").astype("datetime64[us]")
    values = np.append(parsed.to_numpy(), np.datetime64("NaT", "us"))[codes]
    return pd.Series(values, index=texts.index, dtype="datetime64[us]")


@contextmanager
def collector_paused() -> Iterator[None]:
    """Pause Python's cycle collector while a run builds its tables.

    A run allocates millions of short-lived lists and tuples (the rows it reads and
    writes); each thousand allocations would otherwise trigger a scan of every live
    container, which at national scale took more time than the work itself. The run
    makes no reference cycles worth collecting early (peak memory is the same either
    way, see docs/benchmarks.md); the collector resumes when the run ends.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def run_sync(
    config: Config,
    *,
    backend: Backend | None = None,
    now: datetime | None = None,
    full: bool = False,
    dry_run: bool = False,
    accept: Iterable[str] = (),
) -> SyncResult:
    """One sync run under the project's run lock. ``now`` may be given (the demo replays
    a year with a simulated clock); it defaults to the current time in Vietnam."""
    with run_lock(config.lock_path), collector_paused():
        return _run(config, backend, now, full, dry_run, set(accept))


def _run(config, backend, now, full, dry_run, accept) -> SyncResult:
    clock = time.monotonic()
    now = now or datetime.now(VIETNAM)
    backend = backend or make_backend(config)
    mode = "đầy đủ" if full else "thay đổi"
    result = SyncResult(mode=mode, started=now, dry_run=dry_run)
    store = StateStore(config.state_path)
    try:
        registry = load_registry(backend.read_registry())
        sources = dict(zip(registry.communes["code"], registry.communes["source"], strict=True))
        check_accepted(accept, sources)
        fingerprints = backend.fingerprints([s for s in sources.values() if s])
        previous = store.sources()
        change = StateChange()
        pulled = [
            _pull_one(
                code,
                source,
                fingerprints.get(source),
                previous.get(code),
                backend,
                store,
                registry,
                full or code in accept,
                result,
                change,
            )
            for code, source in sources.items()
            if source
        ]
        reads = [p for p in pulled if isinstance(p, _Read)]
        checked = validate_communes(
            {r.code: r.raws for r in reads}, registry, now.date(), config.rules.period_start
        )
        communes = [
            _accept_one(
                p, checked[p.code], store, config, now, full, p.code in accept, result, change
            )
            if isinstance(p, _Read)
            else p
            for p in pulled
        ]
        crash_point("after_read")
        result.rows_accepted = sum(row_count(c.tables) for c in communes)
        tabs, findings = _summary_tabs(communes, registry, config, store, change, now)
        result.findings = findings
        result.tabs = tabs
        hashes = store.outputs()
        digests = {f"master:{key}": content_hash([t]) for key, t in tabs.items()}
        changed = [
            t for key, t in tabs.items() if hashes.get(f"master:{key}") != digests[f"master:{key}"]
        ]
        change.outputs.update(digests)
        feedback = {}
        for c in communes:
            own = [
                assignments_tab(c.code, registry),
                feedback_tab(c.findings, row_count(c.tables)),
            ]
            digest = content_hash(own)
            stale = hashes.get(f"commune:{c.code}") != digest or c.has_own_tabs is False
            if stale and c.record.status != "unreadable":
                feedback[c.code] = (c.source, own, digest, c.expected)
        result.requests = backend.requests
        if dry_run:
            result.master_tabs_written = [t.title for t in changed]
            result.communes_written = list(feedback)
            result.seconds = time.monotonic() - clock
            return result
        if changed:
            result.seconds = time.monotonic() - clock
            runs_tab = _runs_tab(store, result)
            crash_point("before_master_write")
            backend.write_master([*changed, runs_tab])
            crash_point("after_master_write")
            result.master_tabs_written = [t.title for t in changed] + [runs_tab.title]
        written_sources = []
        for code, (source, own, digest, expected) in feedback.items():
            try:
                backend.write_commune(source, own, expected=expected, identity=code)
            except SourceChanged as e:
                # Saved by the commune during this run: nothing written, and the next
                # run reads what they saved (the fingerprint recorded is the old one).
                log.info("Xã %s sửa bảng tính trong lúc đồng bộ; lần sau sẽ đọc lại: %s", code, e)
                continue
            except SourceUnavailable as e:
                log.warning("Xã %s: không ghi được phản hồi: %s", code, e)
                continue
            change.outputs[f"commune:{code}"] = digest
            crash_point("after_commune_write")
            result.communes_written.append(code)
            written_sources.append(source)
        if written_sources:
            refreshed = backend.fingerprints(written_sources)
            by_code = {c.code: c for c in communes}
            for code in result.communes_written:
                c = by_code[code]
                record = change.sources.get(code, c.record)
                record.fingerprint = refreshed.get(c.source, record.fingerprint)
                change.sources[code] = record
        result.requests = backend.requests
        result.seconds = time.monotonic() - clock
        change.run = {"started": now.isoformat(), "mode": mode, **result.stats()}
        store.commit(change)
        return result
    finally:
        store.close()


def check_accepted(accept: Iterable[str], registered: Iterable[str]) -> None:
    """``--accept`` names registered communes only: a mistyped code would otherwise accept
    nothing and say nothing, while the commune it meant stays held."""
    known = set(registered)
    unknown = sorted(set(accept) - known)
    if unknown:
        raise ConfigError(
            f"--accept {', '.join(unknown)}: không có xã mã này trong Danh mục xã của master"
        )


def _log_row(started: datetime, mode: str, stats: dict) -> list:
    """One line of ``Nhật ký đồng bộ``."""
    return [
        started.strftime("%d/%m/%Y %H:%M:%S"),
        mode,
        f"{stats['communes_read']} / {stats['communes_skipped']} / {stats['communes_failed']}",
        f"{stats['rows_accepted']} / {stats['rows_rejected']}",
        stats["findings"],
        stats["requests"],
        round(stats["seconds"], 1),
    ]


def _runs_tab(store: StateStore, result: SyncResult) -> OutputTab:
    """``Nhật ký đồng bộ``: this run, then the earlier runs that changed the master."""
    tab = master_layout()["runs"]
    rows = [result.log_row()]
    for run in store.runs(limit=500, changed_only=True):
        rows.append(_log_row(datetime.fromisoformat(run["started"]), run["mode"], run))
    return OutputTab(tab.title, tab.specs(), rows)
