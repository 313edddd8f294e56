"""Scenario 5: what the client costs when neither the limit nor processing binds.

The sandbox runs in its own process (so it has a core of its own on a 2-core machine)
with a limit nobody reaches and instant processing. ``run_batch`` (journal, limiter,
dispatcher, all included) races a bare httpx loop doing the same POST + GET per row at
the same concurrency; best of ``repeats`` alternating runs each.
"""

from __future__ import annotations

import asyncio
import time

import httpx

from nexio_lab import AsyncClient
from nexio_lab.sandbox import DEFAULT_API_KEY

from . import baselines
from ._common import POOL, journal_path, profiles, serve_in_subprocess
from ._report import Row, ratio

__all__ = ["client_overhead"]

TARGET = 0.8
CONCURRENCY = 64  # the engine's default


async def _run_batch(url: str, n: int, tag: str) -> float:
    rows = profiles(n, tag)
    with journal_path() as store:
        async with AsyncClient(api_key=DEFAULT_API_KEY, base_url=url) as client:
            started = time.monotonic()
            batch = await client.run_batch(rows, pool=POOL, store=store, name=tag, progress=False)
            wall = time.monotonic() - started
    done = batch.status_counts()["completed"]
    if done != n:
        raise RuntimeError(f"run_batch finished {done} of {n}")
    return n / wall


async def _bare(url: str, n: int, tag: str) -> float:
    run = await baselines.bare_loop(url, profiles(n, tag), POOL, concurrency=CONCURRENCY)
    return n / run.wall_s


def client_overhead(n: int, repeats: int = 2, hammer_n: int = 3000) -> list[Row]:
    s = "5 overhead"
    ours: list[float] = []
    bare: list[float] = []
    with serve_in_subprocess(rate_limit=10**9, rate_window=60.0, speed=1e9, seed=7) as served:
        for i in range(repeats):
            ours.append(asyncio.run(_run_batch(served.url, n, f"ours{i}")))
            bare.append(asyncio.run(_bare(served.url, n, f"bare{i}")))
        eval_id = httpx.post(
            f"{served.url}/api/v1/jobs",
            json={"profile": {"entity": "probe"}, "pool": POOL},
            headers={"X-API-Key": DEFAULT_API_KEY},
        ).json()["eval_id"]
        health = asyncio.run(baselines.hammer(served.url, "/health", hammer_n))
        gets = asyncio.run(baselines.hammer(served.url, f"/api/v1/jobs/{eval_id}", hammer_n))
    best, best_bare = max(ours), max(bare)
    r = ratio(best, best_bare)
    requests_per_s = 2 * best
    return [
        Row(
            s,
            f"evaluations/s, run_batch vs bare httpx loop (N={n}, concurrency {CONCURRENCY})",
            best,
            best_bare,
            r,
            f"ratio >= {TARGET}",
            r is not None and r >= TARGET,
            "/s",
            details={"run_batch": ours, "bare": bare},
        ),
        Row(
            s,
            "sandbox requests/s, GET /health (bare loop) vs run_batch requests/s",
            requests_per_s,
            health,
            ratio(requests_per_s, health),
            "info",
            None,
            "/s",
        ),
        Row(
            s,
            "sandbox requests/s, GET /api/v1/jobs/{id} vs run_batch requests/s",
            requests_per_s,
            gets,
            ratio(requests_per_s, gets),
            "info",
            None,
            "/s",
        ),
    ]
