"""The checks on a commune sheet's input columns, as data: a dropdown, a date or a whole
number per column type (:class:`~sync.backends.base.Control`), with the message a commune
sees, and where they go in a sheet (:class:`~sync.backends.base.ControlledTab`). Each backend
renders them its own way: data validations in an .xlsx (:mod:`sync.backends.xlsx_controls`),
``setDataValidation`` requests on Google (:mod:`sync.backends.google_provision`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date

from .backends.base import ColumnSpec, Control, ControlledTab, Grid, OutputTab
from .layout import Tab, commune_layout, vocab
from .normalize import find_header, find_tab
from .units import serial_day

__all__ = ["Control", "ControlledTab", "column_controls", "control_targets", "input_tab"]

FIRST_DATE, LAST_DATE = date(2000, 1, 1), date(2100, 12, 31)
MAX_LIST_CHARS = 255  # Excel's limit for a list typed into a validation
#: How each input column type is shown in a new sheet (a ``format`` of ``sync.units``):
#: months and names stay text as typed (``03/2018`` is not turned into a date).
INPUT_FORMATS = {"date": "date", "amount": "vnd", "month": "text", "hamlet": "text", "text": "text"}


def column_controls(hamlets: Iterable[str]) -> dict[str, Control]:
    """The control of each commune column type (``type`` in ``templates/commune.toml``).

    A hamlet list that does not fit in a validation (255 characters, no commas) gets
    no dropdown; sync still checks every name against the registry.
    """
    v = vocab()
    names = tuple(hamlets)
    controls = {
        "yesno": Control(
            "list",
            "Chỉ chọn trong danh sách",
            f'Đánh dấu x (hoặc chọn "{v.yes_label}") nếu có; để trống nếu không.',
            ("x", v.yes_label, v.no_label),
        ),
        "rating": Control(
            "list",
            "Xếp loại không đúng",
            "Chọn một trong bốn mức xếp loại trong danh sách.",
            tuple(r.label for r in v.ratings),
        ),
        "field": Control(
            "list", "Lĩnh vực không đúng", "Chọn lĩnh vực trong danh sách.", v.field_labels
        ),
        "date": Control(
            "date",
            "Ngày chưa đúng",
            "Ghi ngày theo dạng ngày/tháng/năm, ví dụ 05/03/2018.",
            minimum=serial_day(FIRST_DATE),
            maximum=serial_day(LAST_DATE),
            strict=False,
        ),
        "year": Control(
            "whole",
            "Năm chưa đúng",
            "Ghi năm bằng 4 chữ số, ví dụ 2018.",
            minimum=2000,
            maximum=2100,
        ),
        "count": Control("whole", "Số chưa đúng", "Ghi số nguyên không âm, ví dụ 25.", minimum=0),
        "positive_count": Control(
            "whole", "Số chưa đúng", "Ghi số nguyên từ 1 trở lên, ví dụ 25.", minimum=1
        ),
        "amount": Control(
            "whole",
            "Giá trị chưa đúng",
            "Ghi số tiền bằng đồng, ví dụ 5.000.000.",
            minimum=0,
            strict=False,
        ),
    }
    listed = ",".join(names)
    plain = not any(c in name for name in names for c in '",')
    if names and plain and len(listed) + 2 <= MAX_LIST_CHARS:
        controls["hamlet"] = Control(
            "list",
            "Ấp/khu phố không có trong danh mục",
            "Chọn ấp/khu phố trong danh sách (danh mục do Huyện ủy quản lý).",
            names,
        )
    return controls


def _tab_controls(
    tab: Tab, positions: Mapping[str, int], controls: Mapping[str, Control]
) -> dict[int, Control]:
    """Column index → control, for the columns of ``tab`` found at ``positions`` (key →
    0-based index) whose type has a control."""
    return {
        positions[c.key]: controls[c.type]
        for c in tab.columns
        if c.key in positions and c.type in controls
    }


def input_tab(tab: Tab, hamlets: Iterable[str]) -> tuple[OutputTab, ControlledTab]:
    """An empty input tab of the template (header on row 1) and where its controls go."""
    columns = [ColumnSpec(c.header, c.width, INPUT_FORMATS.get(c.type)) for c in tab.columns]
    positions = {c.key: i for i, c in enumerate(tab.columns)}
    controls = _tab_controls(tab, positions, column_controls(hamlets))
    return OutputTab(tab.title, columns, []), ControlledTab(tab.title, 1, controls)


def control_targets(grids: Mapping[str, Grid], hamlets: Iterable[str]) -> list[ControlledTab]:
    """Where the controls of each input tab go in a commune sheet as read (``grids`` by
    title): the tab as found, below its header wherever it is, on the columns recognised.
    A tab or header that cannot be found gets none (sync reports it)."""
    controls = column_controls(hamlets)
    found = []
    for tab in commune_layout().by_role("input"):
        title = find_tab(grids, tab)
        if title is None:
            continue
        header, height, mapped = find_header(grids[title], tab)
        if not mapped:
            continue
        positions = {key: index for index, key in mapped.items()}
        found.append(ControlledTab(title, header + height, _tab_controls(tab, positions, controls)))
    return found
