"""The Google backend: the master and the commune sheets on Google Sheets, found through
one Drive folder.

What one sync run costs (N commune sheets; every call is one API request):

============================  =====================================================
``read_registry()``           1 read: ``spreadsheets.get`` with a ``fields`` mask gives
                              every tab's properties *and* values at once, so a missing
                              registry tab is simply absent (a ``values.batchGet`` on a
                              missing tab fails whole), and the master's sheetIds are
                              known for the write. It also downloads the sync-owned
                              tabs' values (1.8 MB of JSON for the 24-commune demo,
                              far less gzipped on the wire): the price of never
                              needing a second request.
``fingerprints(sources)``     1 read per 1000 files: Drive ``files.list`` of the folder,
                              fingerprint = the file's ``version``.
``read_commune(source)``      1 read: ``spreadsheets.get`` as above, every tab, with the
                              sheet's developer metadata (the commune code it carries).
``write_master(tabs)``        1 write: one ``spreadsheets.batchUpdate`` (more only past
                              2 MB, see :meth:`GoogleBackend.write_master`).
``write_commune(...)``        1 write (+1 read if the sheet was not read this run). The
                              same batchUpdate stamps the commune code (developer
                              metadata) when missing and returns the input tabs'
                              values (``includeSpreadsheetInResponse`` +
                              ``responseRanges``, a ``fields`` mask keeping only
                              values): a save made since the read is caught there,
                              at no extra request.
an uploaded ``.xlsx``         1 read instead of ``read_commune``'s: the file as it is
                              (Drive ``files.get?alt=media``), parsed by the local
                              reader; fingerprint = its ``md5Checksum``; feedback is
                              refused at no request (see :mod:`.google_uploads`).
============================  =====================================================

A full sync of N communes therefore costs N + 3 reads and N + B writes, B being the
master's batches (1 for a district; at N = 1000 the tabs take 11); a run where nothing
changed costs 2 reads and no write.
"""

from __future__ import annotations

import logging
import random
import re
import time
from collections.abc import Callable, Iterable
from typing import Any

import requests
from google.auth.transport.requests import AuthorizedSession
from gspread.urls import SPREADSHEET_BATCH_UPDATE_URL
from gspread.utils import absolute_range_name, quote

from ..config import Config, Rules
from ..errors import (
    ConfigError,
    MasterUnavailable,
    NamcosoError,
    SourceChanged,
    SourceUnavailable,
)
from ..layout import commune_layout, master_layout
from .base import CommuneSheet, Grid, OutputTab
from .google_cells import (
    MAX_BODY_BYTES,
    TOKEN_PREFIX,
    SheetInfo,
    content_token,
    grid_of,
    identity_of,
    identity_request,
    pack,
    sheet_info,
    tab_requests,
)
from .google_transport import (
    DRIVE_FILES_URL,
    SCOPES,
    ApiError,
    Pacer,
    Transport,
    load_credentials,
    shared_pacer,
)
from .google_uploads import NOT_WRITABLE, XLSX_MIME, check_size, parse_upload

log = logging.getLogger("namcoso.google")

SPREADSHEET_MIME = "application/vnd.google-apps.spreadsheet"
FOLDER_MIME = "application/vnd.google-apps.folder"
#: Spreadsheet-level developer metadata: where namcoso keeps the commune code.
METADATA_MASK = "developerMetadata(metadataKey,metadataValue)"
GRID_MASK = (
    f"properties.title,{METADATA_MASK},"
    "sheets(properties(sheetId,title,gridProperties(rowCount,columnCount,frozenRowCount)),"
    "protectedRanges(description),"
    "data(startRow,startColumn,rowData(values(effectiveValue,dataValidation(condition(type))))))"
)
#: Rows near the top of a tab whose data validations are remembered from a read, enough to
#: find the header and check the first data row's dropdowns.
CONTROL_ROWS = 30
PROPERTIES_MASK = (
    f"properties.title,{METADATA_MASK},"
    "sheets.properties(sheetId,title,gridProperties(rowCount,columnCount,frozenRowCount))"
)
#: What a feedback batchUpdate asks back: the input tabs' values, nothing else.
WATCH_MASK = (
    "updatedSpreadsheet(sheets(properties(title),"
    "data(startRow,startColumn,rowData(values(effectiveValue)))))"
)
LIST_FIELDS = (
    "nextPageToken,"
    "files(id,name,mimeType,modifiedTime,version,md5Checksum,size,lastModifyingUser(me))"
)
UPLOAD_FIELDS = "id,name,mimeType,version,md5Checksum,size"

