"""Legacy TCVN3/VNI text read as cp1252: repaired when it is legacy, left alone when it is not."""

from __future__ import annotations

import csv
import gzip
import unicodedata
from functools import cache
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sync import legacy
from sync.legacy import TCVN3, VN1, VNI, encode_legacy, repair, repair_column, suspect

# (legacy text as a sheet shows it, Unicode it stands for)
TCVN3_CASES = [
    ("Céng hoµ x· héi chñ nghÜa ViÖt Nam", "Cộng hoà xã hội chủ nghĩa Việt Nam"),
    ("Céng hßa x· héi chñ nghÜa ViÖt Nam", "Cộng hòa xã hội chủ nghĩa Việt Nam"),
    ("§éc lËp - Tù do - H¹nh phóc", "Độc lập - Tự do - Hạnh phúc"),
    ("Êp An Th¹nh", "Ấp An Thạnh"),
    ("Khu phè 3", "Khu phố 3"),
    ("Mü Hßa", "Mỹ Hòa"),
    ("Mü Hoµ", "Mỹ Hoà"),
    ("X· ¼ng N\xada", "Xã Ẳng Nưa"),
    ("Ph\xadêng ¤ Chî Dõa", "Phường Ô Chợ Dừa"),
    ("HuyÖn ñy Ba Tri", "Huyện ủy Ba Tri"),
    ("Chi bé Êp T©n Hßa", "Chi bộ ấp Tân Hòa"),
    ("NguyÔn ThÞ øng", "Nguyễn Thị Ứng"),
    ("Hé cËn nghÌo", "Hộ cận nghèo"),
    ("CéNG HOµ X· HéI CHñ NGHÜA VIÖT NAM", "CỘNG HOÀ XÃ HỘI CHỦ NGHĨA VIỆT NAM"),
    ("§¶NG ñY X· T¢N Hµ", "ĐẢNG ỦY XÃ TÂN HÀ"),
    ("¦íC TÝNH", "ƯỚC TÍNH"),
]
VNI_CASES = [
    ("Coäng hoøa xaõ hoäi chuû nghóa Vieät Nam", "Cộng hòa xã hội chủ nghĩa Việt Nam"),
    ("Coäng hoaø xaõ hoäi chuû nghóa Vieät Nam", "Cộng hoà xã hội chủ nghĩa Việt Nam"),
    ("Ñoäc laäp - Töï do - Haïnh phuùc", "Độc lập - Tự do - Hạnh phúc"),
    ("AÁp An Thaïnh", "Ấp An Thạnh"),
    ("Khu phoá 3", "Khu phố 3"),
    ("Myõ Hoøa", "Mỹ Hòa"),
    ("Myõ Hoaø", "Mỹ Hoà"),
    ("Xaõ AÚng Nöa", "Xã Ẳng Nưa"),
    ("Xaõ Kieâu Kî", "Xã Kiêu Kỵ"),
    ("Phöôøng OÂ Chôï Döøa", "Phường Ô Chợ Dừa"),
    ("Nguyeãn Thò ÖÙng", "Nguyễn Thị Ứng"),
    ("Khoâng", "Không"),
    ("COÄNG HOØA XAÕ HOÄI CHUÛ NGHÓA VIEÄT NAM", "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM"),
    ("ÑAÛNG UÛY XAÕ TAÂN HAØ", "ĐẢNG ỦY XÃ TÂN HÀ"),
    ("ÖÔÙC TÍNH", "ƯỚC TÍNH"),
]
LEGACY_CASES = [(t, u, TCVN3) for t, u in TCVN3_CASES] + [(t, u, VNI) for t, u in VNI_CASES]

NOT_LEGACY = [
    "",
    "   ",
    "Khu phố 3",
    "Ấp An Thạnh",
    "Mỹ Hòa",
    "Cộng hoà xã hội chủ nghĩa Việt Nam",
    unicodedata.normalize("NFD", "Cộng hoà xã hội chủ nghĩa Việt Nam"),
    "Xã Tân Hà",  # correct Vietnamese that is all Latin-1
    "Bé Ba",
    "Cà Mau",
    "Trà Ôn",
    "Sông Bé",
    "HOÀ BÌNH",
    "Café crème",
    "Müller",
    "José García",
    "São Paulo",
    "Björk",
    "naïve",
    "Je ne sais pas où il est",
    "Todavía aún no ha llegado",
    "aún",
    "où",
    "5 µm",
    "3 × 4",
    "© 2020 Công ty",
    "£50 per day",
    "½ cup",
    "29110-03",
    "nguyen.van.a@example.vn",
    "1.234,5",
    "0901 234 567",
]


