"""Workbooks built at the file-format level (zip + XML, as Excel saves them), not by the
project's writer: hostile ones for the file-safety tests, rich ones (formulas with cached
values, a picture, a comment, a data validation, defined names, macros) for the lossless
write tests. Also a minimal OLE compound file (an encrypted .xlsx is one).
"""

from __future__ import annotations

import io
import struct
import zipfile
from datetime import datetime
from typing import Any
from xml.sax.saxutils import escape

MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
PKG_REL = "http://schemas.openxmlformats.org/package/2006/relationships"
CT = "http://schemas.openxmlformats.org/package/2006/content-types"
SHEET_CT = "application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"
XLSX_MAIN_CT = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"
XLSM_MAIN_CT = "application/vnd.ms-excel.sheet.macroEnabled.main+xml"
DECL = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\r\n'

# Excel's styles.xml for a new workbook (fonts/fills/borders as Excel writes them), plus one
# date format (cellXfs 1) and one bold font (cellXfs 2).
STYLES = (
    DECL + f'<styleSheet xmlns="{MAIN}" '
    'xmlns:mc="http://schemas.openxmlformats.org/markup-compatibility/2006" '
    'mc:Ignorable="x14ac x16r2" '
    'xmlns:x14ac="http://schemas.microsoft.com/office/spreadsheetml/2009/9/ac" '
    'xmlns:x16r2="http://schemas.microsoft.com/office/spreadsheetml/2015/02/main">'
    '<numFmts count="1"><numFmt numFmtId="164" formatCode="dd/mm/yyyy"/></numFmts>'
    '<fonts count="2" x14ac:knownFonts="1"><font><sz val="11"/><color theme="1"/>'
    '<name val="Calibri"/><family val="2"/><scheme val="minor"/></font>'
    '<font><b/><sz val="11"/><color theme="1"/><name val="Calibri"/><family val="2"/>'
    '<scheme val="minor"/></font></fonts>'
    '<fills count="2"><fill><patternFill patternType="none"/></fill>'
    '<fill><patternFill patternType="gray125"/></fill></fills>'
    '<borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>'
    '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>'
    '<cellXfs count="3"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>'
    '<xf numFmtId="164" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>'
    '<xf numFmtId="0" fontId="1" fillId="0" borderId="0" xfId="0" applyFont="1"/></cellXfs>'
    '<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles>'
    '<dxfs count="0"/><tableStyles count="0" defaultTableStyle="TableStyleMedium2" '
    'defaultPivotStyle="PivotStyleLight16"/></styleSheet>'
)

# A 1×1 red PNG.
PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c63f8cfc0f01f0005000201a5d0a8d80000000049454e44ae426082"
)


def column_letter(n: int) -> str:
    s = ""
    while n:
        n, r = divmod(n - 1, 26)
        s = chr(65 + r) + s
    return s


def _serial(d: datetime) -> float:
    return (d - datetime(1899, 12, 30)).days


