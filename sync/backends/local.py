"""The embedded default backend: a folder with ``master.xlsx`` and one workbook per commune.

Reads raw cell values; writes only namcoso-owned tabs, to a temporary file that then
replaces the workbook (``os.replace``), so a crash never leaves a half-written file.
District-owned tabs come through untouched because the workbook is loaded whole and
only the owned tabs are rebuilt.
"""

from __future__ import annotations

import errno
import hashlib
import io
import os
import tempfile
import zipfile
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import openpyxl
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.utils.exceptions import InvalidFileException
from openpyxl.workbook import Workbook
from python_calamine import CalamineWorkbook

from ..errors import MasterBusy, MasterUnavailable, SourceChanged, SourceUnavailable
from ..units import NUMBER_FORMATS
from .base import CommuneSheet, Grid, OutputTab
from .ooxml import PackageError, transplant
from .read_worker import _value
from .safe_read import IDENTITY_PROPERTY, Source, fingerprint, open_regular, read_source

HEADER_FILL = PatternFill("solid", start_color="FFDDEBF7", end_color="FFDDEBF7")
READ_ERRORS = (OSError, zipfile.BadZipFile, InvalidFileException, KeyError, ValueError)

#: Workbooks feedback can be written into without losing anything of the commune's.
WRITABLE_SUFFIXES = (".xlsx", ".xlsm")

#: Called with the tabs just written, before the workbook is saved: styles, charts.
Decorator = Callable[[Workbook, list[OutputTab]], None]


def file_fingerprint(path: Path) -> str:
    """The SHA-256 of a file's bytes."""
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def read_workbook(path: Path | io.BytesIO, wanted: set[str] | None = None) -> dict[str, Grid]:
    """Every tab of a workbook as raw values (formulas as their cached results).

    Read with python-calamine (about 12× faster than openpyxl here, see
    docs/benchmarks.md), its values made the same as openpyxl's: an empty cell is None,
    a whole number an int, a date a datetime. calamine reads an error cell (``#VALUE!``)
    as empty, so a workbook holding one is read with openpyxl, which keeps the error text
    for the finding; so is a file calamine cannot read, and openpyxl's errors are reported.
    """
    try:
        if not _has_error_cells(path):
            return _read_with_calamine(path, wanted)
    except Exception:  # whatever calamine trips on, openpyxl reads or reports
        pass
    if isinstance(path, io.BytesIO):
        path.seek(0)
    try:
        wb = openpyxl.load_workbook(path, read_only=True, data_only=True)
        try:
            return {
                ws.title: [list(row) for row in ws.iter_rows(values_only=True)]
                for ws in wb
                if wanted is None or ws.title in wanted
            }
        finally:
            wb.close()
    except READ_ERRORS:
        raise
    except Exception as e:  # a truncated part's ParseError, and whatever else openpyxl meets
        raise ValueError(f"{type(e).__name__}: {e}") from e


def _has_error_cells(path: Path | io.BytesIO) -> bool:
    """Whether some worksheet of an .xlsx holds an error value (``t="e"``)."""
    if isinstance(path, io.BytesIO):
        path.seek(0)
    with zipfile.ZipFile(path) as z:
        sheets = [n for n in z.namelist() if n.startswith("xl/worksheets/") and n.endswith(".xml")]
        return any(b't="e"' in z.read(name) for name in sheets)


def _read_with_calamine(path: Path | io.BytesIO, wanted: set[str] | None = None) -> dict[str, Grid]:
    if isinstance(path, io.BytesIO):
        path.seek(0)
        wb = CalamineWorkbook.from_filelike(path)
    else:
        wb = CalamineWorkbook.from_path(str(path))
    try:
        return {
            name: [[_value(v) for v in row] for row in wb.get_sheet_by_name(name).to_python()]
            for name in wb.sheet_names
            if wanted is None or name in wanted
        }
    finally:
        wb.close()


def csv_title(grid: Grid, stem: str) -> str:
    """The input tab a CSV file holds: the one its name says (``Sinh hoạt chi bộ.csv``),
    else the one whose header its rows carry, else the file's name."""
    from ..layout import commune_layout
    from ..normalize import normalize_tab
    from ..text import fold

    tabs = commune_layout().by_role("input")
    for tab in tabs:
        if fold(tab.title) in fold(stem):
            return tab.title
    for tab in tabs:
        if normalize_tab({tab.title: grid}, tab).ok:
            return tab.title
    return stem


def lock_files(path: Path) -> list[Path]:
    """Lock files that Excel (``~$name``) or LibreOffice (``.~lock.name#``) leave beside an
    open workbook."""
    candidates = [path.with_name("~$" + path.name), path.with_name(f".~lock.{path.name}#")]
    return [p for p in candidates if p.exists()]


