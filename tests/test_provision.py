"""``namcoso provision``: commune sheets from the template, recorded in ``Danh mục xã``,
their dropdowns and header locks checked and repaired."""

from __future__ import annotations

import re
import zipfile
from pathlib import Path

import openpyxl
import pytest
from conftest import NOW, build_small_project, registry_grids

from sync.backends.local import file_fingerprint, read_workbook, write_workbook
from sync.backends.local_provision import repair_workbook
from sync.cli import main
from sync.config import Config, load_config
from sync.errors import MasterBusy
from sync.layout import commune_layout, master_layout
from sync.pipeline import run_sync
from sync.provision import check_protections, protection_findings, provision

COMMUNES = master_layout()["communes"].title


def project(tmp_path: Path, sources: tuple[str, str] = ("", "")) -> Config:
    """The small project with these ``Bảng tính báo cáo`` cells and no commune files."""
    config = load_config(build_small_project(tmp_path / "p"))
    grids = registry_grids()
    for row, source in zip(grids[COMMUNES][1:], sources, strict=True):
        row[3] = source
    write_workbook(config.master, grids)
    for f in config.communes_dir.iterdir():
        f.unlink()
    return config


def values(ws) -> list[list]:
    """A sheet's rows, without trailing empty rows."""
    rows = [list(r) for r in ws.iter_rows(values_only=True)]
    while rows and all(v is None for v in rows[-1]):
        rows.pop()
    return rows


def validations(ws) -> dict[str, tuple[str, str | None]]:
    """First cell of each validation's range → (type, formula1)."""
    return {
        str(dv.sqref).split(":")[0]: (dv.type, dv.formula1)
        for dv in ws.data_validations.dataValidation
    }


def test_provision_creates_each_missing_sheet_from_the_template(tmp_path):
    config = project(tmp_path)
    lines = provision(config)
    assert lines[:2] == [
        "Thị trấn Ba Tri (29110): đã tạo 29110.xlsx từ mẫu",
        "Xã Tân Mỹ (29113): đã tạo 29113.xlsx từ mẫu",
    ]
    wb = openpyxl.load_workbook(config.communes_dir / "29110.xlsx")
    layout = commune_layout()
    inputs = [t.title for t in layout.by_role("input")]
    assert wb.sheetnames == [layout["guide"].title, *inputs, "Phân công", "Kiểm tra dữ liệu"]
    for tab in layout.by_role("input"):
        assert values(wb[tab.title]) == [[c.header for c in tab.columns]]
    guide = [r[0] for r in values(wb["Hướng dẫn"])[1:]]
    assert guide == [line or None for line in layout.extra["guide"]["lines"]]
    assignments = values(wb["Phân công"])
    assert [
        "29110-01",
        "Khu phố 1",
        "Huyện",
        "H001",
        "Nguyễn Văn An",
        "Chuyên viên",
        "0902000001",
    ] in assignments
    assert all(wb[t].protection.sheet for t in wb.sheetnames)


def test_dropdowns_and_checks_cover_the_data_rows(tmp_path):
    config = project(tmp_path)
    provision(config)
    wb = openpyxl.load_workbook(config.communes_dir / "29110.xlsx")
    meetings = validations(wb["Sinh hoạt chi bộ"])
    assert meetings["A2"] == ("list", '"Khu phố 1,Ấp An Thạnh"')  # its own hamlets only
    assert meetings["C2"][0] == "date"
    assert meetings["D2"] == ("whole", "1") and meetings["E2"] == ("whole", "0")
    assert meetings["F2"] == ("list", '"x,Có,Không"') == meetings["G2"]
    assert "B2" not in meetings  # the month stays free text
    ratings = validations(wb["Xếp loại chi bộ"])
    assert ratings["B2"] == ("whole", "2000")
    assert ratings["C2"] == (
        "list",
        '"Hoàn thành xuất sắc nhiệm vụ,Hoàn thành tốt nhiệm vụ,Hoàn thành nhiệm vụ,'
        'Không hoàn thành nhiệm vụ"',
    )
    support = validations(wb["Hỗ trợ, vận động"])
    assert support["C2"] == ("list", '"An sinh xã hội,Nông thôn mới,Khác"')
    assert support["E2"][0] == "whole"
    other = openpyxl.load_workbook(config.communes_dir / "29113.xlsx")
    assert validations(other["Phân công hộ"])["A2"] == ("list", '"Ấp Tân Hòa"')
    dv = next(iter(wb["Sinh hoạt chi bộ"].data_validations.dataValidation))
    assert str(dv.sqref).endswith("1048576")


