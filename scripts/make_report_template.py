"""Write ``templates/report.docx``: the Word template ``namcoso report`` fills.

The template holds every word of the report; ``sync/district_report`` supplies only the
figures, names and tables (Jinja2 tags, rendered with docxtpl). District staff edit the
committed .docx in Word (wording, order, style); this script is how the first version was
made, and how to start over from it. The layout follows Hướng dẫn 36-HD/VPTW (03/4/2018):
A4, margins top/bottom 20 mm, left 30 mm, right 15 mm, Times New Roman 14 pt, the header
block, the title, the signature block and "Nơi nhận".

    PYTHONPATH=. python scripts/make_report_template.py [OUT]
"""

from __future__ import annotations

import sys
from pathlib import Path

from docx import Document
from docx.enum.section import WD_ORIENT, WD_SECTION
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml.ns import qn
from docx.shared import Mm, Pt

FONT = "Times New Roman"
BODY_PT = 14
TABLE_PT = 12
APPENDIX_PT = 10
OUT = Path(__file__).resolve().parent.parent / "templates" / "report.docx"
LEFT, CENTER, RIGHT, JUSTIFY = (
    WD_ALIGN_PARAGRAPH.LEFT,
    WD_ALIGN_PARAGRAPH.CENTER,
    WD_ALIGN_PARAGRAPH.RIGHT,
    WD_ALIGN_PARAGRAPH.JUSTIFY,
)


def _font(style_or_run, size: float | None = None) -> None:
    style_or_run.font.name = FONT
    if size:
        style_or_run.font.size = Pt(size)
    element = style_or_run.element
    rpr = element.get_or_add_rPr()
    fonts = rpr.find(qn("w:rFonts"))
    if fonts is None:
        fonts = rpr.makeelement(qn("w:rFonts"), {})
        rpr.append(fonts)
    for attr in ("w:ascii", "w:hAnsi", "w:cs", "w:eastAsia"):
        fonts.set(qn(attr), FONT)


def _margins(section, landscape: bool = False) -> None:
    section.orientation = WD_ORIENT.LANDSCAPE if landscape else WD_ORIENT.PORTRAIT
    section.page_width, section.page_height = (
        (Mm(297), Mm(210)) if landscape else (Mm(210), Mm(297))
    )
    section.top_margin = section.bottom_margin = Mm(20)
    section.left_margin, section.right_margin = Mm(30), Mm(15)
    section.header_distance = section.footer_distance = Mm(10)


def para(
    container,
    text: str = "",
    *,
    bold: bool = False,
    italic: bool = False,
    underline: bool = False,
    align=JUSTIFY,
    indent: bool = True,
    size: float | None = None,
    after: float = 6,
):
    """One paragraph with one run: a Jinja tag never straddles two runs."""
    p = container.add_paragraph()
    p.alignment = align
    fmt = p.paragraph_format
    fmt.space_before, fmt.space_after = Pt(0), Pt(after)
    fmt.first_line_indent = Mm(10) if indent and align == JUSTIFY else None
    if text:
        run = p.add_run(text)
        run.bold, run.italic, run.underline = bold or None, italic or None, underline or None
        if size:
            run.font.size = Pt(size)
    return p


def tag(container, text: str):
    """A paragraph holding only a ``{%p … %}`` tag (docxtpl removes the paragraph)."""
    return para(container, text, indent=False, after=0)


def heading(doc, text: str):
    return para(doc, text, bold=True, indent=True, after=6)


def _cell(
    cell,
    text: str,
    *,
    bold=False,
    italic=False,
    underline=False,
    align=CENTER,
    size: float | None = None,
    after: float = 0,
) -> None:
    first = cell.paragraphs[0]
    first.alignment = align
    first.paragraph_format.space_after = Pt(after)
    if text:
        run = first.add_run(text)
        run.bold, run.italic, run.underline = bold or None, italic or None, underline or None
        if size:
            run.font.size = Pt(size)


def _lines(cell, lines: list[tuple[str, dict]]) -> None:
    """Several paragraphs in one cell: (text, options) each."""
    for i, (text, options) in enumerate(lines):
        if i == 0:
            _cell(cell, text, **options)
        else:
            p = para(
                cell, text, indent=False, align=options.pop("align", CENTER), after=0, **options
            )
            p.paragraph_format.space_after = Pt(0)


