"""``namcoso run``: scheduled syncs with the ``schedule`` library, until stopped.

One sync at start, then every ``[schedule] every_minutes`` and at the fixed times of day
``[schedule] at`` (Vietnam time, whatever the server's time zone). The scheduled jobs only
mark a sync as due; the loop runs it. So runs never overlap, and when a run overruns its
interval (or an ``at`` time falls inside it) exactly one run follows it, never a burst of
catch-up runs. Each run takes the project's run lock like ``namcoso sync``, so a manual
sync in between is fine: the scheduled run that meets it is skipped and logged.

SIGTERM and SIGINT ask the loop to stop: the current run completes, the lock is released
and ``run_forever`` returns 0. A second signal abandons the current run (the master and
the state store are written atomically, so nothing half-done stays) and returns 130.
"""

from __future__ import annotations

import contextlib
import logging
import signal
import threading
import time
import types
from collections.abc import Callable, Iterator
from datetime import datetime
from typing import Any

import schedule

from .config import Config
from .errors import ConfigError, NamcosoError, SyncLocked
from .units import VIETNAM

log = logging.getLogger("namcoso.run")


Clock = Callable[[], datetime]
SyncFunction = Callable[[Config], Any]


def vietnam_clock() -> datetime:
    """The wall-clock time in Vietnam, naive (what ``schedule`` compares ``at`` times with)."""
    return datetime.now(VIETNAM).replace(tzinfo=None)


class StopRequest:
    """Set by SIGTERM/SIGINT: stop after the current run; a second signal abandons it."""

    def __init__(self) -> None:
        self.signal_name: str | None = None

    def __bool__(self) -> bool:
        return self.signal_name is not None

    def handle(self, signum: int, frame: object) -> None:
        """The signal handler."""
        name = signal.Signals(signum).name
        if self.signal_name is not None:
            log.warning("Nhận %s lần nữa: bỏ dở lần đồng bộ đang chạy", name)
            raise KeyboardInterrupt
        self.signal_name = name
        log.warning("Nhận %s: dừng sau khi lần đồng bộ đang chạy (nếu có) xong", name)


def run_forever(
    config: Config,
    *,
    sync: SyncFunction | None = None,
    clock: Clock = vietnam_clock,
    sleep: Callable[[float], None] = time.sleep,
    max_runs: int | None = None,
    tick: float = 1.0,
    stop: StopRequest | None = None,
) -> int:
    """Run syncs on the project's schedule until a signal (or ``max_runs``); the exit code.

    ``sync`` defaults to :func:`sync.pipeline.run_sync`; ``clock`` (naive Vietnam time)
    and ``sleep`` are injectable so tests need no real waiting. Sleeps last at most
    ``tick`` seconds, so a signal between runs is noticed promptly. A failed run
    (:class:`NamcosoError`) is logged and the loop goes on, except a :class:`ConfigError`,
    whose exit code is returned: no later run can succeed without the operator.
    """
    if sync is None:
        from .pipeline import run_sync as sync
    if log.level == logging.NOTSET:
        log.setLevel(logging.INFO)  # one line per run, even without --verbose
    stop = StopRequest() if stop is None else stop
    scheduler = schedule.Scheduler()
    due = [True]  # one run at start

    def mark_due() -> None:
        due[0] = True

    with _schedule_clock(clock):
        _plan(scheduler, config, mark_due)
        log.info("Chạy theo lịch: %s", describe_schedule(config))
        runs = 0
        with _signals_handled(stop):
            try:
                while not stop:
                    scheduler.run_pending()
                    if not due[0]:
                        idle = scheduler.idle_seconds
                        sleep(tick if idle is None else min(max(idle, 0.0), tick))
                        continue
                    due[0] = False
                    code = _run_once(config, sync, clock, scheduler)
                    runs += 1
                    if code is not None:
                        return code
                    if max_runs is not None and runs >= max_runs:
                        break
            except KeyboardInterrupt:
                log.warning("Đã dừng; lần đồng bộ đang chạy bị bỏ dở, lần sau sẽ làm lại")
                return 130
    log.info("Đã dừng chạy theo lịch sau %d lần đồng bộ", runs)
    return 0


