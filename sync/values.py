"""Parsers for every value form of SPEC's vocabularies.

Each parser takes one non-blank raw cell value (str, int, float, bool, date or datetime,
as a backend returns it) and returns the canonical value, or raises :class:`BadValue`.
:func:`parse_column` applies a parser to a whole column, parsing each distinct value
once, so large columns cost a hash lookup per cell rather than a parse.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from datetime import date, datetime, timedelta
from typing import Any, NamedTuple

import numpy as np
import pandas as pd

from .layout import vocab
from .text import fold, nfc, unaccent
from .units import SHEET_EPOCH

SERIAL_RANGE = (25_000, 80_000)  # 1968 … 2119: a number here in a date column is a serial
YEAR_RANGE = (1975, 2100)
#: No count of members or households comes near this; a larger number is a typing slip.
MAX_COUNT = 10_000_000


class BadValue(ValueError):
    """A value that cannot be read. ``code`` is the finding kind, ``expected`` says what
    the column wants (Vietnamese), ``example`` shows a correct form."""

    def __init__(self, code: str = "bad_value", expected: str = "", example: str = "") -> None:
        super().__init__(code)
        self.code = code
        self.expected = expected
        self.example = example


def is_blank(value: Any) -> bool:
    """None, NaN, or text with nothing but spaces."""
    if value is None:
        return True
    if isinstance(value, float):
        return math.isnan(value)
    if isinstance(value, str):
        return not value.strip()
    return False


def _number(value: Any) -> float | None:
    """A real number from a numeric cell (never from bool), else None."""
    if isinstance(value, bool) or not isinstance(value, int | float | np.integer | np.floating):
        return None
    number = float(value)
    return number if math.isfinite(number) else None


def serial_to_date(serial: float) -> date:
    return SHEET_EPOCH + timedelta(days=math.floor(serial))


def _checked_date(year: int, month: int, day: int) -> date:
    if year < 100:
        year += 2000 if year < 70 else 1900
    if not YEAR_RANGE[0] <= year <= YEAR_RANGE[1]:
        raise BadValue(expected="một ngày có thật", example="05/03/2018")
    try:
        return date(year, month, day)
    except ValueError:
        raise BadValue("bad_value", "một ngày có thật", "05/03/2018") from None


_DAY_FIRST = re.compile(r"^(\d{1,2})\s*[/.\-]\s*(\d{1,2})\s*[/.\-]\s*(\d{2}|\d{4})$")
_ISO_DATE = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})(?:[ t]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?$")
_WORDY_DATE = re.compile(r"^(?:ngay\s*)?(\d{1,2})\s*thang\s*(\d{1,2})\s*(?:nam|/|,)?\s*(\d{4})$")
_SERIAL_TEXT = re.compile(r"^\d{5}(?:\.\d+)?$")


def parse_date(value: Any) -> date:
    """Day-first dates, ISO, serials (epoch 1899-12-30), ``ngày 5 tháng 3 năm 2018``."""
    date_error = BadValue(expected="một ngày (ngày/tháng/năm)", example="05/03/2018")
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    number = _number(value)
    if number is not None:
        if SERIAL_RANGE[0] <= number <= SERIAL_RANGE[1]:
            return serial_to_date(number)
        raise date_error
    if not isinstance(value, str):
        raise date_error
    text = fold(nfc(value)) if not value.isascii() else value.strip().lower()
    text = re.sub(r"\s+", " ", text)
    if m := _DAY_FIRST.match(text):
        return _checked_date(int(m[3]), int(m[2]), int(m[1]))
    if m := _ISO_DATE.match(text):
        return _checked_date(int(m[1]), int(m[2]), int(m[3]))
    folded = fold(text)
    if m := _WORDY_DATE.match(folded):
        return _checked_date(int(m[3]), int(m[2]), int(m[1]))
    if _SERIAL_TEXT.match(text):
        return parse_date(float(text))
    raise date_error


_MONTH_YEAR = re.compile(r"^(?:thang|t)?\s*(\d{1,2})\s*(?:[/.\-]|nam|\s)\s*(\d{4})$")
_YEAR_MONTH = re.compile(r"^(\d{4})\s*[/.\-]\s*(\d{1,2})$")


def parse_month(value: Any) -> str:
    """``03/2018``, ``T3/2018``, ``Tháng 3/2018``, ``tháng 3 năm 2018``, ``2018-03``, a date
    or a serial → ``"2018-03"``."""
    month_error = BadValue(expected="một tháng (tháng/năm)", example="03/2018")
    if isinstance(value, datetime | date) or _number(value) is not None:
        try:
            d = parse_date(value)
        except BadValue:
            raise month_error from None
        return f"{d.year:04d}-{d.month:02d}"
    if not isinstance(value, str):
        raise month_error
    folded = fold(value.replace("/", " / ").replace("-", " - ").replace(".", " . "))
    compact = re.sub(r"\s*([/.\-])\s*", r"\1", value.strip().lower())
    for candidate in (compact, folded):
        if m := _YEAR_MONTH.match(candidate):
            year, month = int(m[1]), int(m[2])
            break
        if m := _MONTH_YEAR.match(candidate):
            month, year = int(m[1]), int(m[2])
            break
    else:
        try:
            d = parse_date(value)
        except BadValue:
            raise month_error from None
        return f"{d.year:04d}-{d.month:02d}"
    if not 1 <= month <= 12 or not YEAR_RANGE[0] <= year <= YEAR_RANGE[1]:
        raise month_error
    return f"{year:04d}-{month:02d}"


def parse_year(value: Any) -> int:
    """``2018``, ``2018.0``, ``Năm 2018``, a date → 2018."""
    year_error = BadValue(expected="một năm (4 chữ số)", example="2018")
    if isinstance(value, datetime | date):
        return value.year
    number = _number(value)
    if number is None and isinstance(value, str):
        m = re.fullmatch(r"(?:nam\s*)?(\d{4})(?:\.0+)?", fold(value))
        number = float(m[1]) if m else None
    if number is None or number != int(number) or not YEAR_RANGE[0] <= number <= YEAR_RANGE[1]:
        raise year_error
    return int(number)


def _decimal(text: str) -> float:
    """A number written the Vietnamese way (``1.234,5``) or the English way (``1,234.5``)."""
    text = text.replace(" ", "")
    if not re.fullmatch(r"[+-]?[\d.,]*\d[\d.,]*", text):
        raise ValueError(text)
    dots, commas = text.count("."), text.count(",")
    if dots and commas:
        decimal_mark = "," if text.rfind(",") > text.rfind(".") else "."
        thousands = "." if decimal_mark == "," else ","
        text = text.replace(thousands, "").replace(decimal_mark, ".")
    elif dots + commas:
        mark = "." if dots else ","
        groups = text.lstrip("+-").split(mark)
        if len(groups) > 2 or (len(groups[-1]) == 3 and groups[0] not in ("", "0")):
            if not all(len(g) == 3 for g in groups[1:]):
                raise ValueError(text)
            text = text.replace(mark, "")
        else:
            text = text.replace(mark, ".")
    return float(text)


def parse_integer(value: Any) -> int:
    """A whole number (may be negative; validation checks the range).

    Raises ``BadValue("not_integer")`` for a number with a fraction.
    """
    number = _number(value)
    if number is None and isinstance(value, str):
        try:
            number = _decimal(value.strip())
        except ValueError:
            raise BadValue(expected="một số nguyên", example="35") from None
        if not math.isfinite(number):
            number = None
    if number is None or abs(number) > MAX_COUNT:
        raise BadValue(expected="một số nguyên (số người, số hộ)", example="35")
    if number != int(number):
        raise BadValue("not_integer", "một số nguyên", "35")
    return int(number)


_AMOUNT_UNITS = (
    (re.compile(r"(ty|ti)$"), 1_000_000_000),
    (re.compile(r"(trieu|tr)$"), 1_000_000),
    (re.compile(r"(nghin|ngan|k)$"), 1_000),
)
_CURRENCY = re.compile(r"(dong|vnd|d|₫)$")


def parse_amount(value: Any) -> int:
    """VND: ``5000000``, ``5.000.000 đ``, ``5,000,000``, ``5 triệu``, ``5tr``, ``1,5 triệu``."""
    amount_error = BadValue(expected="một số tiền (đồng)", example="5.000.000")
    number = _number(value)
    if number is None:
        if not isinstance(value, str):
            raise amount_error
        text = value.strip().lower().replace("₫", " ₫")
        text = unaccent(text).replace(" ", "")
        text = _CURRENCY.sub("", text.replace("₫", ""))
        multiplier = 1
        for pattern, factor in _AMOUNT_UNITS:
            if pattern.search(text):
                text, multiplier = pattern.sub("", text), factor
                break
        try:
            number = _decimal(text) * multiplier
        except ValueError:
            raise amount_error from None
    if not math.isfinite(number) or abs(number) > 1e15:
        raise amount_error
    return math.floor(number + 0.5)  # half up, as accountants round


def parse_yesno(value: Any) -> bool:
    """``x``, ``✓``, ``có``, ``1``, ``yes`` … → True; ``không``, ``k``, ``0``, ``no`` … → False."""
    if isinstance(value, bool):
        return value
    forms = vocab().yesno_forms
    number = _number(value)
    if number is not None:
        if number in (0, 1):
            return bool(number)
    elif isinstance(value, str):
        text = value.strip()
        answer = forms.get(fold(text)) if fold(text) else forms.get(text.lower())
        if answer is not None:
            return answer
    raise BadValue(expected="Có hoặc Không", example="x (nếu có) hoặc để trống (nếu không)")


def parse_rating(value: Any) -> str:
    """One of the four ratings in any accepted form → its code (``HTXSNV`` …)."""
    if isinstance(value, str):
        folded = fold(value)
        forms = vocab().rating_forms
        code = forms.get(folded) or forms.get(folded.replace(" ", ""))
        if code:
            return code
    labels = " / ".join(r.label for r in vocab().ratings)
    raise BadValue(expected="một mức xếp loại", example=labels)


def parse_field(value: Any) -> str:
    """``Lĩnh vực``: one of the configured fields in any accepted form → its label."""
    if isinstance(value, str):
        label = vocab().field_forms.get(fold(value))
        if label:
            return label
    raise BadValue(expected="một lĩnh vực", example=" / ".join(vocab().field_labels))


def parse_text(value: Any) -> str:
    """Text as NFC; a number becomes its shortest text form (``35.0`` → ``35``)."""
    if isinstance(value, str):
        return nfc(value.strip())
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime | date):
        return value.strftime("%d/%m/%Y")
    return str(value)


PARSERS: dict[str, Callable[[Any], Any]] = {
    "text": parse_text,
    "hamlet": parse_text,
    "month": parse_month,
    "date": parse_date,
    "year": parse_year,
    "count": parse_integer,
    "positive_count": parse_integer,
    "yesno": parse_yesno,
    "rating": parse_rating,
    "field": parse_field,
    "amount": parse_amount,
}


def _distinct_map(
    codes: np.ndarray, uniques: Any, fn: Callable[[Any], Any], missing: Any, dtype: Any
) -> np.ndarray:
    out = np.empty(len(uniques) + 1, dtype=dtype)
    out[:-1] = [fn(v) for v in uniques]
    out[-1] = missing  # code -1: NA
    return out[codes]


def map_distinct(
    values: pd.Series, fn: Callable[[Any], Any], missing: Any = None, dtype: Any = object
) -> np.ndarray:
    """``fn`` of each value, computed once per distinct value; ``missing`` where a value is
    NA. A column of a million cells holds few distinct months, dates or marks."""
    codes, uniques = pd.factorize(values)
    return _distinct_map(codes, uniques, fn, missing, dtype)


class ParsedColumn(NamedTuple):
    """A parsed column. ``values``: NA where the cell is blank or unreadable; ``missing``
    and ``bad``: whether each cell is NA, and whether it was unreadable (worked out per
    distinct value, not per cell); :meth:`problem`: why a cell was unreadable."""

    values: pd.Series
    missing: np.ndarray
    bad: np.ndarray
    codes: np.ndarray
    uniques: Any
    distinct_problems: np.ndarray  # per distinct value, then None for NA

    def problem(self, position: int) -> BadValue | None:
        """The :class:`BadValue` of the cell at ``position``, None if it was readable."""
        return self.distinct_problems[self.codes[position]]

    @property
    def problems(self) -> pd.Series:
        """:meth:`problem` of every cell."""
        return pd.Series(self.distinct_problems[self.codes], index=self.values.index)

    def map_distinct(self, fn: Callable[[Any], Any], missing: Any = None, dtype: Any = object):
        """:func:`map_distinct` of the raw cells, without factorizing them again."""
        return _distinct_map(self.codes, self.uniques, fn, missing, dtype)


def parse_column(raw: pd.Series, parser: Callable[[Any], Any]) -> ParsedColumn:
    """Parse a column, each distinct value once. Blank cells give NA in both ``values`` and
    ``problems``; a cell that cannot be read gives NA in ``values`` and its
    :class:`BadValue` in ``problems``."""
    codes, uniques = pd.factorize(raw, use_na_sentinel=True)
    parsed: list[Any] = []
    problems: list[Any] = []
    for value in uniques:
        if is_blank(value):
            parsed.append(None)
            problems.append(None)
            continue
        try:
            parsed.append(parser(value))
            problems.append(None)
        except BadValue as e:
            parsed.append(None)
            problems.append(e)
    parsed.append(None)  # index -1: NA sentinel
    problems.append(None)
    parsed_arr = np.empty(len(parsed), dtype=object)
    parsed_arr[:] = parsed
    problems_arr = np.empty(len(problems), dtype=object)
    problems_arr[:] = problems
    return ParsedColumn(
        pd.Series(parsed_arr[codes], index=raw.index, dtype=object),
        pd.isna(parsed_arr)[codes],
        np.array([p is not None for p in problems], dtype=bool)[codes],
        codes,
        uniques,
        problems_arr,
    )