def test_only_the_header_row_is_locked(tmp_path):
    config = project(tmp_path)
    provision(config)
    ws = openpyxl.load_workbook(config.communes_dir / "29110.xlsx")["Sinh hoạt chi bộ"]
    assert ws.protection.sheet and not ws.protection.insertRows and not ws.protection.deleteRows
    assert all(cell.protection.locked for cell in ws[1])
    for c in range(1, len(commune_layout()["meetings"].columns) + 1):
        assert ws.column_dimensions[openpyxl.utils.get_column_letter(c)].protection.locked is False
    assert ws.freeze_panes == "A2"


def test_new_sheets_are_recorded_and_nothing_else_in_the_master_changes(tmp_path):
    config = project(tmp_path)
    before = read_workbook(config.master)
    lines = provision(config)
    assert lines[-1] == "Đã ghi 2 bảng tính vào cột 'Bảng tính báo cáo' của trang 'Danh mục xã'"
    after = read_workbook(config.master)
    assert [r[3] for r in after[COMMUNES][1:]] == ["29110.xlsx", "29113.xlsx"]
    for r, (old, new) in enumerate(zip(before[COMMUNES], after[COMMUNES], strict=True)):
        changed = [c for c, (a, b) in enumerate(zip(old, new, strict=True)) if a != b]
        assert changed == ([3] if r else [])
    for title, grid in before.items():
        if title != COMMUNES:
            assert after[title] == grid


def test_existing_sheets_are_left_alone(tmp_path):
    config = project(tmp_path, ("29110.xlsx", ""))
    provision(config)
    made = file_fingerprint(config.communes_dir / "29110.xlsx")
    master = file_fingerprint(config.master)
    assert provision(config) == [
        "Thị trấn Ba Tri (29110): 29110.xlsx đã có",
        "Xã Tân Mỹ (29113): 29113.xlsx đã có",
    ]
    assert file_fingerprint(config.communes_dir / "29110.xlsx") == made
    assert file_fingerprint(config.master) == master


def test_a_registered_file_that_is_missing_is_created_under_its_name(tmp_path):
    config = project(tmp_path, ("ba-tri.xlsx", "29113.xlsx"))
    master = file_fingerprint(config.master)
    lines = provision(config)
    assert lines == [
        "Thị trấn Ba Tri (29110): đã tạo ba-tri.xlsx từ mẫu",
        "Xã Tân Mỹ (29113): đã tạo 29113.xlsx từ mẫu",
    ]
    assert (config.communes_dir / "ba-tri.xlsx").exists()
    assert file_fingerprint(config.master) == master  # nothing to record


def test_a_file_already_there_is_adopted_not_overwritten(tmp_path):
    config = project(tmp_path)
    write_workbook(config.communes_dir / "29110.xlsx", {"Sinh hoạt chi bộ": [["Ấp/Khu phố"]]})
    made = file_fingerprint(config.communes_dir / "29110.xlsx")
    lines = provision(config)
    assert lines[0].startswith("Thị trấn Ba Tri (29110): 29110.xlsx đã có (đã có sẵn tệp")
    assert file_fingerprint(config.communes_dir / "29110.xlsx") == made
    assert read_workbook(config.master)[COMMUNES][1][3] == "29110.xlsx"


def test_a_source_that_is_not_a_workbook_is_reported_not_replaced(tmp_path):
    config = project(tmp_path, ("1AbCdEfGhIjKlMnOpQrStUvWxYz", ""))
    lines = provision(config)
    assert "không phải tệp .xlsx" in lines[0]
    assert read_workbook(config.master)[COMMUNES][1][3] == "1AbCdEfGhIjKlMnOpQrStUvWxYz"


def test_a_sheet_that_cannot_be_created_is_reported_and_the_others_still_recorded(tmp_path):
    config = project(tmp_path, ("", "khong-phai-thu-muc/29113.xlsx"))
    (config.communes_dir / "khong-phai-thu-muc").write_text("a file, not a folder")
    lines = provision(config)
    assert lines[0] == "Thị trấn Ba Tri (29110): đã tạo 29110.xlsx từ mẫu"
    assert lines[1].startswith("Xã Tân Mỹ (29113): không tạo được 29113.xlsx (")
    assert read_workbook(config.master)[COMMUNES][1][3] == "29110.xlsx"
    assert lines.failed == ["29113"] and lines.exit_code == 3  # never exit 0 (SPEC)


