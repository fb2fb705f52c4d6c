"""Writing namcoso's own tabs into an existing .xlsx/.xlsm without touching anything else.

openpyxl load + save re-serialises a whole package: it drops formulas' cached values,
pictures, charts it did not make, an .xlsm's macros. So namcoso renders its tabs with
openpyxl into a *scratch* package and :func:`transplant` moves those sheets' parts into
the original package:

- each written sheet's XML (shared strings turned into inline strings, style indices
  remapped), with the parts it links to (a drawing and its charts), replaces the old
  sheet's part under the old part name, or is added as a new sheet;
- the scratch styles a written sheet uses are *appended* to the original ``styles.xml``
  (fonts, fills, borders, number formats, cell formats, differential formats), reusing an
  identical entry when there is one: existing indices never move, and a second write with
  the same look leaves ``styles.xml`` byte for byte as it was;
- besides those, only the parts that list sheets change (``xl/workbook.xml``,
  ``xl/_rels/workbook.xml.rels``, ``[Content_Types].xml``) and, to stamp the commune's
  identity, ``docProps/custom.xml`` (and ``_rels/.rels`` when it is new). Every other part
  — other sheets, shared strings, media, comments, ``vbaProject.bin``, ``calcChain.xml``
  — is copied as the same bytes, and the package keeps its main content type (.xlsm).

All edits are made on the XML text (never a parse and re-serialise), so namespace
prefixes and ``mc:Ignorable`` declarations stay as the original writer put them.
"""

from __future__ import annotations

import io
import posixpath
import re
import zipfile
from dataclasses import dataclass
from xml.etree import ElementTree as ET
from xml.sax.saxutils import escape, quoteattr
from xml.sax.saxutils import unescape as _unescape

MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
REL_NS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
CUSTOM_REL = f"{REL_NS}/custom-properties"
CUSTOM_CT = "application/vnd.openxmlformats-officedocument.custom-properties+xml"
CUSTOM_NS = "http://schemas.openxmlformats.org/officeDocument/2006/custom-properties"
VT_NS = "http://schemas.openxmlformats.org/officeDocument/2006/docPropsVTypes"
CUSTOM_FMTID = "{D5CDD505-2E9C-101B-9397-08002B2CF9AE}"
SHEET_CT = "application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"
WORKSHEET_REL = f"{REL_NS}/worksheet"
#: Parts that list sheets, and the identity stamp: all a write may change besides sheets.
LISTING_PARTS = ("[Content_Types].xml", "xl/workbook.xml", "xl/_rels/workbook.xml.rels")


class PackageError(ValueError):
    """The original package is not an .xlsx/.xlsm this module can edit."""


def unescape(text: str) -> str:
    return _unescape(text, {"&quot;": '"', "&apos;": "'"})


_ATTR = re.compile(r'([\w:.-]+)\s*=\s*("[^"]*"|\'[^\']*\')')


def attrs(tag: str) -> dict[str, str]:
    return {k: unescape(v[1:-1]) for k, v in _ATTR.findall(tag)}


def _local(name: str) -> str:
    return name.rsplit(":", 1)[-1]


# -- relationships and content types ---------------------------------------------------------
@dataclass
class Rel:
    id: str
    type: str
    target: str
    external: bool
    raw: str


_REL = re.compile(
    r"<(?:\w+:)?Relationship\b[^>]*?/>|<(?:\w+:)?Relationship\b[^>]*?>.*?</(?:\w+:)?Relationship>",
    re.S,
)


def rels_path(part: str) -> str:
    folder, name = posixpath.split(part)
    return posixpath.join(folder, "_rels", name + ".rels")


def parse_rels(xml: str) -> list[Rel]:
    out = []
    for m in _REL.finditer(xml):
        a = {_local(k): v for k, v in attrs(m.group(0)[: m.group(0).index(">")]).items()}
        out.append(
            Rel(
                a.get("Id", ""),
                a.get("Type", ""),
                a.get("Target", ""),
                a.get("TargetMode") == "External",
                m.group(0),
            )
        )
    return out


def resolve(source_part: str, target: str) -> str:
    if target.startswith("/"):
        return target.lstrip("/")
    return posixpath.normpath(posixpath.join(posixpath.dirname(source_part), target))


