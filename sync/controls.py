"""The checks on a commune sheet's input columns, as data: a dropdown, a date or a whole
number per column type, with the message a commune sees. Each backend renders them its own
way: data validations in an .xlsx (:mod:`sync.backends.local_provision`), ``setDataValidation``
requests on Google (:mod:`sync.provision_google`).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from .layout import vocab
from .units import serial_day

FIRST_DATE, LAST_DATE = date(2000, 1, 1), date(2100, 12, 31)
MAX_LIST_CHARS = 255  # Excel's limit for a list typed into a validation


@dataclass(frozen=True)
class Control:
    """The check on one kind of input column: a dropdown (``list``), a ``date`` or a
    ``whole`` number; ``strict`` refuses other values, else Excel only warns."""

    kind: str
    title: str
    message: str
    values: tuple[str, ...] = ()
    minimum: int | None = None
    maximum: int | None = None
    strict: bool = True

    def formula(self) -> str:
        return '"' + ",".join(self.values) + '"'


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
