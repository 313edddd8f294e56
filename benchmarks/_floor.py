"""True floors: the earliest a run could possibly end, given how the server counts.

A round formula (2N / rate) ignores how the server's windows are aligned: a fixed window on
the clock gives a whole first window for free, a bucket starts full, a sliding log frees one
slot at a time. So the floor is computed by replaying the sandbox's own counting
(:func:`nexio_lab.sandbox._ratelimit.admit`) on a fake clock, sending every request as
early as the server would accept it, from the moment the client started:

* **polling**: every evaluation needs a POST and at least one GET, so the run cannot end
  before the 2N-th request is admitted; nor before the last evaluation is ready, placed as
  well as it can be (the longest jobs in the earliest POST slots, the only order that
  minimises the last ready time). The floor is the later of the two.
* **webhooks**: N POSTs; the last result cannot arrive before every job, submitted in the
  same best order, is ready (the last submission's slot plus its processing, at best).

Both are lower bounds for any client, whoever it is: no client can beat them, so a ratio
near 1 leaves nothing on the table. Durations are the sandbox's own (``ready_at -
created_at`` of each job, one per distinct input).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from nexio_lab.sandbox._ratelimit import KeyState, RateRule, admit

__all__ = ["Floor", "durations", "polling_floor", "slot_times", "webhook_floor"]

#: Step just past a reset so float rounding cannot land before it: above the resolution of
#: a Unix time (2.4e-7 s), far below anything measured.
_EPS = 1e-6


def slot_times(rule: RateRule, start: float, n: int) -> list[float]:
    """The earliest Unix times at which ``n`` requests of one fresh key are admitted, each
    sent as soon as the server accepts it (greedy is optimal for every kind: using budget
    early never delays a later request more than waiting would).

    >>> slot_times(RateRule(2, 10.0, "fixed-aligned"), 13.0, 5)
    [13.0, 13.0, 20.0, 20.0, 30.0]
    >>> slot_times(RateRule(2, 10.0, "bucket"), 13.0, 4)
    [13.0, 13.0, 18.0, 23.0]
    """
    state = KeyState()
    times: list[float] = []
    t = start
    while len(times) < n:
        quota = admit(rule, state, t)
        if quota.allowed:
            times.append(round(t, 5))  # drop the float nudges (_EPS)
        else:
            assert quota.retry_after is not None
            t += quota.retry_after + _EPS
    return times


def _best_ready(posts: Sequence[float], spans: Iterable[float]) -> float:
    """The last ready time when the longest jobs take the earliest POST slots."""
    longest_first = sorted(spans, reverse=True)
    return max((p + d for p, d in zip(posts, longest_first, strict=True)), default=posts[0])


@dataclass(frozen=True)
class Floor:
    """Seconds from the start: ``budget_s`` (the last needed request admitted),
    ``ready_s`` (the last evaluation ready at best), ``floor_s`` (the later), and
    ``naive_s`` (requests / rate, the round formula kept for comparison)."""

    budget_s: float
    ready_s: float
    naive_s: float

    @property
    def floor_s(self) -> float:
        return max(self.budget_s, self.ready_s)

    @property
    def binds(self) -> str:
        return "budget" if self.budget_s >= self.ready_s else "readiness"


def polling_floor(rule: RateRule, start: float, spans: Sequence[float]) -> Floor:
    """Floor of a polled run of ``len(spans)`` evaluations (``spans``: their durations).

    >>> f = polling_floor(RateRule(4, 10.0, "fixed"), 0.0, [1.0, 1.0, 1.0, 1.0])
    >>> f.budget_s, f.ready_s, f.naive_s, f.floor_s
    (10.0, 1.0, 20.0, 10.0)
    """
    n = len(spans)
    slots = slot_times(rule, start, 2 * n)
    return Floor(
        budget_s=slots[-1] - start,
        ready_s=_best_ready(slots[:n], spans) - start,
        naive_s=2 * n * rule.window / rule.limit,
    )


def webhook_floor(rule: RateRule, start: float, spans: Sequence[float]) -> Floor:
    """Floor of a run of ``len(spans)`` evaluations whose results come by webhook.

    >>> webhook_floor(RateRule(2, 10.0, "fixed"), 0.0, [1.0, 3.0, 2.0]).floor_s
    11.0
    """
    n = len(spans)
    slots = slot_times(rule, start, n)
    return Floor(
        budget_s=slots[-1] - start,
        ready_s=_best_ready(slots, spans) - start,
        naive_s=n * rule.window / rule.limit,
    )


def durations(jobs: Iterable[dict]) -> list[float]:
    """One processing time per distinct input (``digest``) from ``Sandbox.jobs()``: a
    resubmitted input is the client's waste, not part of the floor."""
    seen: dict[str, float] = {}
    for job in jobs:
        seen.setdefault(job["digest"], job["ready_at"] - job["created_at"])
    return list(seen.values())
