"""Merge and summarize: pure DataFrame stages."""

from __future__ import annotations

from datetime import date

import pandas as pd
import pytest
from conftest import registry_grids

from sync.config import Rules
from sync.merge import master_tables
from sync.registry import load_registry
from sync.summarize import (
    CommuneState,
    cadre_stats,
    household_stats,
    meeting_stats,
    progress,
    rating_stats,
    support_stats,
)

RULES = Rules(period_start="2018-01")


@pytest.fixture(scope="module")
def registry():
    return load_registry(registry_grids())


def meetings(rows):
    """rows: (hamlet_code, month, date|None, members, present, cadre_attended, committee)."""
    frame = pd.DataFrame(
        rows,
        columns=[
            "hamlet_code",
            "month",
            "meeting_date",
            "members",
            "present",
            "cadre_attended",
            "committee_met",
        ],
        dtype=object,
    )
    frame["note"] = None
    frame["_row"] = range(2, len(frame) + 2)
    frame["source"] = ""
    return frame


def test_merge_takes_the_commune_from_the_source_and_names_from_the_registry(registry):
    tables = master_tables(
        {
            "29110": {
                "meetings": meetings(
                    [("29110-01", "2018-03", date(2018, 3, 5), 20, 17, True, True)]
                )
            }
        },
        registry,
    )
    row = tables["meetings"].iloc[0]
    assert (row["commune_code"], row["commune_name"], row["hamlet_name"]) == (
        "29110",
        "Thị trấn Ba Tri",
        "Khu phố 1",
    )
    assert row["attendance"] == pytest.approx(0.85)
    assert row["cadre_name"] == "Nguyễn Văn An"


def test_rating_stats_count_per_commune_and_district_with_unrated(registry):
    ratings = pd.DataFrame(
        {
            "commune_code": ["29110", "29110"],
            "hamlet_code": ["29110-01", "29110-02"],
            "year": [2018, 2018],
            "rating": ["HTXSNV", "HTTNV"],
        }
    )
    stats = rating_stats(ratings, registry).set_index("commune_name")
    district = stats.loc["Toàn huyện"]
    assert [district[k] for k in ("HTXSNV", "HTTNV", "HTNV", "KHTNV", "unrated", "cells")] == [
        1,
        1,
        0,
        0,
        1,
        3,
    ]
    assert stats.loc["Xã Tân Mỹ", "unrated"] == 1
    assert district["excellent_share"] == pytest.approx(0.5)


def test_meeting_stats_flag_low_attendance_missing_and_skipped_months(registry):
    m = meetings(
        [
            ("29110-01", "2018-01", date(2018, 1, 5), 20, 10, True, True),
            ("29110-01", "2018-02", None, 20, 0, False, False),
            ("29110-01", "2018-03", date(2018, 3, 5), 20, 20, True, False),
        ]
    ).assign(commune_code="29110")
    m["attendance"] = (m["present"] / m["members"]).where(m["meeting_date"].notna())
    months = ["2018-01", "2018-02", "2018-03", "2018-04"]
    stats = meeting_stats(m, registry, RULES, months).set_index("hamlet_code")
    row = stats.loc["29110-01"]
    assert (row["months_reported"], row["meetings"], row["months_below"]) == (3, 2, 1)
    assert row["avg_attendance"] == pytest.approx(0.75)
    assert row["committee_share"] == pytest.approx(0.5)
    assert row["warning"] == "Thiếu báo cáo 1 tháng; Không sinh hoạt 1 tháng; Dự dưới 85%: 1 tháng"
    assert stats.loc["29113-01", "warning"] == "Thiếu báo cáo 4 tháng"


def test_meeting_stats_rows_are_in_commune_hamlet_year_order_whatever_the_registry_order(
    registry,
):
    from sync.registry import Registry

    shuffled = Registry(
        registry.communes,
        registry.hamlets.iloc[::-1].reset_index(drop=True),
        registry.cadres,
        registry.assignments,
    )
    m = meetings(
        [
            ("29113-01", "2019-02", date(2019, 2, 5), 20, 18, True, True),
            ("29110-02", "2018-02", date(2018, 2, 5), 20, 18, True, True),
        ]
    ).assign(commune_code=["29113", "29110"])
    m["attendance"] = 0.9
    stats = meeting_stats(m, shuffled, RULES, ["2018-01"])
    keys = list(zip(stats["commune_code"], stats["hamlet_code"], stats["year"], strict=True))
    assert keys == sorted(keys)
    assert len(keys) == 2 * len(registry.hamlets)  # every hamlet, for 2018 and 2019


def test_cadre_stats_flag_low_attendance_and_coverage_gaps(registry):
    rows = [
        ("29110-01", f"2018-{m:02d}", date(2018, m, 5), 20, 18, m <= 2, True) for m in range(1, 6)
    ]
    m = meetings(rows)
    stats = cadre_stats(m, registry, RULES)
    h001 = stats[stats["cadre_code"] == "H001"].iloc[0]
    assert (h001["meetings"], h001["attended"]) == (5, 2)
    assert h001["warning"].startswith("Dự dưới 50%")
    t01 = stats[stats["cadre_code"] == "T01"].iloc[0]
    assert t01["unit"] == "29110 Thị trấn Ba Tri; 29113 Xã Tân Mỹ" and not t01["warning"]


def test_household_stats_count_unfollowed_households(registry):
    h = pd.DataFrame(
        {"hamlet_code": ["29110-01", "29110-01"], "cadre": ["A", "B"], "households": [100, 50]}
    )
    stats = household_stats(h, registry).set_index("hamlet_code")
    assert stats.loc["29110-01", "followed_households"] == 150
    assert stats.loc["29110-01", "warning"] == "150 hộ chưa có cán bộ xã phụ trách"
    assert stats.loc["29110-01", "cadres"] == 2


