"""How Vietnamese names and values get written, for the demo data (:mod:`sync.demo.generate`).

Word lists (people, hamlets, positions, notes), generators of names and phone numbers, and
the many ways commune staff write a month, a date, an amount or a column header. Hamlet
names are typical of the Mekong delta (Bến Tre); none starts with a word that matching
strips as a prefix ("Tổ", "Xã"...) or that marks a totals row ("Tổng", "Cộng"), so every
name stays distinct once folded.
"""

from __future__ import annotations

import random
import tomllib
import unicodedata
from collections.abc import Callable
from datetime import date, datetime
from functools import cache
from typing import Any

from ..layout import MAPPINGS_DIR, vocab
from ..units import serial_day

SURNAMES = (
    # (surname, weight): roughly the frequencies of the Mekong delta.
    ("Nguyễn", 30),
    ("Trần", 12),
    ("Lê", 10),
    ("Phạm", 6),
    ("Huỳnh", 6),
    ("Võ", 6),
    ("Phan", 4),
    ("Trương", 3),
    ("Bùi", 2),
    ("Đặng", 2),
    ("Đỗ", 2),
    ("Ngô", 2),
    ("Hồ", 2),
    ("Dương", 2),
    ("Đoàn", 2),
    ("Lâm", 2),
    ("Mai", 1),
    ("Cao", 1),
    ("Lương", 1),
    ("Châu", 1),
    ("Tăng", 1),
    ("Thái", 1),
    ("Lý", 1),
)
MIDDLE_MALE = ("Văn", "Văn", "Văn", "Hữu", "Minh", "Thanh", "Quốc", "Công", "Đức", "Hoàng", "Tấn")
MIDDLE_FEMALE = ("Thị", "Thị", "Thị", "Ngọc", "Thanh", "Kim", "Mỹ", "Thu", "Bích", "Hồng")
GIVEN_MALE = (
    "Hùng", "Dũng", "Tâm", "Phước", "Lộc", "Thành", "Tuấn", "Hải", "Sơn", "Bình", "Long",
    "Nghĩa", "Trung", "Hiếu", "Khanh", "Tài", "Thắng", "Phúc", "Vinh", "Quang", "Nhân",
    "Toàn", "Cường", "Danh", "Đông", "Hòa", "Kiệt", "Lâm", "Nam", "Phong", "Sang", "Thiện",
    "Tín", "Trí", "Việt", "Vũ", "Khải", "Luân", "Mến", "Ngân",
)  # fmt: skip
GIVEN_FEMALE = (
    "Lan", "Hoa", "Mai", "Thảo", "Hằng", "Hương", "Nhung", "Trang", "Ngân", "Thủy",
    "Hạnh", "Loan", "Diễm", "Phượng", "Yến", "Tuyết", "Xuân", "Vân", "Nga", "Liên",
    "Thúy", "Oanh", "Ánh", "Dung", "Trinh",
)  # fmt: skip

HAMLET_NAMES = (
    "An Thạnh", "An Hòa", "An Bình", "An Lợi", "An Phú", "An Thới", "An Khương", "An Điền",
    "An Quý", "An Lộc", "Bình Thạnh", "Bình Thới", "Bình Lợi", "Bình Phú", "Bình Hòa",
    "Bình Thuận", "Giồng Miễu", "Giồng Lớn", "Giồng Nhỏ", "Giồng Quéo", "Giồng Chùa",
    "Gò Da", "Hưng Hòa", "Hưng Nhơn", "Hưng Lễ", "Long Hòa", "Long Thạnh", "Long Hội",
    "Mỹ Lợi", "Mỹ Thuận", "Mỹ Trạch", "Mỹ Điền", "Phú Hòa", "Phú Lợi", "Phú Thạnh",
    "Phú Thủy", "Phú Hữu", "Phước Hòa", "Phước Thạnh", "Phước Lợi", "Phước Tựu", "Tân Hòa",
    "Tân Lợi", "Tân Điền", "Tân Thạnh", "Tân Phong", "Thạnh Hòa", "Thạnh Phú", "Thạnh Lợi",
    "Thạnh Hưng", "Thới Thuận", "Thới Lợi", "Vĩnh Lợi", "Vĩnh Thạnh", "Vĩnh Phú", "Vàm Hồ",
    "Cây Da", "Cây Me", "Bà Hiền", "Kinh Điều", "Rạch Gốc", "Bến Tranh", "Đình Hòa",
    "Đập Ba", "Sơn Đông", "Thuận Điền", "Hòa Thạnh", "Hòa Lợi", "Trung Hòa", "Trung Thạnh",
    "Lộc Thuận", "Cầu Sập", "Gò Cát", "Phú Mỹ", "Hiệp Hòa", "Thủy Lợi", "Định Thủy",
    "Giồng Da", "Bảo Thuận", "Nhơn Hòa",
)  # fmt: skip