_ID_IN_URL = re.compile(r"/d/([A-Za-z0-9_-]{20,})")
_ID_IN_QUERY = re.compile(r"[?&#](?:id|key)=([A-Za-z0-9_-]{20,})")
_BARE_ID = re.compile(r"[A-Za-z0-9_-]{20,}")


def spreadsheet_id(reference: Any) -> str | None:
    """The spreadsheet ID in what a district typed in ``Bảng tính báo cáo``: a bare ID,
    or a link such as ``https://docs.google.com/spreadsheets/d/<ID>/edit#gid=0``.

    None when it is neither (an .xlsx file name, a "publish to web" link ``/d/e/…``
    that the API cannot open, an empty cell).
    """
    if not isinstance(reference, str):
        return None
    text = reference.strip().strip("'\"<>").strip()
    if not text:
        return None
    if _BARE_ID.fullmatch(text):
        return text
    if "://" not in text and not text.startswith(("docs.google.com", "drive.google.com")):
        return None
    if "/d/e/" in text:
        return None
    match = _ID_IN_URL.search(text) or _ID_IN_QUERY.search(text)
    return match.group(1) if match else None


class GoogleBackend:
    """The master and the commune sheets on Google Sheets (see the module docstring).

    Build it with :meth:`from_config`; tests pass a ``session`` (any
    ``requests.Session``) and an injected ``clock``/``sleep``/``rng``.
    """

    def __init__(
        self,
        master: str,
        folder: str = "",
        *,
        session: requests.Session,
        client_email: str = "",
        requests_per_minute: int = 55,
        registry_titles: Iterable[str] | None = None,
        pacer: Pacer | None = None,
        clock: Callable[[], float] | None = None,
        sleep: Callable[[float], None] = time.sleep,
        rng: Callable[[], float] = random.random,
        max_attempts: int = 6,
        timeout: float | tuple[float, float] = (10.0, 150.0),
        max_body_bytes: int = MAX_BODY_BYTES,
        rules: Rules | None = None,
    ) -> None:
        self.rules = rules
        master_id = spreadsheet_id(master)
        if not master_id:
            raise ConfigError(
                "[google] master phải là ID hoặc đường dẫn của bảng tính tổng hợp trên Google "
                "Sheets (https://docs.google.com/spreadsheets/d/<ID>/edit)"
            )
        self.master_id = master_id
        self.folder = folder.strip()
        self.client_email = client_email
        if registry_titles is None:
            registry_titles = [t.title for t in master_layout().by_role("registry")]
        self.registry_titles = list(registry_titles)
        if pacer is None:
            pacer = (
                Pacer(requests_per_minute, clock=clock, sleep=sleep)
                if clock is not None
                else shared_pacer(client_email or "default", requests_per_minute)
            )
        self.transport = Transport(
            session=session,
            pacer=pacer,
            sleep=sleep,
            rng=rng,
            max_attempts=max_attempts,
            timeout=timeout,
        )
        self.max_body_bytes = max_body_bytes
        self._sheets: dict[str, dict[str, SheetInfo]] = {}  # spreadsheet ID → title → tab
        #: spreadsheet ID → title → (provisioned, validated cells, first rows), from reads
        self._controls: dict[str, dict[str, tuple[bool, set[tuple[int, int]], Grid]]] = {}
        self._names: dict[str, str] = {}  # spreadsheet ID → its title, for messages
        #: spreadsheet ID → the token of this run's read of its input tabs, and the
        #: commune code its developer metadata carries ("" when it carries none)
        self._tokens: dict[str, str] = {}
        self._identities: dict[str, str] = {}
        #: spreadsheet IDs whose feedback this run wrote and found unchanged
        self._written: set[str] = set()
        #: file ID → Drive metadata of the uploaded .xlsx files seen this run
        self._uploads: dict[str, dict[str, Any]] = {}

    @classmethod
    def from_config(
        cls,
        config: Config,
        *,
        session: requests.Session | None = None,
        credentials: Any = None,
        scopes: tuple[str, ...] = SCOPES,
        **kwargs: Any,
    ) -> GoogleBackend:
        """A backend for ``config.google``: the service-account key it names (or
        ``credentials``/``session`` given here), the master, the folder and the pace."""
        settings = config.google
        if not settings.master:
            raise ConfigError(
                "Chưa khai báo [google] master (ID bảng tính tổng hợp) trong namcoso.toml"
            )
        if session is None:
            if credentials is None:
                credentials = load_credentials(settings.credentials, scopes)
            session = AuthorizedSession(credentials)
        email = getattr(credentials, "service_account_email", "") or ""
        return cls(
            settings.master,
            settings.folder,
            session=session,
            client_email=email if isinstance(email, str) else "",
            requests_per_minute=settings.requests_per_minute,
            rules=kwargs.pop("rules", config.rules),
            **kwargs,
        )

    # -- counters -----------------------------------------------------------------------
    @property
    def requests(self) -> int:
        """API requests sent so far (every attempt, retries included)."""
        return self.transport.requests

    @property
    def reads(self) -> int:
        """Read requests (spreadsheets.get, files.list, files.get)."""
        return self.transport.reads

    @property
    def writes(self) -> int:
        """Write requests (spreadsheets.batchUpdate)."""
        return self.transport.writes

    @property
    def retries(self) -> int:
        """Requests that were sent again after a transient failure."""
        return self.transport.retries

    # -- Backend ------------------------------------------------------------------------
    def describe(self, source: str) -> str:
        """The sheet's title when known this run, else its ID (or what was typed)."""
        sid = spreadsheet_id(source)
        if sid is None:
            return str(source)
        return self._names.get(sid) or sid

    def read_registry(self) -> dict[str, Grid]:
        """The master's registry tabs that exist, in one ``spreadsheets.get``."""
        try:
            tabs = self._read_spreadsheet(self.master_id)
        except ApiError as e:
            raise self._master_error(e, "đọc") from None
        self._master_tabs = tabs
        wanted = set(self.registry_titles)
        return {title: grid for title, grid in tabs.items() if title in wanted}

    def read_master_tabs(self, titles: list[str]) -> dict[str, Grid]:
        """These tabs of the master: from the ``spreadsheets.get`` that read the registry
        this run (it reads every tab), else one more."""
        tabs = getattr(self, "_master_tabs", None)
        if tabs is None:
            try:
                tabs = self._read_spreadsheet(self.master_id)
            except ApiError as e:
                raise self._master_error(e, "đọc") from None
        wanted = set(titles)
        return {title: grid for title, grid in tabs.items() if title in wanted}

    def fingerprints(self, sources: list[str]) -> dict[str, str]:
        """Drive ``version`` of each source found in the folder (one ``files.list`` per
        1000 files). A source not in the folder is left out (the pipeline reads it).

        Only ``version`` is used: it changes on every edit, while ``modifiedTime`` can
        lag minutes behind and would make namcoso's own feedback write look like a
        change on the next run. An uploaded .xlsx is fingerprinted by its content
        (``md5Checksum``): a rename or a shared-with change is not worth a download.

        A sheet whose feedback this run wrote, but whose last change Drive says was not
        this account's (``lastModifyingUser.me``), was saved by someone after the write:
        it is left out, so the pipeline keeps the fingerprint it had and the next run
        reads that save (the same listing, no extra request).
        """
        wanted: dict[str, list[str]] = {}
        for source in sources:
            if sid := spreadsheet_id(source):
                wanted.setdefault(sid, []).append(source)
        if not wanted:
            return {}
        try:
            files = self.list_folder()
        except ApiError as e:
            log.warning("Không liệt kê được thư mục Drive (%s): sẽ đọc lại mọi bảng tính", e)
            return {}
        out: dict[str, str] = {}
        for f in files:
            if (
                f.get("id") in self._written
                and (f.get("lastModifyingUser") or {}).get("me") is False
            ):
                log.info("%s được sửa sau lần ghi phản hồi: lần sau sẽ đọc lại", f.get("name"))
                continue
            version = f.get("version") or f.get("modifiedTime")
            fingerprint = f"v{version}" if version else None
            if f.get("md5Checksum"):  # an upload: its content counts, not its metadata
                fingerprint = f"md5:{f['md5Checksum']}"
            for source in wanted.get(f.get("id", ""), []) if fingerprint else []:
                out[source] = fingerprint
        return out

    def read_commune(self, source: str) -> CommuneSheet:
        """Every tab of one commune sheet by title, in one ``spreadsheets.get``, with the
        token of its input tabs' values (:func:`~.google_cells.content_token`) and the
        commune code its developer metadata carries."""
        sid = self._source_id(source)
        try:
            if sid in self._uploads:
                return self._read_upload(sid)
            try:
                grids = self._read_spreadsheet(sid, commune=True)
            except ApiError as e:
                if not _not_a_sheet(e):
                    raise
                meta = self.drive_file(sid, UPLOAD_FIELDS)  # not in the folder listing
                if meta.get("mimeType") != XLSX_MIME:
                    raise
                self._uploads[sid] = meta
                return self._read_upload(sid)
        except ApiError as e:
            raise self._source_error(e, source, "đọc") from None
        identity = self._identities.get(sid) or None
        return CommuneSheet(grids, token=self._tokens[sid], identity=identity)

    def write_master(self, tabs: list[OutputTab]) -> None:
        """Replace these sync-owned tabs of the master in one ``spreadsheets.batchUpdate``.

        Each tab is rewritten in place: missing tabs are added, the grid is resized to
        exactly the rows and columns written (header row frozen), and one
        ``updateCells`` over the whole grid sets every cell, clearing what the new rows
        do not cover. Text is always written as text, never as a formula. A batchUpdate
        is all-or-nothing, so readers never see a half-written tab; no other tab is
        touched, district-owned tabs included.

        Should one body exceed about 2 MB (Google's advice), the tabs are spread over
        several batchUpdates, each tab whole inside one of them: every tab stays atomic,
        but a failure between two of them leaves the earlier tabs new and the later ones
        as they were (the next run rewrites them).
        """
        protected = set(self.registry_titles) & {t.title for t in tabs}
        if protected:
            raise ValueError(
                f"write_master must not write district-owned tabs: {sorted(protected)}"
            )
        before = set(self._sheets.get(self.master_id) or ())
        try:
            self.replace_tabs(self.master_id, tabs)
            created = [t for t in tabs if t.title not in before]
            if created and self.rules is not None:
                self._format_master(created)
        except ApiError as e:
            raise self._master_error(e, "ghi") from None

    def _format_master(self, created: list[OutputTab]) -> None:
        """Formats, flags and charts for tabs just created: sent once, in one batchUpdate
        (they would pile up if sent on every write; their ranges are open-ended, so
        later rewrites keep them)."""
        from .google_views import google_format_requests

        sheet_ids = {title: info.sheet_id for title, info in self._sheets[self.master_id].items()}
        requests_ = google_format_requests(sheet_ids, created, self.rules)
        if requests_:
            self.transport.batch_update(self.master_id, {"requests": requests_})

    def write_commune(
        self,
        source: str,
        tabs: list[OutputTab],
        *,
        expected: str | None = None,
        identity: str | None = None,
    ) -> None:
        """Replace these namcoso-owned tabs of one commune sheet, like :meth:`write_master`,
        and check in the same ``batchUpdate`` that the commune did not save meanwhile.

        The batch asks for the input tabs back (``includeSpreadsheetInResponse`` with
        them as ``responseRanges``, values only); if they differ from what this run
        read (``expected``, a token of :meth:`read_commune`; else this run's read), the
        commune saved between the read and the write: :class:`SourceChanged` is raised,
        so the pipeline does not record the new Drive version as read and the next run
        reads the save. The write itself has been applied by then; it only touched
        namcoso's own tabs, so nothing of the commune's is lost.

        A sheet not read this run is read once first (in place of the tab-list read a
        write needs anyway), so it costs what it did: 1 read + 1 write. ``identity`` is
        stamped as spreadsheet-level developer metadata (key ``namcoso.commune``) in the
        same batch when the sheet carries none; one naming another commune is left as
        it is (the pipeline reports it).
        """
        sid = self._source_id(source)
        if sid in self._uploads:
            raise SourceUnavailable(NOT_WRITABLE, detail=self.describe(source))
        try:
            baseline = expected if is_content_token(expected) else self._tokens.get(sid)
            if baseline is None:
                self._read_spreadsheet(sid, commune=True)
                baseline = self._tokens[sid]
            elif sid not in self._sheets:
                self._read_properties(sid)
            current = self._identities.get(sid, "")
            extra = []
            if identity and not current:
                extra.append(identity_request(identity))
            elif identity and current != identity:
                log.warning(
                    "%s mang mã xã %s, không phải %s: giữ nguyên",
                    self.describe(source),
                    current,
                    identity,
                )
            seen = self.replace_tabs(sid, tabs, extra=extra, watch_inputs=True)
        except ApiError as e:
            raise self._source_error(e, source, "ghi phản hồi vào") from None
        if extra:
            self._identities[sid] = identity or ""
        if seen is not None and seen != baseline:
            self._tokens.pop(sid, None)
            raise SourceChanged(
                "xã đã sửa bảng tính trong lúc đồng bộ; lần sau sẽ đọc lại",
                detail=self.describe(source),
            )
        if seen is not None:
            self._tokens[sid] = seen
        self._written.add(sid)

    # -- lower level, also used by the doctor and provisioning -------------------------
    def replace_tabs(
        self,
        spreadsheet: str,
        tabs: list[OutputTab],
        *,
        extra: list[dict[str, Any]] | None = None,
        watch_inputs: bool = False,
    ) -> str | None:
        """Rewrite ``tabs`` of any spreadsheet (ID); raises :class:`ApiError`.

        Uses the tab list learned when the spreadsheet was read this run, else one
        properties-only ``spreadsheets.get``. If the batch is refused (400: someone
        added or deleted a tab since), the tab list is read again and the batch sent
        once more; a refused batch changed nothing, so this is safe.

        ``extra`` requests ride in the last batch. With ``watch_inputs`` the last batch
        also asks for the input tabs back, and the :func:`content_token` of what came
        back is returned (None otherwise).
        """
        extra = extra or []
        if not tabs and not extra:
            return None
        done: set[str] = set()
        for attempt in (1, 2):
            sheets = self._sheets.get(spreadsheet)
            if sheets is None or attempt == 2:
                sheets = self._read_properties(spreadsheet)
            pending = [t for t in tabs if t.title not in done]
            taken = {info.sheet_id for info in sheets.values()}
            groups, infos = [], []
            for tab in pending:
                requests_, info = tab_requests(tab, sheets.get(tab.title), taken)
                taken.add(info.sheet_id)
                groups.append((tab.title, requests_))
                infos.append(info)
            new_infos = {i.title: i for i in infos}
            batches = pack_titled(groups, self.max_body_bytes) or [([], [])]
            seen = None
            try:
                for n, (titles, body) in enumerate(batches):
                    if n < len(batches) - 1:
                        self.transport.batch_update(spreadsheet, {"requests": body})
                    elif watch_inputs:
                        seen = self._batch_update_watching(
                            spreadsheet, [*body, *extra], input_titles(sheets)
                        )
                    else:
                        self.transport.batch_update(spreadsheet, {"requests": [*body, *extra]})
                    for title in titles:
                        sheets[title] = new_infos[title]
                        done.add(title)
                return seen
            except ApiError as e:
                if e.status != 400 or attempt == 2:
                    raise
                log.warning("Google từ chối lệnh ghi (%s); đọc lại danh sách trang rồi thử lại", e)
        return None  # pragma: no cover

    def _batch_update_watching(
        self, spreadsheet: str, requests_: list[dict[str, Any]], watched: list[str]
    ) -> str:
        """One ``batchUpdate`` that also returns the ``watched`` tabs' values as they are
        right after it applied; their :func:`content_token`.

        Through ``request``: gspread's ``batch_update`` takes no query parameters, and
        the ``fields`` mask is what keeps the reply to those values (no replies, no
        formats)."""
        body: dict[str, Any] = {"requests": requests_}
        if watched:
            body.update(
                includeSpreadsheetInResponse=True,
                responseRanges=[absolute_range_name(t) for t in watched],
                responseIncludeGridData=True,
            )
        reply = self.transport.request(
            "post",
            SPREADSHEET_BATCH_UPDATE_URL % quote(spreadsheet),
            params={"fields": WATCH_MASK},
            json=body,
        ).json()
        returned = {
            sheet.get("properties", {}).get("title", ""): grid_of(sheet)
            for sheet in (reply.get("updatedSpreadsheet") or {}).get("sheets", [])
        }
        return content_token(returned, watched)

    def list_folder(self, fields: str = LIST_FIELDS) -> list[dict[str, Any]]:
        """The Google Sheets files and uploaded .xlsx files in the configured folder (every
        page), or every such file shared with the account when no folder is configured.
        The uploads are remembered: they are read through Drive, not Sheets."""
        q = f"(mimeType='{SPREADSHEET_MIME}' or mimeType='{XLSX_MIME}') and trashed=false"
        if self.folder:
            q = f"'{self.folder}' in parents and {q}"
        params: dict[str, Any] = {
            "q": q,
            "fields": fields,
            "pageSize": 1000,
            "supportsAllDrives": "true",
            "includeItemsFromAllDrives": "true",
        }
        files: list[dict[str, Any]] = []
        while True:
            reply = self.transport.get_json(DRIVE_FILES_URL, params)
            for f in reply.get("files", []):
                files.append(f)
                if f.get("id") and f.get("name"):
                    self._names.setdefault(f["id"], f["name"])
                if f.get("id") and f.get("mimeType") == XLSX_MIME:
                    self._uploads[f["id"]] = f
            token = reply.get("nextPageToken")
            if not token:
                return files
            params = {**params, "pageToken": token}

    def _read_upload(self, fid: str) -> CommuneSheet:
        """An uploaded .xlsx, downloaded as it is (one ``files.get?alt=media``) and parsed
        by the local reader (:mod:`.google_uploads`)."""
        meta = self._uploads[fid]
        name = self.describe(fid)
        check_size(meta.get("size"), name)
        data = self.transport.request(
            "get",
            f"{DRIVE_FILES_URL}/{quote(fid)}",
            params={"alt": "media", "supportsAllDrives": "true"},
        ).content
        return parse_upload(data, name)

    def drive_file(self, file_id: str, fields: str) -> dict[str, Any]:
        """One Drive file's metadata (``files.get``); raises :class:`ApiError`."""
        return self.transport.get_json(
            f"{DRIVE_FILES_URL}/{quote(file_id)}",
            {"fields": fields, "supportsAllDrives": "true"},
        )

    # -- internals ----------------------------------------------------------------------
    def _read_spreadsheet(self, sid: str, *, commune: bool = False) -> dict[str, Grid]:
        reply = self.transport.spreadsheets_get(sid, {"fields": GRID_MASK})
        self._remember(sid, reply)
        grids = {
            sheet.get("properties", {}).get("title", ""): grid_of(sheet)
            for sheet in reply.get("sheets", [])
        }
        if commune:
            self._tokens[sid] = content_token(grids, input_titles(grids))
        self._controls[sid] = {
            title: (_provisioned(sheet), _validated_cells(sheet), grids[title][:CONTROL_ROWS])
            for sheet in reply.get("sheets", [])
            if (title := sheet.get("properties", {}).get("title", ""))
        }
        return grids

    def missing_controls(self, source: str, hamlets: list[str]) -> list[str]:
        """Input tabs of a provisioned commune sheet whose dropdowns were removed, from what
        this run's read of the sheet returned (no extra request). A sheet counts as
        provisioned when ``namcoso provision`` protected its header rows; communes cannot
        remove that lock, only the dropdowns below it."""
        from ..controls import column_controls
        from ..normalize import find_header

        controls = column_controls(hamlets)
        sid = spreadsheet_id(source)
        missing = []
        for title, (provisioned, validated, head) in self._controls.get(sid or "", {}).items():
            tab = next((t for t in commune_layout().by_role("input") if t.title == title), None)
            if tab is None or not provisioned or not head:
                continue
            header_row, height, mapped = find_header(head, tab)
            first_data_row = header_row + height
            expected = [c for c, key in mapped.items() if tab.column(key).type in controls]
            if any((first_data_row, c) not in validated for c in expected):
                missing.append(title)
        return missing

    def _read_properties(self, sid: str) -> dict[str, SheetInfo]:
        reply = self.transport.fetch_sheet_metadata(sid, {"fields": PROPERTIES_MASK})
        return self._remember(sid, reply)

    def _remember(self, sid: str, reply: dict[str, Any]) -> dict[str, SheetInfo]:
        infos = [sheet_info(s.get("properties", {})) for s in reply.get("sheets", [])]
        self._sheets[sid] = {i.title: i for i in infos}
        self._identities[sid] = identity_of(reply)
        title = reply.get("properties", {}).get("title")
        if title:
            self._names[sid] = title
        return self._sheets[sid]

    def _source_id(self, source: str) -> str:
        sid = spreadsheet_id(source)
        if sid is None:
            raise SourceUnavailable(
                "ô Bảng tính báo cáo không phải ID hay đường dẫn Google Sheets", detail=str(source)
            )
        return sid

    def _who(self) -> str:
        return self.client_email or "tài khoản đồng bộ"

    def _source_error(self, e: ApiError, source: str, verb: str) -> NamcosoError:
        name = self.describe(source)
        if e.status == 401:
            return ConfigError("Google không chấp nhận thông tin đăng nhập của tài khoản dịch vụ")
        if e.status == 404:
            reason = "bảng tính không tồn tại hoặc đã bị xóa"
        elif e.status == 403 and not e.rate_limited:
            reason = (
                f"bảng tính chưa chia sẻ cho tài khoản đồng bộ {self._who()} "
                "(cần quyền Người chỉnh sửa)"
            )
        elif _not_a_sheet(e):
            reason = "tệp là Excel trên Drive, chưa chuyển sang Google Sheets"
        else:
            reason = _transient_reason(e)
        if verb != "đọc":
            reason = f"không {verb} bảng tính: {reason}"
        return SourceUnavailable(reason, detail=name)

    def _master_error(self, e: ApiError, verb: str) -> NamcosoError:
        name = self.describe(self.master_id)
        if e.status == 401:
            return ConfigError("Google không chấp nhận thông tin đăng nhập của tài khoản dịch vụ")
        if e.status == 404:
            message = (
                f"Không {verb} được bảng tổng hợp: không tồn tại hoặc đã bị xóa "
                "(kiểm tra [google] master)"
            )
        elif e.status == 403 and not e.rate_limited:
            message = (
                f"Không {verb} được bảng tổng hợp: chưa chia sẻ cho {self._who()} "
                "với quyền Người chỉnh sửa"
            )
        else:
            message = f"Không {verb} được bảng tổng hợp: {_transient_reason(e)}"
        return MasterUnavailable(message, detail=name)


