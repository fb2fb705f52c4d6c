"""Legacy Vietnamese 8-bit text (TCVN3/ABC, its VN1 variant, VNI-Windows) read as Windows-1252
or Windows-1258: detect, repair, or report as suspected.

An old .xls/.doc typed in a ``.VnTime`` (TCVN3) or ``VNI-Times`` (VNI) font shows up in Excel or
Google Sheets as its bytes read through the machine's code page: "Céng hoµ x· héi" (TCVN3),
"Coäng hoøa xaõ hoäi" (VNI), both "Cộng hoà xã hội", when read as cp1252. On a Vietnamese Windows
(code page 1258) some of those bytes become Ă ă Đ đ Ơ ơ Ư ư ₫ or combining tone marks: TCVN3
"nghÌo" (nghèo) arrives as "ngh" + U+0300 + "o". TCVN3 is one byte per lower-case letter (the
VN3 form of TCVN 5712:1993); its VN1 form adds codes for capital toned letters in C0 controls and
0x80-0x9F ("ƒnh" is "Ánh"). VNI is a base letter followed by mark bytes.

The tables are UniKey's (checked letter by letter against the tables compiled into Debian's
ibus-unikey; VN1 capitals against glibc's TCVN5712-1, see tests/data/legacy/README.md).

Detection is conservative and word by word. Each word is classed: not a Vietnamese syllable
(onset, medial, nucleus, coda and tone in an allowed combination: "cơng", "nghóa" are not), a
well-formed but unknown or rare syllable, or a real one (``data/vi_syllables.csv``, or a word of
the national name list). A decoding is taken when some word gives evidence for it (it was
impossible as typed: a symbol inside a word "x·", a capital after a small letter "TuÊn"; or it was
not Vietnamese and becomes a syllable; or it was an unknown or rare syllable and becomes a real
one), no word gets worse, and the text reads as Vietnamese after. Correct text such as "Xã Tân
Hà" (all Latin-1) only gets worse ("Xó Tõn") and is left alone; "nói móc" would only trade real
words ("núi múc") and is left alone. Text that looks legacy but cannot be decoded with confidence
is never half-converted: ``suspect`` names it, and the caller reports it.

TCVN3 (VN3) has codes for lower case and for Ă Â Ê Ô Ơ Ư Đ only; a capital toned letter is
written with the lower-case code and drawn upper case by a ``.VnTimeH`` font. Repair upper-cases
words typed in capitals ("C«NG"; all words of "X· AN Hµ", which has no lower-case ASCII), and
capitalises a word-initial toned letter at the start of the text or among mostly capitalised
words ("Êp An Th¹nh" → "Ấp An Thạnh").
"""

from __future__ import annotations

import csv
import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from itertools import pairwise
from pathlib import Path

TCVN3 = "TCVN3"
VNI = "VNI-Windows"
VN1 = "TCVN3 (VN1)"
ENCODINGS = (TCVN3, VNI)
VIA_CP1258 = " (cp1258)"  # appended to the encoding of text that was read through code page 1258

_TONES = "\u0300\u0309\u0303\u0301\u0323"  # huyền, hỏi, ngã, sắc, nặng: the order of the tables
_DATA = Path(__file__).parent / "data"
_NAMES_CSV = _DATA / "vn_admin_units_2020.csv"
_SYLLABLES_CSV = _DATA / "vi_syllables.csv"


def _nfc(text: str) -> str:
    return unicodedata.normalize("NFC", text)


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


# --- tables ------------------------------------------------------------------------------------
# TCVN3: letter -> (code without tone, codes with the five tones in _TONES order).
_TCVN3_ROWS = {
    "a": ("a", "µ¶·¸¹"), "ă": ("¨", "»¼½¾Æ"), "â": ("©", "ÇÈÉÊË"), "e": ("e", "ÌÎÏÐÑ"),
    "ê": ("ª", "ÒÓÔÕÖ"), "i": ("i", "×ØÜÝÞ"), "o": ("o", "ßáâãä"), "ô": ("«", "åæçèé"),
    "ơ": ("¬", "êëìíî"), "u": ("u", "ïñòóô"), "ư": ("\xad", "õö÷øù"), "y": ("y", "úûüýþ"),
}  # fmt: skip
# VNI: a vowel is a base letter and marks; these are the mark bytes in _TONES order.
_VNI_BASES = {"a": "a", "ă": "aê", "â": "aâ", "e": "e", "ê": "eâ", "i": "i", "o": "o",
              "ô": "oâ", "ơ": "ô", "u": "u", "ư": "ö", "y": "y"}  # fmt: skip
_VNI_PLAIN, _VNI_HAT, _VNI_BREVE, _VNI_I = "øûõùï", "àåãáä", "èúüéë", "ìæóíò"


