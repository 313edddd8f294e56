"""The clients an analyst would write instead of nexio-lab, written plainly.

* :func:`vendor_client` follows the vendor's advice: asyncio + httpx, every request paced
  evenly at the known limit, each job polled 2 s after submission, then x1.5, capped at
  30 s (times divided by the sandbox's speed factor).
* :func:`shortcut_client` is the common shortcut: no pacing, fixed 2 s polling (scaled),
  and on a 429 sleep until ``X-RateLimit-Reset`` then try again.
* :func:`burst_client` is the strongest honest fixed-window client: told the limit, it
  spends the whole budget at the start of each window, as fast as it can, then waits for
  the reset the server announced (``X-RateLimit-Reset``) and bursts again; polls as the
  vendor advises.
* :func:`bare_loop` is the floor for client overhead: POST then GET each, nothing else,
  over an httpx client built exactly as nexio-lab builds its own (:func:`nexio_http`).
* :func:`raw_capacity` measures what the sandbox itself answers, with a raw HTTP/1.1
  keep-alive client on asyncio streams (no httpx cost in the figure).

The vendor and burst clients are told the limit (nexio-lab is not); every batch client
keeps results in memory only.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field
from typing import Any

import httpx

from nexio_lab.sandbox import DEFAULT_API_KEY

__all__ = [
    "ClientRun",
    "bare_loop",
    "burst_client",
    "nexio_http",
    "raw_capacity",
    "shortcut_client",
    "vendor_client",
]

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


class WindowBurst:
    """Grants ``limit`` slots per window at once; when they are spent, waits until the
    window's reset as the server last announced it (the latest ``X-RateLimit-Reset`` seen),
    then grants ``limit`` more."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.used = 0
        self.reset: float | None = None

    async def wait(self) -> None:
        while True:
            now = time.time()
            if self.reset is not None and now >= self.reset:
                self.used, self.reset = 0, None  # the reset came: a new window to burst
            if self.used < self.limit:
                self.used += 1
                return
            # spent, and no answer has said when this window ends yet: look again soon
            await asyncio.sleep(self.reset - now if self.reset is not None else 0.005)

    def observe(self, response: httpx.Response) -> None:
        text = response.headers.get("X-RateLimit-Reset")
        if text is None:
            return
        reset = float(text)
        if reset <= time.time():
            return  # an answer from a window that is already over: not this window's end
        if self.reset is None or reset > self.reset:
            self.reset = reset
        if response.status_code == 429:
            self.used = self.limit


async def _sleep_until_reset(response: httpx.Response) -> None:
    reset = float(response.headers.get("X-RateLimit-Reset", time.time() + 1))
    await asyncio.sleep(max(0.0, reset - time.time()) + 0.01)


async def _send(
    http: httpx.AsyncClient,
    run: ClientRun,
    pacer: Pacer | WindowBurst | None,
    method: str,
    path: str,
    **kw: Any,
) -> dict[str, Any]:
    """One request, retried after the reset on 429 (every client does that much), and
    retried at once when a kept-alive connection turns out closed by the server (it closes
    idle ones after 5 s, which a client sleeping until a reset meets)."""
    dropped = 0
    while True:
        if pacer is not None:
            await pacer.wait()
        run.requests += 1
        if method == "GET":
            run.polls += 1
        try:
            response = await http.request(method, path, **kw)
        except (httpx.RemoteProtocolError, httpx.ReadError) as exc:
            dropped += 1
            run.errors.append(f"retried: {exc!r}")
            if dropped > 3:
                raise
            continue
        if isinstance(pacer, WindowBurst):
            pacer.observe(response)
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
    pacer: Pacer | WindowBurst | None,
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
    run.errors += [repr(r) for r in results if isinstance(r, BaseException)]
    run.wall_s = time.monotonic() - started
    return run


