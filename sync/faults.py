"""Test-only switches that make a sync die or linger at a named stage.

Nothing here does anything unless its environment variable is set, so production runs
pay one ``os.environ`` lookup per stage. The crash tests start ``namcoso sync`` in a
subprocess with ``NAMCOSO_CRASH_AT=<point>`` and check what a ``kill -9`` at that point
leaves behind; the lock tests set ``NAMCOSO_TEST_HOLD_SECONDS`` so that syncs started
together overlap (and ``NAMCOSO_TEST_RELEASE_FILE``, a path whose creation ends the hold
early, so the tests wait no longer than they need).

Crash points, in the order a run meets them:

``after_read``
    every commune has been pulled, nothing written yet.
``master_temp_written``
    the new master is complete in its temporary file beside ``master.xlsx``, not yet
    moved over it (armed by the ``before_master_write`` stage: the next ``os.replace``
    of an ``.xlsx.tmp`` file kills the process instead).
``after_master_write``
    the master has been replaced; the state store does not know yet.
``after_commune_write``
    the first commune's feedback tabs have been written.
``inside_state_commit``
    the run's change of state is inside its open SQLite transaction, not committed.
"""

from __future__ import annotations

import os
import signal
import sys
import time
from typing import Any

CRASH_ENV = "NAMCOSO_CRASH_AT"
HOLD_ENV = "NAMCOSO_TEST_HOLD_SECONDS"
RELEASE_ENV = "NAMCOSO_TEST_RELEASE_FILE"

CRASH_POINTS = (
    "after_read",
    "master_temp_written",
    "after_master_write",
    "after_commune_write",
    "inside_state_commit",
)

_REPLACE = os.replace


def crash_point(stage: str) -> None:
    """Kill this process with SIGKILL if ``NAMCOSO_CRASH_AT`` names ``stage``."""
    target = os.environ.get(CRASH_ENV)
    if not target:
        return
    if target == stage:
        _die(stage)
    if stage == "before_master_write" and target == "master_temp_written":
        _arm_replace_crash()
    elif stage == "after_master_write":
        os.replace = _REPLACE


def hold_if_requested() -> None:
    """Sleep ``NAMCOSO_TEST_HOLD_SECONDS`` (called with the run lock held), or less if the
    file named by ``NAMCOSO_TEST_RELEASE_FILE`` appears meanwhile."""
    seconds = os.environ.get(HOLD_ENV)
    if not seconds:
        return
    release = os.environ.get(RELEASE_ENV)
    deadline = time.monotonic() + float(seconds)
    while time.monotonic() < deadline:
        if release and os.path.exists(release):
            return
        time.sleep(min(0.05, max(deadline - time.monotonic(), 0.0)))


def _die(stage: str) -> None:
    print(
        f"namcoso: {CRASH_ENV}={stage}: tự dừng đột ngột (kill -9) để thử nghiệm", file=sys.stderr
    )
    sys.stderr.flush()
    kill = getattr(signal, "SIGKILL", None)
    if kill is None:  # Windows
        os._exit(137)
    os.kill(os.getpid(), kill)


def _arm_replace_crash() -> None:
    """Make the next replace of a finished temporary workbook kill the process instead.

    The local backend saves the master to ``.master-….xlsx.tmp``, flushes it to disk, then
    calls ``os.replace``; dying there is dying with the temp file written, not yet moved.
    """

    def replace(src: Any, dst: Any, *args: Any, **kwargs: Any) -> None:
        if str(src).endswith(".xlsx.tmp"):
            _die("master_temp_written")
        return _REPLACE(src, dst, *args, **kwargs)

    os.replace = replace
