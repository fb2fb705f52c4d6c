"""The master's formats, flags and charts on Google: sent once, when the tabs are created."""

from __future__ import annotations

from google_fake import build_world, make_backend, running_fake

from sync.config import Rules
from sync.layout import master_layout
from sync.render import frame_tab

M = master_layout()


def _tabs():
    import pandas as pd

    return [frame_tab(M[key], pd.DataFrame()) for key in ("progress", "findings", "charts")]


def test_formats_are_sent_once_when_master_tabs_are_created():
    with running_fake() as fake:
        world = build_world(fake, 2)
        backend = make_backend(fake, world.master, world.folder, rules=Rules())
        backend.read_registry()
        backend.write_master(_tabs())
        assert fake.writes[world.master] == 2  # the tabs, then their formats, flags, charts
        kinds = [kind for kind, _ in fake.formatting]
        assert kinds.count("addChart") == 3
        assert {"addConditionalFormatRule", "setBasicFilter"} <= set(kinds)
        backend.write_master(_tabs())
        assert fake.writes[world.master] == 3  # a rewrite does not send them again
        assert [kind for kind, _ in fake.formatting].count("addChart") == 3


def test_without_rules_only_the_tabs_are_written():
    with running_fake() as fake:
        world = build_world(fake, 2)
        backend = make_backend(fake, world.master, world.folder)
        backend.read_registry()
        backend.write_master(_tabs())
        assert fake.writes[world.master] == 1
        assert fake.formatting == []
