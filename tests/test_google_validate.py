"""``namcoso validate`` on a Google sheet (ID or URL), against the fake."""

from __future__ import annotations

from conftest import commune_grids, registry_grids
from google_fake import make_backend, running_fake

from sync.config import Config, GoogleSettings
from sync.layout import commune_layout, master_layout
from sync.validate_file import validate_file

C = commune_layout()
M = master_layout()


def test_validate_a_google_sheet_by_url_names_its_commune_and_cells(tmp_path):
    with running_fake() as fake:
        folder = fake.add_folder("Báo cáo các xã")
        grids = commune_grids(["Khu phố 1"])
        grids[C["meetings"].title].append(["Ấp An Thanh x", "03/2018", "05/03/2018", 20, 18, "x"])
        sheet = fake.add_spreadsheet("Báo cáo 29110", grids, folder=folder)
        registry = registry_grids()
        registry[M["communes"].title][1][3] = sheet
        master = fake.add_spreadsheet("Master", registry, frozen=1)
        config = Config(root=tmp_path, backend="google", google=GoogleSettings(master=master))
        url = f"https://docs.google.com/spreadsheets/d/{sheet}/edit#gid=0"
        report = validate_file(
            url, commune=None, config=config, backend=make_backend(fake, master, folder)
        )
    assert not report.valid
    (error,) = [f for f in report.findings if f.severity == "Lỗi"]
    assert (error.commune, error.tab, error.cell, error.code) == (
        "29110",
        "Sinh hoạt chi bộ",
        "A14",
        "unknown_hamlet",
    )
