"""Scenario 5: what the client costs when neither the limit nor processing binds.

The sandbox runs in its own process (so it has a core of its own on a 2-core machine)
with a limit nobody reaches and instant processing. ``run_batch`` (journal, limiter,
dispatcher, all included) races a bare loop doing the same POST + GET per row at the same
concurrency over an httpx client built exactly as nexio-lab builds its own
(:func:`benchmarks.baselines.nexio_http`: same timeouts, pool limits, headers), so the
ratio is the cost of nexio-lab's code, not of different settings. The two alternate for
``repeats`` rounds; the figure is the median per-round ratio with its spread. The sandbox's
own capacity is measured with a raw HTTP/1.1 client (no httpx in the figure), to show how
far below it both clients run.
"""

from __future__ import annotations

import asyncio
import time

import httpx

from nexio_lab import AsyncClient
from nexio_lab.sandbox import DEFAULT_API_KEY

from . import baselines
from ._common import POOL, journal_path, profiles, serve_in_subprocess
from ._report import Row, median, ratio, spread

__all__ = ["client_overhead"]

TARGET = 0.8
CONCURRENCY = 64  # the engine's default, and the pool size of nexio-lab's httpx client


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
    if run.finished != n:
        raise RuntimeError(f"the bare loop finished {run.finished} of {n}")
    return n / run.wall_s


def client_overhead(n: int, repeats: int = 3, capacity_n: int = 3000) -> list[Row]:
    s = "5 overhead"
    ours: list[float] = []
    bare: list[float] = []
    with serve_in_subprocess(rate_limit=10**9, rate_window=60.0, speed=1e9, seed=7) as served:
        for i in range(repeats):
            # alternate which goes first, so a drift in the machine's load favours neither
            pair = [("ours", _run_batch), ("bare", _bare)]
            for name, fn in pair if i % 2 == 0 else pair[::-1]:
                rate = asyncio.run(fn(served.url, n, f"{name}{i}"))
                (ours if name == "ours" else bare).append(rate)
        eval_id = httpx.post(
            f"{served.url}/api/v1/jobs",
            json={"profile": {"entity": "probe"}, "pool": POOL},
            headers={"X-API-Key": DEFAULT_API_KEY},
            trust_env=False,
        ).json()["eval_id"]
        health = asyncio.run(baselines.raw_capacity(served.url, "/health", capacity_n))
        job = f"/api/v1/jobs/{eval_id}"
        gets = asyncio.run(baselines.raw_capacity(served.url, job, capacity_n))
    ratios = [ratio(o, b) for o, b in zip(ours, bare, strict=True)]
    r = median([x for x in ratios if x is not None])
    requests_per_s = 2 * median(ours)
    return [
        Row(
            s,
            f"evaluations/s, run_batch vs bare loop, same httpx settings "
            f"(N={n}, concurrency {CONCURRENCY})",
            median(ours),
            median(bare),
            r,
            f"ratio >= {TARGET}",
            r >= TARGET,
            "/s",
            runs=repeats,
            spread=spread(ratios),
            details={"run_batch": ours, "bare": bare},
        ),
        Row(
            s,
            "run_batch requests/s vs sandbox capacity, GET /health (raw HTTP/1.1 client)",
            requests_per_s,
            health,
            ratio(requests_per_s, health),
            "info",
            None,
            "/s",
        ),
        Row(
            s,
            "run_batch requests/s vs sandbox capacity, GET /api/v1/jobs/{id} (raw client)",
            requests_per_s,
            gets,
            ratio(requests_per_s, gets),
            "info",
            None,
            "/s",
        ),
    ]
