"""When to poll: a small model of processing times, learned from the batch itself.

Every poll is one request of the key's budget, so a job is polled when it has probably
finished, not every few seconds. Until the batch has seen jobs finish, the first jobs are
polled on a fast geometric schedule (cheap learning while the budget is spare); afterwards a
job is polled at increasing quantiles of the observed durations.
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
#: Quantiles of observed durations at which the k-th poll of a job falls.
POLL_QUANTILES = (0.6, 0.85, 0.95, 0.99)
MIN_SAMPLES = 3


@dataclass
class DurationModel:
    """Processing-time samples (seconds from the 202 to seeing the job done).

    >>> m = DurationModel()
    >>> for d in (2.0, 3.0, 4.0): m.observe(d - 0.5, d)
    >>> round(m.quantile(0.5), 2)
    2.5
    """

    _samples: list[float] = field(default_factory=list)

    @property
    def known(self) -> bool:
        return len(self._samples) >= MIN_SAMPLES

    def observe(self, lower: float, upper: float) -> None:
        """A job was seen done ``upper`` s after submission, not done at ``lower`` s."""
        upper = max(upper, 0.0)
        lower = min(max(lower, 0.0), upper)
        # the midpoint of a tight interval; a wide one (first poll already done) is an
        # upper bound, which errs towards fewer polls
        estimate = (lower + upper) / 2 if lower > 0.5 * upper else upper
        bisect.insort(self._samples, estimate)

    def exact(self, duration: float) -> None:
        """A duration known exactly (a webhook arrived)."""
        bisect.insort(self._samples, max(duration, 0.0))

    def quantile(self, q: float) -> float:
        samples = self._samples
        if not samples:
            return DOCUMENTED_MIN_S
        position = q * (len(samples) - 1)
        low = int(position)
        high = min(low + 1, len(samples) - 1)
        return samples[low] + (samples[high] - samples[low]) * (position - low)

    def next_poll_after(self, polls: int, elapsed: float) -> float:
        """Seconds after submission at which a job polled ``polls`` times is next due."""
        if self.known:
            if polls < len(POLL_QUANTILES):
                due = self.quantile(POLL_QUANTILES[polls])
            else:
                due = self.quantile(1.0) * GROWTH ** (polls - len(POLL_QUANTILES) + 1)
        else:
            due = EXPLORE_FIRST_S * GROWTH**polls
        # never re-poll a job sooner than a tenth of its age: bounds polls per job
        return max(due, elapsed * 1.1, elapsed + 0.02)
