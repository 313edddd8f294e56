"""The clients an analyst would write instead of nexio-lab, written plainly.

* :func:`vendor_client` follows the vendor's advice: asyncio + httpx, every request paced
  evenly at the known limit, each job polled 2 s after submission, then x1.5, capped at
  30 s (times divided by the sandbox's speed factor).
* :func:`shortcut_client` is the common shortcut: no pacing, fixed 2 s polling (scaled),
  and on a 429 sleep until ``X-RateLimit-Reset`` then try again.
* :func:`bare_loop` is the floor for client overhead: POST then GET each, nothing else.

Both batch clients are told the limit (nexio-lab is not) and keep results in memory only.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field
from typing import Any

import httpx

from nexio_lab.sandbox import DEFAULT_API_KEY

__all__ = ["ClientRun", "bare_loop", "shortcut_client", "vendor_client"]

JOBS = "/api/v1/jobs"
DONE = {"completed", "failed"}


@dataclass
class ClientRun:
    """What one client run cost: counted on the client side."""

    wall_s: float = 0.0
    requests: int = 0
    polls: int = 0
    rate_limited: int = 0
    finished: int = 0
    last_noticed: float = 0.0  # Unix time the last result was seen
    errors: list[str] = field(default_factory=list)


class Pacer:
    """Grants request slots evenly spaced, ``rate`` per second, first come first served."""

    def __init__(self, rate: float) -> None:
        self.interval = 1.0 / rate
        self._next = 0.0

    async def wait(self) -> None:
        now = time.monotonic()
        slot = max(now, self._next)
        self._next = slot + self.interval
        if slot > now:
            await asyncio.sleep(slot - now)


def _http(url: str, connections: int = 100) -> httpx.AsyncClient:
    return httpx.AsyncClient(
        base_url=url,
        headers={"X-API-Key": DEFAULT_API_KEY},
        timeout=60.0,
        limits=httpx.Limits(max_connections=connections, max_keepalive_connections=connections),
        trust_env=False,
    )


async def _sleep_until_reset(response: httpx.Response) -> None:
    reset = float(response.headers.get("X-RateLimit-Reset", time.time() + 1))
    await asyncio.sleep(max(0.0, reset - time.time()) + 0.01)


async def _send(
    http: httpx.AsyncClient, run: ClientRun, pacer: Pacer | None, method: str, path: str, **kw: Any
) -> dict[str, Any]:
    """One request, retried after the reset on 429 (both clients do that much)."""
    while True:
        if pacer is not None:
            await pacer.wait()
        run.requests += 1
        if method == "GET":
            run.polls += 1
        response = await http.request(method, path, **kw)
        if response.status_code == 429:
            run.rate_limited += 1
            await _sleep_until_reset(response)
            continue
        response.raise_for_status()
        return response.json()


async def _batch(
    url: str,
    profiles: list[dict[str, Any]],
    pool: str,
    pacer: Pacer | None,
    delays: Any,
) -> ClientRun:
    run = ClientRun()
    started = time.monotonic()
    async with _http(url) as http:

        async def one(profile: dict[str, Any]) -> None:
            job = await _send(
                http, run, pacer, "POST", JOBS, json={"profile": profile, "pool": pool}
            )
            for delay in delays():
                await asyncio.sleep(delay)
                state = await _send(http, run, pacer, "GET", f"{JOBS}/{job['eval_id']}")
                if state["status"] in DONE:
                    run.finished += 1
                    run.last_noticed = time.time()
                    return

        results = await asyncio.gather(*(one(p) for p in profiles), return_exceptions=True)
    run.errors = [repr(r) for r in results if isinstance(r, BaseException)]
    run.wall_s = time.monotonic() - started
    return run


async def vendor_client(
    url: str, profiles: list[dict[str, Any]], pool: str, *, limit: int, window: float, speed: float
) -> ClientRun:
    """The vendor's advice: paced at ``limit / window`` per second, polls 2 s x1.5 <= 30 s."""

    def delays() -> Any:
        delay = 2.0 / speed
        while True:
            yield delay
            delay = min(delay * 1.5, 30.0 / speed)

    return await _batch(url, profiles, pool, Pacer(limit / window), delays)


async def shortcut_client(
    url: str, profiles: list[dict[str, Any]], pool: str, *, speed: float
) -> ClientRun:
    """The shortcut: everything at once, polls every 2 s, sleeps until the reset on 429."""

    def delays() -> Any:
        while True:
            yield 2.0 / speed

    return await _batch(url, profiles, pool, None, delays)


async def bare_loop(
    url: str, profiles: list[dict[str, Any]], pool: str, *, concurrency: int = 64
) -> ClientRun:
    """POST then GET each profile, ``concurrency`` at a time: no journal, no limiter."""
    run = ClientRun()
    started = time.monotonic()
    semaphore = asyncio.Semaphore(concurrency)
    async with _http(url, concurrency) as http:

        async def one(profile: dict[str, Any]) -> None:
            async with semaphore:
                job = (await http.post(JOBS, json={"profile": profile, "pool": pool})).json()
                state = (await http.get(f"{JOBS}/{job['eval_id']}")).json()
                run.requests += 2
                run.finished += state["status"] in DONE

        await asyncio.gather(*(one(p) for p in profiles))
    run.wall_s = time.monotonic() - started
    return run


async def hammer(url: str, path: str, n: int, *, concurrency: int = 64) -> float:
    """Requests per second the server answers for ``n`` GETs of ``path``."""
    semaphore = asyncio.Semaphore(concurrency)
    async with _http(url, concurrency) as http:

        async def one() -> None:
            async with semaphore:
                (await http.get(path)).raise_for_status()

        started = time.monotonic()
        await asyncio.gather(*(one() for _ in range(n)))
        return n / (time.monotonic() - started)