def _widths(table, widths_mm: list[float]) -> None:
    """Fixed column widths (Word and LibreOffice both keep them)."""
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    table.autofit = False
    for column, width in zip(table.columns, widths_mm, strict=True):
        column.width = Mm(width)


def grid(doc, headers: list[str], widths_mm: list[float], size: float = TABLE_PT):
    """A bordered table with a bold header row."""
    table = doc.add_table(rows=1, cols=len(headers))
    table.style = doc.styles["Table Grid"]
    _widths(table, widths_mm)
    for cell, text, width in zip(table.rows[0].cells, headers, widths_mm, strict=True):
        cell.width = Mm(width)
        _cell(cell, text, bold=True, size=size)
    return table


def row(
    table,
    texts: list[str],
    widths_mm: list[float],
    size: float = TABLE_PT,
    aligns: list | None = None,
) -> None:
    cells = table.add_row().cells
    for i, (cell, text, width) in enumerate(zip(cells, texts, widths_mm, strict=True)):
        cell.width = Mm(width)
        _cell(cell, text, size=size, align=(aligns[i] if aligns else CENTER))


def loop_row(table, opening: str, widths_mm: list[float], size: float = TABLE_PT) -> None:
    """A row holding only a ``{%tr … %}`` tag in its first cell (docxtpl removes the row)."""
    row(table, [opening] + [""] * (len(widths_mm) - 1), widths_mm, size)


def header_block(doc) -> None:
    table = doc.add_table(rows=1, cols=2)
    _widths(table, [75, 90])
    left, right = table.rows[0].cells
    left.width, right.width = Mm(75), Mm(90)
    _lines(
        left,
        [
            ("{{ org.superior }}", {"size": 14}),
            ("{{ org.issuer }}", {"bold": True, "size": 14}),
            ("*", {"size": 14}),
            ("Số {{ org.number }}", {"size": 14}),
        ],
    )
    _lines(
        right,
        [
            ("ĐẢNG CỘNG SẢN VIỆT NAM", {"bold": True, "underline": True, "size": 15}),
            ("", {}),
            (
                "{{ org.place }}, ngày {{ date.day }} tháng {{ date.month }} năm {{ date.year }}",
                {"italic": True, "size": 14},
            ),
        ],
    )
    para(doc, "", after=6)
    para(doc, "BÁO CÁO", bold=True, align=CENTER, size=16, after=0)
    para(doc, "{{ subject }}", bold=True, align=CENTER, after=0)
    para(doc, "{{ subject_period }}", bold=True, align=CENTER, after=0)
    para(doc, "-----", align=CENTER, after=12)


