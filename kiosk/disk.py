"""The disk under an SQLite database: full, read-only or failing, and back.

A write SQLite cannot make (the disk is full, the file or its directory read-only, an I/O
error) marks the disk in trouble, and the connection is dropped: one opened while the file
could not be written stays read-only for good. While in trouble every ask looks again, by
writing a file beside the database; when that works the pool starts anew, so recovery needs
no restart. While in order, the disk is looked at every PROBE_S seconds with a small write.
"""

from __future__ import annotations

import errno
import logging
import os
import sqlite3
import threading
import time
from collections.abc import Callable
from pathlib import Path

log = logging.getLogger(__name__)

PROBE_S = 30.0
IN_ORDER_BYTES = 4096  # while in order: cheap, a few megabytes a day
# Back in order only with room for more than a page or two: a disk with a few blocks free
# would otherwise flap between in and out of service at every ticket.
RECOVERY_BYTES = 1024 * 1024
# SQLite's primary result codes for a write the disk refused
SQLITE_TROUBLE = {
    sqlite3.SQLITE_FULL: "full",
    sqlite3.SQLITE_READONLY: "read_only",
    sqlite3.SQLITE_IOERR: "io_error",
    sqlite3.SQLITE_CANTOPEN: "cannot_open",
}
OS_TROUBLE = {errno.ENOSPC: "full", errno.EDQUOT: "full", errno.EROFS: "read_only", errno.EACCES: "read_only"}


class Disk:
    def __init__(self, directory: Path, on_recovery: Callable[[], None]):
        self.directory, self.on_recovery = directory, on_recovery
        self._trouble: str | None = None
        self._looked = float("-inf")
        self._lock = threading.Lock()

    def failed(self, error: BaseException) -> bool:
        """Whether `error` is the disk refusing a write (it is then in trouble)."""
        code = getattr(error, "sqlite_errorcode", None)
        kind = None if code is None else SQLITE_TROUBLE.get(code & 0xFF)
        if kind is not None:
            with self._lock:
                if self._trouble is None:
                    log.error("the database's disk refused a write: %s", kind)
                self._trouble = kind
        return kind is not None

    def trouble(self) -> str | None:
        """None when the disk takes writes, else what is wrong: full, read_only, io_error."""
        with self._lock:
            if self._trouble is None and time.monotonic() - self._looked < PROBE_S:
                return None
            self._looked = time.monotonic()
            was = self._trouble
            self._trouble = self._probe(RECOVERY_BYTES if was else IN_ORDER_BYTES)
            if was and self._trouble is None:
                log.warning("the database's disk takes writes again")
                self.on_recovery()
            elif self._trouble and not was:
                log.error("the database's disk refuses writes: %s", self._trouble)
            return self._trouble

    def _probe(self, size: int) -> str | None:
        path = self.directory / ".write-check"
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            try:
                written = os.write(fd, bytes(size))
                os.fsync(fd)
            finally:
                os.close(fd)
        except OSError as exc:
            return OS_TROUBLE.get(exc.errno or 0, "io_error")
        else:
            if written < size:  # what fitted, and no more
                return "full"
        finally:
            try:
                path.unlink()
            except OSError:
                pass  # never made, or the directory is read-only: nothing to remove
        return None
