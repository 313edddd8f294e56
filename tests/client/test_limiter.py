"""The header-fed limiter, on a fake clock: it learns, never exceeds, probes after a reset."""

from __future__ import annotations

import asyncio

from limiter_sim import Clock, headers

from nexio_lab._limiter import RateLimiter


def confirm_alone(limiter: RateLimiter, limit: int, reset: float) -> None:
    """The first window: one request at a time, each answer showing no other spender."""
    for used in range(1, 3):
        assert limiter.available() == 1 and limiter.try_acquire()
        limiter.release(headers(limit, limit - used, reset), 200)


def test_probe_first_then_one_at_a_time_until_it_knows_it_is_alone() -> None:
    clock = Clock()
    limiter = RateLimiter(clock)
    assert limiter.available() == 1  # nothing known: one request alone
    asyncio.run(limiter.acquire())
    assert limiter.available() == 0
    limiter.release(headers(10, 9, 1005), 200)
    # the first window may be shared: one at a time while that is not known
    assert limiter.available() == 1
    assert limiter.snapshot is not None and limiter.snapshot.limit == 10
    assert limiter.try_acquire() and not limiter.try_acquire()
    limiter.release(headers(10, 8, 1005), 200)
    assert limiter.try_acquire()
    limiter.release(headers(10, 7, 1005), 200)
    assert limiter.share == 1.0
    assert limiter.available() == 7  # two answers showed no one else: the rest is its own


def test_another_spender_in_the_first_window_makes_it_pace() -> None:
    clock = Clock()
    limiter = RateLimiter(clock)
    assert limiter.try_acquire()
    limiter.release(headers(60, 57, 1005), 200)  # two requests counted besides its own
    assert limiter.share > 1
    assert limiter.available() == 0  # what is left is spread, not burst
    wait = limiter.seconds_to_slot()
    assert wait is not None and 0.0 < wait < 0.5
    clock.now += wait
    assert limiter.try_acquire()


def test_in_flight_requests_count_against_the_budget() -> None:
    clock = Clock()
    limiter = RateLimiter(clock)
    confirm_alone(limiter, 4, 1005)

    async def take_two() -> None:
        await limiter.acquire()
        await limiter.acquire()

    asyncio.run(take_two())
    assert limiter.available() == 0 and limiter.in_flight == 2
    assert limiter.seconds_to_slot() == 5.005  # nothing frees before the reset


def test_after_the_reset_one_probe_learns_what_it_freed() -> None:
    clock = Clock()
    limiter = RateLimiter(clock)
    confirm_alone(limiter, 4, 1005)
    assert limiter.try_acquire() and limiter.try_acquire()
    limiter.release(headers(4, 1, 1005), 200)
    limiter.release(headers(4, 0, 1005), 200)
    assert limiter.available() == 0
    assert limiter.seconds_to_slot() == 5.005  # the reset, and a margin
    clock.now = 1005.0
    assert limiter.available() == 0  # alone last window: its probe goes a little after
    # the reset, so that others' probes would show in its answer
    clock.now = 1005.01
    assert limiter.available() == 1  # not the whole window: a probe first
    assert limiter.try_acquire() and not limiter.try_acquire()
    limiter.release(headers(4, 3, 1010), 200)
    assert limiter.available() == 3  # alone the whole last window: no ramp


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
    confirm_alone(limiter, 6, 1010)
    limiter.release(headers(6, 0, 1005), 200)  # an older window's answer arrives late
    assert limiter.available() == 4  # not 0: the late answer is not this window's


def test_429_blocks_until_the_reset_with_jitter() -> None:
    clock = Clock()
    limiter = RateLimiter(clock)
    asyncio.run(limiter.acquire())
    limiter.release({**headers(5, 3, 1010), "Retry-After": "2"}, 429)
    assert limiter.rate_limited == 1
    assert limiter.available() == 0  # a 429 means the window is spent
    wait = limiter.seconds_to_slot()
    assert wait is not None and 10.0 <= wait <= 10.0 + 0.5
    assert limiter.share > 1  # it yields: another client spends this key


def test_a_server_without_headers_is_not_limited_here() -> None:
    limiter = RateLimiter(Clock())
    asyncio.run(limiter.acquire())
    limiter.release({}, 200)
    assert limiter.available() is None


def test_a_probe_that_got_no_answer_lets_another_probe_go() -> None:
    """After a reset the first request goes alone; if the network eats it (no response at
    all, e.g. the server restarting), the epoch must not wait forever for its answer."""
    clock = Clock()
    limiter = RateLimiter(clock)
    assert limiter.try_acquire()
    limiter.release(headers(10, 9, 1001), 200)
    clock.now = 1002.0  # past the reset: what it freed is unknown until a probe answers
    for _ in range(3):  # probes lost one after another (connection refused)
        if not limiter.try_acquire():
            clock.now += limiter.seconds_to_slot() or 0.0
            assert limiter.try_acquire()
        assert not limiter.try_acquire()  # alone
        limiter.release(None)
    clock.now += limiter.seconds_to_slot() or 0.0
    assert limiter.try_acquire()  # a fresh probe may still go
    limiter.release(headers(10, 9, 1003), 200)
    assert (limiter.available() or 0) >= 1
