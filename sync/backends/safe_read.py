"""Reading a workbook a commune sent without trusting it.

A file goes through three gates, each refusal a :class:`SourceUnavailable` whose message
a commune's staff can act on:

1. **The file itself** (:func:`open_regular`): a regular file inside the communes folder
   (``os.lstat``; a FIFO, a device or a symlink leading out of the folder is refused
   without being opened), no larger than :attr:`Limits.file_bytes`.
2. **A cheap look inside** (:func:`preflight`): what format it really is (by its first
   bytes, not its name); for a zip (.xlsx, .xlsm, .ods) every part's uncompressed size and
   compression ratio, no ``<!DOCTYPE``/``<!ENTITY`` in any XML part, and each sheet's
   declared ``<dimension ref>`` and largest cell reference within bounds; an OLE file
   holding an encrypted OOXML package is refused as password-protected. The commune code
   stamped in ``docProps/custom.xml`` is read here too.
3. **Parsing in a worker process** (:class:`Reader`): one process per run reads files one
   after another with its address space capped (``RLIMIT_AS``) and a time limit; a
   parser that aborts or runs away ends that process, not the run, and the next file gets
   a new one.

CSV files are read here with the ``csv`` module (encoding found from the BOM, else UTF-8,
else Windows-1258), bounded by the same size, row and cell limits.
"""

from __future__ import annotations

import atexit
import codecs
import contextlib
import csv
import hashlib
import io
import os
import pickle
import re
import select
import stat
import struct
import subprocess
import sys
import threading
import time
import unicodedata
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import SourceUnavailable

Grid = list[list[Any]]

MIB = 1 << 20


@dataclass(frozen=True)
class Limits:
    """How much one commune file may cost. The defaults hold any real commune sheet (a
    commune has a few dozen hamlets and twelve months a year) a hundred times over."""

    file_bytes: int = 50 * MIB
    part_bytes: int = 256 * MIB  # one part of a zip, uncompressed
    total_bytes: int = 512 * MIB  # every part, uncompressed
    ratio: int = 200  # uncompressed / compressed, for parts over 1 MiB
    parts: int = 5000
    rows: int = 200_000  # per sheet
    cells: int = 2_000_000  # rows × columns per sheet
    memory_bytes: int = 1536 * MIB  # the worker's address space
    seconds: float = 60.0  # one file's parse


LIMITS = Limits()

# Reasons, as commune staff read them in Tiến độ báo cáo and the findings.
NOT_FOUND = "không tìm thấy tệp"
NOT_REGULAR = "không phải tệp thường"
OUTSIDE = "là liên kết tới ngoài thư mục các xã"
EMPTY = "tệp rỗng (0 byte)"
TOO_LARGE = "tệp quá lớn"
CORRUPT = "tệp hỏng"
UNSAFE = "tệp có nội dung không an toàn"
ENCRYPTED = "tệp có mật khẩu (đã mã hóa), cần lưu lại không đặt mật khẩu"
UNKNOWN = "không phải bảng tính (.xlsx, .xlsm, .xls, .ods, .csv)"
TIMEOUT = "đọc quá thời gian"
NO_ACCESS = "không có quyền đọc tệp"

OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
ZIP_MAGIC = b"PK\x03\x04"
ODS_MIMETYPE = b"application/vnd.oasis.opendocument.spreadsheet"
TEXT_SUFFIXES = {".csv", ".txt", ".tsv"}

#: The custom document property holding the commune code of a workbook namcoso wrote.
IDENTITY_PROPERTY = "namcoso.commune"
#: The property provisioning writes ("provisioned 29110"); its code counts as identity too.
PROVISION_MARKER = "namcoso"


@dataclass
class Source:
    """A commune file that passed the first two gates."""

    path: Path
    data: bytes
    kind: str  # "xlsx" | "ods" | "xls" | "csv"
    token: str  # SHA-256 of ``data``
    identity: str | None = None
    #: An .xlsx with error cells (``t="e"``): read with openpyxl, which keeps their text.
    error_cells: bool = False
    provisioned: bool = False
    notes: list[str] = field(default_factory=list)


# -- gate 1: the file ------------------------------------------------------------------------
def _inside(path: Path, root: Path) -> bool:
    try:
        path.resolve().relative_to(root.resolve())
    except (ValueError, OSError, RuntimeError):
        return False
    return True


