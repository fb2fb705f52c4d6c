"""The run lock: two syncs never run at once.

An OS file lock (``flock``) taken without waiting. The kernel drops it when the process
dies, so a lock left by a killed sync never blocks the next one. The file also records
who holds it, so the second sync can say which process and since when.
"""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

from .errors import SyncLocked

try:
    import fcntl
except ImportError:  # Windows
    fcntl = None  # type: ignore[assignment]
    import msvcrt


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
def run_lock(path: Path) -> Iterator[None]:
    """Hold the project's run lock, or raise :class:`SyncLocked` at once."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        if not _try_lock(fd):
            holder = _holder(path)
            raise SyncLocked(
                "Một lần đồng bộ khác đang chạy"
                + (f" (pid {holder.get('pid')}, từ {holder.get('since')})" if holder else "")
                + "; lần này dừng lại."
            )
        os.ftruncate(fd, 0)
        info = {"pid": os.getpid(), "since": datetime.now().strftime("%d/%m/%Y %H:%M:%S")}
        os.write(fd, json.dumps(info).encode())
        os.fsync(fd)
        yield
    finally:
        os.close(fd)  # closing the descriptor releases the lock


def _holder(path: Path) -> dict:
    try:
        return json.loads(path.read_text() or "{}")
    except (OSError, ValueError):
        return {}