def body(doc) -> None:
    para(
        doc,
        "Thực hiện chủ trương “tỉnh nắm tới xã, huyện nắm tới ấp, xã nắm tới hộ gia đình”, "
        "{{ org.committee }} báo cáo {{ purpose }} như sau:",
    )
    heading(doc, "I. KẾT QUẢ THỰC HIỆN")

    heading(doc, "1. Phân công cán bộ phụ trách")
    para(
        doc,
        "{{ scope_cap }} có {{ a.district_cadres }} cán bộ huyện được phân công phụ trách "
        "{{ a.hamlets_covered }}/{{ a.hamlets }} ấp, khu phố; {{ a.provincial_cadres }} cán bộ "
        "tỉnh phụ trách {{ a.communes_covered }}/{{ a.communes }} "
        "{% if commune %}xã{% else %}xã, thị trấn{% endif %}"
        "{% if a.provincial_multi %} (trong đó {{ a.provincial_multi }} đồng chí phụ trách "
        "hai xã){% endif %}.",
    )
    tag(doc, "{%p if a.gaps %}")
    para(doc, "Còn chưa có cán bộ phụ trách: {{ a.gaps }}.")
    tag(doc, "{%p else %}")
    para(
        doc,
        "Tất cả ấp, khu phố{% if not commune %} và xã, thị trấn{% endif %} đều có cán bộ "
        "được phân công phụ trách.",
    )
    tag(doc, "{%p endif %}")

    heading(doc, "2. Sinh hoạt chi bộ")
    para(
        doc,
        "Năm {{ year }}, {{ m.cells }} chi bộ ấp, khu phố đã báo cáo {{ m.cell_months }} lượt "
        "sinh hoạt tháng, trong đó {{ m.held }} lượt có tổ chức sinh hoạt"
        "{% if m.not_held %}, {{ m.not_held }} lượt không sinh hoạt{% endif %}"
        "{% if m.missing %}; còn {{ m.missing }} lượt chi bộ chưa báo cáo{% endif %}. "
        "Tỷ lệ đảng viên dự sinh hoạt bình quân đạt {{ m.attendance }}; {{ m.below }} lượt "
        "sinh hoạt có tỷ lệ đảng viên dự dưới {{ threshold }}. Tỷ lệ chi ủy họp trước khi "
        "sinh hoạt đạt {{ m.committee }}.",
    )
    tag(doc, "{%p if m.cells_low %}")
    para(
        doc,
        "Chi bộ có tỷ lệ đảng viên dự dưới {{ threshold }} từ {{ low_months }} tháng trở "
        "lên: {{ m.cells_low }}.",
    )
    tag(doc, "{%p endif %}")
    tag(doc, "{%p if m.cells_skip %}")
    para(doc, "Chi bộ có tháng không tổ chức sinh hoạt: {{ m.cells_skip }}.")
    tag(doc, "{%p endif %}")
    para(doc, "{{ charts.attendance }}", align=CENTER, indent=False, after=0)
    para(
        doc,
        "Biểu đồ 1. Tỷ lệ đảng viên dự sinh hoạt bình quân theo tháng",
        italic=True,
        align=CENTER,
        size=12,
    )

    heading(doc, "3. Cán bộ được phân công dự sinh hoạt chi bộ")
    tag(doc, "{%p if c.below %}")
    para(
        doc,
        "Trong {{ c.judged }} cán bộ huyện phụ trách ấp, khu phố, có {{ c.below|length }} đồng "
        "chí dự dưới {{ cadre_threshold }} số buổi sinh hoạt của chi bộ được phân công:",
    )
    widths = [12, 48, 40, 40, 25]
    t = grid(doc, ["STT", "Họ và tên", "Ấp, khu phố", "Xã, thị trấn", "Số buổi dự"], widths)
    loop_row(t, "{%tr for x in c.below %}", widths)
    row(
        t,
        [
            "{{ loop.index }}",
            "{{ x.name }}",
            "{{ x.hamlet }}",
            "{{ x.commune }}",
            "{{ x.attended }}/{{ x.meetings }} ({{ x.share }})",
        ],
        widths,
        aligns=[CENTER, LEFT, LEFT, LEFT, CENTER],
    )
    loop_row(t, "{%tr endfor %}", widths)
    para(doc, "", after=6)
    tag(doc, "{%p else %}")
    para(
        doc,
        "{{ c.judged }} cán bộ huyện phụ trách ấp, khu phố đều dự từ {{ cadre_threshold }} "
        "số buổi sinh hoạt của chi bộ được phân công trở lên.",
    )
    tag(doc, "{%p endif %}")

    heading(doc, "4. Thực hiện chế độ báo cáo")
    para(
        doc,
        "Trong {{ rep.commune_months }} lượt báo cáo tháng đã đến hạn (trước ngày "
        "{{ deadline_day }} tháng sau), có {{ rep.ok }} lượt đủ và đúng hạn ({{ rep.ok_share }}), "
        "{{ rep.late }} lượt trễ hạn, {{ rep.partial }} lượt báo cáo thiếu chi bộ, "
        "{{ rep.none }} lượt chưa nộp{% if rep.unreadable %}, {{ rep.unreadable }} lượt không "
        "đọc được bảng tính{% endif %}.",
    )
    tag(doc, "{%p if rep.flagged %}")
    para(doc, "Các xã, thị trấn báo cáo trễ hạn hoặc còn thiếu:")
    widths = [12, 60, 30, 40, 23]
    t = grid(
        doc,
        ["STT", "Xã, thị trấn", "Số tháng trễ hạn", "Số tháng thiếu, chưa nộp", "Không đọc được"],
        widths,
    )
    loop_row(t, "{%tr for x in rep.flagged %}", widths)
    row(
        t,
        [
            "{{ loop.index }}",
            "{{ x.commune }}",
            "{{ x.late }}",
            "{{ x.missing }}",
            "{{ x.unreadable }}",
        ],
        widths,
        aligns=[CENTER, LEFT, CENTER, CENTER, CENTER],
    )
    loop_row(t, "{%tr endfor %}", widths)
    row(t, ["", "Cộng", "{{ rep.late }}", "{{ rep.missing }}", "{{ rep.unreadable }}"], widths)
    para(doc, "", after=6)
    tag(doc, "{%p endif %}")
    para(doc, "{{ charts.reporting }}", align=CENTER, indent=False, after=0)
    para(
        doc,
        "Biểu đồ 2. Báo cáo tháng đủ, đúng hạn theo {{ unit_kind }}",
        italic=True,
        align=CENTER,
        size=12,
    )

    heading(doc, "5. Vận động nguồn lực hỗ trợ cơ sở")
    tag(doc, "{%p if s.count %}")
    para(
        doc,
        "Cán bộ được phân công đã vận động {{ s.count }} lượt hỗ trợ, tổng giá trị "
        "{{ s.total }} đồng, trong đó:",
    )
    tag(doc, "{%p for f in s.fields %}")
    para(doc, "- {{ f.field }}: {{ f.count }} lượt, {{ f.total }} đồng.")
    tag(doc, "{%p endfor %}")
    tag(doc, "{%p else %}")
    para(doc, "Năm {{ year }} chưa có báo cáo vận động, hỗ trợ.")
    tag(doc, "{%p endif %}")

    heading(doc, "6. Xã nắm tới hộ gia đình")
    para(
        doc,
        "{{ h.commune_cadres }} cán bộ xã được phân công theo dõi {{ h.followed }}/{{ h.registry }}"
        " hộ ({{ h.share }}) ở {{ h.hamlets }} ấp, khu phố{% if h.gap %}; còn {{ h.gap }} hộ chưa "
        "có cán bộ xã phụ trách{% endif %}{% if h.lowest %}; tỷ lệ thấp nhất ở {{ h.lowest }}"
        "{% endif %}.",
    )

    heading(doc, "7. Đánh giá, xếp loại chi bộ")
    tag(doc, "{%p if r %}")
    para(
        doc,
        "Kết quả đánh giá, xếp loại chất lượng năm {{ year }}, {{ scope }} có "
        "{{ r.HTXSNV }}/{{ r.cells }} chi bộ ấp, khu phố hoàn thành xuất sắc nhiệm vụ, "
        "{{ r.HTTNV }} hoàn thành tốt nhiệm vụ, hoàn thành nhiệm vụ {{ r.HTNV }}, "
        "{% if r.failed %}{{ r.KHTNV }} chi bộ không hoàn thành nhiệm vụ{% else %}không có chi "
        "bộ không hoàn thành nhiệm vụ{% endif %}{% if r.unrated %}; {{ r.unrated }} chi bộ chưa "
        "xếp loại{% endif %}.",
    )
    para(
        doc,
        "Tỷ lệ chi bộ hoàn thành xuất sắc nhiệm vụ đạt {{ r.share.HTXSNV }}, hoàn thành tốt "
        "nhiệm vụ {{ r.share.HTTNV }}, hoàn thành nhiệm vụ {{ r.share.HTNV }}.",
    )
    tag(doc, "{%p if r.prev %}")
    para(
        doc,
        "So với năm {{ r.prev }}: hoàn thành xuất sắc nhiệm vụ {{ r.change.HTXSNV }}; hoàn "
        "thành tốt nhiệm vụ {{ r.change.HTTNV }}; hoàn thành nhiệm vụ {{ r.change.HTNV }}; "
        "không hoàn thành nhiệm vụ {{ r.change.KHTNV }}{% if r.prev_unrated %} (năm {{ r.prev }} "
        "còn {{ r.prev_unrated }} chi bộ chưa xếp loại){% endif %}.",
    )
    tag(doc, "{%p endif %}")
    tag(doc, "{%p else %}")
    para(doc, "Chưa có kết quả đánh giá, xếp loại chi bộ năm {{ year }}.")
    tag(doc, "{%p endif %}")
    para(doc, "{{ charts.ratings }}", align=CENTER, indent=False, after=0)
    para(
        doc,
        "Biểu đồ 3. Kết quả xếp loại chi bộ {{ ratings_caption }}",
        italic=True,
        align=CENTER,
        size=12,
    )