class Book:
    """An .xlsx (or .xlsm) package as Excel writes one: shared strings, styles, theme-less.

    ``add_sheet`` takes rows of values (str, int, float, datetime, None, or ``("=F", v)``
    for a formula with its cached value) and optional raw XML after ``sheetData``.
    """

    def __init__(self, macros: bool = False) -> None:
        self.macros = macros
        self.sheets: list[dict[str, Any]] = []
        self.strings: list[str] = []
        self._index: dict[str, int] = {}
        self.extra_parts: dict[str, bytes] = {}
        self.extra_types: dict[str, str] = {}
        self.defined_names: list[str] = []
        self.custom_properties: dict[str, str] = {}

    def _sst(self, text: str) -> int:
        if text not in self._index:
            self._index[text] = len(self.strings)
            self.strings.append(text)
        return self._index[text]

    def add_sheet(
        self,
        title: str,
        rows: list[list[Any]],
        *,
        after_data: str = "",
        rels: list[tuple[str, str, str]] | None = None,
        dimension: str | None = None,
    ) -> int:
        cells = []
        width = 1
        for r, row in enumerate(rows, start=1):
            out = []
            for c, value in enumerate(row, start=1):
                if value is None:
                    continue
                width = max(width, c)
                ref = f"{column_letter(c)}{r}"
                if isinstance(value, tuple):
                    formula, cached = value
                    t = ' t="str"' if isinstance(cached, str) else ""
                    out.append(
                        f'<c r="{ref}"{t}><f>{escape(formula.lstrip("="))}</f>'
                        f"<v>{escape(str(cached))}</v></c>"
                    )
                elif isinstance(value, bool):
                    out.append(f'<c r="{ref}" t="b"><v>{int(value)}</v></c>')
                elif isinstance(value, datetime):
                    out.append(f'<c r="{ref}" s="1"><v>{_serial(value)}</v></c>')
                elif isinstance(value, int | float):
                    out.append(f'<c r="{ref}"><v>{value}</v></c>')
                else:
                    out.append(f'<c r="{ref}" t="s"><v>{self._sst(str(value))}</v></c>')
            if out:
                cells.append(f'<row r="{r}" spans="1:{len(row)}">{"".join(out)}</row>')
        ref = dimension or f"A1:{column_letter(width)}{max(len(rows), 1)}"
        xml = (
            DECL + f'<worksheet xmlns="{MAIN}" xmlns:r="{REL}">'
            f'<dimension ref="{ref}"/>'
            '<sheetViews><sheetView workbookViewId="0"/></sheetViews>'
            '<sheetFormatPr defaultRowHeight="15"/>'
            f"<sheetData>{''.join(cells)}</sheetData>{after_data}"
            '<pageMargins left="0.7" right="0.7" top="0.75" bottom="0.75" header="0.3" '
            'footer="0.3"/></worksheet>'
        )
        self.sheets.append({"title": title, "xml": xml, "rels": rels or []})
        return len(self.sheets)

    def sheet_xml(self, n: int, xml: str) -> None:
        """Replace sheet ``n``'s XML (1-based) with raw text (hostile cases)."""
        self.sheets[n - 1]["xml"] = xml

    def parts(self) -> dict[str, bytes]:
        n = len(self.sheets)
        overrides = [
            ("/xl/workbook.xml", XLSM_MAIN_CT if self.macros else XLSX_MAIN_CT),
            (
                "/xl/styles.xml",
                "application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml",
            ),
            (
                "/xl/sharedStrings.xml",
                "application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml",
            ),
            ("/docProps/core.xml", "application/vnd.openxmlformats-package.core-properties+xml"),
            (
                "/docProps/app.xml",
                "application/vnd.openxmlformats-officedocument.extended-properties+xml",
            ),
        ]
        overrides += [(f"/xl/worksheets/sheet{i}.xml", SHEET_CT) for i in range(1, n + 1)]
        overrides += [(f"/{k}", v) for k, v in self.extra_types.items()]
        defaults = [
            ("rels", "application/vnd.openxmlformats-package.relationships+xml"),
            ("xml", "application/xml"),
            ("png", "image/png"),
            ("vml", "application/vnd.openxmlformats-officedocument.vmlDrawing"),
        ]
        if self.macros:
            defaults.append(("bin", "application/vnd.ms-office.vbaProject"))
        root_rels = [
            ("rId1", f"{REL}/officeDocument", "xl/workbook.xml"),
            ("rId2", f"{PKG_REL}/metadata/core-properties", "docProps/core.xml"),
            ("rId3", f"{REL}/extended-properties", "docProps/app.xml"),
        ]
        parts: dict[str, bytes] = {}
        if self.custom_properties:
            props = "".join(
                f'<property fmtid="{{D5CDD505-2E9C-101B-9397-08002B2CF9AE}}" pid="{i}" '
                f'name="{escape(k)}"><vt:lpwstr>{escape(v)}</vt:lpwstr></property>'
                for i, (k, v) in enumerate(self.custom_properties.items(), start=2)
            )
            parts["docProps/custom.xml"] = (
                DECL + '<Properties xmlns="http://schemas.openxmlformats.org/officeDocument/2006/'
                'custom-properties" xmlns:vt="http://schemas.openxmlformats.org/officeDocument/'
                f'2006/docPropsVTypes">{props}</Properties>'
            ).encode()
            overrides.append(
                (
                    "/docProps/custom.xml",
                    "application/vnd.openxmlformats-officedocument.custom-properties+xml",
                )
            )
            root_rels.append(("rId4", f"{REL}/custom-properties", "docProps/custom.xml"))
        parts["[Content_Types].xml"] = (
            DECL
            + f'<Types xmlns="{CT}">'
            + "".join(f'<Default Extension="{e}" ContentType="{t}"/>' for e, t in defaults)
            + "".join(f'<Override PartName="{p}" ContentType="{t}"/>' for p, t in overrides)
            + "</Types>"
        ).encode()
        parts["_rels/.rels"] = _rels(root_rels)
        parts["docProps/app.xml"] = (
            DECL + '<Properties xmlns="http://schemas.openxmlformats.org/officeDocument/2006/'
            'extended-properties"><Application>Microsoft Excel</Application></Properties>'
        ).encode()
        parts["docProps/core.xml"] = (
            DECL + '<cp:coreProperties xmlns:cp="http://schemas.openxmlformats.org/package/2006/'
            'metadata/core-properties" xmlns:dc="http://purl.org/dc/elements/1.1/">'
            "<dc:creator>Văn phòng Đảng ủy</dc:creator></cp:coreProperties>"
        ).encode()
        sheets = "".join(
            f'<sheet name="{escape(s["title"])}" sheetId="{i}" r:id="rId{i}"/>'
            for i, s in enumerate(self.sheets, start=1)
        )
        names = (
            f"<definedNames>{''.join(self.defined_names)}</definedNames>"
            if self.defined_names
            else ""
        )
        parts["xl/workbook.xml"] = (
            DECL + f'<workbook xmlns="{MAIN}" xmlns:r="{REL}">'
            '<fileVersion appName="xl" lastEdited="7" lowestEdited="7" rupBuild="22228"/>'
            '<workbookPr defaultThemeVersion="166925"/>'
            '<bookViews><workbookView xWindow="-120" yWindow="-120" windowWidth="29040" '
            'windowHeight="15840"/></bookViews>'
            f"<sheets>{sheets}</sheets>{names}"
            '<calcPr calcId="191029"/></workbook>'
        ).encode()
        wb_rels = [
            (f"rId{i}", f"{REL}/worksheet", f"worksheets/sheet{i}.xml") for i in range(1, n + 1)
        ]
        wb_rels += [
            (f"rId{n + 1}", f"{REL}/styles", "styles.xml"),
            (f"rId{n + 2}", f"{REL}/sharedStrings", "sharedStrings.xml"),
        ]
        if self.macros:
            wb_rels.append(
                (
                    f"rId{n + 3}",
                    "http://schemas.microsoft.com/office/2006/relationships/vbaProject",
                    "vbaProject.bin",
                )
            )
            parts["xl/vbaProject.bin"] = ole_file(
                {"VBA/dir": b"\x01" * 4096, "PROJECT": b'ID="{00000000}"\r\n' * 300}
            )
        parts["xl/_rels/workbook.xml.rels"] = _rels(wb_rels)
        for i, s in enumerate(self.sheets, start=1):
            parts[f"xl/worksheets/sheet{i}.xml"] = s["xml"].encode()
            if s["rels"]:
                parts[f"xl/worksheets/_rels/sheet{i}.xml.rels"] = _rels(s["rels"])
        parts["xl/styles.xml"] = STYLES.encode()
        sst = "".join(f"<si><t>{escape(t)}</t></si>" for t in self.strings)
        parts["xl/sharedStrings.xml"] = (
            DECL + f'<sst xmlns="{MAIN}" count="{len(self.strings)}" '
            f'uniqueCount="{len(self.strings)}">{sst}</sst>'
        ).encode()
        parts.update(self.extra_parts)
        return parts

    def bytes(self) -> bytes:
        return zip_parts(self.parts())