def _vni_toned(base: str, tone: int) -> str:
    seq = _VNI_BASES[base]
    if base == "i":
        return _VNI_I[tone]
    if base == "y" and tone == 4:
        return "î"  # ỵ has its own byte
    if seq.endswith("â") and len(seq) == 2:
        return seq[0] + _VNI_HAT[tone]
    if seq.endswith("ê") and len(seq) == 2:
        return seq[0] + _VNI_BREVE[tone]
    return seq + _VNI_PLAIN[tone]


def _build() -> tuple[dict[str, dict[str, str]], dict[str, dict[str, str]]]:
    enc: dict[str, dict[str, str]] = {TCVN3: {"đ": "®"}, VNI: {"đ": "ñ", "Đ": "Ñ"}}
    dec: dict[str, dict[str, str]] = {TCVN3: {"®": "đ"}, VNI: {"ñ": "đ", "Ñ": "Đ"}}
    for base, (plain, toned) in _TCVN3_ROWS.items():
        letters = [base] + [_nfc(base + t) for t in _TONES]
        for letter, code in zip(letters, [plain, *toned], strict=True):
            enc[TCVN3][letter] = code
            if not letter.isascii():
                enc[TCVN3][letter.upper()] = code  # TCVN3 has no codes for capital toned letters
            dec[TCVN3][code] = letter
    for upper, code in zip("ĂÂÊÔƠƯĐ", "¡¢£¤¥¦§", strict=True):
        enc[TCVN3][upper], dec[TCVN3][code] = code, upper
    for base, seq in _VNI_BASES.items():
        pairs = [(base, seq)] + [
            (_nfc(base + t), _vni_toned(base, i)) for i, t in enumerate(_TONES)
        ]
        for letter, code in pairs:
            for case_letter, case_code in ((letter, code), (letter.upper(), code.upper())):
                enc[VNI][case_letter] = case_code
                dec[VNI][case_code] = case_letter
            if len(code) == 2:  # tolerate a base and mark in different cases
                dec[VNI][code[0] + code[1].upper()] = letter
                dec[VNI][code[0].upper() + code[1]] = letter.upper()
    return enc, dec


# VN1 (TCVN 5712:1993 VN1, glibc's TCVN5712-1) adds capital toned letters to TCVN3, as cp1252
# shows their bytes (C0 controls, 0x80-0x9F; bytes cp1252 leaves undefined as C1 controls).
_VN1_CAPITALS = (
    "ÚỤỪỬỮỨỰỲỶỸÝỴÀẢÃÁẠẶẬÈẺẼÉẸỆÌỈĨÍỊÒỎÕÓỌỘỜỞỠỚỢÙỦŨẰẲẴẮẦẨẪẤỀỂỄẾỒỔỖỐ",
    "\x01\x02\x04\x05\x06\x11\x12\x13\x14\x15\x16\x17€\x81‚ƒ„…†‡ˆ‰Š‹Œ\x8dŽ\x8f\x90‘’“”•–—˜™š›œ\x9džŸ"
    "¯º¿ÀÁÂÃÄÅÍÙÚÛàðÿ",
)


def _build_all() -> tuple[dict[str, dict[str, str]], dict[str, dict[str, str]]]:
    enc, dec = _build()
    enc[VN1], dec[VN1] = dict(enc[TCVN3]), dict(dec[TCVN3])
    for letter, code in zip(*_VN1_CAPITALS, strict=True):
        enc[VN1][letter], dec[VN1][code] = code, letter
    return enc, dec


_ENCODE, _DECODE = _build_all()
_VN1_CODES = frozenset(_VN1_CAPITALS[1])
_TCVN3_UPPER = frozenset("¡¢£¤¥¦§")
_SHOUTED = re.compile("[\xa8-\xae\xb5-\xb9\xbb-\xbe\xc6-\xff].*[A-Z\xa1-\xa7]")
_CAPITALS = re.compile("[A-Z\xa1-\xa7]")
_LOWER_IN_TITLES = _words("ủy ấp ở ấy")  # "Huyện ủy Ba Tri", "Chi bộ ấp Tân Hòa"
_TCVN3_TONED = frozenset("".join(toned for _, toned in _TCVN3_ROWS.values()))

