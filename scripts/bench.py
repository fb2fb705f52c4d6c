"""Benchmarks: Google request counts, local sync vs a bare read, the in-memory pipeline at
district / province / national scale, and a quota planner.

    python scripts/bench.py            # markdown table + docs/benchmarks.md
    python scripts/bench.py --json     # one JSON object
    python scripts/bench.py --quick    # skip N=1000 on the fake and the national pipeline

The pipeline scales run in child processes (``--pipeline SCALE``) so each peak RSS
(``resource.getrusage(RUSAGE_SELF).ru_maxrss``) is its own.
"""

from __future__ import annotations

import argparse
import csv
import dataclasses
import json
import math
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

import pandas as pd  # noqa: E402

from sync.config import Config, GoogleSettings, load_config  # noqa: E402
from sync.demo import DEMO_NOW, build_demo_project  # noqa: E402
from sync.layout import commune_layout, master_layout  # noqa: E402
from sync.pipeline import run_sync  # noqa: E402

M, C = master_layout(), commune_layout()
UNITS = ROOT / "sync" / "data" / "vn_admin_units_2020.csv"
RATE = 60  # requests per minute per account
CHANGE_RATE = 0.30  # share of communes changed per (weekly) sync
TOML = '[project]\nname = "Bench"\nbackend = "local"\n[rules]\nperiod_start = "2018-01"\n'


def log(*args) -> None:
    print(*args, file=sys.stderr, flush=True)


# -- synthetic registry + commune grids from the real unit list ----------------------------
def units(district: str | None = None, province: str | None = None, limit: int | None = None):
    with UNITS.open(encoding="utf-8") as f:
        rows = [
            r
            for r in csv.DictReader(f)
            if (district is None or r["district_name"] == district)
            and (province is None or r["province_name"] == province)
        ]
    return rows[:limit] if limit else rows


def commune_grids(hamlets: list[str], k: int) -> dict[str, list[list]]:
    meetings = [[col.header for col in C["meetings"].columns]]
    for j, name in enumerate(hamlets):
        for m in range(1, 13):
            members = 15 + (k + j + m) % 20
            present = members - (k * 7 + j + m) % 5
            day = 3 + (k + j) % 6
            meetings.append(
                [name, f"{m:02d}/2018", f"{day:02d}/{m:02d}/2018", members, present, "x", "x", ""]
            )
    ratings = [[col.header for col in C["ratings"].columns]]
    forms = ["Hoàn thành tốt nhiệm vụ", "Hoàn thành xuất sắc nhiệm vụ", "Hoàn thành nhiệm vụ"]
    ratings += [[name, 2018, forms[(k + j) % 3], ""] for j, name in enumerate(hamlets)]
    support = [[col.header for col in C["support"].columns]]
    support += [[hamlets[0], "10/03/2018", "An sinh xã hội", "Tặng quà", "5.000.000 đ", "Ô. An"]]
    households = [[col.header for col in C["households"].columns]]
    households += [[name, "Võ Văn Hộ", "Bí thư chi bộ", 100, "Tổ 1"] for name in hamlets]
    return {
        C["meetings"].title: meetings,
        C["ratings"].title: ratings,
        C["support"].title: support,
        C["households"].title: households,
    }


def synthetic(rows: list[dict], per: int = 7):
    """(registry grids in the master layout, {commune code: commune grids})."""
    communes = [[c.header for c in M["communes"].columns]]
    hamlets = [[c.header for c in M["hamlets"].columns]]
    cadres = [[c.header for c in M["cadres"].columns]]
    assignments = [[c.header for c in M["assignments"].columns]]
    sheets = {}
    for k, r in enumerate(rows):
        code = r["commune_code"].zfill(5)
        n = per - 1 + k % 3  # 6..8, about `per` on average
        names = [f"Ấp {code[-2:]}-{j + 1}" for j in range(n)]
        communes.append(
            [code, r["commune_name"], r["commune_type"].capitalize(), f"{code}.xlsx", ""]
        )
        cadre = f"H{k:05d}"
        cadres.append([cadre, f"Cán bộ {k}", "Huyện", "Chuyên viên", "Ban Dân vận", "", ""])
        for j, name in enumerate(names):
            hcode = f"{code}-{j + 1:02d}"
            hamlets.append([hcode, code, name, "Ấp", f"Chi bộ {name}", 150 + j])
            assignments.append([cadre, hcode, None, None, ""])
        sheets[code] = commune_grids(names, k)
    registry = {
        M["communes"].title: communes,
        M["hamlets"].title: hamlets,
        M["cadres"].title: cadres,
        M["assignments"].title: assignments,
    }
    return registry, sheets


