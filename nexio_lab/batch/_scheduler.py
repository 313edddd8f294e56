"""When each submitted job is polled: a heap of due times and the decisions around it.

The scheduler knows nothing of HTTP or the journal. It reads the key's budget through the
small :class:`~nexio_lab._limiter.Budget` interface and time through an injected clock, so
every decision can be unit-tested on a fake clock without a server.

Polls are timed by :class:`~._timing.DurationModel`. The polite policy (the default, see
:mod:`._polling`) polls a job only when it has a fair chance of being done, or is late. The
eager policy also spends spare budget for latency: a job probably done is polled at once; a
guess is paced over the rate-limit window, and may use budget the window would otherwise
lose at its reset. With webhooks, results come to us: a job is polled only when overdue.
"""

from __future__ import annotations

import heapq
import time
from collections.abc import Callable
from dataclasses import dataclass

from .._limiter import Budget
from .._status import IN_FLIGHT
from ._polling import DOCS_WINDOW_S, PolitePlan, PollPolicy
from ._timing import DurationModel

__all__ = ["Job", "PollScheduler"]


@dataclass(eq=False)
class Job:
    """The engine's view of one (row, pool); the journal holds the rest."""

    row: int
    pool: str
    profile: str | None  # JSON text, kept only until submitted
    status: str
    eval_id: str | None = None
    submitted: float = 0.0  # clock time of the 202
    polls: int = 0
    last_not_done: float = 0.0  # seconds after submission of the last "not done" poll
    last_polled: float = 0.0  # clock time of the last poll
    due: float = 0.0
    attempts: int = 0
    copies: int = 1  # the row and its identical duplicates, which share its evaluation