_LATIN1_LETTERS = "A-Za-z\xc0-\xd6\xd8-\xf6\xf8-\xff"
_TCVN3_CODES = "\xa1-\xae\xb5-\xb9\xbb-\xbe\xd7\xf7"
_TOKEN = {
    TCVN3: re.compile(f"[{_LATIN1_LETTERS}{_TCVN3_CODES}]+"),
    VN1: re.compile(f"[{_LATIN1_LETTERS}{_TCVN3_CODES}{re.escape(_VN1_CAPITALS[1])}]+"),
    VNI: re.compile(f"[{_LATIN1_LETTERS}]+"),
}
# Symbols TCVN3 uses as letters: never inside a word of correct text ("x·", "Lª", "V¨n"); and
# the VN1 codes that are control characters or ƒ. VN1's other codes are punctuation (’ “ – …) or
# letters of other languages (œ, š) as often: they are decoded, but are no evidence alone.
_ODD = frozenset("¡¢£¤¥¦§¨©ª«¬\xad®µ¶·¸¹»¼½¾×÷ƒ") | frozenset(
    ch for ch in _VN1_CODES if unicodedata.category(ch) == "Cc"
)
_ODD_RE = re.compile(f"[{re.escape(''.join(sorted(_ODD)))}]")
_INNER_CAPITAL = re.compile("[\xc0-\xd6\xd8-\xde]")
_SMALL = re.compile("[a-z\xdf-\xf6\xf8-\xff]")
_CP1252_HIGH = bytes(range(0x80, 0x100)).decode("cp1252", errors="ignore")
_C1_UNDEFINED = "\x81\x8d\x8f\x90\x9d"  # what Windows gives for the bytes cp1252 leaves undefined
_LEGACY_CHARS = re.escape(_CP1252_HIGH + _C1_UNDEFINED + "".join(sorted(_VN1_CODES)))
_NOT_LEGACY = re.compile(f"[^\\x09\\x0a\\x0d\\x20-\\x7e{_LEGACY_CHARS}]")
# VN1 codes that correct Vietnamese never shows (À Ä Å Û ð ÿ, symbols, controls): a text with
# one is worth a VN1 reading; á â ã í ù ú à alone are too common to call for one.
_VN1_ONLY = re.compile(f"[{re.escape(''.join(sorted(_VN1_CODES - frozenset('ÁÂÃÍÙÚà'))))}]")
_ASCII_LETTER = re.compile("[A-Za-z]")
_LETTERS = re.compile(r"[^\W\d_]+")

_CP1258_ONLY = frozenset("ĂăĐđƠơƯư₫\u0300\u0301\u0303\u0309\u0323")
_CP1258_TOKEN = re.compile(
    f"[{_LATIN1_LETTERS}\xa1-\xae\xb5-\xb9\xbb-\xbe\u0300\u0301\u0303\u0309\u0323ĂăĐđƠơƯư₫]+"
)
_CP1258_HIGH = bytes(range(0x80, 0x100)).decode("cp1258", errors="ignore")
_NOT_CP1258 = re.compile(f"[^\\x09\\x0a\\x0d\\x20-\\x7e{re.escape(_CP1258_HIGH)}]")
_CP1258_ONLY_RE = re.compile(f"[{''.join(sorted(_CP1258_ONLY))}]")

# --- what a Vietnamese syllable looks like -----------------------------------------------------
# Clusters such as "kr", "bl", "chr" spell minority-language names: Krông, Bhăng, Chrôh.
_INITIALS = ("ngh", "chr", "ch", "gh", "gi", "kh", "ng", "nh", "ph", "qu", "th", "tr",
             "bl", "br", "dl", "dr", "gl", "gr", "hl", "hm", "hn", "kl", "km", "kn", "kr", "pl",
             "pr", "sr", *"bcdđghklmnprstvx", "")  # fmt: skip
_VOWELS = frozenset("aăâeêioôơuưy")
_FRONT = frozenset("ieêy")  # k, gh, ngh go before these; c, g, ng before the others
# Vowel groups that take no final consonant.
_OPEN = _words(
    "ai ao au ay âu ây eo êu ia iu oi ôi ơi ua ui ưa ưi ưu iêu yêu oai oay oao oeo uôi ươi ươu "
    "uây uya uyu"
)
# Vowel group -> the final consonants it takes ("" when it may end the syllable).
_RHYMES = {
    "a": " c ch m n ng nh p t", "ă": "c m n ng p t", "â": "c m n ng p t",
    "e": " c m n ng p t", "ê": " ch m n nh p t", "i": " ch m n nh p t", "y": " ch nh t",
    "o": " c m n ng p t", "ô": " c m n ng p t", "ơ": " m n p t",
    "u": " c m n ng p t", "ư": " c m n ng t",
    "iê": "c m n ng p t", "yê": "c m n ng p t", "uô": "c m n ng p t", "ươ": "c m n ng p t",
    "oa": " c ch m n ng nh p t", "oă": "c m n ng p t", "oe": " n t", "uâ": "n ng t",
    "uy": " ch n nh p t", "uyê": "n t", "uê": " ch nh", "uơ": "", "oo": "c ng",
}  # fmt: skip
_FINALS = {nucleus: frozenset(finals.split(" ")) for nucleus, finals in _RHYMES.items()}
_MODIFIED = frozenset("ăâêôơư")


