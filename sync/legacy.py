"""Legacy Vietnamese 8-bit text (TCVN3/ABC, VNI-Windows) pasted as Windows-1252: detect, repair.

An old .xls/.doc typed in a ``.VnTime`` (TCVN3) or ``VNI-Times`` (VNI) font shows up in Excel or
Google Sheets as the bytes read as cp1252: "Céng hoµ x· héi" (TCVN3), "Coäng hoøa xaõ hoäi" (VNI),
both "Cộng hoà xã hội".

Detection is conservative. Text that is ASCII or holds any character outside cp1252 (ạ, ư, đ, a
combining mark...) is never legacy and returns at once. Otherwise each candidate decoding is judged
word by word: a word must get *better* as Vietnamese (from impossible, or from a syllable no name
uses, to a valid syllable or a known name word) with nothing getting worse, and most of the words
must read as Vietnamese afterwards. Correct Vietnamese such as "Xã Tân Hà" (all in Latin-1) gets
worse under either decoding and is left alone.

TCVN3 has codes for lower case and for Ă Â Ê Ô Ơ Ư Đ only; a capital toned letter is written with
the lower-case code (shown upper case by a ``.VnTimeH`` font). Repair upper-cases words whose other
letters are all capitals, and capitalises a word-initial toned letter at the start of the text or
among mostly capitalised words ("Êp An Th¹nh" → "Ấp An Thạnh"). The VN1 codes for capital toned
letters (C0 controls, €, –, “ ...) are not decoded: they clash with ordinary punctuation.
"""

from __future__ import annotations

import csv
import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

TCVN3 = "TCVN3"
VNI = "VNI-Windows"
ENCODINGS = (TCVN3, VNI)

_TONES = "\u0300\u0309\u0303\u0301\u0323"  # huyền, hỏi, ngã, sắc, nặng: the order of the tables
_NAMES_CSV = Path(__file__).parent / "data" / "vn_admin_units_2020.csv"


def _nfc(text: str) -> str:
    return unicodedata.normalize("NFC", text)


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
    for table in dec.values():
        for key in [k for k, v in table.items() if k == v]:
            del table[key]
    return enc, dec


_ENCODE, _DECODE = _build()
_TCVN3_UPPER = frozenset("¡¢£¤¥¦§")
_SHOUTED = re.compile("[\xa8-\xae\xb5-\xb9\xbb-\xbe\xc6-\xff].*[A-Z\xa1-\xa7]")
_CAPITALS = re.compile("[A-Z\xa1-\xa7]")
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
_INITIALS = ("ngh", "ch", "gh", "gi", "kh", "ng", "nh", "ph", "qu", "th", "tr",
             *"bcdđghklmnprstvx", "")  # fmt: skip
_VOWELS = frozenset("aăâeêioôơuưy")
_OPEN = frozenset("ai ao au ay âu ây eo êu ia iu oi ôi ơi ua ui ưa ưi ưu uơ iêu yêu oai oay oao "
                  "oeo uôi ươi ươu uây uya uyu".split())  # fmt: skip
_CLOSED = frozenset("ă â iê yê uô ươ uyê oă uâ oo".split())
_EITHER = frozenset("a e ê i o ô ơ u ư y oa oe uy uê".split())
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
    """True for one Vietnamese syllable in lower, Title or UPPER case (old or new tone placement)."""
    if any(a.islower() and b.isupper() for a, b in zip(word, word[1:], strict=False)):
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


_EXTRA_WORDS = ("ấp khu phố thôn xóm bản tổ khóm làng buôn đội số có không hoàn thành tốt xuất "
                "sắc nhiệm vụ vắng dự họp rồi tổng cộng hoà xã hội chủ nghĩa việt nam độc lập tự "
                "do hạnh phúc ủy ban nhân dân đảng bộ chi ghi chú ngày tháng năm họ tên")  # fmt: skip


_PREFIXES = frozenset(("ấp", "phố", "thôn", "xóm", "khóm", "bản", "tổ", "làng", "buôn", "đội"))


@lru_cache(maxsize=1)
def _lexicon() -> frozenset[str]:
    """Lower-case words of every province, district and commune name, plus common sheet words."""
    words = set(_EXTRA_WORDS.split())
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
    strong: int = 0  # words that rose by two or more, with an ASCII letter, two letters or more
    worse: int = 0  # words whose score fell
    valid: int = 0  # words of two or more letters, after decoding, that read as Vietnamese
    invalid: int = 0

    def confident(self) -> bool:
        return self.strong >= 1 and self.worse == 0 and self.valid >= 2 * self.invalid

    def plausible(self) -> bool:
        """Weaker test used with column evidence: something improved, nothing got worse."""
        return self.gain >= 1 and self.worse == 0


def _decode_vni(token: str) -> str:
    table, out, i = _DECODE[VNI], [], 0
    while i < len(token):
        pair = token[i : i + 2]
        if len(pair) == 2 and pair in table:
            out.append(table[pair])
            i += 2
        else:
            out.append(table.get(token[i], token[i]))
            i += 1
    return "".join(out)


def _decode_tcvn3(tokens: list[str]) -> list[str]:
    """Decode TCVN3 words, then restore the capitals the .VnTimeH fonts drew from lower-case codes."""
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
            if i == 0 or capitals > len(initials) - capitals:
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
    else:
        decoded = [_decode_vni(tok) for tok in tokens]
    cand = _Candidate(text, encoding)
    pieces, last = [], 0
    for i, ((start, end), tok, new) in enumerate(zip(spans, tokens, decoded, strict=True)):
        pieces += [text[last:start], new]
        last = end
        new_score = _score(new, at_start=i <= 1)
        if len(new) >= 2:
            cand.valid += new_score > 0
            cand.invalid += new_score == 0
        if new == tok:
            continue
        delta = new_score - _score(tok, at_start=i <= 1)
        cand.gain += max(delta, 0)
        cand.worse += delta < 0
        unit = tok[0] == "µ" and text[:start].rstrip()[-1:].isdigit()  # "5 µm", not "5 àm"
        if delta >= 2 and len(new) >= 2 and _ASCII_LETTER.search(tok) and not unit:
            cand.strong += 1
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
    """`repair` each value, using the column as evidence for short or ambiguous cells.

    When at least two cells are confidently one legacy encoding and none the other, a cell that
    improves under that encoding with nothing getting worse ("ë" → "ở", "Thò" → "Thị" is *not*
    enough: both are words) is converted too.
    """
    results = [repair(value) for value in values]
    found = {enc for _, enc in results if enc}
    if len(found) != 1 or sum(1 for _, enc in results if enc) < 2:
        return results
    winner = found.pop()
    for i, (value, enc) in enumerate(results):
        if enc is None and _might_be_legacy(value):
            cand = _candidate(value, winner)
            if cand and cand.plausible() and _stable(cand):
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
