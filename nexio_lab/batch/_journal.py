"""The SQLite journal: nothing lost, nothing paid twice.

Each row is recorded before it is sent (``pending``, then ``submitting`` just before the POST),
its eval_id as soon as the 202 arrives, and each result as it arrives, in WAL mode and
committed as it goes. A row found ``submitting`` after a crash is ``uncertain``: its POST may
have created (and billed) a job that can never be found again. The key is never stored.
"""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
import threading
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from .._exceptions import NexioError
from .._models import EvaluationRecord

__all__ = ["Journal", "JournalError", "default_store", "fingerprint"]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS batches (
    name TEXT PRIMARY KEY,
    created_at TEXT NOT NULL,
    base_url TEXT,
    options TEXT NOT NULL DEFAULT '{}'
);
CREATE TABLE IF NOT EXISTS rows (
    batch TEXT NOT NULL,
    row INTEGER NOT NULL,
    pool TEXT NOT NULL,
    profile TEXT,
    fingerprint TEXT,
    status TEXT NOT NULL,
    duplicate_of INTEGER,
    eval_id TEXT,
    error_code TEXT,
    error_message TEXT,
    submitted_at TEXT,
    completed_at TEXT,
    result TEXT,
    polls INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (batch, row, pool)
);
CREATE INDEX IF NOT EXISTS rows_status ON rows (batch, status);
"""


class JournalError(NexioError):
    """The journal cannot be read or written (disk full, read-only, corrupt...)."""


def default_store() -> Path:
    """``$NEXIO_LAB_HOME/journal.sqlite``, ``NEXIO_LAB_HOME`` defaulting to ``~/.nexio-lab``."""
    home = os.environ.get("NEXIO_LAB_HOME") or Path.home() / ".nexio-lab"
    return Path(home) / "journal.sqlite"


def fingerprint(profile_json: str, pool: str) -> str:
    return hashlib.sha256(f"{pool}\0{profile_json}".encode()).hexdigest()[:32]


def _now() -> str:
    return datetime.now(UTC).isoformat()


def _time(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


class Journal:
    """One SQLite file holding any number of named batches.

    >>> j = Journal(":memory:")
    >>> j.batch_names()
    []
    """

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = str(path)
        # the engine writes from the client's loop thread while a notebook reads partial
        # results from its own: one lock keeps each statement and transaction whole
        self._lock = threading.RLock()
        try:
            if self.path != ":memory:":
                Path(self.path).parent.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
            self._db.execute("PRAGMA busy_timeout = 5000")
            self._db.execute("PRAGMA journal_mode = WAL")
            self._db.execute("PRAGMA synchronous = NORMAL")
            self._db.executescript(_SCHEMA)
        except (sqlite3.Error, OSError) as exc:
            raise JournalError(f"cannot open the journal at {self.path}: {exc}") from exc

    def close(self) -> None:
        self._db.close()

    def _write(self, sql: str, params: Iterable[Any] = (), many: bool = False) -> None:
        try:
            with self._lock, self._db:  # a transaction: all or nothing
                if many:
                    self._db.executemany(sql, params)  # type: ignore[arg-type]
                else:
                    self._db.execute(sql, tuple(params))
        except sqlite3.Error as exc:
            raise JournalError(
                f"cannot write the journal at {self.path}: {exc}. Nothing was lost: every "
                "change before this one is committed; free space or fix permissions and rerun."
            ) from exc

    def _read(self, sql: str, params: Iterable[Any] = ()) -> list[tuple[Any, ...]]:
        try:
            with self._lock:
                return self._db.execute(sql, tuple(params)).fetchall()
        except sqlite3.Error as exc:
            raise JournalError(f"cannot read the journal at {self.path}: {exc}") from exc

    # -- batches -----------------------------------------------------------------------------

    def batch_names(self) -> list[str]:
        return [r[0] for r in self._read("SELECT name FROM batches ORDER BY created_at")]

    def has_batch(self, name: str) -> bool:
        return bool(self._read("SELECT 1 FROM batches WHERE name = ?", (name,)))

    def create_batch(self, name: str, base_url: str, options: dict[str, Any]) -> None:
        self._write(
            "INSERT OR IGNORE INTO batches (name, created_at, base_url, options) "
            "VALUES (?, ?, ?, ?)",
            (name, _now(), base_url, json.dumps(options)),
        )

    def existing_fingerprints(self, name: str) -> dict[tuple[int, str], str | None]:
        rows = self._read("SELECT row, pool, fingerprint FROM rows WHERE batch = ?", (name,))
        return {(row, pool): fp for row, pool, fp in rows}

    def add_rows(self, name: str, rows: Iterable[tuple[Any, ...]]) -> None:
        """Insert (row, pool, profile_json, fingerprint, status, duplicate_of, error_code,
        error_message) tuples."""
        self._write(
            "INSERT INTO rows (batch, row, pool, profile, fingerprint, status, duplicate_of, "
            "error_code, error_message) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            ((name, *r) for r in rows),
            many=True,
        )

    # -- row transitions (each committed before the next request) -------------------------

    def mark_submitting(self, name: str, row: int, pool: str) -> None:
        self._write(
            "UPDATE rows SET status = 'submitting', submitted_at = ? "
            "WHERE batch = ? AND row = ? AND pool = ?",
            (_now(), name, row, pool),
        )

    def mark_submitted(self, name: str, row: int, pool: str, eval_id: str, status: str) -> None:
        self._write(
            "UPDATE rows SET status = ?, eval_id = ?, submitted_at = ? "
            "WHERE batch = ? AND row = ? AND pool = ?",
            (status, eval_id, _now(), name, row, pool),
        )

    def set_status(
        self,
        name: str,
        row: int,
        pool: str,
        status: str,
        *,
        error_code: str | None = None,
        error_message: str | None = None,
    ) -> None:
        self._write(
            "UPDATE rows SET status = ?, error_code = ?, error_message = ? "
            "WHERE batch = ? AND row = ? AND pool = ?",
            (status, error_code, error_message, name, row, pool),
        )

    def record_poll(self, name: str, row: int, pool: str, status: str, polls: int) -> None:
        self._write(
            "UPDATE rows SET status = ?, polls = ? WHERE batch = ? AND row = ? AND pool = ?",
            (status, polls, name, row, pool),
        )

    def record_result(
        self, name: str, row: int, pool: str, status: str, result: dict[str, Any], polls: int
    ) -> None:
        error = result.get("error") if status == "failed" else None
        code = message = None
        if isinstance(error, dict):
            code, message = error.get("code"), error.get("message")
        elif error is not None:
            message = str(error)
        self._write(
            "UPDATE rows SET status = ?, result = ?, completed_at = ?, polls = ?, "
            "error_code = ?, error_message = ? WHERE batch = ? AND row = ? AND pool = ?",
            (
                status,
                json.dumps(result),
                _now(),
                polls,
                None if code is None else str(code),
                None if message is None else str(message),
                name,
                row,
                pool,
            ),
        )

    def crashed_to_uncertain(self, name: str) -> int:
        """Rows left ``submitting`` by a crash become ``uncertain``; returns how many."""
        before = self._db.total_changes
        self._write(
            "UPDATE rows SET status = 'uncertain', error_code = 'uncertain', "
            "error_message = 'the process stopped between sending the POST and "
            "its answer' WHERE batch = ? AND status = 'submitting'",
            (name,),
        )
        return self._db.total_changes - before

    # -- reading ------------------------------------------------------------------------------

    def status_counts(self, name: str) -> dict[str, int]:
        # a duplicate row counts as whatever its original has become
        return dict(
            self._read(
                "SELECT COALESCE(src.status, r.status), COUNT(*) FROM rows r LEFT JOIN rows src "
                "ON src.batch = r.batch AND src.row = r.duplicate_of AND src.pool = r.pool "
                "WHERE r.batch = ? GROUP BY 1",
                (name,),
            )
        )

    def open_rows(self, name: str) -> list[tuple[Any, ...]]:
        """(row, pool, profile, status, eval_id, polls, copies) of unfinished rows; ``copies``
        counts the row and its duplicates."""
        return self._read(
            "SELECT row, pool, profile, status, eval_id, polls, 1 + (SELECT COUNT(*) FROM rows d "
            "WHERE d.batch = r.batch AND d.pool = r.pool AND d.duplicate_of = r.row) FROM rows r "
            "WHERE batch = ? AND duplicate_of IS NULL AND status IN "
            "('pending', 'submitting', 'queued', 'processing', 'uncertain') "
            "ORDER BY row, pool",
            (name,),
        )

    def records(self, name: str) -> Iterator[EvaluationRecord]:
        """Every row as an :class:`EvaluationRecord`, duplicates mirroring their original."""
        rows = self._read(
            "SELECT row, pool, profile, status, duplicate_of, eval_id, error_code, "
            "error_message, submitted_at, completed_at, result FROM rows WHERE batch = ? "
            "ORDER BY row, pool",
            (name,),
        )
        by_key = {(r[0], r[1]): r for r in rows}
        for r in rows:
            source = by_key.get((r[4], r[1]), r) if r[4] is not None else r
            yield EvaluationRecord(
                row=r[0],
                pool=r[1],
                profile=json.loads(r[2]) if r[2] else {},
                status=source[3],
                eval_id=source[5],
                error_code=r[6] or source[6],
                error_message=r[7] or source[7],
                submitted_at=_time(source[8]),
                completed_at=_time(source[9]),
                result=json.loads(source[10]) if source[10] else None,
            )
