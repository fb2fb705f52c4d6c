"""``namcoso provision``'s I/O on Google: a commune sheet created in the Drive folder from
the template in one ``batchUpdate``, shared with the commune and the district staff only,
``--repair`` re-applying dropdowns and header locks, and the new links written into
``Danh mục xã``. The flow itself is :func:`sync.provision.provision`.

Request cost, per commune: an existing sheet, one ``drive.files.get``; a new one,
``files.create`` + ``spreadsheets.get`` + one ``batchUpdate``, then one
``permissions.create`` per email, the permission listing and a ``delete`` per stray
permission; a repair, two ``spreadsheets.get`` and one ``batchUpdate``. The links of every
new sheet go into the master in one ``values.batchUpdate``.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import requests

from ..config import Config
from ..errors import ConfigError, MasterUnavailable
from .base import Control, ControlledTab, NewCommuneSheet
from .google import GoogleBackend, spreadsheet_id
from .google_cells import SheetInfo, identity_request, tab_requests
from .google_transport import DRIVE_FILES_URL, ApiError

#: Provisioning creates files in the folder and shares them: it needs full Drive access
#: (``drive.file`` would not cover sheets a district made by hand), unlike sync.
PROVISION_SCOPES = (
    "https://www.googleapis.com/auth/spreadsheets",
    "https://www.googleapis.com/auth/drive",
)
SHEET_URL = "https://docs.google.com/spreadsheets/d/{}/edit"
INPUT_ROWS = 1000  # rows a new input tab offers (Sheets adds more on request)
PERMISSION_FIELDS = "nextPageToken,permissions(id,type,role,emailAddress,permissionDetails)"
REPAIR_FIELDS = "sheets(properties(sheetId,title,gridProperties.rowCount),protectedRanges(range))"


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
    target: ControlledTab,
    rows: int,
    editors: Iterable[str],
    protect: bool = True,
) -> list[dict[str, Any]]:
    """``setDataValidation`` on each checked column's data rows (below the target's header
    rows, down to row ``rows``), and with ``protect`` the header rows protected so that
    only ``editors`` (the service account) may change them."""
    requests_: list[dict[str, Any]] = []
    header_rows = target.header_rows
    for c, control in target.controls.items():
        rule: dict[str, Any] = {
            "condition": _google_condition(control),
            "strict": control.strict,
            "inputMessage": control.message,
        }
        if control.kind == "list":
            rule["showCustomUi"] = True
        requests_.append(
            {
                "setDataValidation": {
                    "range": {
                        "sheetId": sheet_id,
                        "startRowIndex": header_rows,
                        "endRowIndex": max(rows, header_rows + 1),
                        "startColumnIndex": c,
                        "endColumnIndex": c + 1,
                    },
                    "rule": rule,
                }
            }
        )
    if protect:
        what = f"Tiêu đề trang {target.title}"
        requests_.append(_protect(sheet_id, editors, header_rows=header_rows, what=what))
    return requests_


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
    sheet: NewCommuneSheet, default_sheet: int, editors: Iterable[str]
) -> list[dict[str, Any]]:
    """One ``spreadsheets.batchUpdate`` that turns a new, empty spreadsheet (its first
    tab ``default_sheet``) into ``sheet``: every tab with its content, validations and
    protections, and the commune's identity."""
    editors = list(editors)
    guide = sheet.guide
    requests_: list[dict[str, Any]] = [
        {
            "updateSheetProperties": {
                "properties": {"sheetId": default_sheet, "title": guide.title},
                "fields": "title",
            }
        }
    ]
    taken = {default_sheet}
    body, info = tab_requests(guide, SheetInfo(default_sheet, guide.title), taken)
    requests_ += [*body, _protect(info.sheet_id, editors, what=f"Trang {guide.title}")]
    for tab, controlled in sheet.inputs:
        body, info = tab_requests(tab, None, taken)
        taken.add(info.sheet_id)
        requests_ += body
        requests_.append(
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
        requests_ += google_control_requests(info.sheet_id, controlled, INPUT_ROWS, editors)
    for tab in (sheet.assignments, sheet.feedback):
        body, info = tab_requests(tab, None, taken)
        taken.add(info.sheet_id)
        requests_ += [*body, _protect(info.sheet_id, editors, what=f"Trang {tab.title}")]
    requests_.append(identity_request(sheet.code))  # the sheet says whose it is
    return requests_


class GoogleProvisioning(GoogleBackend):
    """The Google backend with what provisioning needs (see
    :class:`~sync.backends.base.ProvisioningBackend`); build it with :meth:`for_config`
    (Drive scope) or, in tests, like a :class:`GoogleBackend`."""

    source_kind = "ID hay đường dẫn Google Sheets"

    @classmethod
    def for_config(
        cls, config: Config, *, session: requests.Session | None = None
    ) -> GoogleProvisioning:
        backend = cls.from_config(config, session=session, scopes=PROVISION_SCOPES)
        if not config.google.folder:
            raise ConfigError("Chưa khai báo [google] folder (thư mục Drive chứa bảng tính các xã)")
        return backend

    def is_source(self, source: str) -> bool:
        return spreadsheet_id(source) is not None

    def find_sheet(self, code: str, source: str) -> str | None:
        sid = spreadsheet_id(source) if source else None
        if sid is None:
            return None
        try:
            meta = self.drive_file(sid, "id,trashed")
        except ApiError as e:
            if e.status == 404:
                return None
            raise
        return None if meta.get("trashed", False) else source

    def create_commune_sheet(self, sheet: NewCommuneSheet, source: str) -> str:
        body = {
            "name": f"{sheet.code} - {sheet.name} - Báo cáo nắm cơ sở",
            "mimeType": "application/vnd.google-apps.spreadsheet",
            "parents": [self.folder],
        }
        made = self.transport.request(
            "post", DRIVE_FILES_URL, params={"supportsAllDrives": "true", "fields": "id"}, json=body
        ).json()
        sid = made["id"]
        meta = self.transport.fetch_sheet_metadata(sid, {"fields": "sheets.properties.sheetId"})
        first = int(meta["sheets"][0]["properties"].get("sheetId", 0))
        editors = [self.client_email] if self.client_email else []
        self.transport.batch_update(sid, {"requests": google_sheet_requests(sheet, first, editors)})
        return SHEET_URL.format(sid)

    def share(self, source: str, emails: list[str]) -> tuple[list[str], list[str]]:
        return self._share(self._source_id(source), emails)

    def _share(self, sid: str, emails: list[str]) -> tuple[list[str], list[str]]:
        """Writer access for ``emails``; other direct permissions removed. Returns who it
        is shared with, and notes on what could not be removed.

        Through ``request``, not gspread's permission methods: those send booleans as
        ``True`` and list permissions without ``permissionDetails``."""
        wanted = list(dict.fromkeys(e.strip().lower() for e in emails if e and "@" in e))
        url = f"{DRIVE_FILES_URL}/{sid}/permissions"
        for email in wanted:
            self.transport.request(
                "post",
                url,
                params={"supportsAllDrives": "true", "sendNotificationEmail": "true"},
                json={"type": "user", "role": "writer", "emailAddress": email},
            )
        notes = []
        keep = {*wanted, self.client_email.lower()}
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

    def repair_controls(self, source: str, code: str, tabs: list[ControlledTab]) -> list[str]:
        """Re-applies the validations of every input tab found, and the header lock where
        it is missing, in one ``batchUpdate``."""
        sid = self._source_id(source)
        try:
            meta = self.transport.fetch_sheet_metadata(sid, {"fields": REPAIR_FIELDS})
        except ApiError as e:
            raise self._source_error(e, source, "đọc") from None
        by_title = {s["properties"]["title"]: s for s in meta.get("sheets", [])}
        editors = [self.client_email] if self.client_email else []
        requests_: list[dict[str, Any]] = []
        repaired = []
        for target in tabs:
            sheet = by_title.get(target.title)
            if sheet is None:
                continue
            sheet_id = int(sheet["properties"].get("sheetId", 0))
            rows = int(sheet["properties"].get("gridProperties", {}).get("rowCount", INPUT_ROWS))
            protected = any(
                p.get("range", {}).get("startRowIndex", 0) == 0
                and p.get("range", {}).get("endRowIndex", 0) >= target.header_rows
                for p in sheet.get("protectedRanges", [])
            )
            requests_ += google_control_requests(
                sheet_id, target, rows, editors, protect=not protected
            )
            repaired.append(target.title)
        if requests_:
            try:
                self.transport.batch_update(sid, {"requests": requests_})
            except ApiError as e:
                raise self._source_error(e, source, "ghi") from None
        return repaired

    def write_registry_cells(self, title: str, cells: dict[str, str]) -> None:
        """One ``values.batchUpdate`` (RAW: a link stays text)."""
        data = [{"range": f"'{title}'!{a1}", "values": [[text]]} for a1, text in cells.items()]
        try:
            self.transport.values_batch_update(
                self.master_id, {"valueInputOption": "RAW", "data": data}
            )
        except ApiError as e:
            raise MasterUnavailable("Không ghi được vào bảng tổng hợp", detail=str(e)) from None