def describe_schedule(config: Config) -> str:
    """``mỗi 30 phút, thêm lúc 06:30, 12:00 (giờ Việt Nam)``."""
    text = f"mỗi {config.schedule.every_minutes} phút"
    if config.schedule.at:
        text += f", thêm lúc {', '.join(config.schedule.at)}"
    return text + " (giờ Việt Nam)"


def _plan(scheduler: schedule.Scheduler, config: Config, job: Callable[[], None]) -> None:
    scheduler.every(config.schedule.every_minutes).minutes.do(job)
    for at in config.schedule.at:
        try:
            scheduler.every().day.at(at).do(job)
        except (schedule.ScheduleValueError, ValueError, TypeError) as e:
            raise ConfigError(
                f'namcoso.toml: [schedule] at: giờ {at!r} không hợp lệ; viết dạng "06:30"'
            ) from e


def _run_once(
    config: Config, sync: SyncFunction, clock: Clock, scheduler: schedule.Scheduler
) -> int | None:
    """One sync and its log line; an exit code when the loop must end, else None."""
    started = clock()
    try:
        result = sync(config)
    except ConfigError as e:
        log.error("%s: lỗi cấu hình, dừng chạy theo lịch: %s", _failed(started, clock), e)
        return e.exit_code
    except SyncLocked as e:
        log.warning("%s: bỏ qua, %s", _failed(started, clock), e)
        return None
    except NamcosoError as e:
        log.error(
            "%s: %s; lần sau thử lại lúc %s",
            _failed(started, clock),
            e,
            _hhmm(scheduler.next_run),
        )
        return None
    except Exception:
        log.exception(
            "%s: lỗi không lường trước; lần sau thử lại lúc %s",
            _failed(started, clock),
            _hhmm(scheduler.next_run),
        )
        return None
    seconds = _seconds_since(started, clock)
    log.info("%s; lần sau lúc %s", run_line(result, started, seconds), _hhmm(scheduler.next_run))
    return None


def _seconds_since(started: datetime, clock: Clock) -> float:
    return max((clock() - started).total_seconds(), 0.0)


def _failed(started: datetime, clock: Clock) -> str:
    return f"Đồng bộ lúc {_hhmm(started)}: thất bại sau {_seconds_since(started, clock):.1f} giây"


def run_line(result: Any, started: datetime, seconds: float) -> str:
    """The log line of one run: when, communes read/skipped/failed, findings, time, writes."""
    written = []
    if result.master_tabs_written:
        written.append(f"master ({len(result.master_tabs_written)} trang)")
    if result.communes_written:
        written.append(f"{len(result.communes_written)} xã")
    wrote = "đã ghi " + " và ".join(written) if written else "không ghi gì"
    return (
        f"Đồng bộ lúc {_hhmm(started)}: đọc {result.communes_read} / bỏ qua "
        f"{result.communes_skipped} / lỗi {result.communes_failed} xã; "
        f"{len(result.findings)} phát hiện; {seconds:.1f} giây; {wrote}"
    )


def _hhmm(moment: datetime | None) -> str:
    return moment.strftime("%d/%m/%Y %H:%M:%S") if moment else "-"


@contextlib.contextmanager
def _schedule_clock(clock: Clock) -> Iterator[None]:
    """Make ``schedule`` read the time from ``clock`` (it calls ``datetime.datetime.now()``)."""

    class ClockedDatetime(datetime):
        @classmethod
        def now(cls, tz: Any = None) -> datetime:  # type: ignore[override]
            moment = clock()
            return moment if tz is None else moment.replace(tzinfo=VIETNAM).astimezone(tz)

    real = schedule.datetime
    schedule.datetime = types.SimpleNamespace(  # type: ignore[assignment]
        datetime=ClockedDatetime, date=real.date, time=real.time, timedelta=real.timedelta
    )
    try:
        yield
    finally:
        schedule.datetime = real  # type: ignore[assignment]


@contextlib.contextmanager
def _signals_handled(stop: StopRequest) -> Iterator[None]:
    """SIGTERM and SIGINT set ``stop`` while the loop runs (main thread only)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = {s: signal.signal(s, stop.handle) for s in (signal.SIGTERM, signal.SIGINT)}
    try:
        yield
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)
