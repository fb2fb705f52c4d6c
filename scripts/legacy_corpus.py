"""Build the legacy-text corpus in tests/data/legacy/ from public packages (see its README).

    python scripts/legacy_corpus.py SOURCES_DIR

SOURCES_DIR holds the packages unpacked (``dpkg-deb -x`` for .deb, ``unzip`` for wheels):

    deb/ibus-unikey/          apt-get download ibus-unikey       (UniKey's charset tables)
    deb/libreoffice-l10n-XX/  apt-get download libreoffice-l10n-{vi,fr,de,es,pt}
    pypi/vn_fullname_generator/  pip download --no-deps vn-fullname-generator
    pypi/uts/                 pip download --no-deps underthesea (Viet74K, VLSP 2013 sample,
                              address mapping)

and ``iconv`` (glibc) must know TCVN5712-1, the VN1 variant of TCVN3, for its capital letters.
The corpus is committed; this script documents, and repeats, how it was made.
"""

from __future__ import annotations

import gettext
import gzip
import json
import random
import re
import struct
import subprocess
import sys
import unicodedata
from pathlib import Path

OUT = Path(__file__).resolve().parent.parent / "tests" / "data" / "legacy"
LETTERS = 186  # UniKey's Vietnamese letters (upper/lower pairs), before Z z and the symbols


def nfc(text: str) -> str:
    return unicodedata.normalize("NFC", text)


def unikey_tables(binary: Path) -> list[tuple[str, str, str]]:
    """(letter, TCVN3 byte hex, VNI bytes hex) from the tables compiled into ibus-engine-unikey.

    UniKey's data.cpp lists every charset in one fixed order (A a Á á À à Ả ả Ã ã Ạ ạ Â â ...);
    Unicode and VNI are arrays of 16-bit words (VNI: low byte the base letter, high byte the
    mark), TCVN3 an array of bytes. Each is found by its first entries.
    """
    data = binary.read_bytes()
    uni_at = data.find(struct.pack("<6H", 0x41, 0x61, 0xC1, 0xE1, 0xC0, 0xE0))
    vni_at = data.find(struct.pack("<4H", 0x41, 0x61, 0xD941, 0xF961))
    tcvn_at = data.find(b"Aa\xb8\xb8\xb5\xb5\xb6\xb6\xb7\xb7\xb9\xb9")
    if min(uni_at, vni_at, tcvn_at) < 0:
        raise SystemExit(f"UniKey tables not found in {binary}")
    uni = struct.unpack(f"<{LETTERS}H", data[uni_at : uni_at + 2 * LETTERS])
    vni = struct.unpack(f"<{LETTERS}H", data[vni_at : vni_at + 2 * LETTERS])
    tcvn = data[tcvn_at : tcvn_at + LETTERS]
    rows = []
    for u, t, v in zip(uni, tcvn, vni, strict=True):
        vb = bytes([v & 0xFF]) + (bytes([v >> 8]) if v >> 8 else b"")
        rows.append((chr(u), f"{t:02x}", vb.hex()))
    return rows


def vn1_capitals() -> dict[str, str]:
    """Letter -> VN1 byte hex, for the capital toned letters VN1 adds to TCVN3 (glibc iconv)."""
    out = {}
    for b in [*range(0x01, 0x20), *range(0x80, 0x100)]:
        run = subprocess.run(
            ["iconv", "-f", "TCVN5712-1", "-t", "UTF-8"], input=bytes([b]), capture_output=True
        )
        text = run.stdout.decode("utf-8") if run.returncode == 0 else ""
        if len(text) == 1 and text.isupper() and not text.isascii():
            out[text] = f"{b:02x}"
    return out


def mo_strings(folder: Path) -> list[str]:
    """Every translated string of a LibreOffice language pack, one line each, "~" removed."""
    out = []
    for mo in sorted(folder.rglob("*.mo")):
        with mo.open("rb") as handle:
            catalog = gettext.GNUTranslations(handle)
        for msgid, msgstr in catalog._catalog.items():
            if not msgid or not isinstance(msgstr, str):
                continue
            # "~" and "_" mark menu accelerators ("_Sí", "A_ño"): not part of the text.
            for line in re.sub(r"(?<![\w~_])[~_](?=\w)|(?<=\w)[~_](?=\w)", "", msgstr).splitlines():
                line = " ".join(line.split())
                if 1 < len(line) <= 120 and "%" not in line and "$" not in line:
                    out.append(nfc(line))
    return sorted(set(out))


