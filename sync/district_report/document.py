"""Fill the Word template with docxtpl and write the .docx without ever leaving half a file."""

from __future__ import annotations

import io
import os
import tempfile
from importlib.resources.abc import Traversable
from pathlib import Path

from docx.shared import Mm
from docxtpl import DocxTemplate, InlineImage
from jinja2 import TemplateError

from ..errors import NamcosoError
from ..resources import TEMPLATES_DIR

TEMPLATE_NAME = "report.docx"
CHART_WIDTH = Mm(150)


def packaged_template() -> Traversable:
    """The template shipped with namcoso (``templates/report.docx``, package data)."""
    return TEMPLATES_DIR / TEMPLATE_NAME


def render(template: Path | Traversable, context: dict, charts: dict[str, io.BytesIO]) -> bytes:
    """The filled document as bytes. A template staff broke in Word is one clear line."""
    try:
        doc = DocxTemplate(io.BytesIO(template.read_bytes()))
        doc.init_docx()
    except Exception as e:  # missing, not a .docx, damaged: whatever the zip/XML layer says
        raise NamcosoError(f"Không đọc được mẫu báo cáo {template}", detail=str(e)) from e
    images = {k: InlineImage(doc, png, width=CHART_WIDTH) for k, png in charts.items()}
    try:
        doc.render({**context, "charts": images}, autoescape=True)
    except TemplateError as e:
        where = f" (dòng {e.lineno})" if getattr(e, "lineno", None) else ""
        raise NamcosoError(f"Mẫu báo cáo {template} có thẻ sai{where}: {e}") from e
    except Exception as e:  # a tag staff edited into something the figures cannot fill
        raise NamcosoError(
            f"Không điền được mẫu báo cáo {template}", detail=f"{type(e).__name__}: {e}"
        ) from e
    out = io.BytesIO()
    doc.save(out)
    return out.getvalue()


def write_atomically(data: bytes, path: Path) -> None:
    """Write to a temporary file beside ``path``, then replace: never half a report."""
    path = Path(path)
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    except OSError as e:
        raise NamcosoError(f"Không ghi được báo cáo vào {path}", detail=e.strerror) from e
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except OSError as e:
        Path(tmp).unlink(missing_ok=True)
        raise NamcosoError(f"Không ghi được báo cáo vào {path}", detail=e.strerror) from e
