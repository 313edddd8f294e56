"""The polling policies on a fake clock: the scheduler against simulated processing times.

A job is "done" once its simulated duration has passed; the docs-advice client (first poll
after 2 s, each wait x1.5, capped at 30 s) is simulated on the same durations, so the figures
compared here are exact simulated seconds and poll counts.
"""

from __future__ import annotations

import itertools
import random

import pytest

from nexio_lab.batch._polling import DOCS_CAP_S, docs_age
from nexio_lab.batch._scheduler import Job, PollScheduler
from nexio_lab.batch._timing import DurationModel


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


class SpareBudget:
    """A budget that never binds: plenty left, a reset soon (eager polling spends it)."""

    def available(self) -> int | None:
        return 90

    def seconds_to_reset(self) -> float | None:
        return 30.0


def docs_client(durations: list[float], submitted: list[float]) -> tuple[int, float]:
    """Polls the docs' client sends, and when it notices the last result."""
    polls, last = 0, 0.0
    for d, s in zip(durations, submitted, strict=True):
        k = 0
        while True:
            polls += 1
            if docs_age(k) >= d:
                last = max(last, s + docs_age(k))
                break
            k += 1
    return polls, last


def run_scheduler(
    durations: list[float],
    submitted: list[float],
    *,
    policy: str = "polite",
    window: float | None = 60.0,
) -> tuple[int, float, list[list[float]]]:
    """Poll with the scheduler until every job is noticed done: polls, when the last was
    noticed, and each job's poll ages."""
    clock = Clock()
    model = DurationModel()
    scheduler = PollScheduler(
        SpareBudget(), model, clock=clock, policy=policy, window=lambda: window
    )  # type: ignore[arg-type]
    jobs = [
        Job(i, "p", None, "queued", eval_id=f"e{i}", submitted=s) for i, s in enumerate(submitted)
    ]
    ages: list[list[float]] = [[] for _ in jobs]
    waiting = sorted(range(len(jobs)), key=lambda i: submitted[i])
    polls, last = 0, 0.0
    while waiting or scheduler.jobs:
        while waiting and submitted[waiting[0]] <= clock.now:
            scheduler.track(jobs[waiting.pop(0)])
        wait = scheduler.seconds_to_next_poll()
        if wait is None or wait > 0:
            upcoming = [submitted[waiting[0]]] if waiting else []
            if wait is not None:
                upcoming.append(clock.now + wait)
            clock.now = max(clock.now, min(upcoming))
            continue
        job = scheduler.take()
        assert job is not None
        polls += 1
        job.polls += 1
        job.last_polled = clock.now
        age = clock.now - job.submitted
        ages[job.row].append(age)
        if age >= durations[job.row]:
            known = model.known
            model.finished(age, job.last_not_done)
            job.status = "completed"
            scheduler.forget(job)
            last = max(last, clock.now)
            if model.known and not known:
                scheduler.reschedule_all()
        else:
            model.running(job.last_not_done, age)
            job.last_not_done = age
            job.status = "processing"
            scheduler.track(job)
    return polls, last, ages


def uniform(n: int, seed: int, low: float = 15.0, high: float = 60.0) -> list[float]:
    rng = random.Random(seed)
    return [rng.uniform(low, high) for _ in range(n)]


def test_before_any_duration_the_docs_advice_even_with_budget_to_spare() -> None:
    _, _, ages = run_scheduler([1000.0], [0.0])
    expected = [docs_age(k) for k in range(len(ages[0]))]
    assert ages[0] == pytest.approx(expected)
    gaps = [b - a for a, b in zip(ages[0], ages[0][1:], strict=False)]
    assert max(gaps) == pytest.approx(DOCS_CAP_S)


def test_eager_spends_spare_budget_polite_does_not() -> None:
    durations, submitted = uniform(5, 1), [0.0] * 5
    polite, _, _ = run_scheduler(durations, submitted)
    eager, _, _ = run_scheduler(durations, submitted, policy="eager")
    docs, _ = docs_client(durations, submitted)
    assert polite <= docs < eager


@pytest.mark.parametrize(("n", "seed"), [(5, 0), (5, 1), (5, 2), (40, 3), (200, 4)])
def test_polite_polls_no_more_than_the_docs_client_and_notices_no_later(n: int, seed: int) -> None:
    """The docs' figures: processing 15-60 s, all submitted at once (the budget does not
    bind), or spread over a minute."""
    durations = uniform(n, seed)
    for submitted in ([0.0] * n, [60.0 * i / n for i in range(n)]):
        polls, last, _ = run_scheduler(durations, submitted)
        docs_polls, docs_last = docs_client(durations, submitted)
        assert polls <= 1.05 * docs_polls
        assert last <= docs_last


def test_a_sped_up_server_compresses_the_docs_advice() -> None:
    """A window of 3 s instead of a minute: the same schedule, 20 times faster."""
    _, _, ages = run_scheduler([1000.0 / 20], [0.0], window=3.0)
    assert ages[0][:3] == pytest.approx([docs_age(k) / 20 for k in range(3)])


def test_a_late_job_is_polled_ever_less_often() -> None:
    durations = [20.0] * 10 + [600.0]  # one job far slower than every other
    _, _, ages = run_scheduler(durations, [0.0] * 11)
    late = ages[-1]
    gaps = [b - a for a, b in itertools.pairwise(late)]
    tail = [g for g, a in zip(gaps, late, strict=False) if a > 60.0]
    assert tail == sorted(tail) and max(tail) <= DOCS_CAP_S + 1e-9
    assert len(late) <= 30  # 10 minutes with waits growing to 30 s


def test_unknown_policy_is_refused() -> None:
    with pytest.raises(ValueError, match="polite"):
        PollScheduler(SpareBudget(), DurationModel(), policy="fast")  # type: ignore[arg-type]