def relative(source_part: str, target_part: str) -> str:
    return posixpath.relpath(target_part, posixpath.dirname(source_part) or ".")


_OVERRIDE = re.compile(r"<(?:\w+:)?Override\b[^>]*?/>", re.S)
_DEFAULT = re.compile(r"<(?:\w+:)?Default\b[^>]*?/>", re.S)


def content_type(ct_xml: str, part: str) -> str | None:
    for m in _OVERRIDE.finditer(ct_xml):
        a = attrs(m.group(0))
        if a.get("PartName", "").lstrip("/").lower() == part.lower():
            return a.get("ContentType")
    ext = part.rsplit(".", 1)[-1].lower()
    for m in _DEFAULT.finditer(ct_xml):
        a = attrs(m.group(0))
        if a.get("Extension", "").lower() == ext:
            return a.get("ContentType")
    return None


# -- styles ------------------------------------------------------------------------------------
SECTIONS = (
    "numFmts",
    "fonts",
    "fills",
    "borders",
    "cellStyleXfs",
    "cellXfs",
    "cellStyles",
    "dxfs",
    "tableStyles",
    "colors",
    "extLst",
)


def _canon(el: ET.Element) -> str:
    """A comparable form of a style element (attribute order, prefixes and whitespace
    ignored)."""
    tag = el.tag.rsplit("}", 1)[-1]
    items = ",".join(f"{k.rsplit('}', 1)[-1]}={v}" for k, v in sorted(el.attrib.items()))
    return f"{tag}({items})[{''.join(_canon(c) for c in el)}]"


def _xml(el: ET.Element, prefix: str) -> str:
    """``el`` (from an openpyxl scratch package: one namespace, no foreign attributes) as
    text in the original's main-namespace prefix."""
    tag = prefix + el.tag.rsplit("}", 1)[-1]
    items = "".join(f" {k.rsplit('}', 1)[-1]}={quoteattr(v)}" for k, v in el.attrib.items())
    children = "".join(_xml(c, prefix) for c in el)
    text = escape(el.text) if el.text and el.text.strip() else ""
    if not children and not text:
        return f"<{tag}{items}/>"
    return f"<{tag}{items}>{text}{children}</{tag}>"


