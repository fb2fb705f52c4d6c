"""``namcoso validate``: check one commune sheet on its own, as a commune would send it."""

from __future__ import annotations

import os
from datetime import date
from pathlib import Path

from .backends.base import Backend
from .backends.local import READ_ERRORS, csv_title, read_workbook
from .backends.safe_read import read_source
from .config import Config
from .errors import ConfigError
from .findings import Report
from .layout import master_layout
from .normalize import normalize_commune
from .registry import Registry, load_registry
from .validate import validate_commune

#: What a commune may send (read through :mod:`sync.backends.safe_read`).
FILE_SUFFIXES = (".xlsx", ".xlsm", ".xls", ".ods", ".csv")


def _registry(config: Config | None, registry_file: str | None, backend) -> Registry:
    if registry_file:
        path = Path(registry_file)
        try:
            return load_registry(read_workbook(path))
        except READ_ERRORS as e:
            raise ConfigError(f"Không đọc được tệp danh mục {path}") from e
    return load_registry(backend().read_registry())


def validate_file(
    target: str,
    *,
    commune: str | None,
    config: Config | None,
    registry: str | None = None,
    today: date | None = None,
    backend: Backend | None = None,
) -> Report:
    """Findings for one .xlsx file or Google sheet (ID or URL) of commune ``commune``.

    The registry comes from ``registry`` (a master.xlsx) or from the configured master.
    """
    made: list[Backend] = [backend] if backend else []

    def get_backend() -> Backend:
        if not made:
            from .pipeline import make_backend

            assert config is not None
            made.append(make_backend(config))
        return made[0]

    reg = _registry(config, registry, get_backend)
    path = Path(target)
    if path.suffix.lower() in FILE_SUFFIXES or os.path.lexists(path):
        if not os.path.lexists(path):
            raise ConfigError(f"Không tìm thấy tệp {path}")
        # The same gates as a sync: a file that is not a regular file, too large, hostile
        # or broken is a SourceUnavailable (exit 3) with its reason, never a traceback.
        grids, read = read_source(path, None)
        if read.kind == "csv":
            grids = {csv_title(grid, path.stem): grid for grid in grids.values()}
        source = path.name
    else:
        if backend is None and (config is None or config.backend != "google"):
            raise ConfigError('Kiểm tra bảng tính Google cần namcoso.toml với backend = "google"')
        grids = get_backend().read_commune(target)
        source = target
    if commune is None:
        matches = [
            code
            for code, src in zip(reg.communes["code"], reg.communes["source"], strict=True)
            if src == source or _same_sheet(src, source)
        ]
        if not matches:
            stem = path.stem
            matches = [c for c in reg.communes["code"] if c == stem]
        if not matches:
            raise ConfigError("Không biết tệp này của xã nào: thêm --commune MÃ_XÃ")
        commune = matches[0]
    if commune not in set(reg.communes["code"]):
        title = master_layout()["communes"].title
        raise ConfigError(f"Mã xã {commune} không có trong '{title}'")
    raws = normalize_commune(grids, commune)
    start = config.rules.period_start if config is not None else None
    return Report.of(validate_commune(raws, commune, reg, today or date.today(), start).findings)


def _same_sheet(a: str, b: str) -> bool:
    """Whether two registry sources name the same Google sheet (an ID and a URL of it)."""
    from .backends.google import spreadsheet_id

    first, second = spreadsheet_id(a), spreadsheet_id(b)
    return first is not None and first == second
