"""``namcoso init``: a project a district can start from, then provision and sync."""

from __future__ import annotations

import tomllib
from datetime import date

import openpyxl
import pytest

from sync.cli import main
from sync.config import load_config
from sync.errors import ConfigError
from sync.init import find_district, init_project
from sync.layout import commune_layout, master_layout
from sync.registry import load_registry


def _registry(master):
    wb = openpyxl.load_workbook(master)
    return wb, {ws.title: [list(r) for r in ws.iter_rows(values_only=True)] for ws in wb}


def test_init_with_ba_tri_code_lists_its_24_communes_with_their_files(tmp_path):
    result = init_project(tmp_path / "new", "836", today=date(2026, 3, 2))
    _, grids = _registry(result.master)
    layout = master_layout()
    communes = grids[layout["communes"].title]
    assert communes[0] == [c.header for c in layout["communes"].columns]
    assert len(communes) == 25
    assert communes[1] == ["29110", "Thị trấn Ba Tri", "Thị trấn", "29110.xlsx", None]
    assert communes[-1] == ["29179", "Xã An Thủy", "Xã", "29179.xlsx", None]
    registry = load_registry(grids)
    assert len(registry.communes) == 24 and not registry.findings
    config = load_config(result.config)
    assert config.name == "Huyện ủy Ba Tri" and config.backend == "local"
    assert config.rules.period_start == "2026-01"
    assert (tmp_path / "new" / "communes").is_dir()


def test_master_has_headers_frozen_dropdowns_and_a_guide_first(tmp_path):
    result = init_project(tmp_path / "p")
    wb, grids = _registry(result.master)
    layout = master_layout()
    assert wb.sheetnames[0] == layout.extra["guide"]["title"]
    assert any("namcoso provision" in str(r[0]) for r in grids[wb.sheetnames[0]])
    assert wb.sheetnames[1:] == [t.title for t in layout.by_role("registry")]
    dropdowns = {}
    for tab in layout.by_role("registry"):
        ws = wb[tab.title]
        assert ws.freeze_panes == "A2"
        assert grids[tab.title] == [[c.header for c in tab.columns]]
        for dv in ws.data_validations.dataValidation:
            dropdowns[(tab.key, str(dv.sqref).split(":")[0])] = dv.formula1
    assert dropdowns == {
        ("communes", "C2"): '"Xã,Thị trấn,Phường"',
        ("hamlets", "D2"): '"Ấp,Khu phố"',
        ("cadres", "C2"): '"Tỉnh,Huyện,Xã"',
    }


def test_province_prefixes_give_the_committee_name_and_codes_keep_five_digits():
    town = find_district("95")
    assert town.committee == "Thị ủy Mường Lay"
    assert [(c.code, c.kind) for c in town.communes] == [
        ("03148", "Phường"),
        ("03151", "Phường"),
        ("03184", "Xã"),
    ]
    assert find_district("001").committee == "Quận ủy Ba Đình"