class Styles:
    """An original ``styles.xml`` as text, with entries appended on demand."""

    def __init__(self, xml: str) -> None:
        self.xml = xml
        root = re.search(r"<(\w+:)?styleSheet\b[^>]*>", xml)
        if root is None:
            raise PackageError("styles.xml without styleSheet")
        self.prefix = root.group(1) or ""
        self._root_tag = root.group(0)
        self.children: dict[str, list[ET.Element]] = {}
        self.canon: dict[str, dict[str, int]] = {}
        self.added: dict[str, list[str]] = {}
        for name in SECTIONS:
            els = self._section(name)
            self.children[name] = els
            self.canon[name] = {}
            for i, el in enumerate(els):
                self.canon[name].setdefault(_canon(el), i)

    def _find(self, name: str) -> re.Match | None:
        p = re.escape(self.prefix)
        return re.search(rf"<{p}{name}\b[^>]*?(?:/>|>.*?</{p}{name}>)", self.xml, re.S)

    def _section(self, name: str) -> list[ET.Element]:
        m = self._find(name)
        if m is None or (
            m.group(0).endswith("/>") and not m.group(0).endswith(f"</{self.prefix}{name}>")
        ):
            return []
        declarations = "".join(
            f" {k}={v}" for k, v in re.findall(r'(xmlns(?::\w+)?)=("[^"]*")', self._root_tag)
        )
        wrapped = f"<wrap{declarations}>{m.group(0)}</wrap>"
        try:
            section = ET.fromstring(wrapped)[0]
        except ET.ParseError as e:
            raise PackageError(f"styles.xml: {e}") from e
        return list(section)

    def add(self, name: str, el: ET.Element) -> int:
        """The index of an entry equal to ``el`` in section ``name``, appending it if new."""
        key = _canon(el)
        found = self.canon[name].get(key)
        if found is not None:
            return found
        index = len(self.children[name]) + len(self.added.setdefault(name, []))
        self.added[name].append(_xml(el, self.prefix))
        self.canon[name][key] = index
        return index

    def number_format(self, code: str) -> int:
        for el in self.children["numFmts"]:
            if el.get("formatCode") == code:
                return int(el.get("numFmtId", "0"))
        for text in self.added.get("numFmts", []):
            a = attrs(text)
            if a.get("formatCode") == code:
                return int(a["numFmtId"])
        used = [int(el.get("numFmtId", "0")) for el in self.children["numFmts"]]
        used += [int(attrs(t)["numFmtId"]) for t in self.added.get("numFmts", [])]
        new = max([163, *used]) + 1
        self.added.setdefault("numFmts", []).append(
            f'<{self.prefix}numFmt numFmtId="{new}" formatCode={quoteattr(code)}/>'
        )
        return new

    def text(self) -> str:
        xml = self.xml
        p = self.prefix
        for name in SECTIONS:
            new = self.added.get(name)
            if not new:
                continue
            m = re.search(
                rf"<{re.escape(p)}{name}\b[^>]*?(?:/>|>.*?</{re.escape(p)}{name}>)", xml, re.S
            )
            count = len(self.children[name]) + len(new)
            if m is None:
                block = f'<{p}{name} count="{count}">{"".join(new)}</{p}{name}>'
                later = [
                    q
                    for q in (
                        re.search(rf"<{re.escape(p)}{n}\b", xml)
                        for n in SECTIONS[SECTIONS.index(name) + 1 :]
                    )
                    if q
                ]
                at = min(q.start() for q in later) if later else xml.rindex(f"</{p}styleSheet>")
                xml = xml[:at] + block + xml[at:]
                continue
            whole = m.group(0)
            start = whole[: whole.index(">") + 1]
            if whole.endswith("/>") and start == whole:
                start_tag = whole[:-2].rstrip()
                body, end = "", f"</{p}{name}>"
                start = start_tag + ">"
            else:
                body, end = whole[len(start) : -len(f"</{p}{name}>")], f"</{p}{name}>"
            if re.search(r'\bcount="\d+"', start):
                start = re.sub(r'\bcount="\d+"', f'count="{count}"', start, count=1)
            xml = xml[: m.start()] + start + body + "".join(new) + end + xml[m.end() :]
        return xml


def merge_styles(original: Styles, scratch_xml: bytes, used_xf: set[int], used_dxf: set[int]):
    """Append the scratch cell formats ``used_xf`` and differential formats ``used_dxf``
    to ``original``; returns (xf map, dxf map) from scratch index to original index."""
    scratch = Styles(scratch_xml.decode("utf-8"))
    numfmt = {el.get("numFmtId"): el.get("formatCode", "") for el in scratch.children["numFmts"]}

    def fmt_id(value: str | None) -> str:
        if value is None or int(value) < 164:
            return value or "0"
        return str(original.number_format(numfmt.get(value, "General")))

    xf_map: dict[int, int] = {}
    for i in sorted(used_xf):
        if i >= len(scratch.children["cellXfs"]):
            continue
        el = _copy(scratch.children["cellXfs"][i])
        el.set("numFmtId", fmt_id(el.get("numFmtId")))
        for kind, attr in (("fonts", "fontId"), ("fills", "fillId"), ("borders", "borderId")):
            j = int(el.get(attr, "0"))
            if j < len(scratch.children[kind]):
                el.set(attr, str(original.add(kind, scratch.children[kind][j])))
        el.set("xfId", "0")
        xf_map[i] = original.add("cellXfs", el)
    dxf_map: dict[int, int] = {}
    for i in sorted(used_dxf):
        if i >= len(scratch.children["dxfs"]):
            continue
        el = _copy(scratch.children["dxfs"][i])
        for child in el:
            if child.tag.endswith("numFmt") and child.get("numFmtId"):
                child.set("numFmtId", fmt_id(child.get("numFmtId")))
        dxf_map[i] = original.add("dxfs", el)
    return xf_map, dxf_map


def _copy(el: ET.Element) -> ET.Element:
    return ET.fromstring(ET.tostring(el))


