"""``namcoso provision`` on Google Sheets: create each missing commune sheet in the Drive
folder from the template, share it with the commune and the district staff only, and record
it in ``Danh mục xã``; ``--repair`` re-applies the dropdowns and header locks."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Any

from .backends.base import OutputTab
from .config import Config
from .controls import Control, column_controls
from .errors import MasterUnavailable
from .layout import Tab, commune_layout, master_layout
from .lock import run_lock
from .normalize import find_header, find_tab, normalize_tab
from .registry import Registry, commune_code, load_registry
from .render import assignments_tab, guide_tab

log = logging.getLogger("namcoso")

#: Provisioning creates files in the folder and shares them: it needs full Drive access
#: (``drive.file`` would not cover sheets a district made by hand), unlike sync.
PROVISION_SCOPES = (
    "https://www.googleapis.com/auth/spreadsheets",
    "https://www.googleapis.com/auth/drive",
)
SHEET_URL = "https://docs.google.com/spreadsheets/d/{}/edit"
INPUT_ROWS = 1000  # rows a new input tab offers (Sheets adds more on request)
PERMISSION_FIELDS = "nextPageToken,permissions(id,type,role,emailAddress,permissionDetails)"


def _google_condition(control: Control) -> dict[str, Any]:
    """A :class:`Control` as a Sheets ``BooleanCondition`` (no decimals, so no locale
    question: values are parsed as if typed in the sheet)."""
    if control.kind == "list":
        return {"type": "ONE_OF_LIST", "values": [{"userEnteredValue": v} for v in control.values]}
    if control.kind == "date":
        return {"type": "DATE_IS_VALID"}
    if control.maximum is not None:
        bounds = (control.minimum, control.maximum)
        return {"type": "NUMBER_BETWEEN", "values": [{"userEnteredValue": str(b)} for b in bounds]}
    return {
        "type": "NUMBER_GREATER_THAN_EQ",
        "values": [{"userEnteredValue": str(control.minimum)}],
    }


def google_control_requests(
    sheet_id: int,
    tab: Tab,
    header_row: int,
    columns: dict[str, int],
    hamlets: Iterable[str],
    rows: int,
    editors: Iterable[str],
    protect: bool = True,
) -> list[dict[str, Any]]:
    """``setDataValidation`` on each checked column's data rows (below the 1-based
    ``header_row``, down to row ``rows``), and with ``protect`` the header rows protected
    so that only ``editors`` (the service account) may change them."""
    controls = column_controls(hamlets)
    requests: list[dict[str, Any]] = []
    for column in tab.columns:
        control = controls.get(column.type)
        if column.key not in columns or control is None:
            continue
        c = columns[column.key] - 1
        rule: dict[str, Any] = {
            "condition": _google_condition(control),
            "strict": control.strict,
            "inputMessage": control.message,
        }
        if control.kind == "list":
            rule["showCustomUi"] = True
        requests.append(
            {
                "setDataValidation": {
                    "range": {
                        "sheetId": sheet_id,
                        "startRowIndex": header_row,
                        "endRowIndex": max(rows, header_row + 1),
                        "startColumnIndex": c,
                        "endColumnIndex": c + 1,
                    },
                    "rule": rule,
                }
            }
        )
    if protect:
        requests.append(
            _protect(sheet_id, editors, header_rows=header_row, what=f"Tiêu đề trang {tab.title}")
        )
    return requests


def _protect(
    sheet_id: int, editors: Iterable[str], header_rows: int | None = None, what: str = ""
) -> dict[str, Any]:
    grid: dict[str, Any] = {"sheetId": sheet_id}
    if header_rows is not None:
        grid.update(startRowIndex=0, endRowIndex=header_rows)
    return {
        "addProtectedRange": {
            "protectedRange": {
                "range": grid,
                "description": f"{what} (namcoso)",
                "warningOnly": False,
                "editors": {"users": list(editors)},
            }
        }
    }


def google_sheet_requests(
    code: str, registry: Registry, default_sheet: int, editors: Iterable[str]
) -> list[dict[str, Any]]:
    """One ``spreadsheets.batchUpdate`` that turns a new, empty spreadsheet (its first
    tab ``default_sheet``) into a commune sheet: every tab of the template with its
    content, validations and protections."""
    from .backends.google_cells import SheetInfo, tab_requests

    editors = list(editors)
    layout = commune_layout()
    hamlets = [name for _, name in registry.hamlets_of(code)]
    guide = guide_tab()
    requests: list[dict[str, Any]] = [
        {
            "updateSheetProperties": {
                "properties": {"sheetId": default_sheet, "title": guide.title},
                "fields": "title",
            }
        }
    ]
    taken = {default_sheet}
    body, info = tab_requests(guide, SheetInfo(default_sheet, guide.title), taken)
    requests += [*body, _protect(info.sheet_id, editors, what=f"Trang {guide.title}")]
    for tab in layout.by_role("input"):
        body, info = tab_requests(OutputTab(tab.title, tab.specs(), []), None, taken)
        taken.add(info.sheet_id)
        requests += body
        requests.append(
            {
                "updateSheetProperties": {
                    "properties": {
                        "sheetId": info.sheet_id,
                        "gridProperties": {"rowCount": INPUT_ROWS},
                    },
                    "fields": "gridProperties.rowCount",
                }
            }
        )
        columns = {c.key: i for i, c in enumerate(tab.columns, start=1)}
        requests += google_control_requests(
            info.sheet_id, tab, 1, columns, hamlets, INPUT_ROWS, editors
        )
    feedback = layout["feedback"]
    for tab in (assignments_tab(code, registry), OutputTab(feedback.title, feedback.specs(), [])):
        body, info = tab_requests(tab, None, taken)
        taken.add(info.sheet_id)
        requests += [*body, _protect(info.sheet_id, editors, what=f"Trang {tab.title}")]
    return requests


def provision_google(
    config: Config,
    repair: bool = False,
    *,
    backend: Any = None,
    session: Any = None,
) -> list[str]:
    """Create the missing commune sheets on Google (see :func:`provision`).

    For each commune of ``Danh mục xã`` whose ``Bảng tính báo cáo`` is empty, or names a
    sheet that no longer exists: a Google Sheet created in ``[google] folder`` (Drive
    ``files.create``), built from the template in one ``batchUpdate``, shared as writer
    with the commune's ``Email liên hệ`` and ``[google] district_emails``; any other
    direct sharing is removed (sharing inherited from the folder cannot be, and is
    reported). The new links go into ``Bảng tính báo cáo`` in one
    ``values.batchUpdate`` (RAW) — nothing else of the master is written. ``repair``
    re-applies the validations and header protections of existing sheets.

    ``backend`` (a :class:`~sync.backends.google.GoogleBackend`) or ``session`` (any
    ``requests.Session``) may be injected; by default the service-account key of the
    configuration is used with Drive scope.
    """
    from .backends.google import GoogleBackend

    if backend is None:
        backend = GoogleBackend.from_config(config, session=session, scopes=PROVISION_SCOPES)
    if not config.google.folder:
        from .errors import ConfigError

        raise ConfigError("Chưa khai báo [google] folder (thư mục Drive chứa bảng tính các xã)")
    with run_lock(config.lock_path):
        return _GoogleProvisioner(config, backend).run(repair)


class _GoogleProvisioner:
    def __init__(self, config: Config, backend: Any) -> None:
        from .backends.google_transport import DRIVE_FILES_URL

        self.config = config
        self.backend = backend
        self.transport = backend.transport
        self.drive = DRIVE_FILES_URL
        self.account = backend.client_email

    def run(self, repair: bool) -> list[str]:
        from .backends.google import spreadsheet_id
        from .backends.google_transport import ApiError

        grids = self.backend.read_registry()
        tab = master_layout()["communes"]
        raw = normalize_tab(grids, tab)
        if not raw.ok:
            raise MasterUnavailable(
                f"Trang '{tab.title}' của bảng tổng hợp thiếu hoặc không có cột "
                f"'{tab.column('source').header}'"
            )
        registry = load_registry(grids)
        rows = {
            commune_code(c): r for c, r in zip(raw.frame["code"], raw.frame["_row"], strict=True)
        }
        recorded: dict[str, str] = {}
        lines: list[str] = []
        try:
            for c in registry.communes.itertuples(index=False):
                label = f"{c.name} ({c.code})"
                source = str(c.source or "").strip()
                sid = spreadsheet_id(source) if source else None
                if source and sid is None:
                    lines.append(f'{label}: "{source}" không phải ID hay đường dẫn Google Sheets')
                    continue
                if sid and self._exists(sid):
                    lines.append(self._existing(label, c.code, sid, registry, repair))
                    continue
                new = self._create(c.code, str(c.name), registry)
                recorded[c.code] = SHEET_URL.format(new)
                shared, notes = self._share(
                    new, [str(c.email or ""), *self.config.google.district_emails]
                )
                lines.append(
                    f"{label}: đã tạo bảng tính {new}"
                    + (f", chia sẻ cho {', '.join(shared)}" if shared else ", chưa chia sẻ cho ai")
                    + "".join(f"; {n}" for n in notes)
                )
        finally:
            if recorded:
                letter = raw.letters["source"]
                data = [
                    {"range": f"'{raw.title}'!{letter}{rows[code]}", "values": [[url]]}
                    for code, url in recorded.items()
                ]
                try:
                    self.transport.values_batch_update(
                        self.backend.master_id, {"valueInputOption": "RAW", "data": data}
                    )
                except ApiError as e:
                    raise MasterUnavailable(
                        "Đã tạo bảng tính nhưng không ghi được vào Danh mục xã: "
                        + "; ".join(f"{k} {u}" for k, u in recorded.items()),
                        detail=str(e),
                    ) from None
        if recorded:
            lines.append(
                f"Đã ghi {len(recorded)} bảng tính vào cột '{tab.column('source').header}'"
            )
        return lines or ["Danh mục xã chưa có xã nào"]

    def _exists(self, sid: str) -> bool:
        from .backends.google_transport import ApiError

        try:
            meta = self.backend.drive_file(sid, "id,trashed")
        except ApiError as e:
            if e.status == 404:
                return False
            raise
        return not meta.get("trashed", False)

    def _create(self, code: str, name: str, registry: Registry) -> str:
        body = {
            "name": f"{code} - {name} - Báo cáo nắm cơ sở",
            "mimeType": "application/vnd.google-apps.spreadsheet",
            "parents": [self.config.google.folder],
        }
        made = self.transport.request(
            "post", self.drive, params={"supportsAllDrives": "true", "fields": "id"}, json=body
        ).json()
        sid = made["id"]
        meta = self.transport.fetch_sheet_metadata(sid, {"fields": "sheets.properties.sheetId"})
        first = int(meta["sheets"][0]["properties"].get("sheetId", 0))
        requests = google_sheet_requests(
            code, registry, first, [self.account] if self.account else []
        )
        from .backends.google_cells import identity_request

        requests.append(identity_request(code))  # the sheet says whose it is
        self.transport.batch_update(sid, {"requests": requests})
        return sid

    def _share(self, sid: str, emails: list[str]) -> tuple[list[str], list[str]]:
        """Writer access for ``emails``; other direct permissions removed. Returns who it
        is shared with, and notes on what could not be removed.

        Through ``request``, not gspread's permission methods: those send booleans as
        ``True`` and list permissions without ``permissionDetails``."""
        wanted = list(dict.fromkeys(e.strip().lower() for e in emails if e and "@" in e))
        url = f"{self.drive}/{sid}/permissions"
        for email in wanted:
            self.transport.request(
                "post",
                url,
                params={"supportsAllDrives": "true", "sendNotificationEmail": "true"},
                json={"type": "user", "role": "writer", "emailAddress": email},
            )
        notes = []
        keep = {*wanted, self.account.lower()}
        params: dict[str, Any] = {"supportsAllDrives": "true", "fields": PERMISSION_FIELDS}
        while True:
            reply = self.transport.get_json(url, params)
            for p in reply.get("permissions", []):
                who = str(p.get("emailAddress", "")).lower()
                if p.get("role") == "owner" or who in keep:
                    continue
                inherited = any(d.get("inherited") for d in p.get("permissionDetails", []))
                if inherited:
                    notes.append(
                        f"{who or p.get('type')} có quyền kế thừa từ thư mục, không gỡ được"
                    )
                    continue
                self.transport.request(
                    "delete", f"{url}/{p['id']}", params={"supportsAllDrives": "true"}
                )
            if not reply.get("nextPageToken"):
                return wanted, notes
            params = {**params, "pageToken": reply["nextPageToken"]}

    def _existing(self, label: str, code: str, sid: str, registry: Registry, repair: bool) -> str:
        if not repair:
            return f"{label}: đã có bảng tính"
        hamlets = [name for _, name in registry.hamlets_of(code)]
        mask = "sheets(properties(sheetId,title,gridProperties.rowCount),protectedRanges(range))"
        meta = self.transport.fetch_sheet_metadata(sid, {"fields": mask})
        grids = self.backend.read_commune(sid)
        requests: list[dict[str, Any]] = []
        repaired = []
        by_title = {s["properties"]["title"]: s for s in meta.get("sheets", [])}
        for tab in commune_layout().by_role("input"):
            title = find_tab(grids, tab)
            if title is None or title not in by_title:
                continue
            header, height, mapped = find_header(grids[title], tab)
            if not mapped:
                continue
            sheet = by_title[title]
            sheet_id = int(sheet["properties"].get("sheetId", 0))
            rows = int(sheet["properties"].get("gridProperties", {}).get("rowCount", INPUT_ROWS))
            protected = any(
                p.get("range", {}).get("startRowIndex", 0) == 0
                and p.get("range", {}).get("endRowIndex", 0) >= header + height
                for p in sheet.get("protectedRanges", [])
            )
            columns = {key: i + 1 for i, key in mapped.items()}
            requests += google_control_requests(
                sheet_id,
                tab,
                header + height,
                columns,
                hamlets,
                rows,
                [self.account] if self.account else [],
                protect=not protected,
            )
            repaired.append(title)
        if requests:
            self.transport.batch_update(sid, {"requests": requests})
        pages = ", ".join(repaired) or "(không có trang nào)"
        return f"{label}: đã áp lại danh sách chọn và khóa tiêu đề cho trang {pages}"
