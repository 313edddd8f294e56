"""What a store holds, and batches reopened from their journal alone (no client needed).

``list_batches`` columns (one row per batch, oldest first):
    ``name`` (string), ``created``, ``last_activity`` (``datetime64[us, UTC]``; the latest
    submission or result, else the creation), ``pools`` (string, comma-separated), ``rows``
    (Int64, every (input row, pool)), one Int64 column per batch status (``pending``,
    ``queued``, ``processing``, ``completed``, ``failed``, ``error``, ``uncertain``),
    ``reused`` (Int64, rows filled from earlier results), ``state`` (string: ``running``,
    ``finished`` or ``stopped``), ``key_kind`` (string: ``test``, ``live`` or ``other`` for the
    key of the last run; never the key), ``base_url`` (string), ``running`` (bool), ``pid``
    (Int64) and ``host`` (string) of the process running it, ``log_path`` (string, the
    detached run's log file, if any).
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .._exceptions import NexioError
from .._status import OPEN, Status
from ..progress import BATCH_STATUSES, BatchProgress
from ._batch import Batch
from ._journal import Journal, default_store
from ._lock import driver_alive, request_cancel

if TYPE_CHECKING:
    import pandas as pd

    from ..progress.auto import ProgressChoice

__all__ = ["LIST_COLUMNS", "StoredBatch", "attach", "list_batches", "open_batch"]

LIST_COLUMNS = (
    "name",
    "created",
    "last_activity",
    "pools",
    "rows",
    *BATCH_STATUSES,
    "reused",
    "state",
    "key_kind",
    "base_url",
    "running",
    "pid",
    "host",
    "log_path",
)
#: How often a journal-fed view (attach, status --watch, wait) reads the journal.
POLL_S = 0.5
#: Statuses of a row a run still acts on (an uncertain row waits for a decision).
_OPEN = tuple(sorted(OPEN - {Status.UNCERTAIN}))


def _journal(store: str | Path | Journal | None, name: str | None = None) -> Journal:
    return Journal.existing(store, name)


def _missing(journal: Journal, name: str) -> NexioError:
    known = ", ".join(journal.batch_names()) or "none"
    return NexioError(f"no batch named {name!r} in {journal.path} (batches: {known})")


class StoredBatch(Batch):
    """A batch seen through its journal: whoever runs it (this process, a detached one,
    a colleague's), its state is read from the store each time it is asked for.

    >>> batch = nexio_lab.open_batch("q4")   # doctest: +SKIP
    >>> batch                                 # doctest: +SKIP
    <Batch 'q4' stopped with 160 not finished: completed=80, pending=160>

    ``state`` is ``running``, ``finished`` or ``stopped`` as for any batch; the repr says
    which process runs it, or how many rows a resume would take up.
    """

    #: the detached process's log file, when this handle started one
    log_path: Path | None = None

    def _driver_row(self) -> dict[str, Any] | None:
        row = self.journal.driver(self.name)
        return row if driver_alive(row) else None

    @property
    def running(self) -> bool:
        return self._driver_row() is not None

    @property
    def pid(self) -> int | None:
        """The process running this batch now, if any."""
        row = self._driver_row()
        return None if row is None else int(row["pid"])

    @property
    def stopped_reason(self) -> str | None:
        info = self.journal.batch_info(self.name) or {}
        return None if self.running else info.get("stopped_reason")

    def describe(self) -> str:
        """``running in process 1234``, ``finished`` or ``stopped with 160 not finished``."""
        return self._state_line()

    def _state_line(self) -> str:
        row = self._driver_row()
        if row is not None:
            where = "" if row["host"] == socket.gethostname() else f" on {row['host']}"
            return f"running in process {row['pid']}{where}"
        counts = self.journal.status_counts(self.name)
        left = sum(counts.get(s, 0) for s in _OPEN)
        if not left:
            return "finished"
        reason = self.stopped_reason
        return f"stopped with {left} not finished" + (f" ({reason})" if reason else "")

    @property
    def progress(self) -> BatchProgress:
        row = self._driver_row()
        counts = dict(self.journal.status_counts(self.name))
        if submitting := counts.pop("submitting", 0):  # still pending until the 202
            counts["pending"] = counts.get("pending", 0) + submitting
        total = sum(counts.values())
        elapsed = throughput = eta = None
        if row is not None:
            now = datetime.now(UTC)
            elapsed = (now - datetime.fromisoformat(row["started_at"])).total_seconds()
            window = min(30.0, max(elapsed, 1e-3))
            since = (now - timedelta(seconds=window)).isoformat()
            recent = self.journal.recent_finishes(self.name, since)
            throughput = recent / window if recent else None
        snapshot = BatchProgress(name=self.name, total=total, counts=counts)
        left = total - snapshot.done
        if throughput:
            eta = left / throughput
        elif not left:
            eta = 0.0
        return BatchProgress(
            name=self.name,
            total=total,
            counts=counts,
            elapsed_s=elapsed or 0.0,
            throughput_per_s=throughput,
            eta_s=eta,
            finished=row is None,
            stopped_reason=None if row is not None else self.stopped_reason,
        )

    def wait(self, timeout: float | None = None) -> Batch:
        """Block until no process runs the batch any more (or ``timeout`` seconds)."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while self.running:
            if deadline is not None and time.monotonic() >= deadline:
                raise TimeoutError(
                    f"batch {self.name!r} still {self._state_line()} after {timeout} s"
                )
            time.sleep(POLL_S)
        return self

    def cancel(self, timeout: float = 60.0) -> Batch:
        """Ask the process running the batch to stop, and wait until it has: requests in
        flight are journaled, nothing new is sent, and a resume finishes the batch."""
        row = request_cancel(self.journal, self.name)
        if row is None:
            return self  # nothing runs it
        try:
            self.wait(timeout / 2)
        except TimeoutError:
            # the driver did not see the flag (stuck?): SIGTERM, which it takes as a cancel
            if row["host"] == socket.gethostname():
                with contextlib.suppress(ProcessLookupError):
                    os.kill(int(row["pid"]), signal.SIGTERM)
            try:
                self.wait(timeout / 2)
            except TimeoutError:
                raise NexioError(
                    f"batch {self.name!r} is still {self._state_line()} {timeout:g} s after "
                    "the cancel request"
                ) from None
        return self


def open_batch(name: str, store: str | Path | Journal | None = None) -> StoredBatch:
    """The batch ``name`` of ``store`` (default ``$NEXIO_LAB_HOME/journal.sqlite``), from the
    journal alone: tables, ``status_counts()``, its state; no client, no request.

    >>> batch = nexio_lab.open_batch("q4")   # doctest: +SKIP
    >>> batch.state                           # doctest: +SKIP
    'running in process 1234'
    """
    journal = _journal(store, name)
    if not journal.has_batch(name):
        raise _missing(journal, name)
    batch = StoredBatch(journal, name)
    info = journal.batch_info(name) or {}
    row = journal.driver(name)
    log = (row or {}).get("log_path") or info.get("log_path")
    batch.log_path = Path(log) if log else None
    return batch


def list_batches(store: str | Path | Journal | None = None) -> pd.DataFrame:
    """Every batch of ``store``, one row each (columns: see ``LIST_COLUMNS`` in this module).

    >>> nexio_lab.list_batches()[["name", "completed", "state"]]   # doctest: +SKIP
              name  completed     state
    0  q4-carriers        240  finished
    """
    import pandas as pd

    journal = _journal(store) if store is not None or default_store().is_file() else None
    records: dict[str, list[Any]] = {c: [] for c in LIST_COLUMNS}
    drivers = journal.drivers() if journal is not None else {}
    for name, created, base_url, options, key_kind, _, log_path, last in (
        journal.batch_summaries() if journal is not None else []
    ):
        counts = journal.status_counts(name)  # type: ignore[union-attr]
        row = drivers.get(name)
        alive = driver_alive(row)
        left = sum(counts.get(s, 0) for s in _OPEN)
        pools = json.loads(options or "{}").get("pools") or []
        values = {
            "name": name,
            "created": created,
            "last_activity": last or created,
            "pools": ", ".join(pools),
            "rows": sum(counts.values()),
            **{s: counts.get(s, 0) for s in BATCH_STATUSES},
            "reused": len(journal.reused_from(name)),  # type: ignore[union-attr]
            "state": "running" if alive else ("stopped" if left else "finished"),
            "key_kind": key_kind,
            "base_url": base_url,
            "running": alive,
            "pid": row["pid"] if alive and row else None,
            "host": row["host"] if alive and row else None,
            "log_path": (row or {}).get("log_path") or log_path,
        }
        values["pending"] += counts.get("submitting", 0)
        for column in LIST_COLUMNS:
            records[column].append(values[column])
    frame = pd.DataFrame(
        {
            **{c: pd.array(records[c], dtype="string") for c in LIST_COLUMNS},
            "created": pd.to_datetime(pd.Series(records["created"], dtype=object), utc=True),
            "last_activity": pd.to_datetime(
                pd.Series(records["last_activity"], dtype=object), utc=True
            ),
            **{
                c: pd.array(records[c], dtype="Int64")
                for c in ("rows", *BATCH_STATUSES, "reused", "pid")
            },
            "running": pd.array(records["running"], dtype=bool),
        }
    )
    for column in ("created", "last_activity"):
        frame[column] = frame[column].astype(pd.DatetimeTZDtype(unit="us", tz="UTC"))
    return frame[list(LIST_COLUMNS)]


def attach(
    name: str,
    store: str | Path | Journal | None = None,
    *,
    progress: ProgressChoice = "auto",
    timeout: float | None = None,
) -> StoredBatch:
    """Follow batch ``name`` from its journal (whichever process runs it) with the live
    progress display (a widget in Jupyter, a line on a terminal) until it ends; return it,
    its tables ready (``batch.evaluations``...). In a notebook the tables' summary is shown.

    >>> batch = nexio_lab.attach("q4")   # doctest: +SKIP
    >>> batch.evaluations.head()          # doctest: +SKIP
    """
    from ..progress import auto_progress, in_jupyter_kernel

    batch = open_batch(name, store)
    reporter = auto_progress(progress)
    deadline = None if timeout is None else time.monotonic() + timeout
    try:
        while batch.running:
            if reporter is not None:
                reporter.update(batch.progress)
            if deadline is not None and time.monotonic() >= deadline:
                raise TimeoutError(f"batch {name!r} still {batch._state_line()} after {timeout} s")
            time.sleep(POLL_S)
    finally:
        if reporter is not None:
            reporter.close(batch.progress)
    if reporter is not None and in_jupyter_kernel():
        from IPython.display import display

        display(batch.results)
    return batch
