"""The command line: help everywhere, one clear line for bad configuration, exit codes."""

from __future__ import annotations

import pytest
from conftest import commune_grids

from sync.backends.local import write_workbook
from sync.cli import build_parser, main
from sync.layout import commune_layout

COMMANDS = ["demo", "sync", "run", "validate", "provision", "status", "doctor"]


def test_every_command_has_help_text():
    parser = build_parser()
    sub = next(a for a in parser._actions if a.dest == "command")
    assert sorted(sub.choices) == sorted(COMMANDS)
    for name, p in sub.choices.items():
        assert p.description, name


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
