"""Measure legacy-text repair (sync.legacy) on the public corpus in tests/data/legacy/.

    PYTHONPATH=. python scripts/legacy_bench.py            # print, and write docs/benchmarks.md
    PYTHONPATH=. python scripts/legacy_bench.py --no-write # print only

Legacy text is made with UniKey's own tables (extracted from Debian's ibus-unikey, in
tests/data/legacy/tables.tsv) and glibc's TCVN5712-1 for VN1 capitals, never with
sync.legacy's tables. Each cell is judged on its own (``repair``), except the mixed-column
figure, which runs ``repair_column`` the way a tab is normalized.
"""

from __future__ import annotations

import argparse
import gzip
import re
import sys
import time
import unicodedata
from pathlib import Path

from sync import legacy

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "tests" / "data" / "legacy"
DOC = ROOT / "docs" / "benchmarks.md"
BEGIN, END = "<!-- legacy:begin -->", "<!-- legacy:end -->"
TCVN3, VNI, VN1, CP1258 = "TCVN3", "VNI-Windows", "VN1", "cp1258"


def lines(name: str) -> list[str]:
    return gzip.decompress((DATA / f"{name}.txt.gz").read_bytes()).decode("utf-8").splitlines()


def tables() -> dict[str, dict[str, bytes]]:
    out: dict[str, dict[str, bytes]] = {TCVN3: {}, VNI: {}, VN1: {}}
    rows = (DATA / "tables.tsv").read_text(encoding="utf-8").splitlines()[1:]
    for row in rows:
        letter, tcvn3, vni, vn1 = row.split("\t")
        out[TCVN3][letter] = bytes.fromhex(tcvn3)
        out[VNI][letter] = bytes.fromhex(vni)
        out[VN1][letter] = bytes.fromhex(vn1)
    return out


TABLES = tables()


def encode_bytes(text: str, encoding: str) -> bytes:
    """The bytes a legacy font's text is stored as (ASCII kept as is)."""
    table = TABLES[encoding]
    return b"".join(
        table.get(ch) or ch.encode("cp1252") for ch in unicodedata.normalize("NFC", text)
    )


def read_as(data: bytes, codepage: str) -> str:
    """Bytes read through a Windows code page; bytes it leaves undefined become the C1 control
    of the same number, as Windows' MultiByteToWideChar does."""
    return "".join(bytes([b]).decode(codepage, errors="ignore") or chr(b) for b in data)


def legacy_text(text: str, encoding: str, codepage: str = "cp1252") -> str:
    return read_as(encode_bytes(text, encoding), codepage)


def suspect(text: str) -> str | None:
    fn = getattr(legacy, "suspect", None)
    return fn(text) if fn else None


def restore_rate(originals: list[str], encoding: str, codepage: str = "cp1252") -> dict:
    """Each cell alone: restored exactly, flagged as suspected, left alone, or changed wrongly."""
    restored = flagged = missed = wrong = case = 0
    examples: list[str] = []
    for name in originals:
        text = legacy_text(name, encoding, codepage)
        fixed, _ = legacy.repair(text)
        if fixed == name:  # also a name its encoding leaves as it is: "Lý Kim Dung" in TCVN3
            restored += 1
        elif fixed.lower() == name.lower():
            case += 1  # "Xã Pa ủ" → "Xã Pa Ủ": TCVN3 has no capital toned letters to tell
        elif fixed != text:
            wrong += 1
            if len(examples) < 3:
                examples.append(f"{text!r} → {fixed!r} (want {name!r})")
        elif suspect(text):
            flagged += 1
        else:
            missed += 1
    n = len(originals)
    return {
        "n": n,
        "restored": restored,
        "flagged": flagged,
        "missed": missed,
        "wrong": wrong,
        "case": case,
        "pct": 100 * restored / n,
        "handled_pct": 100 * (restored + flagged) / n,
        "examples": examples,
    }


def one_encoded_word(names: list[str]) -> list[str]:
    """Names in which exactly one word is not ASCII (so only one word looks legacy)."""
    return [n for n in names if sum(not w.isascii() for w in n.split()) == 1]