def test_provision_exits_3_when_a_commune_sheet_could_not_be_made_and_0_when_all_were(tmp_path):
    from sync.cli import main

    config = project(tmp_path, ("", "khong-phai-thu-muc/29113.xlsx"))
    (config.communes_dir / "khong-phai-thu-muc").write_text("a file, not a folder")
    toml = str(config.root / "namcoso.toml")
    assert main(["provision", "--config", toml]) == 3
    (config.communes_dir / "khong-phai-thu-muc").unlink()
    (config.communes_dir / "khong-phai-thu-muc").mkdir()
    assert main(["provision", "--config", toml]) == 0


def test_an_open_or_broken_commune_workbook_is_named_and_left_alone(tmp_path):
    config = project(tmp_path, ("29110.xlsx", "29113.xlsx"))
    provision(config)
    (config.communes_dir / "~$29110.xlsx").write_text("")
    (config.communes_dir / "29113.xlsx").write_bytes(b"PK\x03\x04 truncated")
    broken = file_fingerprint(config.communes_dir / "29113.xlsx")
    for repair in (False, True):
        lines = provision(config, repair=repair)
        assert lines[0] == "Thị trấn Ba Tri (29110): 29110.xlsx đang được mở, bỏ qua"
        assert lines[1].startswith("Xã Tân Mỹ (29113): 29113.xlsx ")
        assert "hỏng" in lines[1]
        assert lines.failed == ["29110", "29113"] and lines.exit_code == 3
    assert file_fingerprint(config.communes_dir / "29113.xlsx") == broken


def test_provision_waits_for_a_master_open_in_excel(tmp_path):
    config = project(tmp_path)
    (config.master.parent / "~$master.xlsx").write_text("")
    with pytest.raises(MasterBusy):
        provision(config)
    assert not any(config.communes_dir.iterdir())


def test_provisioned_sheets_sync_cleanly(tmp_path):
    config = project(tmp_path)
    provision(config)
    path = config.communes_dir / "29110.xlsx"
    wb = openpyxl.load_workbook(path)
    wb["Sinh hoạt chi bộ"].append(["Khu phố 1", "03/2018", "05/03/2018", 20, 18, "x", "Không", ""])
    wb["Xếp loại chi bộ"].append(["Ấp An Thạnh", 2018, "Hoàn thành tốt nhiệm vụ", ""])
    wb.save(path)
    result = run_sync(config, now=NOW)
    codes = {f.code for f in result.findings if f.commune == "29110"}
    assert not codes & {"missing_tab", "missing_columns", "unmapped_columns"}
    meetings = result.tabs["meetings"].rows
    assert [r[2] for r in meetings] == ["29110-01"]
    assert "29110" in result.communes_written
    assert check_protections(path, ["Khu phố 1", "Ấp An Thạnh"]) == []  # kept by the write


def test_provision_keeps_the_charts_of_a_synced_master(tmp_path):
    config = project(tmp_path, ("29110.xlsx", "29113.xlsx"))
    provision(config)
    run_sync(config, now=NOW)
    wb = openpyxl.load_workbook(config.master)  # drops the charts, as any openpyxl edit
    wb[COMMUNES]["D3"] = None
    wb.save(config.master)
    (config.communes_dir / "29113.xlsx").unlink()
    provision(config)
    with zipfile.ZipFile(config.master) as z:
        assert len([n for n in z.namelist() if re.match(r"xl/charts/chart\d+\.xml", n)]) == 3
    assert read_workbook(config.master)[COMMUNES][2][3] == "29113.xlsx"


# -- checking and repairing -------------------------------------------------------------


def strip_controls(path: Path, title: str, protection: bool = False) -> None:
    wb = openpyxl.load_workbook(path)
    ws = wb[title]
    ws.data_validations.dataValidation = [
        dv for dv in ws.data_validations.dataValidation if dv.type != "list"
    ]
    if protection:
        ws.protection.sheet = False
    wb.save(path)