def open_regular(path: Path, root: Path | None, limits: Limits = LIMITS) -> bytes:
    """The bytes of ``path`` if it is a regular file (inside ``root`` when given) of
    acceptable size. Never opens a FIFO or a device: the type is checked before the
    open, which is non-blocking and then checked again on the open descriptor."""
    name = path.name
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        raise SourceUnavailable(NOT_FOUND, detail=name) from None
    except OSError as e:
        raise SourceUnavailable(NO_ACCESS, detail=f"{name}: {e.strerror}") from None
    if stat.S_ISLNK(st.st_mode) or (root is not None and not _inside(path, root)):
        if root is not None and not _inside(path, root):
            raise SourceUnavailable(OUTSIDE, detail=name)
        try:
            st = os.stat(path)
        except OSError:
            raise SourceUnavailable(NOT_FOUND, detail=f"{name} (liên kết hỏng)") from None
    if not stat.S_ISREG(st.st_mode):
        raise SourceUnavailable(NOT_REGULAR, detail=name)
    if st.st_size > limits.file_bytes:
        raise SourceUnavailable(_too_large(st.st_size, limits.file_bytes), detail=name)
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0)
    try:
        fd = os.open(path, flags)
    except OSError as e:
        raise SourceUnavailable(NO_ACCESS, detail=f"{name}: {e.strerror}") from None
    try:
        opened = os.fstat(fd)
        if not stat.S_ISREG(opened.st_mode):  # swapped for a FIFO since the lstat
            raise SourceUnavailable(NOT_REGULAR, detail=name)
        chunks, size = [], 0
        while True:
            chunk = os.read(fd, 1 << 20)
            if not chunk:
                break
            size += len(chunk)
            if size > limits.file_bytes:
                raise SourceUnavailable(_too_large(size, limits.file_bytes), detail=name)
            chunks.append(chunk)
    except OSError as e:
        raise SourceUnavailable(NO_ACCESS, detail=f"{name}: {e.strerror}") from None
    finally:
        os.close(fd)
    return b"".join(chunks)


def fingerprint(path: Path, root: Path | None) -> str | None:
    """The SHA-256 of a regular file inside ``root``, or None for anything else (a FIFO, a
    device, a link out of the folder, a file too large or unreadable): listing a folder
    never blocks on a FIFO, and what it skips the read then refuses with its reason."""
    try:
        return hashlib.sha256(open_regular(path, root)).hexdigest()
    except SourceUnavailable:
        return None


def _too_large(size: int, limit: int) -> str:
    return f"{TOO_LARGE} ({_mb(size)}, tối đa {_mb(limit)})"


def _mb(size: int) -> str:
    return f"{size / MIB:.1f} MB".replace(".", ",")


# -- gate 2: a cheap look inside -------------------------------------------------------------
def kind_of(data: bytes, name: str) -> str:
    """The format of a file by its first bytes ("zip", "ole", "csv"), else "unknown"."""
    if data.startswith(ZIP_MAGIC):
        return "zip"
    if data.startswith(OLE_MAGIC):
        return "ole"
    if Path(name).suffix.lower() in TEXT_SUFFIXES:
        return "csv"
    return "unknown"


def preflight(path: Path, data: bytes, limits: Limits = LIMITS) -> Source:
    """What ``data`` is and whether it may be parsed; raises :class:`SourceUnavailable`."""
    name = path.name
    token = hashlib.sha256(data).hexdigest()
    if not data:
        raise SourceUnavailable(EMPTY, detail=name)
    kind = kind_of(data, name)
    if kind == "ole":
        # An encrypted .xlsx is an OLE file holding EncryptionInfo + EncryptedPackage.
        if "EncryptedPackage".encode("utf-16-le") in data:
            raise SourceUnavailable(ENCRYPTED, detail=name)
        return Source(path, data, "xls", token)
    if kind == "csv":
        return Source(path, data, "csv", token)
    if kind == "unknown":
        raise SourceUnavailable(UNKNOWN, detail=name)
    source = Source(path, data, "xlsx", token)
    _check_zip(source, limits)
    return source


_SHEET_PART = re.compile(r"^xl/worksheets/[^/]+\.xml$")
_DTD = (b"<!DOCTYPE", b"<!ENTITY")
_DIMENSION = re.compile(rb"<(?:\w+:)?dimension\s[^>]*?ref=\"([^\"]*)\"")
_ROW = re.compile(rb"<(?:\w+:)?row\s[^>]*?\br=\"(\d{1,10})\"")
_WIDE_CELL = re.compile(rb"\sr=\"([A-Z]{2,4})(\d{1,10})\"")
_REF = re.compile(r"\$?([A-Z]{1,4})\$?(\d{1,10})")
_CHUNK = 1 << 20


