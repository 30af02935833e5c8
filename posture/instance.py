"""One monitor per user: `posture run` on a camera holds a lock for its whole life, so a
second start (by hand, or a second login start) finds the first, says where its dashboard
is, and leaves the camera to it.

The lock is the operating system's (flock on POSIX, a byte-range lock on Windows) on a
file in the private user data folder: the system drops it when the process ends, however it
ends, so a lock left by a crashed run is simply free and is taken over. The file also holds
what a second start reports: the pid and the dashboard address (with its token: the file is
readable by the user only, as the token file is).
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

from posture.errors import UsageError
from posture.files import PRIVATE_FILE, secure_user_data

LOCK_FILE = "monitor.lock"
# The record starts after byte 0, the byte Windows locks (a locked byte cannot be read).
RECORD_AT = 1
MAX_RECORD = 4096


class InstanceLock:
    """acquire() takes the lock or returns the running monitor's record; update() rewrites
    the record; release() frees the lock and empties the record."""

    def __init__(self, path: Path | None = None) -> None:
        self.path = path or secure_user_data() / LOCK_FILE
        self._fd: int | None = None
        self.previous: dict[str, Any] = {}  # the record a crashed run left, if any

    def acquire(self) -> dict[str, Any] | None:
        """None when this process now holds the lock; else the running monitor's record
        (empty when it has not written one yet)."""
        try:
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, PRIVATE_FILE)
        except OSError as exc:
            raise UsageError(f"{self.path}: cannot create the monitor's lock file "
                             f"({exc.strerror})") from exc
        if not _try_lock(fd):
            record = _read(fd)
            os.close(fd)
            return record
        self._fd = fd
        self.previous = _read(fd)  # a clean exit empties it: something left is a crash
        self.update(pid=os.getpid(), started_ms=int(time.time() * 1000), url=None)
        return None

    def update(self, **record: Any) -> None:
        if self._fd is None:
            return
        data = b"\n" + json.dumps(record).encode("utf-8")
        os.lseek(self._fd, 0, os.SEEK_SET)
        os.write(self._fd, data)
        os.ftruncate(self._fd, len(data))

    def release(self) -> None:
        if self._fd is None:
            return
        with contextlib.suppress(OSError):
            os.ftruncate(self._fd, 0)
        os.close(self._fd)  # closing drops the lock
        self._fd = None


def _try_lock(fd: int) -> bool:
    if sys.platform == "win32":
        import msvcrt

        try:
            msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
        except OSError:
            return False
        return True
    import fcntl

    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        return False
    return True


def _read(fd: int) -> dict[str, Any]:
    """The record in the lock file; {} when there is none or it cannot be read."""
    try:
        os.lseek(fd, RECORD_AT, os.SEEK_SET)
        record = json.loads(os.read(fd, MAX_RECORD) or b"{}")
    except (OSError, ValueError):
        return {}
    return record if isinstance(record, dict) else {}


def describe(record: dict[str, Any]) -> str:
    """What a second start tells the user about the running monitor."""
    pid = record.get("pid")
    who = f"already running (pid {pid})" if isinstance(pid, int) else "already running"
    url = record.get("url")
    if isinstance(url, str) and url:
        return f"{who}; its dashboard: {url}"
    if record.get("dashboard") is False:
        return f"{who}, without a dashboard"
    return f"{who}; its dashboard is starting: run this again in a moment for its address"
