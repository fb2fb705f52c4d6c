"""Who issues the report: the HD 36-HD/VPTW header block and signature.

Each field comes from ``[report]`` in ``namcoso.toml`` when set there; otherwise it is
worked out from the registry: the communes' GSO codes name their district and province in
the national unit list (``sync/data/vn_admin_units_2020.csv``), so a Ba Tri project gets
"ĐẢNG BỘ TỈNH BẾN TRE" over "HUYỆN ỦY BA TRI" without anyone typing it.
"""

from __future__ import annotations

import csv
from collections import Counter
from dataclasses import dataclass, replace
from functools import cache
from pathlib import Path

from ..registry import Registry

UNITS_CSV = Path(__file__).resolve().parent.parent / "data" / "vn_admin_units_2020.csv"
#: District kind → (committee, document number suffix).
COMMITTEES = {
    "Huyện": ("Huyện ủy", "HU"),
    "Quận": ("Quận ủy", "QU"),
    "Thị xã": ("Thị ủy", "TU"),
    "Thành phố": ("Thành ủy", "TU"),
}
DISTRICT_RECIPIENTS = (
    "Ban Thường vụ Tỉnh ủy (báo cáo),",
    "Các đồng chí Ủy viên Ban Chấp hành Đảng bộ,",
    "Đảng ủy các xã, thị trấn,",
    "Lưu Văn phòng.",
)
COMMUNE_RECIPIENTS = (
    "Ban Thường vụ cấp trên (báo cáo),",
    "Các đồng chí Đảng ủy viên,",
    "Các chi bộ ấp, khu phố,",
    "Lưu Văn phòng Đảng ủy.",
)


@dataclass(frozen=True)
class Letterhead:
    superior: str  # "ĐẢNG BỘ TỈNH BẾN TRE"
    issuer: str  # "HUYỆN ỦY BA TRI"
    place: str  # "Ba Tri"
    number: str  # "      -BC/HU"
    committee: str  # "Ban Thường vụ Huyện ủy"
    signer_for: str = "T/M BAN THƯỜNG VỤ"
    signer_title: str = "BÍ THƯ"
    signer: str = ""
    recipients: tuple[str, ...] = DISTRICT_RECIPIENTS

    def context(self) -> dict:
        return {
            "superior": self.superior,
            "issuer": self.issuer,
            "place": self.place,
            "number": self.number,
            "committee": self.committee,
            "signer_for": self.signer_for,
            "signer_title": self.signer_title,
            "signer": self.signer,
            "recipients": list(self.recipients),
        }


@cache
def _units() -> dict[str, tuple[str, str]]:
    """Commune code (5 digits) → (province name, district name)."""
    with UNITS_CSV.open(encoding="utf-8") as f:
        return {
            row["commune_code"].zfill(5): (row["province_name"], row["district_name"])
            for row in csv.DictReader(f)
        }


def _split(name: str) -> tuple[str, str]:
    """``"Huyện Ba Tri"`` → (``"Huyện"``, ``"Ba Tri"``)."""
    for kind in sorted(COMMITTEES, key=len, reverse=True):
        if name.startswith(kind + " "):
            return kind, name[len(kind) + 1 :]
    return "Huyện", name


def district_of(registry: Registry) -> tuple[str, str] | None:
    """(province, district) most of the registry's communes belong to, or None."""
    units = _units()
    found = Counter(units[c] for c in registry.communes["code"] if c in units)
    return found.most_common(1)[0][0] if found else None


def district_letterhead(registry: Registry, project_name: str, scope: str = "huyện") -> Letterhead:
    """The district committee's letterhead, from the registry's communes (or the project's
    name, ``[project] name``, when the codes are not in the national list); a province's
    (``scope = "tỉnh"``) is its Tỉnh ủy's."""
    where = district_of(registry)
    if where is not None and scope == "tỉnh":
        province = where[0]
        place = province.split(" ", 1)[-1] if province.startswith("Tỉnh ") else province
        return Letterhead(
            superior="",
            issuer=f"TỈNH ỦY {place.upper()}",
            place=place,
            number="      -BC/TU",
            committee="Ban Thường vụ Tỉnh ủy",
            recipients=(
                "Ban Bí thư Trung ương Đảng (báo cáo),",
                "Các huyện ủy, thành ủy,",
                "Lưu Văn phòng Tỉnh ủy.",
            ),
        )
    if where is None:
        place = project_name.split("ủy", 1)[-1].strip() or project_name
        return Letterhead("ĐẢNG BỘ ……", project_name.upper(), place, "      -BC", "Ban Thường vụ")
    province, district = where
    kind, place = _split(district)
    committee, suffix = COMMITTEES[kind]
    return Letterhead(
        superior=f"ĐẢNG BỘ {province.upper()}",
        issuer=f"{committee.upper()} {place.upper()}",
        place=place,
        number=f"      -BC/{suffix}",
        committee=f"Ban Thường vụ {committee}",
    )


def commune_letterhead(district: Letterhead, commune_name: str) -> Letterhead:
    """A commune Đảng ủy's letterhead, under its district's Đảng bộ."""
    kind, place = _split_commune(commune_name)
    superior = district.issuer
    for committee, _ in COMMITTEES.values():
        prefix = committee.upper() + " "
        if superior.startswith(prefix):
            superior = f"ĐẢNG BỘ {committee.split()[0].upper()} {superior[len(prefix) :]}"
            break
    return Letterhead(
        superior=superior,
        issuer=f"ĐẢNG ỦY {commune_name.upper()}",
        place=place,
        number="      -BC/ĐU",
        committee=f"Ban Thường vụ Đảng ủy {kind.lower()}",
        recipients=COMMUNE_RECIPIENTS,
    )


def _split_commune(name: str) -> tuple[str, str]:
    for kind in ("Thị trấn", "Phường", "Xã"):
        if name.startswith(kind + " "):
            return kind, name[len(kind) + 1 :]
    return "Xã", name


def with_settings(head: Letterhead, settings) -> Letterhead:
    """``[report]`` values that are set replace the worked-out ones."""
    if settings is None:
        return head
    changes = {
        key: value
        for key in ("superior", "issuer", "place", "number", "signer_title", "signer")
        if (value := getattr(settings, key, ""))
    }
    if getattr(settings, "recipients", ()):
        changes["recipients"] = tuple(settings.recipients)
    return replace(head, **changes)