def _column_number(letters: bytes | str) -> int:
    n = 0
    for ch in letters if isinstance(letters, str) else letters.decode():
        n = n * 26 + ord(ch) - 64
    return n


def _check_zip(source: Source, limits: Limits) -> None:
    name = source.path.name
    try:
        z = zipfile.ZipFile(io.BytesIO(source.data))
        infos = z.infolist()
    except (zipfile.BadZipFile, OSError, ValueError, EOFError):
        raise SourceUnavailable(CORRUPT, detail=name) from None
    if len(infos) > limits.parts:
        raise SourceUnavailable(f"{CORRUPT} (quá nhiều phần: {len(infos)})", detail=name)
    names = {i.filename for i in infos}
    total = 0
    for info in infos:
        if info.flag_bits & 0x1:
            raise SourceUnavailable(ENCRYPTED, detail=name)
        if info.file_size > MIB and info.file_size > limits.ratio * max(info.compress_size, 1):
            ratio = info.file_size // max(info.compress_size, 1)
            raise SourceUnavailable(
                f"{UNSAFE} (nén bất thường: {info.filename} giải nén gấp {ratio} lần)",
                detail=name,
            )
        total += info.file_size
        if info.file_size > limits.part_bytes:
            raise SourceUnavailable(
                f"{TOO_LARGE} ({info.filename} giải nén ra {_mb(info.file_size)}, "
                f"tối đa {_mb(limits.part_bytes)})",
                detail=name,
            )
        if total > limits.total_bytes:
            raise SourceUnavailable(
                f"{TOO_LARGE} (giải nén ra hơn {_mb(limits.total_bytes)})", detail=name
            )
    try:
        if "mimetype" in names and z.read("mimetype").strip() == ODS_MIMETYPE:
            source.kind = "ods"
        elif "xl/workbook.xml" not in names:
            raise SourceUnavailable(UNKNOWN, detail=name)
        for info in infos:
            if not info.filename.endswith((".xml", ".rels", ".vml")):
                continue
            sheet = source.kind == "xlsx" and _SHEET_PART.match(info.filename) is not None
            _scan_part(z, info, sheet, source, limits)
        if "docProps/custom.xml" in names:
            custom = z.read("docProps/custom.xml")  # its size was bounded above
            source.identity, source.provisioned = read_identity(custom)
    except SourceUnavailable:
        raise
    except (zipfile.BadZipFile, OSError, ValueError, EOFError, KeyError, RuntimeError):
        raise SourceUnavailable(CORRUPT, detail=name) from None


def _scan_part(
    z: zipfile.ZipFile, info: zipfile.ZipInfo, sheet: bool, source: Source, limits: Limits
) -> None:
    """Stream one XML part: refuse a DTD; for a worksheet, bound its declared and real
    extent and note error cells. Reads at most the part's declared size."""
    name = source.path.name
    max_row = max_col = 0
    narrow = 26
    tail = b""
    read = 0
    with z.open(info) as f:
        while True:
            chunk = f.read(_CHUNK)
            if not chunk:
                break
            read += len(chunk)
            if read > info.file_size:
                raise SourceUnavailable(CORRUPT, detail=name)
            text = tail + chunk
            if _DTD[0] in text or _DTD[1] in text:
                raise SourceUnavailable(
                    f"{UNSAFE} (khai báo DTD/ENTITY trong {info.filename})", detail=name
                )
            if sheet:
                if read == len(chunk):  # the dimension comes first, before the cells
                    m = _DIMENSION.search(text)
                    if m:
                        ref = m.group(1).decode("ascii", "replace")
                        narrow = _check_dimension(ref, source, limits) or narrow
                for m in _ROW.finditer(text):
                    max_row = max(max_row, int(m.group(1)))
                for m in _WIDE_CELL.finditer(text):
                    max_col = max(max_col, _column_number(m.group(1)))
                    max_row = max(max_row, int(m.group(2)))
                if b't="e"' in text:
                    source.error_cells = True
                # cells in columns A–Z are not scanned one by one: count them as the
                # declared width (a lie costs at most 26×, still bounded by the rows)
                _check_extent(max_row, max(max_col, narrow), source, limits)
            tail = text[-256:]


