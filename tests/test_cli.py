"""The command line: help everywhere, one clear line for bad configuration, exit codes."""

from __future__ import annotations

import logging
import re
import time
from datetime import UTC, datetime

import pytest
from conftest import commune_grids

from sync import errors
from sync.backends.local import write_workbook
from sync.cli import EXIT_CODES, build_parser, main, setup_logging
from sync.layout import commune_layout
from sync.lock import run_lock
from sync.units import VIETNAM, vietnam_now

COMMANDS = ["demo", "init", "sync", "run", "validate", "provision", "status", "report", "doctor"]


def test_every_command_has_help_text():
    parser = build_parser()
    sub = next(a for a in parser._actions if a.dest == "command")
    assert sorted(sub.choices) == sorted(COMMANDS)
    for name, p in sub.choices.items():
        assert p.description, name
        for action in p._actions:
            assert action.help, f"{name} {action.option_strings or action.dest}"


@pytest.mark.parametrize("command", [[], *([c] for c in COMMANDS)])
def test_help_lists_every_exit_code(command, capsys):
    assert main([*command, "--help"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("cách dùng: namcoso")
    codes = out[out.index("mã thoát:") :]
    for code, meaning in EXIT_CODES.items():
        assert re.search(rf"^  {code}\s+{re.escape(meaning)}$", codes, re.M), code
    assert "usage" not in out and "show this help" not in out


def test_every_exit_code_the_code_raises_is_documented():
    kinds = [errors.NamcosoError]
    for kind in kinds:
        kinds.extend(kind.__subclasses__())
    assert {k.exit_code for k in kinds} <= set(EXIT_CODES)


@pytest.mark.parametrize(
    ("argv", "needle"),
    [
        (["sycn"], "không có lựa chọn 'sycn'"),
        (["sycn"], "có phải «sync»?"),
        ([], "thiếu tham số bắt buộc: LỆNH"),
        (["sync", "--bogus"], "không hiểu tham số: --bogus"),
        (["demo", "--scale", "huyen"], "tham số --scale: không có lựa chọn 'huyen'"),
        (["sync", "--accept"], "tham số --accept: cần một giá trị"),
        (["init"], "thiếu tham số bắt buộc: THƯ_MỤC"),
        (["sync", "-v", "-q"], "không dùng -v cùng với -q"),
    ],
)
def test_usage_errors_are_in_vietnamese_and_exit_2(argv, needle, capsys):
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert needle in err
    assert not re.search(r"usage|error|required|invalid|unrecognized|expected", err)


def test_global_options_work_before_or_after_the_command(small_project, capsys):
    config = str(small_project.root / "namcoso.toml")
    assert main(["--config", config, "sync"]) == 0
    assert "đọc 2 xã" in capsys.readouterr().out
    assert main(["status", "--config", config]) == 0
    assert "29110" in capsys.readouterr().out
    assert main(["-q", "--config", config, "sync", "--full"]) == 0
    assert capsys.readouterr().out == ""
    assert main(["sync", "--full", "--config", config, "--quiet"]) == 0
    assert capsys.readouterr().out == ""
    assert main(["--verbose", "status", "--config", config]) == 0
    assert logging.getLogger().level == logging.INFO
    assert main(["status", "-v", "--config", config]) == 0
    assert logging.getLogger().level == logging.INFO


def test_log_lines_show_vietnam_time(capsys):
    setup_logging(verbose=True, quiet=False)
    handler = logging.getLogger().handlers[0]
    record = logging.LogRecord("namcoso", logging.INFO, __file__, 1, "xong", None, None)
    record.created = datetime(2026, 12, 1, 17, 30, 5, tzinfo=UTC).timestamp()
    assert handler.format(record).startswith("02/12/2026 00:30:05 INFO namcoso: xong")


def test_missing_config_is_one_line_and_non_zero(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert main(["sync"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "namcoso.toml" in err[0]


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        ("[project\nbackend=", "TOML"),
        ('[project]\nbackend = "excel"\n', "backend"),
        ("[rules]\nattendance_threshold = 5\n", "ngưỡng"),
        ('[rules]\nreport_deadline_day = "năm"\n', "report_deadline_day"),
        ("[rules]\nunknown_rule = 1\n", "unknown_rule"),
        ('[schedule]\nat = ["6h30"]\n', "HH:MM"),
    ],
)
def test_bad_config_is_one_clear_line(tmp_path, capsys, text, needle):
    config = tmp_path / "namcoso.toml"
    config.write_text(text, encoding="utf-8")
    assert main(["sync", "--config", str(config)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and needle in err[0] and "Traceback" not in err[0]


def test_sync_then_status(small_project, capsys):
    config = str(small_project.root / "namcoso.toml")
    assert main(["sync", "--config", config]) == 0
    out = capsys.readouterr().out
    assert "đọc 2 xã" in out
    assert main(["status", "--config", config]) == 0
    out = capsys.readouterr().out
    assert "29110" in out and "bình thường" in out


def test_validate_exits_1_on_errors_and_0_when_clean(small_project, tmp_path, capsys):
    config = str(small_project.root / "namcoso.toml")
    clean = small_project.communes_dir / "29110.xlsx"
    assert main(["validate", str(clean), "--config", config]) == 0
    assert "hợp lệ" in capsys.readouterr().out
    grids = commune_grids(["Khu phố 1"])
    grids[commune_layout()["meetings"].title].append(["Ấp Không Có", "03/2018", "", 20, 0])
    bad = tmp_path / "tu-zalo.xlsx"
    write_workbook(bad, grids)
    assert main(["validate", str(bad), "--commune", "29110", "--config", config]) == 1
    out = capsys.readouterr().out
    assert "[Lỗi] Sinh hoạt chi bộ!A14" in out and "Ấp Không Có" in out


def test_validate_a_corrupt_file_is_one_line(small_project, tmp_path, capsys):
    bad = tmp_path / "hong.xlsx"
    bad.write_bytes(b"not a workbook")
    config = str(small_project.root / "namcoso.toml")
    # SPEC exit codes: 3, a commune file that could not be read (not a configuration error)
    assert main(["validate", str(bad), "--commune", "29110", "--config", config]) == 3
    err = capsys.readouterr().err
    assert "hong.xlsx" in err and "không phải bảng tính" in err and "Traceback" not in err


def test_status_says_when_a_sync_is_running(small_project, capsys):
    from sync.lock import run_lock

    config = str(small_project.root / "namcoso.toml")
    assert main(["sync", "--config", config]) == 0
    capsys.readouterr()
    with run_lock(small_project.lock_path):
        assert main(["status", "--config", config]) == 0
    assert "Đang có một lần đồng bộ chạy (pid" in capsys.readouterr().out


def test_accepting_a_commune_not_in_the_registry_is_an_error(small_project, capsys):
    config = str(small_project.root / "namcoso.toml")
    before = small_project.master.read_bytes()
    assert main(["sync", "--config", config, "--accept", "99999"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "99999" in err[0] and "Danh mục xã" in err[0]
    assert small_project.master.read_bytes() == before
    assert main(["sync", "--config", config, "--accept", "29110", "--accept", "29113"]) == 0


@pytest.fixture
def server_in_utc(monkeypatch):
    """A server whose own clock is UTC, as most are."""
    monkeypatch.setenv("TZ", "UTC")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


def test_the_lock_message_shows_vietnam_time(small_project, server_in_utc, capsys):
    config = str(small_project.root / "namcoso.toml")
    with run_lock(small_project.lock_path):
        assert main(["sync", "--config", config]) == 75
    err = capsys.readouterr().err
    since = re.search(r"từ (\d\d/\d\d/\d{4} \d\d:\d\d:\d\d)", err)[1]
    shown = datetime.strptime(since, "%d/%m/%Y %H:%M:%S").replace(tzinfo=VIETNAM)
    assert abs((vietnam_now() - shown).total_seconds()) < 120


def test_doctor_on_a_local_project_checks_its_files(small_project, capsys):
    config = str(small_project.root / "namcoso.toml")
    assert main(["doctor", "--config", config]) == 0
    out = capsys.readouterr().out
    assert "[OK] Bảng tổng hợp (master): Đọc được master.xlsx: 2 xã, 3 ấp, 4 cán bộ" in out
    assert "[OK] Thị trấn Ba Tri (29110): 29110.xlsx đọc và ghi được" in out
    assert "[OK] Kho trạng thái" in out
    assert "Google" not in out and "[LỖI]" not in out


def test_doctor_names_a_missing_or_broken_commune_file(small_project, capsys):
    config = str(small_project.root / "namcoso.toml")
    (small_project.communes_dir / "29110.xlsx").unlink()
    (small_project.communes_dir / "29113.xlsx").write_bytes(b"PK\x03\x04 cut short")
    assert main(["doctor", "--config", config]) == 3
    out = capsys.readouterr().out
    assert "[LỖI] Thị trấn Ba Tri (29110): Không có tệp 29110.xlsx" in out
    assert "namcoso provision" in out
    assert "[LỖI] Xã Tân Mỹ (29113): Không đọc được 29113.xlsx" in out


def test_doctor_says_the_master_is_open_or_missing(small_project, capsys):
    config = str(small_project.root / "namcoso.toml")
    lock = small_project.master.with_name("~$master.xlsx")
    lock.write_bytes(b"")
    assert main(["doctor", "--config", config]) == 5
    assert "[LỖI] Master đang mở: master.xlsx đang mở trong Excel" in capsys.readouterr().out
    lock.unlink()
    small_project.master.unlink()
    assert main(["doctor", "--config", config]) == 4
    out = capsys.readouterr().out
    assert "[LỖI] Bảng tổng hợp (master): Không tìm thấy tệp master" in out
    assert "namcoso init" in out and "Google" not in out


def test_months_are_date_cells_shown_mm_yyyy_in_every_tab(small_project):
    """SPEC: a month is a date cell holding the month's first day, shown 03/2018."""
    import openpyxl

    from sync.pipeline import run_sync

    run_sync(small_project, now=datetime(2018, 12, 20, 9, 0))
    wb = openpyxl.load_workbook(small_project.master)
    seen = set()
    for ws in wb:
        header = [c.value for c in ws[1]]
        for col, title in enumerate(header, start=1):
            if title != "Tháng":
                continue
            cells = [ws.cell(row=r, column=col) for r in range(2, ws.max_row + 1)]
            cells = [c for c in cells if c.value is not None]
            assert cells, ws.title
            for c in cells:
                assert isinstance(c.value, datetime) and c.value.day == 1, (ws.title, c.value)
                assert c.number_format == "mm/yyyy", (ws.title, c.coordinate)
            seen.add(ws.title)
    assert {"TH Sinh hoạt", "Tiến độ báo cáo", "Biểu đồ"} <= seen


def test_a_province_master_says_toan_tinh_in_its_total_rows(small_project, tmp_path):
    import openpyxl

    from sync.config import load_config
    from sync.pipeline import run_sync

    path = small_project.root / "namcoso.toml"
    path.write_text(
        path.read_text(encoding="utf-8").replace("[project]\n", '[project]\nscope = "tỉnh"\n'),
        encoding="utf-8",
    )
    config = load_config(path)
    assert config.total_label == "Toàn tỉnh"
    run_sync(config, now=datetime(2018, 12, 20, 9, 0))
    wb = openpyxl.load_workbook(config.master, read_only=True)
    names = {
        title: [r[1] for r in wb[title].iter_rows(min_row=2, values_only=True) if not r[0]]
        for title in ("Thống kê xếp loại", "Thống kê hỗ trợ")
    }
    assert names["Thống kê xếp loại"] == ["Toàn tỉnh"]
    assert names["Thống kê hỗ trợ"] and set(names["Thống kê hỗ trợ"]) == {"Toàn tỉnh"}
    assert "Toàn huyện" not in str(names)


def test_the_province_demo_and_init_write_their_scope(tmp_path):
    from sync.config import load_config
    from sync.demo.generate import CONFIG_TEXT, YEAR
    from sync.init import init_project

    province = tmp_path / "namcoso.toml"
    province.write_text(
        CONFIG_TEXT.format(name="Tỉnh ủy Bến Tre", scope="tỉnh", year=YEAR), encoding="utf-8"
    )
    assert load_config(province).total_label == "Toàn tỉnh"
    town = load_config(init_project(tmp_path / "muong-lay", "95").config)
    assert town.total_label == "Toàn thị xã" and town.name == "Thị ủy Mường Lay"
