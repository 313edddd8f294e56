"""The SQLite journal: nothing lost, nothing paid twice.

Each row is recorded before it is sent (``pending``, then ``submitting`` just before the POST),
its eval_id as soon as the 202 arrives, and each result as it arrives, in WAL mode and
committed as it goes. A row found ``submitting`` after a crash is ``uncertain``: its POST may
have created (and billed) a job that can never be found again. The key is never stored.

A result is stored as its JSON text compressed with zlib, as a BLOB (several times smaller,
see ``benchmarks/large.py``); the TEXT results of older journals read as before.
:meth:`Journal.iter_records` reads a batch a chunk at a time, so large batches are never
parsed whole.
"""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
import threading
import zlib
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, NamedTuple

from .._config import default_store
from .._exceptions import NexioError
from .._models import EvaluationRecord
from .._status import OPEN, Status

__all__ = [
    "Journal",
    "JournalError",
    "OpenRow",
    "PlannedRow",
    "decode_result",
    "default_store",
    "encode_result",
    "fingerprint",
]

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
CREATE INDEX IF NOT EXISTS rows_fingerprint ON rows (fingerprint, status);
CREATE TABLE IF NOT EXISTS drivers (
    batch TEXT PRIMARY KEY,
    token TEXT NOT NULL,
    pid INTEGER NOT NULL,
    host TEXT NOT NULL,
    started_at TEXT NOT NULL,
    heartbeat_at TEXT NOT NULL,
    log_path TEXT,
    cancel_requested INTEGER NOT NULL DEFAULT 0
);
"""
#: Columns later versions added to existing tables: (table, column, declaration).
_ADDED_COLUMNS = (
    ("rows", "reused_from", "TEXT"),
    ("batches", "key_kind", "TEXT"),
    ("batches", "stopped_reason", "TEXT"),
    ("batches", "log_path", "TEXT"),
)


class JournalError(NexioError):
    """The journal cannot be read or written (disk full, read-only, corrupt...)."""


def fingerprint(profile_json: str, pool: str) -> str:
    return hashlib.sha256(f"{pool}\0{profile_json}".encode()).hexdigest()[:32]


def _now() -> str:
    return datetime.now(UTC).isoformat()


def _time(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


def _api_error(status: str, result: dict[str, Any]) -> tuple[str | None, str | None]:
    """The (code, message) of a ``failed`` evaluation's error object, else (None, None)."""
    error = result.get("error") if status == Status.FAILED else None
    if isinstance(error, dict):
        code, message = error.get("code"), error.get("message")
        return (
            None if code is None else str(code),
            None if message is None else str(message),
        )
    return None, None if error is None else str(error)


#: zlib level of the stored result JSON: several KB of JSON per evaluation shrink several
#: times (``benchmarks/large.py`` prints the ratio); level 6 is zlib's own default.
_ZLIB_LEVEL = 6


def encode_result(result: Mapping[str, Any]) -> bytes:
    """A result as the journal stores it: its JSON text, zlib-compressed, as a BLOB."""
    return zlib.compress(json.dumps(result).encode(), _ZLIB_LEVEL)


def decode_result(stored: str | bytes | None) -> Any:
    """A stored result back as JSON: a BLOB is compressed JSON; TEXT (older journals) is JSON."""
    if not stored:
        return None
    if isinstance(stored, bytes):
        return json.loads(zlib.decompress(stored))
    return json.loads(stored)


_OPEN_SQL = ", ".join(f"'{s}'" for s in sorted(OPEN))


class OpenRow(NamedTuple):
    """A row a run still has to act on (see :meth:`Journal.open_rows`)."""

    row: int
    pool: str
    profile: str | None  # the JSON text sent (None once not needed)
    status: str
    eval_id: str | None
    polls: int
    copies: int  # the row and its identical duplicates, which share its evaluation