def test_support_stats_sum_per_field_with_district_total(registry):
    s = pd.DataFrame(
        {
            "commune_code": ["29110", "29113", "29110"],
            "date": [date(2018, 3, 1), date(2018, 4, 1), date(2018, 5, 1)],
            "field": ["An sinh xã hội"] * 3,
            "amount": [1_000_000, 2_000_000, 500_000],
        }
    )
    stats = support_stats(s, registry)
    district = stats[stats["commune_name"] == "Toàn huyện"].iloc[0]
    assert (district["count"], district["total"]) == (3, 3_500_000)


@pytest.mark.parametrize("merged", [False, True], ids=["plain", "merged"])
def test_progress_statuses(registry, merged):
    rows = [
        ("29110-01", "2018-01", date(2018, 1, 5), 20, 18, True, True),
        ("29110-02", "2018-01", date(2018, 1, 6), 20, 18, True, True),
        ("29110-01", "2018-02", date(2018, 2, 5), 20, 18, True, True),
        ("29110-02", "2018-02", date(2018, 2, 5), 20, 18, True, True),
        ("29110-01", "2018-03", date(2018, 3, 5), 20, 18, True, True),
    ]
    if merged:  # as a run gives it: keys categorical
        m = master_tables({"29110": {"meetings": meetings(rows)}}, registry)["meetings"]
        assert isinstance(m["hamlet_code"].dtype, pd.CategoricalDtype)
    else:
        m = meetings(rows).assign(commune_code="29110")
    seen = pd.DataFrame(
        [
            ("29110", "29110-01", "2018-01", "2018-02-03"),
            ("29110", "29110-02", "2018-01", "2018-02-04"),
            ("29110", "29110-01", "2018-02", "2018-03-04"),
            ("29110", "29110-02", "2018-02", "2018-03-09"),
            ("29110", "29110-01", "2018-03", "2018-04-01"),
            # Seen once, but no longer among the meetings: they change nothing.
            ("29110", "29110-02", "2018-04", "2018-04-02"),
            ("29113", "29113-01", "2018-01", "2018-02-01"),
        ],
        columns=["commune_code", "hamlet_code", "period", "seen"],
    )
    seen["seen"] = pd.to_datetime(seen["seen"])
    months = ["2018-01", "2018-02", "2018-03", "2018-04"]
    states = {"29110": CommuneState("ok"), "29113": CommuneState("unreadable")}
    p = progress(m, registry, RULES, months, seen, states, date(2018, 4, 20))
    ba_tri = p[p["commune_code"] == "29110"].set_index("month")["status"].to_dict()
    assert ba_tri == {
        "2018-01": "Đủ",
        "2018-02": "Trễ hạn",
        "2018-03": "Thiếu",
        "2018-04": "Chưa đến hạn",
    }
    assert set(p[p["commune_code"] == "29113"]["status"]) == {"Lỗi truy cập"}
    p2 = progress(m, registry, RULES, months, seen, {}, date(2018, 4, 20))
    assert p2[p2["commune_code"] == "29113"].set_index("month")["status"]["2018-01"] == "Chưa nộp"


def test_a_month_reported_early_does_not_hide_a_missing_month(registry):
    m = meetings([("29113-01", "2018-02", date(2018, 2, 3), 20, 18, True, True)]).assign(
        commune_code="29113"
    )
    m["attendance"] = 0.9
    stats = meeting_stats(m, registry, RULES, ["2018-01"]).set_index("hamlet_code")
    row = stats.loc["29113-01"]
    assert row["months_reported"] == 1
    assert row["warning"] == "Thiếu báo cáo 1 tháng"


def test_first_seen_times_in_any_offset_read_as_vietnam_wall_clock():
    from sync.pipeline import vietnam_time

    texts = pd.Series(
        ["2018-01-04T10:00:00+07:00", "2018-01-04T03:00:00+00:00", "2018-01-04T10:00:00"]
    )
    assert list(vietnam_time(texts)) == [pd.Timestamp("2018-01-04 10:00")] * 3
    assert vietnam_time(pd.Series([], dtype=object)).empty


def test_assignments_tab_lists_each_hamlets_cadres_then_the_provincial_ones():
    from sync.layout import master_layout
    from sync.render import assignments_tab

    grids = registry_grids()
    title = master_layout()["assignments"].title
    grids[title].append(["H003", "29110-02", None, None, ""])  # a second cadre for one hamlet
    grids[master_layout()["hamlets"].title].append(
        ["29110-03", "29110", "Ấp Mới", "Ấp", "Chi bộ ấp Mới", 90]
    )
    registry = load_registry(grids)
    rows = [r[:5] for r in assignments_tab("29110", registry).rows]
    assert rows == [
        ["29110-01", "Khu phố 1", "Huyện", "H001", "Nguyễn Văn An"],
        ["29110-02", "Ấp An Thạnh", "Huyện", "H002", "Trần Thị Bình"],
        ["29110-02", "Ấp An Thạnh", "Huyện", "H003", "Phạm Văn Cường"],
        ["29110-03", "Ấp Mới", "", "", "(chưa phân công)"],
        ["", "Thị trấn Ba Tri", "Tỉnh", "T01", "Lê Văn Tỉnh"],
    ]
    assert assignments_tab("29113", registry).rows[0][5:] == ["Chuyên viên", "0902000003"]
