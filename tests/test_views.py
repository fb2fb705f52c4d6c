"""The master's look: flags, filters, number formats and charts, local and on Google."""

from __future__ import annotations

import json
import re
import zipfile
from dataclasses import replace
from datetime import date, datetime
from pathlib import Path
from typing import Any

import googleapiclient
import openpyxl
import pytest
from conftest import NOW, commune_grids

from sync.backends.google_views import (
    FORMAT_VERSION,
    google_format_requests,
    google_unformat_requests,
)
from sync.backends.local import LocalBackend, read_workbook, replace_tabs, write_workbook
from sync.backends.local_views import master_decorator
from sync.charts import chart_tab, charts_layout
from sync.config import Config, Rules
from sync.flags import flags
from sync.layout import master_layout
from sync.pipeline import run_sync

DISCOVERY = Path(googleapiclient.__file__).parent / "discovery_cache" / "documents"
RULES = Rules(attendance_threshold=0.9, cadre_attendance_threshold=0.6)


def sync(config: Config, rules: Rules = RULES):
    registry = [t.title for t in master_layout().by_role("registry")]
    backend = LocalBackend(
        config.master, config.communes_dir, registry, decorate=master_decorator(rules)
    )
    return run_sync(replace(config, rules=rules), backend=backend, now=NOW)


def title(key: str) -> str:
    return master_layout()[key].title


def rules_of(ws) -> list[tuple[str, str, str]]:
    """(range, formula, fill colour) of every conditional format of a sheet."""
    out = []
    for cf, rules in ws.conditional_formatting._cf_rules.items():
        for rule in rules:
            out.append((str(cf.sqref), rule.formula[0], rule.dxf.fill.fgColor.rgb[-6:]))
    return out


def charts_in(path: Path) -> dict[str, str]:
    """Chart XML by part name, from the saved .xlsx."""
    with zipfile.ZipFile(path) as z:
        return {
            n: z.read(n).decode() for n in z.namelist() if re.match(r"xl/charts/chart\d+\.xml", n)
        }


# -- local ------------------------------------------------------------------------------


def test_attendance_flags_use_the_configured_thresholds(small_project):
    sync(small_project)
    wb = openpyxl.load_workbook(small_project.master)
    meetings = rules_of(wb[title("meetings")])
    assert ("I2:I37", "AND(ISNUMBER(I2),I2<0.9)", "FFC7CE") in meetings
    stats = rules_of(wb[title("meeting_stats")])
    assert ("H2:H4", "AND(ISNUMBER(H2),H2<0.9)", "FFC7CE") in stats
    assert ("K2:K4", "LEN(TRIM(K2))>0", "FFEB9C") in stats
    cadres = rules_of(wb[title("cadre_stats")])
    assert ("G2:G5", "AND(ISNUMBER(G2),G2<0.6)", "FFC7CE") in cadres
    assert ("H2:H5", "LEN(TRIM(H2))>0", "FFEB9C") in cadres
    assert ("I2:I4", "LEN(TRIM(I2))>0", "FFEB9C") in rules_of(wb[title("household_stats")])


def test_report_statuses_and_finding_severities_colour_whole_rows(small_project):
    sync(small_project)
    wb = openpyxl.load_workbook(small_project.master)
    progress = rules_of(wb[title("progress")])
    by_status = {f: fill for rng, f, fill in progress if rng == "A2:I25"}
    assert set(by_status) == {
        f'$I2="{s}"' for s in ("Trễ hạn", "Thiếu", "Chưa nộp", "Lỗi truy cập", "Dữ liệu cũ")
    }
    assert len(set(by_status.values())) == 5  # distinct fills
    findings = rules_of(wb[title("findings")])
    assert ("A2:H2", '$C2="Lỗi"', "FFC7CE") in findings
    assert ("A2:H2", '$C2="Cảnh báo"', "FFEB9C") in findings


def test_every_output_tab_has_a_filter_a_frozen_header_and_number_formats(small_project):
    sync(small_project)
    wb = openpyxl.load_workbook(small_project.master)
    for tab in master_layout().by_role("output"):
        ws = wb[tab.title]
        assert ws.freeze_panes == "A2", tab.title
        if tab.title == charts_layout().title:
            continue
        assert ws.auto_filter.ref and ws.auto_filter.ref.startswith("A1:"), tab.title
    meetings = wb[title("meetings")]
    assert meetings["F2"].number_format == "dd/mm/yyyy"
    assert meetings["I2"].number_format == "0.0%"
    assert meetings["G2"].number_format == "0"
    assert wb[title("support")]["H2"].number_format == "#,##0"
    assert wb[title("support_stats")]["F2"].number_format == "#,##0"


