"""Legacy Vietnamese 8-bit text (TCVN3/ABC, VNI-Windows) pasted as Windows-1252: detect, repair.

An old .xls/.doc typed in a ``.VnTime`` (TCVN3) or ``VNI-Times`` (VNI) font shows up in Excel or
Google Sheets as its bytes read as cp1252: "Céng hoµ x· héi" (TCVN3), "Coäng hoøa xaõ hoäi" (VNI),
both "Cộng hoà xã hội". TCVN3 is one byte per lower-case letter; VNI is a base letter followed by
mark bytes.

Detection is conservative. ASCII text, or text with any character outside cp1252 (ạ, ư, đ, a
combining mark ...), is never legacy and returns at once. Otherwise each decoding is scored word by
word: 0 not a Vietnamese syllable, 1 a valid syllable, 2 a word of the national name list
(``data/vn_admin_units_2020.csv``), 3 a hamlet prefix such as "phố" at the start. A decoding is
taken when words that were not Vietnamese (or that rise by two) rise by two in all ("x·" 0 → "xã"
2; "cËn nghÌo" 0 → 1 twice), no word stops being Vietnamese, the rises outweigh twice the falls,
and the words mostly read as Vietnamese after. Correct text such as "Xã Tân Hà" (all Latin-1)
only falls ("Xó Tõn") and is left alone.

TCVN3 has codes for lower case and for Ă Â Ê Ô Ơ Ư Đ only; a capital toned letter is written with
the lower-case code and drawn upper case by a ``.VnTimeH`` font. Repair upper-cases words typed in
capitals ("C«NG"; all words of "X· AN Hµ", which has no lower-case ASCII), and capitalises a
word-initial toned letter at the start of the text or among mostly capitalised words ("Êp An
Th¹nh" → "Ấp An Thạnh"). The VN1 codes for capital toned letters (C0 controls, €, –, “ ...) are not
decoded: they clash with ordinary punctuation.
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
ENCODINGS = (TCVN3, VNI)

_TONES = "\u0300\u0309\u0303\u0301\u0323"  # huyền, hỏi, ngã, sắc, nặng: the order of the tables
_NAMES_CSV = Path(__file__).parent / "data" / "vn_admin_units_2020.csv"


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


_ENCODE, _DECODE = _build()
_TCVN3_UPPER = frozenset("¡¢£¤¥¦§")
_SHOUTED = re.compile("[\xa8-\xae\xb5-\xb9\xbb-\xbe\xc6-\xff].*[A-Z\xa1-\xa7]")
_CAPITALS = re.compile("[A-Z\xa1-\xa7]")
_LOWER_IN_TITLES = _words("ủy ấp ở ấy")  # "Huyện ủy Ba Tri", "Chi bộ ấp Tân Hòa"
_TCVN3_TONED = frozenset("".join(toned for _, toned in _TCVN3_ROWS.values()))

_LATIN1_LETTERS = "A-Za-z\xc0-\xd6\xd8-\xf6\xf8-\xff"
_TOKEN = {
    TCVN3: re.compile(f"[{_LATIN1_LETTERS}\xa1-\xae\xb5-\xb9\xbb-\xbe\xd7\xf7]+"),
    VNI: re.compile(f"[{_LATIN1_LETTERS}]+"),
}
_CP1252_HIGH = bytes(range(0x80, 0x100)).decode("cp1252", errors="ignore")
_NOT_CP1252 = re.compile(f"[^\\x00-\\x7f{re.escape(_CP1252_HIGH)}]")
_ASCII_LETTER = re.compile("[A-Za-z]")

# --- what a Vietnamese syllable looks like -----------------------------------------------------
# Clusters such as "kr", "bl", "chr" spell minority-language names: Krông, Bhăng, Chrôh.
_INITIALS = ("ngh", "chr", "ch", "gh", "gi", "kh", "ng", "nh", "ph", "qu", "th", "tr",
             "bl", "br", "dl", "dr", "gl", "gr", "hl", "hm", "hn", "kl", "km", "kn", "kr", "pl",
             "pr", "sr", *"bcdđghklmnprstvx", "")  # fmt: skip
_VOWELS = frozenset("aăâeêioôơuưy")
# Vowel groups that take no final consonant, need one, or take either.
_OPEN = _words(
    "ai ao au ay âu ây eo êu ia iu oi ôi ơi ua ui ưa ưi ưu uơ iêu yêu oai oay oao oeo uôi ươi ươu "
    "uây uya uyu"
)
_CLOSED = _words("ă â iê yê uô ươ uyê oă uâ oo")
_EITHER = _words("a e ê i o ô ơ u ư y oa oe uy uê")
_FINALS = frozenset(("c", "ch", "m", "n", "ng", "nh", "p", "t", "k"))  # k: Đắk, Búk, Pốk
_MODIFIED = frozenset("ăâêôơư")


def _rhyme_ok(rhyme: str, tone_at: int | None, tone: str | None) -> bool:
    n = 0
    while n < len(rhyme) and rhyme[n] in _VOWELS:
        n += 1
    nucleus, final = rhyme[:n], rhyme[n:]
    if final:
        if final not in _FINALS or nucleus not in _CLOSED | _EITHER:
            return False
        if final in ("ch", "nh") and nucleus[-1] not in "aêiy":
            return False
        if final in ("c", "ch", "p", "t", "k") and tone not in (None, "\u0301", "\u0323"):
            return False
    elif nucleus not in _OPEN | _EITHER:
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


@lru_cache(maxsize=65_536)
def _is_syllable(word: str) -> bool:
    """One Vietnamese syllable in lower, Title or UPPER case, old or new tone placement."""
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
    for initial in _INITIALS:
        rest = base[len(initial) :]
        if not base.startswith(initial) or not rest or rest[0] not in _VOWELS:
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

_PREFIXES = _words("ấp phố thôn xóm khóm bản tổ làng buôn đội")


@lru_cache(maxsize=1)
def _lexicon() -> frozenset[str]:
    """Lower-case words of every province, district and commune name, plus common sheet words."""
    words = set(_EXTRA_WORDS)
    with _NAMES_CSV.open(encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle):
            for key in ("province_name", "district_name", "commune_name"):
                words.update(w.lower() for w in re.findall(r"[^\W\d_]+", _nfc(row[key])))
    return frozenset(words)


def _score(word: str, at_start: bool = False) -> int:
    """0: not Vietnamese, 1: a valid syllable, 2: a word of the national name list, 3: a hamlet
    prefix ("Khu phố", "Xóm") at the start of the text."""
    lowered = word.lower()
    if at_start and lowered in _PREFIXES:
        return 3
    if lowered in _lexicon():
        return 2
    return 1 if _is_syllable(word) else 0


# --- detection ---------------------------------------------------------------------------------
@dataclass
class _Candidate:
    text: str
    encoding: str
    gain: int = 0  # sum of the score rises
    loss: int = 0  # sum of the score falls
    broken: int = 0  # words that read as Vietnamese before and not after
    strong: int = 0  # rises of words that were not Vietnamese, or rose by two or more (see below)
    valid: int = 0  # words of two or more letters, after decoding, that read as Vietnamese
    invalid: int = 0  # ... that do not, with a non-ASCII letter left in them ("cancérise")
    unknown: int = 0  # ... that do not, all ASCII: minority names like "Kroong", or English
    unreadable: int = 0  # changed words that do not read as Vietnamese after decoding
    leftover: int = 0  # non-ASCII letters the encoding has no code for: "à" is no VNI spelling

    def confident(self) -> bool:
        return (
            self.strong >= 2
            and self.broken == 0
            and self.gain >= 2 * self.loss
            and 2 * self.valid >= 4 * self.invalid + self.unknown
        )

    def fits_column(self, strict: bool) -> bool:
        """The test once the column has shown its encoding: every letter is a code of it, no word
        gets worse or unreadable, and (in a column also holding Unicode Vietnamese) one improves."""
        return not (self.loss or self.unreadable or self.leftover) and (self.gain or not strict)


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


def _decode_tcvn3(tokens: list[str]) -> list[str]:
    """Decode TCVN3 words and restore the capitals that .VnTimeH drew from lower-case codes."""
    table = _DECODE[TCVN3]
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


def _candidate(text: str, encoding: str) -> _Candidate | None:
    spans = [m.span() for m in _TOKEN[encoding].finditer(text)]
    tokens = [text[a:b] for a, b in spans]
    if encoding == TCVN3:
        # « and » also quote text: drop them from a word's edges when the word reads better so.
        for i, (tok, (a, b)) in enumerate(zip(tokens, spans, strict=True)):
            head, tail = tok[0] == "«", tok[-1] == "»"
            core = tok[head : len(tok) - tail]
            if core and core != tok:
                whole, inner = _decode_tcvn3([tok])[0], _decode_tcvn3([core])[0]
                if _score(inner) > _score(whole):
                    tokens[i], spans[i] = core, (a + head, b - tail)
        decoded = _decode_tcvn3(tokens)
        leftovers = [sum(not c.isascii() and c not in _DECODE[TCVN3] for c in t) for t in tokens]
    else:
        pairs = [_decode_vni(tok) for tok in tokens]
        decoded, leftovers = [d for d, _ in pairs], [n for _, n in pairs]
    cand = _Candidate(text, encoding, leftover=sum(leftovers))
    pieces, last = [], 0
    for i, ((start, end), tok, new) in enumerate(zip(spans, tokens, decoded, strict=True)):
        pieces += [text[last:start], new]
        last = end
        new_score = _score(new, at_start=i <= 1)
        if len(new) >= 2:
            cand.valid += new_score > 0
            cand.invalid += new_score == 0 and not new.isascii()
            cand.unknown += new_score == 0 and new.isascii()
        if new == tok:
            continue
        old_score = _score(tok, at_start=i <= 1)
        delta = new_score - old_score
        cand.gain += max(delta, 0)
        cand.loss += max(-delta, 0)
        cand.broken += new_score == 0 < old_score
        cand.unreadable += new_score == 0
        # Strong evidence needs an ASCII letter and two letters: "où" → "ó" and "5 µm" → "5 àm"
        # are no evidence.
        unit = tok[0] == "µ" and text[:start].rstrip()[-1:].isdigit()
        if (old_score == 0 or delta >= 2) and len(new) >= 2 and _ASCII_LETTER.search(tok):
            cand.strong += 0 if unit else max(delta, 0)
    pieces.append(text[last:])
    cand.text = _nfc("".join(pieces))
    return None if cand.text == text else cand


def _might_be_legacy(text: str) -> bool:
    return not text.isascii() and _NOT_CP1252.search(text) is None


def _best(text: str) -> _Candidate | None:
    found = [c for enc in ENCODINGS if (c := _candidate(text, enc)) and c.confident()]
    if len(found) == 2 and (found[0].gain, found[0].strong) == (found[1].gain, found[1].strong):
        return None  # both readings equally good: leave it
    return max(found, key=lambda c: (c.gain, c.strong), default=None)


def _stable(cand: _Candidate | None) -> _Candidate | None:
    """Keep a conversion only if its result would not be converted again (repair is idempotent)."""
    if cand is None or (_might_be_legacy(cand.text) and _best(cand.text) is not None):
        return None
    return cand


def repair(text: str) -> tuple[str, str | None]:
    """Return (text in NFC Unicode, encoding) where encoding is "TCVN3" or "VNI-Windows" when
    the text was detected as legacy and converted, or (text unchanged, None) otherwise.

    Cheap for correct text: ASCII, or anything with a character outside cp1252, returns at once.
    """
    if not _might_be_legacy(text):
        return text, None
    cand = _stable(_best(text))
    return (cand.text, cand.encoding) if cand else (text, None)


def repair_column(values: list[str]) -> list[tuple[str, str | None]]:
    """`repair` each value, then use the column as evidence for the cells left alone.

    When at least two cells are confidently one legacy encoding and none is the other, every
    other cell that decodes in that encoding without any word getting worse is converted too:
    "Cã" → "Có", "Khoâng" → "Không". If the column also holds Unicode Vietnamese (characters
    outside cp1252), a cell must moreover improve ("An Phó" stays, as it is a real name).
    """
    results = [repair(value) for value in values]
    found = [enc for _, enc in results if enc]
    if len(found) < 2 or len(set(found)) != 1:
        return results
    strict = any(_NOT_CP1252.search(value) for value in values)
    for i, (value, enc) in enumerate(results):
        if enc is None and _might_be_legacy(value):
            cand = _candidate(value, found[0])
            if cand and cand.fits_column(strict) and _stable(cand):
                results[i] = (cand.text, cand.encoding)
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