# -- sheet XML ---------------------------------------------------------------------------------
_SHARED_CELL = re.compile(rb'<c\b([^>]*?)\st="s"([^>]*)>\s*<v>(\d+)</v>\s*</c>')
_STYLE_ATTR = re.compile(rb'(<(?:c|row)\b[^>]*?\ss=")(\d+)(")')
_COL_STYLE = re.compile(rb'(<col\b[^>]*?\sstyle=")(\d+)(")')
_DXF_ATTR = re.compile(rb'(\sdxfId=")(\d+)(")')
_SI = re.compile(rb"<si>(.*?)</si>|<si/>", re.S)


def shared_strings(xml: bytes) -> list[bytes]:
    return [m.group(1) or b"<t></t>" for m in _SI.finditer(xml)]


def used_styles(sheet: bytes) -> tuple[set[int], set[int]]:
    xf = {int(m.group(2)) for m in _STYLE_ATTR.finditer(sheet)}
    xf |= {int(m.group(2)) for m in _COL_STYLE.finditer(sheet)}
    return xf, {int(m.group(2)) for m in _DXF_ATTR.finditer(sheet)}


def rewrite_sheet(
    sheet: bytes, strings: list[bytes], xf: dict[int, int], dxf: dict[int, int]
) -> bytes:
    """A scratch sheet made self-contained for the original package: shared strings
    inline, style indices the original's, not selected (the original's own selection
    stays the only one)."""

    def inline(m: re.Match) -> bytes:
        text = strings[int(m.group(3))]
        return b"<c" + m.group(1) + b' t="inlineStr"' + m.group(2) + b"><is>" + text + b"</is></c>"

    def remap(table: dict[int, int]):
        def sub(m: re.Match) -> bytes:
            return m.group(1) + str(table.get(int(m.group(2)), 0)).encode() + m.group(3)

        return sub

    sheet = _SHARED_CELL.sub(inline, sheet)
    sheet = _STYLE_ATTR.sub(remap(xf), sheet)
    sheet = _COL_STYLE.sub(remap(xf), sheet)
    sheet = _DXF_ATTR.sub(remap(dxf), sheet)
    return sheet.replace(b' tabSelected="1"', b"")


# -- the workbook part -------------------------------------------------------------------------
@dataclass
class SheetEntry:
    name: str
    rid: str
    sheet_id: int
    raw: str
    part: str = ""


_SHEETS = re.compile(r"<(\w+:)?sheets\b[^>]*>(.*?)</(?:\w+:)?sheets>", re.S)
_SHEET = re.compile(r"<(?:\w+:)?sheet\b[^>]*?/>", re.S)


def list_sheets(workbook_xml: str, rels: list[Rel]) -> list[SheetEntry]:
    m = _SHEETS.search(workbook_xml)
    if m is None:
        raise PackageError("workbook.xml without sheets")
    by_id = {r.id: r for r in rels}
    out = []
    for s in _SHEET.finditer(m.group(2)):
        a = attrs(s.group(0))
        rid = next((v for k, v in a.items() if k.endswith(":id") or k == "id"), "")
        rel = by_id.get(rid)
        part = resolve("xl/workbook.xml", rel.target) if rel and not rel.external else ""
        out.append(SheetEntry(a.get("name", ""), rid, int(a.get("sheetId", "0")), s.group(0), part))
    return out


# -- the transplant ----------------------------------------------------------------------------
def _reachable(z: dict[str, bytes], start: str) -> list[str]:
    """Internal parts linked (recursively) from ``start``, not counting ``start``."""
    seen: list[str] = []
    todo = [start]
    while todo:
        part = todo.pop()
        rp = rels_path(part)
        if rp not in z:
            continue
        for rel in parse_rels(z[rp].decode("utf-8")):
            if rel.external:
                continue
            target = resolve(part, rel.target)
            if target not in seen and target != start and target in z:
                seen.append(target)
                todo.append(target)
    return seen


def _fresh_name(taken: set[str], like: str) -> str:
    folder, name = posixpath.split(like)
    m = re.match(r"^(.*?)(\d*)(\.[^.]*)$", name)
    stem, ext = (m.group(1), m.group(3)) if m else (name, "")
    n = 1
    while True:
        candidate = posixpath.join(folder, f"{stem}{n}{ext}")
        if candidate not in taken:
            return candidate
        n += 1