def test_district_owned_tabs_keep_their_values(small_project):
    before = read_workbook(small_project.master)
    sync(small_project)
    after = read_workbook(small_project.master)
    for tab in master_layout().by_role("registry"):
        assert after[tab.title] == before[tab.title]


def test_three_charts_plot_the_chart_tab(small_project):
    sync(small_project)
    charts = charts_in(small_project.master)
    assert len(charts) == 3
    kinds = sorted(
        ("lineChart" if "<lineChart>" in x else re.search(r'<barDir val="(\w+)"', x)[1])
        for x in charts.values()
    )
    assert kinds == ["bar", "col", "lineChart"]
    refs = " ".join(re.findall(r"<f>([^<]+)</f>", " ".join(charts.values())))
    sheet = "'Biểu đồ'"
    assert f"{sheet}!$A$2:$A$3" in refs  # two communes, not the district row
    assert f"{sheet}!$C$2:$C$3" in refs and f"{sheet}!$F$2:$F$3" in refs
    assert f"{sheet}!$H$2:$H$13" in refs and f"{sheet}!$I$2:$I$13" in refs  # 12 months
    assert f"{sheet}!$L$2:$L$3" in refs and f"{sheet}!$M$2:$M$3" in refs
    wb = openpyxl.load_workbook(small_project.master)
    registry = [t.title for t in master_layout().by_role("registry")]
    assert wb.sheetnames[len(registry)] == "Biểu đồ"
    ws = wb["Biểu đồ"]
    assert [c.value for c in ws[2]][:6] == ["Thị trấn Ba Tri", 2018, 0, 2, 0, 0]
    assert ws["I2"].value == pytest.approx(0.9) and ws["J2"].value == pytest.approx(0.9)


def test_a_partial_write_keeps_flags_and_rebuilds_the_charts(small_project):
    sync(small_project)
    months = commune_grids(["Ấp Tân Hòa"], months=range(1, 12))
    write_workbook(small_project.communes_dir / "29113.xlsx", months)
    result = sync(small_project)
    assert title("findings") not in result.master_tabs_written  # left as saved
    assert title("meetings") in result.master_tabs_written
    wb = openpyxl.load_workbook(small_project.master)
    assert len(rules_of(wb[title("findings")])) == 2  # kept once, not piled up
    assert len(rules_of(wb[title("meetings")])) == 1
    assert len(charts_in(small_project.master)) == 3
    assert wb["Biểu đồ"]["H13"].value == datetime(2018, 12, 1)
    assert wb["Biểu đồ"]["H13"].number_format == "mm/yyyy"


def test_a_chart_tab_written_with_the_others_gets_its_charts_in_place(small_project):
    sync(small_project)
    wb = openpyxl.load_workbook(small_project.master)
    grids = {ws.title: [list(r) for r in ws.iter_rows(values_only=True)] for ws in wb}
    tab = chart_tab(grids, RULES)
    wb.remove(wb["Biểu đồ"])
    replace_tabs(wb, [tab])  # appended last, as the pipeline's write would
    master_decorator(RULES)(wb, [tab])
    registry = [t.title for t in master_layout().by_role("registry")]
    assert wb.sheetnames.index("Biểu đồ") == len(registry)
    assert len(wb["Biểu đồ"]._charts) == 3
    assert [c.value for c in wb["Biểu đồ"][2]][:2] == ["Thị trấn Ba Tri", 2018]


def test_chart_tab_takes_the_latest_year_without_the_district_row():
    stats = master_layout()["rating_stats"]
    grid = [
        [c.header for c in stats.columns],
        ["29110", "Thị trấn Ba Tri", 2017, 1, 1, 0, 0, 0, 2, 0.5],
        ["29110", "Thị trấn Ba Tri", 2018, 2, 0, 0, 0, 0, 2, 1.0],
        ["29113", "Xã Tân Mỹ", 2017, 0, 1, 0, 0, 0, 1, 0.0],
        ["29113", "Xã Tân Mỹ", 2018, 0, 0, 1, 0, 0, 1, 0.0],
        [None, "Toàn huyện", 2018, 2, 0, 1, 0, 0, 3, 0.67],
    ]
    tab = chart_tab({stats.title: grid}, Rules())
    assert tab.title == "Biểu đồ"
    assert [r[:6] for r in tab.rows] == [
        ["Thị trấn Ba Tri", 2018, 2, 0, 0, 0],
        ["Xã Tân Mỹ", 2018, 0, 0, 1, 0],
    ]


