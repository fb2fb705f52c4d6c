"""``namcoso.toml``: where the project lives, which backend, the rules and the schedule."""

from __future__ import annotations

import os
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from .errors import ConfigError

CONFIG_NAME = "namcoso.toml"


@dataclass(frozen=True)
class Rules:
    attendance_threshold: float = 0.85
    cadre_attendance_threshold: float = 0.5
    report_deadline_day: int = 5
    max_drop_ratio: float = 0.5
    #: First month of the reporting period (YYYY-MM); default: January of the data's first year.
    period_start: str | None = None


@dataclass(frozen=True)
class GoogleSettings:
    credentials: Path | None = None
    master: str = ""
    folder: str = ""
    #: Addresses of district staff who get writer access to provisioned commune sheets.
    district_emails: tuple[str, ...] = ()
    requests_per_minute: int = 55


@dataclass(frozen=True)
class Schedule:
    every_minutes: int = 30
    at: tuple[str, ...] = ()  # fixed times of day, "HH:MM"


@dataclass(frozen=True)
class ReportSettings:
    """``[report]``: the letterhead of ``namcoso report``; blank = worked out from the registry."""

    superior: str = ""  # "ĐẢNG BỘ TỈNH BẾN TRE"
    issuer: str = ""  # "HUYỆN ỦY BA TRI"
    place: str = ""  # "Ba Tri"
    number: str = ""  # "      -BC/HU"
    signer_title: str = ""  # "BÍ THƯ", "PHÓ BÍ THƯ"
    signer: str = ""
    recipients: tuple[str, ...] = ()
    template: str = ""  # an edited copy of templates/report.docx, relative to the project


@dataclass(frozen=True)
class Config:
    """A loaded ``namcoso.toml``. Relative paths are resolved against ``root``."""

    root: Path
    name: str = "namcoso"
    backend: str = "local"
    master: Path = Path("master.xlsx")
    communes_dir: Path = Path("communes")
    state_path: Path = Path(".namcoso/state.sqlite")
    google: GoogleSettings = field(default_factory=GoogleSettings)
    rules: Rules = field(default_factory=Rules)
    schedule: Schedule = field(default_factory=Schedule)
    report: ReportSettings = field(default_factory=ReportSettings)

    @property
    def lock_path(self) -> Path:
        return self.state_path.with_name("sync.lock")


def find_config(start: Path | None = None) -> Path:
    """``namcoso.toml`` in ``start`` or the nearest folder above it."""
    here = (start or Path.cwd()).resolve()
    for folder in [here, *here.parents]:
        candidate = folder / CONFIG_NAME
        if candidate.is_file():
            return candidate
    raise ConfigError(
        f"Không tìm thấy {CONFIG_NAME} ở thư mục hiện tại hay thư mục cha; "
        "chạy trong thư mục dự án hoặc dùng --config"
    )


def _section(data: dict, name: str) -> dict:
    value = data.get(name, {})
    if not isinstance(value, dict):
        raise ConfigError(f"{CONFIG_NAME}: [{name}] phải là một bảng (table)")
    return value


def _typed(cls, values: dict, section: str):
    allowed = set(cls.__dataclass_fields__)
    unknown = set(values) - allowed
    if unknown:
        raise ConfigError(f"{CONFIG_NAME}: [{section}] không có khóa {', '.join(sorted(unknown))}")
    defaults = cls()
    for key, value in values.items():
        expected = type(getattr(defaults, key))
        if expected is float and isinstance(value, int):
            continue
        if getattr(defaults, key) is not None and not isinstance(value, expected | list):
            raise ConfigError(
                f"{CONFIG_NAME}: [{section}] {key} phải là {expected.__name__}, đang là {value!r}"
            )
    return cls(**{k: tuple(v) if isinstance(v, list) else v for k, v in values.items()})


def load_config(path: Path | None = None) -> Config:
    """Read and check a config file (``path``, or found upward from the current folder)."""
    path = Path(path) if path else find_config()
    if not path.is_file():
        raise ConfigError(f"Không tìm thấy tệp cấu hình {path}")
    try:
        with path.open("rb") as f:
            data = tomllib.load(f)
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as e:
        raise ConfigError(f"{path.name} sai cú pháp TOML: {e}") from e
    root = path.resolve().parent
    project = _section(data, "project")
    local = _section(data, "local")
    google = dict(_section(data, "google"))
    backend = project.get("backend", "local")
    if backend not in ("local", "google"):
        raise ConfigError(
            f'{CONFIG_NAME}: backend phải là "local" hoặc "google", đang là {backend!r}'
        )
    credentials = google.pop("credentials", None) or os.environ.get(
        "GOOGLE_APPLICATION_CREDENTIALS"
    )
    if credentials:
        google["credentials"] = (root / credentials).resolve()
    rules = _typed(Rules, _section(data, "rules"), "rules")
    if not 0 < rules.attendance_threshold <= 1 or not 0 < rules.cadre_attendance_threshold <= 1:
        raise ConfigError(f"{CONFIG_NAME}: ngưỡng tỷ lệ trong [rules] phải trong khoảng (0, 1]")
    if not 1 <= rules.report_deadline_day <= 28:
        raise ConfigError(f"{CONFIG_NAME}: report_deadline_day phải từ 1 đến 28")
    schedule = _typed(Schedule, _section(data, "schedule"), "schedule")
    if schedule.every_minutes < 1:
        raise ConfigError(f"{CONFIG_NAME}: every_minutes phải từ 1 trở lên")
    for moment in schedule.at:
        if not re.fullmatch(r"([01]\d|2[0-3]):[0-5]\d", str(moment)):
            raise ConfigError(
                f'{CONFIG_NAME}: [schedule] at phải là giờ dạng "HH:MM" (giờ Việt Nam), '
                f"đang là {moment!r}"
            )
    report = _typed(ReportSettings, _section(data, "report"), "report")
    state = project.get("state", ".namcoso/state.sqlite")
    return Config(
        root=root,
        name=project.get("name", "namcoso"),
        backend=backend,
        master=root / local.get("master", "master.xlsx"),
        communes_dir=root / local.get("communes_dir", "communes"),
        state_path=root / state,
        google=_typed(GoogleSettings, google, "google"),
        rules=rules,
        schedule=schedule,
        report=report,
    )