def test_removed_dropdowns_are_found_and_repaired(tmp_path):
    config = project(tmp_path)
    provision(config)
    path = config.communes_dir / "29110.xlsx"
    assert check_protections(path) == []
    strip_controls(path, "Xếp loại chi bộ")
    strip_controls(path, "Phân công hộ", protection=True)
    assert check_protections(path) == ["Xếp loại chi bộ", "Phân công hộ"]
    findings = protection_findings("29110", check_protections(path))
    assert {(f.code, f.severity, f.tab) for f in findings} == {
        ("validation_removed", "Cảnh báo", "Xếp loại chi bộ"),
        ("validation_removed", "Cảnh báo", "Phân công hộ"),
    }
    lines = provision(config)
    assert "provision --repair" in lines[0]
    lines = provision(config, repair=True)
    assert lines[0] == (
        "Thị trấn Ba Tri (29110): đã áp lại danh sách chọn và khóa tiêu đề cho trang "
        "Xếp loại chi bộ, Phân công hộ"
    )
    assert lines[1] == "Xã Tân Mỹ (29113): 29113.xlsx không cần sửa"
    assert check_protections(path) == []
    ws = openpyxl.load_workbook(path)["Xếp loại chi bộ"]
    assert validations(ws)["C2"][0] == "list"
    assert len(ws.data_validations.dataValidation) == 3  # replaced, not piled up


def test_a_removed_hamlet_dropdown_is_found_when_the_hamlets_are_known(tmp_path):
    config = project(tmp_path)
    provision(config)
    path = config.communes_dir / "29113.xlsx"
    strip_controls(path, "Sinh hoạt chi bộ")  # hamlet and yes/no lists
    strip_controls(path, "Phân công hộ")  # only the hamlet list there
    assert check_protections(path) == ["Sinh hoạt chi bộ"]
    assert check_protections(path, ["Ấp Tân Hòa"]) == ["Sinh hoạt chi bộ", "Phân công hộ"]


def test_repair_follows_a_header_that_moved_and_keeps_the_data(tmp_path):
    path = tmp_path / "drifted.xlsx"
    header = [c.header for c in commune_layout()["ratings"].columns]
    row = ["Ấp Tân Hòa", 2018, "Tốt", "ghi chú"]
    write_workbook(path, {"XẾP LOẠI CHI BỘ": [["Báo cáo xếp loại"], [], header, row]})
    assert check_protections(path) == []  # never provisioned: nothing was removed
    assert repair_workbook(path, ["Ấp Tân Hòa"]) == ["XẾP LOẠI CHI BỘ"]
    ws = openpyxl.load_workbook(path)["XẾP LOẠI CHI BỘ"]
    assert validations(ws) == {
        "A4": ("list", '"Ấp Tân Hòa"'),
        "B4": ("whole", "2000"),
        "C4": ("list", validations(ws)["C4"][1]),
    }
    assert values(ws)[3] == row
    assert ws["A3"].protection.locked and ws["A1"].protection.locked
    assert not ws["C4"].protection.locked  # a commune's own value stays editable
    assert repair_workbook(path, ["Ấp Tân Hòa"]) == []
    strip_controls(path, "XẾP LOẠI CHI BỘ")
    assert check_protections(path) == ["XẾP LOẠI CHI BỘ"]  # repaired, so checked from now on


def test_repair_brings_a_hamlet_list_up_to_date(tmp_path):
    config = project(tmp_path)
    provision(config)
    path = config.communes_dir / "29113.xlsx"
    assert repair_workbook(path, ["Ấp Tân Hòa", "Ấp Tân Thạnh"]) == [
        t.title for t in commune_layout().by_role("input")
    ]
    ws = openpyxl.load_workbook(path)["Phân công hộ"]
    assert validations(ws)["A2"] == ("list", '"Ấp Tân Hòa,Ấp Tân Thạnh"')


def test_cli_prints_one_line_per_commune(tmp_path, capsys):
    config = project(tmp_path)
    assert main(["provision", "--config", str(config.root / "namcoso.toml")]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0] == "Thị trấn Ba Tri (29110): đã tạo 29110.xlsx từ mẫu"
    assert main(["provision", "--repair", "--config", str(config.root / "namcoso.toml")]) == 0
    assert (
        capsys.readouterr().out.splitlines()[0]
        == "Thị trấn Ba Tri (29110): 29110.xlsx không cần sửa"
    )