def test_chart_tab_attendance_by_month_and_completeness_of_due_months():
    meetings, progress = master_layout()["meetings"], master_layout()["progress"]
    m_head = [c.header for c in meetings.columns]
    att = m_head.index("Tỷ lệ dự (%)")

    def meeting(month: str, share: float | None) -> list[Any]:
        row: list[Any] = [None] * len(m_head)
        row[m_head.index("Tháng")], row[att] = month, share
        return row

    p = [c.header for c in progress.columns]
    grids = {
        meetings.title: [
            m_head,
            meeting("2018-02", 0.8),
            meeting("2018-01", 0.9),
            meeting("2018-01", 0.7),
            meeting("2018-02", None),
        ],
        progress.title: [
            p,
            ["29110", "Thị trấn Ba Tri", "2018-01", 2, 2, 1.0, "Có", "", "Đủ"],
            ["29110", "Thị trấn Ba Tri", "2018-02", 2, 1, 0.5, "Không", "", "Thiếu"],
            ["29110", "Thị trấn Ba Tri", "2018-03", 2, 0, 0.0, "", "", "Chưa đến hạn"],
        ],
    }
    tab = chart_tab(grids, Rules(attendance_threshold=0.85))
    k = charts_layout().keys
    months = [
        (r[k.index("month")], r[k.index("avg_attendance")], r[k.index("threshold")])
        for r in tab.rows
    ]
    assert months == [
        (date(2018, 1, 1), pytest.approx(0.8), 0.85),
        (date(2018, 2, 1), pytest.approx(0.8), 0.85),
    ]
    first = tab.rows[0]
    assert first[k.index("progress_commune")] == "Thị trấn Ba Tri"
    assert first[k.index("completeness")] == pytest.approx(0.75)
    assert first[k.index("on_time")] == pytest.approx(0.5)


def test_flags_follow_the_rules():
    below = [f for f in flags(Rules(attendance_threshold=0.8)) if f.when == "below"]
    assert {(f.tab, f.value) for f in below} == {
        ("meetings", 0.8),
        ("meeting_stats", 0.8),
        ("cadre_stats", 0.5),
    }


# -- Google -----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def sheets_schemas() -> dict[str, Any]:
    return json.loads((DISCOVERY / "sheets.v4.json").read_text(encoding="utf-8"))["schemas"]


def check(value: Any, schema: dict[str, Any], schemas: dict[str, Any], path: str) -> None:
    """Fail unless ``value`` fits a discovery-document schema: every field known, every
    type and enum right."""
    if "$ref" in schema:
        schema = schemas[schema["$ref"]]
    kind = schema.get("type")
    if kind == "object":
        assert isinstance(value, dict), path
        props = schema.get("properties")
        for key, item in value.items():
            if props is not None:
                assert key in props, f"{path}.{key} is not a field"
                check(item, props[key], schemas, f"{path}.{key}")
            else:
                check(item, schema.get("additionalProperties", {}), schemas, f"{path}.{key}")
    elif kind == "array":
        assert isinstance(value, list), path
        for i, item in enumerate(value):
            check(item, schema["items"], schemas, f"{path}[{i}]")
    elif kind == "string":
        assert isinstance(value, str), path
        if "enum" in schema:
            assert value in schema["enum"], f"{path}: {value!r}"
    elif kind == "integer":
        assert isinstance(value, int) and not isinstance(value, bool), path
    elif kind == "number":
        assert isinstance(value, int | float) and not isinstance(value, bool), path
    elif kind == "boolean":
        assert isinstance(value, bool), path


def check_mask(mask: str, schema: dict[str, Any], schemas: dict[str, Any]) -> None:
    """Fail unless every dotted path of a simple ``fields`` mask exists in ``schema``."""
    for path in mask.split(","):
        current = schema
        for part in path.strip().split("."):
            if "$ref" in current:
                current = schemas[current["$ref"]]
            assert part in current.get("properties", {}), f"{mask}: {part}"
            current = current["properties"][part]


def check_batch(requests: list[dict[str, Any]], schemas: dict[str, Any]) -> None:
    check({"requests": requests}, {"$ref": "BatchUpdateSpreadsheetRequest"}, schemas, "body")
    targets = {
        "updateSheetProperties": "SheetProperties",
        "updateDimensionProperties": "DimensionProperties",
        "repeatCell": "CellData",
    }
    for request in requests:
        ((name, body),) = request.items()
        if name in targets:
            check_mask(body["fields"], {"$ref": targets[name]}, schemas)


