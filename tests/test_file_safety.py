"""Files communes really send, hostile or broken, through ``sync`` and ``validate``.

Each case breaks commune 29113 of the small project after a good first run and checks what
users would: 29113 reads ``Lỗi truy cập`` with a reason they can act on and keeps its last
good rows, 29110 goes on, nothing is written into the bad file, no traceback. The bounded
cases run in a child process whose peak RSS (``RUSAGE_CHILDREN``) must stay under 1 GB.
"""

from __future__ import annotations

import codecs
import os
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import pytest
from conftest import commune_grids
from ooxml_build import DECL, MAIN, Book, commune_book, encrypted_xlsx, zip_parts
from test_reliability import UNREADABLE, Master, set_attendance

from sync.backends import safe_read
from sync.backends.local import cell_values
from sync.cli import main
from sync.config import Config
from sync.errors import SourceUnavailable
from sync.layout import commune_layout
from sync.pipeline import run_sync

C = commune_layout()
DATA = Path(__file__).resolve().parent / "data"
ROOT = Path(__file__).resolve().parents[1]
GB = 1 << 30


def _good_xlsx() -> bytes:
    return commune_book(commune_grids(["Ấp Tân Hòa"])).bytes()


def _with_sheet(xml: str | bytes, n: int = 1) -> bytes:
    """A good 29113 workbook whose sheet ``n`` part is replaced by ``xml``."""
    book = commune_book(commune_grids(["Ấp Tân Hòa"]))
    parts = book.parts()
    parts[f"xl/worksheets/sheet{n}.xml"] = xml.encode() if isinstance(xml, str) else xml
    return zip_parts(parts)


