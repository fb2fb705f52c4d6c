"""Excel workbooks uploaded to the Drive folder and never converted to Google Sheets.

A commune may drop its .xlsx into the shared folder instead of editing its Google sheet.
The Sheets API cannot open such a file (400 "This operation is not supported for this
document"), so it is downloaded through Drive as it is (``files.get?alt=media``, one read,
the same as a sheet's ``spreadsheets.get``) and parsed by the local backend's reader:
the same raw grids cross the seam, so the rest of the pipeline does not know the
difference.

Feedback cannot be written into it: a Sheets ``batchUpdate`` does not apply to an
uploaded file, and uploading a new revision would replace the commune's own file behind
its back (the copy on their computer would no longer match). So the write is refused with
one line that says what to do (open it with Google Sheets and save it as a Google sheet),
at no request; the commune's rows are still read on every change.
"""

from __future__ import annotations

import hashlib
import logging
from pathlib import Path

from ..errors import SourceUnavailable
from .base import CommuneSheet

log = logging.getLogger("namcoso.google")

XLSX_MIME = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
#: Larger uploads are refused before download (a commune's workbook is well under 1 MB).
MAX_UPLOAD_BYTES = 50 * 1024 * 1024
TOO_LARGE = "tệp Excel trên Drive quá lớn ({size} MB, tối đa {limit} MB)"
CORRUPT = "tệp Excel trên Drive hỏng hoặc không phải .xlsx"
NOT_WRITABLE = (
    "tệp là Excel tải lên Drive, chưa chuyển sang Google Sheets: không ghi được phản hồi vào "
    "tệp (mở tệp bằng Google Sheets, chọn Tệp > Lưu dưới dạng Google Trang tính, rồi ghi "
    "đường dẫn bảng tính mới vào Danh mục xã)"
)


def check_size(size: object, name: str) -> None:
    """Refuse an upload Drive says is larger than :data:`MAX_UPLOAD_BYTES`."""
    try:
        value = int(str(size))
    except ValueError:
        return  # Drive did not say; the download itself is bounded by the same figure
    if value > MAX_UPLOAD_BYTES:
        raise SourceUnavailable(
            TOO_LARGE.format(size=round(value / 2**20, 1), limit=MAX_UPLOAD_BYTES // 2**20),
            detail=name,
        )


def upload_token(data: bytes) -> str:
    """The read token of an upload: a digest of its bytes."""
    return "xlsx-sha256:" + hashlib.sha256(data).hexdigest()


def parse_upload(data: bytes, name: str) -> CommuneSheet:
    """An uploaded workbook's tabs as raw grids; :class:`SourceUnavailable` when it is
    too large or cannot be read (never a traceback).

    The bytes go through the same gates as a local commune file (``safe_read``): what the
    file is, zip and dimension limits, no DTD, then the bounded worker process, so a
    hostile upload ends only that read, never the run.
    """
    from .safe_read import preflight, read_csv, reader

    check_size(len(data), name)
    try:
        source = preflight(Path(name), data)
        if source.kind == "csv":
            grids = {Path(name).stem: read_csv(source)}
        else:
            grids = reader().parse(source)
    except SourceUnavailable as e:  # the gate's own reason: "tệp rỗng", "tệp hỏng", …
        raise SourceUnavailable(f"tệp Excel trên Drive: {e.message}", detail=name) from None
    except Exception as e:  # whatever the parser trips on, the commune is told in one line
        log.debug("Không đọc được %s: %s", name, type(e).__name__)
        raise SourceUnavailable(CORRUPT, detail=name) from None
    return CommuneSheet(grids, token=upload_token(data), identity=source.identity)
