"""``namcoso validate``: check one commune sheet on its own, as a commune would send it."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from .backends.local import READ_ERRORS, read_workbook
from .config import Config
from .errors import ConfigError
from .findings import Report
from .layout import master_layout
from .normalize import normalize_commune
from .registry import Registry, load_registry
from .validate import validate_commune


def _registry(config: Config | None, registry_file: str | None) -> Registry:
    if registry_file:
        path = Path(registry_file)
        try:
            return load_registry(read_workbook(path))
        except READ_ERRORS as e:
            raise ConfigError(f"Không đọc được tệp danh mục {path}") from e
    assert config is not None
    from .pipeline import make_backend

    return load_registry(make_backend(config).read_registry())


def validate_file(
    target: str,
    *,
    commune: str | None,
    config: Config | None,
    registry: str | None = None,
    today: date | None = None,
) -> Report:
    """Findings for one .xlsx file or Google sheet (ID or URL) of commune ``commune``."""
    reg = _registry(config, registry)
    path = Path(target)
    if path.suffix.lower() in (".xlsx", ".xlsm") or path.exists():
        if not path.exists():
            raise ConfigError(f"Không tìm thấy tệp {path}")
        try:
            grids = read_workbook(path)
        except READ_ERRORS as e:
            raise ConfigError(f"Không đọc được {path.name}: tệp hỏng hoặc không phải .xlsx") from e
        source = path.name
    else:
        if config is None or config.backend != "google":
            raise ConfigError('Kiểm tra bảng tính Google cần namcoso.toml với backend = "google"')
        from .pipeline import make_backend

        grids = make_backend(config).read_commune(target)
        source = target
    if commune is None:
        matches = reg.communes[reg.communes["source"] == source]["code"].tolist()
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
    return Report.of(validate_commune(raws, commune, reg, today or date.today()).findings)
