from __future__ import annotations

from collections.abc import Iterator

import pytest

from nexio_lab.progress import BatchProgress


class FakeClock:
    """A clock the test moves by hand, so throttling is checked without timing."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


def _run_of(total: int = 10, *, errors: int = 0, name: str = "demo") -> Iterator[BatchProgress]:
    """Snapshots of a batch going from all pending to done, the last one finished."""
    for done in range(total + 1):
        bad = min(errors, done)
        yield BatchProgress(
            name=name,
            total=total,
            counts={
                "pending": max(total - done - 2, 0),
                "queued": min(2, total - done),
                "completed": done - bad,
                "error": bad,
            },
            budget_remaining=60 - done,
            budget_limit=60,
            reset_in_s=2.1,
            elapsed_s=float(done),
            throughput_per_s=1.0 if done else None,
            eta_s=float(total - done) if done else None,
            last_error="HTTP 422: bad profile" if bad else None,
            finished=done == total,
        )


@pytest.fixture
def run_of():
    """``run_of(total, errors=0)``: the snapshots of a whole batch, in order."""
    return _run_of