def fill_sheet(ws, tab: OutputTab) -> None:
    """Write a tab's header and rows as values; strings always stay text."""
    for col, spec in enumerate(tab.columns, start=1):
        cell = ws.cell(row=1, column=col, value=spec.header)
        cell.font = Font(bold=True)
        cell.fill = HEADER_FILL
        cell.alignment = Alignment(wrap_text=True, vertical="center")
        ws.column_dimensions[get_column_letter(col)].width = spec.width
    formats = [NUMBER_FORMATS.get(spec.format or "") for spec in tab.columns]
    for r, row in enumerate(tab.rows, start=2):
        for c, value in enumerate(row, start=1):
            if value is None or value == "":
                continue
            cell = ws.cell(row=r, column=c, value=value)
            if isinstance(value, str):
                cell.data_type = "s"  # never a formula, whatever the text starts with
            elif formats[c - 1]:
                cell.number_format = formats[c - 1]
    if tab.frozen_rows:
        ws.freeze_panes = ws.cell(row=tab.frozen_rows + 1, column=1)


def replace_tabs(wb: Workbook, tabs: Iterable[OutputTab]) -> None:
    """Rebuild these tabs in place (same position), or append them when missing."""
    for tab in tabs:
        if tab.title in wb.sheetnames:
            index = wb.sheetnames.index(tab.title)
            wb.remove(wb[tab.title])
            ws = wb.create_sheet(tab.title, index)
        else:
            ws = wb.create_sheet(tab.title)
        fill_sheet(ws, tab)


def save_atomically(wb: Workbook, path: Path, before_replace: Callable[[], None] | None = None):
    """Save to a temporary file beside ``path``, flush it to disk, then replace ``path``.

    The new file keeps the old one's permissions (a shared folder stays shared). Temporary
    files left by a run that was killed mid-save are removed first: the caller holds the
    run lock, so no other save can own them.
    """
    for stale in path.parent.glob(f".{path.stem}-*.xlsx.tmp"):
        stale.unlink(missing_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.stem}-", suffix=".xlsx.tmp", dir=path.parent)
    os.close(fd)
    try:
        wb.save(tmp)
        mode = path.stat().st_mode & 0o7777 if path.exists() else 0o666 & ~_umask()
        os.chmod(tmp, mode)
        with open(tmp, "rb") as f:
            os.fsync(f.fileno())
        if before_replace:
            before_replace()
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _umask() -> int:
    current = os.umask(0)
    os.umask(current)
    return current


def write_workbook(path: Path, tabs: dict[str, Grid] | list[OutputTab]) -> None:
    """Create a new workbook holding exactly these tabs (plain grids or output tabs)."""
    wb = Workbook()
    wb.remove(wb.active)
    if isinstance(tabs, dict):
        for title, grid in tabs.items():
            ws = wb.create_sheet(title)
            for row in grid:
                ws.append(list(row))
                for cell in ws[ws.max_row]:
                    if isinstance(cell.value, str) and cell.data_type == "f":
                        cell.data_type = "s"
    else:
        for tab in tabs:
            fill_sheet(wb.create_sheet(tab.title), tab)
    path.parent.mkdir(parents=True, exist_ok=True)
    save_atomically(wb, path)


