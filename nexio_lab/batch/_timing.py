"""When to poll: a small model of processing times, learned from the batch itself.

Every poll is one request of the key's budget, so a job is polled when it has probably
finished, not every few seconds. What a poll teaches is censored: "running" says the job
takes longer than its age, "done" that it took at most its age. The model is the
Kaplan-Meier estimate over those observations: jobs still running count as censored, so the
quick finishers seen first do not make every job look quick, and a "done" counts at the age
it was seen, which errs late (towards fewer polls). Until a few jobs have been seen done,
jobs are polled on a fast geometric schedule (cheap learning while the budget is spare:
while submissions wait for slots, the engine sends no poll at all); afterwards a job is
polled at increasing quantiles.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass, field

__all__ = ["DurationModel"]

#: Before anything is known: first poll this long after submission, then x GROWTH.
EXPLORE_FIRST_S = 1.0
GROWTH = 1.5
#: The docs' typical processing time (15-60 s): the guess before any sample exists.
DOCUMENTED_MIN_S = 15.0
#: Quantiles of processing times at which the k-th poll of a job falls.
POLL_QUANTILES = (0.6, 0.85, 0.95, 0.99)
MIN_SAMPLES = 3
#: Below this many jobs at risk, the tail of the estimate is noise (one done job among no
#: running ones says "100% done"), so a quantile found there is not trusted.
MIN_AT_RISK = 3


@dataclass
class DurationModel:
    """Processing times (seconds from the 202 to done), learned from polls and webhooks.

    >>> m = DurationModel()
    >>> for age in range(1, 10):
    ...     m.finished(float(age))
    >>> m.running(0.0, 12.0)          # a tenth job, still running at 12 s
    >>> m.quantile(0.5), round(m.share_done(3.0), 2)
    (5.0, 0.3)
    """

    _done: list[float] = field(default_factory=list)  # ages at which jobs were seen done
    _open: list[float] = field(default_factory=list)  # per open job, the last age seen running
    _running_polls: list[float] = field(default_factory=list)  # every "running" poll's age
    _version: int = 0
    _table_version: int = -1
    _table: list[tuple[float, float, int]] = field(default_factory=list)  # age, share, at risk
    _shares: list[float] = field(default_factory=list)  # the table's shares, for bisection

    @property
    def samples(self) -> int:
        """How many jobs were seen done."""
        return len(self._done)

    @property
    def known(self) -> bool:
        return len(self._done) >= MIN_SAMPLES

    def running(self, previous: float, age: float) -> None:
        """A job was seen running at ``age``; ``previous`` is its last such age (0: none)."""
        self._forget(previous)
        bisect.insort(self._open, age)
        bisect.insort(self._running_polls, age)
        self._version += 1

    def finished(self, age: float, previous: float = 0.0) -> None:
        """A job last seen running at ``previous`` was seen done at ``age``."""
        self._forget(previous)
        bisect.insort(self._done, max(age, 0.0))
        self._version += 1

    def _forget(self, previous: float) -> None:
        if previous > 0:
            index = bisect.bisect_left(self._open, previous)
            if index < len(self._open) and self._open[index] == previous:
                del self._open[index]

    def _curve(self) -> list[tuple[float, float, int]]:
        """The Kaplan-Meier share done at each age a job was seen done, rebuilt when the
        observations changed by more than about 2% (it is O(n) to build)."""
        stale = self._version - self._table_version
        if self._table_version >= 0 and stale <= len(self._done) // 50:
            return self._table
        done, still_open = self._done, self._open
        surviving, curve, i = 1.0, [], 0
        while i < len(done):
            age = done[i]
            j = bisect.bisect_right(done, age, i)
            at_risk = (len(done) - i) + (len(still_open) - bisect.bisect_left(still_open, age))
            surviving *= 1.0 - (j - i) / at_risk
            curve.append((age, 1.0 - surviving, at_risk))
            i = j
        self._table, self._table_version = curve, self._version
        self._shares = [share for _, share, _ in curve]  # never falling: bisectable
        return curve

    def hit_rate(self, age: float) -> float:
        """Share of polls at ages up to ``age`` that found the job done. Under a binding
        budget polls come late and nearly all hit, while processing times stay unseen (a
        hit only bounds them): then this, not the estimate above, says a poll is safe."""
        hits = bisect.bisect_right(self._done, age)
        misses = bisect.bisect_right(self._running_polls, age)
        return hits / (hits + misses) if hits >= MIN_SAMPLES else 0.0

    def share_done(self, age: float) -> float:
        """Estimated share of jobs done by ``age``; where too few jobs were followed that
        far, the last trustworthy share (an underestimate, so polls err late)."""
        curve = self._curve()
        index = bisect.bisect_right(curve, (age, 2.0, 0)) - 1
        while index >= 0 and curve[index][2] < MIN_AT_RISK:
            index -= 1
        return curve[index][1] if index >= 0 else 0.0

    def quantile(self, q: float) -> float:
        """The age by which a share ``q`` of jobs is done (beyond all seen when unknown)."""
        curve = self._curve()
        if not curve:
            return DOCUMENTED_MIN_S
        # the engine asks this on every dispatch: bisect, not a scan of every age seen
        index = bisect.bisect_left(self._shares, q - 1e-9)
        if index < len(curve) and curve[index][2] >= MIN_AT_RISK:
            return curve[index][0]
        # jobs still run past every completion seen: look further out
        return max(curve[-1][0], self._open[-1] if self._open else 0.0) * GROWTH

    def next_poll_after(self, polls: int, elapsed: float) -> float:
        """Seconds after submission at which a job polled ``polls`` times is next due."""
        if self.known:
            if polls < len(POLL_QUANTILES):
                due = self.quantile(POLL_QUANTILES[polls])
            else:
                due = self.quantile(0.99) * GROWTH ** (polls - len(POLL_QUANTILES) + 1)
        else:
            due = EXPLORE_FIRST_S * GROWTH**polls
        # never re-poll a job sooner than a tenth of its age: bounds polls per job
        return max(due, elapsed * 1.1, elapsed + 0.02)
