"""The run lock: two syncs never run at once.

An OS file lock (``flock``) on ``.namcoso/sync.lock``, taken without waiting. The kernel
drops it when the process dies, however it dies, so a lock left by a killed sync never
blocks the next one. The file also records who holds it (pid, since when), so the second
sync can say which process is running and since when. ``flock`` locks are only reliable
on a local disk: keep the project folder (or at least ``.namcoso/``) off network shares.
"""

from __future__ import annotations

import contextlib
import json
import os
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from .errors import StateUnavailable, SyncLocked
from .faults import hold_if_requested
from .units import vietnam_now

try:
    import fcntl
except ImportError:  # Windows
    fcntl = None  # type: ignore[assignment]
    import msvcrt


@dataclass(frozen=True)
class LockHolder:
    """The process that holds the run lock, as it wrote itself into the lock file."""

    pid: int | None
    since: str  # Vietnam time, "dd/mm/YYYY HH:MM:SS"

    def describe(self) -> str:
        """``pid 1234, từ 29/11/2026 08:00:01`` (or what is known of it)."""
        parts = [f"pid {self.pid}" if self.pid else "", f"từ {self.since}" if self.since else ""]
        return ", ".join(p for p in parts if p)


def _try_lock(fd: int) -> bool:
    try:
        if fcntl is not None:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        else:
            msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
    except OSError:
        return False
    return True


@contextlib.contextmanager
def run_lock(path: Path) -> Iterator[LockHolder]:
    """Hold the project's run lock, or raise :class:`SyncLocked` at once, naming the holder.

    The lock is released when the block ends, however it ends, and by the kernel if the
    process is killed.
    """
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    except OSError as e:  # a read-only project folder, a full disk
        raise StateUnavailable(
            f"Không tạo được tệp khóa {path}", detail=e.strerror or str(e)
        ) from e
    try:
        if not _try_lock(fd):
            holder = _read_holder(path)
            who = f" ({holder.describe()})" if holder and holder.describe() else ""
            raise SyncLocked(f"Một lần đồng bộ khác đang chạy{who}; lần này dừng lại.")
        me = LockHolder(os.getpid(), vietnam_now().strftime("%d/%m/%Y %H:%M:%S"))
        with contextlib.suppress(OSError):  # who holds it is only for messages
            os.ftruncate(fd, 0)
            os.lseek(fd, 0, os.SEEK_SET)
            os.write(fd, json.dumps({"pid": me.pid, "since": me.since}).encode())
        hold_if_requested()
        yield me
    finally:
        os.close(fd)  # closing the descriptor releases the lock


def current_holder(path: Path) -> LockHolder | None:
    """Who holds the run lock now, or None when no sync is running (for ``status``)."""
    path = Path(path)
    if not path.exists():
        return None
    fd = os.open(path, os.O_RDWR)
    try:
        if _try_lock(fd):
            return None
        return _read_holder(path) or LockHolder(None, "")
    finally:
        os.close(fd)


def _read_holder(path: Path, attempts: int = 5) -> LockHolder | None:
    """The holder's record; retried briefly, as the holder may be writing it right now."""
    for attempt in range(attempts):
        try:
            info = json.loads(path.read_text(encoding="utf-8"))
            return LockHolder(int(info["pid"]), str(info.get("since", "")))
        except (OSError, ValueError, KeyError, TypeError):
            if attempt + 1 < attempts:
                time.sleep(0.02)
    return None
