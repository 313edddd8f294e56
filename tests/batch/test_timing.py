"""The processing-time model: censored observations, no survivor bias."""

from __future__ import annotations

import pytest

from nexio_lab.batch._timing import EXPLORE_FIRST_S, DurationModel


def test_unknown_model_explores_geometrically() -> None:
    model = DurationModel()
    assert not model.known
    times = [model.next_poll_after(polls, 0.0) for polls in range(4)]
    assert times[0] == EXPLORE_FIRST_S and times == sorted(times)


def test_jobs_still_running_keep_estimates_from_being_too_short() -> None:
    model = DurationModel()
    for _ in range(3):  # three early finishers...
        model.finished(2.0)
    for _ in range(27):  # ...while most jobs are still running at 5 s
        model.running(0.0, 5.0)
    assert model.known
    assert model.share_done(2.0) == pytest.approx(0.1)
    assert model.quantile(0.5) > 5.0  # not 2 s: the survivors count


def test_tight_observations_give_tight_quantiles() -> None:
    model = DurationModel()
    for age in range(3, 13):  # ten jobs, each seen running 0.1 s before seen done
        model.running(0.0, age - 0.1)
        model.finished(float(age), previous=age - 0.1)
    assert 6.0 <= model.quantile(0.5) <= 8.0
    assert model.quantile(0.99) >= 12.0  # the thin tail is extrapolated, never shortened


def test_running_replaces_the_jobs_previous_observation() -> None:
    model = DurationModel()
    for _ in range(6):
        model.running(0.0, 1.0)
        model.running(1.0, 2.0)  # the same job, later: its 1 s observation is replaced
        model.finished(3.0, previous=2.0)
    assert model.share_done(2.5) == 0.0  # all six were known running at 2 s
    assert model.share_done(3.0) == 1.0


def test_later_polls_come_later_and_never_too_soon() -> None:
    model = DurationModel()
    for age in (1.0, 2.0, 3.0, 4.0):
        model.finished(age)
    dues = [model.next_poll_after(polls, 0.0) for polls in range(6)]
    assert dues == sorted(dues)
    assert model.next_poll_after(0, 10.0) >= 11.0  # a tenth of its age at least