# -- 1. request counts on the Google fake ---------------------------------------------------
def _google_config(local: Config, root: Path, master: str, folder: str) -> Config:
    root.mkdir(parents=True, exist_ok=True)
    return dataclasses.replace(
        local,
        root=root,
        backend="google",
        google=GoogleSettings(master=master, folder=folder),
        state_path=root / ".namcoso" / "state.sqlite",
    )


def _counts(fake, config: Config, master: str, folder: str, **kw) -> dict:
    from google_fake import make_backend

    backend = make_backend(fake, master, folder)
    t = time.perf_counter()
    run_sync(config, backend=backend, now=DEMO_NOW, **kw)
    return {
        "reads": backend.reads,
        "writes": backend.writes,
        "s": round(time.perf_counter() - t, 2),
    }


def google_case(scale: str, tmp: Path, naive: bool = False) -> dict:
    from google_fake import running_fake

    with running_fake() as fake:
        if scale in ("district", "province"):
            from test_google_sync import load_demo

            demo = build_demo_project(tmp / f"demo-{scale}", scale=scale)
            p = load_demo(fake, demo, tmp / f"google-{scale}")
            config, master, folder, sids = p.config, p.master, p.folder, list(p.sheets.values())
        else:
            registry, sheets = synthetic(units(limit=int(scale)))
            folder = fake.add_folder("Báo cáo các xã")
            ids = {code: fake.add_spreadsheet(f"Báo cáo {code}", g, folder=folder)
                   for code, g in sheets.items()}  # fmt: skip
            col = [c.key for c in M["communes"].columns].index("source")
            for row in registry[M["communes"].title][1:]:
                row[col] = ids[row[0]]
            master = fake.add_spreadsheet("Tổng hợp", registry, frozen=1)
            (tmp / f"syn-{scale}").mkdir(parents=True, exist_ok=True)
            (tmp / f"syn-{scale}" / "namcoso.toml").write_text(TOML, encoding="utf-8")
            local = load_config(tmp / f"syn-{scale}" / "namcoso.toml")
            config = _google_config(local, tmp / f"google-{scale}", master, folder)
            sids = list(ids.values())
        out = {"communes": len(sids)}
        log(f"  google N={len(sids)}: full…")
        out["full"] = _counts(fake, config, master, folder, full=True)
        out["no_change"] = _counts(fake, config, master, folder)
        tab = fake.spreadsheets[sids[0]].tab(C["meetings"].title)
        last = max(r for r, _ in tab.cells)
        fake.edit(sids[0], C["meetings"].title, last, 7, "đã họp bổ sung")
        out["one_changed"] = _counts(fake, config, master, folder)
        if naive:
            from naive_gspread import run_naive_flow

            outputs = {t.title: fake.values(master, t.title) for t in M.by_role("output")}
            inputs = [t.title for t in C.by_role("input")]
            n = run_naive_flow(fake, master, sids, outputs, inputs)
            out["naive_full"] = {"reads": n["reads"], "writes": n["writes"]}
        return out


def api_requests(tmp: Path, quick: bool) -> dict:
    district = google_case("district", tmp, naive=True)
    scales = [district, google_case("province", tmp)]
    if not quick:
        scales.append(google_case("1000", tmp))
    keys = ("communes", "full", "no_change", "one_changed")
    return {**district, "by_scale": [{k: s[k] for k in keys} for s in scales]}


