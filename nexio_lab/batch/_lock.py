"""One driver per batch: a row in the journal's ``drivers`` table, held while a process runs it.

The row names the process (pid, host, start time) so a refusal can say who runs the batch.
A row whose process is gone is taken over: on this host the pid is checked (a zombie counts
as gone); a row from another host is trusted while its heartbeat, renewed every few seconds
by the driver, is fresh. The same row carries the cancel flag that ``nexio-lab cancel`` sets
and the driver polls.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import secrets
import socket
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from .._exceptions import NexioError

if TYPE_CHECKING:
    from ._engine import Engine
    from ._journal import Journal

__all__ = [
    "BatchLockedError",
    "DriverLock",
    "driver_alive",
    "pid_alive",
    "request_cancel",
]

logger = logging.getLogger("nexio_lab.batch")

#: The driver renews its heartbeat this often, and polls for a cancel request.
HEARTBEAT_S = 1.0
#: A driver on another host whose heartbeat is older than this is taken as gone.
STALE_AFTER_S = 60.0

# tokens of the locks this process holds now: a row naming this process with another token
# was left by a run of ours that could not delete it (a full disk) and is stale
_held_here: set[str] = set()


class BatchLockedError(NexioError):
    """Another live process is running this batch."""


def _now() -> datetime:
    return datetime.now(UTC)


def pid_alive(pid: int) -> bool:
    """True when process ``pid`` exists on this host and is not a zombie."""
    if pid <= 0:
        return False
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as f:
            state = f.read().rsplit(")", 1)[-1].split()[0]
        return state not in {"Z", "X"}
    except FileNotFoundError:
        return False
    except OSError:
        pass  # no /proc here: ask the kernel
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def driver_alive(row: dict[str, Any] | None) -> bool:
    """Whether a ``drivers`` row belongs to a process that still runs (and, for this
    process, to a lock it still holds)."""
    if row is None:
        return False
    if row["host"] == socket.gethostname():
        if int(row["pid"]) == os.getpid() and "token" in row:
            return row["token"] in _held_here
        return pid_alive(int(row["pid"]))
    beat = datetime.fromisoformat(row["heartbeat_at"])
    return _now() - beat < timedelta(seconds=STALE_AFTER_S)


def describe(name: str, row: dict[str, Any]) -> str:
    return (
        f"batch {name!r} is being run by process {row['pid']} on {row['host']} "
        f"(since {row['started_at'][:19].replace('T', ' ')} UTC); wait for it, attach to it, "
        f"or stop it with `nexio-lab cancel {name}`"
    )


class DriverLock:
    """The right to drive batch ``name`` in ``journal``, for this process.

    >>> from nexio_lab.batch import Journal
    >>> lock = DriverLock(Journal(":memory:"), "q4").acquire()
    >>> lock.held
    True
    >>> lock.release()
    """

    def __init__(self, journal: Journal, name: str, *, token: str | None = None) -> None:
        self.journal = journal
        self.name = name
        #: a handover token (from the process that started us detached) or a fresh one
        self.token = token or secrets.token_hex(16)
        self.held = False
        self.key_kind: str | None = None

    def acquire(self, *, key_kind: str | None = None, log_path: str | None = None) -> DriverLock:
        """Take the lock or raise :class:`BatchLockedError` naming the process holding it."""
        now = _now().isoformat()
        self.key_kind = key_kind
        with self.journal.immediate() as db:
            found = db.execute(
                "SELECT token, pid, host, started_at, heartbeat_at FROM drivers WHERE batch = ?",
                (self.name,),
            ).fetchone()
            if found is not None and found[0] != self.token:
                keys = ("token", "pid", "host", "started_at", "heartbeat_at")
                row = dict(zip(keys, found, strict=True))
                if driver_alive(row):
                    raise BatchLockedError(describe(self.name, row))
                logger.warning(
                    "batch %s: taking over from process %s on %s, which is gone",
                    self.name,
                    row["pid"],
                    row["host"],
                )
            db.execute(
                "INSERT OR REPLACE INTO drivers (batch, token, pid, host, started_at, "
                "heartbeat_at, log_path, cancel_requested) VALUES (?, ?, ?, ?, ?, ?, ?, 0)",
                (self.name, self.token, os.getpid(), socket.gethostname(), now, now, log_path),
            )
        self.held = True
        _held_here.add(self.token)
        return self

    def hand_over(self, pid: int, log_path: str) -> None:
        """Name the detached process ``pid`` (which holds our token) as the driver."""
        self.journal._write(
            "UPDATE drivers SET pid = ?, log_path = ? WHERE batch = ? AND token = ?",
            (pid, log_path, self.name, self.token),
        )
        self.held = False  # it is the child's now
        _held_here.discard(self.token)

    def release(self, stopped_reason: str | None = None) -> None:
        """Give the lock back and record why the run stopped early, if it did."""
        if not self.held:
            return
        self.held = False
        _held_here.discard(self.token)
        with contextlib.suppress(NexioError):  # a full disk must not hide the real error
            self.journal._write(
                "DELETE FROM drivers WHERE batch = ? AND token = ?", (self.name, self.token)
            )
            self.journal._write(
                "UPDATE batches SET stopped_reason = ? WHERE name = ?",
                (stopped_reason, self.name),
            )

    def cancel_requested(self) -> bool:
        found = self.journal._read(
            "SELECT cancel_requested FROM drivers WHERE batch = ? AND token = ?",
            (self.name, self.token),
        )
        return bool(found and found[0][0])

    def beat(self) -> None:
        self.journal._write(
            "UPDATE drivers SET heartbeat_at = ? WHERE batch = ? AND token = ?",
            (_now().isoformat(), self.name, self.token),
        )

    async def watch(self, engine: Engine, running: asyncio.Future[Any]) -> None:
        """While the engine runs (``running``): renew the heartbeat, and on a cancel request
        stop it as Ctrl-C would: nothing new is sent, answers of requests in flight are
        journaled, rows keep their state and a resume finishes them."""
        # the batch row exists by now (a new batch is journaled after the lock is taken)
        self.journal._write(
            "UPDATE batches SET key_kind = COALESCE(?, key_kind), stopped_reason = NULL "
            "WHERE name = ?",
            (self.key_kind, self.name),
        )
        while not running.done():
            await asyncio.sleep(HEARTBEAT_S)
            try:
                self.beat()
                if self.cancel_requested():
                    logger.warning("batch %s: cancel requested", self.name)
                    engine.stop("cancelled")
                    running.cancel()  # it may be waiting for the rate-limit window
                    return
            except NexioError as exc:  # the engine's own writes will report it
                logger.debug("driver heartbeat: %s", exc)


def request_cancel(journal: Journal, name: str) -> dict[str, Any] | None:
    """Flag the batch's driver to stop; return its row, or None when nothing runs it."""
    row = journal.driver(name)
    if not driver_alive(row):
        return None
    journal._write("UPDATE drivers SET cancel_requested = 1 WHERE batch = ?", (name,))
    return row
