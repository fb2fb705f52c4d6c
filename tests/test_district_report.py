"""``namcoso report``: the .docx drafted from the demo's master, read back with python-docx."""

from __future__ import annotations

import shutil
from collections import Counter
from pathlib import Path

import docx
import pytest
from docx.shared import Mm

from sync.backends.local import read_workbook
from sync.cli import main
from sync.district_report.context import change, millions, number, percent
from sync.layout import master_layout

M = master_layout()


def _text(document) -> str:
    parts = [p.text for p in document.paragraphs]
    for table in document.tables:
        for row in table.rows:
            parts += [cell.text for cell in row.cells]
    return "\n".join(parts)


def _table_with(document, header: str):
    return next(t for t in document.tables if header in [c.text for c in t.rows[0].cells])


@pytest.fixture(scope="module")
def master(demo_project) -> dict[str, list[list]]:
    return read_workbook(demo_project / "master.xlsx")


def _report(root: Path, out: Path, *args: str) -> docx.Document:
    code = main(["report", "--config", str(root / "namcoso.toml"), "--out", str(out), *args])
    assert code == 0
    return docx.Document(str(out))


@pytest.fixture(scope="module")
def report_2018(demo_project, tmp_path_factory):
    out = tmp_path_factory.mktemp("report") / "bao-cao-2018.docx"
    return _report(demo_project, out, "--year", "2018")


# -- numbers written the Vietnamese way ------------------------------------------------------
@pytest.mark.parametrize(
    ("value", "text"), [(0, "0"), (999, "999"), (1000, "1.000"), (2299000000, "2.299.000.000")]
)
def test_numbers_use_dots_for_thousands(value, text):
    assert number(value) == text


@pytest.mark.parametrize(
    ("value", "text"), [(0.2636, "26,4%"), (1.0, "100%"), (0.5, "50%"), (None, "–")]
)
def test_percentages_use_a_decimal_comma(value, text):
    assert percent(value) == text


def test_millions_and_changes_read_as_an_official_writes_them():
    assert millions(249_500_000) == "249,5"
    assert millions(2_299_000_000) == "2.299"
    assert change(34, 4) == "tăng 30 (từ 4 lên 34)"
    assert change(2, 6) == "giảm 4 (từ 6 xuống 2)"
    assert change(0, 0) == "không đổi (0)"


# -- the document ----------------------------------------------------------------------------
def test_page_is_a4_with_the_margins_of_hd36(report_2018):
    first = report_2018.sections[0]
    assert (round(first.page_width.mm), round(first.page_height.mm)) == (210, 297)
    assert 20 <= round(first.top_margin.mm) <= 25 and 20 <= round(first.bottom_margin.mm) <= 25
    assert 30 <= round(first.left_margin.mm) <= 35 and 15 <= round(first.right_margin.mm) <= 20
    body = report_2018.styles["Normal"].font
    assert body.name == "Times New Roman" and 13 <= body.size.pt <= 14


def test_header_block_names_the_party_committees_and_the_place(report_2018):
    left, right = (c.text.splitlines() for c in report_2018.tables[0].rows[0].cells)
    assert left[:3] == ["ĐẢNG BỘ TỈNH BẾN TRE", "HUYỆN ỦY BA TRI", "*"]
    assert left[3].startswith("Số") and left[3].endswith("-BC/HU")
    assert right[0] == "ĐẢNG CỘNG SẢN VIỆT NAM"
    assert right[-1].startswith("Ba Tri, ngày ")
    party = report_2018.tables[0].rows[0].cells[1].paragraphs[0].runs[0]
    assert party.bold and party.underline
    issuer = report_2018.tables[0].rows[0].cells[0].paragraphs[1].runs[0]
    assert issuer.bold
    titles = [p for p in report_2018.paragraphs if p.text == "BÁO CÁO"]
    assert titles and titles[0].runs[0].bold
    text = _text(report_2018)
    assert "T/M BAN THƯỜNG VỤ" in text and "Nơi nhận:" in text


