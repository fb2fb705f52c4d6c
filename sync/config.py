"""``namcoso.toml``: where the project lives, which backend, the rules and the schedule."""

from __future__ import annotations

import difflib
import os
import re
import tomllib
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from .errors import ConfigError

CONFIG_NAME = "namcoso.toml"
SECTIONS = ("project", "local", "google", "rules", "schedule", "report")


@dataclass(frozen=True)
class Rules:
    attendance_threshold: float = 0.85
    cadre_attendance_threshold: float = 0.5
    report_deadline_day: int = 5
    max_drop_ratio: float = 0.5
    #: First month of the reporting period (YYYY-MM). Required in ``namcoso.toml``; None only
    #: for a Config built in code (then January of the data's first year).
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
    #: What the master covers (``[project] scope``): a district by default, or a province.
    scope: str = "huyện"
    master: Path = Path("master.xlsx")
    communes_dir: Path = Path("communes")
    state_path: Path = Path(".namcoso/state.sqlite")
    google: GoogleSettings = field(default_factory=GoogleSettings)
    rules: Rules = field(default_factory=Rules)
    schedule: Schedule = field(default_factory=Schedule)
    report: ReportSettings = field(default_factory=ReportSettings)

    @property
    def total_label(self) -> str:
        """The name of the grand total rows: ``Toàn huyện``, ``Toàn tỉnh``…"""
        return f"Toàn {self.scope}"

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


#: The keys each section of namcoso.toml accepts (besides the typed dataclasses' fields).
PROJECT_KEYS = ("name", "backend", "state", "scope")
#: What the project's master covers; its grand total rows read "Toàn <scope>".
SCOPES = ("huyện", "quận", "thị xã", "thành phố", "tỉnh")
LOCAL_KEYS = ("master", "communes_dir")
BOM = b"\xef\xbb\xbf"


def _unknown(key: str, known: Iterable[str], where: str) -> ConfigError:
    """An unknown key, named with the closest known one (a typo is the usual cause)."""
    known = sorted(known)
    close = difflib.get_close_matches(key, known, n=1, cutoff=0.6)
    hint = f'; có phải "{close[0]}"?' if close else f"; các khóa hợp lệ: {', '.join(known)}"
    return ConfigError(f'{CONFIG_NAME}: {where} không có khóa "{key}"{hint}')


def _check_keys(values: dict, known: Iterable[str], where: str, text: bool = False) -> None:
    """Every key known; with ``text``, every value a string too."""
    known = tuple(known)
    for key, value in values.items():
        if key not in known:
            raise _unknown(key, known, where)
        if text and not isinstance(value, str):
            raise ConfigError(f'{CONFIG_NAME}: {where} {key} phải là chuỗi "…", đang là {value!r}')


def _section(data: dict, name: str) -> dict:
    value = data.get(name, {})
    if not isinstance(value, dict):
        raise ConfigError(f"{CONFIG_NAME}: [{name}] phải là một bảng (table)")
    return value


def _typed(cls, values: dict, section: str, extra: Iterable[str] = ()):
    _check_keys(values, [*cls.__dataclass_fields__, *extra], f"[{section}]")
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


def _read_toml(path: Path) -> dict:
    """The file's TOML; a UTF-8 byte-order mark (Notepad on Windows writes one) is fine."""
    try:
        raw = path.read_bytes()
    except OSError as e:
        raise ConfigError(f"Không đọc được tệp cấu hình {path}", detail=e.strerror) from e
    try:
        text = raw.removeprefix(BOM).decode("utf-8")
    except UnicodeDecodeError as e:
        raise ConfigError(f"{path.name} phải được lưu dạng UTF-8") from e
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        raise ConfigError(f"{path.name} sai cú pháp TOML: {e}") from e


def _period_start(value: object) -> str:
    if value is None:
        raise ConfigError(
            f"{CONFIG_NAME}: thiếu [rules] period_start, tháng đầu kỳ báo cáo (ví dụ period_start "
            '= "2018-01")'
        )
    match = re.fullmatch(r"(\d{4})-(\d{2})", str(value))
    if not match or not 1 <= int(match[2]) <= 12:
        raise ConfigError(
            f'{CONFIG_NAME}: [rules] period_start phải là tháng dạng "YYYY-MM" (ví dụ "2018-01"), '
            f"đang là {value!r}"
        )
    return str(value)


def load_config(path: Path | None = None) -> Config:
    """Read and check a config file (``path``, or found upward from the current folder)."""
    path = Path(path) if path else find_config()
    if not path.is_file():
        raise ConfigError(f"Không tìm thấy tệp cấu hình {path}")
    data = _read_toml(path)
    _check_keys(data, SECTIONS, "tệp")
    root = path.resolve().parent
    project = _section(data, "project")
    _check_keys(project, PROJECT_KEYS, "[project]", text=True)
    local = _section(data, "local")
    _check_keys(local, LOCAL_KEYS, "[local]", text=True)
    google = dict(_section(data, "google"))
    _check_keys(google, GoogleSettings.__dataclass_fields__, "[google]")
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
    _period_start(rules.period_start)
    scope = project.get("scope", "huyện").strip().lower()
    if scope not in SCOPES:
        raise ConfigError(
            f"{CONFIG_NAME}: [project] scope phải là một trong {', '.join(SCOPES)}, "
            f"đang là {project['scope']!r}"
        )
    report = _typed(ReportSettings, _section(data, "report"), "report")
    state = project.get("state", ".namcoso/state.sqlite")
    return Config(
        root=root,
        name=project.get("name", "namcoso"),
        backend=backend,
        scope=scope,
        master=root / local.get("master", "master.xlsx"),
        communes_dir=root / local.get("communes_dir", "communes"),
        state_path=root / state,
        google=_typed(GoogleSettings, google, "google"),
        rules=rules,
        schedule=schedule,
        report=report,
    )