def single_words(names: list[str]) -> list[str]:
    """Non-ASCII words of the names, each a cell of its own ("Tuấn", "Lê", "Hằng")."""
    return sorted({w for n in names for w in n.split() if not w.isascii()})


def clearly_legacy(words: list[str], encoding: str) -> list[str]:
    """Words whose legacy form is impossible as typed or no Vietnamese syllable: "Lª", "NguyÔn",
    "Nguyeãn" (not "Phóc", a real if rare syllable, nor "Bình", the same in VNI)."""
    out = []
    for word in words:
        typed = legacy_text(word, encoding)
        if typed != word and (legacy._odd(typed) or legacy._cls(typed) == legacy.BAD):
            out.append(word)
    return out


def false_repairs(corpora: dict[str, list[str]]) -> dict:
    total, changed, flagged = 0, [], []
    for strings in corpora.values():
        for s in strings:
            for form in {s, unicodedata.normalize("NFD", s)}:
                total += 1
                fixed, found = legacy.repair(form)
                if found or fixed != form:
                    changed.append(f"{form!r} → {fixed!r}")
                elif suspect(form):
                    flagged.append(form)
    return {
        "n": total,
        "changed": len(changed),
        "per_100k": 100_000 * len(changed) / total,
        "flagged": len(flagged),
        "flagged_per_100k": 100_000 * len(flagged) / total,
        "examples": changed[:5],
        "flagged_examples": flagged[:5],
    }


