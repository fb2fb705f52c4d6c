"""Measure the pipeline's guarantees under faults: each case a real project on disk and a
real ``namcoso sync`` in a child process; prints a markdown table (exit code, the child's
peak RSS, seconds, what held) for docs/reliability.md.

    PYTHONPATH=. python scripts/pipeline_faults.py [--rows 10000]

Faults are real where the machine allows: an immutable commune file (``chattr +i``) for
an unwritable file, a full tmpfs for disk full (both need root; a case that cannot be set
up says so and is skipped). The tests (tests/test_pipeline_guarantees.py) inject the
same faults portably.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from conftest import build_small_project, commune_grids  # noqa: E402

from sync.backends.local import cell_values, read_workbook, write_workbook  # noqa: E402
from sync.layout import commune_layout, master_layout  # noqa: E402

C, M = commune_layout(), master_layout()
PROBE = (
    "import resource, subprocess, sys, time\n"
    "t = time.perf_counter()\n"
    "p = subprocess.run(sys.argv[1:], capture_output=True, text=True)\n"
    "print(p.returncode, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss,"
    " time.perf_counter() - t)\n"
    "print(p.stderr.strip())\n"
)


def sync(root: Path, *args: str) -> tuple[int, float, float, str]:
    """``namcoso sync`` in a child: (exit code, peak RSS MiB, seconds, last stderr line)."""
    command = [sys.executable, "-m", "sync", "sync", "--config", str(root / "namcoso.toml")]
    done = subprocess.run(
        [sys.executable, "-c", PROBE, *command, *args],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        check=True,
    )
    first, _, err = done.stdout.partition("\n")
    code, rss, seconds = first.split()
    lines = err.strip().splitlines()
    return int(code), int(rss) / 1024, float(seconds), lines[-1] if lines else ""


def meetings(root: Path, commune: str) -> list[list]:
    grid = cell_values(read_workbook(root / "master.xlsx")[M["meetings"].title])
    return [r for r in grid[1:] if r[0] == commune]


def fill_down(root: Path, rows: int) -> str:
    grids = commune_grids(["Khu phố 1", "Ấp An Thạnh"])
    for i in range(rows):
        grids[C["meetings"].title].append(
            ["Khu phố 1", "03/2018", "05/03/2018", 20, i % 19, "x", "x", ""]
        )
    write_workbook(root / "communes" / "29110.xlsx", grids)
    return f"{rows:,} conflicting rows of one hamlet-month"


def emptied_tab(root: Path) -> str:
    grids = commune_grids(["Khu phố 1", "Ấp An Thạnh"])
    grids[C["meetings"].title] = grids[C["meetings"].title][:1]
    for i in range(40):
        grids[C["households"].title].append(["Khu phố 1", f"Cán bộ {i}", "", 10, ""])
    write_workbook(root / "communes" / "29110.xlsx", grids)
    return "meetings tab emptied while households grew by 40"


def all_unreadable_lost_store(root: Path) -> str:
    (root / ".namcoso" / "state.sqlite").unlink()
    for path in (root / "communes").glob("*.xlsx"):
        path.write_bytes(b"PK\x03\x04 truncated")
    return "state store deleted, every commune file truncated"


def lost_store(root: Path) -> str:
    (root / ".namcoso" / "state.sqlite").unlink()
    return "state store deleted, nothing else changed"


def copied_file(root: Path) -> str:
    shutil.copy(root / "communes" / "29110.xlsx", root / "communes" / "29113.xlsx")
    return "29110's workbook copied over 29113's"


@contextlib.contextmanager
def immutable(path: Path) -> Iterator[None]:
    subprocess.run(["chattr", "+i", str(path)], check=True, capture_output=True)
    try:
        yield
    finally:
        subprocess.run(["chattr", "-i", str(path)], check=False, capture_output=True)


def changed_attendance(root: Path, commune: str = "29113") -> None:
    grids = commune_grids(["Ấp Tân Hòa"] if commune == "29113" else ["Khu phố 1", "Ấp An Thạnh"])
    for row in grids[C["meetings"].title][1:]:
        row[4] = 11
    write_workbook(root / "communes" / f"{commune}.xlsx", grids)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000)
    args = parser.parse_args()
    table = []

    def case(name: str, setup: Callable[..., str], check: Callable[[Path], str]) -> None:
        with tempfile.TemporaryDirectory() as tmp, contextlib.ExitStack() as stack:
            root = Path(tmp) / "project"
            build_small_project(root)
            sync(root)
            try:
                what = setup(root, stack)
            except (OSError, subprocess.CalledProcessError) as e:
                table.append((name, "skipped", "", "", f"cannot set up here: {e}"))
                return
            code, rss, seconds, err = sync(root)
            held = check(root)
            if err and code:
                held += f"; stderr: `{err}`"
            table.append((name, code, f"{rss:.0f}", f"{seconds:.1f}", f"{what} → {held}"))

    case(
        "conflicting duplicates",
        lambda r, _: fill_down(r, args.rows),
        lambda r: (
            f"{len(meetings(r, '29110'))} rows of 29110 kept, state store "
            f"{(r / '.namcoso' / 'state.sqlite').stat().st_size / 2**20:.1f} MiB"
        ),
    )
    case(
        "drop guard per tab",
        lambda r, _: emptied_tab(r),
        lambda r: f"{len(meetings(r, '29110'))} meetings of 29110 kept (held)",
    )
    case(
        "every commune unreadable, store lost",
        lambda r, _: all_unreadable_lost_store(r),
        lambda r: f"{len(meetings(r, '29110')) + len(meetings(r, '29113'))} meetings kept",
    )
    case(
        "state store lost",
        lambda r, _: lost_store(r),
        lambda r: f"rebuilt; {len(meetings(r, '29110')) + len(meetings(r, '29113'))} meetings",
    )
    case(
        "two communes, identical files",
        lambda r, _: copied_file(r),
        lambda r: f"{len(meetings(r, '29113'))} meetings of 29113 kept, neither file written",
    )

    def unwritable(root: Path, stack: contextlib.ExitStack) -> str:
        changed_attendance(root)
        stack.enter_context(immutable(root / "communes" / "29113.xlsx"))
        return "29113.xlsx immutable (chattr +i), its data changed"

    case(
        "unwritable commune file",
        unwritable,
        lambda r: (
            f"29113 attendance {sorted({m[7] for m in meetings(r, '29113')})} taken, "
            "feedback postponed"
        ),
    )
    before: dict[str, bytes] = {}

    def disk_full(root: Path, stack: contextlib.ExitStack) -> str:
        # The project on a small tmpfs, filled up after the first sync.
        mount = root.parent / "tmpfs"
        mount.mkdir()
        subprocess.run(
            ["mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs", str(mount)],
            check=True,
            capture_output=True,
        )
        stack.callback(subprocess.run, ["umount", str(mount)], check=False)
        shutil.copytree(root, mount / "project", symlinks=True)
        shutil.rmtree(root)
        root.symlink_to(mount / "project")
        changed_attendance(root)
        before["master"] = (root / "master.xlsx").read_bytes()
        with contextlib.suppress(OSError), open(mount / "filler", "wb") as f:
            while True:
                f.write(b"\0" * 65536)
                f.flush()
        return "tmpfs full, 29113 changed"

    def untouched(root: Path) -> str:
        same = (root / "master.xlsx").read_bytes() == before["master"]
        temps = list(root.rglob("*.tmp"))
        return f"master.xlsx {'unchanged' if same else 'CHANGED'}, {len(temps)} temp files left"

    case("disk full", disk_full, untouched)

    print("| case | exit | peak RSS (MiB) | seconds | what happened |")
    print("|---|---|---|---|---|")
    for row in table:
        print("| " + " | ".join(str(c) for c in row) + " |")
    started = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    print(f"\nMeasured {started} with `PYTHONPATH=. python scripts/pipeline_faults.py`.")


if __name__ == "__main__":
    main()