# -- Google -----------------------------------------------------------------------------


SA = "namcoso-sync@huyen-uy-ba-tri.iam.gserviceaccount.com"
MASTER_ID = "1MasterSheetAbcdefghijklmnopqrstu"
FOLDER_ID = "1FolderAbcdefghijklmnopqrstuvwxyz"
GONE_ID = "1GoneSheetAbcdefghijklmnopqrstuvw"


def _cell(value) -> dict:
    if value is None or value == "":
        return {}
    if isinstance(value, int | float):
        return {"effectiveValue": {"numberValue": value}}
    return {"effectiveValue": {"stringValue": str(value)}}


class DriveSheetsFake:
    """Just enough of Drive and Sheets for provisioning, behind ``responses``; every
    request is checked against the discovery documents (``google_fake.check_request``)."""

    def __init__(self, registry: dict[str, list[list]]) -> None:
        self.registry = registry
        self.files: dict[str, dict] = {}
        self.violations: list[str] = []
        self.calls: list[tuple[str, str]] = []  # (method id, target)
        self.value_writes: list[dict] = []

    def install(self, rsps) -> None:
        import responses

        pattern = re.compile(r"https://(sheets|www)\.googleapis\.com/.*")
        for verb in (responses.GET, responses.POST, responses.PUT, responses.DELETE):
            rsps.add_callback(verb, pattern, callback=self.handle)

    def handle(self, request):
        import json

        from google_fake import check_request

        body = json.loads(request.body) if request.body else None
        method, params, errors = check_request(request.method, request.url, body)
        self.violations += errors
        if method is None:
            return 400, {}, "{}"
        target = params.get("spreadsheetId") or params.get("fileId") or "drive"
        self.calls.append((method.id, target))
        handler = getattr(self, method.id.replace(".", "_"))
        status, reply = handler(params, body)
        text = "" if status == 204 else json.dumps(reply, ensure_ascii=False)
        return status, {"Content-Type": "application/json"}, text

    # Drive
    def drive_files_create(self, params, body):
        fid = f"1New{len(self.files):02d}" + "x" * 26
        self.files[fid] = {
            "name": body["name"],
            "parents": body["parents"],
            "sheets": [{"properties": {"sheetId": 0, "title": "Trang tính1"}, "rows": {}}],
            "validations": [],
            "protected": [],
            "permissions": [
                {"id": "p-owner", "type": "user", "role": "owner", "emailAddress": SA},
                {
                    "id": "p-folder",
                    "type": "user",
                    "role": "writer",
                    "emailAddress": "ai-do@example.vn",
                    "permissionDetails": [{"inherited": True}],
                },
                {"id": "p-link", "type": "anyone", "role": "reader"},
            ],
        }
        return 200, {"id": fid}

    def drive_files_get(self, params, body):
        fid = params["fileId"]
        if fid not in self.files:
            return 404, {"error": {"code": 404, "message": "File not found", "status": "NOT_FOUND"}}
        return 200, {"id": fid, "trashed": False}

    def drive_permissions_create(self, params, body):
        perms = self.files[params["fileId"]]["permissions"]
        perms.append({"id": f"p{len(perms)}", **body})
        return 200, {"id": f"p{len(perms)}"}

    def drive_permissions_list(self, params, body):
        return 200, {"permissions": self.files[params["fileId"]]["permissions"]}

    def drive_permissions_delete(self, params, body):
        perms = self.files[params["fileId"]]["permissions"]
        perms[:] = [p for p in perms if p["id"] != params["permissionId"]]
        return 204, {}

    # Sheets
    def sheets_spreadsheets_get(self, params, body):
        sid = params["spreadsheetId"]
        if sid == MASTER_ID:
            sheets = [
                {
                    "properties": {"sheetId": i, "title": title},
                    "data": [{"rowData": [{"values": [_cell(v) for v in row]} for row in grid]}],
                }
                for i, (title, grid) in enumerate(self.registry.items())
            ]
            return 200, {"properties": {"title": "Tổng hợp"}, "sheets": sheets}
        f = self.files[sid]
        sheets = []
        for s in f["sheets"]:
            n = max(s["rows"], default=-1) + 1
            grid = [{"values": [_cell(v) for v in s["rows"].get(r, [])]} for r in range(n)]
            props = {**s["properties"], "gridProperties": {"rowCount": 1000}}
            protected = [p for p in f["protected"] if p["range"]["sheetId"] == props["sheetId"]]
            sheets.append(
                {"properties": props, "protectedRanges": protected, "data": [{"rowData": grid}]}
            )
        return 200, {"properties": {"title": f["name"]}, "sheets": sheets}

    def sheets_spreadsheets_batchUpdate(self, params, body):
        f = self.files[params["spreadsheetId"]]
        by_id = {s["properties"]["sheetId"]: s for s in f["sheets"]}
        for request in body["requests"]:
            ((kind, spec),) = request.items()
            if kind == "addSheet":
                sheet = {
                    "properties": {k: spec["properties"][k] for k in ("sheetId", "title")},
                    "rows": {},
                }
                f["sheets"].append(sheet)
                by_id[sheet["properties"]["sheetId"]] = sheet
            elif kind == "updateSheetProperties" and "title" in spec["properties"]:
                by_id[spec["properties"]["sheetId"]]["properties"]["title"] = spec["properties"][
                    "title"
                ]
            elif kind == "updateCells":
                rows = by_id[spec["range"]["sheetId"]]["rows"]
                for r, row in enumerate(spec["rows"]):
                    values = [
                        next(iter(c.get("userEnteredValue", {"x": None}).values()))
                        for c in row.get("values", [])
                    ]
                    if values:
                        rows[r] = values
            elif kind == "setDataValidation":
                f["validations"].append(spec)
            elif kind == "addProtectedRange":
                f["protected"].append(spec["protectedRange"])
        return 200, {"replies": []}

    def sheets_spreadsheets_values_batchUpdate(self, params, body):
        self.value_writes.append(body)
        return 200, {}

    def titles(self, fid: str) -> list[str]:
        return [s["properties"]["title"] for s in self.files[fid]["sheets"]]


