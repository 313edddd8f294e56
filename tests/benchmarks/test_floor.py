"""The true floors of benchmarks/_floor.py: exact on small cases, and a lower bound of
every schedule a client could follow (checked against random valid schedules)."""

from __future__ import annotations

import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from benchmarks._floor import durations, polling_floor, slot_times, webhook_floor
from nexio_lab.sandbox._ratelimit import RATE_KINDS, KeyState, RateRule, admit


def test_slots_follow_each_kind() -> None:
    start = 1003.0
    assert slot_times(RateRule(2, 10.0, "fixed-aligned"), start, 5) == [
        1003.0, 1003.0, 1010.0, 1010.0, 1020.0,
    ]  # fmt: skip
    assert slot_times(RateRule(2, 10.0, "fixed"), start, 5) == [
        1003.0, 1003.0, 1013.0, 1013.0, 1023.0,
    ]  # fmt: skip
    assert slot_times(RateRule(2, 10.0, "sliding"), start, 5) == [
        1003.0, 1003.0, 1013.0, 1013.0, 1023.0,
    ]  # fmt: skip
    assert slot_times(RateRule(2, 10.0, "bucket"), start, 5) == [
        1003.0, 1003.0, 1008.0, 1013.0, 1018.0,
    ]  # fmt: skip


def test_the_round_formula_is_not_the_floor() -> None:
    # Aligned on the clock, a client starting just after a boundary gets a first window
    # for free: 2N/rate overstates the floor by one window.
    floor = polling_floor(RateRule(60, 5.0, "fixed-aligned"), 1000.02, [0.5] * 240)
    assert floor.naive_s == 40.0
    assert floor.budget_s == pytest.approx(35.0 - 0.02)
    assert floor.binds == "budget"
    # Few slow jobs: readiness binds, and the longest job goes first.
    slow = polling_floor(RateRule(60, 5.0, "fixed"), 0.0, [30.0, 1.0, 2.0])
    assert slow.ready_s == 30.0 and slow.binds == "readiness" and slow.floor_s == 30.0


def test_durations_count_each_input_once() -> None:
    jobs = [
        {"digest": "a", "created_at": 1.0, "ready_at": 4.0},
        {"digest": "b", "created_at": 1.0, "ready_at": 2.5},
        {"digest": "a", "created_at": 9.0, "ready_at": 12.0},  # resubmitted: waste
    ]
    assert durations(jobs) == [3.0, 1.5]


def _simulate(rule: RateRule, start: float, spans: list[float], rng: random.Random) -> float:
    """A random valid client: POSTs in a random order interleaved with GETs, each request
    sent when the server admits it, each GET at or after its job is ready; returns when
    the last GET was admitted."""
    state = KeyState()
    t = start
    order = list(range(len(spans)))
    rng.shuffle(order)
    ready: dict[int, float] = {}
    pending_posts, unread = list(order), set(order)
    last = start
    while unread:
        due = [i for i in unread if i in ready]
        if pending_posts and (not due or rng.random() < 0.5):
            action = ("post", pending_posts[0])
        else:
            i = min(due, key=lambda j: ready[j])
            action = ("get", i)
            t = max(t, ready[i])
        t += rng.random() * 0.3  # clients are never perfectly early
        while not (quota := admit(rule, state, t)).allowed:
            t += (quota.retry_after or 0.0) + 1e-6
        if action[0] == "post":
            pending_posts.pop(0)
            ready[action[1]] = t + spans[action[1]]
        else:
            unread.discard(action[1])
            last = t
    return last - start


@settings(max_examples=60, deadline=None)
@given(
    kind=st.sampled_from(RATE_KINDS),
    limit=st.integers(1, 5),
    spans=st.lists(st.floats(0.0, 6.0), min_size=1, max_size=12),
    seed=st.integers(0, 10_000),
)
def test_no_client_beats_the_floor(kind: str, limit: int, spans: list[float], seed: int) -> None:
    rule = RateRule(limit, 2.0, kind)  # type: ignore[arg-type]
    start = 1000.3
    floor = polling_floor(rule, start, spans)
    assert _simulate(rule, start, spans, random.Random(seed)) >= floor.floor_s - 1e-5
    hooked = webhook_floor(rule, start, spans)
    assert hooked.floor_s <= floor.floor_s + 1e-9  # fewer requests, never a later floor