def sheet_ids() -> dict[str, int]:
    titles = [t.title for t in master_layout().tabs.values()] + [charts_layout().title]
    return {t: 100 + i for i, t in enumerate(titles)}


def test_google_requests_fit_the_sheets_discovery_document(sheets_schemas):
    outputs = [t.title for t in master_layout().by_role("output")] + ["Biểu đồ"]
    requests = google_format_requests(sheet_ids(), outputs, RULES)
    check_batch(requests, sheets_schemas)
    kinds = {next(iter(r)) for r in requests}
    assert kinds == {
        "setBasicFilter",
        "addConditionalFormatRule",
        "addChart",
    }
    assert sum("addChart" in r for r in requests) == 3
    assert FORMAT_VERSION >= 1


def test_google_thresholds_are_locale_proof_formulas():
    ids = sheet_ids()
    requests = google_format_requests(ids, [title("meetings"), title("cadre_stats")], RULES)
    conditions = [
        r["addConditionalFormatRule"]["rule"]["booleanRule"]["condition"]
        for r in requests
        if "addConditionalFormatRule" in r
    ]
    values = [c["values"][0]["userEnteredValue"] for c in conditions if c["type"] == "NUMBER_LESS"]
    assert values == ["=9/10", "=3/5"]


def test_google_rows_coloured_by_status_use_open_ended_ranges():
    ids = sheet_ids()
    requests = google_format_requests(ids, [title("progress")], Rules())
    rules = [r["addConditionalFormatRule"] for r in requests if "addConditionalFormatRule" in r]
    assert [r["index"] for r in rules] == list(range(len(rules)))
    formulas = [
        r["rule"]["booleanRule"]["condition"]["values"][0]["userEnteredValue"]
        for r in rules
        if r["rule"]["booleanRule"]["condition"]["type"] == "CUSTOM_FORMULA"
    ]
    assert '=$I2="Chưa nộp"' in formulas and len(formulas) == 5
    for r in rules:
        (grid,) = r["rule"]["ranges"]
        assert grid["sheetId"] == ids[title("progress")] and "endRowIndex" not in grid


def test_google_charts_need_the_chart_tab_and_read_open_ended_ranges():
    ids = sheet_ids()
    assert not any("addChart" in r for r in google_format_requests(ids, [title("progress")], RULES))
    without = {t: i for t, i in ids.items() if t != "Biểu đồ"}
    assert google_format_requests(without, ["Biểu đồ"], RULES) == []
    charts = [
        r["addChart"]["chart"]
        for r in google_format_requests(ids, ["Biểu đồ"], RULES)
        if "addChart" in r
    ]
    assert [c["spec"]["basicChart"]["chartType"] for c in charts] == ["BAR", "LINE", "COLUMN"]
    for chart in charts:
        spec = chart["spec"]["basicChart"]
        assert chart["position"]["overlayPosition"]["anchorCell"]["sheetId"] == ids["Biểu đồ"]
        for data in [spec["domains"][0]["domain"], *(s["series"] for s in spec["series"])]:
            (source,) = data["sourceRange"]["sources"]
            assert source["sheetId"] == ids["Biểu đồ"] and "endRowIndex" not in source


def test_google_unformat_requests_fit_the_discovery_document(sheets_schemas):
    sheet = {
        "properties": {"sheetId": 7, "title": "Tiến độ báo cáo"},
        "conditionalFormats": [{}, {}],
        "charts": [{"chartId": 11}],
        "basicFilter": {"range": {"sheetId": 7}},
    }
    requests = google_unformat_requests(sheet)
    check_batch(requests, sheets_schemas)
    assert requests == [
        {"deleteConditionalFormatRule": {"sheetId": 7, "index": 0}},
        {"deleteConditionalFormatRule": {"sheetId": 7, "index": 0}},
        {"deleteEmbeddedObject": {"objectId": 11}},
        {"clearBasicFilter": {"sheetId": 7}},
    ]


def test_the_schema_checker_catches_unknown_fields(sheets_schemas):
    with pytest.raises(AssertionError):
        check_batch([{"setBasicFilter": {"filter": {"rnage": {"sheetId": 1}}}}], sheets_schemas)
    with pytest.raises(AssertionError):
        check_batch(
            [{"addChart": {"chart": {"spec": {"basicChart": {"chartType": "PIE"}}}}}],
            sheets_schemas,
        )
