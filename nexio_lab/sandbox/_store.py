"""Where jobs live: in memory, optionally written through to SQLite (``--db``).

Jobs are immutable once created (their outcome and timings are decided at submission), so
the in-memory map is the source of truth while running and SQLite only has to make them
survive a restart. Times are Unix wall-clock seconds, so they mean the same after a restart.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections import Counter
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

__all__ = ["Job", "JobRecord", "JobStore"]


class JobRecord(dict[str, Any]):
    """A job as introspection shows it: a dict whose keys also read as attributes.

    >>> JobRecord(eval_id="eval_1").eval_id
    'eval_1'
    """

    def __getattr__(self, name: str) -> Any:
        try:
            return self[name]
        except KeyError:
            raise AttributeError(name) from None


@dataclass(frozen=True, slots=True)
class Job:
    """One evaluation as submitted, with its fate already drawn.

    ``owner`` is the fingerprint of the key that created it (never the key itself);
    ``outcome`` is the final status, reached at ``ready_at``; ``digest`` identifies the
    (seed, pool, profile) input and ``attempt`` counts earlier jobs with the same digest.
    """

    eval_id: str
    owner: str
    profile: str  # canonical JSON
    pool: str
    seed: int
    digest: str
    attempt: int
    created_at: float
    queued_until: float
    ready_at: float
    outcome: str
    failure: str | None
    webhook_url: str | None

    def status(self, now: float) -> str:
        if now >= self.ready_at:
            return self.outcome
        return "queued" if now < self.queued_until else "processing"


_SCHEMA = """
CREATE TABLE IF NOT EXISTS jobs (
    eval_id TEXT PRIMARY KEY, owner TEXT NOT NULL, profile TEXT NOT NULL, pool TEXT NOT NULL,
    seed INTEGER NOT NULL, digest TEXT NOT NULL, attempt INTEGER NOT NULL,
    created_at REAL NOT NULL, queued_until REAL NOT NULL, ready_at REAL NOT NULL,
    outcome TEXT NOT NULL, failure TEXT, webhook_url TEXT,
    webhook_done INTEGER NOT NULL DEFAULT 0
)
"""
_COLUMNS = tuple(Job.__dataclass_fields__)


class JobStore:
    """Jobs by eval_id; ``path`` makes them persistent. Safe to read from other threads."""

    def __init__(self, path: Path | None = None) -> None:
        self.path = path
        self._jobs: dict[str, Job] = {}
        self._attempts: Counter[str] = Counter()
        self._webhooks_done: set[str] = set()
        self._lock = threading.Lock()
        self._db: sqlite3.Connection | None = None

    def open(self) -> None:
        """Connect to the database (if any) and load the jobs it holds."""
        if self.path is None or self._db is not None:
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
        db.execute("PRAGMA journal_mode=WAL")
        # A lost last write after a power cut is fine for a sandbox; an fsync per job is not.
        db.execute("PRAGMA synchronous=NORMAL")
        db.execute(_SCHEMA)
        rows = db.execute(f"SELECT {', '.join(_COLUMNS)}, webhook_done FROM jobs").fetchall()
        with self._lock:
            for row in rows:
                job = Job(*row[:-1])
                self._jobs[job.eval_id] = job
                self._attempts[job.digest] += 1
                if row[-1]:
                    self._webhooks_done.add(job.eval_id)
        self._db = db

    def close(self) -> None:
        if self._db is not None:
            self._db.close()
            self._db = None

    def __contains__(self, eval_id: str) -> bool:
        return eval_id in self._jobs

    def get(self, eval_id: str) -> Job | None:
        return self._jobs.get(eval_id)

    def attempts(self, digest: str) -> int:
        """How many jobs with this input exist already."""
        return self._attempts[digest]

    def add(self, job: Job) -> None:
        with self._lock:
            self._jobs[job.eval_id] = job
            self._attempts[job.digest] += 1
            if self._db is not None:
                placeholders = ", ".join("?" * len(_COLUMNS))
                self._db.execute(
                    f"INSERT INTO jobs ({', '.join(_COLUMNS)}) VALUES ({placeholders})",
                    tuple(getattr(job, c) for c in _COLUMNS),
                )

    def webhook_done(self, eval_id: str) -> None:
        with self._lock:
            self._webhooks_done.add(eval_id)
            if self._db is not None:
                self._db.execute("UPDATE jobs SET webhook_done = 1 WHERE eval_id = ?", (eval_id,))

    def pending_webhooks(self) -> list[Job]:
        """Jobs whose webhook was never delivered (to resume after a restart)."""
        with self._lock:
            return [
                j
                for j in self._jobs.values()
                if j.webhook_url and j.eval_id not in self._webhooks_done
            ]

    def records(self, now: float) -> list[JobRecord]:
        """Every job as a plain dict, oldest first (for tests and benchmarks)."""
        with self._lock:
            jobs = sorted(self._jobs.values(), key=lambda j: j.created_at)
        records = []
        for job in jobs:
            record = JobRecord(asdict(job))
            record["profile"] = json.loads(job.profile)
            record["status"] = job.status(now)
            records.append(record)
        return records
