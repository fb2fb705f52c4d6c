"""Figures for docs/reliability.md: each file case of tests/test_file_safety.py and
tests/test_lossless.py run in its own child process, with the child's peak RSS (its own and
its read worker's, ``getrusage``) and seconds.

    PYTHONPATH=. /work/venv/bin/python scripts/file_safety.py [--million]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from conftest import commune_grids  # noqa: E402
from ooxml_build import (  # noqa: E402
    Book,
    column_letter,
    commune_book,
    encrypted_xlsx,
    with_picture_comment_validation,
    zip_parts,
)
from test_file_safety import billion_laughs, many_rows, sparse, truncated, xxe, zip_bomb  # noqa: E402

CHILD = r"""
import errno, json, os, resource, sys, time
from pathlib import Path
from sync.backends import local, safe_read
from sync.backends.base import ColumnSpec, OutputTab
from sync.backends.local import LocalBackend
action, path = sys.argv[1], Path(sys.argv[2])
start = time.perf_counter()
try:
    if action == "read":
        grids, source = safe_read.read_source(path, path.parent)
        said = f"đọc được {sum(len(g) for g in grids.values())} dòng"
    elif action == "worker":  # past the preflight: the parser in the worker meets the file
        reader = safe_read.Reader()
        try:
            grids = reader.parse(safe_read.Source(path, path.read_bytes(), "xlsx", "-"))
            said = f"đọc được {sum(len(g) for g in grids.values())} dòng"
        finally:
            reader.close()
    else:
        backend = LocalBackend(path.parent / "master.xlsx", path.parent)
        tab = OutputTab("Kiểm tra dữ liệu", [ColumnSpec("Nội dung", 40)], [["Không có lỗi"]])
        if action == "race":
            def save(p):
                p.write_bytes(p.read_bytes() + b"")  # touch: same bytes
                os.utime(p)
                with open(p, "ab") as f:
                    f.write(b"\0")  # their save lands between read and replace
            local.before_replace_hook = save
        if action == "full":
            real = os.fdopen
            class Full:
                def __init__(self, f): self.f = f
                def __enter__(self): return self
                def __exit__(self, *e): self.f.close()
                def write(self, d): raise OSError(errno.ENOSPC, "No space left on device")
            os.fdopen = lambda fd, mode: Full(real(fd, mode))
        backend.write_commune(path.name, [tab], identity="29113")
        said = "ghi xong"
except Exception as e:
    said = f"{type(e).__name__}: {e}"
safe_read.reader().close()
seconds = time.perf_counter() - start
# ru_maxrss of this process counts its parent's memory from before the exec; VmHWM does not
own = [int(l.split()[1]) for l in open("/proc/self/status") if l.startswith("VmHWM")]
peak = max(own + [resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss])
print(json.dumps({"said": said, "peak_mb": peak / 1024, "seconds": seconds}))
"""


def largest(rows: int = 99_000, cols: int = 20) -> bytes:
    """A sheet just under the cell limit (1,980,000 cells of text): the most a file that is
    accepted makes the worker and the run hold."""
    book = Book()
    book.add_sheet("Sinh hoạt chi bộ", [["h"] * cols])
    parts = book.parts()
    xml = parts["xl/worksheets/sheet1.xml"].decode()
    body = "".join(
        f'<row r="{r}">'
        + "".join(
            f'<c r="{column_letter(c)}{r}" t="inlineStr"><is><t>Ấp {r % 97} {c}</t></is></c>'
            for c in range(1, cols + 1)
        )
        + "</row>"
        for r in range(2, rows + 2)
    )
    last = column_letter(cols)
    xml = xml.replace("</sheetData>", body + "</sheetData>")
    parts["xl/worksheets/sheet1.xml"] = xml.replace(
        f'ref="A1:{last}1"', f'ref="A1:{last}{rows + 1}"'
    ).encode()
    return zip_parts(parts, level=1)


def run(action: str, path: Path) -> dict:
    out = subprocess.run(
        [sys.executable, "-c", CHILD, action, str(path)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        timeout=600,
    )
    if out.returncode:
        return {"said": f"exit {out.returncode}: {out.stderr[-200:]}", "peak_mb": 0, "seconds": 0}
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--million", action="store_true", help="add the million-row case")
    args = parser.parse_args()
    good = commune_book(commune_grids(["Ấp Tân Hòa"]))
    rich = commune_book(commune_grids(["Ấp Tân Hòa"]))
    with_picture_comment_validation(rich, 1)
    cases: list[tuple[str, str, str, object]] = [
        ("a good .xlsx (baseline)", "read", "29113.xlsx", lambda: good.bytes()),
        ("truncated sheet XML", "read", "29113.xlsx", lambda: truncated()),
        ("entity expansion (billion laughs)", "read", "29113.xlsx", lambda: billion_laughs()),
        ("XXE (external entity)", "read", "29113.xlsx", lambda: xxe()),
        ("sparse A1 + XFD1048576", "read", "29113.xlsx", lambda: sparse(False)),
        (
            "sparse, past the preflight (the worker's parser)",
            "worker",
            "29113.xlsx",
            lambda: sparse(False),
        ),
        ("zip bomb (300 MB part)", "read", "29113.xlsx", lambda: zip_bomb()),
        ("300,000 rows", "read", "29113.xlsx", lambda: many_rows(300_000)),
        ("largest accepted: 99,000 rows × 20 columns of text", "read", "29113.xlsx", largest),
        ("0-byte file", "read", "29113.xlsx", lambda: b""),
        ("encrypted (OLE file named .xlsx)", "read", "29113.xlsx", lambda: encrypted_xlsx()),
        ("FIFO named .xlsx", "read", "29113.xlsx", "fifo"),
        ("symlink out of the folder", "read", "29113.xlsx", "symlink"),
        (
            ".xlsm with macros (read)",
            "read",
            "29113.xlsm",
            lambda: commune_book(commune_grids(["Ấp Tân Hòa"]), macros=True).bytes(),
        ),
        (
            ".xlsm with macros (feedback write)",
            "write",
            "29113.xlsm",
            lambda: commune_book(commune_grids(["Ấp Tân Hòa"]), macros=True).bytes(),
        ),
        ("picture, comment, validation (write)", "write", "29113.xlsx", lambda: rich.bytes()),
        ("save between read and replace", "race", "29113.xlsx", lambda: good.bytes()),
        ("read-only file", "write", "29113.xlsx", "readonly"),
        ("disk full (injected ENOSPC)", "full", "29113.xlsx", lambda: good.bytes()),
    ]
    if args.million:
        cases.insert(7, ("1,000,000 rows", "read", "29113.xlsx", lambda: many_rows(1_000_000)))
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for label, action, name, content in cases:
            folder = Path(tmp) / f"case{len(rows)}"
            folder.mkdir()
            path = folder / name
            if content == "fifo":
                os.mkfifo(path)
            elif content == "symlink":
                (Path(tmp) / "outside.xlsx").write_bytes(good.bytes())
                path.symlink_to(Path(tmp) / "outside.xlsx")
            elif content == "readonly":
                path.write_bytes(good.bytes())
                path.chmod(0o444)
            else:
                path.write_bytes(content())
            t = time.perf_counter()
            r = run(action, path)
            r["wall"] = time.perf_counter() - t
            rows.append((label, r))
            print(f"{label}: {r}", file=sys.stderr)
    print("| case | result | peak RSS (MB) | seconds |")
    print("|---|---|---:|---:|")
    for label, r in rows:
        print(f"| {label} | {r['said']} | {r['peak_mb']:.0f} | {r['seconds']:.2f} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