def truncated() -> bytes:
    """An interrupted save: the first sheet's XML cut in the middle of a row."""
    parts = commune_book(commune_grids(["Ấp Tân Hòa"])).parts()
    xml = parts["xl/worksheets/sheet1.xml"]
    return _with_sheet(xml[: len(xml) // 2])


def billion_laughs() -> bytes:
    lol = "".join(f'<!ENTITY l{i} "{("&l" + str(i - 1) + ";") * 10}">' for i in range(1, 10))
    xml = (
        DECL + f'<!DOCTYPE worksheet [<!ENTITY l0 "lol">{lol}]>'
        f'<worksheet xmlns="{MAIN}"><sheetData><row r="1"><c r="A1" t="inlineStr"><is>'
        "<t>&l9;</t></is></c></row></sheetData></worksheet>"
    )
    return _with_sheet(xml)


def xxe() -> bytes:
    book = commune_book(commune_grids(["Ấp Tân Hòa"]))
    parts = book.parts()
    parts["xl/sharedStrings.xml"] = (
        parts["xl/sharedStrings.xml"]
        .replace(b"<sst ", b'<!DOCTYPE sst [<!ENTITY x SYSTEM "file:///etc/passwd">]><sst ', 1)
        .replace(b"<t>x</t>", b"<t>&x;</t>")
    )
    return zip_parts(parts)


def sparse(declared: bool) -> bytes:
    """One cell at A1 and one at XFD1048576 (10 KB; calamine would ask for 512 GiB)."""
    ref = "A1:XFD1048576" if declared else "A1"
    xml = (
        DECL + f'<worksheet xmlns="{MAIN}"><dimension ref="{ref}"/><sheetData>'
        '<row r="1"><c r="A1"><v>1</v></c></row>'
        '<row r="1048576"><c r="XFD1048576"><v>2</v></c></row></sheetData></worksheet>'
    )
    return _with_sheet(xml)


def zip_bomb(megabytes: int = 300) -> bytes:
    """A 'sheet' of ``megabytes`` MB of blanks compressing to well under 1 MB."""
    parts = commune_book(commune_grids(["Ấp Tân Hòa"])).parts()
    head = parts["xl/worksheets/sheet1.xml"][: -len(b"</worksheet>")]
    parts["xl/worksheets/sheet1.xml"] = head + b" " * (megabytes << 20) + b"</worksheet>"
    return zip_parts(parts, level=9)


def many_rows(n: int) -> bytes:
    """A meetings tab of ``n`` rows, as a fill-down accident leaves it."""
    header = [col.header for col in C["meetings"].columns]
    row = ["Ấp Tân Hòa", "01/2018", "05/01/2018", 20, 18, "x", "x"]
    book = Book()
    book.add_sheet(C["meetings"].title, [header, row])
    cells = "".join(
        f'<row r="{r}"><c r="A{r}" t="s"><v>{len(header)}</v></c><c r="D{r}"><v>20</v></c>'
        f'<c r="E{r}"><v>18</v></c></row>'
        for r in range(2, n + 2)
    )
    parts = book.parts()
    xml = parts["xl/worksheets/sheet1.xml"].decode()
    start, end = xml.index("<sheetData>") + len("<sheetData>"), xml.index("</sheetData>")
    xml = xml[:start] + xml[start : xml.index("</row>", start) + 6] + cells + xml[end:]
    parts["xl/worksheets/sheet1.xml"] = xml.replace('ref="A1:H2"', f'ref="A1:H{n + 1}"').encode()
    return zip_parts(parts, level=1)


# -- through a sync --------------------------------------------------------------------------
def _break_and_sync(config: Config, content: bytes | None = None) -> tuple:
    run_sync(config)
    set_attendance(config, "29110", ["Khu phố 1", "Ấp An Thạnh"], 17)
    victim = config.communes_dir / "29113.xlsx"
    if content is not None:
        victim.unlink()
        victim.write_bytes(content)
    before = victim.read_bytes() if victim.is_file() else None
    result = run_sync(config)
    return result, Master(config), before


def _assert_kept(config: Config, result, master: Master, reason: str, before: bytes | None):
    assert result.unreadable == ["29113"] and result.communes_failed == 1
    assert master.attendance() == {"29110": {17}, "29113": {18}}  # 29113's last good rows
    assert len(master.rows("meetings", "29113")) == 12
    assert master.statuses()["29113"] == {UNREADABLE}
    messages = master.messages("29113")
    assert any(reason in m for m in messages), messages
    victim = config.communes_dir / "29113.xlsx"
    if before is not None:
        assert victim.read_bytes() == before  # no feedback written into it
    assert result.communes_written == ["29110"]


CASES = {
    "truncated": (truncated, safe_read.CORRUPT),
    "entity_expansion": (billion_laughs, safe_read.UNSAFE),
    "xxe": (xxe, safe_read.UNSAFE),
    "sparse_declared": (lambda: sparse(True), safe_read.TOO_LARGE),
    "sparse_undeclared": (lambda: sparse(False), safe_read.TOO_LARGE),
    "empty": (lambda: b"", safe_read.EMPTY),
    "encrypted": (encrypted_xlsx, "mật khẩu"),
    "not_a_workbook": (lambda: b"PK\x03\x04 rubbish" * 40, safe_read.CORRUPT),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_a_bad_commune_file_is_refused_with_its_reason_and_the_others_go_on(small_project, case):
    make, reason = CASES[case]
    result, master, before = _break_and_sync(small_project, make())
    _assert_kept(small_project, result, master, reason, before)


def test_a_fifo_is_never_opened(small_project):
    config = small_project
    run_sync(config)
    victim = config.communes_dir / "29113.xlsx"
    victim.unlink()
    os.mkfifo(victim)  # opening it for reading would wait forever for a writer
    set_attendance(config, "29110", ["Khu phố 1", "Ấp An Thạnh"], 17)
    result = run_sync(config)
    _assert_kept(config, result, Master(config), safe_read.NOT_REGULAR, None)
    assert victim.is_fifo()


def test_a_symlink_out_of_the_communes_folder_is_refused_one_inside_is_read(
    small_project, tmp_path
):
    config = small_project
    outside = tmp_path / "elsewhere.xlsx"
    outside.write_bytes(_good_xlsx())
    run_sync(config)
    victim = config.communes_dir / "29113.xlsx"
    kept = config.communes_dir / "kept" / "29113-copy.xlsx"
    kept.parent.mkdir()
    victim.rename(kept)
    victim.symlink_to(outside)
    set_attendance(config, "29110", ["Khu phố 1", "Ấp An Thạnh"], 17)
    result = run_sync(config)
    _assert_kept(config, result, Master(config), safe_read.OUTSIDE, None)
    assert outside.read_bytes() == _good_xlsx()  # nothing written through the link

    victim.unlink()
    victim.symlink_to(kept)  # a link that stays inside the folder is an ordinary file
    again = run_sync(config)
    assert "29113" not in again.unreadable and again.communes_read == 1


def test_a_device_is_refused(tmp_path):
    link = tmp_path / "29113.xlsx"
    link.symlink_to("/dev/zero")
    with pytest.raises(SourceUnavailable) as caught:
        safe_read.read_source(link, None)
    assert safe_read.NOT_REGULAR in caught.value.message


def test_a_parser_that_aborts_takes_down_only_its_worker(tmp_path):
    """Past the preflight (called directly), calamine meets the sparse sheet in the worker
    and aborts; the read is refused and the next file gets a new worker."""
    path = tmp_path / "29113.xlsx"
    path.write_bytes(sparse(False))
    source = safe_read.Source(path, path.read_bytes(), "xlsx", "t")
    reader = safe_read.Reader(safe_read.Limits(memory_bytes=512 << 20))
    try:
        with pytest.raises(SourceUnavailable) as caught:
            reader.parse(source)
        assert (
            safe_read.CORRUPT in caught.value.message or safe_read.TOO_LARGE in caught.value.message
        )
        good = tmp_path / "good.xlsx"
        good.write_bytes(_good_xlsx())
        grids = reader.parse(safe_read.preflight(good, good.read_bytes()))
        assert grids[C["meetings"].title][1][0] == "Ấp Tân Hòa"
        assert reader.started == 2
    finally:
        reader.close()


def test_a_read_past_its_time_is_refused_and_the_worker_replaced(tmp_path):
    path = tmp_path / "29113.xlsx"
    path.write_bytes(_good_xlsx())
    limits = safe_read.Limits(seconds=0.000001)
    with pytest.raises(SourceUnavailable) as caught:
        safe_read.read_source(path, None, limits=limits)
    assert safe_read.TIMEOUT in caught.value.message


def test_one_worker_reads_every_file_of_a_run(small_project):
    reader = safe_read.reader()
    run_sync(small_project)
    started = reader.started
    run_sync(small_project, full=True)
    assert reader.started == started  # no process per file


def test_a_truncated_file_through_validate_is_one_line(small_project, tmp_path, capsys):
    bad = tmp_path / "29113.xlsx"
    bad.write_bytes(truncated())
    config = str(small_project.root / "namcoso.toml")
    assert main(["validate", str(bad), "--commune", "29113", "--config", config]) == 3
    err = capsys.readouterr().err
    assert safe_read.CORRUPT in err and "29113.xlsx" in err and "Traceback" not in err


def test_a_truncated_master_is_one_line_not_a_traceback(small_project, capsys):
    config = small_project
    parts = {}
    with zipfile.ZipFile(config.master) as z:
        for name in z.namelist():
            parts[name] = z.read(name)
    parts["xl/worksheets/sheet1.xml"] = parts["xl/worksheets/sheet1.xml"][:300]
    config.master.write_bytes(zip_parts(parts))
    code = main(["sync", "--config", str(config.root / "namcoso.toml")])
    err = capsys.readouterr().err
    assert code == 4 and "master" in err and "Traceback" not in err


# -- every format communes send ----------------------------------------------------------------
@pytest.mark.parametrize("name", ["29113.xls", "29113.ods", "29113.xlsm", "29113-ods-named.xlsx"])
def test_xls_ods_and_xlsm_are_read_as_they_are(small_project, name):
    config = small_project
    if name == "29113.xlsm":
        content = commune_book(commune_grids(["Ấp Tân Hòa"]), macros=True).bytes()
    else:
        content = (DATA / name.replace("-ods-named.xlsx", ".ods")).read_bytes()
    _register(config, name)
    (config.communes_dir / "29113.xlsx").unlink()
    (config.communes_dir / name).write_bytes(content)
    result = run_sync(config)
    assert result.unreadable == [] and result.communes_read == 2
    master = Master(config)
    assert master.attendance()["29113"] == {18}
    assert len(master.rows("meetings", "29113")) == 12
    # nothing but, for .xls/.ods, the warning that feedback was not written into the file
    assert all(name in m and "Không ghi được" in m for m in master.messages("29113"))
    assert bool(master.messages("29113")) == ("ods" in name or name.endswith(".xls"))


CSV_ENCODINGS = {
    "utf-8": lambda text: text.encode("utf-8"),
    "utf-8-bom": lambda text: codecs.BOM_UTF8 + text.encode("utf-8"),
    "utf-16": lambda text: text.encode("utf-16"),  # with its BOM, as Excel's "Unicode Text"
    "utf-16-le-no-bom": lambda text: text.encode("utf-16-le"),
    "cp1258": lambda text: _cp1258(text),
}


def _cp1258(text: str) -> bytes:
    """Windows-1258 as Vietnamese Windows writes it: base letters + combining tone marks."""
    import unicodedata

    out = []
    for ch in unicodedata.normalize("NFC", text):
        try:
            out.append(ch.encode("cp1258"))
            continue
        except UnicodeEncodeError:
            pass
        d = unicodedata.normalize("NFD", ch)  # ộ = o + dot below + circumflex
        vowel = d[0] + "".join(m for m in d[1:] if m in "\u0302\u0306\u031b")
        tones = "".join(m for m in d[1:] if m not in "\u0302\u0306\u031b")
        out.append((unicodedata.normalize("NFC", vowel) + tones).encode("cp1258"))
    return b"".join(out)


@pytest.mark.parametrize("encoding", sorted(CSV_ENCODINGS))
def test_a_csv_meetings_tab_is_read_in_every_encoding(small_project, encoding):
    config = small_project
    sep = ";" if encoding == "cp1258" else ","

    def send(present: int) -> None:
        grid = commune_grids(["Ấp Tân Hòa"])[C["meetings"].title]
        for row in grid[1:]:
            row[4] = present
        text = "\r\n".join(sep.join("" if v is None else str(v) for v in row) for row in grid)
        (config.communes_dir / "29113.csv").write_bytes(CSV_ENCODINGS[encoding](text))

    _register(config, "29113.csv")
    (config.communes_dir / "29113.xlsx").unlink()
    send(18)
    run_sync(config)
    send(17)
    result = run_sync(config)
    assert result.unreadable == []
    master = Master(config)
    # the new rows, read right (a hamlet name read wrong would be rejected, not 17)
    assert master.attendance()["29113"] == {17}
    assert len(master.rows("meetings", "29113")) == 12
    # a CSV holds one tab: the other three are reported missing, and the feedback is not
    # written into it; nothing about the meetings
    assert not any(C["meetings"].title in m for m in master.messages("29113"))
    assert all(
        "Không tìm thấy trang" in m or "Không ghi được" in m for m in master.messages("29113")
    )


def test_a_csv_validates(small_project, tmp_path, capsys):
    grid = commune_grids(["Ấp Tân Hòa"])[C["meetings"].title]
    grid[3][0] = "Ấp Không Có"
    path = tmp_path / "29113.csv"
    text = "\n".join(",".join("" if v is None else str(v) for v in row) for row in grid)
    path.write_bytes(codecs.BOM_UTF8 + text.encode())
    config = str(small_project.root / "namcoso.toml")
    code = main(["validate", str(path), "--commune", "29113", "--config", config])
    out = capsys.readouterr().out
    assert code == 1 and "Ấp Không Có" in out and "A4" in out


def test_feedback_into_xls_ods_csv_is_not_written_and_the_file_is_unchanged(small_project):
    config = small_project
    content = (DATA / "29113.ods").read_bytes()
    _register(config, "29113.ods")
    (config.communes_dir / "29113.xlsx").unlink()
    (config.communes_dir / "29113.ods").write_bytes(content)
    result = run_sync(config)
    assert "29113" not in result.communes_written and result.unreadable == []
    assert (config.communes_dir / "29113.ods").read_bytes() == content


def _register(config: Config, name: str) -> None:
    """Point 29113's row of ``Danh mục xã`` at ``name``."""
    from sync.backends.local import read_workbook, write_workbook
    from sync.layout import master_layout

    grids = read_workbook(config.master)
    title = master_layout()["communes"].title
    for row in grids[title]:
        if row and row[0] == "29113":
            row[3] = name
    write_workbook(config.master, {t: cell_values(g) for t, g in grids.items()})


# -- bounded: peak memory of a child process ---------------------------------------------------
CHILD = """
import resource, sys
from pathlib import Path
from sync.backends import safe_read
try:
    safe_read.read_source(Path(sys.argv[1]), Path(sys.argv[1]).parent)
    print("READ")
except Exception as e:
    print(type(e).__name__, e)
safe_read.reader().close()
# this process's ru_maxrss counts the test process's memory from before the exec (Linux
# keeps the old address space's peak); its own peak is VmHWM, its worker's RUSAGE_CHILDREN
try:
    own = [int(l.split()[1]) for l in open("/proc/self/status") if l.startswith("VmHWM")]
except OSError:
    own = [resource.getrusage(resource.RUSAGE_SELF).ru_maxrss]
peak = max(own + [resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss])
print(peak * 1024)
"""


def read_in_child(path: Path) -> tuple[str, float, float]:
    """(what the read said, peak RSS in bytes of the child and its worker, seconds)."""
    start = time.perf_counter()
    out = subprocess.run(
        [sys.executable, "-c", CHILD, str(path)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        timeout=300,
    )
    seconds = time.perf_counter() - start
    assert out.returncode == 0, out.stderr
    said, peak = out.stdout.strip().rsplit("\n", 1)
    return said, int(peak), seconds  # the child's own peak and its worker's


BOUNDED = {
    "zip_bomb": (zip_bomb, safe_read.UNSAFE),
    "sparse": (lambda: sparse(False), safe_read.TOO_LARGE),
    "entity_expansion": (billion_laughs, safe_read.UNSAFE),
    "rows_300k": (lambda: many_rows(300_000), safe_read.TOO_LARGE),
}


@pytest.mark.parametrize("case", sorted(BOUNDED))
def test_bounded_cases_stay_under_1_gb(tmp_path, case):
    make, reason = BOUNDED[case]
    path = tmp_path / "29113.xlsx"
    path.write_bytes(make())
    said, peak, _ = read_in_child(path)
    assert said.startswith("SourceUnavailable") and reason in said, said
    assert peak < GB


@pytest.mark.slow
def test_a_million_rows_is_refused_under_1_gb(tmp_path):
    path = tmp_path / "29113.xlsx"
    path.write_bytes(many_rows(1_000_000))
    said, peak, _ = read_in_child(path)
    assert said.startswith("SourceUnavailable") and safe_read.TOO_LARGE in said
    assert peak < GB