def vlsp_sentences(path: Path) -> tuple[list[str], list[str]]:
    """Sentences of the VLSP 2013 POS sample (tokens joined by spaces) and its proper nouns."""
    sentences, proper, words = [], set(), []
    for line in [*path.read_text(encoding="utf-8").splitlines(), ""]:
        if not line.strip():
            if len(words) >= 3:
                text = " ".join(words)
                text = re.sub(r" ([,.;:!?)\]])", r"\1", text)
                sentences.append(nfc(re.sub(r"([(\[]) ", r"\1", text)))
            words = []
            continue
        token, tag = line.split("\t")[:2]
        words.append(token)
        if tag.endswith("Np") and any(ch.isalpha() for ch in token):
            proper.add(nfc(token))
    return sorted(set(sentences)), sorted(proper)


def syllables(words: list[str]) -> list[tuple[str, int]]:
    """Real syllables for sync/data/vi_syllables.csv: each lower-case syllable of the dictionary
    that is well formed, with how many dictionary entries use it (a rough frequency)."""
    sys.path.insert(0, str(OUT.parent.parent.parent))
    from sync.legacy import _is_syllable

    counts: dict[str, int] = {}
    for entry in words:
        for syllable in set(re.findall(r"[^\W\d_]+", entry.lower())):
            if _is_syllable(syllable):
                counts[syllable] = counts.get(syllable, 0) + 1
    return sorted(counts.items())


def main(src: Path) -> int:
    OUT.mkdir(parents=True, exist_ok=True)
    tables = unikey_tables(src / "deb/ibus-unikey/usr/libexec/ibus-engine-unikey")
    vn1 = vn1_capitals()
    with (OUT / "tables.tsv").open("w", encoding="utf-8") as handle:
        handle.write("letter\ttcvn3\tvni\tvn1\n")
        for letter, t, v in tables:
            if not letter.isascii():
                handle.write(f"{letter}\t{t}\t{v}\t{vn1.get(letter, t)}\n")

    gen = src / "pypi/vn_fullname_generator/vn_fullname_generator/data"
    surnames = [nfc(s) for s in (gen / "first.name").read_text(encoding="utf-8").split() if s]
    given = sorted(
        {
            nfc(" ".join(line.split()))
            for f in ("male.name", "female.name")
            for line in (gen / f).read_text(encoding="utf-8").splitlines()
            if line.strip()
        }
    )
    # Every surname with every given name, and "Văn"/"Thị" forms of the last given word.
    names = {f"{s} {g}" for s in surnames for g in given}
    male = {nfc(line.split()[-1]) for line in (gen / "male.name").read_text("utf-8").splitlines()}
    for s in surnames:
        for g in given:
            middle = "Văn" if g.split()[-1] in male else "Thị"
            names.add(f"{s} {middle} {g.split()[-1]}")
    # The generator writes some names with Ð (U+00D0, Icelandic eth) for Đ (U+0110).
    names_sorted = sorted({n.replace("Ð", "Đ").replace("ð", "đ") for n in names})

    uts = src / "pypi/uts/underthesea"
    words = sorted(
        {
            nfc(w.strip())
            for w in (uts / "corpus/data/Viet74K.txt").read_text(encoding="utf-8").splitlines()
            if w.strip() and "," not in w
        }
    )
    sentences, proper = vlsp_sentences(
        uts / "pipeline/pos_tag/models/pos_crf_vlsp2013_20230303/test_output.txt"
    )
    mapping = json.loads((uts / "address/data/mapping.json").read_text(encoding="utf-8"))
    units = set()
    for row in mapping["ward_mapping"]:
        units.update(nfc(row[k]) for k in ("old_province", "old_district", "old_ward", "new_ward"))
    for key in ("province_names", "old_province_names"):
        units.update(nfc(v["name"]) for v in mapping[key].values())

    ui_vi = mo_strings(src / "deb/libreoffice-l10n-vi")
    foreign = []
    for lang in ("fr", "de", "es", "pt"):
        for line in mo_strings(src / f"deb/libreoffice-l10n-{lang}"):
            try:
                line.encode("cp1252")
            except UnicodeEncodeError:
                continue
            if not line.isascii():
                foreign.append(line)
    rng = random.Random(13)
    foreign = sorted(set(foreign))
    foreign = sorted(rng.sample(foreign, min(len(foreign), 60_000)))

    lexicon = OUT.parent.parent.parent / "sync" / "data" / "vi_syllables.csv"
    with lexicon.open("w", encoding="utf-8", newline="") as handle:
        handle.write("syllable,entries\n")
        handle.writelines(f"{s},{n}\n" for s, n in syllables(words))

    for name, lines in (
        ("names", names_sorted),
        ("words", words),
        ("sentences", sentences),
        ("proper_nouns", proper),
        ("units", sorted(units)),
        ("ui_vi", ui_vi),
        ("foreign", foreign),
    ):
        data = ("\n".join(lines) + "\n").encode("utf-8")
        (OUT / f"{name}.txt.gz").write_bytes(gzip.compress(data, compresslevel=9, mtime=0))
        print(f"{name}: {len(lines):,} lines")
    return 0


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    sys.exit(main(Path(sys.argv[1])))