DISTRICT_UNITS = (
    "Văn phòng Huyện ủy", "Ban Tổ chức Huyện ủy", "Ban Tuyên giáo Huyện ủy",
    "Ban Dân vận Huyện ủy", "Ủy ban Kiểm tra Huyện ủy", "UBND huyện",
    "Phòng Nông nghiệp và PTNT", "Phòng Tài chính - Kế hoạch", "Phòng Lao động - TB&XH",
    "Phòng Giáo dục và Đào tạo", "Phòng Văn hóa và Thông tin", "Phòng Tài nguyên và Môi trường",
    "Phòng Nội vụ", "Ủy ban MTTQ Việt Nam huyện", "Huyện đoàn", "Hội Nông dân huyện",
    "Hội Liên hiệp Phụ nữ huyện", "Hội Cựu chiến binh huyện", "Công an huyện",
    "Ban Chỉ huy Quân sự huyện", "Trung tâm Y tế huyện", "Chi cục Thuế", "Kho bạc Nhà nước",
)  # fmt: skip
DISTRICT_POSITIONS = (
    "Huyện ủy viên", "Trưởng phòng", "Phó Trưởng phòng", "Phó Trưởng ban", "Chuyên viên",
    "Chuyên viên", "Chuyên viên", "Phó Chủ tịch", "Ủy viên Ban Thường vụ Huyện ủy",
)  # fmt: skip
PROVINCE_UNITS = (
    "Ban Tổ chức Tỉnh ủy", "Ban Tuyên giáo Tỉnh ủy", "Ban Dân vận Tỉnh ủy",
    "Ủy ban Kiểm tra Tỉnh ủy", "Văn phòng Tỉnh ủy", "Sở Nông nghiệp và PTNT", "Sở Tài chính",
    "Sở Giáo dục và Đào tạo", "Sở Y tế", "Sở Lao động - TB&XH", "Ủy ban MTTQ Việt Nam tỉnh",
    "Tỉnh đoàn", "Hội Nông dân tỉnh", "Sở Kế hoạch và Đầu tư",
)  # fmt: skip
PROVINCE_POSITIONS = (
    "Tỉnh ủy viên", "Phó Giám đốc", "Phó Trưởng ban", "Trưởng phòng", "Phó Trưởng phòng",
    "Chuyên viên chính",
)  # fmt: skip
COMMUNE_POSITIONS = (
    "Bí thư Đảng ủy", "Phó Bí thư Đảng ủy", "Chủ tịch UBND", "Phó Chủ tịch UBND",
    "Chủ tịch UBMTTQ", "Chủ tịch Hội Nông dân", "Chủ tịch Hội LHPN", "Chủ tịch Hội CCB",
    "Bí thư Đoàn", "Trưởng Công an", "Chỉ huy trưởng Quân sự", "Công chức Văn phòng - Thống kê",
    "Công chức Địa chính", "Công chức Tư pháp - Hộ tịch", "Công chức Văn hóa - Xã hội",
)  # fmt: skip

MEETING_NOTES = (
    "Sinh hoạt chuyên đề",
    "Triển khai Nghị quyết của Đảng ủy",
    "Kết nạp 1 đảng viên mới",
    "Học tập và làm theo tư tưởng, đạo đức, phong cách Hồ Chí Minh",
    "Kiểm điểm công tác quý",
    "Bàn công tác xây dựng nông thôn mới",
    "Chi ủy họp trước 2 ngày",
    "Vắng có lý do 2 đồng chí",
    "Sơ kết 6 tháng",
    "Tổng kết năm, đánh giá xếp loại đảng viên",
)
NO_MEETING_NOTES = (
    "Không sinh hoạt do mưa bão",
    "Hoãn, trùng lịch lễ hội",
    "Chưa sinh hoạt, bí thư chi bộ đi tập huấn",
)
RATING_NOTES = ("Đề nghị khen thưởng", "Đã có quyết định công nhận", "Theo kết quả kiểm điểm")