def _rhyme_ok(rhyme: str, tone_at: int | None, tone: str | None) -> bool:
    n = 0
    while n < len(rhyme) and rhyme[n] in _VOWELS:
        n += 1
    nucleus, final = rhyme[:n], rhyme[n:]
    if final == "k":  # Đắk, Búk, Pốk: minority place names
        final = "c"
    if final:
        if final not in _FINALS.get(nucleus, ()):
            return False
        if final in ("c", "ch", "p", "t") and tone not in (None, "\u0301", "\u0323"):
            return False
    elif nucleus not in _OPEN and "" not in _FINALS.get(nucleus, ()):
        return False
    if tone_at is None:
        return True
    modified = [i for i, ch in enumerate(nucleus) if ch in _MODIFIED]
    if modified:
        allowed = {modified[-1]}
    elif final:
        allowed = {n - 1}
    elif n == 3:
        allowed = {1}
    else:  # old and new placement: hoà/hòa, thuý/thúy
        allowed = {0, 1} if nucleus in ("oa", "oe", "uy") else {0}
    return tone_at in allowed


def _spelling_ok(initial: str, rest: str) -> bool:
    """Vietnamese spelling of the onset before the vowel: k/gh/ngh before i e ê y, c/g/ng not
    (gi- is its own onset); q only as qu."""
    first = rest[0]
    if initial in ("gh", "ngh"):
        return first in _FRONT
    if initial in ("c", "ng"):
        return first not in _FRONT
    if initial == "g":
        return first not in "eê"
    if initial == "k":
        return first in _FRONT
    if initial == "qu":
        return first != "u"
    return True


@lru_cache(maxsize=65_536)
def _is_syllable(word: str, spelling: bool = True) -> bool:
    """One Vietnamese syllable in lower, Title or UPPER case, old or new tone placement; with
    ``spelling=False``, transcriptions such as "gê" (Ni-gê-ri-a) pass too."""
    if any(a.islower() and b.isupper() for a, b in pairwise(word)):
        return False
    letters: list[str] = []
    tone, tone_at = None, None
    for ch in unicodedata.normalize("NFD", word.lower()):
        if ch in _TONES:
            if tone is not None or not letters:
                return False
            tone, tone_at = ch, len(letters) - 1
        elif unicodedata.combining(ch):
            if not letters:
                return False
            letters[-1] = _nfc(letters[-1] + ch)
        else:
            letters.append(ch)
    base = "".join(letters)
    if not base or any(ch not in "abcdđeghiklmnopqrstuvxy" and ch not in _VOWELS for ch in base):
        return False
    if tone_at is not None and base[tone_at] not in _VOWELS:
        return False
    for initial in _INITIALS:
        rest = base[len(initial) :]
        if not base.startswith(initial) or not rest or rest[0] not in _VOWELS:
            continue
        if not _spelling_ok(initial, rest) and (spelling or initial not in ("c", "g", "k")):
            continue
        at = None if tone_at is None else tone_at - len(initial)
        if (at is None or at >= 0) and _rhyme_ok(rest, at, tone):
            return True
    return False


_EXTRA_WORDS = _words(
    "ấp khu phố thôn xóm bản tổ khóm làng buôn đội số có không hoàn thành tốt xuất sắc nhiệm vụ "
    "vắng dự họp rồi tổng cộng hoà xã hội chủ nghĩa việt nam độc lập tự do hạnh phúc ủy uỷ ban "
    "nhân dân đảng bộ chi ghi chú ngày tháng năm họ tên đạt khá yếu kém trưởng phó bí thư chủ tịch "
    "cán viên hộ nghèo cận hỗ trợ kinh phí báo cáo kết quả kiểm tra danh sách phụ trách địa bàn "
    "sinh hoạt định kỳ giao khối vận thăm gia đình chính đoàn thanh niên hội liên hiệp nữ mặt trận "
    "cựu chiến binh trình độ học vấn nộp chưa đã lý do người thuỷ thủy"
)

# Pairs of words a sheet writes: one decoding into such a pair is evidence ("Khu phè" → "Khu phố").
_PAIRS = frozenset(
    line.strip()
    for line in """
    khu phố | chi bộ | đảng bộ | đảng viên | ghi chú | bí thư | hộ nghèo | cận nghèo | sinh hoạt
    xuất sắc | hoàn thành | nhiệm vụ | ủy ban | uỷ ban | nhân dân | mặt trận | phụ nữ | cựu chiến
    chiến binh | thanh niên | nông dân | tổ trưởng | trưởng ấp | phó bí | họp chi | số đảng
    """.replace("\n", "|").split("|")
    if line.strip()
)


@lru_cache(maxsize=1)
def _lexicon() -> frozenset[str]:
    """Lower-case words of every province, district and commune name, plus common sheet words."""
    words = set(_EXTRA_WORDS)
    with _NAMES_CSV.open(encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle):
            for key in ("province_name", "district_name", "commune_name"):
                words.update(w.lower() for w in _LETTERS.findall(_nfc(row[key])))
    return frozenset(words)