@cache
def national_rows() -> list[dict[str, str]]:
    with legacy._NAMES_CSV.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def national_names() -> list[str]:
    """Every distinct commune, district and province name."""
    keys = ("province_name", "district_name", "commune_name")
    return sorted({row[key] for row in national_rows() for key in keys})


@pytest.mark.parametrize(("text", "expected", "encoding"), LEGACY_CASES)
def test_legacy_text_is_repaired_to_nfc_unicode(text: str, expected: str, encoding: str) -> None:
    assert repair(text) == (expected, encoding)
    assert unicodedata.is_normalized("NFC", repair(text)[0])


@pytest.mark.parametrize(("text", "expected", "encoding"), LEGACY_CASES)
def test_encode_legacy_writes_what_the_legacy_font_would(
    text: str, expected: str, encoding: str
) -> None:
    assert encode_legacy(expected, encoding) == text


def test_guillemets_around_tcvn3_text_stay_quotes() -> None:
    # « and » are also the TCVN3 codes of ô and ằ; at a word's edge they are quotes if that reads
    # better, inside a word letters.
    assert repair("«Céng hoµ x· héi»") == ("«Cộng hoà xã hội»", TCVN3)
    assert repair("«ng B¶y b»ng lßng") == ("ông Bảy bằng lòng", TCVN3)


def test_encode_legacy_gives_the_reference_examples() -> None:
    unicode = "Cộng hoà xã hội chủ nghĩa Việt Nam"
    assert encode_legacy(unicode, TCVN3) == "Céng hoµ x· héi chñ nghÜa ViÖt Nam"
    assert encode_legacy("Cộng hòa xã hội chủ nghĩa Việt Nam", VNI) == (
        "Coäng hoøa xaõ hoäi chuû nghóa Vieät Nam"
    )


def test_encode_legacy_accepts_nfd_and_keeps_what_it_cannot_encode() -> None:
    nfd = unicodedata.normalize("NFD", "Tiền Giang")
    assert encode_legacy(nfd, TCVN3) == encode_legacy("Tiền Giang", TCVN3) == "TiÒn Giang"
    assert encode_legacy("Tổ 3 – № 5 €", VNI) == "Toå 3 – № 5 €"


def test_encode_legacy_rejects_an_unknown_encoding() -> None:
    with pytest.raises(ValueError, match="unknown legacy encoding"):
        encode_legacy("Xã", "VISCII")


@pytest.mark.parametrize("text", NOT_LEGACY)
def test_text_that_is_not_legacy_is_returned_unchanged(text: str) -> None:
    assert repair(text) == (text, None)
    assert suspect(text) is None


def test_ascii_and_unicode_vietnamese_take_the_fast_path(monkeypatch: pytest.MonkeyPatch) -> None:
    def fail(*_: object) -> None:
        raise AssertionError("decoder reached")

    monkeypatch.setattr(legacy, "_candidate", fail)
    for text in ("Khu pho 3", "Xã Tân Mỹ", "Phường 1", "Trần Thị Bình", "29110-03"):
        assert repair(text) == (text, None)


def test_no_national_name_is_changed_in_nfc_or_nfd() -> None:
    names = national_names()
    changed = [name for name in names if repair(name) != (name, None)]
    nfd = [unicodedata.normalize("NFD", name) for name in names]
    changed += [name for name in nfd if repair(name) != (name, None)]
    assert len(names) > 8_000
    assert changed == []


# TCVN3 has no codes for capital toned letters, so these official names (written with a lower-case
# initial, or with a cluster like "SR" that reads as capitals) come back differing in case only.
TCVN3_CASE_ONLY = {
    "Xã AL Bá",
    "Xã An Ấp",
    "Xã Mường é",
    "Xã Nậm ét",
    "Xã Pa ủ",
    "Xã SRó",
    "Xã Triệu ẩu",
    "Xã é Tòng",
    "Xã Đại áng",
    "Xã Đồng ý",
}


