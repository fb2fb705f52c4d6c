"""``namcoso.toml``: a typo is named with the key meant, a BOM is fine, period_start required."""

from __future__ import annotations

import pytest

from sync.cli import main
from sync.config import load_config
from sync.errors import ConfigError

RULES = '[rules]\nperiod_start = "2018-01"\n'


def _write(tmp_path, text: str, raw: bytes = b""):
    path = tmp_path / "namcoso.toml"
    path.write_bytes(raw + text.encode("utf-8"))
    return path


@pytest.mark.parametrize(
    ("text", "named", "meant"),
    [
        (
            '[local]\ncomunes_dir = "xa"\n' + RULES,
            '[local] không có khóa "comunes_dir"',
            "communes_dir",
        ),
        ('[project]\nbackned = "local"\n' + RULES, '"backned"', "backend"),
        ("[rules]\nperiod_star = 1\n", '[rules] không có khóa "period_star"', "period_start"),
        ("[rules]\nattendance_treshold = 0.8\n", '"attendance_treshold"', "attendance_threshold"),
        ('[google]\ncredential = "k.json"\n' + RULES, '"credential"', "credentials"),
        ("[schedule]\nevery_minute = 5\n" + RULES, '"every_minute"', "every_minutes"),
        ('[projet]\nname = "x"\n' + RULES, 'không có khóa "projet"', "project"),
    ],
)
def test_unknown_key_names_the_closest_known_key(tmp_path, capsys, text, named, meant):
    config = _write(tmp_path, text)
    assert main(["sync", "--config", str(config)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1
    assert named in err[0] and f'có phải "{meant}"?' in err[0]


def test_unknown_key_with_nothing_close_lists_the_known_keys(tmp_path):
    with pytest.raises(ConfigError, match="các khóa hợp lệ: communes_dir, master"):
        load_config(_write(tmp_path, "[local]\nzzz = 1\n" + RULES))


def test_a_utf8_bom_is_accepted(tmp_path):
    config = load_config(
        _write(tmp_path, '[project]\nname = "Huyện ủy Ba Tri"\n' + RULES, b"\xef\xbb\xbf")
    )
    assert config.name == "Huyện ủy Ba Tri"


def test_a_file_not_in_utf8_is_one_clear_line(tmp_path, capsys):
    path = tmp_path / "namcoso.toml"
    # Notepad's "Unicode" choice saves UTF-16.
    path.write_bytes(('[project]\nname = "Huyện ủy"\n' + RULES).encode("utf-16"))
    assert main(["status", "--config", str(path)]) == 2
    assert "UTF-8" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        ('[project]\nname = "x"\n', "thiếu [rules] period_start"),
        ('[rules]\nperiod_start = "01/2018"\n', '"YYYY-MM"'),
        ('[rules]\nperiod_start = "2018-13"\n', '"YYYY-MM"'),
        ("[rules]\nperiod_start = 2018\n", "period_start"),
        ("[local]\nmaster = 5\n" + RULES, "[local] master phải là chuỗi"),
        ('[project]\nscope = "xã"\n' + RULES, "scope phải là một trong huyện, quận"),
    ],
)
def test_period_start_is_required_and_values_are_checked(tmp_path, capsys, text, needle):
    config = _write(tmp_path, text)
    assert main(["status", "--config", str(config)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and needle in err[0] and "Traceback" not in err[0]


def test_init_and_demo_configs_load(tmp_path):
    from sync.demo.generate import CONFIG_TEXT, YEAR
    from sync.init import init_project

    assert load_config(init_project(tmp_path / "new").config).rules.period_start
    demo = _write(tmp_path, CONFIG_TEXT.format(name="Huyện ủy Ba Tri", scope="huyện", year=YEAR))
    assert load_config(demo).rules.period_start == f"{YEAR - 1}-01"  # its 2017 ratings