@lru_cache(maxsize=1)
def _syllables() -> dict[str, int]:
    """Real syllables (lower case, NFC) -> how many dictionary entries use them."""
    counts: dict[str, int] = {}
    if _SYLLABLES_CSV.exists():
        with _SYLLABLES_CSV.open(encoding="utf-8", newline="") as handle:
            for row in csv.DictReader(handle):
                counts[row["syllable"]] = int(row["entries"])
    for word in _lexicon():
        counts[word] = max(counts.get(word, 0), _COMMON)
    return counts


_COMMON = 4  # a syllable used by fewer dictionary entries is rare: "phóc", "múc", "tó"
_OLD_NEW = {  # the other tone placement of an open oa/oe/uy: "hoà" <-> "hòa"
    **{_nfc("o" + t + "a"): _nfc("oa" + t) for t in _TONES},
    **{_nfc("o" + t + "e"): _nfc("oe" + t) for t in _TONES},
    **{_nfc("u" + t + "y"): _nfc("uy" + t) for t in _TONES},
}
_OLD_NEW.update({v: k for k, v in _OLD_NEW.items()})

BAD, UNKNOWN, RARE, REAL = 0, 1, 2, 3


@lru_cache(maxsize=131_072)
def _cls(word: str) -> int:
    """BAD: not a Vietnamese syllable; UNKNOWN: well formed but in no dictionary entry ("cã");
    RARE: in a few entries ("phóc", "múc"); REAL: common, or a word of the national name list."""
    low = _nfc(word.lower())
    if len(low) > 1 and low in _lexicon():
        return REAL  # "Kon", "Ea", "Păh", "EaBar": words of place names
    if not _is_syllable(word):
        return BAD
    count = _syllables().get(low, 0)
    if count < _COMMON and low[-2:] in _OLD_NEW:
        count = max(count, _syllables().get(low[:-2] + _OLD_NEW[low[-2:]], 0))
    return REAL if count >= _COMMON else RARE if count else UNKNOWN


def _odd(token: str) -> bool:
    """A word no correct text has: a TCVN3 symbol or VN1 code among letters ("x·", "§ç"), or a
    capital Latin-1 letter inside a word that has small letters ("TuÊn", "TÊn")."""
    if len(token) < 2:
        return False
    if _ODD_RE.search(token):
        return True
    return _INNER_CAPITAL.search(token, 1) is not None and _SMALL.search(token) is not None


# --- detection ---------------------------------------------------------------------------------
@dataclass
class _Candidate:
    text: str
    encoding: str
    strong: int = 0  # words impossible or not Vietnamese as typed that decode to a syllable
    medium: int = 0  # unknown or rare syllables that decode to real ones ("Phóc" → "Phúc")
    neutral: int = 0  # real words that decode to real words ("Hoàng" ↔ "Hồng"): no evidence
    against: int = 0  # words that get worse (real → rare) or stop being Vietnamese
    valid: int = 0  # words of two or more letters, after decoding, that read as Vietnamese
    invalid: int = 0  # ... that do not, with a non-ASCII letter left in them ("cancérise")
    unknown: int = 0  # ... that do not, all ASCII: minority names like "Kroong", or English
    leftover: int = 0  # non-ASCII letters the encoding has no code for: "à" is no VNI spelling
    quality: int = 0  # how much the changed words' classes rise in all: breaks ties

    def confident(self) -> bool:
        """Enough to convert one cell on its own."""
        if self.leftover or self.against or 2 * self.valid < 4 * self.invalid + self.unknown:
            return False
        if self.unknown:  # foreign words around: ask for more than one word of evidence
            return self.strong >= 2
        return self.strong >= 1 or self.medium >= 2

    def fits_column(self, strict: bool) -> bool:
        """The test once the column has shown its encoding: every letter is a code of it and no
        word gets worse; in a column also holding correct Unicode, some word must improve
        (a cell of real words only, "nói móc", stays as typed)."""
        if self.leftover or self.against:
            return False
        return self.strong + self.medium > 0 or (not strict and self.neutral > 0)


def _decode_vni(token: str) -> tuple[str, int]:
    """The token decoded, and how many of its non-ASCII characters no VNI sequence took."""
    table, out, i, leftover = _DECODE[VNI], [], 0, 0
    while i < len(token):
        pair = token[i : i + 2]
        if len(pair) == 2 and pair in table:
            out.append(table[pair])
            i += 2
        else:
            out.append(table.get(token[i], token[i]))
            leftover += not token[i].isascii() and token[i] not in table
            i += 1
    return "".join(out), leftover