def test_ratings_read_as_the_seed_sentence(report_2018):
    text = _text(report_2018)
    assert (
        "toàn huyện có 34/129 chi bộ ấp, khu phố hoàn thành xuất sắc nhiệm vụ, 91 hoàn thành "
        "tốt nhiệm vụ, hoàn thành nhiệm vụ 4, không có chi bộ không hoàn thành nhiệm vụ"
    ) in text
    assert "hoàn thành xuất sắc nhiệm vụ đạt 26,4%" in text


def test_every_cadre_under_the_threshold_is_named_with_their_hamlet(report_2018, master):
    tab = master[M["cadre_stats"].title]
    header = tab[0]
    name, unit, rate = (header.index(h) for h in ("Họ và tên", "Đơn vị phụ trách", "Tỷ lệ dự (%)"))
    flagged = [
        (r[name], r[unit]) for r in tab[1:] if r[name] and r[rate] is not None and r[rate] < 0.5
    ]
    assert flagged, "the demo plants cadres who rarely attend"
    table = _table_with(report_2018, "Họ và tên")
    named = {(row.cells[1].text, row.cells[2].text) for row in table.rows[1:]}
    for cadre, hamlet in flagged:
        assert (cadre, hamlet.split(" ", 1)[1]) in named
    assert len(table.rows) - 1 == len(flagged)


def test_late_and_missing_reports_equal_the_progress_tab(report_2018, master):
    tab = master[M["progress"].title]
    header = tab[0]
    name, month, status = (header.index(h) for h in ("Tên xã", "Tháng", "Trạng thái"))
    late, missing = Counter(), Counter()
    for row in tab[1:]:
        if str(row[month]).startswith("2018") or "/2018" in str(row[month]):
            late[row[name]] += row[status] == "Trễ hạn"
            missing[row[name]] += row[status] in ("Thiếu", "Chưa nộp")
    table = _table_with(report_2018, "Số tháng trễ hạn")
    shown = {
        r.cells[1].text: (int(r.cells[2].text), int(r.cells[3].text)) for r in table.rows[1:-1]
    }
    expected = {c: (late[c], missing[c]) for c in late if late[c] or missing[c]}
    assert shown == expected
    total = table.rows[-1].cells
    assert (int(total[2].text), int(total[3].text)) == (sum(late.values()), sum(missing.values()))


def test_appendix_has_one_row_per_commune(report_2018, master):
    communes = [r[1] for r in master[M["communes"].title][1:] if r[0]]
    table = _table_with(report_2018, "Xã, thị trấn")
    appendix = report_2018.tables[-1]
    rows = [r.cells[1].text for r in appendix.rows[1:-1]]
    assert rows == communes and len(rows) == 24
    assert appendix.rows[-1].cells[1].text == "Cộng"
    assert table is not None
    last = report_2018.sections[-1]
    assert last.page_width > last.page_height  # the appendix is landscape


def test_report_carries_three_charts(report_2018):
    assert len(report_2018.inline_shapes) >= 3
    for shape in report_2018.inline_shapes:
        assert shape.width <= Mm(165)


def test_review_has_a_column_per_year(demo_project, master, tmp_path):
    years = sorted({r[2] for r in master[M["rating_stats"].title][1:] if r[2]})
    first = str(years[0])
    document = _report(demo_project, tmp_path / "so-ket.docx", "--year", "2018", "--from", first)
    table = _table_with(document, "Chỉ tiêu")
    header = [c.text for c in table.rows[0].cells]
    assert header == ["Chỉ tiêu", *map(str, range(years[0], 2019)), "Xu hướng"]
    excellent = next(r for r in table.rows if r.cells[0].text.startswith("Hoàn thành xuất sắc"))
    assert excellent.cells[-2].text == "34"
    assert f"KẾT QUẢ QUA CÁC NĂM {first} - 2018" in _text(document)


def test_commune_report_is_headed_by_its_party_committee(demo_project, tmp_path):
    document = _report(demo_project, tmp_path / "xa.docx", "--year", "2018", "--commune", "29113")
    left = document.tables[0].rows[0].cells[0].text.splitlines()
    assert left[:2] == ["ĐẢNG BỘ HUYỆN BA TRI", "ĐẢNG ỦY XÃ TÂN MỸ"]
    appendix = document.tables[-1]
    assert appendix.rows[0].cells[1].text == "Chi bộ ấp, khu phố"
    assert len(appendix.rows) - 2 == 6  # Tân Mỹ's six hamlet cells
    assert "toàn xã có 1/6 chi bộ ấp, khu phố hoàn thành xuất sắc nhiệm vụ" in _text(document)