@pytest.mark.parametrize("encoding", [TCVN3, VNI])
def test_every_national_commune_name_round_trips_through_the_legacy_encoding(
    encoding: str,
) -> None:
    communes = [row["commune_name"] for row in national_rows()]
    assert len(communes) == 10_767
    missed, case_only, wrong = [], set(), []
    for name in communes:
        text, found = repair(encode_legacy(name, encoding))
        if found != encoding:
            missed.append(name)
        elif text != name:
            (case_only.add if text.lower() == name.lower() else wrong.append)(name)
    assert missed == []  # detection: 10,767 of 10,767
    assert wrong == []
    assert case_only == (TCVN3_CASE_ONLY if encoding == TCVN3 else set())


@pytest.mark.parametrize("encoding", [TCVN3, VNI])
def test_district_and_province_names_round_trip(encoding: str) -> None:
    keys = ("province_name", "district_name")
    names = {row[key] for row in national_rows() for key in keys}
    assert {
        name for name in names if repair(encode_legacy(name, encoding)) != (name, encoding)
    } == (set())


def test_column_evidence_repairs_cells_too_short_to_judge_alone() -> None:
    column = ["X· T©n Hµ", "Cã", "Phã", "Kh«ng", "An Phã", "Café", "29110-03", ""]
    assert [repair(v)[1] for v in column] == [TCVN3, None, None, TCVN3, None, None, None, None]
    assert repair_column(column) == [
        ("Xã Tân Hà", TCVN3),
        ("Có", TCVN3),
        ("Phó", TCVN3),
        ("Không", TCVN3),
        ("An Phó", TCVN3),
        ("Café", None),
        ("29110-03", None),
        ("", None),
    ]


def test_column_with_unicode_vietnamese_converts_only_cells_that_gain_a_word() -> None:
    # "Toát", "Thò" and "Cô Tô" are real words: in a column that also holds correct Unicode
    # they may well be typed right, so only cells that were not Vietnamese as typed change.
    column = ["Xaõ Taân Haø", "Coù", "Toát", "Thò", "Cô Tô", "Hà Nội"]
    assert repair_column(column) == [
        ("Xã Tân Hà", VNI),
        ("Có", VNI),
        ("Toát", None),
        ("Thò", None),
        ("Cô Tô", None),
        ("Hà Nội", None),
    ]


def test_correct_words_in_a_column_mixing_legacy_and_unicode_are_never_changed() -> None:
    # "nói móc" would read "núi múc" in TCVN3, "bò toài" "bị tồi" in VNI: both trade real
    # words, so they stay, whatever the legacy cells around them.
    for encoding in (TCVN3, VNI):
        legacy_cells = [encode_legacy(t, encoding) for t in ("Nguyễn Văn Tám", "Lê Thị Hằng")]
        correct = ["nói móc", "bò toài", "chán phè", "Bé Ba", "Cà Mau", "Hà Nội", "lã chã"]
        out = repair_column([*legacy_cells, *correct])
        assert [t for t, _ in out[:2]] == ["Nguyễn Văn Tám", "Lê Thị Hằng"]
        assert out[2:] == [(t, None) for t in correct]


def test_column_never_converts_a_cell_holding_letters_the_encoding_has_no_code_for() -> None:
    # "à" and "À" are no VNI spelling (VNI writes "aø"), so "Bà Tô" is not VNI for "Bà Tơ".
    column = ["Xaõ Taân Haø", "Coù", "Bà Tô", "ĐÀ NẴNG"]
    assert repair_column(column)[2:] == [("Bà Tô", None), ("ĐÀ NẴNG", None)]


def test_column_without_legacy_evidence_or_with_both_encodings_is_judged_cell_by_cell() -> None:
    alone = ["Cã", "Bé Ba", "Phã"]
    assert repair_column(alone) == [(v, None) for v in alone]
    mixed = ["X· T©n Hµ", "Xaõ Taân Haø", "Cã", "Coù"]
    assert repair_column(mixed) == [repair(v) for v in mixed]