def google_project(tmp_path: Path, sources: tuple[str, str]) -> tuple[Config, dict]:
    root = tmp_path / "g"
    root.mkdir(parents=True)
    (root / "namcoso.toml").write_text(
        f'[project]\nbackend = "google"\n[google]\nmaster = "{MASTER_ID}"\n'
        f'folder = "{FOLDER_ID}"\ndistrict_emails = ["vanphong@huyenuy.vn"]\n'
        '[rules]\nperiod_start = "2018-01"\n',
        encoding="utf-8",
    )
    grids = registry_grids()
    for row, source in zip(grids[COMMUNES][1:], sources, strict=True):
        row[3] = source
    return load_config(root / "namcoso.toml"), grids


@pytest.fixture
def google(tmp_path):
    import requests
    import responses
    from google_fake import FakeClock

    from sync.backends.google_provision import GoogleProvisioning

    def run(sources: tuple[str, str], repair: bool = False, fake=None):
        config, grids = google_project(tmp_path / f"r{len(list(tmp_path.iterdir()))}", sources)
        fake = fake or DriveSheetsFake(grids)
        fake.registry = grids
        clock = FakeClock()
        backend = GoogleProvisioning(
            MASTER_ID,
            FOLDER_ID,
            session=requests.Session(),
            client_email=SA,
            clock=clock,
            sleep=clock.sleep,
        )
        with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
            fake.install(rsps)
            lines = provision(config, repair=repair, backend=backend)
        assert not fake.violations, fake.violations
        return fake, lines

    return run


