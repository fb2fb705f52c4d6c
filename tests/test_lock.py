"""The run lock: syncs started together, exactly one runs; a killed holder never blocks."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from sync.cli import main
from sync.errors import SyncLocked
from sync.faults import HOLD_ENV, RELEASE_ENV
from sync.lock import current_holder, run_lock
from sync.pipeline import run_sync
from sync.state import StateStore

REPO = Path(__file__).resolve().parents[1]


def start_sync(config_file: Path, **env: str) -> subprocess.Popen[str]:
    """``python -m sync sync --config FILE`` in a subprocess, with extra environment."""
    return subprocess.Popen(
        [sys.executable, "-m", "sync", "sync", "--config", str(config_file)],
        cwd=REPO,
        env={**os.environ, "PYTHONPATH": str(REPO), **env},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def wait_for_holder(lock: Path, pid: int, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        holder = current_holder(lock)
        if holder is not None and holder.pid == pid:
            return
        time.sleep(0.05)
    raise AssertionError(f"process {pid} never took the lock")


def test_a_second_lock_in_the_same_process_is_refused_and_names_the_holder(tmp_path):
    lock = tmp_path / "sync.lock"
    with run_lock(lock) as me:
        assert me.pid == os.getpid()
        with pytest.raises(SyncLocked) as refused, run_lock(lock):
            pass
        assert current_holder(lock) == me
    assert refused.value.exit_code == 75
    assert f"pid {os.getpid()}" in str(refused.value) and me.since in str(refused.value)
    assert current_holder(lock) is None


def test_the_lock_is_released_when_a_run_fails(tmp_path):
    lock = tmp_path / "sync.lock"
    with pytest.raises(RuntimeError), run_lock(lock):
        raise RuntimeError("boom")
    with run_lock(lock):
        pass


def test_sync_command_exits_75_and_says_who_runs_while_the_lock_is_held(small_project, capsys):
    with run_lock(small_project.lock_path):
        code = main(["sync", "--config", str(small_project.root / "namcoso.toml")])
    err = capsys.readouterr().err.strip()
    assert code == SyncLocked.exit_code == 75
    assert "đang chạy" in err and f"pid {os.getpid()}" in err
    assert not small_project.state_path.exists() or not StateStore(small_project.state_path).runs()


@pytest.mark.parametrize("n", [2, pytest.param(10, marks=pytest.mark.slow)])
def test_syncs_started_together_exactly_one_runs(small_project, tmp_path, n):
    config_file = small_project.root / "namcoso.toml"
    release = tmp_path / "release"
    procs = [
        start_sync(config_file, **{HOLD_ENV: "30", RELEASE_ENV: str(release)}) for _ in range(n)
    ]
    # The winner holds the lock until every other process has given up.
    finished: dict[int, tuple[int, str]] = {}
    deadline = time.monotonic() + 60
    while len(finished) < n - 1 and time.monotonic() < deadline:
        for p in procs:
            if p.pid not in finished and p.poll() is not None:
                finished[p.pid] = (p.returncode, p.stderr.read())
        time.sleep(0.05)
    release.touch()
    for p in procs:
        if p.pid not in finished:
            p.wait(timeout=60)
            finished[p.pid] = (p.returncode, p.stderr.read())
        p.stdout.close()
        p.stderr.close()
    codes = sorted(code for code, _ in finished.values())
    assert codes == [0] + [75] * (n - 1)
    (winner,) = [pid for pid, (code, _) in finished.items() if code == 0]
    for code, err in finished.values():
        if code == 75:
            assert re.search(rf"đang chạy \(pid {winner}, từ \d\d/\d\d/\d{{4}} ", err), err
    with StateStore(small_project.state_path) as store:
        assert len(store.runs()) == 1


def test_a_lock_left_by_a_killed_sync_never_blocks(small_project):
    holder = start_sync(small_project.root / "namcoso.toml", **{HOLD_ENV: "60"})
    wait_for_holder(small_project.lock_path, holder.pid)
    holder.send_signal(signal.SIGKILL)
    holder.communicate(timeout=10)
    assert holder.returncode == -signal.SIGKILL
    assert f'"pid": {holder.pid}' in small_project.lock_path.read_text()  # stale record stays
    assert current_holder(small_project.lock_path) is None
    result = run_sync(small_project)
    assert result.communes_read == 2 and result.changed