def _advised_delays(speed: float) -> Any:
    """The docs' polling advice: 2 s, x1.5, capped at 30 s (divided by the speed)."""

    def delays() -> Any:
        delay = 2.0 / speed
        while True:
            yield delay
            delay = min(delay * 1.5, 30.0 / speed)

    return delays


async def vendor_client(
    url: str, profiles: list[dict[str, Any]], pool: str, *, limit: int, window: float, speed: float
) -> ClientRun:
    """The vendor's advice: paced at ``limit / window`` per second, polls 2 s x1.5 <= 30 s."""
    return await _batch(url, profiles, pool, Pacer(limit / window), _advised_delays(speed))


async def burst_client(
    url: str, profiles: list[dict[str, Any]], pool: str, *, limit: int, speed: float
) -> ClientRun:
    """Told the limit: bursts ``limit`` requests at each window's reset; advised polling."""
    return await _batch(url, profiles, pool, WindowBurst(limit), _advised_delays(speed))


async def shortcut_client(
    url: str, profiles: list[dict[str, Any]], pool: str, *, speed: float
) -> ClientRun:
    """The shortcut: everything at once, polls every 2 s, sleeps until the reset on 429."""

    def delays() -> Any:
        while True:
            yield 2.0 / speed

    return await _batch(url, profiles, pool, None, delays)


def nexio_http(url: str) -> httpx.AsyncClient:
    """The very httpx client nexio-lab makes for itself (same timeouts, pool limits,
    headers, transport), so a race against it measures nexio-lab's code, not settings."""
    from nexio_lab import AsyncClient

    # Transport._client() is private: this harness must track how the library builds it.
    return AsyncClient(api_key=DEFAULT_API_KEY, base_url=url).transport._client()


async def bare_loop(
    url: str, profiles: list[dict[str, Any]], pool: str, *, concurrency: int = 64
) -> ClientRun:
    """POST then GET each profile, ``concurrency`` at a time: no journal, no limiter, over
    :func:`nexio_http`."""
    run = ClientRun()
    started = time.monotonic()
    semaphore = asyncio.Semaphore(concurrency)
    key = {"X-API-Key": DEFAULT_API_KEY}
    async with nexio_http(url) as http:

        async def one(profile: dict[str, Any]) -> None:
            async with semaphore:
                body = {"profile": profile, "pool": pool}
                job = (await http.post(JOBS, json=body, headers=key)).json()
                state = (await http.get(f"{JOBS}/{job['eval_id']}", headers=key)).json()
                run.requests += 2
                run.finished += state["status"] in DONE

        await asyncio.gather(*(one(p) for p in profiles))
    run.wall_s = time.monotonic() - started
    return run


async def raw_capacity(url: str, path: str, n: int, *, connections: int = 16) -> float:
    """Requests per second the server answers for ``n`` GETs of ``path`` over
    ``connections`` keep-alive HTTP/1.1 connections, read with bare asyncio streams."""
    parts = httpx.URL(url)
    host, port = parts.host, parts.port or 80
    request = (
        f"GET {path} HTTP/1.1\r\nHost: {host}:{port}\r\nX-API-Key: {DEFAULT_API_KEY}\r\n\r\n"
    ).encode()
    per_connection = [n // connections + (i < n % connections) for i in range(connections)]

    async def worker(count: int) -> None:
        reader, writer = await asyncio.open_connection(host, port)
        try:
            for _ in range(count):
                writer.write(request)
                head = await reader.readuntil(b"\r\n\r\n")
                status = int(head.split(b" ", 2)[1])
                if status != 200:
                    raise RuntimeError(f"GET {path}: {status}")
                length = 0
                for line in head.split(b"\r\n"):
                    if line.lower().startswith(b"content-length:"):
                        length = int(line.split(b":", 1)[1])
                await reader.readexactly(length)
        finally:
            writer.close()

    started = time.monotonic()
    await asyncio.gather(*(worker(c) for c in per_connection if c))
    return n / (time.monotonic() - started)