class PollScheduler:
    """Which submitted job to poll next, and when.

    ``submissions_waiting`` tells whether rows still wait to be submitted: while they do,
    submissions take every slot, so no poll is sent ahead of its time.

    >>> class Unlimited:
    ...     def available(self): return None
    ...     def seconds_to_reset(self): return None
    >>> now = [100.0]
    >>> s = PollScheduler(Unlimited(), DurationModel(), clock=lambda: now[0])
    >>> job = Job(0, "carriers:all", None, "queued", eval_id="e1", submitted=100.0)
    >>> s.track(job)
    >>> s.seconds_to_next_poll()        # first poll: the docs' advice, 2 s after submission
    2.0
    >>> now[0] = 102.0
    >>> s.take() is job
    True
    """

    def __init__(
        self,
        budget: Budget,
        model: DurationModel,
        *,
        webhooks: bool = False,
        submissions_waiting: Callable[[], bool] = lambda: False,
        clock: Callable[[], float] = time.monotonic,
        policy: PollPolicy = "polite",
        window: Callable[[], float | None] = lambda: None,
    ) -> None:
        if policy not in ("polite", "eager"):
            raise ValueError(f"poll must be 'polite' or 'eager', not {policy!r}")
        self.budget = budget
        self.model = model
        self.policy = policy
        self._window = window  # the server's window length, for the docs' time unit
        self._plan = PolitePlan(model)
        self._known_at: float | None = None  # when the durations became known
        self.webhooks = webhooks
        self._submissions_waiting = submissions_waiting
        self.clock = clock
        #: jobs waiting for their result, by eval_id
        self.jobs: dict[str, Job] = {}
        self._heap: list[tuple[float, int, Job]] = []  # (due, seq, job)
        self._seq = 0
        self._next_poll_at = 0.0

    # -- jobs in and out ---------------------------------------------------------------------

    def track(self, job: Job, due: float | None = None) -> None:
        """(Re)schedule a submitted job's next poll: at ``due``, or as the model says."""
        assert job.eval_id is not None
        self.jobs[job.eval_id] = job
        now = self.clock()
        if due is None:
            elapsed = now - job.submitted
            if self.policy == "polite":
                self._plan.scale = self._time_unit()
                if self._plan.planned and self._known_at is None:
                    self._known_at = now
                since = max(0.0, (self._known_at or now) - job.submitted)
                last = job.last_polled - job.submitted if job.polls else None
                after = self._plan.next_age(job.polls, elapsed, since, last)
            else:
                after = self.model.next_poll_after(job.polls, elapsed)
            if self.webhooks:
                # results come by webhook; poll only when one is overdue, with slack for
                # delivery delays and retries
                slowest = self.model.quantile(0.99)
                after = max(after, 2 * slowest, slowest + 10.0) if self.model.known else 120.0
            due = job.submitted + after
            gap = None if self.webhooks or self.policy == "polite" else self._spare_gap()
            if gap is not None:
                due = min(due, now + gap)
        job.due = due
        self._seq += 1
        heapq.heappush(self._heap, (due, self._seq, job))

    def forget(self, job: Job) -> None:
        """The job needs no more polls (done, or given up)."""
        if job.eval_id:
            self.jobs.pop(job.eval_id, None)

    def reschedule_all(self) -> None:
        """The model just learned enough: retime every job still waiting for a poll."""
        jobs = [job for _, _, job in self._heap if job.status in IN_FLIGHT]
        self._heap.clear()
        for job in {id(j): j for j in jobs}.values():
            self.track(job)

    # -- decisions -----------------------------------------------------------------------------

    def seconds_to_next_poll(self) -> float | None:
        """When the likeliest-done job may be polled; None when no job awaits a poll."""
        now = self.clock()
        while self._heap and self._is_stale(*self._heap[0]):
            heapq.heappop(self._heap)
        if not self._heap:
            return None  # only requests in flight: wait for their answers
        due, _, job = self._heap[0]
        if self.policy == "polite":
            wait = due - now  # spare budget buys nothing here
            return 0.0 if wait <= 1e-3 else wait
        if self.probably_done(job, now):
            return 0.0  # whatever its planned time: it is worth a poll now
        # polls on a guess are spread over the window, not sent in a burst at its start; one
        # sent ahead of its time never follows the job's last poll by less than a tenth of
        # its age (spare budget, not a polling storm)
        spaced = job.last_polled + 0.1 * (now - job.submitted) if job.polls else 0.0
        early = max(due - self._horizon(now), spaced - now)
        wait = max(min(due - now, early), self._next_poll_at - now)
        return 0.0 if wait <= 1e-3 else wait  # a job due right at the reset may go too

    def take(self) -> Job | None:
        """The job to poll now (removed from the heap), or None when none is due."""
        if self.seconds_to_next_poll() != 0.0:
            return None
        now = self.clock()
        _, _, job = heapq.heappop(self._heap)
        if self.policy == "eager" and not self.probably_done(job, now):
            rate = self._spare_budget_rate()
            self._next_poll_at = now + (1.0 / rate if rate else 0.0)
        return job

    def probably_done(self, job: Job, now: float) -> bool:
        """A poll worth sending at once: the job is older than 95% of processing times seen
        and was not yet seen running at such an age (one that outlived the estimate gives
        no reason to hurry), or polls at its age or younger have nearly all found jobs done."""
        model = self.model
        if not model.known or self.webhooks:
            return False  # with webhooks, results come to us; only overdue jobs are polled
        age = now - job.submitted
        if not job.last_not_done and model.hit_rate(age) >= 0.95:
            return True
        return age >= model.quantile(0.95) > job.last_not_done

    def _time_unit(self) -> float:
        """The docs' advice is given with a per-minute window: on a server with a shorter
        window (a sped-up sandbox), its times shrink alike; they never grow."""
        window = self._window()
        return min(1.0, window / DOCS_WINDOW_S) if window else 1.0

    def _horizon(self, now: float) -> float:
        """Polls due before this time may go now. Budget left at the window's reset is
        lost, so while nothing waits to be submitted, a poll due before the reset may be
        sent ahead of time, paced, the likeliest first."""
        to_reset = self.budget.seconds_to_reset()
        if self.webhooks or self._submissions_waiting() or to_reset is None:
            return now  # webhooks bring results: a poll ahead of time is pure waste
        return now + to_reset if self.budget.available() else now

    def _spare_budget_rate(self) -> float | None:
        """Requests per second the rest of this window allows, when nothing waits to be
        submitted (else None: submissions take every slot)."""
        if self._submissions_waiting():
            return None
        available = self.budget.available()
        to_reset = self.budget.seconds_to_reset()
        if available is None or to_reset is None:
            return None
        return available / max(to_reset, 0.05)

    def _spare_gap(self) -> float | None:
        """How often every open job can be polled with the budget that is left: spare
        budget buys lower latency, and is worth nothing once the window resets."""
        rate = self._spare_budget_rate()
        to_reset = self.budget.seconds_to_reset()
        if not rate or to_reset is None:
            return None
        # budget left at the reset is lost: never plan past it
        return max(min(len(self.jobs) / rate, to_reset), 0.02)

    @staticmethod
    def _is_stale(due: float, _seq: int, job: Job) -> bool:
        """A heap entry superseded by a reschedule, or for a job that is done."""
        return job.due != due or job.status not in IN_FLIGHT