def input_titles(titles: Iterable[str]) -> list[str]:
    """The tabs of a commune sheet whose content is the commune's: all but namcoso's own
    (the guide, assignments and feedback tabs), in sheet order."""
    own = {tab.title for tab in commune_layout().tabs.values() if tab.role != "input"}
    return [t for t in titles if t not in own]


def is_content_token(value: str | None) -> bool:
    """Whether ``value`` is a :func:`content_token` (not a Drive fingerprint)."""
    return isinstance(value, str) and value.startswith(TOKEN_PREFIX)


def _not_a_sheet(e: ApiError) -> bool:
    """Whether Sheets refused a file because it is not a Google sheet (an upload)."""
    return e.status == 400 and "not supported for this document" in e.message


def _transient_reason(e: ApiError) -> str:
    if e.rate_limited:
        return f"Google báo vượt hạn mức số lệnh gọi (đã thử {e.attempts} lần)"
    if e.status is None:
        return f"{e.message} (đã thử {e.attempts} lần)"
    if e.status >= 500 or e.status == 408:
        return f"Google tạm thời lỗi {e.status} (đã thử {e.attempts} lần)"
    return f"Google trả lỗi {e.status} {e.reason}: {e.message}"


def pack_titled(
    groups: list[tuple[str, list[dict[str, Any]]]], max_bytes: int
) -> list[tuple[list[str], list[dict[str, Any]]]]:
    """:func:`pack` that also says which tabs each body carries."""
    batches = pack([g for _, g in groups], max_bytes)
    out, i = [], 0
    for batch in batches:
        titles, count = [], 0
        while count < len(batch):
            titles.append(groups[i][0])
            count += len(groups[i][1])
            i += 1
        out.append((titles, batch))
    return out


def _provisioned(sheet: dict[str, Any]) -> bool:
    """Whether ``namcoso provision`` locked this tab's header (its protected range says so)."""
    return any("namcoso" in p.get("description", "") for p in sheet.get("protectedRanges", []))


def _validated_cells(sheet: dict[str, Any]) -> set[tuple[int, int]]:
    """(row, column), 0-based, of the cells near the top that carry a data validation."""
    cells = set()
    for block in sheet.get("data", []):
        top, left = int(block.get("startRow", 0)), int(block.get("startColumn", 0))
        for r, row_data in enumerate(block.get("rowData", [])[:CONTROL_ROWS]):
            for c, value in enumerate(row_data.get("values", [])):
                if value.get("dataValidation"):
                    cells.add((top + r, left + c))
    return cells
