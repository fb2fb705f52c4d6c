"""``namcoso provision``: a report sheet for every registered commune that has none — one
flow for every backend.

Each sheet comes from ``templates/commune.toml``: the ``Hướng dẫn`` tab, the four input
tabs with their headers, dropdowns (the commune's hamlets, the four ratings, yes/no, the
fields of support), date and whole-number checks, the header row locked (data rows stay
editable), then the ``Phân công`` and ``Kiểm tra dữ liệu`` tabs. Where sheets are shared
(Google), a new one is shared as writer with the commune's email and ``[google]
district_emails`` only. The new sheets are recorded in the master's ``Danh mục xã`` — the
only time namcoso writes a district-owned tab, one cell per commune, in one write at the
end (also when a later commune failed, so no sheet made is forgotten). ``--repair`` puts
back the dropdowns and locks a commune removed; sync reports such sheets
(``validation_removed``).

What is done here is the same everywhere; the I/O is the backend's
(:class:`~sync.backends.base.ProvisioningBackend`: ``backends/local_provision.py``,
``backends/google_provision.py``).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable

from .backends.base import NewCommuneSheet, OutputTab, ProvisioningBackend
from .backends.xlsx_controls import check_protections
from .config import Config
from .controls import control_targets, input_tab
from .errors import MasterUnavailable, SourceUnavailable
from .findings import Finding, finding
from .layout import commune_layout, master_layout
from .lock import run_lock
from .normalize import RawTable, normalize_tab
from .registry import Registry, commune_code, load_registry
from .render import assignments_tab, guide_tab

log = logging.getLogger("namcoso")

__all__ = [
    "check_protections",
    "new_commune_sheet",
    "protection_findings",
    "provision",
    "provisioning_backend",
]


def provisioning_backend(config: Config) -> ProvisioningBackend:
    """The configured backend, with what provisioning needs (on Google, Drive scope)."""
    if config.backend == "google":
        from .backends.google_provision import GoogleProvisioning

        return GoogleProvisioning.for_config(config)
    from .backends.local_provision import LocalProvisioning

    return LocalProvisioning.for_config(config)


def protection_findings(commune: str, titles: Iterable[str]) -> list[Finding]:
    """``validation_removed`` findings (Cảnh báo) for the tabs a backend's
    ``missing_controls`` listed."""
    return [finding("validation_removed", commune=commune, tab=t) for t in titles]


def new_commune_sheet(code: str, registry: Registry) -> NewCommuneSheet:
    """What a new sheet for commune ``code`` holds, from the template and the registry."""
    layout = commune_layout()
    hamlets = [name for _, name in registry.hamlets_of(code)]
    feedback = layout["feedback"]
    return NewCommuneSheet(
        code=code,
        name=str(registry.commune_names.get(code, "")),
        guide=guide_tab(),
        inputs=[input_tab(tab, hamlets) for tab in layout.by_role("input")],
        assignments=assignments_tab(code, registry),
        feedback=OutputTab(feedback.title, feedback.specs(), []),
    )


class ProvisionResult(list[str]):
    """The lines to print, one per commune, and the communes whose sheet could not be
    created, checked or repaired (``failed``): the command then exits 3, like a sync
    that could not read or write a commune."""

    def __init__(self, lines: list[str], failed: list[str]) -> None:
        super().__init__(lines)
        self.failed = failed

    @property
    def exit_code(self) -> int:
        return 3 if self.failed else 0


def provision(
    config: Config, repair: bool = False, *, backend: ProvisioningBackend | None = None
) -> ProvisionResult:
    """Create the missing commune sheets (and with ``repair``, restore the dropdowns and
    locks of existing ones); returns the lines to print, one per commune."""
    backend = backend or provisioning_backend(config)
    with run_lock(config.lock_path):
        return _Provisioning(config, backend, repair).run()


class _Provisioning:
    def __init__(self, config: Config, backend: ProvisioningBackend, repair: bool) -> None:
        self.config = config
        self.backend = backend
        self.repair = repair
        self.tab = master_layout()["communes"]
        self.header = self.tab.column("source").header
        #: Codes of the communes whose sheet could not be created, checked or repaired.
        self.failed: list[str] = []

    def run(self) -> ProvisionResult:
        grids = self.backend.read_registry()
        raw = normalize_tab(grids, self.tab)
        if not raw.ok:
            raise MasterUnavailable(
                f"Trang '{self.tab.title}' của bảng tổng hợp thiếu hoặc không có cột "
                f"'{self.header}'"
            )
        registry = load_registry(grids)
        recorded: dict[str, str] = {}
        lines: list[str] = []
        try:
            for c in registry.communes.itertuples(index=False):
                lines.append(self._commune(c, registry, recorded))
        finally:
            if recorded:
                self._record(raw, recorded)
        if recorded:
            lines.append(
                f"Đã ghi {len(recorded)} bảng tính vào cột '{self.header}' "
                f"của trang '{self.tab.title}'"
            )
        return ProvisionResult(lines or [f"{self.tab.title} chưa có xã nào"], self.failed)

    def _commune(self, c, registry: Registry, recorded: dict[str, str]) -> str:
        """One commune: its line, and what to record for it in ``recorded``."""
        label = f"{c.name} ({c.code})"
        source = str(c.source or "").strip()
        if source and not self.backend.is_source(source):
            self.failed.append(c.code)
            return (
                f"{label}: ô '{self.header}' ghi \"{source}\", không phải "
                f"{self.backend.source_kind}; sửa hoặc xóa ô này rồi chạy lại"
            )
        found = self.backend.find_sheet(c.code, source)
        if found is not None:
            note = ""
            if found != source:
                recorded[c.code] = found
                note = " (đã có sẵn tệp, ghi vào danh mục)"
            return f"{label}: {self._existing(c.code, found, registry)}{note}"
        try:
            made = self.backend.create_commune_sheet(new_commune_sheet(c.code, registry), source)
        except SourceUnavailable as e:
            self.failed.append(c.code)
            return f"{label}: {e}"
        if made != source:
            recorded[c.code] = made
        line = f"{label}: đã tạo {self.backend.describe(made)} từ mẫu"
        emails = [str(c.email or ""), *self.config.google.district_emails]
        sharing = self.backend.share(made, emails)
        if sharing is not None:
            shared, notes = sharing
            line += f", chia sẻ cho {', '.join(shared)}" if shared else ", chưa chia sẻ cho ai"
            line += "".join(f"; {n}" for n in notes)
        return line

    def _existing(self, code: str, source: str, registry: Registry) -> str:
        name = self.backend.describe(source)
        hamlets = [n for _, n in registry.hamlets_of(code)]
        try:
            if not self.repair:
                missing = self.backend.missing_controls(source, hamlets)
                if missing:
                    return (
                        f"{name} đã có; trang {', '.join(missing)} bị gỡ danh sách chọn hoặc "
                        "khóa tiêu đề (chạy namcoso provision --repair)"
                    )
                return f"{name} đã có"
            targets = control_targets(self.backend.read_commune(source), hamlets)
            repaired = self.backend.repair_controls(source, code, targets)
        except SourceUnavailable as e:
            self.failed.append(code)
            return f"{name} {e.message}"
        if repaired:
            pages = ", ".join(repaired)
            return f"đã áp lại danh sách chọn và khóa tiêu đề cho trang {pages}"
        return f"{name} không cần sửa"

    def _record(self, raw: RawTable, recorded: dict[str, str]) -> None:
        """The new sources into their communes' cells, in one write."""
        rows = {
            commune_code(code): row
            for code, row in zip(raw.frame["code"], raw.frame["_row"], strict=True)
        }
        letter = raw.letters["source"]
        cells = {f"{letter}{rows[code]}": text for code, text in recorded.items()}
        try:
            self.backend.write_registry_cells(raw.title, cells)
        except MasterUnavailable as e:
            made = "; ".join(f"{code} {text}" for code, text in recorded.items())
            raise type(e)(
                f"Đã tạo bảng tính nhưng không ghi được vào {self.tab.title}: {made}",
                detail=str(e),
            ) from None