def _decode_tcvn3(tokens: list[str], encoding: str = TCVN3) -> list[str]:
    """Decode TCVN3 words and restore the capitals that .VnTimeH drew from lower-case codes."""
    table = _DECODE[encoding]
    decoded = ["".join(table.get(ch, ch) for ch in tok) for tok in tokens]
    lower = [sum(ch.isascii() and ch.islower() for ch in t) for t in tokens]
    # A capital after a legacy code shows a word typed in capitals ("C«NG"); so does a text with
    # no lower-case ASCII letter and a word of two capitals ("X· AN Hµ"), but not "X· Ia RT«".
    shouted = [_SHOUTED.search(t) is not None and not lower[i] for i, t in enumerate(tokens)]
    caps_text = not any(lower) and any(len(_CAPITALS.findall(t)) >= 2 for t in tokens)
    initials = [t[0] for t in tokens if t[0] not in _TCVN3_TONED]
    for i, tok in enumerate(tokens):
        if shouted[i] or (caps_text and not lower[i]):
            decoded[i] = decoded[i].upper()
        elif tok[0] in _TCVN3_TONED and decoded[i][1:] == decoded[i][1:].lower():
            capitals = sum(ch.isupper() or ch in _TCVN3_UPPER for ch in initials)
            title = capitals > len(initials) - capitals and decoded[i] not in _LOWER_IN_TITLES
            if i == 0 or title:
                decoded[i] = decoded[i][0].upper() + decoded[i][1:]
    return decoded


_EDGES = "«»“”‘’–—…•‚„‹›¿"  # quotes and dashes around a word, also codes of TCVN3/VN1 letters
_QUOTES = _EDGES.replace("«", "").replace("»", "")  # « and » are TCVN3's ô and ằ as often


def _tokens(text: str, encoding: str) -> tuple[list[str], list[tuple[int, int]]]:
    spans = [m.span() for m in _TOKEN[encoding].finditer(text)]
    if encoding == VN1:  # a dash or quotes standing alone stay punctuation: "Tân Hà – 2018"
        spans = [(a, b) for a, b in spans if not all(ch in _EDGES for ch in text[a:b])]
    tokens = [text[a:b] for a, b in spans]
    if encoding != VNI:
        # « » “ ” ... also quote text: drop them from a word's edges when it reads better so.
        for i, (tok, (a, b)) in enumerate(zip(tokens, spans, strict=True)):
            head = 1 if tok[0] in _EDGES else 0
            tail = 1 if len(tok) > head and tok[-1] in _EDGES else 0
            core = tok[head : len(tok) - tail]
            if core and core != tok:
                whole = _decode_tcvn3([tok], encoding)[0]
                inner = _decode_tcvn3([core], encoding)[0]
                if _cls(inner) > _cls(whole):
                    tokens[i], spans[i] = core, (a + head, b - tail)
    return tokens, spans


def _candidate(text: str, encoding: str) -> _Candidate | None:
    tokens, spans = _tokens(text, encoding)
    if encoding == VNI:
        pairs = [_decode_vni(tok) for tok in tokens]
        decoded, leftovers = [d for d, _ in pairs], [n for _, n in pairs]
    else:
        table = _DECODE[encoding]
        decoded = _decode_tcvn3(tokens, encoding)
        leftovers = [sum(not c.isascii() and c not in table for c in t) for t in tokens]
    cand = _Candidate(text, encoding, leftover=sum(leftovers))
    pieces, last = [], 0
    for (start, end), tok, new in zip(spans, tokens, decoded, strict=True):
        pieces += [text[last:start], new]
        last = end
        new_cls = _cls(new)
        letters = len(_nfc(new))
        if letters >= 2:
            cand.valid += new_cls > BAD
            cand.invalid += new_cls == BAD and not new.isascii()
            cand.unknown += new_cls == BAD and new.isascii()
        if new == tok:
            continue
        odd = _odd(tok)
        old_cls = BAD if odd else _cls(tok)
        if old_cls == BAD and not odd and _is_syllable(tok, spelling=False):
            old_cls = UNKNOWN  # "gê" in "Ni-gê-ri-a": a transcription, not evidence
        cand.quality += new_cls - old_cls
        # "5 µm" is a unit, "où" → "ó" one letter: no evidence either way.
        unit = tok[0] == "µ" and text[:start].rstrip()[-1:].isdigit()
        if new_cls == BAD or (old_cls > new_cls):
            cand.against += 1
        elif unit or letters < 2 or not (odd or _ASCII_LETTER.search(tok)):
            continue
        elif odd or (old_cls == BAD and (new_cls >= RARE or letters >= 4)):
            cand.strong += 1  # "Thaï" → "Thạ" (unknown, short) is no evidence; "Nguyeát" is
        elif old_cls == UNKNOWN and new_cls == REAL:
            cand.medium += 1
        else:
            cand.neutral += 1
    for (a, b), (x, y) in zip(pairwise(tokens), pairwise(decoded), strict=True):
        if (a, b) != (x, y) and f"{x} {y}".lower() in _PAIRS and f"{a} {b}".lower() not in _PAIRS:
            cand.strong += 1
    pieces.append(text[last:])
    cand.text = _nfc("".join(pieces))
    return None if cand.text == text else cand


def _candidates(text: str) -> list[_Candidate]:
    encodings = [TCVN3, VNI] + ([VN1] if _VN1_ONLY.search(text) else [])
    return [c for enc in encodings if (c := _candidate(text, enc))]


