"""Every value form of SPEC's vocabularies, table-driven."""

from __future__ import annotations

from datetime import date, datetime

import pandas as pd
import pytest

from sync.values import (
    BadValue,
    parse_amount,
    parse_column,
    parse_date,
    parse_field,
    parse_integer,
    parse_month,
    parse_rating,
    parse_year,
    parse_yesno,
)

MONTHS = [
    "03/2018", "3/2018", "T3/2018", "t3/2018", "Tháng 3/2018", "tháng 3 năm 2018",
    "THÁNG 3 / 2018", "2018-03", "Thang 3/2018", "03-2018", "03.2018",
    datetime(2018, 3, 5), date(2018, 3, 31), 43160, 43160.0, "43160", "05/03/2018",
    "tháng 03 năm 2018",
]  # fmt: skip


@pytest.mark.parametrize("raw", MONTHS)
def test_every_month_form_reads_as_march_2018(raw):
    assert parse_month(raw) == "2018-03"


DATES = [
    "05/03/2018", "5/3/18", "5/3/2018", "05.03.2018", "05-03-2018", "2018-03-05",
    "2018-03-05 00:00:00", datetime(2018, 3, 5, 8, 30), date(2018, 3, 5), 43164, 43164.5,
    "ngày 5 tháng 3 năm 2018", "Ngày 05 tháng 03 năm 2018", "ngay 5 thang 3 nam 2018",
]  # fmt: skip


@pytest.mark.parametrize("raw", DATES)
def test_every_date_form_reads_day_first(raw):
    assert parse_date(raw) == date(2018, 3, 5)


@pytest.mark.parametrize(
    "raw", ["31/02/2018", "32/01/2018", "00/01/2018", "abc", "", "5/13/2018", 12, True, "2018"]
)
def test_impossible_or_unreadable_dates_are_rejected(raw):
    with pytest.raises(BadValue):
        parse_date(raw)


@pytest.mark.parametrize("raw", ["13/2018", "0/2018", "tháng ba", "2018", 5, "T13/2018"])
def test_impossible_months_are_rejected(raw):
    with pytest.raises(BadValue):
        parse_month(raw)


AMOUNTS = [
    ("5000000", 5_000_000), ("5.000.000", 5_000_000), ("5.000.000 đ", 5_000_000),
    ("5.000.000đ", 5_000_000), ("5,000,000", 5_000_000), ("5 triệu", 5_000_000),
    ("5tr", 5_000_000), ("1,5 triệu", 1_500_000), ("1.5 tr", 1_500_000),
    ("5.000.000 đồng", 5_000_000), ("5.000.000 VNĐ", 5_000_000), ("500 nghìn", 500_000),
    ("500k", 500_000), (5_000_000, 5_000_000), (5e6, 5_000_000), ("2 tỷ", 2_000_000_000),
    ("5.000.000 ₫", 5_000_000), ("1.234,5", 1_235),
]  # fmt: skip


@pytest.mark.parametrize(("raw", "expected"), AMOUNTS)
def test_every_amount_form_reads_in_dong(raw, expected):
    assert parse_amount(raw) == expected


@pytest.mark.parametrize("raw", ["năm triệu", "5.00.000", "abc", "", float("inf"), "5 triệu 2"])
def test_unreadable_amounts_are_rejected(raw):
    with pytest.raises(BadValue):
        parse_amount(raw)


YES = ["x", "X", "✓", "v", "V", "1", 1, 1.0, True, "có", "Có", "CÓ", "co", "c", "yes", "true"]
NO = ["không", "Không", "khong", "k", "K", "0", 0, False, "no", "false", "KHÔNG"]


@pytest.mark.parametrize("raw", YES)
def test_yes_forms(raw):
    assert parse_yesno(raw) is True


@pytest.mark.parametrize("raw", NO)
def test_no_forms(raw):
    assert parse_yesno(raw) is False


@pytest.mark.parametrize("raw", ["có lẽ", "2", 2, "maybe"])
def test_unknown_yesno_is_rejected(raw):
    with pytest.raises(BadValue):
        parse_yesno(raw)


RATINGS = [
    ("Hoàn thành xuất sắc nhiệm vụ", "HTXSNV"), ("HTXSNV", "HTXSNV"), ("Xuất sắc", "HTXSNV"),
    ("xuat sac", "HTXSNV"), ("XUẤT SẮC", "HTXSNV"), ("Hoàn thành tốt nhiệm vụ", "HTTNV"),
    ("HT tốt", "HTTNV"), ("Tốt", "HTTNV"), ("tot", "HTTNV"), ("httnv", "HTTNV"),
    ("Hoàn thành nhiệm vụ", "HTNV"), ("Hoàn thành", "HTNV"), ("HTNV", "HTNV"),
    ("Không hoàn thành nhiệm vụ", "KHTNV"), ("Không hoàn thành", "KHTNV"), ("KHTNV", "KHTNV"),
    ("hoàn  thành   tốt", "HTTNV"),
]  # fmt: skip


@pytest.mark.parametrize(("raw", "code"), RATINGS)
def test_every_rating_form(raw, code):
    assert parse_rating(raw) == code


def test_rating_forms_in_decomposed_unicode_are_accepted():
    import unicodedata

    for label, code in RATINGS:
        assert parse_rating(unicodedata.normalize("NFD", label)) == code


@pytest.mark.parametrize("raw", ["Khá", "Trung bình", "", 3])
def test_unknown_rating_is_rejected(raw):
    with pytest.raises(BadValue):
        parse_rating(raw)


@pytest.mark.parametrize(
    ("raw", "label"),
    [
        ("An sinh xã hội", "An sinh xã hội"),
        ("ASXH", "An sinh xã hội"),
        ("NTM", "Nông thôn mới"),
        ("nong thon moi", "Nông thôn mới"),
        ("Khác", "Khác"),
    ],
)
def test_fields(raw, label):
    assert parse_field(raw) == label


@pytest.mark.parametrize(("raw", "expected"), [("35", 35), (35.0, 35), (" 35 ", 35), ("-3", -3)])
def test_integers_from_text_and_numbers(raw, expected):
    assert parse_integer(raw) == expected


def test_fractional_count_is_not_an_integer():
    with pytest.raises(BadValue) as e:
        parse_integer(12.5)
    assert e.value.code == "not_integer"


@pytest.mark.parametrize(("raw", "expected"), [(2018, 2018), ("2018", 2018), ("Năm 2018", 2018)])
def test_years(raw, expected):
    assert parse_year(raw) == expected


def test_parse_column_parses_each_distinct_value_once_and_keeps_blanks_apart():
    calls = []

    def parser(value):
        calls.append(value)
        if value == "bad":
            raise BadValue()
        return value.upper()

    raw = pd.Series(["a", "a", None, "bad", "b", "a", "  "], dtype=object)
    result = parse_column(raw, parser)
    assert result.values.tolist() == ["A", "A", None, None, "B", "A", None]
    bad = [False, False, False, True, False, False, False]
    assert [p is not None for p in result.problems] == bad
    assert result.bad.tolist() == bad
    assert isinstance(result.problem(3), BadValue) and result.problem(0) is None
    assert result.missing.tolist() == [False, False, True, True, False, False, True]
    assert sorted(calls) == ["a", "b", "bad"]
    assert result.map_distinct(lambda v: v == "bad", False, bool).tolist() == bad


@pytest.mark.parametrize("raw", ["99999999999999999999", 1e20, -(10**12)])
def test_absurdly_large_counts_are_rejected_not_crashing(raw):
    with pytest.raises(BadValue):
        parse_integer(raw)
