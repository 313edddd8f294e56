"""What a running batch exposes about itself: one immutable snapshot, no UI knowledge.

Front-ends (``nexio_lab.progress``) render snapshots; the engine produces them.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .._status import BATCH_STATUSES, FINISHED

__all__ = ["BATCH_STATUSES", "FINISHED_STATUSES", "BatchProgress"]

#: Statuses after which a row needs nothing more in this run.
FINISHED_STATUSES = FINISHED


@dataclass(frozen=True, slots=True)
class BatchProgress:
    """A snapshot of a batch's progress.

    >>> p = BatchProgress(name="demo", total=4, counts={"completed": 1, "pending": 3})
    >>> p.done, round(p.fraction, 2)
    (1, 0.25)
    """

    name: str
    total: int
    counts: dict[str, int] = field(default_factory=dict)
    #: Requests left in the current rate-limit window and the window's size, when known.
    budget_remaining: int | None = None
    budget_limit: int | None = None
    #: Seconds until the window resets, when known.
    reset_in_s: float | None = None
    elapsed_s: float = 0.0
    #: Finished rows per second over the recent past.
    throughput_per_s: float | None = None
    eta_s: float | None = None
    requests: int = 0
    polls: int = 0
    rate_limited: int = 0
    last_error: str | None = None
    #: True once the batch stopped (finished, cancelled or stopped by an error).
    finished: bool = False
    #: Why it stopped early, when it did (e.g. an invalid key).
    stopped_reason: str | None = None

    @property
    def done(self) -> int:
        """Rows that need nothing more in this run."""
        return sum(self.counts.get(s, 0) for s in FINISHED_STATUSES)

    @property
    def fraction(self) -> float:
        """Share of rows done, 0.0 to 1.0 (1.0 for an empty batch)."""
        return self.done / self.total if self.total else 1.0

    @property
    def ok(self) -> bool:
        """True when every row completed or failed at the API, and nothing stopped the batch."""
        bad = self.counts.get("error", 0) + self.counts.get("uncertain", 0)
        return self.finished and bad == 0 and self.done == self.total and not self.stopped_reason

    def count(self, status: str) -> int:
        """Rows in ``status`` (0 when none)."""
        return self.counts.get(status, 0)