# --- one cell on its own (issue 13) --------------------------------------------------------------
@pytest.mark.parametrize(
    ("text", "expected", "encoding"),
    [
        ("Lª", "Lê", TCVN3),  # a TCVN3 symbol inside a word: never correct text
        ("NguyÔn", "Nguyễn", TCVN3),  # a capital inside a small-letter word
        ("§ç", "Đỗ", TCVN3),
        ("Nguyeãn", "Nguyễn", VNI),  # no Vietnamese syllable as typed
        ("Quyønh", "Quỳnh", VNI),
        ("Huyønh", "Huỳnh", VNI),
        ("Nghóa", "Nghĩa", VNI),  # "ngh" never goes before "o"
        ("Nguyeát", "Nguyết", VNI),  # a name's syllable in no dictionary, long enough to tell
    ],
)
def test_a_single_clearly_legacy_word_is_repaired(text: str, expected: str, encoding: str) -> None:
    assert repair(text) == (expected, encoding)


@pytest.mark.parametrize(
    ("name", "encoding"),
    [
        ("Lê Minh Anh", TCVN3),
        ("Phan Tấn Nam", TCVN3),
        ("Phan Huy Quỳnh", TCVN3),
        ("Đỗ Thanh Minh", TCVN3),
        ("Phan Như Khang", VNI),
        ("Phan Minh Huấn", VNI),
        ("Lê Minh Anh", VNI),
    ],
)
def test_a_name_with_only_one_encoded_word_is_repaired(name: str, encoding: str) -> None:
    assert sum(not w.isascii() for w in name.split()) == 1
    assert repair(encode_legacy(name, encoding)) == (name, encoding)


@pytest.mark.parametrize("word", ["cơng", "cơc", "nghóa", "ghà", "kan", "quu", "ăn̉", "phă", "gê"])
def test_non_syllables_are_rejected(word: str) -> None:
    assert not legacy._is_syllable(word)


@pytest.mark.parametrize("word", ["công", "cơm", "nghĩa", "ghế", "kênh", "quỳnh", "khuya", "giữ"])
def test_syllables_are_accepted(word: str) -> None:
    assert legacy._is_syllable(word)


def test_a_decoding_into_a_non_syllable_is_not_taken() -> None:
    # "C¬ng" would read "Cơng": no Vietnamese syllable, so not a repair; it still looks typed in
    # TCVN3 (a symbol inside a word), so it is reported, not half-converted.
    assert repair("C¬ng") == ("C¬ng", None)
    assert suspect("C¬ng") == TCVN3


@pytest.mark.parametrize(
    ("text", "expected", "encoding"),
    [
        # TCVN3 bytes read through code page 1258: 0xCC (è) is a combining grave there.
        ("NguyÔn Th\u0303 Ngh\u0300o", "Nguyễn Thị Nghèo", TCVN3 + " (cp1258)"),
        ("Lª V¨n Phă", "Lê Văn Phó", TCVN3 + " (cp1258)"),
        # VNI through code page 1258: 0xF5 (õ) is ơ there, 0xE3 (ã) ă.
        (
            "Coäng hoaø xaơ hoäi chuû nghóa Vieät Nam",
            "Cộng hoà xã hội chủ nghĩa Việt Nam",
            VNI + " (cp1258)",
        ),
        ("Nguyeăn", "Nguyễn", VNI + " (cp1258)"),
    ],
)
def test_legacy_text_read_through_code_page_1258_is_repaired(
    text: str, expected: str, encoding: str
) -> None:
    assert repair(text) == (expected, encoding)


def bytes_through(text: str, encoding: str, codepage: str) -> str:
    """Unicode → legacy bytes (UniKey's tables as encode_legacy writes them) → read as codepage."""
    data = encode_legacy(text, encoding).encode("cp1252")
    return data.decode(codepage)


@pytest.mark.parametrize("encoding", [TCVN3, VNI])
def test_names_read_through_code_page_1258_are_repaired_or_reported_never_half(
    encoding: str,
) -> None:
    names = ["Nguyễn Thị Nghèo", "Trần Văn Ơn", "Lê Thị Hằng", "Võ Văn Kiệt", "Đỗ Mười"]
    for name in names:
        text = bytes_through(name, encoding, "cp1258")
        fixed, found = repair(text)
        # A name none of whose bytes code page 1258 reads differently is plain legacy text.
        assert (fixed, found) in (
            (name, f"{encoding} (cp1258)"),
            (name, encoding),
            (text, None),
        ), text
        if found is None and text != name:
            assert suspect(text), text