def _read_zip(data: bytes) -> tuple[list[zipfile.ZipInfo], dict[str, bytes]]:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as z:
            infos = z.infolist()
            return infos, {i.filename: z.read(i) for i in infos}
    except (zipfile.BadZipFile, OSError, EOFError, KeyError) as e:
        raise PackageError(str(e)) from e


def transplant(
    original: bytes,
    scratch: bytes,
    titles: list[str],
    *,
    order: list[str] | None = None,
    identity: tuple[str, str] | None = None,
) -> bytes:
    """``original`` with its sheets ``titles`` replaced by (or added from) ``scratch``'s.

    ``order`` is the final sheet order by title (default: the original's, new sheets
    last). ``identity`` = (property name, value) stamps a custom document property.
    """
    infos, parts = _read_zip(original)
    _, sparts = _read_zip(scratch)
    for needed in ("[Content_Types].xml", "xl/workbook.xml", "xl/_rels/workbook.xml.rels"):
        if needed not in parts:
            raise PackageError(f"{needed} missing")
    ct = parts["[Content_Types].xml"].decode("utf-8")
    sct = sparts["[Content_Types].xml"].decode("utf-8")
    wb_xml = parts["xl/workbook.xml"].decode("utf-8")
    wb_rels_xml = parts["xl/_rels/workbook.xml.rels"].decode("utf-8")
    wb_rels = parse_rels(wb_rels_xml)
    sheets = list_sheets(wb_xml, wb_rels)
    s_sheets = list_sheets(
        sparts["xl/workbook.xml"].decode("utf-8"),
        parse_rels(sparts["xl/_rels/workbook.xml.rels"].decode("utf-8")),
    )
    s_by_title = {s.name: s for s in s_sheets}
    by_title = {s.name: s for s in sheets}
    strings = shared_strings(sparts.get("xl/sharedStrings.xml", b""))
    styles = Styles(parts["xl/styles.xml"].decode("utf-8")) if "xl/styles.xml" in parts else None

    new_parts: dict[str, bytes] = {}
    dropped: set[str] = set()
    taken = set(parts)
    overrides_add: dict[str, str] = {}
    added_sheets: list[SheetEntry] = []

    # Parts the replaced sheets own, dropped unless something kept still links to them.
    replaced = [by_title[t] for t in titles if t in by_title and t in s_by_title]
    owned: set[str] = set()
    for entry in replaced:
        owned.update(_reachable(parts, entry.part))
        owned.add(rels_path(entry.part))
    keep_links: set[str] = set()
    for name, data in parts.items():
        if not name.endswith(".rels") or name in owned:
            continue
        source = _rels_source(name)
        if source in owned or any(source == e.part for e in replaced):
            continue
        for rel in parse_rels(data.decode("utf-8", "replace")):
            if not rel.external:
                keep_links.add(resolve(source, rel.target))
    dropped = {p for p in owned if p in parts and p not in keep_links}
    taken -= dropped

    for title in titles:
        s_entry = s_by_title.get(title)
        if s_entry is None:
            continue
        entry = by_title.get(title)
        if entry is not None:
            target = entry.part
        else:
            target = _fresh_name(taken, "xl/worksheets/sheet.xml")
            taken.add(target)
        # The sheet's linked parts (drawing, charts), under fresh names.
        names = {s_entry.part: target}
        for linked in _reachable(sparts, s_entry.part):
            fresh = _fresh_name(taken, linked)
            taken.add(fresh)
            names[linked] = fresh
        for old, new in names.items():
            rp = rels_path(old)
            if rp in sparts:
                new_parts[rels_path(new)] = _retarget(
                    sparts[rp].decode("utf-8"), old, new, names
                ).encode()
            if old != s_entry.part:
                new_parts[new] = sparts[old]
                kind = content_type(sct, old)
                if kind and (content_type(ct, new) != kind or new in parts):
                    overrides_add["/" + new] = kind
        sheet = sparts[s_entry.part]
        xf_used, dxf_used = used_styles(sheet)
        xf_map, dxf_map = (
            merge_styles(styles, sparts["xl/styles.xml"], xf_used, dxf_used) if styles else ({}, {})
        )
        new_parts[target] = rewrite_sheet(sheet, strings, xf_map, dxf_map)
        if rels_path(s_entry.part) not in sparts and rels_path(target) in parts:
            dropped.add(rels_path(target))
        if entry is None:
            if content_type(ct, target) != SHEET_CT:
                overrides_add["/" + target] = SHEET_CT
            added_sheets.append(SheetEntry(title, "", 0, "", target))

    # The listing parts.
    if added_sheets:
        used_ids = {r.id for r in wb_rels}
        next_sheet_id = max([s.sheet_id for s in sheets] + [0]) + 1
        rel_lines = []
        for entry in added_sheets:
            n = 1
            while f"rId{n}" in used_ids:
                n += 1
            entry.rid = f"rId{n}"
            used_ids.add(entry.rid)
            entry.sheet_id = next_sheet_id
            next_sheet_id += 1
            prefix = _prefix_of(wb_rels_xml, "Relationship")
            rel_lines.append(
                f'<{prefix}Relationship Id="{entry.rid}" Type="{WORKSHEET_REL}" '
                f'Target="{relative("xl/workbook.xml", entry.part)}"/>'
            )
        end = re.search(r"</(?:\w+:)?Relationships>\s*$", wb_rels_xml)
        if end is None:
            raise PackageError("workbook.xml.rels")
        wb_rels_xml = wb_rels_xml[: end.start()] + "".join(rel_lines) + wb_rels_xml[end.start() :]
        new_parts["xl/_rels/workbook.xml.rels"] = wb_rels_xml.encode("utf-8")
    wb_new = _rewrite_workbook(
        wb_xml,
        sheets,
        added_sheets,
        order,
        sparts["xl/workbook.xml"].decode("utf-8"),
        s_sheets,
        titles,
    )
    if wb_new != wb_xml:
        new_parts["xl/workbook.xml"] = wb_new.encode("utf-8")
    if styles is not None:
        text = styles.text()
        if text != styles.xml:
            new_parts["xl/styles.xml"] = text.encode("utf-8")

    ct_new = ct
    for part in dropped | {p.lstrip("/") for p in overrides_add}:
        ct_new = _remove_override(ct_new, part)
    if identity is not None:
        custom = _stamp(parts, identity, new_parts)
        if custom and content_type(ct_new, "docProps/custom.xml") != CUSTOM_CT:
            overrides_add["/docProps/custom.xml"] = CUSTOM_CT
    if overrides_add:
        prefix = _prefix_of(ct_new, "Types")
        lines = "".join(
            f'<{prefix}Override PartName="{escape(p)}" ContentType="{escape(k)}"/>'
            for p, k in overrides_add.items()
        )
        end = ct_new.rindex(f"</{prefix}Types>")
        ct_new = ct_new[:end] + lines + ct_new[end:]
    if ct_new != ct:
        new_parts["[Content_Types].xml"] = ct_new.encode("utf-8")

    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        written = set()
        for info in infos:
            name = info.filename
            if name in dropped and name not in new_parts:
                continue
            data = new_parts.get(name, parts[name])
            copy = zipfile.ZipInfo(name, date_time=info.date_time)
            copy.compress_type = info.compress_type
            copy.external_attr = info.external_attr
            z.writestr(copy, data)
            written.add(name)
        for name, data in new_parts.items():
            if name not in written:
                z.writestr(name, data)
    return out.getvalue()