def _rels(rels: list[tuple[str, str, str]]) -> bytes:
    body = "".join(f'<Relationship Id="{i}" Type="{t}" Target="{g}"/>' for i, t, g in rels)
    return (DECL + f'<Relationships xmlns="{PKG_REL}">{body}</Relationships>').encode()


def zip_parts(parts: dict[str, bytes], level: int = 6) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED, compresslevel=level) as z:
        for name, data in parts.items():
            info = zipfile.ZipInfo(name, date_time=(2018, 12, 1, 8, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            z.writestr(info, data, compresslevel=level)
    return buf.getvalue()


def commune_book(grids: dict[str, list[list[Any]]], **kw) -> Book:
    """A commune's workbook with these tabs, as Excel would save it."""
    book = Book(**kw)
    for title, rows in grids.items():
        book.add_sheet(title, rows)
    return book


def with_picture_comment_validation(book: Book, n: int) -> None:
    """Give sheet ``n`` a picture (drawing + media), a comment (comments + VML) and a data
    validation, the parts Excel writes for them."""
    s = book.sheets[n - 1]
    s["xml"] = (
        s["xml"]
        .replace(
            "<pageMargins",
            '<dataValidations count="1"><dataValidation type="list" allowBlank="1" '
            'showInputMessage="1" showErrorMessage="1" sqref="F2:F200"><formula1>"x,"</formula1>'
            "</dataValidation></dataValidations><pageMargins",
        )
        .replace("</worksheet>", '<drawing r:id="rId1"/><legacyDrawing r:id="rId2"/></worksheet>')
    )
    s["rels"] = [
        ("rId1", f"{REL}/drawing", "../drawings/drawing1.xml"),
        ("rId2", f"{REL}/vmlDrawing", "../drawings/vmlDrawing1.vml"),
        ("rId3", f"{REL}/comments", "../comments1.xml"),
    ]
    xdr = "http://schemas.openxmlformats.org/drawingml/2006/spreadsheetDrawing"
    a = "http://schemas.openxmlformats.org/drawingml/2006/main"
    book.extra_parts["xl/drawings/drawing1.xml"] = (
        DECL + f'<xdr:wsDr xmlns:xdr="{xdr}" xmlns:a="{a}"><xdr:twoCellAnchor editAs="oneCell">'
        "<xdr:from><xdr:col>10</xdr:col><xdr:colOff>0</xdr:colOff><xdr:row>1</xdr:row>"
        "<xdr:rowOff>0</xdr:rowOff></xdr:from><xdr:to><xdr:col>12</xdr:col><xdr:colOff>0"
        "</xdr:colOff><xdr:row>6</xdr:row><xdr:rowOff>0</xdr:rowOff></xdr:to><xdr:pic>"
        '<xdr:nvPicPr><xdr:cNvPr id="2" name="Con dấu"/><xdr:cNvPicPr><a:picLocks '
        'noChangeAspect="1"/></xdr:cNvPicPr></xdr:nvPicPr><xdr:blipFill>'
        f'<a:blip xmlns:r="{REL}" r:embed="rId1"/><a:stretch><a:fillRect/></a:stretch>'
        '</xdr:blipFill><xdr:spPr><a:xfrm><a:off x="0" y="0"/><a:ext cx="1219200" '
        'cy="952500"/></a:xfrm><a:prstGeom prst="rect"><a:avLst/></a:prstGeom></xdr:spPr>'
        "</xdr:pic><xdr:clientData/></xdr:twoCellAnchor></xdr:wsDr>"
    ).encode()
    book.extra_parts["xl/drawings/_rels/drawing1.xml.rels"] = _rels(
        [("rId1", f"{REL}/image", "../media/image1.png")]
    )
    book.extra_parts["xl/media/image1.png"] = PNG
    book.extra_parts["xl/comments1.xml"] = (
        DECL + f'<comments xmlns="{MAIN}"><authors><author>Bí thư</author></authors>'
        '<commentList><comment ref="A2" authorId="0"><text><r><t>Đã kiểm tra</t></r></text>'
        "</comment></commentList></comments>"
    ).encode()
    book.extra_parts["xl/drawings/vmlDrawing1.vml"] = (
        b'<xml xmlns:v="urn:schemas-microsoft-com:vml" xmlns:o="urn:schemas-microsoft-com:'
        b'office:office" xmlns:x="urn:schemas-microsoft-com:office:excel"><v:shape '
        b'type="#_x0000_t202" style="visibility:hidden"><x:ClientData ObjectType="Note">'
        b"<x:Row>1</x:Row><x:Column>0</x:Column></x:ClientData></v:shape></xml>"
    )
    book.extra_types["xl/drawings/drawing1.xml"] = (
        "application/vnd.openxmlformats-officedocument.drawing+xml"
    )
    book.extra_types["xl/comments1.xml"] = (
        "application/vnd.openxmlformats-officedocument.spreadsheetml.comments+xml"
    )


# -- OLE compound files ------------------------------------------------------------------------
def ole_file(streams: dict[str, bytes]) -> bytes:
    """A minimal valid OLE compound file (version 3, 512-byte sectors) holding these
    streams in its root storage; each stream is padded to at least 4096 bytes so it lives
    in regular sectors (no mini stream)."""
    sector = 512
    free, end, fat_sect = 0xFFFFFFFF, 0xFFFFFFFE, 0xFFFFFFFD
    body: list[bytes] = []
    chains: list[tuple[int, int]] = []  # (first sector, size)
    next_sector = 2  # 0: FAT, 1: directory
    for data in streams.values():
        data = data.ljust(4096, b"\0")
        count = -(-len(data) // sector)
        chains.append((next_sector, len(data)))
        body.append(data.ljust(count * sector, b"\0"))
        next_sector += count
    fat = [fat_sect, end]
    for first, size in chains:
        count = -(-size // sector)
        fat += [first + i + 1 for i in range(count - 1)] + [end]
    assert len(fat) <= sector // 4, "streams too large for a one-sector FAT"
    fat += [free] * (sector // 4 - len(fat))

    def entry(name: str, kind: int, child: int, right: int, start: int, size: int) -> bytes:
        raw = name.encode("utf-16-le") + b"\0\0"
        return (
            raw.ljust(64, b"\0")
            + struct.pack("<HBB", len(raw), kind, 1)
            + struct.pack("<III", 0xFFFFFFFF, right, child)
            + b"\0" * 16
            + b"\0" * 4
            + b"\0" * 16
            + struct.pack("<IQ", start, size)
        )[:128].ljust(128, b"\0")

    names = list(streams)
    entries = [entry("Root Entry", 5, 1 if names else 0xFFFFFFFF, 0xFFFFFFFF, end, 0)]
    for i, (name, (first, size)) in enumerate(zip(names, chains, strict=True), start=1):
        right = i + 1 if i < len(names) else 0xFFFFFFFF
        entries.append(entry(name, 2, 0xFFFFFFFF, right, first, size))
    directory = b"".join(entries).ljust(sector * -(-len(entries) * 128 // sector), b"\0")
    assert len(directory) == sector, "up to three streams"
    header = (
        b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
        + b"\0" * 16
        + struct.pack("<HHHHH", 0x3E, 3, 0xFFFE, 9, 6)
        + b"\0" * 6
        + struct.pack("<IIIIIIIII", 0, 1, 1, 0, 4096, end, 0, end, 0)
    )
    difat = struct.pack("<I", 0) + struct.pack("<I", free) * 108
    header = (header + difat).ljust(sector, b"\0")
    return header + struct.pack(f"<{sector // 4}I", *fat) + directory + b"".join(body)


def encrypted_xlsx() -> bytes:
    """What Excel saves for a password-protected .xlsx: an OLE file holding
    ``EncryptionInfo`` and ``EncryptedPackage`` (here with random-looking content)."""
    info = struct.pack("<HHI", 4, 4, 0x40) + b'<?xml version="1.0"?><encryption/>'
    return ole_file({"EncryptionInfo": info, "EncryptedPackage": bytes(range(256)) * 24})


def add_picture(parts: dict[str, bytes], sheet_part: str) -> None:
    """Put a picture on an existing sheet of a package, the parts Excel adds for one."""
    rels_name = sheet_part.replace("worksheets/", "worksheets/_rels/") + ".rels"
    drawing = "xl/drawings/drawing99.xml"
    book = Book()
    book.add_sheet("x", [["x"]])
    with_picture_comment_validation(book, 1)
    src = book.parts()
    parts[drawing] = src["xl/drawings/drawing1.xml"]
    parts["xl/drawings/_rels/drawing99.xml.rels"] = _rels(
        [("rId1", f"{REL}/image", "../media/stamp99.png")]
    )
    parts["xl/media/stamp99.png"] = PNG
    rels = parts.get(rels_name, _rels([])).decode()
    rels = rels.replace(
        "</Relationships>",
        f'<Relationship Id="rIdPic" Type="{REL}/drawing" Target="../drawings/drawing99.xml"/>'
        "</Relationships>",
    )
    parts[rels_name] = rels.encode()
    sheet = parts[sheet_part].decode()
    sheet = sheet.replace("</worksheet>", f'<drawing xmlns:r="{REL}" r:id="rIdPic"/></worksheet>')
    parts[sheet_part] = sheet.encode()
    ct = parts["[Content_Types].xml"].decode()
    extra = ""
    if 'Extension="png"' not in ct:
        extra += '<Default Extension="png" ContentType="image/png"/>'
    extra += (
        '<Override PartName="/xl/drawings/drawing99.xml" '
        'ContentType="application/vnd.openxmlformats-officedocument.drawing+xml"/>'
    )
    parts["[Content_Types].xml"] = ct.replace("</Types>", extra + "</Types>").encode()


def read_parts(data: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        return {n: z.read(n) for n in z.namelist()}
