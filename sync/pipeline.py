"""One sync run, top to bottom: plan → pull → validate → accept → summarize → write → commit.

Each step is a function that returns a small typed result; :func:`_run` combines them,
and only it touches the backend and the state store. A commune whose sheet cannot be
read, names another commune, or whose rows of any one tab suddenly drop, keeps its last
good rows. Nothing is written when nothing changed. A lost state store is rebuilt from
the master's ``TH`` tabs before anything new is accepted.
"""

from __future__ import annotations

import gc
import hashlib
import logging
import sqlite3
import time
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

import numpy as np
import pandas as pd

from .backends.base import Backend, OutputTab
from .charts import chart_tab
from .config import Config, Rules
from .errors import (
    ConfigError,
    MasterUnavailable,
    SourceChanged,
    SourceUnavailable,
    StateUnavailable,
)
from .faults import crash_point
from .findings import ERROR, Finding, finding
from .layout import commune_layout, master_layout
from .lock import run_lock
from .merge import master_tables
from .normalize import normalize_commune
from .provision import protection_findings
from .rebuild import rebuild_first_seen, rebuild_tables, tab_titles
from .registry import Registry, load_registry
from .render import assignments_tab, content_hash, feedback_tab, findings_tab, frame_tab
from .state import SourceRecord, StateChange, StateStore
from .summarize import (
    DISTRICT,
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
INPUT_TABS = [t.key for t in commune_layout().by_role("input")]
OWN_TITLES = frozenset(commune_layout()[k].title for k in ("assignments", "feedback"))


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
    #: Communes whose sheet was read but refused: it names another commune, or its content
    #: is identical to another commune's.
    refused: list[str] = field(default_factory=list)
    #: Communes whose feedback could not be written this run (postponed to the next).
    unwritten: list[str] = field(default_factory=list)
    #: Whether the run began by rebuilding a lost state store from the master.
    rebuilt: bool = False
    tabs: dict[str, OutputTab] = field(default_factory=dict)
    dry_run: bool = False

    @property
    def changed(self) -> bool:
        return bool(self.master_tabs_written or self.communes_written)

    @property
    def exit_code(self) -> int:
        """What ``namcoso sync`` exits with (SPEC "Commands"): 0 done; 3 done, but one or
        more communes could not be read or written (their last good rows kept). A run in
        which no commune could be read is therefore never 0."""
        return 3 if self.unreadable or self.refused or self.unwritten else 0

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


# -- the steps' results -------------------------------------------------------------------

Status = Literal["skipped", "read", "held", "unreadable", "refused"]


@dataclass(frozen=True)
class Source:
    """Step 1 (plan): one registered commune sheet and whether this run must read it."""

    code: str
    source: str
    fingerprint: str | None
    previous: SourceRecord | None
    #: Digest of the registry rows and rules this commune is checked against.
    registry_digest: str
    must_read: bool


@dataclass(frozen=True)
class Read:
    """Step 2 (pull), a sheet read: its normalized tabs, waiting for the batch validation."""

    src: Source
    raws: dict
    has_own_tabs: bool
    #: What the backend read (``CommuneSheet.token``): a feedback write checks it first.
    token: str | None
    identity: str | None
    #: ``validation_removed`` findings: dropdowns or header locks a commune removed.
    control_findings: list[Finding]


@dataclass(frozen=True)
class Outcome:
    """Steps 2–4 for one commune: the rows it gives the master, its findings, its record.

    ``store_tables`` / ``store_findings``: whether the tables / findings are new and go to
    the state store. ``expected`` is what a feedback write expects to find in the sheet.
    """

    code: str
    source: str
    status: Status
    tables: Mapping[str, pd.DataFrame]
    findings: list[Finding]
    record: SourceRecord
    expected: str | None = None
    has_own_tabs: bool | None = None
    store_tables: bool = False
    store_findings: bool = False
    rejected: int = 0

    @property
    def writable(self) -> bool:
        """Whether its feedback may be written (never to a sheet not taken as its own)."""
        return self.status not in ("unreadable", "refused")


@dataclass(frozen=True)
class Summary:
    """Step 5 (summarize): the master's tabs and every finding shown in them."""

    tabs: dict[str, OutputTab]
    findings: list[Finding]


@dataclass(frozen=True)
class Feedback:
    """A commune's own tabs, due to be written because they changed."""

    code: str
    source: str
    tabs: list[OutputTab]
    digest: str
    expected: str | None


@dataclass
class Written:
    """Step 6 (write): what reached the sheets."""

    master_titles: list[str] = field(default_factory=list)
    communes: list[str] = field(default_factory=list)
    postponed: list[str] = field(default_factory=list)
    #: Output hashes of what was written (``master:<tab>``, ``commune:<code>``).
    outputs: dict[str, str] = field(default_factory=dict)
    #: New fingerprints of the commune sheets written (so the next run skips them).
    fingerprints: dict[str, str] = field(default_factory=dict)


# -- step 1: plan -------------------------------------------------------------------------


def registry_digests(registry: Registry, rules: Rules) -> dict[str, str]:
    """Per commune, a digest of what its sheet is checked against: its registry row, its
    hamlets, the assignments to it and to its hamlets, and the rules. When it changes,
    the commune is read and checked again (old findings and suggestions do not linger).

    Each registry row is hashed once (vectorized); a commune's digest combines the hashes
    of its rows, so a national registry costs a few hundredths of a second, not a loop.
    """
    communes = registry.communes["code"].astype(str).to_numpy()
    position = {code: i for i, code in enumerate(communes)}
    hamlets = registry.hamlets
    hamlet_commune = pd.Series(
        hamlets["commune_code"].astype(str).to_numpy(), index=hamlets["code"].astype(str)
    )
    hamlet_commune = hamlet_commune[~hamlet_commune.index.duplicated()]
    units = registry.assignments["unit"].astype(str)
    parts = [
        _summed(registry.communes, communes, position),
        _summed(hamlets, hamlets["commune_code"].astype(str), position),
        _summed(registry.assignments, units.map(hamlet_commune).fillna(units), position),
    ]
    shared = hashlib.sha256(repr(rules).encode()).hexdigest()[:16]
    return {
        code: "-".join([shared, *(f"{part[i, 0]:x}.{part[i, 1]}" for part in parts)])
        for i, code in enumerate(communes)
    }


def _summed(frame: pd.DataFrame, owners, position: dict[str, int]) -> np.ndarray:
    """Per commune (``position``), the sum of its rows' hashes (wrapping) and their count."""
    out = np.zeros((len(position), 2), dtype=np.uint64)
    if frame.empty:
        return out
    hashes = pd.util.hash_pandas_object(frame.astype(str), index=False).to_numpy(np.uint64)
    at = pd.Series(owners).map(position).to_numpy()
    known = ~pd.isna(at)
    at = at[known].astype(np.int64)
    np.add.at(out[:, 0], at, hashes[known])
    np.add.at(out[:, 1], at, np.uint64(1))
    return out


def plan_sources(
    registry: Registry,
    fingerprints: dict[str, str],
    previous: dict[str, SourceRecord],
    digests: dict[str, str],
    last_digests: dict[str, str],
    force: set[str] | bool,
) -> list[Source]:
    """Each registered sheet, and whether it must be read: new, changed, unreadable or
    refused last time, checked against a changed registry, or forced (``--full``,
    ``--accept``)."""
    plans = []
    for code, source in zip(registry.communes["code"], registry.communes["source"], strict=True):
        if not source:
            continue
        before = previous.get(code)
        fingerprint = fingerprints.get(source)
        unchanged = (
            before is not None
            and before.source == source
            and fingerprint is not None
            and before.fingerprint == fingerprint
            and before.status not in ("unreadable", "refused")
            and last_digests.get(code) == digests[code]
        )
        forced = force is True or (isinstance(force, set) and code in force)
        plans.append(
            Source(code, source, fingerprint, before, digests[code], forced or not unchanged)
        )
    return plans


# -- step 2: pull -------------------------------------------------------------------------


def kept(src: Source, last: LastGood, status: Status, problem: Finding | None = None) -> Outcome:
    """A commune not taken from its sheet this run: its last good rows."""
    before = src.previous
    if status == "skipped":
        return Outcome(
            src.code,
            src.source,
            "skipped",
            last.tables(src.code),
            last.findings(src.code),
            before,
            expected=src.fingerprint,
        )
    record = SourceRecord(
        src.code,
        src.source,
        None if status == "unreadable" else src.fingerprint,
        "unreadable",
        before.last_read if before else None,
        problem.message if problem else "",
        before.token if before else None,
    )
    return Outcome(
        src.code,
        src.source,
        status,
        last.tables(src.code),
        [problem] if problem else [],
        record,
        store_findings=True,
    )


def pull(src: Source, backend: Backend, registry: Registry, last: LastGood) -> Read | Outcome:
    """Read and normalize one commune if it must be read; else its last good rows. A
    sheet that cannot be read, or that names another commune, keeps the last good rows."""
    if not src.must_read:
        return kept(src, last, "skipped")
    try:
        sheet = backend.read_commune(src.source)
    except SourceUnavailable as e:
        where = backend.describe(src.source)
        log.warning("Xã %s: không đọc được %s: %s", src.code, where, e)
        problem = finding("source_unavailable", commune=src.code, reason=e.message, value=where)
        return kept(src, last, "unreadable", problem)
    if sheet.identity and sheet.identity != src.code:
        log.warning(
            "Xã %s: bảng tính %s mang mã xã %s",
            src.code,
            backend.describe(src.source),
            sheet.identity,
        )
        problem = finding(
            "foreign_identity",
            commune=src.code,
            value=sheet.identity,
            other=registry.commune_name(sheet.identity),
        )
        return kept(src, last, "refused", problem)
    hamlets = [name for _, name in registry.hamlets_of(src.code)]
    return Read(
        src,
        normalize_commune(sheet.grids, src.code),
        set(sheet) >= OWN_TITLES,
        sheet.token,
        sheet.identity,
        protection_findings(src.code, backend.missing_controls(src.source, hamlets)),
    )


def refuse_twins(
    pulled: list[Read | Outcome], sources: list[Source], registry: Registry, last: LastGood
) -> list[Read | Outcome]:
    """Two communes registered to one sheet, or to identical content: neither is taken.

    Content is compared by what names it exactly: the token of a sheet read this run,
    against the other sheets' tokens, their last stored tokens and (for a backend whose
    fingerprint is a content hash) their fingerprints. Fingerprints are never compared
    with each other: on Google they are Drive versions, equal by chance across files."""
    by_code = {s.code: s for s in sources}
    names: dict[str, set[str]] = {}
    tokens: dict[str, str] = {}
    for p in pulled:
        code = p.src.code if isinstance(p, Read) else p.code
        src = by_code[code]
        known = {src.fingerprint, src.previous.token if src.previous else None}
        if isinstance(p, Read) and p.token:
            tokens[code] = p.token
            known.add(p.token)
        names[code] = {n for n in known if n}
    twins: dict[str, str] = {}
    owners: dict[str, list[str]] = {}
    for s in sources:
        owners.setdefault(s.source, []).append(s.code)
    for codes in owners.values():
        for code in codes[1:]:
            twins.setdefault(code, codes[0])
            twins.setdefault(codes[0], code)
    for code, token in tokens.items():
        for other, known in names.items():
            if other != code and token in known:
                twins.setdefault(code, other)
                twins.setdefault(other, code)
    if not twins:
        return pulled
    out = []
    for p in pulled:
        code = p.src.code if isinstance(p, Read) else p.code
        if code not in twins:
            out.append(p)
            continue
        other = twins[code]
        log.warning("Xã %s và xã %s có bảng tính giống hệt nhau", code, other)
        problem = finding(
            "identical_sources",
            commune=code,
            value=other,
            other=registry.commune_name(other),
        )
        out.append(kept(by_code[code], last, "refused", problem))
    return out


# -- step 4: accept -----------------------------------------------------------------------


def drops(
    last: Mapping[str, pd.DataFrame], tables: Tables, max_drop_ratio: float
) -> list[tuple[str, int, int]]:
    """(tab, rows before, rows now) of each input tab whose accepted rows fell by more than
    ``max_drop_ratio``."""
    out = []
    for key in INPUT_TABS:
        before = len(last[key]) if key in last else 0
        after = tables.rows(key) if key in tables else 0
        if before > 0 and after < before * (1 - max_drop_ratio):
            out.append((key, before, after))
    return out


def take(
    read: Read,
    checked: CommuneResult,
    last: LastGood,
    rules: Rules,
    now: datetime,
    forced: bool,
    accepted_drop: bool,
) -> Outcome:
    """Take a commune's newly validated rows, unless the rows of one of its tabs dropped
    suddenly (drop guard): then its last good rows stay until ``--accept``."""
    src = read.src
    findings = [*checked.findings, *read.control_findings]
    previous = src.previous
    content_changed = previous is None or previous.fingerprint != src.fingerprint or forced
    last_read = now if content_changed or previous.last_read is None else previous.last_read
    last_tables = last.tables(src.code)
    dropped = [] if accepted_drop else drops(last_tables, checked.tables, rules.max_drop_ratio)
    if dropped:
        layout = commune_layout()
        held = [
            finding(
                "drop_held",
                commune=src.code,
                tab=layout[key].title,
                before=before,
                after=after,
            )
            for key, before, after in dropped
        ]
        for key, before, after in dropped:
            log.warning(
                "Xã %s, trang %s: số dòng giảm từ %d xuống %d, giữ số liệu cũ",
                src.code,
                layout[key].title,
                before,
                after,
            )
        record = SourceRecord(
            src.code, src.source, src.fingerprint, "held", last_read, "", read.token
        )
        return Outcome(
            src.code,
            src.source,
            "held",
            last_tables,
            [*held, *findings],
            record,
            read.token,
            read.has_own_tabs,
            store_findings=True,
            rejected=checked.rejected,
        )
    record = SourceRecord(src.code, src.source, src.fingerprint, "ok", last_read, "", read.token)
    return Outcome(
        src.code,
        src.source,
        "read",
        checked.tables,
        findings,
        record,
        read.token,
        read.has_own_tabs,
        store_tables=True,
        store_findings=True,
        rejected=checked.rejected,
    )


# -- the last good rows -------------------------------------------------------------------


class LastGood:
    """Each commune's last good rows and findings: from the state store, or (a lost or new
    store) rebuilt from the master's ``TH`` tabs before anything new is accepted."""

    def __init__(self, store: StateStore, rebuilt: dict[str, dict[str, pd.DataFrame]]):
        self.store = store
        self.rebuilt = rebuilt

    def tables(self, code: str) -> dict[str, pd.DataFrame]:
        if code in self.rebuilt:
            return self.rebuilt[code]
        stored = self.store.accepted(code)
        return stored[0] if stored else {}

    def findings(self, code: str) -> list[Finding]:
        return self.store.findings(code)


# -- step 5: summarize --------------------------------------------------------------------


def note_first_seen(change: StateChange, code: str, tables: Tables, now: datetime) -> None:
    """Remember when each (hamlet, period) of a commune's accepted tables was seen."""
    iso = now.isoformat()
    for tab in commune_layout().by_role("input"):
        if tab.period and tab.key in tables and tables.rows(tab.key):
            hamlets = tables.column(tab.key, "hamlet_code")
            periods = tables.column(tab.key, tab.period, text=True)
            change.first_seen.append((code, hamlets, periods, iso))


def summarize(
    outcomes: list[Outcome],
    registry: Registry,
    rules: Rules,
    seen: pd.DataFrame,
    extra: list[Finding],
    now: datetime,
    total_label: str = DISTRICT,
) -> Summary:
    """The master's sync-owned tabs from every commune's rows (``seen``: first-seen times,
    ISO text); ``total_label`` names the grand total rows (``Toàn huyện``, ``Toàn tỉnh``)."""
    layout = master_layout()
    tables = master_tables({o.code: o.tables for o in outcomes}, registry)
    months = expected_months(rules, tables["meetings"]["month"], now.date())
    seen = seen.copy()
    seen["seen"] = vietnam_time(seen["seen"])
    states = {o.code: CommuneState(o.record.status, o.record.last_read) for o in outcomes}
    findings = [*registry.findings, *(f for o in outcomes for f in o.findings), *extra]
    frames = {
        "meetings": tables["meetings"],
        "ratings": tables["ratings"],
        "support": tables["support"],
        "households": tables["households"],
        "rating_stats": rating_stats(tables["ratings"], registry, total_label),
        "meeting_stats": meeting_stats(
            tables["meetings"],
            registry,
            rules,
            [m for m in months if due_date(m, rules) < now.date()],
        ),
        "cadre_stats": cadre_stats(tables["meetings"], registry, rules),
        "household_stats": household_stats(tables["households"], registry),
        "support_stats": support_stats(tables["support"], registry, total_label),
        "progress": progress(tables["meetings"], registry, rules, months, seen, states, now.date()),
    }
    tabs = {key: frame_tab(layout[key], frame) for key, frame in frames.items()}
    tabs["findings"] = findings_tab(findings, registry)
    tabs["charts"] = chart_tab({t.title: t.grid() for t in tabs.values()}, rules)
    return Summary(tabs, findings)


def feedback_due(
    outcomes: list[Outcome], registry: Registry, hashes: dict[str, str]
) -> list[Feedback]:
    """The communes whose own tabs (``Phân công``, ``Kiểm tra dữ liệu``) changed, were
    removed from their sheet, or could not be written last run; never a sheet that was
    not taken as the commune's own."""
    due = []
    for o in outcomes:
        if not o.writable:
            continue
        own = [assignments_tab(o.code, registry), feedback_tab(o.findings, row_count(o.tables))]
        digest = content_hash(own)
        stale = hashes.get(f"commune:{o.code}") != digest or o.has_own_tabs is False
        if stale or hashes.get(f"postponed:{o.code}"):  # a write put off: try it again
            due.append(Feedback(o.code, o.source, own, digest, o.expected))
    return due


def postponed_findings(codes: Iterable[str], backend: Backend, sources: dict[str, str]):
    return [
        finding("feedback_postponed", commune=c, value=backend.describe(sources[c])) for c in codes
    ]


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


# -- the run ------------------------------------------------------------------------------


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
        try:
            return _run(config, backend, now, full, dry_run, set(accept))
        except sqlite3.Error as e:  # reading the store: an I/O error, a damaged file
            raise StateUnavailable(
                f"Không đọc được kho trạng thái {config.state_path}", detail=str(e)
            ) from e


def _run(config, backend, now, full, dry_run, accept) -> SyncResult:
    clock = time.monotonic()
    now = now or datetime.now(VIETNAM)
    backend = backend or make_backend(config)
    mode = "đầy đủ" if full else "thay đổi"
    result = SyncResult(mode=mode, started=now, dry_run=dry_run)
    with StateStore(config.state_path) as store:
        # 1. Plan: the registry, what changed, and (a lost store) the last good rows.
        registry = load_registry(backend.read_registry())
        check_accepted(accept, registry.communes["code"])
        change = StateChange()
        last = LastGood(store, {})
        if store.is_new():
            last.rebuilt, seen_batches = _rebuild(backend, config.rules, now)
            result.rebuilt = bool(last.rebuilt)
            change.accepted.update(last.rebuilt)
            change.first_seen.extend(seen_batches)
        digests = registry_digests(registry, config.rules)
        sources = plan_sources(
            registry,
            backend.fingerprints([s for s in registry.communes["source"] if s]),
            store.sources(),
            digests,
            store.registry_digests(),
            True if full else accept,
        )
        # 2. Pull every sheet that must be read; refuse twins. 3. Validate them at once.
        pulled = [pull(s, backend, registry, last) for s in sources]
        pulled = refuse_twins(pulled, sources, registry, last)
        reads = [p for p in pulled if isinstance(p, Read)]
        checked = validate_communes(
            {r.src.code: r.raws for r in reads}, registry, now.date(), config.rules.period_start
        )
        # 4. Accept each read (drop guard per tab).
        outcomes = [
            _take(p, checked[p.src.code], last, config.rules, now, full, accept)
            if isinstance(p, Read)
            else p
            for p in pulled
        ]
        crash_point("after_read")
        remember(change, outcomes, now)
        change.registry = {s.code: s.registry_digest for s in sources}
        _count(result, outcomes)
        # 5. Summarize, with the postponements the last run saw still pending.
        hashes = store.outputs()
        seen = _first_seen(store, change, rebuilt_first=result.rebuilt)
        due = feedback_due(outcomes, registry, hashes)
        where = {o.code: o.source for o in outcomes}
        expected_late = [f.code for f in due if hashes.get(f"postponed:{f.code}")]
        late = postponed_findings(expected_late, backend, where)
        summary = summarize(
            outcomes, registry, config.rules, seen, late, now, total_label=config.total_label
        )
        result.findings, result.tabs = summary.findings, summary.tabs
        digests_out = {f"master:{k}": content_hash([t]) for k, t in summary.tabs.items()}
        changed = [
            t
            for k, t in summary.tabs.items()
            if hashes.get(f"master:{k}") != digests_out[f"master:{k}"]
        ]
        result.requests = backend.requests
        if dry_run:
            result.master_tabs_written = [t.title for t in changed]
            result.communes_written = [f.code for f in due]
            result.seconds = time.monotonic() - clock
            return result
        # 6. Write: the master, then each commune's feedback.
        written = Written()
        if changed:
            result.seconds = time.monotonic() - clock
            runs_tab = _runs_tab(store, result)
            _write_master(backend, [*changed, runs_tab])
            written.master_titles = [t.title for t in changed] + [runs_tab.title]
        written.outputs.update(digests_out)
        _write_feedback(backend, due, written)
        if sorted(written.postponed) != sorted(expected_late):
            # The findings tab said otherwise: show this run's postponements after all.
            late = postponed_findings(written.postponed, backend, where)
            summary = _rewrite_findings(backend, registry, summary, late, written)
            result.findings, result.tabs = summary.findings, summary.tabs
        result.master_tabs_written = written.master_titles
        result.communes_written = written.communes
        result.unwritten = written.postponed
        # 7. Commit the run's change of state at once.
        change.outputs.update(written.outputs)
        for code in {f.code for f in due}:
            change.outputs[f"postponed:{code}"] = "1" if code in written.postponed else ""
        for o in outcomes:
            if o.code in written.fingerprints:
                record = change.sources.get(o.code, o.record)
                record.fingerprint = written.fingerprints[o.code]
                change.sources[o.code] = record
        result.requests = backend.requests
        result.seconds = time.monotonic() - clock
        change.run = {"started": now.isoformat(), "mode": mode, **result.stats()}
        store.commit(change)
        return result


def remember(change: StateChange, outcomes: list[Outcome], now: datetime) -> None:
    """What the store learns from each commune's outcome: new rows (and when their reports
    were first seen), new findings, its record."""
    for o in outcomes:
        if o.store_tables:
            change.accepted[o.code] = o.tables
            note_first_seen(change, o.code, o.tables, now)
        if o.store_findings:
            change.findings[o.code] = o.findings
        if o.status != "skipped":
            change.sources[o.code] = o.record


def _first_seen(store: StateStore, change: StateChange, rebuilt_first: bool) -> pd.DataFrame:
    """When each report was first seen: the store's, then this run's (a rebuilt store's
    times, from the master, come first of all)."""
    seen = store.first_seen()
    if change.first_seen:
        fresh = change.first_seen_frame()
        seen = pd.concat([fresh, seen] if rebuilt_first else [seen, fresh])
        seen = seen.drop_duplicates(["hamlet_code", "period"], keep="first")
    return seen


def _rewrite_findings(
    backend: Backend, registry: Registry, summary: Summary, late: list[Finding], written: Written
) -> Summary:
    """``Lỗi dữ liệu`` again, with this run's postponed feedback writes in place of those the
    last run predicted."""
    findings = [*(f for f in summary.findings if f.code != "feedback_postponed"), *late]
    tab = findings_tab(findings, registry)
    _write_master(backend, [tab])
    written.outputs["master:findings"] = content_hash([tab])
    if tab.title not in written.master_titles:
        written.master_titles.append(tab.title)
    return Summary({**summary.tabs, "findings": tab}, findings)


def _take(read: Read, checked, last, rules, now, full: bool, accepted: set[str]) -> Outcome:
    code = read.src.code
    return take(read, checked, last, rules, now, full or code in accepted, code in accepted)


def _rebuild(backend: Backend, rules: Rules, now: datetime):
    grids = backend.read_master_tabs(tab_titles())
    tables = rebuild_tables(grids)
    seen = rebuild_first_seen(grids, rules, now)
    batches = [
        (commune, group["hamlet_code"].tolist(), group["period"].tolist(), when)
        for (commune, when), group in seen.groupby(["commune_code", "seen"], sort=False)
    ]
    if tables:
        log.warning(
            "Kho trạng thái mới hoặc bị mất: dựng lại số liệu của %d xã từ các trang TH của master",
            len(tables),
        )
    return tables, batches


def _count(result: SyncResult, outcomes: list[Outcome]) -> None:
    for o in outcomes:
        if o.status == "skipped":
            result.communes_skipped += 1
            if o.record.status == "held":
                result.held.append(o.code)
        elif o.status in ("read", "held"):
            result.communes_read += 1
            result.rows_rejected += o.rejected
            if o.status == "held":
                result.held.append(o.code)
        else:
            result.communes_failed += 1
            (result.unreadable if o.status == "unreadable" else result.refused).append(o.code)
    result.rows_accepted = sum(row_count(o.tables) for o in outcomes)


def _write_master(backend: Backend, tabs: list[OutputTab]) -> None:
    """Replace these tabs of the master; a disk or folder fault is one line (exit 4)."""
    crash_point("before_master_write")
    try:
        backend.write_master(tabs)
    except OSError as e:
        where = getattr(backend, "master", None) or "master"
        raise MasterUnavailable(
            f"Không ghi được tệp master {where}", detail=e.strerror or str(e)
        ) from e
    crash_point("after_master_write")


def _write_feedback(backend: Backend, due: list[Feedback], written: Written) -> None:
    """Each commune's own tabs; a sheet saved meanwhile is left for the next run, one that
    cannot be written gets its feedback later (a warning), and the run goes on."""
    for f in due:
        try:
            backend.write_commune(f.source, f.tabs, expected=f.expected, identity=f.code)
        except SourceChanged as e:
            # Saved by the commune during this run: nothing written, and the next run
            # reads what they saved (the fingerprint recorded is the old one).
            log.info("Xã %s sửa bảng tính trong lúc đồng bộ; lần sau sẽ đọc lại: %s", f.code, e)
            continue
        except (SourceUnavailable, OSError) as e:
            log.warning("Xã %s: không ghi được phản hồi, để lần sau: %s", f.code, e)
            written.postponed.append(f.code)
            continue
        written.outputs[f"commune:{f.code}"] = f.digest
        crash_point("after_commune_write")
        written.communes.append(f.code)
    if written.communes:
        sources = {f.code: f.source for f in due}
        refreshed = backend.fingerprints([sources[c] for c in written.communes])
        for code in written.communes:
            if sources[code] in refreshed:
                written.fingerprints[code] = refreshed[sources[code]]


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
