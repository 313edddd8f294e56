"""Helpers shared by the reliability tests: inputs, journal reads, counting what happened."""

from __future__ import annotations

import json
import sqlite3
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from nexio_lab import SubmissionUncertainError
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


class CountingTransport(httpx.AsyncBaseTransport):
    """httpx's own transport, counting every request put on the wire (retries included,
    refused connections too): the client's side of the requests/retries columns."""

    def __init__(self) -> None:
        self._inner = httpx.AsyncHTTPTransport()
        self.sent = 0

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.sent += 1
        return await self._inner.handle_async_request(request)

    async def aclose(self) -> None:
        await self._inner.aclose()


_SENT: dict[int, CountingTransport] = {}

#: The columns of the fault summary table (conftest.py prints it, the README quotes it).
HEADER = (
    "fault",
    "rows",
    "requests",
    "retries",
    "with a result",
    "failed",
    "error",
    "uncertain",
    "rows lost",
    "duplicates",
)


def sent_by(client: Any) -> int:
    """Requests ``client`` (made by the ``make_client`` fixture) put on the wire."""
    return _SENT[id(client)].sent


@dataclass(frozen=True)
class Tally:
    """Every row in exactly one final state; ``lost``: rows without a true final state
    (missing, still open after the batch ended, completed without a result, or claiming a
    job the server does not have)."""

    rows: int
    result: int = 0
    failed: int = 0
    error: int = 0
    uncertain: int = 0
    lost: int = 0

    def __post_init__(self) -> None:
        states = self.result + self.failed + self.error + self.uncertain + self.lost
        assert states == self.rows, f"{self} does not add up"


def tally_batch(records: list[Any], expected: int, jobs: list[Any] | None = None) -> Tally:
    """Classify a finished batch's rows (``batch.records()``); ``jobs``: the server's, when
    it still knows them all (a row's eval_id must then be one of them)."""
    known = None if jobs is None else {j["eval_id"] for j in jobs}
    counts: Counter[str] = Counter()
    for record in records:
        state = record.status
        if state == "completed" and not (record.result or {}).get("candidates"):
            state = "lost"  # "completed" without the result it claims
        elif state in {"completed", "failed"} and known is not None:
            state = state if record.eval_id in known else "lost"
        elif state == "error" and not record.error_message:
            state = "lost"  # an error must say why
        elif state not in {"completed", "failed", "error", "uncertain"}:
            state = "lost"  # pending, submitting, queued, processing: not final
        counts["result" if state == "completed" else state] += 1
    counts["lost"] += expected - len(records)  # rows the journal does not have
    return Tally(expected, **counts)


def tally_call(outcome: Any, *, posts_seen: int, created: int) -> Tally:
    """One evaluation asked of the client: its evaluation, or the exception it raised.

    A SubmissionUncertainError is true when the POST reached the server; any other error
    when no job was created; an evaluation when it completed with candidates (or failed).
    """
    if isinstance(outcome, SubmissionUncertainError):
        return Tally(1, uncertain=1) if posts_seen else Tally(1, lost=1)
    if isinstance(outcome, BaseException):
        return Tally(1, error=1) if created == 0 else Tally(1, lost=1)
    if outcome.status == "completed" and outcome.candidates:
        return Tally(1, result=1)
    if outcome.status == "failed":
        return Tally(1, failed=1)
    return Tally(1, lost=1)


class Calls:
    """The client's API as a test uses it, counting the requests asked of it (one per call)."""

    def __init__(self, client: Any) -> None:
        self.client = client
        self.asked = 0

    def submit(self, profile: dict[str, Any], pool: str) -> Any:
        self.asked += 1
        return self.client.submit(profile, pool=pool)

    def get(self, eval_id: str) -> Any:
        self.asked += 1
        return self.client.get(eval_id)

    def finish(self, evaluation: Any, timeout: float = 30.0) -> Any:
        """Poll (one counted get at a time) until the evaluation is done."""
        deadline = time.monotonic() + timeout
        while not evaluation.is_done:
            assert time.monotonic() < deadline, f"{evaluation.eval_id} never finished"
            time.sleep(0.02)  # a poll interval, not a synchronisation
            evaluation = self.get(evaluation.eval_id)
        return evaluation


def record_batch(
    record: Callable[..., Any],
    fault: str,
    runs: list[Any],
    expected: int,
    *,
    requests: int,
    duplicates: int,
    sent: int | None = None,
    jobs: list[Any] | None = None,
    own_elsewhere: int = 0,
) -> Any:
    """Record the line of a batch run once or more (``runs``, the last one holding the final
    states): the engine's own requests are each run's ``progress.requests``."""
    own = sum(run.progress.requests for run in runs) + own_elsewhere
    tally = tally_batch(runs[-1].records(), expected, jobs)
    return record(fault, tally, requests=requests, own=own, duplicates=duplicates, sent=sent)