def _still_odd(text: str) -> bool:
    """Whether a word left after decoding is still impossible as typed ("x·" beside VNI
    "boå"): the text was not one encoding, and converting part of it would half-repair it."""
    return any(_odd(tok.strip(_EDGES)) for tok in _TOKEN[VN1].findall(text))


def _best(text: str) -> _Candidate | None:
    found = [c for c in _candidates(text) if c.confident() and not _still_odd(c.text)]
    found.sort(key=lambda c: (c.strong, c.medium, c.quality), reverse=True)
    if len(found) >= 2 and found[0].text != found[1].text:
        first, second = found[0], found[1]
        if (first.strong, first.medium, first.quality) == (
            second.strong,
            second.medium,
            second.quality,
        ):
            return None  # two readings equally good: leave it
    return found[0] if found else None


def _stable(cand: _Candidate | None) -> _Candidate | None:
    """Keep a conversion only if its result would not be converted again (repair is idempotent)."""
    if cand is None or (_might_be_legacy(cand.text) and _best(cand.text) is not None):
        return None
    return cand


def _might_be_legacy(text: str) -> bool:
    return not text.isascii() and _NOT_LEGACY.search(text) is None


def _cp1252(data: bytes) -> str:
    """Bytes read as cp1252, undefined bytes as the C1 control of the same number (as Windows)."""
    return "".join(bytes([b]).decode("cp1252", errors="ignore") or chr(b) for b in data)


def _through_cp1258(text: str) -> tuple[str, bool] | None:
    """(the cp1252 reading of ``text``'s bytes, whether some word is impossible as it stands)
    when ``text`` looks like legacy bytes read through code page 1258: it holds Ă ă Đ đ Ơ ơ Ư ư
    ₫ or a combining tone mark, and a word is impossible ("ngh\u0300o", "Xaơ") or no syllable
    with such a letter past its start ("Ñoă"; not "ĐT"). Else None."""
    if _NOT_CP1258.search(text) or not _CP1258_ONLY_RE.search(text):
        return None
    tokens = [t.strip(_EDGES) for t in _CP1258_TOKEN.findall(text)]
    odd = any(_odd(t) or _odd_in_cp1258(t) for t in tokens)
    if not odd and not any(_unreadable_in_cp1258(t) for t in tokens):
        return None
    return _cp1252(text.encode("cp1258")), odd


def _unreadable_in_cp1258(token: str) -> bool:
    if not any(ch in _CP1258_ONLY for ch in token[1:]):
        return False
    word = _nfc(token)
    return len(word) >= 2 and not _is_syllable(word)


_PLAIN_VOWELS = frozenset("aeiouyâêôăơưAEIOUYÂÊÔĂƠƯ")


def _odd_in_cp1258(word: str) -> bool:
    """A letter code page 1258 made of a legacy byte, where correct text never has it: Đ/đ
    inside a word ("CĐng"), a tone mark after a consonant or another mark ("ngh\u0300o"), Ă Ơ Ư
    after a small letter, ₫ among letters."""
    for i, ch in enumerate(word):
        if ch in _CP1258_ONLY and i:
            prev = word[i - 1]
            if prev.isalpha() and (ch == "₫" or (ch in "ĐĂƠƯ" and prev.islower())):
                return True  # "hĐt" (TCVN3 hét); not "HĐND", "Kađai"
            if prev in "iI" and word[i - 2 : i - 1] in ("g", "G"):
                continue  # gi- is an onset: "giăng", "giơ"
            if prev in _PLAIN_VOWELS and (
                ch in "ưƯ"
                or (ch in "ơƠ" and prev not in "uưUƯ")
                or (ch in "ăĂ" and prev not in "oOuU")
            ):
                return True  # "Nguyeăn", "Xaơ": VNI marks, not Vietnamese vowels
            # A tone mark after a consonant; but ñ in NFD (n + tilde) is Spanish, not legacy.
            nfd_n_tilde = prev in "nN" and ch == "\u0303"
            if unicodedata.combining(ch) and prev not in _PLAIN_VOWELS and not nfd_n_tilde:
                return True
    return False


@lru_cache(maxsize=1)
def _pair_triggers() -> frozenset[str]:
    """First words of _PAIRS as typed in each encoding ("khu", "hé" for "hộ", "sè" for "số")."""
    firsts = {pair.split()[0] for pair in _PAIRS}
    return frozenset(
        "".join(_ENCODE[enc].get(ch, ch) for ch in word).lower()
        for word in firsts
        for enc in (TCVN3, VNI)
    )


def _plainly_correct(text: str) -> bool:
    """Every word is a common Vietnamese word as typed, none impossible, and none could start
    a sheet phrase: no decoding can find evidence, so none is tried (the common case)."""
    triggers = _pair_triggers()
    for tok in _TOKEN[VN1].findall(text):
        word = tok.strip(_QUOTES)
        if word and (
            _odd(word) or word.lower() in triggers or (not word.isascii() and _cls(word) != REAL)
        ):
            return False
    return True


