#!/usr/bin/env python3
"""Render one tab of a master workbook to a PNG, to check its look by eye.

    python scripts/render_master.py PATH/master.xlsx OUT.png [--sheet "Biểu đồ"] [--dpi 110]

LibreOffice (headless) prints the workbook to PDF, one page per tab, then ``pdftoppm``
(poppler-utils) turns the chosen tab's page into a PNG. Operator tool only; needs
``apt-get install libreoffice-calc poppler-utils``.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import openpyxl

#: One page per tab, however large (LibreOffice ≥ 6.4).
PDF_FILTER = "pdf:calc_pdf_Export:" + json.dumps(
    {"SinglePageSheets": {"type": "boolean", "value": "true"}}
)


def render(master: Path, out: Path, sheet: str = "Biểu đồ", dpi: int = 110) -> Path:
    """Write ``sheet`` of ``master`` as a PNG to ``out``; returns ``out``."""
    for tool in ("soffice", "pdftoppm"):
        if shutil.which(tool) is None:
            raise SystemExit(f"thiếu {tool}: apt-get install libreoffice-calc poppler-utils")
    wb = openpyxl.load_workbook(master, read_only=True)
    try:
        titles = wb.sheetnames
    finally:
        wb.close()
    if sheet not in titles:
        raise SystemExit(f"không có trang '{sheet}' trong {master.name}: {', '.join(titles)}")
    page = titles.index(sheet) + 1
    with tempfile.TemporaryDirectory(prefix="namcoso-render-") as tmp:
        work = Path(tmp)
        profile = (work / "profile").as_uri()
        subprocess.run(
            [
                "soffice",
                f"-env:UserInstallation={profile}",
                "--headless",
                "--convert-to",
                PDF_FILTER,
                "--outdir",
                str(work),
                str(master),
            ],
            check=True,
            capture_output=True,
            timeout=300,
        )
        pdf = work / f"{master.stem}.pdf"
        if not pdf.exists():
            raise SystemExit(f"LibreOffice không xuất được PDF từ {master}")
        stem = work / "page"
        subprocess.run(
            [
                "pdftoppm",
                "-png",
                "-r",
                str(dpi),
                "-f",
                str(page),
                "-l",
                str(page),
                "-singlefile",
                str(pdf),
                str(stem),
            ],
            check=True,
            capture_output=True,
            timeout=120,
        )
        out.parent.mkdir(parents=True, exist_ok=True)
        shutil.move(str(stem.with_suffix(".png")), out)
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Xuất một trang của master.xlsx ra ảnh PNG.")
    parser.add_argument("master", type=Path, help="tệp master.xlsx")
    parser.add_argument("out", type=Path, help="tệp ảnh PNG sẽ ghi")
    parser.add_argument("--sheet", default="Biểu đồ", help="tên trang (mặc định: Biểu đồ)")
    parser.add_argument("--dpi", type=int, default=110, help="độ phân giải (mặc định 110)")
    args = parser.parse_args(argv)
    print(render(args.master, args.out, args.sheet, args.dpi))
    return 0


if __name__ == "__main__":
    sys.exit(main())
