"""Pure models of the ways a server may count requests, and a discrete-event run of
limiters against them on a fake clock (no sockets, no sleeping).

Every model answers ``hit(t)`` with (allowed, limit, remaining, reset) as the headers would
say it; the kinds are the ones the API docs leave open: a fixed window aligned on the clock
or on the first request, a sliding log, a token bucket.
"""

from __future__ import annotations

import heapq
import math
import random
from collections import deque
from dataclasses import dataclass, field

from nexio_lab._limiter import RateLimiter


class FixedWindow:
    def __init__(self, limit: int, window: float, *, aligned: bool = True) -> None:
        self.limit, self.window, self.aligned = limit, window, aligned
        self.start: float | None = None
        self.used = 0

    def hit(self, t: float) -> tuple[bool, int, int, float]:
        if self.aligned:
            start = math.floor(t / self.window) * self.window
            if start != self.start:
                self.start, self.used = start, 0
        elif self.start is None or t >= self.start + self.window:
            self.start, self.used = t, 0
        assert self.start is not None
        reset = self.start + self.window
        if self.used >= self.limit:
            return False, self.limit, 0, reset
        self.used += 1
        return True, self.limit, self.limit - self.used, reset


class SlidingLog:
    def __init__(self, limit: int, window: float) -> None:
        self.limit, self.window = limit, window
        self.log: deque[float] = deque()

    def hit(self, t: float) -> tuple[bool, int, int, float]:
        while self.log and self.log[0] <= t - self.window:
            self.log.popleft()
        if len(self.log) >= self.limit:
            return False, self.limit, 0, self.log[0] + self.window
        self.log.append(t)
        return True, self.limit, self.limit - len(self.log), self.log[0] + self.window


class TokenBucket:
    def __init__(self, limit: int, window: float) -> None:
        self.limit, self.rate = limit, limit / window
        self.tokens, self.last = float(limit), 0.0

    def hit(self, t: float) -> tuple[bool, int, int, float]:
        self.tokens = min(self.limit, self.tokens + (t - self.last) * self.rate)
        self.last = t
        allowed = self.tokens >= 1.0
        if allowed:
            self.tokens -= 1.0
        reset = t + (self.limit - self.tokens) / self.rate
        return allowed, self.limit, math.floor(self.tokens), reset


def headers(limit: int, remaining: int, reset: float) -> dict[str, str]:
    return {
        "X-RateLimit-Limit": str(limit),
        "X-RateLimit-Remaining": str(remaining),
        "X-RateLimit-Reset": f"{reset:.6f}",
    }


class Clock:
    def __init__(self, now: float = 1000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


@dataclass
class SimClient:
    """A client with ``demand`` requests to send, at most ``concurrency`` at once, and no
    more often than ``every`` seconds."""

    limiter: RateLimiter
    demand: int
    concurrency: int = 64
    every: float = 0.0
    next_send: float = -math.inf
    sent: int = 0
    ok: int = 0
    limited: int = 0
    finished_at: float | None = None
    in_flight: int = 0
    ok_times: list[float] = field(default_factory=list)

    @property
    def done(self) -> bool:
        return self.ok >= self.demand


@dataclass
class Rival:
    """Another user of the key that knows nothing of limits: one request every ``every`` s."""

    every: float
    until: float
    ok: int = 0
    limited: int = 0
    limited_at: list[float] = field(default_factory=list)


def run(
    server: FixedWindow | SlidingLog | TokenBucket,
    clients: list[SimClient],
    clock: Clock,
    *,
    latency: float = 0.01,
    rival: Rival | None = None,
    seed: int = 0,
    horizon: float = 3600.0,
) -> None:
    """Drive every client until its demand is met (a 429 is retried), on the fake clock.
    The server counts a request halfway through its round trip."""
    rng = random.Random(seed)
    events: list[tuple[float, int, str, object]] = []
    seq = 0

    def push(at: float, kind: str, payload: object) -> None:
        nonlocal seq
        seq += 1
        heapq.heappush(events, (at, seq, kind, payload))

    if rival is not None:
        push(clock.now, "rival", None)
    start = clock.now
    while clock.now - start < horizon:
        # every client sends what its limiter grants now
        for client in clients:
            while (
                client.ok + client.in_flight < client.demand
                and client.in_flight < client.concurrency
                and clock.now >= client.next_send
                and client.limiter.try_acquire()
            ):
                client.in_flight += 1
                client.sent += 1
                client.next_send = clock.now + client.every
                jitter = latency * rng.uniform(0.8, 1.2)
                push(clock.now + jitter / 2, "arrive", (client, jitter / 2))
        if all(c.done for c in clients):
            return
        waits = [
            max(w, c.next_send - clock.now)
            for c in clients
            if not c.done and c.in_flight < c.concurrency
            for w in [c.limiter.seconds_to_slot()]
            if w is not None and c.ok + c.in_flight < c.demand
        ]
        next_wake = clock.now + max(min(waits), 1e-4) if waits else math.inf
        if events and events[0][0] <= next_wake:
            at, _, kind, payload = heapq.heappop(events)
            clock.now = max(clock.now, at)
            if kind == "arrive":
                client, back = payload  # type: ignore[misc]
                push(clock.now + back, "answer", (client, server.hit(clock.now)))
            elif kind == "answer":
                client, (allowed, limit, remaining, reset) = payload  # type: ignore[misc]
                client.in_flight -= 1
                client.limiter.release(headers(limit, remaining, reset), 200 if allowed else 429)
                if allowed:
                    client.ok += 1
                    client.ok_times.append(clock.now)
                    if client.done:
                        client.finished_at = clock.now
                else:
                    client.limited += 1
            elif kind == "rival":
                assert rival is not None
                allowed, *_ = server.hit(clock.now)
                rival.ok += allowed
                rival.limited += not allowed
                if not allowed:
                    rival.limited_at.append(clock.now)
                if clock.now + rival.every < start + rival.until:
                    push(clock.now + rival.every, "rival", None)
        elif next_wake < math.inf:
            clock.now = next_wake
        else:
            raise AssertionError("deadlock: nothing in flight and no limiter will grant")
    raise AssertionError("the simulation did not finish within its horizon")


def floor_time(
    server: FixedWindow | SlidingLog | TokenBucket,
    demand: int,
    clock: Clock,
    *,
    latency: float = 0.01,
    tick: float = 0.001,
) -> float:
    """When a client that knows the server's state exactly would have ``demand`` requests
    accepted: it tries every ``tick`` and is never refused (the true floor)."""
    start, ok = clock.now, 0
    while ok < demand:
        allowed, *_ = server.hit(clock.now + latency / 2)
        if allowed:
            ok += 1
        else:
            clock.now += tick
    return clock.now + latency - start
