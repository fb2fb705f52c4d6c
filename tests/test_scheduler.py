"""``namcoso run``: scheduled syncs, never overlapping, no burst after an overrun, signals.

The loop runs on an injected clock and sleep, with a fake sync that moves the clock by
the time each run takes: hours of schedule in milliseconds.
"""

from __future__ import annotations

import dataclasses
import logging
import os
import signal
import subprocess
import sys
import time
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from sync.config import Config, Schedule
from sync.errors import ConfigError, MasterBusy, SyncLocked
from sync.faults import HOLD_ENV, RELEASE_ENV
from sync.lock import current_holder, run_lock
from sync.scheduler import StopRequest, run_forever
from sync.state import StateStore

REPO = Path(__file__).resolve().parents[1]
START = datetime(2018, 12, 20, 5, 0)


@dataclasses.dataclass
class FakeResult:
    communes_read: int = 2
    communes_skipped: int = 0
    communes_failed: int = 0
    findings: list[Any] = dataclasses.field(default_factory=list)
    master_tabs_written: list[str] = dataclasses.field(default_factory=lambda: ["TH Sinh hoạt"])
    communes_written: list[str] = dataclasses.field(default_factory=list)


class FakeTime:
    """A clock that moves only when the loop sleeps or a fake run takes time."""

    def __init__(self, start: datetime = START) -> None:
        self.now = start
        self.slept = 0.0

    def clock(self) -> datetime:
        return self.now

    def sleep(self, seconds: float) -> None:
        if self.now - START > timedelta(days=30):
            pytest.fail("runaway loop: a month of fake time went by")  # not caught by the loop
        self.slept += seconds
        self.now += timedelta(seconds=seconds)


class FakeSync:
    """Takes the run lock like ``run_sync``, lasts ``minutes[i]`` (default 1), records runs."""

    def __init__(
        self, time_: FakeTime, minutes: list[float] | None = None, errors: dict | None = None
    ):
        self.time = time_
        self.minutes = minutes or []
        self.errors = errors or {}
        self.runs: list[tuple[datetime, datetime]] = []
        self.running = False

    def __call__(self, config: Config) -> FakeResult:
        if len(self.runs) > 100:
            pytest.fail("runaway loop: over 100 runs")  # BaseException: ends run_forever
        assert not self.running, "two runs at once"
        i = len(self.runs)
        start = self.time.now
        self.running = True
        try:
            with run_lock(config.lock_path):
                self.time.now += timedelta(minutes=self.minutes[i] if i < len(self.minutes) else 1)
                self.during(i)
                if i in self.errors:
                    raise self.errors[i]
                return FakeResult()
        finally:
            self.running = False
            self.runs.append((start, self.time.now))

    def during(self, i: int) -> None:
        """Hook for tests: what happens inside run ``i``."""

    def starts(self) -> list[float]:
        """Minutes after START at which each run began."""
        return [(s - START).total_seconds() / 60 for s, _ in self.runs]


def config_for(tmp_path: Path, every: int = 30, at: tuple[str, ...] = ()) -> Config:
    return Config(
        root=tmp_path,
        state_path=tmp_path / ".namcoso" / "state.sqlite",
        schedule=Schedule(every_minutes=every, at=at),
    )


def loop(config: Config, sync: FakeSync, **kwargs: Any) -> int:
    t = sync.time
    return run_forever(config, sync=sync, clock=t.clock, sleep=t.sleep, tick=3600, **kwargs)


def assert_never_overlapping(sync: FakeSync) -> None:
    for (_, end), (start, _) in zip(sync.runs, sync.runs[1:], strict=False):
        assert start >= end


def test_runs_at_start_then_every_interval(tmp_path):
    sync = FakeSync(FakeTime())
    assert loop(config_for(tmp_path, every=30), sync, max_runs=4) == 0
    assert sync.starts() == [0, 30, 60, 90]


def test_an_overrun_is_followed_by_exactly_one_run_not_a_burst(tmp_path):
    sync = FakeSync(FakeTime(), minutes=[1, 100, 1, 1, 1])  # run 2 spans three intervals
    assert loop(config_for(tmp_path, every=30), sync, max_runs=5) == 0
    assert sync.starts() == [0, 30, 130, 160, 190]
    assert_never_overlapping(sync)


def test_fixed_times_of_day_and_the_interval_coalesce_into_one_follow_up(tmp_path):
    # Every 2 hours, plus 06:30 and 12:00; run 3 (07:00 → 12:10) misses 09:00, 11:00, 12:00.
    sync = FakeSync(FakeTime(), minutes=[1, 1, 310, 1, 1, 1])
    config = config_for(tmp_path, every=120, at=("06:30", "12:00"))
    assert loop(config, sync, max_runs=6) == 0
    times = [s.strftime("%H:%M") for s, _ in sync.runs]
    assert times == ["05:00", "06:30", "07:00", "12:10", "14:10", "16:10"]
    assert_never_overlapping(sync)


def test_a_failed_run_is_logged_and_the_loop_goes_on(tmp_path, caplog):
    caplog.set_level(logging.INFO, logger="namcoso")
    busy = MasterBusy("master.xlsx đang được mở trong Excel/LibreOffice (~$master.xlsx)")
    sync = FakeSync(FakeTime(), errors={0: busy, 1: RuntimeError("lỗi lập trình")})
    assert loop(config_for(tmp_path), sync, max_runs=3) == 0
    assert len(sync.runs) == 3
    lines = [r.getMessage() for r in caplog.records if r.name == "namcoso.run"]
    assert lines[1] == (
        "Đồng bộ lúc 20/12/2018 05:00:00: thất bại sau 60.0 giây: master.xlsx đang được mở "
        "trong Excel/LibreOffice (~$master.xlsx); lần sau thử lại lúc 20/12/2018 05:30:00"
    )
    assert "lỗi không lường trước" in lines[2]
    assert sum(x.startswith("Đồng bộ lúc") and "giây" in x for x in lines) == 3


