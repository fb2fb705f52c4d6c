"""``namcoso doctor``: can this project sync? Each check says what to fix. Nothing is written.

On Google, in order: the service-account key, the pace, the master (readable, editable),
the Drive folder (shared, listable), then every commune sheet registered in the master's
``Danh mục xã`` (reachable, editable, in the folder). A failed check names what to share
with which address.

On the local backend: the master (there, readable, not open in Excel/LibreOffice, its
folder writable), the communes folder, every registered commune file (there, readable,
writable) and the state store's folder (writable).

:func:`exit_code` turns the checks into the command's exit code: that of the first failed
check (2 configuration, 4 master, 5 master open, 3 a commune), 0 when all pass.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from .backends.google import FOLDER_MIME, SPREADSHEET_MIME, GoogleBackend, spreadsheet_id
from .backends.google_transport import ApiError
from .backends.google_uploads import XLSX_MIME
from .config import Config
from .errors import NamcosoError
from .registry import load_registry

Check = tuple[str, bool, str]
EDIT_ROLE = "với quyền Người chỉnh sửa"
QUOTA_PER_USER = 60

KEY = "Khóa tài khoản dịch vụ"
PACE = "Nhịp gọi Google"
MASTER = "Bảng tổng hợp (master)"
MASTER_OPEN = "Master đang mở"
FOLDER = "Thư mục Drive của các xã"
COMMUNES = "Bảng tính các xã"
COMMUNES_DIR = "Thư mục bảng tính các xã"
STATE = "Kho trạng thái"
#: The exit code of a failed check (SPEC's codes); a commune's own check: 3.
EXIT_CODES = {KEY: 2, PACE: 2, MASTER: 4, MASTER_OPEN: 5, FOLDER: 2, COMMUNES_DIR: 2, STATE: 2}


def exit_code(checks: list[Check]) -> int:
    """The exit code of the first failed check, or 0."""
    failed = [name for name, ok, _ in checks if not ok]
    return EXIT_CODES.get(failed[0], 3) if failed else 0


def doctor(config: Config, *, backend: GoogleBackend | None = None) -> list[Check]:
    """Run every check that can run; returns ``(name, ok, detail in Vietnamese)`` each."""
    if config.backend == "local":
        return doctor_local(config)
    checks: list[Check] = []
    if backend is None:
        try:
            backend = GoogleBackend.from_config(config)
        except NamcosoError as e:
            return [(KEY, False, e.message)]
    email = backend.client_email or "tài khoản dịch vụ"
    checks.append((KEY, True, f"Đọc được khóa của tài khoản {email}"))
    rpm = config.google.requests_per_minute
    checks.append(
        (
            PACE,
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
            (COMMUNES, False, "Chưa kiểm tra được vì không đọc được Danh mục xã trong master")
        )
        return checks
    for code, name, source in registry:
        checks.append(_check_commune(backend, email, code, name, source, listed))
    if not registry:
        checks.append((COMMUNES, False, "Danh mục xã trong master chưa có xã nào"))
    return checks


def _check_master(
    backend: GoogleBackend, email: str, checks: list[Check]
) -> list[tuple[str, str, str]] | None:
    name = MASTER
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
    name = FOLDER
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
        files = backend.list_folder(
            "nextPageToken,files(id,name,mimeType,version,capabilities(canEdit))"
        )
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
    if meta.get("mimeType") == XLSX_MIME:
        return (
            name,
            False,
            f"«{title}» là tệp Excel tải lên Drive: đồng bộ đọc được số liệu nhưng không ghi được "
            "phản hồi; mở tệp rồi chọn Tệp → Lưu dưới dạng Google Trang tính, ghi đường dẫn bản "
            "mới vào Danh mục xã",
        )
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


# -- the local backend -----------------------------------------------------------------


def doctor_local(config: Config) -> list[Check]:
    """The local project's files: master, communes folder, each commune file, state."""
    from .backends.local import lock_files
    from .pipeline import make_backend

    checks: list[Check] = []
    master = config.master
    registry = None
    if lock_files(master):
        checks.append(
            (
                MASTER_OPEN,
                False,
                f"{master.name} đang mở trong Excel/LibreOffice: đóng tệp thì đồng bộ mới ghi được",
            )
        )
    backend = make_backend(config)
    try:
        registry = load_registry(backend.read_registry())
    except NamcosoError as e:
        hint = " (tạo bằng: namcoso init)" if not master.exists() else ""
        checks.append((MASTER, False, f"{e}{hint}"))
    if registry is not None:
        problems = []
        if not _writable(master) or not _writable(master.parent):
            problems.append(f"không có quyền ghi {master.name} hoặc thư mục của nó")
        errors = sum(f.severity == "Lỗi" for f in registry.findings)
        if errors:
            problems.append(f"danh mục có {errors} lỗi (xem trang Lỗi dữ liệu sau khi đồng bộ)")
        detail = (
            f"Đọc được {master.name}: {len(registry.communes)} xã, {len(registry.hamlets)} ấp, "
            f"{len(registry.cadres)} cán bộ"
        )
        checks.append(
            (MASTER, not problems, detail + ("; " + "; ".join(problems) if problems else ""))
        )
    folder = config.communes_dir
    if not folder.is_dir():
        checks.append(
            (
                COMMUNES_DIR,
                False,
                f"Không có thư mục {folder} (tạo thư mục, rồi chạy namcoso provision)",
            )
        )
    elif not _writable(folder):
        checks.append((COMMUNES_DIR, False, f"Không có quyền ghi thư mục {folder}"))
    else:
        checks.append((COMMUNES_DIR, True, f"Thư mục {folder.name}/ ghi được"))
    checks.append(_check_state(config.state_path))
    if registry is None:
        checks.append((COMMUNES, False, "Chưa kiểm tra được vì không đọc được Danh mục xã"))
        return checks
    if registry.communes.empty:
        checks.append((COMMUNES, False, "Danh mục xã trong master chưa có xã nào"))
    for c in registry.communes.itertuples(index=False):
        checks.append(_check_commune_file(backend, str(c.code), str(c.name), str(c.source or "")))
    return checks


def _writable(path: Path) -> bool:
    return os.access(path, os.W_OK)


def _check_state(state_path: Path) -> Check:
    folder = state_path.parent
    existing = next((p for p in [folder, *folder.parents] if p.exists()), None)
    if existing is None or not existing.is_dir() or not _writable(existing):
        return (STATE, False, f"Không tạo hoặc ghi được thư mục {folder}: cấp quyền ghi")
    if state_path.exists() and not _writable(state_path):
        return (STATE, False, f"Không có quyền ghi {state_path}")
    return (STATE, True, f"Ghi được {folder}")


def _check_commune_file(backend: Any, code: str, name: str, source: str) -> Check:
    from .backends.local import lock_files

    label = f"{name} ({code})"
    if not source.strip():
        return (label, False, "Chưa có Bảng tính báo cáo: chạy namcoso provision")
    path = backend.path_of(source)
    if not path.exists():
        return (
            label,
            False,
            f"Không có tệp {path.name} trong thư mục các xã: chạy namcoso provision",
        )
    try:
        backend.read_commune(source)
    except NamcosoError as e:
        return (label, False, f"Không đọc được {path.name}: {e}")
    if not _writable(path):
        return (label, False, f"{path.name} chỉ đọc: không ghi được phản hồi cho xã")
    if lock_files(path):
        return (label, True, f"{path.name} đọc được; đang mở nên phản hồi sẽ ghi ở lần sau")
    return (label, True, f"{path.name} đọc và ghi được")
