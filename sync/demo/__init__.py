"""The Ba Tri 2018 demo: a generated project and a month-by-month replay of its syncs.

Not part of the product's flow: nothing outside this package and the tests imports it, except
``namcoso demo`` (``run_demo``). ``generate`` builds the project's files, ``names`` holds the
ways commune staff write names and values, ``replay`` runs the year's syncs.
"""

from .generate import (
    DEMO_NOW,
    EXPECTED_2018,
    build_demo_project,
    expected_ratings,
    planted_problems,
)
from .replay import run_demo, sync_times

__all__ = [
    "DEMO_NOW",
    "EXPECTED_2018",
    "build_demo_project",
    "expected_ratings",
    "planted_problems",
    "run_demo",
    "sync_times",
]
