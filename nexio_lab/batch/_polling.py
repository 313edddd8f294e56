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

import math
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
#: Durations seen before they place the polls (a few quick finishers say little).
PLAN_SAMPLES = 20
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
class _Plan:
    first: float  # age of the first planned poll
    gap: float  # then every `gap` seconds...
    late: float  # ...until this age; past it, the docs' own poll ages


@dataclass
class PolitePlan:
    """Where a job's polls go under the polite policy.

    A job that was already being polled by the docs' schedule when the durations became
    known (``since``: its age then) gets a plan for the rest of its life that expects no
    more polls than the docs' schedule would still send it.

    >>> plan = PolitePlan(DurationModel())
    >>> plan.next_age(polls=0, elapsed=0.0)       # nothing observed: the docs' first poll
    2.0
    >>> m = DurationModel()
    >>> for age in range(15, 61, 2):
    ...     m.finished(float(age))
    >>> plan = PolitePlan(m)
    >>> plan.next_age(polls=0, elapsed=0.0)       # the first tenth of jobs is done by then
    19.0
    >>> plan.expected_polls(0.0, plan.gap(0.0)) <= 0.95 * plan.docs_polls(0.0)
    True
    """

    model: DurationModel
    #: the server's time unit against the docs' (window length / one minute, at most 1)
    scale: float = 1.0
    _plans: dict[int, _Plan] = field(default_factory=dict)
    _planned_at: int = -1

    def next_age(
        self, polls: int, elapsed: float, since: float = 0.0, last: float | None = None
    ) -> float:
        """Age at which a job polled ``polls`` times, now ``elapsed`` old, is next due;
        ``since``: its age when the durations became known (0: submitted after); ``last``:
        the age of its last poll (None: none yet). A due age already past means now."""
        tick = 0.02 * self.scale
        after = -1.0 if last is None else last + tick  # never twice at the same age
        if not self.planned:
            return max(docs_age(polls, self.scale), elapsed)
        plan = self._plan(since)
        if after < plan.first:
            return max(plan.first, elapsed)
        if after < plan.late:
            steps = math.floor((after - plan.first) / plan.gap) + 1
            due = plan.first + steps * plan.gap
            if due < after + 0.5 * plan.gap:  # answered right on its planned age
                due += plan.gap
            return max(due, elapsed) if due < plan.late else self._docs_after(after, elapsed)
        return self._docs_after(after, elapsed)

    def _docs_after(self, after: float, elapsed: float) -> float:
        # past every duration seen, the job is late: the docs' own ages (ever longer waits)
        k = 0
        while docs_age(k, self.scale) <= after:
            k += 1
        return max(docs_age(k, self.scale), elapsed)

    @property
    def planned(self) -> bool:
        """Enough durations were seen to place polls by them (until then: the docs')."""
        return self.model.samples >= PLAN_SAMPLES

    def gap(self, since: float = 0.0) -> float:
        """The spacing between a job's planned polls."""
        return self._plan(since).gap

    def _plan(self, since: float) -> _Plan:
        model = self.model
        samples = model.samples
        # replanned as the observations grow (by a tenth), not on every poll
        if self._planned_at < 0 or samples > self._planned_at * 1.1:
            self._plans.clear()
            self._planned_at = samples
        # jobs whose ages at the switch are close share a plan
        unit = max(0.05 * model.quantile(0.5), 1e-6)
        key = round(since / unit)
        plan = self._plans.get(key)
        if plan is None:
            plan = self._plans[key] = self._make(key * unit)
        return plan

    def _make(self, since: float) -> _Plan:
        model = self.model
        first = max(model.quantile(FIRST_POLL_QUANTILE), since)
        late = max(model.quantile(0.99), first)
        target = POLL_SHARE * self.docs_polls(since)
        low, high = max(late - first, late) / 200, DOCS_CAP_S * self.scale
        if self.expected_polls(since, high) > target:
            # no spacing beats the docs' schedule here (too few polls left to place): keep it
            return _Plan(since, high, since)
        for _ in range(25):  # bisection: expected polls fall as the spacing grows
            mid = (low + high) / 2
            if self.expected_polls(since, mid) > target:
                low = mid
            else:
                high = mid
        return _Plan(first, high, late)

    def _horizon(self) -> float:
        return 2.0 * max(self.model.quantile(0.99), 1e-3)

    def _docs_ages(self, since: float, until: float) -> list[float]:
        ages, k = [], 0
        while (age := docs_age(k, self.scale)) < until and k < 200:
            if age >= since:
                ages.append(age)
            k += 1
        return ages

    def docs_polls(self, since: float) -> float:
        """Expected polls of the docs' schedule after age ``since``, per job still running
        then, under the observed durations (up to twice the longest)."""
        return self._expected(self._docs_ages(since, self._horizon()), since)

    def expected_polls(self, since: float, gap: float) -> float:
        """The same for the plan: from its first age, every ``gap`` s, then the docs'."""
        model = self.model
        first = max(model.quantile(FIRST_POLL_QUANTILE), since)
        late = max(model.quantile(0.99), first)
        count = min(int((late - first) / gap) + 1, 1000) if late > first else 1
        ages = [first + j * gap for j in range(count)]
        ages += self._docs_ages(ages[-1] + 1e-9, self._horizon())
        return self._expected(ages, since)

    def _expected(self, ages: list[float], since: float) -> float:
        # the first poll is always sent; each later one only if the job was not done at
        # the poll before it (all given that it still ran at `since`)
        share_done = self.model.share_done
        alive = max(1.0 - share_done(since), 1e-9) if since > 0 else 1.0
        return 1.0 + sum(max(0.0, 1.0 - share_done(age)) / alive for age in ages[:-1])