def mixed_columns(words: list[str], names: list[str], encoding: str) -> dict:
    """Columns of 20 correct dictionary words and 5 legacy names: correct cells changed."""
    at_risk = [w for w in words if not w.isascii()]
    total = changed = 0
    examples: list[str] = []
    for k in range(0, len(at_risk), 20):
        chunk = at_risk[k : k + 20]
        legacy_cells = [
            legacy_text(names[(k // 20 * 5 + j) % len(names)], encoding) for j in range(5)
        ]
        column = legacy_cells[:3] + chunk + legacy_cells[3:]
        out = legacy.repair_column(column)
        for value, (fixed, _) in zip(
            column[3 : 3 + len(chunk)], out[3 : 3 + len(chunk)], strict=True
        ):
            total += 1
            if fixed != value:
                changed += 1
                if len(examples) < 5:
                    examples.append(f"{value!r} → {fixed!r}")
    return {"n": total, "changed": changed, "pct": 100 * changed / total, "examples": examples}


def measure() -> dict:
    names = lines("names")
    corpora = {
        k: lines(k) for k in ("names", "words", "sentences", "proper_nouns", "units", "ui_vi")
    }
    corpora["foreign"] = lines("foreign")
    start = time.perf_counter()
    result = {
        "sizes": {k: len(v) for k, v in corpora.items()},
        "names": {enc: restore_rate(names, enc) for enc in (TCVN3, VNI)},
        "one_word": {enc: restore_rate(one_encoded_word(names), enc) for enc in (TCVN3, VNI)},
        "single": {enc: restore_rate(single_words(names), enc) for enc in (TCVN3, VNI)},
        "clear": {
            enc: restore_rate(clearly_legacy(single_words(names), enc), enc) for enc in (TCVN3, VNI)
        },
        "units": {enc: restore_rate(corpora["units"], enc) for enc in (TCVN3, VNI)},
        "cp1258": {enc: restore_rate(names, enc, "cp1258") for enc in (TCVN3, VNI)},
        "vn1": {VN1: restore_rate(names, VN1)},
        "false": false_repairs(corpora),
        "mixed": {enc: mixed_columns(corpora["words"], names, enc) for enc in (TCVN3, VNI)},
    }
    result["seconds"] = time.perf_counter() - start
    return result


def markdown(r: dict, command: str) -> str:
    sizes = ", ".join(f"{k} {v:,}" for k, v in r["sizes"].items())

    def rate(x: dict) -> str:
        case = f", case only {x['case']:,}" if x["case"] else ""
        return (
            f"{x['pct']:.2f}% ({x['restored']:,}/{x['n']:,}; flagged {x['flagged']:,}, "
            f"missed {x['missed']:,}, wrong {x['wrong']:,}{case})"
        )

    rows = []
    for label, key in (
        ("person names, whole", "names"),
        ("names with one non-ASCII word", "one_word"),
        ("single words of names, one per cell", "single"),
        ("… of them, clearly legacy as typed (impossible, or no syllable)", "clear"),
        ("unit names (2025 wards, old districts)", "units"),
        ("names read through code page 1258", "cp1258"),
    ):
        for enc, x in r[key].items():
            rows.append(f"| {label} | {enc} | {rate(x)} |")
    x = r["vn1"][VN1]
    rows.append(f"| names typed in VN1 (capital toned letters) | TCVN3 VN1 | {rate(x)} |")
    f = r["false"]
    mixed = [
        f"| {enc} | {m['changed']:,} of {m['n']:,} ({m['pct']:.3f}%) |"
        for enc, m in r["mixed"].items()
    ]
    examples = [
        e for key in ("names", "cp1258", "vn1") for x in r[key].values() for e in x["examples"]
    ]
    out = [
        BEGIN,
        "## Legacy text (TCVN3, VNI-Windows, VN1, code page 1258)",
        "",
        f"Command: `{command}` (about {r['seconds']:.0f} s). Corpus: `tests/data/legacy/` "
        f"(public packages, see its README): {sizes} strings. Legacy text is made with UniKey's "
        "own tables (from Debian's ibus-unikey) and glibc's TCVN5712-1 (VN1), read as cp1252 "
        "(or cp1258), and each cell is repaired on its own.",
        "",
        "| cells | encoding | restored exactly |",
        "|---|---|---|",
        *rows,
        "",
        '"Flagged": left as typed with a `legacy_suspected` finding; "wrong": changed into '
        'something else than the original (a half repair); "case only": restored but for the '
        'case of a word TCVN3 cannot tell (official names such as "Xã Pa ủ" come back '
        '"Xã Pa Ủ"); "missed": left as typed, without a finding (both readings are real '
        'words: VNI "Hoà Thò Thu" is Hồ Thị Thu, but could be typed as it stands).',
        "",
        f"Correct Unicode strings (each in NFC and NFD): {f['n']:,}; changed by repair: "
        f"**{f['changed']:,}** ({f['per_100k']:.2f} per 100,000); flagged as suspected legacy: "
        f"{f['flagged']:,} ({f['flagged_per_100k']:.2f} per 100,000).",
        "",
        "Mixed columns (20 correct dictionary words with non-ASCII letters and 5 legacy names "
        "per column, `repair_column`): correct words changed",
        "",
        "| encoding of the legacy cells | changed |",
        "|---|---:|",
        *mixed,
    ]
    if f["examples"]:
        out += ["", "False repairs: " + "; ".join(f["examples"])]
    if f["flagged_examples"]:
        out += ["", "Correct strings flagged: " + "; ".join(repr(e) for e in f["flagged_examples"])]
    if examples:
        out += ["", "Wrong repairs: " + "; ".join(examples)]
    out.append(END)
    return "\n".join(out) + "\n"


def write_section(section: str) -> None:
    text = DOC.read_text(encoding="utf-8") if DOC.exists() else "# Benchmarks\n"
    pattern = re.compile(re.escape(BEGIN) + ".*?" + re.escape(END) + "\n?", re.S)
    if pattern.search(text):
        text = pattern.sub(lambda _: section, text)
    else:
        text = text.rstrip("\n") + "\n\n" + section
    DOC.write_text(text, encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--no-write", action="store_true", help="print only")
    args = parser.parse_args(argv)
    result = measure()
    section = markdown(result, "PYTHONPATH=. python scripts/legacy_bench.py")
    print(section)
    if not args.no_write:
        write_section(section)
    return 0


if __name__ == "__main__":
    sys.exit(main())