class LocalBackend:
    """``master.xlsx`` and the commune workbooks of ``communes_dir``."""

    def __init__(
        self,
        master: Path,
        communes_dir: Path,
        registry_titles: Iterable[str] = (),
        decorate: Decorator | None = None,
    ) -> None:
        self.master = Path(master)
        self.communes_dir = Path(communes_dir)
        self.registry_titles = list(registry_titles)
        self.decorate = decorate
        self.requests = 0
        self._master_fingerprint: str | None = None
        #: The content hash of each commune file as this run last saw it (listing or read).
        self._seen: dict[str, str] = {}
        self._read: dict[str, Source] = {}

    # -- reading -------------------------------------------------------------
    def path_of(self, source: str) -> Path:
        candidate = Path(source)
        return candidate if candidate.is_absolute() else self.communes_dir / candidate

    def describe(self, source: str) -> str:
        return self.path_of(source).name

    def read_registry(self) -> dict[str, Grid]:
        if not self.master.exists():
            raise MasterUnavailable(f"Không tìm thấy tệp master: {self.master}")
        self.requests += 1
        try:
            self._master_fingerprint = file_fingerprint(self.master)
            return read_workbook(self.master, set(self.registry_titles) or None)
        except READ_ERRORS as e:
            raise MasterUnavailable(
                f"Không đọc được tệp master {self.master}", detail=str(e)
            ) from e

    def read_master_tabs(self, titles: list[str]) -> dict[str, Grid]:
        if not self.master.exists():
            raise MasterUnavailable(f"Không tìm thấy tệp master: {self.master}")
        self.requests += 1
        try:
            return read_workbook(self.master, set(titles))
        except READ_ERRORS as e:
            raise MasterUnavailable(
                f"Không đọc được tệp master {self.master}", detail=str(e)
            ) from e

    def fingerprints(self, sources: list[str]) -> dict[str, str]:
        out = {}
        for source in sources:
            found = fingerprint(self.path_of(source), self.communes_dir)
            if found is None:
                continue
            out[source] = found
            self._seen.setdefault(source, found)
        return out

    def read_commune(self, source: str) -> CommuneSheet:
        """A commune file read through :mod:`.safe_read`: checked before any parser sees
        it, parsed in a worker process with memory and time limits. Every refusal is a
        :class:`SourceUnavailable` with its reason."""
        path = self.path_of(source)
        self.requests += 1
        grids, read = read_source(path, self.communes_dir)
        self._seen[source] = read.token
        self._read = {source: read}  # the last read only: its bytes serve missing_controls
        if read.kind == "csv":
            grids = {csv_title(grid, path.stem): grid for grid in grids.values()}
        return CommuneSheet(grids, token=read.token, identity=read.identity)

    def missing_controls(self, source: str, hamlets: list[str]) -> list[str]:
        """Input tabs of a provisioned commune workbook whose dropdowns or header lock
        were removed, looked for in the bytes this run read (never the file again).
        Workbooks that provisioning never made cost nothing: the preflight read their
        marker."""
        from .xlsx_controls import check_protections

        read = self._read.get(source)
        if read is None or not read.provisioned or read.kind != "xlsx":
            return []
        try:
            return check_protections(io.BytesIO(read.data), hamlets)
        except Exception:  # the data tabs were read; a control we cannot check is no finding
            return []

    # -- writing -------------------------------------------------------------
    def _check_not_open(self, path: Path) -> None:
        locks = lock_files(path)
        if locks:
            raise MasterBusy(
                f"{path.name} đang được mở trong Excel/LibreOffice ({locks[0].name}); "
                "đóng tệp rồi chạy lại đồng bộ"
            )

    def write_master(self, tabs: list[OutputTab]) -> None:
        """The sync-owned tabs (and the chart tab the decorator rebuilds) rendered with
        openpyxl, then transplanted into the master's own package: the district's tabs,
        pictures staff put there and every other part keep their bytes."""
        self._check_not_open(self.master)
        try:
            data = self.master.read_bytes()
        except OSError as e:
            raise MasterUnavailable(
                f"Không đọc được tệp master {self.master}", detail=e.strerror
            ) from e
        loaded_fingerprint = hashlib.sha256(data).hexdigest()
        if self._master_fingerprint and loaded_fingerprint != self._master_fingerprint:
            raise MasterBusy(f"{self.master.name} vừa được sửa trong lúc đồng bộ")
        self.requests += 1
        try:
            wb = openpyxl.load_workbook(io.BytesIO(data))
        except READ_ERRORS as e:
            raise MasterUnavailable(
                f"Không đọc được tệp master {self.master}", detail=str(e)
            ) from e
        except Exception as e:  # a broken part's ParseError and the like: one line, exit 4
            raise MasterUnavailable(
                f"Không đọc được tệp master {self.master}", detail=f"{type(e).__name__}: {e}"
            ) from e
        loaded = {id(ws) for ws in wb.worksheets}
        replace_tabs(wb, tabs)
        if self.decorate:
            self.decorate(wb, tabs)
        rendered = [ws.title for ws in wb.worksheets if id(ws) not in loaded]
        try:
            new = transplant(data, _saved(wb), rendered, order=wb.sheetnames)
        except PackageError as e:
            raise MasterUnavailable(
                f"Không ghi được tệp master {self.master}", detail=str(e)
            ) from e

        def unchanged_since_load() -> None:
            self._check_not_open(self.master)
            if file_fingerprint(self.master) != loaded_fingerprint:
                raise MasterBusy(f"{self.master.name} vừa được sửa trong lúc đồng bộ")

        try:
            write_atomically(self.master, new, before_replace=unchanged_since_load)
        except OSError as e:
            raise MasterUnavailable(
                f"Không ghi được tệp master {self.master}: {_write_problem(e)}"
            ) from e
        self._master_fingerprint = hashlib.sha256(new).hexdigest()

    def write_commune(
        self,
        source: str,
        tabs: list[OutputTab],
        *,
        expected: str | None = None,
        identity: str | None = None,
    ) -> None:
        """namcoso's tabs transplanted into the commune's own package (nothing else of
        it changes), stamped with ``identity``; written only if the file still holds
        ``expected``, checked again just before the atomic replace."""
        path = self.path_of(source)
        name = path.name
        if path.suffix.lower() not in WRITABLE_SUFFIXES:
            raise SourceUnavailable(
                f"không ghi phản hồi vào tệp {path.suffix or 'không đuôi'} (ghi vào sẽ làm mất "
                "định dạng của xã); phản hồi của xã xem ở tab Lỗi dữ liệu của master",
                detail=name,
            )
        self.requests += 1
        _check_commune_not_open(path)
        data = open_regular(path, self.communes_dir)
        token = hashlib.sha256(data).hexdigest()
        expected = expected or self._seen.get(source)
        if expected is not None and token != expected:
            raise SourceChanged("tệp vừa được lưu trong lúc đồng bộ", detail=name)
        _check_writable(path)
        wb = Workbook()
        wb.remove(wb.active)
        for tab in tabs:
            fill_sheet(wb.create_sheet(tab.title), tab)
        stamp = (IDENTITY_PROPERTY, identity) if identity else None
        try:
            new = transplant(data, _saved(wb), [t.title for t in tabs], identity=stamp)
        except PackageError as e:  # e.g. an .ods saved under an .xlsx name
            raise SourceUnavailable(
                "tệp không phải .xlsx/.xlsm thật (hoặc hỏng), không ghi phản hồi vào; phản hồi "
                "của xã xem ở tab Lỗi dữ liệu của master",
                detail=f"{name}: {e}",
            ) from e

        def unchanged_since_read() -> None:
            if before_replace_hook is not None:
                before_replace_hook(path)
            _check_commune_not_open(path)
            if fingerprint(path, self.communes_dir) != token:
                raise SourceChanged("tệp vừa được lưu trong lúc đồng bộ", detail=name)

        try:
            write_atomically(path, new, before_replace=unchanged_since_read)
        except OSError as e:
            raise SourceUnavailable(
                f"không ghi được phản hồi: {_write_problem(e)}", detail=name
            ) from e


