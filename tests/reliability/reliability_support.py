"""Helpers shared by the reliability tests: inputs, journal reads, summary lines."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any

from nexio_lab.sandbox import Sandbox

#: A key distinctive enough to be searched for in every output (it opens only a sandbox).
SECRET_KEY = "nx_test_R3l1abil1tyS3cretK3y9f8e7d6c5b4a"
SANDBOX_KEY = "nx_test_sandbox_0000000000000000"


def profiles(n: int, prefix: str = "co") -> list[dict[str, Any]]:
    states = ("CA", "NY", "TX", "WA")
    return [
        {
            "entity": f"{prefix}-{i:03d}",
            "state": states[i % 4],
            "line": "general_liability",
            "revenue": 1_000_000 + 10_000 * i,
        }
        for i in range(n)
    ]


def journal_rows(store: Path, name: str) -> list[dict[str, Any]]:
    """The journal's rows of batch ``name``, read with plain sqlite3."""
    with sqlite3.connect(store) as db:
        db.row_factory = sqlite3.Row
        return [dict(r) for r in db.execute("SELECT * FROM rows WHERE batch = ?", (name,))]


def duplicates(sandbox: Sandbox) -> int:
    """Jobs beyond the first for the same (profile, pool): evaluations paid twice."""
    jobs = sandbox.jobs()
    return len(jobs) - len({(json.dumps(j["profile"], sort_keys=True), j["pool"]) for j in jobs})


def batch_line(
    fault: str,
    batch: Any,
    sandbox: Sandbox,
    expected_rows: int,
    record: Callable[..., Any],
    server_requests: int | None = None,
) -> Any:
    """Record the summary line of a batch run against ``sandbox``."""
    counts = batch.status_counts()
    rows = batch.records()
    lost = (
        expected_rows - len(rows) + sum(1 for r in rows if r.status == "completed" and not r.result)
    )
    engine_requests = batch._engine.stats.requests if batch._engine else 0
    if server_requests is None:  # what reached the server, retries included
        server_requests = sandbox.stats()["requests"] - sandbox.stats()["health"]
    return record(
        fault,
        requests=server_requests,
        retries=max(0, server_requests - engine_requests),
        finished=counts["completed"] + counts["failed"] + counts["error"],
        lost=lost,
        duplicates=duplicates(sandbox),
    )