def test_init_refuses_a_folder_that_is_not_empty(tmp_path, capsys):
    project = tmp_path / "real"
    project.mkdir()
    (project / "master.xlsx").write_bytes(b"the district's real master")
    assert main(["init", str(project), "--district", "836"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "không trống" in err[0]
    assert [p.name for p in project.iterdir()] == ["master.xlsx"]
    assert (project / "master.xlsx").read_bytes() == b"the district's real master"


@pytest.mark.parametrize("code", ["999", "83x"])
def test_unknown_district_code_is_one_line_exit_2_and_nothing_written(tmp_path, capsys, code):
    assert main(["init", str(tmp_path / "p"), "--district", code]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and code in err[0] and "Traceback" not in err[0]
    assert not (tmp_path / "p").exists()


def _add_hamlets_and_cadres(master):
    """What district staff type by hand, in the tabs init made (nothing else)."""
    wb = openpyxl.load_workbook(master)
    layout = master_layout()
    wb[layout["hamlets"].title].append(["07192-01", "07192", "Khu 1", "Khu phố", "", 120])
    wb[layout["hamlets"].title].append(["07195-01", "07195", "Thôn Đông", "Ấp", "", 80])
    wb[layout["cadres"].title].append(["H001", "Nguyễn Văn An", "Huyện", "", "", "", ""])
    wb[layout["assignments"].title].append(["H001", "07192-01", None, None, ""])
    wb.save(master)


def test_init_then_provision_then_sync_with_only_hamlets_and_cadres_added(tmp_path, capsys):
    project = tmp_path / "co-to"
    assert main(["init", str(project), "--district", "207"]) == 0
    config = str(project / "namcoso.toml")

    # Before any hamlet is typed: provision and sync still work, and no commune is told
    # its (empty) data was received in full.
    assert main(["provision", "--config", config]) == 0
    assert main(["sync", "--config", config]) == 0
    capsys.readouterr()
    feedback = _feedback(project / "communes" / "07195.xlsx")
    assert "Chưa nhận được dòng số liệu nào" in feedback and "đầy đủ" not in feedback

    _add_hamlets_and_cadres(project / "master.xlsx")
    assert main(["provision", "--config", config, "--repair"]) == 0
    commune = project / "communes" / "07192.xlsx"
    wb = openpyxl.load_workbook(commune)
    year = load_config(project / "namcoso.toml").rules.period_start[:4]
    wb[commune_layout()["meetings"].title].append(
        ["Khu 1", f"01/{year}", f"05/01/{year}", 20, 18, "x", "x", ""]
    )
    wb.save(commune)
    assert main(["sync", "--config", config]) == 0
    out = capsys.readouterr().out
    assert "nhận 1 dòng" in out and "loại 0" in out
    with (project / "namcoso.toml").open("rb") as f:
        assert tomllib.load(f)["rules"]["period_start"] == f"{year}-01"
    assert "đã nhận 1 dòng số liệu" in _feedback(commune)
    assert "Chưa nhận được dòng số liệu nào" in _feedback(project / "communes" / "07195.xlsx")


def _feedback(path) -> str:
    """A commune's Kiểm tra dữ liệu tab, as one text."""
    ws = openpyxl.load_workbook(path, read_only=True)[commune_layout()["feedback"].title]
    return " ".join(str(v) for row in ws.iter_rows(values_only=True) for v in row if v)


def test_demo_refuses_a_real_project_and_leaves_it_alone(tmp_path, capsys):
    project = init_project(tmp_path / "real", "207").config.parent
    (project / ".namcoso").mkdir()
    (project / ".namcoso" / "state.sqlite").write_bytes(b"state")
    before = {p: p.read_bytes() for p in project.rglob("*") if p.is_file()}
    assert main(["demo", "--dir", str(project)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "không phải dự án mẫu" in err[0]
    assert {p: p.read_bytes() for p in project.rglob("*") if p.is_file()} == before


def test_demo_may_rebuild_an_earlier_demo_or_fill_an_empty_folder(tmp_path):
    from sync.demo.generate import CONFIG_TEXT, YEAR
    from sync.init import check_demo_folder

    earlier = tmp_path / "ba-tri-demo"
    earlier.mkdir()
    for name, scope in [("Huyện ủy Ba Tri", "huyện"), ("Tỉnh ủy Bến Tre", "tỉnh")]:
        demo_text = CONFIG_TEXT.format(name=name, scope=scope, year=YEAR)
        (earlier / "namcoso.toml").write_text(demo_text, encoding="utf-8")
        check_demo_folder(earlier)
    (tmp_path / "empty").mkdir()
    check_demo_folder(tmp_path / "empty")
    check_demo_folder(tmp_path / "missing")
    edited = demo_text + "[schedule]\nevery_minutes = 5\n"
    (earlier / "namcoso.toml").write_text(edited, encoding="utf-8")
    with pytest.raises(ConfigError):
        check_demo_folder(earlier)
