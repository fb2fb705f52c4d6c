"""``namcoso doctor``: can this Google setup sync? Each check says what to fix.

Checks, in order: the service-account key, the pace, the master (readable, editable),
the Drive folder (shared, listable), then every commune sheet registered in the master's
``Danh mục xã`` (reachable, editable, in the folder). A failed check names what to share
with which address. Nothing is written.
"""

from __future__ import annotations

from typing import Any

from .backends.google import FOLDER_MIME, SPREADSHEET_MIME, GoogleBackend, spreadsheet_id
from .backends.google_transport import ApiError
from .config import Config
from .errors import NamcosoError
from .registry import load_registry

Check = tuple[str, bool, str]
EDIT_ROLE = "với quyền Người chỉnh sửa"
QUOTA_PER_USER = 60


def doctor(config: Config, *, backend: GoogleBackend | None = None) -> list[Check]:
    """Run every check that can run; returns ``(name, ok, detail in Vietnamese)`` each."""
    checks: list[Check] = []
    if backend is None:
        try:
            backend = GoogleBackend.from_config(config)
        except NamcosoError as e:
            return [("Khóa tài khoản dịch vụ", False, e.message)]
    email = backend.client_email or "tài khoản dịch vụ"
    checks.append(("Khóa tài khoản dịch vụ", True, f"Đọc được khóa của tài khoản {email}"))
    rpm = config.google.requests_per_minute
    checks.append(
        (
            "Nhịp gọi Google",
            rpm <= QUOTA_PER_USER,
            f"{rpm} lệnh/phút"
            + (
                ""
                if rpm <= QUOTA_PER_USER
                else f": vượt hạn mức {QUOTA_PER_USER} lệnh/phút của một tài khoản; đặt "
                "[google] requests_per_minute = 55"
            ),
        )
    )
    registry = _check_master(backend, email, checks)
    listed = _check_folder(backend, email, checks)
    if registry is None:
        checks.append(
            (
                "Bảng tính các xã",
                False,
                "Chưa kiểm tra được vì không đọc được Danh mục xã trong master",
            )
        )
        return checks
    for code, name, source in registry:
        checks.append(_check_commune(backend, email, code, name, source, listed))
    if not registry:
        checks.append(("Bảng tính các xã", False, "Danh mục xã trong master chưa có xã nào"))
    return checks


def _check_master(
    backend: GoogleBackend, email: str, checks: list[Check]
) -> list[tuple[str, str, str]] | None:
    name = "Bảng tổng hợp (master)"
    try:
        grids = backend.read_registry()
    except NamcosoError as e:
        checks.append((name, False, f"{e.message}. Chia sẻ bảng tổng hợp cho {email} {EDIT_ROLE}"))
        return None
    title = backend.describe(backend.master_id)
    problems = []
    try:
        meta = backend.drive_file(backend.master_id, "id,name,capabilities(canEdit)")
        if not meta.get("capabilities", {}).get("canEdit", False):
            problems.append(f"chỉ có quyền xem: chia sẻ «{title}» cho {email} {EDIT_ROLE}")
    except ApiError as e:
        problems.append(f"không xem được quyền trên Drive ({e.status} {e.reason})")
    missing = [t for t in backend.registry_titles if t not in grids]
    if missing:
        problems.append(f"thiếu trang {', '.join(missing)}")
    detail = f"Mở được «{title}»" + (
        "; " + "; ".join(problems) if problems else ", có quyền chỉnh sửa"
    )
    checks.append((name, not problems, detail))
    communes = load_registry(grids).communes
    return [(str(r.code), str(r.name), str(r.source)) for r in communes.itertuples(index=False)]


def _check_folder(
    backend: GoogleBackend, email: str, checks: list[Check]
) -> dict[str, dict[str, Any]]:
    name = "Thư mục Drive của các xã"
    if not backend.folder:
        checks.append(
            (
                name,
                False,
                "Chưa đặt [google] folder: không có thư mục thì mỗi lần đồng bộ phải đọc lại mọi "
                "bảng tính. Tạo một thư mục, chuyển các bảng tính của xã vào đó, chia sẻ thư mục "
                f"cho {email} rồi ghi ID thư mục vào namcoso.toml",
            )
        )
        return {}
    try:
        folder = backend.drive_file(backend.folder, "id,name,mimeType")
    except ApiError as e:
        reason = (
            "không tồn tại hoặc chưa chia sẻ"
            if e.status in (403, 404)
            else f"lỗi {e.status or e.reason}"
        )
        checks.append(
            (name, False, f"Không mở được thư mục ({reason}): chia sẻ thư mục cho {email}")
        )
        return {}
    if folder.get("mimeType") != FOLDER_MIME:
        checks.append(
            (
                name,
                False,
                f"«{folder.get('name', '')}» không phải thư mục: kiểm tra [google] folder",
            )
        )
        return {}
    try:
        files = backend.list_folder("nextPageToken,files(id,name,version,capabilities(canEdit))")
    except ApiError as e:
        checks.append((name, False, f"Không liệt kê được thư mục: {e.status or ''} {e.reason}"))
        return {}
    checks.append((name, True, f"Thư mục «{folder.get('name', '')}» có {len(files)} bảng tính"))
    return {f["id"]: f for f in files if "id" in f}


def _check_commune(
    backend: GoogleBackend,
    email: str,
    code: str,
    commune: str,
    source: str,
    listed: dict[str, dict[str, Any]],
) -> Check:
    name = f"{commune} ({code})"
    if not source:
        return (name, False, "Chưa ghi Bảng tính báo cáo trong Danh mục xã")
    sid = spreadsheet_id(source)
    if sid is None:
        return (
            name,
            False,
            f"«{source}» không phải ID hay đường dẫn Google Sheets: ghi vào cột Bảng tính báo cáo "
            "đường dẫn https://docs.google.com/spreadsheets/d/<ID>/edit của bảng tính",
        )
    share = f"Chia sẻ bảng tính {source} cho {email} {EDIT_ROLE}"
    meta = listed.get(sid)
    if meta is None:
        try:
            meta = backend.drive_file(sid, "id,name,mimeType,trashed,capabilities(canEdit)")
        except ApiError as e:
            if e.status in (403, 404):
                return (name, False, f"Không truy cập được (chưa chia sẻ hoặc đã bị xóa). {share}")
            return (name, False, f"Không kiểm tra được: {e.status or ''} {e.reason}")
        if meta.get("mimeType", SPREADSHEET_MIME) != SPREADSHEET_MIME:
            return (
                name,
                False,
                f"«{meta.get('name', sid)}» là tệp {meta.get('mimeType')}, không phải Google "
                "Sheets: mở tệp rồi chọn Tệp → Lưu dưới dạng Google Trang tính, ghi đường dẫn "
                "bản mới",
            )
        if meta.get("trashed"):
            return (
                name,
                False,
                f"«{meta.get('name', sid)}» đang nằm trong thùng rác: khôi phục tệp",
            )
    title = meta.get("name", sid)
    if not meta.get("capabilities", {}).get("canEdit", False):
        return (name, False, f"«{title}» chỉ có quyền xem nên không ghi được phản hồi. {share}")
    if backend.folder and sid not in listed:
        return (
            name,
            False,
            f"«{title}» truy cập được nhưng không nằm trong thư mục đồng bộ nên mỗi lần đồng bộ "
            "đều phải đọc lại: chuyển bảng tính vào thư mục",
        )
    return (name, True, f"«{title}» truy cập và chỉnh sửa được")
