"""When to poll: a small model of processing times, learned from the batch itself.

Every poll is one request of the key's budget, so a job is polled when it has probably
finished, not every few seconds. What a poll teaches is censored: "done" says the job took
at most its age, "not done" says it takes longer. The model keeps both, and estimates the
share of jobs done by age ``t`` from the jobs whose state at ``t`` is known:
``F(t) = #(seen done by t) / (#(seen done by t) + #(seen running at t or later))``.
Until a few jobs have been seen done, jobs are polled on a fast geometric schedule (cheap
learning while the budget is spare: while submissions wait for slots, the engine sends no
poll at all); afterwards a job is polled at increasing quantiles of ``F``.
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


@dataclass
class DurationModel:
    """Processing times (seconds from the 202 to done), learned from polls and webhooks.

    >>> m = DurationModel()
    >>> for age in (1.0, 2.0, 3.0):
    ...     m.running(0.0, age - 0.5)   # polled at age - 0.5: still running
    ...     m.finished(age)             # polled at age: done
    >>> m.quantile(0.5)
    2.0
    """

    _done: list[float] = field(default_factory=list)  # ages at which jobs were seen done
    _running: list[float] = field(default_factory=list)  # per job, the last age seen running

    @property
    def known(self) -> bool:
        return len(self._done) >= MIN_SAMPLES

    def running(self, previous: float, age: float) -> None:
        """A job was seen running at ``age``; ``previous`` is its last such age (0: none)."""
        if previous > 0:
            index = bisect.bisect_left(self._running, previous)
            if index < len(self._running) and self._running[index] == previous:
                del self._running[index]
        bisect.insort(self._running, age)

    def finished(self, age: float) -> None:
        """A job was seen done at ``age`` (it may have finished any time before)."""
        bisect.insort(self._done, max(age, 0.0))

    def share_done(self, age: float) -> float:
        """Estimated share of jobs done by ``age`` (0 where nothing is known)."""
        done = bisect.bisect_right(self._done, age)
        running = len(self._running) - bisect.bisect_left(self._running, age)
        return done / (done + running) if done + running else 0.0

    def quantile(self, q: float) -> float:
        """The age by which a share ``q`` of jobs is done (beyond all seen when unknown)."""
        done = self._done
        if not done:
            return DOCUMENTED_MIN_S
        low, high = 0, len(done) - 1
        if self.share_done(done[high]) < q:
            # jobs still run past every completion seen: look further out
            return max(done[high], self._running[-1] if self._running else 0.0) * GROWTH
        while low < high:  # the share only rises at ages where jobs were seen done
            middle = (low + high) // 2
            if self.share_done(done[middle]) >= q:
                high = middle
            else:
                low = middle + 1
        return done[low]

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