# -- 2. local sync vs bare read --------------------------------------------------------------
def local_bench(tmp: Path, runs: int = 5) -> dict:
    import openpyxl
    from python_calamine import CalamineWorkbook

    config = load_config(build_demo_project(tmp / "local", scale="district"))
    run_sync(config, now=DEMO_NOW, full=True)
    paths = [config.master, *sorted(config.communes_dir.glob("*.xlsx"))]

    def bare() -> None:  # openpyxl read-only, every tab, values only
        for p in paths:
            wb = openpyxl.load_workbook(p, read_only=True, data_only=True)
            for ws in wb:
                for _ in ws.iter_rows(values_only=True):
                    pass
            wb.close()

    def calamine() -> None:
        for p in paths:
            wb = CalamineWorkbook.from_path(str(p))
            for name in wb.sheet_names:
                wb.get_sheet_by_name(name).to_python()

    def sync() -> None:
        r = run_sync(config, now=DEMO_NOW, full=True)
        assert not r.changed, "a repeated full sync wrote something"

    times: dict[str, list[float]] = {"sync": [], "bare": [], "calamine": []}
    for _ in range(runs):
        for name, fn in (("sync", sync), ("bare", bare), ("calamine", calamine)):
            t = time.perf_counter()
            fn()
            times[name].append(time.perf_counter() - t)
    ratios = [s / b for s, b in zip(times["sync"], times["bare"], strict=True)]
    med = {k: statistics.median(v) for k, v in times.items()}
    return {
        "workbooks": len(paths),
        "runs": runs,
        "sync_full_s": round(med["sync"], 3),
        "bare_read_s": round(med["bare"], 3),
        "ratio": round(statistics.median(ratios), 2),
        "calamine_read_s": round(med["calamine"], 3),
        "openpyxl_over_calamine": round(med["bare"] / med["calamine"], 1),
        "sync_over_calamine": round(med["sync"] / med["calamine"], 1),
    }


# -- 3. the in-memory pipeline ---------------------------------------------------------------
SCALES = {
    "district": {"district": "Huyện Ba Tri"},
    "province": {"province": "Tỉnh Bến Tre"},
    "national": {},
}