def _rels_source(rels_name: str) -> str:
    folder, name = posixpath.split(rels_name)
    return posixpath.join(posixpath.dirname(folder), name[: -len(".rels")])


def _prefix_of(xml: str, tag: str) -> str:
    m = re.search(rf"<(\w+:)?{tag}\b", xml)
    return (m.group(1) or "") if m else ""


def _retarget(xml: str, old_source: str, new_source: str, names: dict[str, str]) -> str:
    """A scratch part's rels with targets pointing at the parts' new names."""

    def sub(m: re.Match) -> str:
        raw = m.group(0)
        rel = parse_rels(raw)[0]
        if rel.external:
            return raw
        target = resolve(old_source, rel.target)
        new_target = relative(new_source, names.get(target, target))
        return re.sub(r'Target="[^"]*"', f'Target="{escape(new_target)}"', raw, count=1)

    return _REL.sub(sub, xml)


def _remove_override(ct: str, part: str) -> str:
    def sub(m: re.Match) -> str:
        a = attrs(m.group(0))
        return "" if a.get("PartName", "").lstrip("/") == part else m.group(0)

    return _OVERRIDE.sub(sub, ct)


_DEFINED = re.compile(r"<(?:\w+:)?definedName\b[^>]*?(?:/>|>.*?</(?:\w+:)?definedName>)", re.S)