def test_a_year_without_data_is_one_line_and_exit_2(demo_project, tmp_path, capsys):
    out = tmp_path / "none.docx"
    code = main(
        [
            "report",
            "--config",
            str(demo_project / "namcoso.toml"),
            "--year",
            "2030",
            "--out",
            str(out),
        ]
    )
    err = capsys.readouterr().err
    assert code == 2
    assert len(err.strip().splitlines()) == 1 and "2030" in err
    assert not out.exists()


def test_an_unknown_commune_is_exit_2(demo_project, tmp_path, capsys):
    code = main(
        [
            "report",
            "--config",
            str(demo_project / "namcoso.toml"),
            "--commune",
            "99999",
            "--out",
            str(tmp_path / "x.docx"),
        ]
    )
    assert code == 2 and "99999" in capsys.readouterr().err


def test_a_master_never_synced_has_no_data(demo_project, tmp_path, capsys):
    project = tmp_path / "fresh"
    project.mkdir()
    shutil.copy(demo_project / "namcoso.toml", project)
    registry = {
        t: g
        for t, g in read_workbook(demo_project / "master.xlsx").items()
        if t in {tab.title for tab in M.by_role("registry")}
    }
    from sync.backends.local import write_workbook

    write_workbook(project / "master.xlsx", registry)
    code = main(
        ["report", "--config", str(project / "namcoso.toml"), "--out", str(tmp_path / "x.docx")]
    )
    assert code == 2 and "chưa có số liệu" in capsys.readouterr().err


def test_an_edited_template_changes_the_wording(demo_project, tmp_path):
    project = tmp_path / "p"
    shutil.copytree(demo_project, project, ignore=shutil.ignore_patterns("*.docx", ".namcoso"))
    template = docx.Document(str(Path(__file__).parent.parent / "templates" / "report.docx"))
    heading = next(p for p in template.paragraphs if p.text == "I. KẾT QUẢ THỰC HIỆN")
    heading.runs[0].text = "I. KẾT QUẢ ĐẠT ĐƯỢC ({{ year }})"
    template.save(str(project / "mau.docx"))
    with (project / "namcoso.toml").open("a", encoding="utf-8") as f:
        f.write('\n[report]\ntemplate = "mau.docx"\nsigner = "Nguyễn Văn A"\n')
    document = _report(project, tmp_path / "r.docx", "--year", "2018")
    text = _text(document)
    assert "I. KẾT QUẢ ĐẠT ĐƯỢC (2018)" in text and "Nguyễn Văn A" in text


@pytest.mark.slow
def test_demo_history_gives_a_three_year_review(tmp_path):
    """``namcoso demo --history`` (about four times the plain demo) syncs 2016 and 2017
    month by month first: the review then has a column per year, 2018 is still exact, and
    2016 has fewer "xuất sắc" than 2018."""
    root = tmp_path / "ba-tri"
    assert main(["demo", "--dir", str(root), "--history"]) == 0
    document = _report(root, tmp_path / "so-ket.docx", "--year", "2018", "--from", "2016")
    table = _table_with(document, "Chỉ tiêu")
    assert [c.text for c in table.rows[0].cells] == ["Chỉ tiêu", "2016", "2017", "2018", "Xu hướng"]
    excellent = next(r for r in table.rows if r.cells[0].text.startswith("Hoàn thành xuất sắc"))
    values = [int(c.text) for c in excellent.cells[1:4]]
    assert values[2] == 34 and values[0] < values[2]
    late = next(r for r in table.rows if r.cells[0].text.startswith("Lượt báo cáo tháng trễ"))
    assert all(int(c.text) < 60 for c in late.cells[1:4])  # history was synced monthly
    assert "toàn huyện có 34/129 chi bộ ấp, khu phố hoàn thành xuất sắc nhiệm vụ" in _text(document)
