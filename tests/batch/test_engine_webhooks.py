"""The engine with webhooks, driven by a stand-in transport (no server): a result delivered
before its own 202 has been handled is not lost."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from nexio_lab._limiter import RateLimiter
from nexio_lab._models import Evaluation
from nexio_lab.batch import Journal
from nexio_lab.batch._engine import Engine
from nexio_lab.batch._journal import PlannedRow


class FastJobs:
    """Answers every POST with a 202, but delivers the job's webhook first."""

    def __init__(self) -> None:
        self.limiter = RateLimiter()
        self.engine: Engine | None = None
        self.gets = 0
        self.posts = 0

    async def submit(self, profile: Any, pool: str, webhook_url: Any, **kw: Any) -> Evaluation:
        kw["on_send"]()
        self.posts += 1
        eval_id = f"eval_{self.posts}"
        assert self.engine is not None
        self.engine.on_webhook({"eval_id": eval_id, "status": "completed", "candidates": []})
        kw["slot"].done(None)
        return Evaluation.from_json({"eval_id": eval_id, "status": "queued"})

    async def get(self, eval_id: str, **kw: Any) -> Evaluation:
        self.gets += 1
        kw["slot"].done(None)
        return Evaluation.from_json({"eval_id": eval_id, "status": "completed"})


def test_a_webhook_that_beats_its_202_is_kept(tmp_path: Path) -> None:
    journal = Journal(tmp_path / "j.sqlite")
    journal.create_batch("w", "http://127.0.0.1:1", {"pools": ["p"]})
    journal.add_rows("w", [PlannedRow(i, "p", "{}", f"fp{i}", "pending") for i in range(5)])
    transport = FastJobs()

    async def run() -> Engine:
        engine = Engine(transport, journal, "w", webhook_url="http://127.0.0.1:9/hook")  # type: ignore[arg-type]
        transport.engine = engine
        engine.load(resubmit_uncertain=False)
        await engine.run()
        return engine

    engine = asyncio.run(run())
    assert journal.status_counts("w") == {"completed": 5}
    assert (transport.posts, transport.gets, engine.stats.webhooks) == (5, 0, 5)