def _check_dimension(ref: str, source: Source, limits: Limits) -> int:
    """Refuse a sheet whose declared extent is too large; its declared width (0 if none)."""
    cells = _REF.findall(ref.upper())
    if not cells:
        return 0
    rows = max(int(r) for _, r in cells)
    cols = max(_column_number(c) for c, _ in cells)
    _check_extent(rows, cols, source, limits, declared=ref)
    return cols


def _check_extent(
    rows: int, cols: int, source: Source, limits: Limits, declared: str | None = None
) -> None:
    if rows > 1_048_576 or cols > 16_384 or rows > limits.rows or rows * cols > limits.cells:
        what = f"vùng khai báo {declared}" if declared else f"{_n(rows)} dòng × {_n(cols)} cột"
        raise SourceUnavailable(
            f"{TOO_LARGE} ({what}; tối đa {_n(limits.rows)} dòng, {_n(limits.cells)} ô)",
            detail=source.path.name,
        )


def _n(number: int) -> str:
    """A count as Vietnamese write it (1.048.576)."""
    return f"{number:,}".replace(",", ".")


_PROPERTY = re.compile(
    rb"<(?:\w+:)?property\b[^>]*\bname=\"([^\"]*)\"[^>]*>\s*<(?:\w+:)?lpwstr\b[^>]*>([^<]*)</",
    re.S,
)


def read_identity(custom_xml: bytes) -> tuple[str | None, bool]:
    """(commune code, provisioned) from ``docProps/custom.xml``: the ``namcoso.commune``
    property, else the code in provisioning's ``namcoso`` marker ("provisioned 29110")."""
    props = {
        n.decode("utf-8", "replace"): v.decode("utf-8", "replace")
        for n, v in _PROPERTY.findall(custom_xml)
    }
    provisioned = PROVISION_MARKER in props
    code = props.get(IDENTITY_PROPERTY, "").strip()
    if not code and provisioned:
        words = props[PROVISION_MARKER].split()
        code = words[-1] if len(words) > 1 else ""
    return (code or None), provisioned


# -- CSV ------------------------------------------------------------------------------------
def decode_text(data: bytes) -> tuple[str, str]:
    """(text, encoding) of a CSV file: by its BOM, else UTF-16 without BOM (NUL bytes in
    every other place), else UTF-8, else Windows-1258 (Vietnamese Windows)."""
    if data.startswith(codecs.BOM_UTF8):
        return data[3:].decode("utf-8", "replace"), "utf-8-sig"
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return data.decode("utf-16", "replace"), "utf-16"
    head = data[:4096]
    if len(head) >= 4 and head[1::2].count(0) > len(head) // 4:
        return data.decode("utf-16-le", "replace"), "utf-16-le"
    if len(head) >= 4 and head[0::2].count(0) > len(head) // 4:
        return data.decode("utf-16-be", "replace"), "utf-16-be"
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        return data.decode("cp1258", "replace"), "cp1258"