def test_a_config_error_ends_the_loop_with_its_exit_code(tmp_path):
    sync = FakeSync(FakeTime(), errors={1: ConfigError("thiếu [google] master")})
    assert loop(config_for(tmp_path), sync) == 2
    assert len(sync.runs) == 2


def test_a_run_that_meets_a_manual_sync_is_skipped_and_logged(tmp_path, caplog):
    caplog.set_level(logging.INFO, logger="namcoso")
    config = config_for(tmp_path)
    sync = FakeSync(FakeTime(), errors={0: SyncLocked("Một lần đồng bộ khác đang chạy (pid 1)")})
    assert loop(config, sync, max_runs=2) == 0
    assert any("bỏ qua" in r.getMessage() and "pid 1" in r.getMessage() for r in caplog.records)


def test_one_log_line_per_run_says_what_was_read_found_and_written(tmp_path, caplog):
    caplog.set_level(logging.INFO, logger="namcoso")
    sync = FakeSync(FakeTime(), minutes=[2.5])
    assert loop(config_for(tmp_path), sync, max_runs=1) == 0
    (line,) = [r.getMessage() for r in caplog.records if r.getMessage().startswith("Đồng bộ lúc")]
    assert line.startswith("Đồng bộ lúc 20/12/2018 05:00:00: đọc 2 / bỏ qua 0 / lỗi 0 xã; ")
    assert "0 phát hiện; 150.0 giây; đã ghi master (1 trang); lần sau lúc 20/12/2018 05:30" in line


def test_sigterm_during_a_run_lets_it_finish_then_exits_0_and_releases_the_lock(tmp_path):
    config = config_for(tmp_path)
    sync = FakeSync(FakeTime())
    sync.during = lambda i: os.kill(os.getpid(), signal.SIGTERM)
    before = signal.getsignal(signal.SIGTERM)
    assert loop(config, sync) == 0
    assert len(sync.runs) == 1 and sync.runs[0][1] > sync.runs[0][0]  # the run completed
    assert current_holder(config.lock_path) is None
    assert signal.getsignal(signal.SIGTERM) == before


def test_sigint_while_waiting_exits_0_before_the_next_run(tmp_path):
    time_ = FakeTime()
    sync = FakeSync(time_)
    sleep = time_.sleep

    def interrupted_sleep(seconds: float) -> None:
        sleep(seconds)
        os.kill(os.getpid(), signal.SIGINT)

    code = run_forever(config_for(tmp_path), sync=sync, clock=time_.clock, sleep=interrupted_sleep)
    assert code == 0 and len(sync.runs) == 1


def test_a_second_signal_abandons_the_run_and_releases_the_lock(tmp_path):
    config = config_for(tmp_path)
    sync = FakeSync(FakeTime())

    def two_signals(i: int) -> None:
        os.kill(os.getpid(), signal.SIGTERM)
        os.kill(os.getpid(), signal.SIGTERM)
        raise AssertionError("not reached: the second signal abandons the run")

    sync.during = two_signals
    assert loop(config, sync) == 130
    assert current_holder(config.lock_path) is None


def test_a_stop_request_is_honoured_without_signals(tmp_path):
    stop = StopRequest()
    sync = FakeSync(FakeTime())
    sync.during = lambda i: stop.handle(signal.SIGTERM, None) if i == 1 else None
    assert loop(config_for(tmp_path), sync, stop=stop) == 0
    assert len(sync.runs) == 2


def test_a_bad_fixed_time_is_a_config_error(tmp_path):
    with pytest.raises(ConfigError, match="06:30"):
        loop(config_for(tmp_path, at=("6h30",)), FakeSync(FakeTime()))


def test_with_the_real_pipeline_the_second_run_writes_nothing(small_project, caplog):
    caplog.set_level(logging.INFO, logger="namcoso")
    t = FakeTime()
    assert run_forever(small_project, clock=t.clock, sleep=t.sleep, tick=3600, max_runs=2) == 0
    lines = [r.getMessage() for r in caplog.records if r.getMessage().startswith("Đồng bộ lúc")]
    assert len(lines) == 2
    assert "đọc 2 / bỏ qua 0 / lỗi 0 xã" in lines[0] and "đã ghi master" in lines[0]
    assert "đọc 0 / bỏ qua 2 / lỗi 0 xã" in lines[1] and "không ghi gì" in lines[1]


def test_namcoso_run_stops_cleanly_on_sigterm(small_project, tmp_path):
    """The real command: SIGTERM while a run holds the lock → the run ends, exit 0."""
    release = tmp_path / "release"
    proc = subprocess.Popen(
        [sys.executable, "-m", "sync", "run", "--config", str(small_project.root / "namcoso.toml")],
        cwd=REPO,
        env={**os.environ, "PYTHONPATH": str(REPO), HOLD_ENV: "30", RELEASE_ENV: str(release)},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 30
    while (holder := current_holder(small_project.lock_path)) is None or holder.pid != proc.pid:
        assert time.monotonic() < deadline and proc.poll() is None
        time.sleep(0.05)
    proc.send_signal(signal.SIGTERM)
    time.sleep(0.2)
    release.touch()
    _, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, err
    assert "Nhận SIGTERM" in err and "Đồng bộ lúc" in err and "đã ghi master" in err
    assert current_holder(small_project.lock_path) is None
    with StateStore(small_project.state_path) as store:
        assert len(store.runs()) == 1