def test_correct_text_that_code_page_1258_can_show_is_left_alone() -> None:
    for text in ("ĐT", "Đông Hà", "giăng giăng", "(Đã ký)", "Thă-na", "Ơn", "5.000 ₫"):
        for form in (text, unicodedata.normalize("NFD", text)):
            assert repair(form) == (form, None)
            assert suspect(form) is None


def test_vn1_capitals_are_decoded() -> None:
    # VN1 writes capital toned letters with their own codes: Á is 0x83, read as cp1252 "ƒ".
    assert encode_legacy("Nguyễn Ánh", VN1) == "NguyÔn ƒnh"
    assert repair("NguyÔn ƒnh") == ("Nguyễn Ánh", VN1)
    assert repair(encode_legacy("Ấp Tân Thạnh", VN1)) == ("Ấp Tân Thạnh", VN1)
    # A byte cp1252 leaves undefined arrives as its C1 control: 0x90 is Í.
    assert repair("\x90ch Lîi") == ("Ích Lợi", VN1)


def test_vn1_punctuation_codes_stay_punctuation_around_words() -> None:
    assert repair("“X· T©n Hµ” – 2018") == ("“Xã Tân Hà” – 2018", TCVN3)


def test_text_that_looks_legacy_but_does_not_decode_is_reported_not_half_repaired() -> None:
    # "x· boå sung" is TCVN3 "xã" beside VNI "bổ": reading it as VNI would leave "x·" behind.
    for text in ("X· Abcµ", "Lª Qzx÷", "x· boå sung", "Lª Nguyeãn"):
        assert repair(text) == (text, None)
        assert suspect(text) == TCVN3


LETTERS = (
    "abcdeghiklmnopqrstuvxyABCDEGHIKLMNOPQRSTUVXY 0123456789-'.,«»"
    + bytes(range(0x80, 0x100)).decode("cp1252", errors="ignore")
    + "ăâêôơưđĂÂÊÔƠƯĐạảấầẩẫậắằẳẵặẹẻẽếềểễệỉịọỏốồổỗộớờởỡợụủứừửữựỳỵỷỹ\u0300\u0301\u0303\u0309\u0323"
)


@settings(deadline=None)
@given(st.one_of(st.text(), st.text(alphabet=LETTERS)))
def test_repair_never_raises_and_is_idempotent(text: str) -> None:
    fixed, encoding = repair(text)
    assert repair(fixed)[0] == fixed
    assert encoding in (None, TCVN3, VNI, VN1) or encoding.removesuffix(" (cp1258)") in (
        TCVN3,
        VNI,
        VN1,
    )
    if encoding is None:
        assert fixed == text
    else:
        assert unicodedata.is_normalized("NFC", fixed)


@settings(deadline=None)
@given(
    st.lists(
        st.sampled_from(sorted(w for w in legacy._lexicon() if len(w) > 1)), min_size=1, max_size=6
    ),
    st.sampled_from([TCVN3, VNI]),
)
def test_encoded_vietnamese_repairs_to_the_same_words_or_is_left_alone(
    words: list[str], encoding: str
) -> None:
    text = " ".join(words)
    fixed, found = repair(encode_legacy(text, encoding))
    assert found in (None, encoding)
    if found:
        assert fixed.lower() == text.lower()


# --- through normalize: a finding per column, cells kept as typed -------------------------------
def test_a_tab_reports_text_that_looks_legacy_but_does_not_decode() -> None:
    from sync.layout import commune_layout
    from sync.normalize import normalize_tab

    meetings = commune_layout()["meetings"]
    header = [c.header for c in meetings.columns]
    rows = [
        [encode_legacy("Ấp An Thạnh", TCVN3), "03/2018", "05/03/2018", 20, 18, "x", "x", "X· Abcµ"],
        ["Ấp Tân Hòa", "04/2018", "05/04/2018", 20, 18, "x", "x", "nói móc"],
    ]
    raw = normalize_tab({meetings.title: [header, *rows]}, meetings, "29110")
    assert raw.frame["hamlet"].tolist() == ["Ấp An Thạnh", "Ấp Tân Hòa"]
    assert raw.frame["note"].tolist() == ["X· Abcµ", "nói móc"]  # kept as typed, not half-done
    found = {(f.code, f.cell, f.severity) for f in raw.findings if f.code.startswith("legacy")}
    assert found == {("legacy_text", "A2", "Thông tin"), ("legacy_suspected", "H2", "Cảnh báo")}
    [doubt] = [f for f in raw.findings if f.code == "legacy_suspected"]
    assert "X· Abcµ" in doubt.message and "TCVN3" in doubt.message