@lru_cache(maxsize=65_536)
def _analyse(text: str) -> tuple[str, str | None, str | None]:
    """(repaired text, encoding or None, suspected encoding or None) of one cell."""
    if _might_be_legacy(text):
        if _plainly_correct(text):
            return text, None, None
        cand = _stable(_best(text))
        if cand:
            return cand.text, cand.encoding, None
        return text, None, _suspected(text)
    through = _through_cp1258(text)
    if through is None:
        return text, None, None
    remapped, odd = through
    cand = _stable(_best(remapped))
    if cand:
        return cand.text, cand.encoding + VIA_CP1258, None
    return text, None, (_suspected(remapped) or TCVN3) + VIA_CP1258 if odd else None


def _suspected(text: str) -> str | None:
    """The encoding a text not repaired still looks typed in: some word is impossible as typed
    (a TCVN3 symbol or VN1 code among letters, a capital inside a small-letter word)."""
    odd = [w for tok in _TOKEN[VN1].findall(text) if _odd(w := tok.strip(_EDGES))]
    if not odd or all(w[0] == "µ" for w in odd):
        return None
    return VN1 if any(_VN1_ONLY.search(w) for w in odd) else TCVN3


def repair(text: str) -> tuple[str, str | None]:
    """Return (text in NFC Unicode, encoding) where encoding is "TCVN3", "VNI-Windows" or
    "TCVN3 (VN1)", with " (cp1258)" when the bytes were read through code page 1258, when the
    text was detected as legacy and converted, or (text unchanged, None) otherwise.

    Cheap for correct text: ASCII, or anything with a character neither cp1252 nor cp1258 can
    show (ạ, ế, ...), returns at once.
    """
    if not isinstance(text, str) or text.isascii():
        return text, None
    fixed, encoding, _ = _analyse(text)
    return fixed, encoding


def suspect(text: str) -> str | None:
    """The encoding ``text`` looks typed in when ``repair`` left it alone, else None: such a
    cell is kept as typed, never half-converted, and reported."""
    if not isinstance(text, str) or text.isascii():
        return None
    return _analyse(text)[2]


def _base(encoding: str) -> tuple[str, bool]:
    return encoding.removesuffix(VIA_CP1258), encoding.endswith(VIA_CP1258)


def _reads_as_unicode(value: str, encoding: str) -> bool:
    """A cell of correct Vietnamese that the column's encoding would spoil: evidence the column
    mixes Unicode and legacy cells."""
    if _NOT_LEGACY.search(value):
        return _LETTERS.search(value) is not None and not value.isascii()
    if value.isascii():
        return False
    words = _LETTERS.findall(value)
    if not words or any(_cls(w) == BAD for w in words):
        return False
    cand = _candidate(value, encoding)
    return cand is not None and cand.against > 0


def repair_column(values: list[str]) -> list[tuple[str, str | None]]:
    """`repair` each value, then use the column as evidence for the cells left alone.

    When at least two cells are confidently one legacy encoding and none is another, every
    other cell that decodes in that encoding without any word getting worse is converted too:
    "Cã" → "Có", "Khoâng" → "Không". If the column also holds correct Unicode Vietnamese, a cell
    must moreover gain a word ("nói móc" stays: it would only trade real words).
    """
    results = [repair(value) for value in values]
    found = [enc for _, enc in results if enc]
    if len(found) < 2 or len(set(found)) != 1:
        return results
    encoding, via_cp1258 = _base(found[0])
    strict = any(
        enc is None and isinstance(v, str) and _reads_as_unicode(v, encoding)
        for v, (_, enc) in zip(values, results, strict=True)
    )
    for i, (value, enc) in enumerate(results):
        if enc is not None or not isinstance(value, str) or value.isascii():
            continue
        through = _through_cp1258(value) if via_cp1258 else (value, False)
        text = through and through[0]
        if not text or not _might_be_legacy(text):
            continue
        cand = _candidate(text, encoding)
        if cand and cand.fits_column(strict) and _stable(cand):
            results[i] = (cand.text, found[0])
    return results


def encode_legacy(text: str, encoding: str) -> str:
    """Unicode Vietnamese → how that text looks when typed in TCVN3/VNI and read as cp1252
    (the mojibake). Used by the demo generator and by round-trip tests.

    Capital toned letters, which TCVN3 lacks, get the lower-case code as ``.VnTimeH`` text does.
    Characters the encoding cannot hold are kept as they are.
    """
    if encoding not in _ENCODE:
        raise ValueError(f"unknown legacy encoding {encoding!r}; use one of {ENCODINGS}")
    table = _ENCODE[encoding]
    return "".join(table.get(ch, ch) for ch in _nfc(text))
