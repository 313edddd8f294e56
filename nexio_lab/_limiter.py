"""A rate limiter fed by the server's ``X-RateLimit-*`` headers.

It never hard-codes a limit or a window: it learns both from the headers of every response,
keeps a conservative count of the requests still in flight, and makes a caller wait for the
reset instead of sending a request that would get 429. One limiter serves every request of a
client; all of them run on the client's event loop, so asyncio primitives are enough.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator, Callable, Mapping
from typing import Protocol

from ._models import RateLimit

__all__ = ["Budget", "RateLimiter", "Slot"]

logger = logging.getLogger("nexio_lab")


class Budget(Protocol):
    """What a scheduler may read of the key's budget (a :class:`RateLimiter`, or a fake)."""

    def available(self) -> int | None:
        """Requests that may go now; None when unlimited or unknown."""
        ...

    def seconds_to_reset(self) -> float | None:
        """Seconds until the window resets; None before any header was seen."""
        ...


class Slot:
    """One granted request: given back exactly once, by :meth:`done` or when its context
    ends, whatever happened in between (so no path can keep the budget forever)."""

    __slots__ = ("_limiter", "_open")

    def __init__(self, limiter: RateLimiter) -> None:
        self._limiter = limiter
        self._open = True

    @property
    def open(self) -> bool:
        return self._open

    def done(self, headers: Mapping[str, str] | None, status_code: int | None = None) -> None:
        """Give the slot back, learning from the response's headers (None: no response)."""
        if self._open:
            self._open = False
            self._limiter.release(headers, status_code)

    async def __aenter__(self) -> Slot:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        self.done(None)


class RateLimiter:
    """Grants request slots within the budget the server announced.

    Until the first response nothing is known, so one request goes alone (a probe). A server
    that sends no rate-limit headers at all is not limited here; its 429s are retried.
    """

    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        self._clock = clock
        self._limit: int | None = None
        self._remaining: int | None = None  # server's count for the window ending at _reset
        self._reset: float | None = None  # end of the current window (possibly our estimate)
        self._window: float | None = None  # window length, learned from successive resets
        self._window_hint = 0.0  # a lower bound of it: the longest reset - now seen
        self._last_server_reset: float | None = None
        self._headerless = False
        self._in_flight = 0
        #: 429 answers seen: after the first window there should be none.
        self.rate_limited = 0
        self._blocked_until = 0.0  # from Retry-After
        self._changed: asyncio.Event | None = None
        self._lock: asyncio.Lock | None = None

    # -- what callers may read -------------------------------------------------------------

    @property
    def snapshot(self) -> RateLimit | None:
        """The window as last described by the server (None before any response)."""
        if self._limit is None and self._remaining is None:
            return None
        self._roll(self._clock())
        return RateLimit(self._limit, self._remaining, self._reset)

    @property
    def window(self) -> float | None:
        """The window length learned from successive resets, when known."""
        return self._window

    def seconds_to_reset(self) -> float | None:
        """Seconds until the current window resets: exact once the window length is known,
        else a lower bound; None before any header was seen."""
        now = self._clock()
        self._roll(now)
        if self._reset is not None:
            return max(0.0, self._reset - now)
        if self._window_hint:
            return self._window_hint  # a fresh window of at least this length has begun
        return None

    @property
    def in_flight(self) -> int:
        return self._in_flight

    def available(self) -> int | None:
        """Requests that may be sent right now without waiting; None when unlimited/unknown."""
        self._roll(self._clock())
        if self._remaining is None:
            return None if self._headerless else (0 if self._in_flight else 1)
        return max(0, self._remaining - self._in_flight)

    # -- granting and learning -------------------------------------------------------------

    @contextlib.asynccontextmanager
    async def slot(self) -> AsyncIterator[Slot]:
        """Wait for a slot and hold it for the block: ``async with limiter.slot() as s:``."""
        granted = await self.take()
        async with granted:
            yield granted

    async def take(self) -> Slot:
        """Wait for a slot and hand it over; the holder must end it (``async with`` it)."""
        await self.acquire()
        return Slot(self)

    async def acquire(self) -> None:
        """Wait for a slot, then count the request as in flight (pair with :meth:`release`)."""
        if self._lock is None:
            self._lock = asyncio.Lock()
            self._changed = asyncio.Event()
        assert self._changed is not None
        async with self._lock:  # FIFO: callers get slots in the order they asked
            while True:
                self._changed.clear()
                now = self._clock()
                if now < self._blocked_until:
                    await self._wait(self._blocked_until - now)
                    continue
                available = self.available()
                if available is None or available > 0:
                    break
                if self._remaining is None or self._reset is None:
                    await self._wait(None if self._in_flight else 1.0)
                else:
                    # a tiny margin past the reset absorbs timer granularity
                    await self._wait(max(0.0, self._reset - now) + 0.005)
            self._in_flight += 1

    def release(self, headers: Mapping[str, str] | None, status_code: int | None = None) -> None:
        """Account for a finished request and learn from its headers (None: no response)."""
        self._in_flight = max(0, self._in_flight - 1)
        if status_code == 429:
            self.rate_limited += 1
        if headers is not None:
            self._learn(headers, status_code)
        if self._changed is not None:
            self._changed.set()

    def _learn(self, headers: Mapping[str, str], status_code: int | None) -> None:
        info = RateLimit.from_headers(headers)
        retry_after = headers.get("retry-after") or headers.get("Retry-After")
        if retry_after:
            # an HTTP-date is ignored: X-RateLimit-Reset says the same thing
            with contextlib.suppress(ValueError):
                self._blocked_until = max(self._blocked_until, self._clock() + float(retry_after))
        if info is None:
            self._headerless = self._remaining is None
            return
        self._headerless = False
        if info.limit is not None:
            self._limit = info.limit
        remaining = 0 if status_code == 429 else info.remaining
        reset = info.reset
        if reset is None:
            if remaining is not None:
                self._remaining = (
                    remaining if self._remaining is None else min(self._remaining, remaining)
                )
            return
        self._window_hint = max(self._window_hint, reset - self._clock())
        last = self._last_server_reset
        if last is None or reset > last + 1e-6:
            if last is not None and (self._window is None or reset - last < self._window):
                self._window = reset - last
            self._last_server_reset = reset
            self._reset = reset
            self._remaining = remaining if remaining is not None else self._limit
        elif abs(reset - last) <= 1e-6 and self._reset == reset and remaining is not None:
            self._remaining = (
                remaining if self._remaining is None else min(self._remaining, remaining)
            )
        # else: a late answer from a window that has ended; it tells nothing current

    def _roll(self, now: float) -> None:
        """Past the reset, a fresh window begins with the full limit."""
        if self._reset is None or now < self._reset:
            return
        self._remaining = self._limit
        if self._window:
            periods = int((now - self._reset) // self._window) + 1
            self._reset += periods * self._window
        else:
            self._reset = None
        logger.debug("rate-limit window rolled over; limit %s", self._limit)

    async def _wait(self, timeout: float | None) -> None:
        assert self._changed is not None
        # asyncio.timeout, not wait_for: on 3.11 wait_for can swallow a cancellation that
        # lands as its timeout fires, and a cancelled batch would go on sending
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(timeout):
                await self._changed.wait()
