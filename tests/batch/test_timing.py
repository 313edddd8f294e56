"""The processing-time model: censored observations, no survivor bias."""

from __future__ import annotations

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
    assert model.share_done(2.0) == 0.1
    assert model.quantile(0.5) > 5.0  # not 2 s: the survivors count


def test_wide_upper_bounds_do_not_inflate_when_tight_ones_exist() -> None:
    model = DurationModel()
    for age in (3.0, 4.0, 5.0, 6.0):
        model.running(0.0, age - 0.1)
        model.finished(age)
    assert 3.0 <= model.quantile(0.5) <= 5.0
    assert model.quantile(0.99) == 6.0


def test_running_replaces_the_jobs_previous_observation() -> None:
    model = DurationModel()
    model.running(0.0, 1.0)
    model.running(1.0, 2.0)
    model.finished(3.0)
    assert model.share_done(1.5) == 0.0  # one job, known running at 2 s
    assert model.share_done(3.0) == 1.0


def test_later_polls_come_later_and_never_too_soon() -> None:
    model = DurationModel()
    for age in (1.0, 2.0, 3.0, 4.0):
        model.finished(age)
    dues = [model.next_poll_after(polls, 0.0) for polls in range(6)]
    assert dues == sorted(dues)
    assert model.next_poll_after(0, 10.0) >= 11.0  # a tenth of its age at least