def maxrss_mb() -> float:
    """Peak RSS of this process: VmHWM (reset by exec, so a child's own peak), else ru_maxrss
    (which on Linux keeps the parent's high-water mark across fork + exec)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def pipeline_once(scale: str) -> dict:
    from sync.config import Rules
    from sync.normalize import normalize_commune
    from sync.pipeline import (
        Outcome,
        collector_paused,
        note_first_seen,
        registry_digests,
        summarize,
    )
    from sync.registry import load_registry
    from sync.state import SourceRecord, StateChange
    from sync.validate import row_count, validate_communes

    rows = units(**SCALES[scale])
    log(f"  pipeline {scale}: generating {len(rows)} communes…")
    registry_grids, sheets = synthetic(rows)
    base = maxrss_mb()
    today = DEMO_NOW.date()
    config = Config(root=Path("."), rules=Rules(period_start="2018-01"))

    with collector_paused():  # as run_sync does
        t0 = time.perf_counter()
        registry = load_registry(registry_grids)
        registry_digests(registry, config.rules)  # what a run re-checks when it changes
        change, communes, n_rows = StateChange(), [], 0
        t1 = time.perf_counter()
        raws = {}
        for i, (code, grids) in enumerate(sheets.items()):
            raws[code] = normalize_commune(grids, code)
            if (i + 1) % 1000 == 0:
                done = time.perf_counter() - t1
                log(f"    normalized {i + 1}/{len(sheets)} communes, {done:.0f} s")
        t_norm = time.perf_counter()
        results = validate_communes(raws, registry, today, config.rules.period_start)
        log(f"    validated in {time.perf_counter() - t_norm:.1f} s")
        for code, checked in results.items():
            n_rows += row_count(checked.tables)
            record = SourceRecord(code, f"{code}.xlsx", "x", "ok", DEMO_NOW)
            communes.append(
                Outcome(code, record.source, "read", checked.tables, checked.findings, record)
            )
            note_first_seen(change, code, checked.tables, DEMO_NOW)
        t2 = time.perf_counter()
        seen = change.first_seen_frame().drop_duplicates(["hamlet_code", "period"])
        tabs = summarize(communes, registry, config.rules, seen, [], DEMO_NOW).tabs
        t3 = time.perf_counter()
    meetings = len(tabs["meetings"].rows)
    seconds = t3 - t0
    peak = maxrss_mb()
    return {
        "scale": scale,
        "communes": len(sheets),
        "hamlets": len(registry.hamlets),
        "rows": n_rows,
        "meeting_rows": meetings,
        "seconds": round(seconds, 2),
        "registry_s": round(t1 - t0, 2),
        "per_commune_s": round(t2 - t1, 2),
        "merge_summarize_s": round(t3 - t2, 2),
        "rows_per_s": round(n_rows / seconds),
        "peak_mb": round(peak),
        "peak_delta_mb": round(peak - base),
        "memory_method": "VmHWM of a child process (peak RSS); delta = over the generated grids",
        "master_cells_th_sinh_hoat": meetings * 14,
    }


def pipeline(quick: bool, runs: int = 5) -> list[dict]:
    """Each scale ``runs`` times, each run in a fresh child process; the median run is
    reported, with every run's seconds (the machine is shared: the spread shows its noise)."""
    out = []
    for scale in ("district", "province") + (() if quick else ("national",)):
        results = []
        for _ in range(runs):
            cmd = [sys.executable, __file__, "--pipeline", scale]
            done = subprocess.run(
                cmd, capture_output=False, stdout=subprocess.PIPE, text=True, check=True
            )
            results.append(json.loads(done.stdout))
        results.sort(key=lambda p: p["seconds"])
        median = results[len(results) // 2]
        median["seconds_runs"] = [p["seconds"] for p in results]
        median["peak_mb"] = max(p["peak_mb"] for p in results)
        out.append(median)
    return out


# -- 4. quota planner ------------------------------------------------------------------------
def quota(api: dict) -> list[dict]:
    """Requests from the per-commune costs measured on the fake (largest scale measured)."""
    s = api["by_scale"][-1]
    n0 = s["communes"]
    fixed_r, fixed_w = s["full"]["reads"] - n0, s["full"]["writes"] - n0
    idle_r = s["no_change"]["reads"]
    per_r = s["one_changed"]["reads"] - idle_r  # extra reads per changed commune
    master_w = 1
    per_w = max(s["one_changed"]["writes"] - master_w, 0)
    plans = []
    for n in (24, 164, 1000, 10767):
        k = math.ceil(n * CHANGE_RATE)
        full = (n + fixed_r) + (n + fixed_w)
        typical = (idle_r + k * per_r) + (master_w + k * per_w)
        plans.append({
            "communes": n, "changed": k,
            "full_requests": full, "full_min": round(full / RATE, 1),
            "typical_requests": typical, "typical_min": round(typical / RATE, 1),
        })  # fmt: skip
    return plans


# -- what the figures mean: the 10 million cells per spreadsheet limit ---------------------
CELL_LIMIT = 10_000_000
TH_COLUMNS = 14  # columns of TH Sinh hoạt (the meetings tab of the master)


def capacity(per_hamlets: int = 7) -> dict:
    """TH Sinh hoạt cells per year (communes × ~7 hamlets × 12 months × 14 columns)."""
    rows = units()
    by_province: dict[str, int] = {}
    districts: dict[str, set] = {}
    for r in rows:
        by_province[r["province_name"]] = by_province.get(r["province_name"], 0) + 1
        districts.setdefault(r["province_name"], set()).add(r["district_code"])
    per_year = per_hamlets * 12 * TH_COLUMNS
    biggest = max(by_province, key=by_province.get)
    ba_tri = len(units(district="Huyện Ba Tri"))
    return {
        "cells_per_commune_year": per_year,
        "district_cells_year": ba_tri * per_year,
        "province_cells_year": by_province["Tỉnh Bến Tre"] * per_year,
        "biggest_province": biggest,
        "biggest_province_communes": by_province[biggest],
        "biggest_province_districts": len(districts[biggest]),
        "biggest_province_cells_year": by_province[biggest] * per_year,
        "national_communes": len(rows),
        "national_cells_year": len(rows) * per_year,
        "max_communes_one_year": CELL_LIMIT // per_year,
    }


def meaning(r: dict) -> list[str]:
    c = r["capacity"]
    by = {p["scale"]: p for p in r["pipeline"]}
    q = {x["communes"]: x for x in r["quota_planner"]}
    lines = [
        "## What this means",
        "",
        f"Sheets allows {CELL_LIMIT:,} cells per spreadsheet (all tabs together). TH Sinh hoạt "
        f"alone holds {TH_COLUMNS} columns × (communes × ~7 hamlets × 12 months) rows, i.e. "
        f"~{c['cells_per_commune_year']:,} cells per commune per year.",
        "",
        f"* **District** (Ba Tri, 24 communes): ~{c['district_cells_year']:,} cells a year in TH "
        f"Sinh hoạt — no limit in sight. A full sync is {q[24]['full_requests']} requests "
        f"(~{q[24]['full_min']} min at {RATE}/min), a weekly sync ~{q[24]['typical_min']} min; "
        f"the pipeline takes {by['district']['seconds']} s.",
        f"* **Province** (Bến Tre, 164 communes): ~{c['province_cells_year']:,} cells a year; "
        f"the largest province ({c['biggest_province']}, "
        f"{c['biggest_province_communes']} communes) ~{c['biggest_province_cells_year']:,} a "
        f"year, so a province master holds about "
        f"{CELL_LIMIT // max(c['biggest_province_cells_year'], 1)} years of the largest "
        f"province's meetings before the other tabs are even counted. A full sync is "
        f"{q[164]['full_requests']} requests (~{q[164]['full_min']} min on one account); "
        f"pipeline {by['province']['seconds']} s.",
        f"* **Country** ({c['national_communes']:,} communes): ~{c['national_cells_year']:,} "
        f"cells a year in TH Sinh hoạt alone — over the limit within one year (one spreadsheet "
        f"fits at most ~{c['max_communes_one_year']:,} communes for one year). The master must "
        f"be split by province (one master per province, ≤ "
        f"{c['biggest_province_cells_year']:,} cells/year each). A full national sync would be "
        f"{q[10767]['full_requests']:,} requests, ~{q[10767]['full_min']} min on one account "
        f"(~{q[10767]['full_min'] / 60:.1f} h), so it needs one account (and one master) per "
        f"province anyway.",
        "",
        "A province master rolling up district masters: each district master is, to the province, "
        "one more source spreadsheet — read its output tabs (TH Sinh hoạt or, cheaper, the "
        "per-commune statistics and Tiến độ tabs) with one batched read per district, skip the "
        "unchanged ones by Drive modifiedTime exactly as communes are skipped, and concatenate "
        f"with a district column. For {c['biggest_province']} that is "
        f"{c['biggest_province_districts']} district reads + 3 instead of "
        f"{c['biggest_province_communes']} commune reads. (Not implemented; a design note.)",
    ]
    if "national" in by:
        n = by["national"]
        lines += [
            "",
            f"National pipeline in one process: {n['rows']:,} rows "
            f"({n['meeting_rows']:,} meetings) in {n['seconds']} s = {n['rows_per_s']:,} rows/s, "
            f"peak {n['peak_mb']} MB. Per commune, normalize + validate take "
            f"{n['per_commune_s'] / n['communes'] * 1000:.2f} ms; merge + summarize "
            f"{n['merge_summarize_s']} s in all.",
        ]
    return lines


# -- targets, report -------------------------------------------------------------------------
def targets(r: dict) -> list[tuple[str, bool, str]]:
    out = []
    for s in r["api_requests"]["by_scale"]:
        n, f = s["communes"], s["full"]
        out.append(
            (f"N={n}: full-sync reads ≤ N + 3", f["reads"] <= n + 3, f"{f['reads']} ≤ {n + 3}")
        )
        nc = s["no_change"]
        ok = nc["reads"] <= 2 and nc["writes"] == 0
        out.append((f"N={n}: no change ≤ 2 reads, 0 writes", ok, f"{nc['reads']} / {nc['writes']}"))
    a = r["api_requests"]
    ratio = a["naive_full"]["reads"] / a["full"]["reads"]
    out.append(("N=24: full reads ≥ 5× fewer than naive", ratio >= 5, f"{ratio:.1f}×"))
    lo = r["local"]
    out.append(("local full sync ≤ 2.5× bare read", lo["ratio"] <= 2.5, f"{lo['ratio']}×"))
    by = {p["scale"]: p for p in r["pipeline"]}
    if "national" in by:
        nat, prov = by["national"], by["province"]
        ok = nat["rows_per_s"] >= 100_000 and nat["peak_mb"] <= 2048
        out.append(("national pipeline ≥ 100k rows/s within 2 GB", ok,
                    f"{nat['rows_per_s']:,} rows/s, {nat['peak_mb']} MB"))  # fmt: skip
        growth = (nat["seconds"] / prov["seconds"]) / (nat["rows"] / prov["rows"])
        out.append(("10× data ≤ 13× time (province→national, per row)", growth <= 1.3,
                    f"time per row ×{growth:.2f} (≤ 1.30)"))  # fmt: skip
    else:
        out.append(("national pipeline ≥ 100k rows/s within 2 GB", None, "not run (--quick)"))
        out.append(("10× data ≤ 13× time", None, "not run (--quick)"))
    return out


def machine() -> dict:
    return {
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
        "pandas": pd.__version__,
        "platform": platform.platform(),
    }


def _spread(p: dict) -> str:
    return ", ".join(str(s) for s in p.get("seconds_runs", [p["seconds"]]))


def markdown(r: dict, command: str) -> str:
    a, lo, m = r["api_requests"], r["local"], r["machine"]
    lines = [
        "# Benchmarks",
        "",
        f"Machine: {m['cpus']} CPUs, Python {m['python']}, pandas {m['pandas']}, {m['platform']}.",
        f"Command: `{command}` (run on {date.today().isoformat()}).",
        *(
            [
                "The figures were measured by one run of `python scripts/bench.py --json`, saved "
                "and rendered here, with notes added to the saved JSON by hand. "
                "`python scripts/bench.py` alone measures and writes this page; `--quick` skips "
                "N = 1000 on the fake and the national pipeline."
            ]
            if "--render" in command
            else []
        ),
        "",
        "## Google API requests (on the fake, counted per request)",
        "",
        "| communes | full reads / writes | no change | one changed | naive full |",
        "|---:|---:|---:|---:|---:|",
    ]
    for s in a["by_scale"]:
        naive = a["naive_full"] if s["communes"] == a["communes"] else None
        cells = [
            f"{s[k]['reads']} / {s[k]['writes']}" for k in ("full", "no_change", "one_changed")
        ]
        nv = f"{naive['reads']} / {naive['writes']}" if naive else "–"
        lines.append(f"| {s['communes']} | {' | '.join(cells)} | {nv} |")
    lines += [
        "",
        "## Local backend (district demo, 24 communes + master)",
        "",
        f"Median of {lo['runs']} interleaved runs: full sync with nothing to write "
        f"{lo['sync_full_s']} s, bare openpyxl read-only read of the same "
        f"{lo['workbooks']} workbooks {lo['bare_read_s']} s → ratio **{lo['ratio']}×**. "
        f"python-calamine reads them in {lo['calamine_read_s']} s "
        f"(openpyxl is {lo['openpyxl_over_calamine']}× slower), so namcoso reads workbooks "
        f"with calamine; the sync is {lo.get('sync_over_calamine', '–')}× a bare calamine read.",
        "",
        "## In-memory pipeline (normalize + validate per commune, merge, summarize; no I/O)",
        "",
        "| scale | communes | hamlets | rows | s (all runs) | rows/s | per-commune s "
        "| merge+summ. s | peak MB (Δ) |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for p in r["pipeline"]:
        lines.append(
            f"| {p['scale']} | {p['communes']:,} | {p['hamlets']:,} | {p['rows']:,} | "
            f"{p['seconds']} ({_spread(p)}) | {p['rows_per_s']:,} | {p['per_commune_s']} | "
            f"{p['merge_summarize_s']} | {p['peak_mb']} ({p['peak_delta_mb']}) |"
        )
    runs = len(r["pipeline"][0].get("seconds_runs", [1])) if r["pipeline"] else 1
    lines += [
        "",
        f"Each scale runs {runs} times, each in a fresh child "
        "process; the table shows the median run and, in brackets, every run's seconds. "
        "Peak memory: the highest peak RSS "
        "(`VmHWM`) of those processes; Δ is the growth over the generated input grids.",
        "",
        f"## Quota planner ({RATE} requests/minute/account, {CHANGE_RATE:.0%} of communes "
        "changed per sync)",
        "",
        "| communes | full sync requests | minutes | typical sync requests | minutes |",
        "|---:|---:|---:|---:|---:|",
    ]
    for q in r["quota_planner"]:
        lines.append(
            f"| {q['communes']:,} | {q['full_requests']:,} | {q['full_min']} | "
            f"{q['typical_requests']:,} | {q['typical_min']} |"
        )
    lines += ["", "## Targets", "", "| target | result | figure |", "|---|---|---|"]
    for name, ok, figure in r["targets"]:
        verdict = "SKIP" if ok is None else "PASS" if ok else "**FAIL**"
        lines.append(f"| {name} | {verdict} | {figure} |")
    notes = r.get("notes", [])
    lines += ["", *meaning(r), *(["", "## Notes", ""] if notes else []), *(f"* {n}" for n in notes)]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--json", action="store_true", help="print one JSON object")
    ap.add_argument("--quick", action="store_true", help="skip N=1000 and national")
    ap.add_argument("--pipeline", help="run one pipeline scale only (JSON on stdout)")
    ap.add_argument("--national", help="add a saved `--pipeline national` JSON result")
    ap.add_argument("--render", help="report a saved --json result instead of measuring")
    args = ap.parse_args(argv)
    if args.pipeline:
        print(json.dumps(pipeline_once(args.pipeline)))
        return 0
    if args.render:  # figures measured earlier (a saved --json output): no re-run
        result = json.loads(Path(args.render).read_text(encoding="utf-8"))
    else:
        result = {"machine": machine()}
        with tempfile.TemporaryDirectory() as tmp:
            log("api requests…")
            t = time.perf_counter()
            result["api_requests"] = api_requests(Path(tmp), args.quick)
            log(f"  {time.perf_counter() - t:.0f} s")
            log("local…")
            result["local"] = local_bench(Path(tmp))
        log("pipeline…")
        result["pipeline"] = pipeline(args.quick)
    if args.national:  # a national run made separately with --pipeline national
        nat = json.loads(Path(args.national).read_text(encoding="utf-8"))
        result["pipeline"] = [p for p in result["pipeline"] if p["scale"] != "national"] + [nat]
    result["quota_planner"] = quota(result["api_requests"])
    result["capacity"] = capacity()
    result["targets"] = targets(result)
    notes = result.get("notes", [])
    if args.quick and not args.render:
        notes = ["`--quick`: N=1000 on the fake and the national pipeline were skipped."]
    result["notes"] = notes
    command = " ".join(["python scripts/bench.py", *(argv if argv is not None else sys.argv[1:])])
    if args.json:
        print(json.dumps(result, ensure_ascii=False, indent=1))
    else:
        text = markdown(result, command)
        print(text)
        page = ROOT / "docs" / "benchmarks.md"
        old = page.read_text(encoding="utf-8") if page.exists() else ""
        if (kept := old.find("<!-- legacy:begin -->")) >= 0:  # scripts/legacy_bench.py's section
            text = text.rstrip("\n") + "\n\n" + old[kept:]
        page.write_text(text, encoding="utf-8")
    return 0 if all(ok is not False for _, ok, _ in result["targets"]) else 1


if __name__ == "__main__":
    sys.exit(main())