def read_csv(source: Source, limits: Limits = LIMITS) -> Grid:
    """The rows of a CSV file as text (empty cells None), NFC-normalized."""
    text, _ = decode_text(source.data)
    if "\x00" in text:
        raise SourceUnavailable(UNKNOWN, detail=source.path.name)
    sample = text[:65536]
    try:
        dialect: Any = csv.Sniffer().sniff(sample, delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    grid: Grid = []
    cells = 0
    try:
        for row in csv.reader(io.StringIO(text, newline=""), dialect):
            cells += len(row)
            if len(grid) >= limits.rows or cells > limits.cells:
                raise SourceUnavailable(
                    f"{TOO_LARGE} (hơn {_n(limits.rows)} dòng hoặc {_n(limits.cells)} ô)",
                    detail=source.path.name,
                )
            grid.append([unicodedata.normalize("NFC", v.strip()) or None for v in row])
    except csv.Error as e:
        raise SourceUnavailable(CORRUPT, detail=f"{source.path.name}: {e}") from None
    return grid


# -- gate 3: the worker ---------------------------------------------------------------------
class Reader:
    """A worker process that parses workbooks, restarted after any failure."""

    def __init__(self, limits: Limits = LIMITS) -> None:
        self.limits = limits
        self._proc: subprocess.Popen | None = None
        self._lock = threading.Lock()
        #: Worker processes started (one per run, plus one after each failure).
        self.started = 0

    def _worker(self) -> subprocess.Popen:
        if self._proc is None or self._proc.poll() is not None:
            script = Path(__file__).with_name("read_worker.py")
            self._proc = subprocess.Popen(
                [sys.executable, "-I", str(script), str(self.limits.memory_bytes)],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.DEVNULL,
                close_fds=True,
            )
            self.started += 1
        return self._proc

    def close(self) -> None:
        proc, self._proc = self._proc, None
        if proc is None:
            return
        try:
            proc.stdin.close()  # the worker ends at end of input
            proc.wait(timeout=2)
        except (OSError, subprocess.TimeoutExpired):
            proc.kill()
            proc.wait()
        finally:
            proc.stdout.close()

    def _kill(self) -> None:
        proc, self._proc = self._proc, None
        if proc is not None:
            proc.kill()
            proc.wait()
            for pipe in (proc.stdin, proc.stdout):
                with contextlib.suppress(OSError):
                    pipe.close()

    def parse(self, source: Source, wanted: set[str] | None = None) -> dict[str, Grid]:
        """The grids of an .xlsx/.xlsm/.xls/.ods, parsed in the worker."""
        engine = "openpyxl" if source.error_cells else "calamine"
        if source.kind == "xlsx" and engine == "calamine":
            engine = "calamine-or-openpyxl"
        request = pickle.dumps((source.data, wanted, engine), protocol=pickle.HIGHEST_PROTOCOL)
        name = source.path.name
        with self._lock:
            proc = self._worker()
            deadline = time.monotonic() + self.limits.seconds
            try:
                proc.stdin.write(struct.pack(">Q", len(request)) + request)
                proc.stdin.flush()
                head = _read_exact(proc.stdout, 8, deadline)
                answer = pickle.loads(
                    _read_exact(proc.stdout, struct.unpack(">Q", head)[0], deadline)
                )
            except TimeoutError:
                self._kill()
                raise SourceUnavailable(
                    f"{TIMEOUT} (hơn {self.limits.seconds:g} giây)", detail=name
                ) from None
            except (OSError, EOFError, struct.error, pickle.UnpicklingError):
                self._kill()  # the parser aborted or ran out of memory
                raise SourceUnavailable(
                    f"{CORRUPT} hoặc quá lớn (trình đọc dừng giữa chừng)", detail=name
                ) from None
        status, payload = answer
        if status == "ok":
            return payload
        if status == "memory":
            self._kill()
            raise SourceUnavailable(f"{TOO_LARGE} (vượt giới hạn bộ nhớ khi đọc)", detail=name)
        raise SourceUnavailable(CORRUPT, detail=f"{name}: {payload}")


def _read_exact(stream, n: int, deadline: float) -> bytes:
    """``n`` bytes from the worker's pipe by ``deadline`` (TimeoutError), or EOFError."""
    if os.name == "nt":  # no select() on Windows pipes: a blocking read in a thread
        return _read_exact_in_thread(stream, n, deadline)
    fd = stream.fileno()
    chunks, left = [], n
    while left:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise TimeoutError
        ready, _, _ = select.select([fd], [], [], remaining)
        if not ready:
            raise TimeoutError
        chunk = os.read(fd, min(left, 1 << 20))
        if not chunk:
            raise EOFError
        chunks.append(chunk)
        left -= len(chunk)
    return b"".join(chunks)


def _read_exact_in_thread(stream, n: int, deadline: float) -> bytes:
    got: list[bytes] = []
    thread = threading.Thread(target=lambda: got.append(stream.read(n)), daemon=True)
    thread.start()
    thread.join(max(deadline - time.monotonic(), 0))
    if thread.is_alive():
        raise TimeoutError  # the caller kills the worker, which ends the read
    if not got or len(got[0]) < n:
        raise EOFError
    return got[0]


_READER: Reader | None = None


def reader() -> Reader:
    """The process's shared worker (started on first use, ended at exit)."""
    global _READER
    if _READER is None:
        _READER = Reader()
        atexit.register(_READER.close)
    return _READER


def read_source(
    path: Path,
    root: Path | None,
    *,
    wanted: set[str] | None = None,
    limits: Limits | None = None,
) -> tuple[dict[str, Grid], Source]:
    """A commune file's grids and what was learned of it, through all three gates."""
    limits = limits or LIMITS
    data = open_regular(path, root, limits)
    source = preflight(path, data, limits)
    if source.kind == "csv":
        return {path.stem: read_csv(source, limits)}, source
    parser = reader() if limits is LIMITS else Reader(limits)
    try:
        return parser.parse(source, wanted), source
    finally:
        if parser is not _READER:
            parser.close()