SUPPORT_CONTENTS = (
    # Typical contents per Lĩnh vực, in the order of mappings/vocab.toml [[fields]]:
    # social security, new countryside, other.
    (
        "Xây nhà tình nghĩa cho gia đình chính sách",
        "Tặng quà Tết cho hộ nghèo",
        "Học bổng cho học sinh nghèo hiếu học",
        "Trao bò giống cho hộ nghèo",
        "Sửa nhà cho hộ cận nghèo",
        "Tặng xe đạp cho học sinh",
    ),
    (
        "Làm đường giao thông nông thôn",
        "Lắp đèn chiếu sáng đường ấp",
        "Nạo vét kênh thủy lợi nội đồng",
        "Xây cầu bê tông",
        "Trồng cây xanh tuyến đường",
    ),
    (
        "Hỗ trợ sinh hoạt văn hóa ấp",
        "Mua sắm trang thiết bị nhà văn hóa",
        "Hỗ trợ hội thao mừng Xuân",
    ),
)
AMOUNTS = (1_500_000, 2_000_000, 3_000_000, 5_000_000, 8_000_000, 10_000_000, 12_500_000,
           20_000_000, 35_000_000, 50_000_000, 120_000_000)  # fmt: skip

# -- written forms ---------------------------------------------------------------------------
MONTH_FORMS = ("mm/yyyy", "m/yyyy", "T", "Thang", "words", "iso", "datetime", "serial")
DATE_FORMS = ("dmy", "dmy_short", "dot", "dash", "iso", "datetime", "serial", "words")
AMOUNT_FORMS = ("int", "plain", "dots", "dots_d", "dots_d2", "commas", "trieu", "tr")
# Drifted headers, all aliases in mappings/headers.toml (checked by tests/test_demo_data.py).
HEADER_ALIASES = {
    "A": {
        "meetings": {"hamlet": "Tên ấp", "month": "Tháng báo cáo", "meeting_date": "Ngày SH",
                     "members": "Tổng số ĐV", "present": "Số ĐV dự",
                     "cadre_attended": "CB phụ trách dự", "committee_met": "Họp chi ủy trước",
                     "note": "  Ghi  chú "},
        "ratings": {"hamlet": "Tên ấp", "year": "Năm xếp loại", "rating": "Kết quả xếp loại"},
        "support": {"hamlet": "Tên ấp", "date": "Ngày hỗ trợ", "field": "Lĩnh vực hỗ trợ",
                    "content": "Nội dung hỗ trợ", "amount": "Số tiền (đồng)"},
        "households": {"hamlet": "Tên ấp", "cadre": "Họ tên cán bộ", "position": "Chức danh",
                       "households": "Số hộ", "group": "Tổ NDTQ"},
    },
    "B": {
        "meetings": {"hamlet": "Ấp / KP", "month": "Kỳ báo cáo", "meeting_date": "Ngày họp",
                     "members": "Tổng ĐV", "present": "Số ĐV\ndự", "cadre_attended": "Cán bộ dự",
                     "committee_met": "CU họp trước"},
        "ratings": {"hamlet": "Ấp / KP", "rating": "Xếp loại chất lượng"},
        "support": {"hamlet": "Ấp / KP", "date": "Ngày vận động", "amount": "Thành tiền"},
        "households": {"hamlet": "Ấp / KP", "cadre": "Cán bộ", "households": "Số hộ theo dõi"},
    },
    "C": {
        "meetings": {"hamlet": "ap", "month": "Kỳ", "meeting_date": "Ngày", "members": "Tổng số",
                     "present": "Dự", "cadre_attended": "Cán bộ phụ trách có dự",
                     "committee_met": "Chi ủy họp", "note": "Chú thích"},
        "ratings": {"hamlet": "ap", "year": "Năm đánh giá", "rating": "Mức xếp loại"},
        "support": {"hamlet": "ap", "field": "Loại", "amount": "Giá trị"},
        "households": {"hamlet": "ap", "households": "SL hộ", "group": "Tổ"},
    },
}  # fmt: skip
#: A running-number column (ignored by mappings) and a column no mapping knows.
EXTRA_HEADERS = ("STT", "Người lập")
# New → old tone placement ("hòa" → "hoà", "thủy" → "thuỷ").
OLD_TONES = {"òa": "oà", "óa": "oá", "ỏa": "oả", "õa": "oã", "ọa": "oạ", "ùy": "uỳ", "úy": "uý",
             "ủy": "uỷ", "ũy": "uỹ", "ụy": "uỵ", "Ủy": "Uỷ"}  # fmt: skip