def review(doc) -> None:
    tag(doc, "{%p if review %}")
    heading(doc, "II. KẾT QUẢ QUA CÁC NĂM {{ first_year }} - {{ year }}")
    para(
        doc,
        "Các chỉ tiêu chủ yếu qua từng năm (xu hướng: năm {{ year }} so với năm {{ first_year }}):",
    )
    widths = [62, 22, 22, 22, 37]  # the loop tags' cells go: three years fill the width
    table = doc.add_table(rows=1, cols=5)
    table.style = doc.styles["Table Grid"]
    _widths(table, widths)
    head = ["Chỉ tiêu", "{%tc for y in years %}", "{{ y }}", "{%tc endfor %}", "Xu hướng"]
    for cell, text, width in zip(table.rows[0].cells, head, widths, strict=True):
        cell.width = Mm(width)
        _cell(cell, text, bold=True, size=TABLE_PT)
    loop_row(table, "{%tr for x in review_rows %}", widths)
    cells = table.add_row().cells
    texts = [
        "{{ x.label }}",
        "{%tc for v in x.cells %}",
        "{{ v }}",
        "{%tc endfor %}",
        "{{ x.trend }}",
    ]
    for cell, text, width, align in zip(
        cells, texts, widths, [LEFT, CENTER, CENTER, CENTER, LEFT], strict=True
    ):
        cell.width = Mm(width)
        _cell(cell, text, size=TABLE_PT, align=align)
    loop_row(table, "{%tr endfor %}", widths)
    para(doc, "", after=6)
    tag(doc, "{%p endif %}")