def test_google_provision_creates_shares_and_records_each_sheet(google):
    fake, lines = google(("", f"https://docs.google.com/spreadsheets/d/{GONE_ID}/edit"))
    assert len(fake.files) == 2
    first, second = fake.files
    assert lines[0] == (
        f"Thị trấn Ba Tri (29110): đã tạo {first} từ mẫu, chia sẻ cho bt@example.vn, "
        "vanphong@huyenuy.vn; ai-do@example.vn có quyền kế thừa từ thư mục, không gỡ được"
    )
    assert lines[1].startswith(f"Xã Tân Mỹ (29113): đã tạo {second} từ mẫu, chia sẻ cho vanphong")
    f = fake.files[first]
    assert (
        f["parents"] == [FOLDER_ID] and f["name"] == "29110 - Thị trấn Ba Tri - Báo cáo nắm cơ sở"
    )
    layout = commune_layout()
    assert fake.titles(first) == [
        layout["guide"].title,
        *(t.title for t in layout.by_role("input")),
        "Phân công",
        "Kiểm tra dữ liệu",
    ]
    sheets = {s["properties"]["title"]: s for s in f["sheets"]}
    assert sheets["Sinh hoạt chi bộ"]["rows"][0] == [c.header for c in layout["meetings"].columns]
    writers = {(p.get("emailAddress"), p["role"]) for p in f["permissions"]}
    assert writers == {
        (SA, "owner"),
        ("ai-do@example.vn", "writer"),
        ("bt@example.vn", "writer"),
        ("vanphong@huyenuy.vn", "writer"),
    }  # the link sharing is gone; the inherited one is reported
    meeting_id = sheets["Sinh hoạt chi bộ"]["properties"]["sheetId"]
    hamlet_rule = next(
        v["rule"]
        for v in f["validations"]
        if v["range"]["sheetId"] == meeting_id and v["range"]["startColumnIndex"] == 0
    )
    assert hamlet_rule["condition"] == {
        "type": "ONE_OF_LIST",
        "values": [{"userEnteredValue": "Khu phố 1"}, {"userEnteredValue": "Ấp An Thạnh"}],
    }
    assert hamlet_rule["strict"] is True
    header = next(p for p in f["protected"] if p["range"]["sheetId"] == meeting_id)
    assert header["range"] == {"sheetId": meeting_id, "startRowIndex": 0, "endRowIndex": 1}
    assert header["editors"] == {"users": [SA]} and header["warningOnly"] is False
    (write,) = fake.value_writes
    assert write == {
        "valueInputOption": "RAW",
        "data": [
            {
                "range": "'Danh mục xã'!D2",
                "values": [[f"https://docs.google.com/spreadsheets/d/{first}/edit"]],
            },
            {
                "range": "'Danh mục xã'!D3",
                "values": [[f"https://docs.google.com/spreadsheets/d/{second}/edit"]],
            },
        ],
    }
    master_writes = [m for m, t in fake.calls if t == MASTER_ID and m != "sheets.spreadsheets.get"]
    assert master_writes == ["sheets.spreadsheets.values.batchUpdate"]


def test_google_provision_leaves_existing_sheets_alone(google):
    fake, _ = google(("", ""))
    existing = list(fake.files)
    calls = len(fake.calls)
    fake, lines = google(tuple(existing), fake=fake)
    assert lines == [
        f"Thị trấn Ba Tri (29110): {existing[0]} đã có",
        f"Xã Tân Mỹ (29113): {existing[1]} đã có",
    ]
    assert [m for m, _ in fake.calls[calls:]] == [
        "sheets.spreadsheets.get",
        "drive.files.get",
        "drive.files.get",
    ]


def test_google_repair_reapplies_validations_and_missing_header_locks(google):
    fake, _ = google(("", ""))
    first = next(iter(fake.files))
    f = fake.files[first]
    kept = {s["properties"]["sheetId"] for s in f["sheets"][1:3]}  # two input tabs stay locked
    f["protected"] = [p for p in f["protected"] if p["range"]["sheetId"] in kept]
    f["validations"].clear()
    fake, lines = google((first, ""), repair=True, fake=fake)
    inputs = [t.title for t in commune_layout().by_role("input")]
    assert lines[0] == (
        "Thị trấn Ba Tri (29110): đã áp lại danh sách chọn và khóa tiêu đề cho trang "
        + ", ".join(inputs)
    )
    locked = {p["range"]["sheetId"] for p in f["protected"]}
    input_ids = {s["properties"]["sheetId"] for s in f["sheets"][1:5]}
    assert input_ids <= locked
    assert len(f["protected"]) == len(kept) + 2  # re-added only where missing
    assert {v["range"]["sheetId"] for v in f["validations"]} == input_ids


def test_sync_reports_dropdowns_a_commune_removed(tmp_path):
    from sync.pipeline import run_sync

    config = project(tmp_path)
    provision(config)
    run_sync(config)
    strip_controls(config.communes_dir / "29110.xlsx", "Xếp loại chi bộ")
    result = run_sync(config)
    assert [(f.commune, f.code, f.tab) for f in result.findings if f.code.startswith("valid")] == [
        ("29110", "validation_removed", "Xếp loại chi bộ")
    ]