def _rewrite_workbook(
    xml: str,
    sheets: list[SheetEntry],
    added: list[SheetEntry],
    order: list[str] | None,
    scratch_xml: str,
    scratch_sheets: list[SheetEntry],
    titles: list[str],
) -> str:
    """workbook.xml with new sheets listed, the order asked for, and sheet-local names
    (filters, print areas) following their sheets."""
    old_order = [s.name for s in sheets]
    final = [*old_order, *[a.name for a in added]]
    if order is not None:
        wanted = [t for t in order if t in final]
        final = wanted + [t for t in final if t not in wanted]
    if final == old_order and not added and not _local_names(scratch_xml, scratch_sheets, titles):
        return xml
    m = _SHEETS.search(xml)
    prefix = m.group(1) or ""
    root = re.search(r"<(?:\w+:)?workbook\b[^>]*>", xml)
    declared = re.search(r'xmlns:(\w+)="' + re.escape(REL_NS) + '"', root.group(0) if root else "")
    rprefix = declared.group(1) + ":" if declared else "r:"
    # openpyxl declares the relationships namespace on each sheet element, not the root
    rdecl = "" if declared else f' xmlns:r="{REL_NS}"'

    raw = {s.name: s.raw for s in sheets}
    for a in added:
        raw[a.name] = (
            f"<{prefix}sheet name={quoteattr(a.name)} "
            f'sheetId="{a.sheet_id}" {rprefix}id="{a.rid}"{rdecl}/>'
        )
    body = m.group(2)
    listing = "".join(raw[t] for t in final) if final != old_order or added else body
    xml = xml[: m.start(2)] + listing + xml[m.end(2) :]

    position = {t: i for i, t in enumerate(final)}
    moved = {i: position[t] for i, t in enumerate(old_order)}
    replaced = set(titles)

    def local_name(m: re.Match) -> str:
        text = m.group(0)
        a = attrs(text[: text.index(">")])
        if "localSheetId" not in a:
            return text
        old = int(a["localSheetId"])
        if (
            old < len(old_order)
            and old_order[old] in replaced
            and a.get("name", "").startswith("_xlnm.")
        ):
            return ""  # the replaced sheet's own filter/print names: the scratch's follow
        new = moved.get(old, old)
        return re.sub(r'localSheetId="\d+"', f'localSheetId="{new}"', text, count=1)

    xml = _DEFINED.sub(local_name, xml)
    extra = []
    for text, title in _local_names(scratch_xml, scratch_sheets, titles):
        extra.append(
            re.sub(r'localSheetId="\d+"', f'localSheetId="{position[title]}"', text, count=1)
        )
    if extra:
        extra_text = "".join(_with_prefix(t, prefix) for t in extra)
        end = re.search(rf"</{re.escape(prefix)}definedNames>", xml)
        if end:
            xml = xml[: end.start()] + extra_text + xml[end.start() :]
        else:
            close = re.search(rf"</{re.escape(prefix)}sheets>", xml)
            at = close.end()
            xml = xml[:at] + f"<{prefix}definedNames>{extra_text}</{prefix}definedNames>" + xml[at:]

    def view(m: re.Match) -> str:
        text = m.group(0)
        for attr in ("activeTab", "firstSheet"):
            found = re.search(rf'{attr}="(\d+)"', text)
            if found:
                text = text.replace(found.group(0), f'{attr}="{moved.get(int(found.group(1)), 0)}"')
        return text

    return re.sub(r"<(?:\w+:)?workbookView\b[^>]*>", view, xml)