def limits(doc) -> None:
    heading(doc, "{{ part.limits }}. HẠN CHẾ")
    tag(doc, "{%p if lim.cadres %}")
    para(
        doc,
        "- Một số cán bộ được phân công phụ trách ấp, khu phố chưa thường xuyên dự sinh "
        "hoạt chi bộ: {{ lim.cadres }} đồng chí dự dưới {{ cadre_threshold }} số buổi sinh "
        "hoạt, nhiều nhất là các đồng chí {{ lim.cadre_names }}.",
    )
    tag(doc, "{%p endif %}")
    tag(doc, "{%p if lim.cells %}")
    para(
        doc,
        "- Tỷ lệ đảng viên dự sinh hoạt ở một số chi bộ còn thấp: {{ lim.cells }} chi bộ "
        "có từ {{ low_months }} tháng trở lên tỷ lệ dự dưới {{ threshold }} "
        "({{ lim.cell_names }}).",
    )
    tag(doc, "{%p endif %}")
    tag(doc, "{%p if lim.not_held %}")
    para(doc, "- Còn {{ lim.not_held }} lượt chi bộ không tổ chức sinh hoạt định kỳ hằng tháng.")
    tag(doc, "{%p endif %}")
    tag(doc, "{%p if lim.reporting %}")
    para(
        doc,
        "- Việc báo cáo của một số {{ unit_kind }} chưa kịp thời, đầy đủ: {{ rep.late }} "
        "lượt báo cáo trễ hạn, {{ rep.missing }} lượt thiếu hoặc chưa nộp; nhiều nhất ở "
        "{{ lim.reporting }}.",
    )
    tag(doc, "{%p endif %}")
    tag(doc, "{%p if lim.households %}")
    para(
        doc,
        "- Còn {{ h.gap }} hộ ({{ lim.households }}) chưa có cán bộ xã phụ trách; việc "
        "“xã nắm tới hộ” ở {{ h.lowest }} còn thấp.",
    )
    tag(doc, "{%p endif %}")
    tag(doc, "{%p if a.gaps %}")
    para(doc, "- Còn đơn vị chưa có cán bộ được phân công phụ trách: {{ a.gaps }}.")
    tag(doc, "{%p endif %}")
    tag(doc, "{%p if lim.failed %}")
    para(doc, "- Còn {{ lim.failed }} chi bộ không hoàn thành nhiệm vụ.")
    tag(doc, "{%p endif %}")
    tag(doc, "{%p if lim.fewer_excellent %}")
    para(
        doc,
        "- Số chi bộ hoàn thành xuất sắc nhiệm vụ giảm {{ lim.fewer_excellent }} so với "
        "năm {{ r.prev }}.",
    )
    tag(doc, "{%p endif %}")
    tag(doc, "{%p if not lim.any %}")
    para(doc, "Qua số liệu tổng hợp, chưa thấy hạn chế nổi bật.")
    tag(doc, "{%p endif %}")

    heading(doc, "{{ part.tasks }}. NHIỆM VỤ THỜI GIAN TỚI")
    para(
        doc,
        "1. Tiếp tục thực hiện nghiêm việc phân công cán bộ phụ trách ấp, khu phố; cán bộ "
        "được phân công dự đầy đủ sinh hoạt chi bộ, nắm chắc tình hình cơ sở.",
    )
    para(
        doc,
        "2. Cấp ủy các chi bộ nâng cao chất lượng sinh hoạt, bảo đảm tỷ lệ đảng viên dự "
        "sinh hoạt trên {{ threshold }}; chi ủy họp trước mỗi kỳ sinh hoạt.",
    )
    para(
        doc,
        "3. Đảng ủy các xã, thị trấn báo cáo đầy đủ, đúng hạn (trước ngày {{ deadline_day }}"
        " tháng sau); phân công cán bộ xã theo dõi đến từng hộ gia đình.",
    )