# --- the public corpus (tests/data/legacy, see its README) ---------------------------------------
CORPUS = Path(__file__).parent / "data" / "legacy"


def corpus(name: str) -> list[str]:
    return gzip.decompress((CORPUS / f"{name}.txt.gz").read_bytes()).decode("utf-8").splitlines()


@cache
def unikey_tables() -> dict[str, dict[str, bytes]]:
    out: dict[str, dict[str, bytes]] = {TCVN3: {}, VNI: {}, VN1: {}}
    for row in (CORPUS / "tables.tsv").read_text(encoding="utf-8").splitlines()[1:]:
        letter, tcvn3, vni, vn1 = row.split("\t")
        for encoding, code in ((TCVN3, tcvn3), (VNI, vni), (VN1, vn1)):
            out[encoding][letter] = bytes.fromhex(code)
    return out


def unikey_encode(text: str, encoding: str, codepage: str = "cp1252") -> str:
    """Legacy text made with UniKey's tables (not sync.legacy's), read through a code page;
    bytes cp1252 leaves undefined arrive as C1 controls, as Windows gives them."""
    table = unikey_tables()[encoding]
    data = b"".join(table.get(ch) or ch.encode("cp1252") for ch in text)
    return "".join(bytes([b]).decode(codepage, errors="ignore") or chr(b) for b in data)


@pytest.mark.parametrize("encoding", [TCVN3, VNI, VN1])
def test_tables_agree_with_unikey_and_glibc(encoding: str) -> None:
    table = unikey_tables()[encoding]
    assert len(table) == 134
    ours = {letter: encode_legacy(letter, encoding) for letter in table}
    theirs = {letter: code.decode("cp1252", errors="ignore") or chr(code[0])
              for letter, code in table.items()}  # fmt: skip
    assert ours == theirs


def test_names_of_the_corpus_round_trip_in_a_sample() -> None:
    names = corpus("names")[::97]
    for encoding in (TCVN3, VNI):
        restored = sum(repair(unikey_encode(n, encoding))[0] == n for n in names)
        assert restored >= 0.98 * len(names), encoding


@pytest.mark.slow
@pytest.mark.parametrize("encoding", [TCVN3, VNI])
def test_corpus_names_are_restored_one_cell_at_a_time(encoding: str) -> None:
    names = corpus("names")
    wrong, restored = [], 0
    for name in names:
        text = unikey_encode(name, encoding)
        fixed = repair(text)[0]
        restored += fixed == name
        if fixed not in (name, text):
            wrong.append((text, fixed))
    assert restored >= 0.99 * len(names)
    assert wrong == []  # a cell is repaired whole or left as typed


@pytest.mark.slow
def test_corpus_of_correct_unicode_is_never_repaired() -> None:
    changed = []
    for name in ("names", "words", "sentences", "proper_nouns", "units", "ui_vi", "foreign"):
        for text in corpus(name):
            for form in {text, unicodedata.normalize("NFD", text)}:
                if repair(form) != (form, None):
                    changed.append(form)
    assert changed == []


@pytest.mark.slow
@pytest.mark.parametrize("encoding", [TCVN3, VNI])
def test_corpus_words_in_mixed_columns_are_never_changed(encoding: str) -> None:
    words = [w for w in corpus("words") if not w.isascii()]
    names = corpus("names")
    changed = []
    for k in range(0, len(words), 20):
        cells = [unikey_encode(names[(k + j) % len(names)], encoding) for j in range(3)]
        column = cells + words[k : k + 20]
        out = repair_column(column)[3:]
        changed += [(w, t) for w, (t, _) in zip(words[k : k + 20], out, strict=True) if w != t]
    assert changed == []
