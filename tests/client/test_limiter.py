"""The header-fed limiter, on a fake clock: it learns, never exceeds, waits for the reset."""

from __future__ import annotations

import asyncio

from nexio_lab._limiter import RateLimiter


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def headers(limit: int, remaining: int, reset: float) -> dict[str, str]:
    return {
        "X-RateLimit-Limit": str(limit),
        "X-RateLimit-Remaining": str(remaining),
        "X-RateLimit-Reset": f"{reset:g}",
    }


def test_probe_first_then_the_announced_budget() -> None:
    clock = Clock()
    limiter = RateLimiter(clock)
    assert limiter.available() == 1  # nothing known: one request alone
    asyncio.run(limiter.acquire())
    assert limiter.available() == 0
    limiter.release(headers(10, 9, 1005), 200)
    assert limiter.available() == 9
    assert limiter.snapshot is not None and limiter.snapshot.limit == 10


def test_in_flight_requests_count_against_the_budget() -> None:
    limiter = RateLimiter(Clock())
    asyncio.run(limiter.acquire())
    limiter.release(headers(3, 2, 1005), 200)

    async def take_two() -> None:
        await limiter.acquire()
        await limiter.acquire()

    asyncio.run(take_two())
    assert limiter.available() == 0 and limiter.in_flight == 2


def test_waits_for_the_reset_then_a_fresh_window() -> None:
    clock = Clock()
    limiter = RateLimiter(clock)
    asyncio.run(limiter.acquire())
    limiter.release(headers(2, 0, 1005), 200)
    assert limiter.available() == 0
    clock.now = 1005.0  # the window resets: the full limit again
    assert limiter.available() == 2


def test_window_length_is_learned_from_successive_resets() -> None:
    clock = Clock()
    limiter = RateLimiter(clock)
    asyncio.run(limiter.acquire())
    limiter.release(headers(5, 4, 1005), 200)
    clock.now = 1005.5
    asyncio.run(limiter.acquire())
    limiter.release(headers(5, 4, 1010), 200)
    assert limiter.window == 5.0
    clock.now = 1012.0
    assert limiter.seconds_to_reset() == 3.0


def test_late_answers_from_an_ended_window_change_nothing() -> None:
    clock = Clock()
    limiter = RateLimiter(clock)
    asyncio.run(limiter.acquire())
    limiter.release(headers(5, 4, 1010), 200)
    limiter.release(headers(5, 0, 1005), 200)  # an older window's answer arrives late
    assert limiter.available() == 4


def test_429_and_retry_after() -> None:
    clock = Clock()
    limiter = RateLimiter(clock)
    asyncio.run(limiter.acquire())
    limiter.release({**headers(5, 3, 1010), "Retry-After": "2"}, 429)
    assert limiter.rate_limited == 1
    assert limiter.available() == 0  # a 429 means the window is spent


def test_a_server_without_headers_is_not_limited_here() -> None:
    limiter = RateLimiter(Clock())
    asyncio.run(limiter.acquire())
    limiter.release({}, 200)
    assert limiter.available() is None