class PlannedRow(NamedTuple):
    """A row as planning journals it (see :meth:`Journal.add_rows`)."""

    row: int
    pool: str
    profile: str | None
    fingerprint: str | None
    status: str
    duplicate_of: int | None = None
    error_code: str | None = None
    error_message: str | None = None


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
            self._add_columns()
        except (sqlite3.Error, OSError) as exc:
            raise JournalError(f"cannot open the journal at {self.path}: {exc}") from exc

    @classmethod
    def existing(
        cls, store: str | os.PathLike[str] | Journal | None, name: str | None = None
    ) -> Journal:
        """The journal at ``store`` (default: the default store), which must exist: reading
        a batch (``name``, for the message) never creates an empty journal by accident."""
        if isinstance(store, Journal):
            return store
        path = Path(store or default_store())
        if not path.is_file():
            what = f"no batch named {name!r}: " if name else ""
            raise JournalError(f"{what}no journal at {path} (no batch was run with this store)")
        return cls(path)

    def close(self) -> None:
        """Close the database connection."""
        self._db.close()

    def _write(self, sql: str, params: Iterable[Any] = (), many: bool = False) -> None:
        try:
            with self._lock:
                # autocommit mode (isolation_level=None): `with connection` alone would not
                # open a transaction, and executemany would commit row by row
                self._db.execute("BEGIN IMMEDIATE")
                try:
                    if many:
                        self._db.executemany(sql, params)
                    else:
                        self._db.execute(sql, tuple(params))
                except BaseException:
                    self._db.rollback()
                    raise
                self._db.commit()
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
        """Names of the batches this journal holds, oldest first."""
        return [r[0] for r in self._read("SELECT name FROM batches ORDER BY created_at")]

    def has_batch(self, name: str) -> bool:
        """True when a batch of this name was journaled."""
        return bool(self._read("SELECT 1 FROM batches WHERE name = ?", (name,)))

    def create_batch(self, name: str, base_url: str, options: dict[str, Any]) -> None:
        """Record a batch (once: a second call for the same name keeps the first)."""
        self._write(
            "INSERT OR IGNORE INTO batches (name, created_at, base_url, options) "
            "VALUES (?, ?, ?, ?)",
            (name, _now(), base_url, json.dumps(options)),
        )

    def existing_fingerprints(self, name: str) -> dict[tuple[int, str], str | None]:
        """``(row, pool) -> fingerprint`` of the rows already journaled (for resume checks)."""
        rows = self._read("SELECT row, pool, fingerprint FROM rows WHERE batch = ?", (name,))
        return {(row, pool): fp for row, pool, fp in rows}

    def add_rows(self, name: str, rows: Iterable[PlannedRow]) -> None:
        """Insert the rows a plan made, in one transaction."""
        self._write(
            "INSERT INTO rows (batch, row, pool, profile, fingerprint, status, duplicate_of, "
            "error_code, error_message) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            ((name, *r) for r in rows),
            many=True,
        )

    # -- row transitions (each committed before the next request) -------------------------

    def update_row(
        self,
        name: str,
        row: int,
        pool: str,
        status: str,
        *,
        error_code: str | None = None,
        error_message: str | None = None,
        eval_id: str | None = None,
        result: dict[str, Any] | None = None,
        polls: int | None = None,
        submitted: bool = False,
    ) -> None:
        """One state transition of a row, committed at once.

        ``error_code``/``error_message`` are set with the status (cleared when None, unless a
        result carries the API's own error); ``eval_id``, ``polls`` and a result are kept
        when given; ``submitted`` stamps the submission time. A result stamps completion.
        """
        sets = ["status = ?", "error_code = ?", "error_message = ?"]
        if result is not None:
            error_code, error_message = _api_error(status, result)
        params: list[Any] = [str(status), error_code, error_message]
        if eval_id is not None:
            sets.append("eval_id = ?")
            params.append(eval_id)
        if submitted:
            sets.append("submitted_at = ?")
            params.append(_now())
        if result is not None:
            sets += ["result = ?", "completed_at = ?"]
            params += [encode_result(result), _now()]
        if polls is not None:
            sets.append("polls = ?")
            params.append(polls)
        self._write(
            f"UPDATE rows SET {', '.join(sets)} WHERE batch = ? AND row = ? AND pool = ?",
            (*params, name, row, pool),
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
        """Rows per status; a duplicate row counts as whatever its original became."""
        # a duplicate row counts as whatever its original has become
        return dict(
            self._read(
                "SELECT COALESCE(src.status, r.status), COUNT(*) FROM rows r LEFT JOIN rows src "
                "ON src.batch = r.batch AND src.row = r.duplicate_of AND src.pool = r.pool "
                "WHERE r.batch = ? GROUP BY 1",
                (name,),
            )
        )

    def open_rows(self, name: str) -> list[OpenRow]:
        """The unfinished rows (duplicates are counted in their original's ``copies``)."""
        rows = self._read(
            "SELECT row, pool, profile, status, eval_id, polls, 1 + (SELECT COUNT(*) FROM rows d "
            "WHERE d.batch = r.batch AND d.pool = r.pool AND d.duplicate_of = r.row) FROM rows r "
            f"WHERE batch = ? AND duplicate_of IS NULL AND status IN ({_OPEN_SQL}) "
            "ORDER BY row, pool",
            (name,),
        )
        return [OpenRow(*r) for r in rows]

    def records(self, name: str) -> Iterator[EvaluationRecord]:
        """Every row as an :class:`EvaluationRecord`, duplicates mirroring their original."""
        rows = [
            _Stored(*r)
            for r in self._read(
                f"SELECT {', '.join(_Stored._fields)} FROM rows WHERE batch = ? ORDER BY row, pool",
                (name,),
            )
        ]
        by_key = {(r.row, r.pool): r for r in rows}
        for r in rows:
            # a duplicate shares its original's evaluation
            source = by_key.get((r.duplicate_of, r.pool), r) if r.duplicate_of is not None else r
            yield _record(r, source)

    # -- lifecycle: drivers, reuse, summaries (see _lock.py, _reuse.py, _registry.py) ------

    def _add_columns(self) -> None:
        """Journals written by older versions get the newer columns (additive only)."""
        for table, column, declaration in _ADDED_COLUMNS:
            have = {r[1] for r in self._db.execute(f"PRAGMA table_info({table})")}
            if column not in have:
                self._db.execute(f"ALTER TABLE {table} ADD COLUMN {column} {declaration}")

    @contextmanager
    def immediate(self) -> Iterator[sqlite3.Connection]:
        """A write transaction taken at once (``BEGIN IMMEDIATE``): what it reads cannot
        change under it, in this process or another, until it commits."""
        with self._lock:
            try:
                self._db.execute("BEGIN IMMEDIATE")
            except sqlite3.Error as exc:
                raise JournalError(f"cannot write the journal at {self.path}: {exc}") from exc
            try:
                yield self._db
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            try:
                self._db.execute("COMMIT")
            except sqlite3.Error as exc:
                raise JournalError(f"cannot write the journal at {self.path}: {exc}") from exc

    def batch_info(self, name: str) -> dict[str, Any] | None:
        """The batch's own row: created_at, base_url, options, key_kind, stopped_reason,
        log_path; None when there is no such batch."""
        found = self._read(
            "SELECT created_at, base_url, options, key_kind, stopped_reason, log_path "
            "FROM batches WHERE name = ?",
            (name,),
        )
        if not found:
            return None
        created, base_url, options, key_kind, stopped, log_path = found[0]
        return {
            "created_at": _time(created),
            "base_url": base_url,
            "options": json.loads(options or "{}"),
            "key_kind": key_kind,
            "stopped_reason": stopped,
            "log_path": log_path,
        }

    def set_log_path(self, name: str, log_path: str) -> None:
        """Record the log file of the process last detached to run batch ``name``."""
        self._write("UPDATE batches SET log_path = ? WHERE name = ?", (log_path, name))

    def driver(self, name: str) -> dict[str, Any] | None:
        """The driver row of ``name`` (see ``_lock.py``), or None."""
        found = self._read(
            "SELECT token, pid, host, started_at, heartbeat_at, log_path, cancel_requested "
            "FROM drivers WHERE batch = ?",
            (name,),
        )
        if not found:
            return None
        keys = ("token", "pid", "host", "started_at", "heartbeat_at", "log_path", "cancel")
        return dict(zip(keys, found[0], strict=True))

    def drivers(self) -> dict[str, dict[str, Any]]:
        """Every driver row (see ``_lock.py``) by batch name."""
        rows = self._read(
            "SELECT batch, token, pid, host, started_at, heartbeat_at, log_path FROM drivers"
        )
        keys = ("token", "pid", "host", "started_at", "heartbeat_at", "log_path")
        return {r[0]: dict(zip(keys, r[1:], strict=True)) for r in rows}

    def batch_summaries(self) -> list[tuple[Any, ...]]:
        """(name, created_at, base_url, options, key_kind, stopped_reason, log_path,
        last_activity) of every batch, oldest first."""
        return self._read(
            "SELECT b.name, b.created_at, b.base_url, b.options, b.key_kind, b.stopped_reason, "
            "b.log_path, (SELECT MAX(MAX(COALESCE(r.completed_at, ''), "
            "COALESCE(r.submitted_at, ''))) FROM rows r WHERE r.batch = b.name) "
            "FROM batches b ORDER BY b.created_at"
        )

    def reuse_source(self, fp: str, base_url: str, since: str | None) -> tuple[Any, ...] | None:
        """The newest completed row of any batch with this fingerprint and base URL,
        completed at ``since`` or later: (batch, eval_id, submitted_at, completed_at, result,
        reused_from)."""
        found = self._read(
            "SELECT r.batch, r.eval_id, r.submitted_at, r.completed_at, r.result, "
            "r.reused_from FROM rows r JOIN batches b ON b.name = r.batch "
            "WHERE r.fingerprint = ? AND r.status = 'completed' AND r.duplicate_of IS NULL "
            "AND r.result IS NOT NULL AND b.base_url = ? AND r.completed_at >= ? "
            "ORDER BY r.completed_at DESC LIMIT 1",
            (fp, base_url, since or ""),
        )
        return found[0] if found else None

    def reusable_rows(self, name: str) -> list[tuple[int, str, str]]:
        """(row, pool, fingerprint) of rows of ``name`` never sent: what reuse may fill."""
        return self._read(
            "SELECT row, pool, fingerprint FROM rows WHERE batch = ? AND status = 'pending' "
            "AND duplicate_of IS NULL AND eval_id IS NULL AND fingerprint IS NOT NULL",
            (name,),
        )

    def mark_reused(self, name: str, row: int, pool: str, source: tuple[Any, ...]) -> None:
        """Fill a pending row with another batch's completed result (nothing is sent)."""
        batch, eval_id, submitted_at, completed_at, result, reused_from = source
        self._write(
            "UPDATE rows SET status = 'completed', eval_id = ?, submitted_at = ?, "
            "completed_at = ?, result = ?, reused_from = ? "
            "WHERE batch = ? AND row = ? AND pool = ? AND status = 'pending'",
            (
                eval_id,
                submitted_at,
                completed_at,
                result,
                reused_from or f"{batch}:{eval_id}",
                name,
                row,
                pool,
            ),
        )

    def reused_from(self, name: str) -> dict[tuple[int, str], str]:
        """(row, pool) -> ``batch:eval_id`` of the rows of ``name`` filled by reuse
        (a duplicate row mirrors its original)."""
        rows = self._read(
            "SELECT r.row, r.pool, COALESCE(r.reused_from, src.reused_from) FROM rows r "
            "LEFT JOIN rows src ON src.batch = r.batch AND src.row = r.duplicate_of "
            "AND src.pool = r.pool WHERE r.batch = ? "
            "AND COALESCE(r.reused_from, src.reused_from) IS NOT NULL",
            (name,),
        )
        return {(row, pool): source for row, pool, source in rows}

    def recent_finishes(self, name: str, since: str) -> int:
        """Rows of ``name`` that completed or failed at ``since`` or later."""
        found = self._read(
            "SELECT COUNT(*) FROM rows WHERE batch = ? AND completed_at >= ? "
            "AND reused_from IS NULL",
            (name, since),
        )
        return int(found[0][0])

    def iter_records(self, name: str, chunk: int = 1000) -> Iterator[list[EvaluationRecord]]:
        """The records of :meth:`records`, in the same order, ``chunk`` rows at a time.

        Only one chunk of raw results is in memory at once: each page is read by key
        (``row, pool`` after the last one), and a duplicate row reads its original's result
        in the same query, wherever that original is.
        """
        if chunk < 1:
            raise ValueError(f"chunk must be at least 1, got {chunk}")
        fields = _Stored._fields
        sql = (
            f"SELECT {', '.join(f'r.{f}' for f in fields)}, src.row IS NOT NULL, "
            f"{', '.join(f'src.{f}' for f in fields)} FROM rows r LEFT JOIN rows src "
            "ON r.duplicate_of IS NOT NULL AND src.batch = r.batch AND src.row = r.duplicate_of "
            "AND src.pool = r.pool WHERE r.batch = ? AND (r.row > ? OR (r.row = ? AND r.pool > ?)) "
            "ORDER BY r.row, r.pool LIMIT ?"
        )
        after: tuple[int, str] = (-(2**62), "")
        while True:
            page = self._read(sql, (name, after[0], after[0], after[1], chunk))
            if not page:
                return
            width = len(fields)
            out = []
            for values in page:
                r = _Stored(*values[:width])
                source = _Stored(*values[width + 1 :]) if values[width] else r
                out.append(_record(r, source))
            yield out
            after = (page[-1][0], page[-1][1])
            if len(page) < chunk:
                return


def _record(r: _Stored, source: _Stored) -> EvaluationRecord:
    """Row ``r`` as a record; ``source`` is its original when ``r`` is a duplicate, else ``r``."""
    return EvaluationRecord(
        row=r.row,
        pool=r.pool,
        profile=json.loads(r.profile) if r.profile else {},
        status=source.status,
        eval_id=source.eval_id,
        error_code=r.error_code or source.error_code,
        error_message=r.error_message or source.error_message,
        submitted_at=_time(source.submitted_at),
        completed_at=_time(source.completed_at),
        result=decode_result(source.result),
    )


class _Stored(NamedTuple):
    """A journal row as :meth:`Journal.records` reads it."""

    row: int
    pool: str
    profile: str | None
    status: str
    duplicate_of: int | None
    eval_id: str | None
    error_code: str | None
    error_message: str | None
    submitted_at: str | None
    completed_at: str | None
    result: str | bytes | None  # bytes: zlib-compressed JSON; str: JSON (older journals)