def month_cell(y: int, m: int, form: str):
    """A month as a commune writes it (one of MONTH_FORMS)."""
    return {
        "mm/yyyy": f"{m:02d}/{y}", "m/yyyy": f"{m}/{y}", "T": f"T{m}/{y}",
        "Thang": f"Tháng {m}/{y}", "words": f"tháng {m} năm {y}", "iso": f"{y}-{m:02d}",
        "datetime": datetime(y, m, 1), "serial": serial_day(date(y, m, 1)),
    }[form]  # fmt: skip


def date_cell(d: date, form: str):
    """A date as a commune writes it (one of DATE_FORMS), always day first."""
    return {
        "dmy": f"{d:%d/%m/%Y}", "dmy_short": f"{d.day}/{d.month}/{d:%y}", "dot": f"{d:%d.%m.%Y}",
        "dash": f"{d:%d-%m-%Y}", "iso": d.isoformat(), "datetime": datetime(d.year, d.month, d.day),
        "serial": serial_day(d), "words": f"ngày {d.day} tháng {d.month} năm {d.year}",
    }[form]  # fmt: skip


def amount_cell(amount: int, form: str):
    """An amount of đồng as a commune writes it (one of AMOUNT_FORMS)."""
    dots = f"{amount:,}".replace(",", ".")
    millions = f"{amount / 1e6:g}".replace(".", ",")
    return {
        "int": amount, "plain": str(amount), "dots": dots, "dots_d": f"{dots} đ",
        "dots_d2": f"{dots}đ", "commas": f"{amount:,}", "trieu": f"{millions} triệu",
        "tr": f"{millions}tr",
    }[form]  # fmt: skip


def without_diacritics(text: str) -> str:
    """Text without diacritics, case kept: "Hoàn thành tốt" → "Hoan thanh tot"."""
    decomposed = unicodedata.normalize("NFD", text.replace("Đ", "D").replace("đ", "d"))
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def old_tone(text: str) -> str:
    """Text with the old tone placement ("hoà", "thuỷ")."""
    for new, former in OLD_TONES.items():
        text = text.replace(new, former)
    return text


# -- habits of the commune sheets ----------------------------------------------------------
# How each commune's sheet drifts from the template, by position in the district list
# (province: position modulo 24). Keys: title (rows above the header), aliases (a set of
# HEADER_ALIASES), reorder, stt, extra (EXTRA_HEADERS), blank_rows, totals, text (nfd,
# old_tone), text_numbers, missing_months (never reported), month/date (main form, or
# "mixed": every form in turn), yes/no (forms; no "no" = blank), ratings (a habit of
# rating_forms). Positions 20 and 21 are the legacy-encoded communes: their ratings are
# ASCII forms, which no encoding changes.
STYLES: list[dict[str, Any]] = [
    {"ratings_2017": True},
    {"title": 2, "month": "T", "date": "dmy_short", "ratings_2017": True},
    {"aliases": "A", "month": "Thang", "date": "datetime", "ratings_2017": True},
    {"reorder": True, "text_numbers": True, "month": "iso", "date": "dot"},
    {"stt": True, "month": "datetime", "date": "iso"},
    {"blank_rows": True, "missing_months": (12,), "month": "serial", "date": "serial"},
    {"totals": True, "month": "words", "date": "words", "ratings": "labels"},
    {"title": 2, "month": "m/yyyy", "date": "dash"},
    {"aliases": "B", "yes": ("X",), "no": ("k",), "ratings": "codes"},
    {"reorder": True, "month": "mixed", "date": "mixed"},
    {"stt": True, "extra": True, "yes": ("✓",)},
    {"blank_rows": True, "missing_months": (7, 8), "yes": ("v",), "no": ("không",)},
    {"totals": True, "yes": (1,), "no": (0,), "ratings": "short"},
    {"title": 3, "blank_rows": True, "yes": ("có",), "no": ("khong",)},
    {"aliases": "C", "yes": ("co",), "no": ("no",), "ratings": "lower"},
    {"text": "nfd", "yes": ("c",)},
    {"text": "old_tone", "yes": ("yes",), "no": ("false",)},
    {"text_numbers": True, "yes": (True,), "no": (False,)},
    {"missing_months": (10, 11, 12), "yes": ("true",), "no": ("0",)},
    {"title": 3, "aliases": "A"},
    {"ratings": "ascii"},
    {"ratings": "ascii", "yes": ("1",)},
    {"month": "T", "date": "dmy_short"},
    {"stt": True, "totals": True},
]
FORMULAS = {
    "formula_eq": '=HYPERLINK("http://x","y")',
    "formula_plus": "+ Triển khai Nghị quyết",
    "formula_minus": "- Vắng 2 đồng chí có lý do",
    "formula_at": "@Tổ 3 báo cáo miệng",
}