def _local_names(
    scratch_xml: str, scratch_sheets: list[SheetEntry], titles: list[str]
) -> list[tuple[str, str]]:
    """The scratch's built-in sheet-local names (``_xlnm._FilterDatabase``…) of the sheets
    being written, with their sheet titles."""
    out = []
    names = [s.name for s in scratch_sheets]
    for m in _DEFINED.finditer(scratch_xml):
        text = m.group(0)
        a = attrs(text[: text.index(">")])
        if not a.get("name", "").startswith("_xlnm.") or "localSheetId" not in a:
            continue
        i = int(a["localSheetId"])
        if i < len(names) and names[i] in titles:
            out.append((text, names[i]))
    return out


def _with_prefix(text: str, prefix: str) -> str:
    if not prefix:
        return text
    return re.sub(r"<(/?)definedName\b", rf"<\1{prefix}definedName", text)


# -- identity ------------------------------------------------------------------------------------
_PROPERTY = re.compile(r"<(?:\w+:)?property\b[^>]*>.*?</(?:\w+:)?property>", re.S)


def _stamp(parts: dict[str, bytes], identity: tuple[str, str], new_parts: dict[str, bytes]) -> bool:
    """Set the custom document property ``identity`` (name, value); True when
    ``docProps/custom.xml`` is new or changed."""
    name, value = identity
    custom = parts.get("docProps/custom.xml")
    if custom is None:
        xml = (
            '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
            f'<Properties xmlns="{CUSTOM_NS}" xmlns:vt="{VT_NS}">'
            f'<property fmtid="{CUSTOM_FMTID}" pid="2" name={quoteattr(name)}>'
            f"<vt:lpwstr>{escape(value)}</vt:lpwstr></property></Properties>"
        )
        new_parts["docProps/custom.xml"] = xml.encode("utf-8")
        root = parts.get("_rels/.rels", b"").decode("utf-8")
        if not root:
            raise PackageError("_rels/.rels missing")
        ids = {r.id for r in parse_rels(root)}
        n = 1
        while f"rId{n}" in ids:
            n += 1
        prefix = _prefix_of(root, "Relationship")
        line = (
            f'<{prefix}Relationship Id="rId{n}" Type="{CUSTOM_REL}" Target="docProps/custom.xml"/>'
        )
        end = root.rindex(f"</{prefix}Relationships>")
        new_parts["_rels/.rels"] = (root[:end] + line + root[end:]).encode("utf-8")
        return True
    xml = custom.decode("utf-8")
    for m in _PROPERTY.finditer(xml):
        a = attrs(m.group(0)[: m.group(0).index(">")])
        if a.get("name") == name:
            if re.search(rf">{re.escape(escape(value))}</(?:\w+:)?lpwstr>", m.group(0)):
                return False
            fixed = re.sub(
                r"(<(?:\w+:)?lpwstr\b[^>]*>)[^<]*(</)",
                rf"\g<1>{escape(value)}\g<2>",
                m.group(0),
                count=1,
            )
            new_parts["docProps/custom.xml"] = (xml[: m.start()] + fixed + xml[m.end() :]).encode(
                "utf-8"
            )
            return True
    pids = [int(p) for p in re.findall(r'\bpid="(\d+)"', xml)]
    prefix = _prefix_of(xml, "Properties")
    root = re.search(rf"<{re.escape(prefix)}Properties\b[^>]*>", xml)
    # openpyxl declares the vt namespace on each value, not on the root
    vt_decl = "" if root and f'xmlns:vt="{VT_NS}"' in root.group(0) else f' xmlns:vt="{VT_NS}"'
    line = (
        f'<{prefix}property fmtid="{CUSTOM_FMTID}" pid="{max([1, *pids]) + 1}" '
        f"name={quoteattr(name)}>"
        f"<vt:lpwstr{vt_decl}>{escape(value)}</vt:lpwstr></{prefix}property>"
    )
    end = xml.rindex(f"</{prefix}Properties>")
    new_parts["docProps/custom.xml"] = (xml[:end] + line + xml[end:]).encode("utf-8")
    return True


def changed_parts(before: bytes, after: bytes) -> set[str]:
    """Names of parts added, removed or with different bytes (for tests and checks)."""
    _, a = _read_zip(before)
    _, b = _read_zip(after)
    return {n for n in a.keys() | b.keys() if a.get(n) != b.get(n)}