def signature(doc) -> None:
    para(doc, "", after=6)
    table = doc.add_table(rows=1, cols=2)
    _widths(table, [85, 80])
    left, right = table.rows[0].cells
    left.width, right.width = Mm(85), Mm(80)
    _cell(left, "Nơi nhận:", bold=True, italic=True, underline=True, align=LEFT, size=12)
    tag(left, "{%p for line in org.recipients %}")
    para(left, "- {{ line }}", indent=False, align=LEFT, size=12, after=0)
    tag(left, "{%p endfor %}")
    _lines(
        right,
        [
            ("{{ org.signer_for }}", {"bold": True, "size": 14}),
            ("{{ org.signer_title }}", {"bold": True, "size": 14}),
            ("", {}),
            ("", {}),
            ("", {}),
            ("", {}),
            ("{{ org.signer }}", {"bold": True, "size": 14}),
        ],
    )


def appendix(doc) -> None:
    section = doc.add_section(WD_SECTION.NEW_PAGE)
    _margins(section, landscape=True)
    para(doc, "PHỤ LỤC", bold=True, align=CENTER, after=0)
    para(doc, "Số liệu theo {{ unit_kind }} năm {{ year }}", bold=True, align=CENTER, after=0)
    para(
        doc,
        "(Kèm theo Báo cáo số {{ org.number }} của {{ org.committee }})",
        italic=True,
        align=CENTER,
        after=8,
    )
    heads = [
        "STT",
        "{{ unit_header }}",
        "Số chi bộ",
        "Số lần sinh hoạt",
        "Tỷ lệ dự bình quân",
        "Số tháng dự dưới {{ threshold }}",
        "Cán bộ phụ trách dự dưới {{ cadre_threshold }}",
        "Tháng báo cáo trễ hạn",
        "Tháng thiếu, chưa nộp",
        "Xuất sắc",
        "Tốt",
        "Hoàn thành",
        "Không hoàn thành",
        "Vận động (triệu đồng)",
        "Hộ có cán bộ xã phụ trách",
    ]
    widths = [9, 38, 12, 14, 15, 15, 17, 15, 15, 13, 11, 14, 14, 20, 17]
    t = grid(doc, heads, widths, size=APPENDIX_PT)
    loop_row(t, "{%tr for u in units %}", widths, size=APPENDIX_PT)
    keys = [
        "cells",
        "held",
        "attendance",
        "below",
        "cadres_below",
        "late",
        "missing",
        "HTXSNV",
        "HTTNV",
        "HTNV",
        "KHTNV",
        "support",
        "households",
    ]
    row(
        t,
        ["{{ loop.index }}", "{{ u.name }}", *[f"{{{{ u.{k} }}}}" for k in keys]],
        widths,
        size=APPENDIX_PT,
        aligns=[CENTER, LEFT] + [CENTER] * len(keys),
    )
    loop_row(t, "{%tr endfor %}", widths, size=APPENDIX_PT)
    row(
        t,
        ["", "{{ units_total.name }}", *[f"{{{{ units_total.{k} }}}}" for k in keys]],
        widths,
        size=APPENDIX_PT,
        aligns=[CENTER, LEFT] + [CENTER] * len(keys),
    )


def build(out: Path) -> Path:
    doc = Document()
    normal = doc.styles["Normal"]
    _font(normal, BODY_PT)
    normal.paragraph_format.space_after = Pt(0)
    normal.paragraph_format.line_spacing = 1.1
    _margins(doc.sections[0])
    header_block(doc)
    body(doc)
    review(doc)
    limits(doc)
    signature(doc)
    appendix(doc)
    doc.core_properties.title = "Báo cáo nắm cơ sở (mẫu namcoso)"
    doc.core_properties.author = "namcoso"
    out.parent.mkdir(parents=True, exist_ok=True)
    doc.save(str(out))
    return out


if __name__ == "__main__":
    print(build(Path(sys.argv[1]) if len(sys.argv) > 1 else OUT))