@cache
def vocab_raw() -> dict:
    """mappings/vocab.toml as written (the forms, before folding)."""
    with (MAPPINGS_DIR / "vocab.toml").open("rb") as f:
        return tomllib.load(f)


@cache
def rating_forms() -> dict[str, dict[str, tuple[str, ...]]]:
    """Ways communes write each rating, by habit, all accepted by mappings/vocab.toml."""
    raw = {r["code"]: r["forms"] for r in vocab_raw()["ratings"]}
    out: dict[str, dict[str, tuple[str, ...]]] = {}
    for r in vocab().ratings:
        ascii_label = without_diacritics(r.label)
        short = tuple(x for x in raw[r.code] if not x.isupper() or x == r.code)
        out[r.code] = {
            "labels": (r.label,), "codes": (r.code,), "short": short[:3],
            "lower": (r.label.lower(), short[0].lower()), "ascii": (r.code, ascii_label),
            "mixed": (r.label, r.code, *short, r.label.lower(), ascii_label, r.label.upper()),
        }  # fmt: skip
    return out


def text_transform(encoding: str | None, style: dict) -> Callable[[str], str] | None:
    """How a commune's typed text is written: a legacy encoding, NFD, old tones, or as is."""
    encode = legacy_encoder() if encoding else None
    if encode:
        return lambda s: encode(s, encoding)
    if style.get("text") == "nfd":
        return lambda s: unicodedata.normalize("NFD", s)
    if style.get("text") == "old_tone":
        return old_tone
    return None


def legacy_encoder():
    """``sync.legacy.encode_legacy``, or None while that module does not provide it."""
    try:
        from ..legacy import encode_legacy
    except ImportError:
        return None
    return encode_legacy


# -- generated names -------------------------------------------------------------------------
def person(rng: random.Random, used: set[str]) -> str:
    """A full name (họ, tên đệm, tên) not in ``used``; added to it."""
    surnames, weights = zip(*SURNAMES, strict=True)
    while True:
        female = rng.random() < 0.35
        middle = rng.choice(MIDDLE_FEMALE if female else MIDDLE_MALE)
        given = rng.choice(GIVEN_FEMALE if female else GIVEN_MALE)
        name = f"{rng.choices(surnames, weights)[0]} {middle} {given}"
        if name not in used:
            used.add(name)
            return name


def phone(rng: random.Random, used: set[str]) -> str:
    """A mobile number, 09xxxxxxxx, not in ``used``; added to it."""
    while (number := f"09{rng.randrange(10**8):08d}") in used:
        pass
    used.add(number)
    return number


def hamlet_names(rng: random.Random, kind: str, n: int, named: bool = False) -> list[str]:
    """n distinct hamlet names of one commune: "Khu phố 1"…, or "Ấp 1"… and "Ấp An Thạnh"…
    (only the latter when ``named``)."""
    if kind == "Khu phố":
        return [f"Khu phố {i}" for i in range(1, n + 1)]
    numbered = rng.choices((0, 1, n), weights=(6, 2, 2))[0] * (not named)  # "Ấp 1"… names
    named = rng.sample(HAMLET_NAMES, n - numbered)
    return [f"Ấp {i}" for i in range(1, numbered + 1)] + [f"Ấp {x}" for x in named]