#: Test-only: called with the path just before a commune file's final check and replace,
#: so a test can land a save between the read and the replace.
before_replace_hook: Callable[[Path], None] | None = None


def _saved(wb: Workbook) -> bytes:
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def _check_commune_not_open(path: Path) -> None:
    locks = lock_files(path)
    if locks:
        raise SourceUnavailable(
            f"tệp đang mở trong Excel/LibreOffice ({locks[0].name}); phản hồi ghi lần sau",
            detail=path.name,
        )


def _check_writable(path: Path) -> None:
    """A file marked read-only (or in a folder we cannot write) is left alone."""
    try:
        mode = path.stat().st_mode
    except OSError as e:
        raise SourceUnavailable(f"không ghi được: {_write_problem(e)}", detail=path.name) from e
    if not mode & 0o222:
        raise SourceUnavailable("tệp chỉ đọc, không ghi được phản hồi", detail=path.name)
    if not os.access(path.parent, os.W_OK):
        raise SourceUnavailable("thư mục chỉ đọc, không ghi được phản hồi", detail=path.name)


def _write_problem(e: OSError) -> str:
    """What a failed write means, in a line a person understands."""
    reasons = {
        errno.ENOSPC: "hết chỗ trên đĩa",
        errno.EACCES: "không có quyền ghi",
        errno.EPERM: "không được phép ghi (tệp bị khóa)",
        errno.EROFS: "ổ đĩa chỉ đọc",
        errno.EDQUOT: "vượt hạn mức đĩa",
    }
    reason = reasons.get(e.errno, "lỗi ghi tệp")
    return f"{reason} ({e.strerror or e})"


def write_atomically(
    path: Path, data: bytes, before_replace: Callable[[], None] | None = None
) -> None:
    """Write ``data`` to a temporary file beside ``path``, flush it to disk, then replace
    ``path``; on any failure (disk full included) the temporary file is removed and
    ``path`` is as it was. Keeps the old file's permissions."""
    for stale in path.parent.glob(f".{path.stem}-*{path.suffix}.tmp"):
        stale.unlink(missing_ok=True)
    fd, tmp = tempfile.mkstemp(
        prefix=f".{path.stem}-", suffix=f"{path.suffix}.tmp", dir=path.parent
    )
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        mode = path.stat().st_mode & 0o7777 if path.exists() else 0o666 & ~_umask()
        os.chmod(tmp, mode)
        if before_replace:
            before_replace()
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def cell_values(grid: Grid) -> list[list[Any]]:
    """A grid with trailing empty cells and rows trimmed (for comparisons in tests)."""
    out = [list(r) for r in grid]
    for r in out:
        while r and r[-1] in (None, ""):
            r.pop()
    while out and not out[-1]:
        out.pop()
    return out
