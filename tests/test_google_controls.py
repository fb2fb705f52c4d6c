"""Sync reports dropdowns a commune removed from its provisioned Google sheet, from the
same one read per changed sheet (no extra request)."""

from __future__ import annotations

import dataclasses

from conftest import NOW, registry_grids
from google_fake import make_backend, running_fake

from sync.config import Config, GoogleSettings
from sync.layout import commune_layout, master_layout
from sync.pipeline import run_sync
from sync.provision_google import google_sheet_requests
from sync.registry import load_registry

C = commune_layout()
M = master_layout()


def _provisioned_world(fake, tmp_path):
    folder = fake.add_folder("Báo cáo các xã")
    registry = registry_grids()
    provisioned = fake.add_spreadsheet("Báo cáo 29110", {"Trang tính1": [[None]]}, folder=folder)
    plain = fake.add_spreadsheet("Báo cáo 29113", {"Trang tính1": [["Ghi chú"]]}, folder=folder)
    registry[M["communes"].title][1][3] = provisioned
    registry[M["communes"].title][2][3] = plain
    master = fake.add_spreadsheet("Master", registry, frozen=1)
    backend = make_backend(fake, master, folder)
    first_tab = fake.spreadsheets[provisioned].tabs[0].sheet_id
    requests = google_sheet_requests("29110", load_registry(registry), first_tab, ["sa@x.vn"])
    backend.transport.batch_update(provisioned, {"requests": requests})
    config = Config(
        root=tmp_path, backend="google", google=GoogleSettings(master=master, folder=folder)
    )
    config = dataclasses.replace(config, state_path=tmp_path / "state.sqlite")
    return config, master, folder, provisioned


def _removed(result):
    return [(f.commune, f.tab) for f in result.findings if f.code == "validation_removed"]


def test_removed_dropdowns_on_google_are_a_finding_and_intact_ones_are_not(tmp_path):
    with running_fake() as fake:
        config, master, folder, sheet = _provisioned_world(fake, tmp_path)
        result = run_sync(config, backend=make_backend(fake, master, folder), now=NOW)
        assert _removed(result) == []
        meetings = fake.spreadsheets[sheet].tab(C["meetings"].title)
        clear = {"setDataValidation": {"range": {"sheetId": meetings.sheet_id, "startRowIndex": 1}}}
        backend = make_backend(fake, master, folder)
        backend.transport.batch_update(sheet, {"requests": [clear]})
        backend = make_backend(fake, master, folder)
        result = run_sync(config, backend=backend, now=NOW)
        assert _removed(result) == [("29110", C["meetings"].title)]
        assert backend.reads <= 4  # the check rides on the sheet's one read
