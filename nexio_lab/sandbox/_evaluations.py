"""Evaluations: submission (timing and fate drawn up front) and the job body at any time.

A job's duration (15-60 s of simulated pipeline, divided by ``speed``) and its outcome are
drawn when it is created, from a random generator seeded by the input, so the same profile,
pool and seed always take the same time. Whether it fails is drawn per attempt: resubmitting
a failed input rolls again. The status is derived from the clock when asked; nothing ticks.
"""

from __future__ import annotations

import hashlib
import json
import os
import random
import string
import time
from collections import OrderedDict
from collections.abc import Mapping
from typing import Any

from ._config import SandboxConfig
from ._pools import pools_for
from ._scoring import assess, canonical_profile
from ._store import Job, JobStore

__all__ = ["AUDIT_BASE", "Evaluations", "new_eval_id"]

#: Audit traces live on a host that never resolves: the sandbox keeps no traces.
AUDIT_BASE = "https://sandbox.nexio.invalid/traces/"
_ALPHABET = string.digits + string.ascii_letters
_ID_SPACE = 62**8
#: Most likely duration (s) per pool: bigger pools take longer, as the docs say.
_DURATION_MODE = {"carriers:all": 45.0, "carriers:tier1": 20.0, "providers:network": 28.0}
_FAILURES = (
    "Assessment stage timed out",
    "Upstream carrier data unavailable for this pool",
    "Trace generation failed",
)


def new_eval_id() -> str:
    """``eval_`` and 8 base62 characters from the OS's random source.

    >>> len(new_eval_id()), new_eval_id().startswith("eval_")
    (13, True)
    """
    # One urandom call (not eight secrets.choice calls): the modulo bias is below 1e-4.
    n = int.from_bytes(os.urandom(8), "big") % _ID_SPACE
    chars = []
    for _ in range(8):
        n, digit = divmod(n, 62)
        chars.append(_ALPHABET[digit])
    return "eval_" + "".join(chars)


class Evaluations:
    """The sandbox's jobs: create them, and say what a GET (or a webhook) shows of them."""

    def __init__(self, config: SandboxConfig, store: JobStore) -> None:
        self.config = config
        self.store = store
        # Results depend only on (seed, pool, profile): cache the JSON of the done part.
        self._results: OrderedDict[str, str] = OrderedDict()
        self._results_max = 4096

    @property
    def pool_ids(self) -> tuple[str, ...]:
        return tuple(pools_for(self.config.seed))

    def submit(
        self, owner: str, profile: Mapping[str, Any], pool: str, webhook_url: str | None
    ) -> Job:
        """Create a job (the pool must exist); its timings and fate are fixed here."""
        config = self.config
        canonical = canonical_profile(profile)
        digest = hashlib.sha256(f"{config.seed}|{pool}|{canonical}".encode()).hexdigest()
        rng = random.Random(digest)
        duration = rng.triangular(15.0, 60.0, _DURATION_MODE.get(pool, 35.0)) / config.speed
        attempt = self.store.attempts(digest)
        fate = random.Random(f"{digest}/{attempt}")
        failed = fate.random() < config.failure_rate
        now = time.time()
        eval_id = new_eval_id()
        while eval_id in self.store:
            eval_id = new_eval_id()
        job = Job(
            eval_id=eval_id,
            owner=owner,
            profile=canonical,
            pool=pool,
            seed=config.seed,
            digest=digest,
            attempt=attempt,
            created_at=now,
            queued_until=now + 0.1 * duration,
            ready_at=now + duration,
            outcome="failed" if failed else "completed",
            failure=fate.choice(_FAILURES) if failed else None,
            webhook_url=webhook_url,
        )
        self.store.add(job)
        return job

    def _result(self, job: Job) -> str:
        """``"pool_size":..,"filtered":..,"candidates":[..]`` for a job's input (cached)."""
        cached = self._results.get(job.digest)
        if cached is not None:
            self._results.move_to_end(job.digest)
            return cached
        assessment = assess(
            pools_for(job.seed)[job.pool],
            json.loads(job.profile),
            seed=job.seed,
            shortlist=self.config.shortlist,
        )
        text = (
            f'"pool_size":{assessment.pool_size},"filtered":{assessment.filtered},'
            f'"candidates":{json.dumps(assessment.candidates, separators=(",", ":"))}'
        )
        self._results[job.digest] = text
        if len(self._results) > self._results_max:
            self._results.popitem(last=False)
        return text

    def body(self, job: Job, now: float | None = None) -> bytes:
        """The JSON a GET returns for ``job`` at ``now`` (a webhook sends the final one)."""
        status = job.status(time.time() if now is None else now)
        head = f'{{"eval_id":"{job.eval_id}","status":"{status}"'
        if status == "completed":
            result = self._result(job)
            return f'{head},{result},"audit":"{AUDIT_BASE}{job.eval_id}"}}'.encode()
        if status == "failed":
            counts = self._result(job).split(',"candidates":', 1)[0]
            error = json.dumps(
                {"code": "evaluation_failed", "message": job.failure, "details": []},
                separators=(",", ":"),
            )
            return f'{head},{counts},"error":{error}}}'.encode()
        return f"{head}}}".encode()
