"""The polite polling policy: a poll is spent only where it buys something.

A job is polled when it has a fair chance of being done, or when its result is late; never
because budget happens to be spare. Two regimes:

- Before any processing time has been observed, the docs' advice: first poll 2 s after
  submission, each wait x1.5, capped at 30 s. The docs give it for their per-minute window,
  so it runs in the server's time units: on a server whose window is shorter than a minute
  (a sandbox with a sped-up clock) it is compressed by the same factor, never stretched.
- Once the duration model knows enough, the observed durations place the polls: the first
  at the age by which 10% of jobs are done, then evenly spaced, the spacing chosen so that
  the expected polls per job stay below the docs' schedule's under the same durations
  (so never more polls than that client, and results noticed within one spacing, which is
  shorter than the docs' late waits). A job past every duration seen is late: its waits
  grow x1.5 from there, capped like the docs'.

``poll="eager"`` (the engine's other policy) spends spare budget for latency instead.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from ._timing import DurationModel

__all__ = [
    "DOCS_CAP_S",
    "DOCS_FIRST_S",
    "DOCS_GROWTH",
    "DOCS_WINDOW_S",
    "PolitePlan",
    "PollPolicy",
    "docs_age",
]

PollPolicy = Literal["polite", "eager"]

#: The docs' polling advice: first poll after this long, each wait x GROWTH, capped.
DOCS_FIRST_S = 2.0
DOCS_GROWTH = 1.5
DOCS_CAP_S = 30.0
#: The window the docs' advice goes with ("later versions say per minute").
DOCS_WINDOW_S = 60.0
#: The polite plan's expected polls per job, as a share of the docs' schedule's.
POLL_SHARE = 0.95
#: The age (share of jobs done) of a job's first poll once durations are known.
FIRST_POLL_QUANTILE = 0.1


def docs_age(polls: int, scale: float = 1.0) -> float:
    """Age (seconds after submission) of a job's next poll under the docs' advice, after
    ``polls`` polls; times are multiplied by ``scale``.

    >>> [docs_age(k) for k in range(5)]
    [2.0, 5.0, 9.5, 16.25, 26.375]
    """
    age, wait = 0.0, DOCS_FIRST_S
    for _ in range(polls + 1):
        age += wait
        wait = min(wait * DOCS_GROWTH, DOCS_CAP_S)
    return age * scale


@dataclass
class PolitePlan:
    """Where a job's polls go under the polite policy.

    >>> plan = PolitePlan(DurationModel())
    >>> plan.next_age(polls=0, elapsed=0.0)       # nothing observed: the docs' first poll
    2.0
    >>> m = DurationModel()
    >>> for age in range(15, 61, 5):
    ...     m.finished(float(age))
    >>> plan = PolitePlan(m)
    >>> plan.next_age(polls=0, elapsed=0.0)       # the first tenth of jobs is done by then
    15.0
    >>> plan.expected_polls(plan.gap) <= 0.95 * plan.docs_polls()
    True
    """

    model: DurationModel
    #: the server's time unit against the docs' (window length / one minute, at most 1)
    scale: float = 1.0
    _gap: float = 0.0
    _first: float = 0.0
    _late: float = 0.0
    _planned_at: int = field(default=-1)

    def next_age(self, polls: int, elapsed: float) -> float:
        """Age at which a job polled ``polls`` times, now ``elapsed`` old, is next due."""
        if not self.model.known:
            return max(docs_age(polls, self.scale), elapsed + 0.02 * self.scale)
        self._plan()
        if elapsed < self._first:
            return self._first
        if elapsed < self._late:
            steps = int((elapsed - self._first) // self._gap) + 1
            return self._first + steps * self._gap
        # past every duration seen: late, so wait longer each time (the docs' way)
        late_by = elapsed - self._late
        wait = min(max(self._gap, (DOCS_GROWTH - 1.0) * late_by), DOCS_CAP_S * self.scale)
        return elapsed + max(wait, 0.02 * self.scale)

    @property
    def gap(self) -> float:
        """The spacing between a job's polls once durations are known."""
        self._plan()
        return self._gap

    def _plan(self) -> None:
        samples = self.model.samples
        # replanned as the observations grow (by a tenth), not on every poll
        if self._planned_at >= 0 and samples <= self._planned_at * 1.1:
            return
        self._planned_at = samples
        model = self.model
        self._first = model.quantile(FIRST_POLL_QUANTILE)
        self._late = max(model.quantile(0.99), self._first)
        target = POLL_SHARE * self.docs_polls()
        low, high = self._late / 100, DOCS_CAP_S * self.scale
        if self.expected_polls(high) > target:
            self._gap = high
            return
        for _ in range(25):  # bisection: expected polls fall as the spacing grows
            mid = (low + high) / 2
            if self.expected_polls(mid) > target:
                low = mid
            else:
                high = mid
        self._gap = high

    def _horizon(self) -> float:
        return 2.0 * max(self.model.quantile(0.99), self._first, 1e-3)

    def docs_polls(self) -> float:
        """Expected polls per job of the docs' schedule, under the observed durations."""
        ages, k = [], 0
        horizon = self._horizon()
        while (age := docs_age(k, self.scale)) < horizon and k < 200:
            ages.append(age)
            k += 1
        return self._expected(ages)

    def expected_polls(self, gap: float) -> float:
        """Expected polls per job with the first at the plan's first age, then every ``gap``
        seconds (only within the horizon both schedules are compared on)."""
        first = self.model.quantile(FIRST_POLL_QUANTILE)
        horizon = self._horizon()
        count = min(int((horizon - first) / gap) + 1, 1000) if horizon > first else 1
        return self._expected([first + j * gap for j in range(count)])

    def _expected(self, ages: list[float]) -> float:
        # the first poll is always sent; each later one only if the job was not done at
        # the poll before it
        share_done = self.model.share_done
        return 1.0 + sum(1.0 - share_done(age) for age in ages[:-1])
