"""The batch engine: every (profile, pool) of a batch tracked concurrently within one budget.

One dispatcher decides what the next request slot is worth: a submission while any wait
(the budget binds, so polls would only delay them), else the poll of the job likeliest to be
done. Polls are timed by :class:`~._timing.DurationModel`: a job probably done is polled at
once; a guess is paced over the rate-limit window, and may use budget the window would
otherwise lose at its reset. Requests run as tasks; their outcomes are journaled before
anything else happens, so a crash at any point loses nothing.
"""

from __future__ import annotations

import asyncio
import contextlib
import heapq
import json
import logging
import time
from collections import Counter, deque
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from .._exceptions import (
    APIConnectionError,
    APIError,
    AuthenticationError,
    BadRequestError,
    NotFoundError,
    PermissionDeniedError,
    ProfileError,
    SubmissionUncertainError,
    UnprocessableEntityError,
)
from .._models import Evaluation
from ._journal import Journal
from ._progress import BatchProgress
from ._timing import DurationModel

if TYPE_CHECKING:
    from .._client import AsyncClient

__all__ = ["Engine"]

logger = logging.getLogger("nexio_lab.batch")

#: Consecutive connection failures (after the client's own retries) that stop the batch.
MAX_CONNECTION_FAILURES = 5
#: How long in-flight requests may finish after a cancel, so their answers are journaled.
CANCEL_GRACE_S = 10.0


@dataclass(eq=False)
class Job:
    """The engine's view of one (row, pool); the journal holds the rest."""

    row: int
    pool: str
    profile: str | None  # JSON text, kept only until submitted
    status: str
    eval_id: str | None = None
    submitted: float = 0.0  # monotonic time of the 202
    polls: int = 0
    last_not_done: float = 0.0  # seconds after submission of the last "not done" poll
    last_polled: float = 0.0  # monotonic time of the last poll
    due: float = 0.0
    attempts: int = 0
    copies: int = 1  # the row and its identical duplicates, which share its evaluation


@dataclass
class EngineStats:
    requests: int = 0
    submissions: int = 0
    polls: int = 0
    webhooks: int = 0
    counts: Counter[str] = field(default_factory=Counter)


class Engine:
    """Runs one batch to the end on the current event loop (see :meth:`run`)."""

    def __init__(
        self,
        client: AsyncClient,
        journal: Journal,
        name: str,
        *,
        webhook_url: str | None = None,
        deadline_s: float = 900.0,
        concurrency: int = 64,
    ) -> None:
        self.client = client
        self.journal = journal
        self.name = name
        self.webhook_url = webhook_url
        self.deadline_s = deadline_s
        self.model = DurationModel()
        self.stats = EngineStats()
        self.started = time.monotonic()
        self.finished = False
        self.stopped_reason: str | None = None
        self.last_error: str | None = None
        self._pending: deque[Job] = deque()
        self._heap: list[tuple[float, int, Job]] = []  # (due, seq, job) of submitted jobs
        self._by_eval: dict[str, Job] = {}
        self._seq = 0
        self._next_poll_at = 0.0
        self._tasks: set[asyncio.Task[None]] = set()
        self._wake = asyncio.Event()
        self._stopping = False
        self._dead_pools: dict[str, str] = {}
        self._connection_failures = 0
        self._finish_times: deque[float] = deque(maxlen=200)
        self._semaphore = asyncio.Semaphore(concurrency)

    # -- setup ---------------------------------------------------------------------------------

    def load(self, *, resubmit_uncertain: bool) -> None:
        """Take the unfinished rows from the journal (after a crash, too)."""
        self.journal.crashed_to_uncertain(self.name)
        counts = self.journal.status_counts(self.name)
        self.total = sum(counts.values())
        self.stats.counts.update(counts)
        now = time.monotonic()
        for row, pool, profile, status, eval_id, polls, copies in self.journal.open_rows(self.name):
            job = Job(row, pool, profile, status, eval_id, polls=polls, copies=copies)
            if eval_id:  # resumed: poll it now, the clock before the restart is unknown
                job.submitted = now
                self._track(job, due=now)
            elif status == "pending":
                self._pending.append(job)
            elif status == "uncertain" and resubmit_uncertain:
                self._move(job, "pending")
                self._pending.append(job)

    # -- the run -------------------------------------------------------------------------------

    async def run(self) -> None:
        """Dispatch until every row finished, the batch was stopped, or it was cancelled."""
        try:
            await self._dispatch()
            await self._drain()
        except asyncio.CancelledError:
            self._stopping = True
            self.stopped_reason = self.stopped_reason or "cancelled"
            await self._drain(timeout=CANCEL_GRACE_S)
            raise
        finally:
            for task in self._tasks:
                task.cancel()
            self.finished = True

    def stop(self, reason: str) -> None:
        """Stop sending submissions and polls; rows keep their journaled state."""
        if not self._stopping:
            logger.warning("batch %s stopped: %s", self.name, reason)
        self._stopping = True
        self.stopped_reason = self.stopped_reason or reason
        self._wake.set()

    async def _drain(self, timeout: float | None = None) -> None:
        if self._tasks:
            await asyncio.wait(set(self._tasks), timeout=timeout)

    def _has_work(self) -> bool:
        return bool(self._pending or self._by_eval or self._tasks)

    async def _dispatch(self) -> None:
        limiter = self.client.limiter
        while not self._stopping and self._has_work():
            self._wake.clear()
            wait = self._seconds_to_next_action()
            if wait is None or wait > 0:
                # nothing to send now: sleep until a poll is due or something changes
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(wait):  # not wait_for: see _limiter._wait
                        await self._wake.wait()
                continue
            await self._semaphore.acquire()
            await limiter.acquire()
            action = None if self._stopping else self._take_action()
            if action is None:  # what was due was taken care of while we waited
                limiter.release(None)
                self._semaphore.release()
                continue
            self._spawn(action)

    def _seconds_to_next_action(self) -> float | None:
        if self._pending:
            return 0.0
        return self._seconds_to_next_poll(time.monotonic())

    def _seconds_to_next_poll(self, now: float) -> float | None:
        """When the likeliest-done job may be polled; None when no job awaits a poll."""
        while self._heap and self._is_stale(*self._heap[0]):
            heapq.heappop(self._heap)
        if not self._heap:
            return None  # only requests in flight: wait for their answers
        due, _, job = self._heap[0]
        if self._probably_done(job, now):
            return 0.0  # whatever its planned time: it is worth a poll now
        # polls on a guess are spread over the window, not sent in a burst at its start; one
        # sent ahead of its time never follows the job's last poll by less than a tenth of
        # its age (spare budget, not a polling storm)
        spaced = job.last_polled + 0.1 * (now - job.submitted) if job.polls else 0.0
        early = max(due - self._horizon(now), spaced - now)
        wait = max(min(due - now, early), self._next_poll_at - now)
        return 0.0 if wait <= 1e-3 else wait  # a job due right at the reset may go too

    def _horizon(self, now: float) -> float:
        """Polls due before this time may go now. Budget left at the window's reset is
        lost, so while nothing waits to be submitted, a poll due before the reset may be
        sent ahead of time, paced, the likeliest first."""
        to_reset = self.client.limiter.seconds_to_reset()
        if self.webhook_url or self._pending or to_reset is None:
            return now  # webhooks bring results: a poll ahead of time is pure waste
        return now + to_reset if self.client.limiter.available() else now

    def _probably_done(self, job: Job, now: float) -> bool:
        """A poll worth sending at once: the job is older than 95% of processing times seen
        and was not yet seen running at such an age (one that outlived the estimate gives
        no reason to hurry), or polls at its age or younger have nearly all found jobs done."""
        model = self.model
        if not model.known or self.webhook_url:
            return False  # with webhooks, results come to us; only overdue jobs are polled
        age = now - job.submitted
        if not job.last_not_done and model.hit_rate(age) >= 0.95:
            return True
        return age >= model.quantile(0.95) > job.last_not_done

    def _take_action(self) -> Any:
        while self._pending:
            job = self._pending.popleft()
            if job.pool in self._dead_pools:
                self._fail_dead_pool(job)
                continue
            return self._submit(job)
        now = time.monotonic()
        if self._seconds_to_next_poll(now) != 0.0:
            return None
        _, _, job = heapq.heappop(self._heap)
        if not self._probably_done(job, now):
            rate = self._spare_budget_rate()
            self._next_poll_at = now + (1.0 / rate if rate else 0.0)
        return self._poll(job)

    @staticmethod
    def _is_stale(due: float, _seq: int, job: Job) -> bool:
        """A heap entry superseded by a reschedule, or for a job that is done."""
        return job.due != due or job.status not in {"queued", "processing"}

    def _spawn(self, coro: Any) -> None:
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)

        def done(t: asyncio.Task[None]) -> None:
            self._tasks.discard(t)
            self._semaphore.release()
            self._wake.set()
            if not t.cancelled() and t.exception() is not None:
                exc = t.exception()
                self.last_error = f"{type(exc).__name__}: {exc}"
                self.stop(f"internal error: {self.last_error}")

        task.add_done_callback(done)

    # -- submissions ---------------------------------------------------------------------------

    async def _submit(self, job: Job) -> None:
        assert job.profile is not None
        profile = json.loads(job.profile)
        self.journal.mark_submitting(self.name, job.row, job.pool)  # before the request
        self._move(job, "submitting")
        self.stats.requests += 1
        self.stats.submissions += 1
        try:
            evaluation = await self.client._submit(
                profile, job.pool, self.webhook_url, slot_held=True
            )
        except SubmissionUncertainError as exc:
            self._finish(job, "uncertain", "uncertain", str(exc))
            return
        except UnprocessableEntityError as exc:
            self._dead_pools[job.pool] = exc.message
            self._finish(job, "error", exc.code or "unprocessable", exc.message)
            for other in [j for j in self._pending if j.pool == job.pool]:
                self._fail_dead_pool(other)
            self._pending = deque(j for j in self._pending if j.pool != job.pool)
            return
        except (AuthenticationError, PermissionDeniedError) as exc:
            self._back_to_pending(job)
            self.last_error = str(exc)
            self.stop(str(exc))
            return
        except (BadRequestError, ProfileError) as exc:
            code = getattr(exc, "code", None) or "invalid_profile"
            self._finish(job, "error", code, getattr(exc, "message", None) or str(exc))
            return
        except (APIConnectionError, APIError) as exc:
            # not created (the client only raises these when the server cannot have it)
            self._note_failure(exc)
            job.attempts += 1
            if job.attempts >= 3 and not isinstance(exc, APIConnectionError):
                self._finish(job, "error", getattr(exc, "code", None) or "api_error", str(exc))
            else:
                self._back_to_pending(job)
            return
        self._connection_failures = 0
        job.eval_id = evaluation.eval_id
        job.profile = None
        job.submitted = time.monotonic()
        status = evaluation.status if evaluation.status in {"queued", "processing"} else "queued"
        self.journal.mark_submitted(self.name, job.row, job.pool, evaluation.eval_id, status)
        self._move(job, status)
        self._track(job)

    def _back_to_pending(self, job: Job) -> None:
        self.journal.set_status(self.name, job.row, job.pool, "pending")
        self._move(job, "pending")
        self._pending.appendleft(job)

    def _fail_dead_pool(self, job: Job) -> None:
        reason = self._dead_pools[job.pool]
        self._finish(
            job,
            "error",
            "unknown_pool",
            f"pool {job.pool!r} was refused by the API (422): {reason}",
        )

    # -- polls -----------------------------------------------------------------------------------

    def _track(self, job: Job, due: float | None = None) -> None:
        assert job.eval_id is not None
        self._by_eval[job.eval_id] = job
        if due is None:
            elapsed = time.monotonic() - job.submitted
            after = self.model.next_poll_after(job.polls, elapsed)
            if self.webhook_url:
                # results come by webhook; poll only when one is overdue, with slack for
                # delivery delays and retries
                slowest = self.model.quantile(0.99)
                after = max(after, 2 * slowest, slowest + 10.0) if self.model.known else 120.0
            due = job.submitted + after
            gap = None if self.webhook_url else self._spare_gap()
            if gap is not None:
                due = min(due, time.monotonic() + gap)
        job.due = due
        self._seq += 1
        heapq.heappush(self._heap, (due, self._seq, job))

    def _spare_budget_rate(self) -> float | None:
        """Requests per second the rest of this window allows, when nothing waits to be
        submitted (else None: submissions take every slot)."""
        if self._pending:
            return None
        available = self.client.limiter.available()
        to_reset = self.client.limiter.seconds_to_reset()
        if available is None or to_reset is None:
            return None
        return available / max(to_reset, 0.05)

    def _spare_gap(self) -> float | None:
        """How often every open job can be polled with the budget that is left: spare
        budget buys lower latency, and is worth nothing once the window resets."""
        rate = self._spare_budget_rate()
        to_reset = self.client.limiter.seconds_to_reset()
        if not rate or to_reset is None:
            return None
        # budget left at the reset is lost: never plan past it
        return max(min(len(self._by_eval) / rate, to_reset), 0.02)

    def _reschedule_all(self) -> None:
        """The model just learned enough: retime every job still waiting for a poll."""
        jobs = [job for _, _, job in self._heap if job.status in {"queued", "processing"}]
        self._heap.clear()
        for job in {id(j): j for j in jobs}.values():
            self._track(job)

    async def _poll(self, job: Job) -> None:
        assert job.eval_id is not None
        self.stats.requests += 1
        self.stats.polls += 1
        job.polls += 1
        job.last_polled = time.monotonic()
        try:
            evaluation = await self.client._get(job.eval_id, slot_held=True)
        except NotFoundError as exc:
            self._finish(
                job,
                "error",
                exc.code or "not_found",
                f"the server no longer knows {job.eval_id} (was it restarted "
                f"without its database?): {exc.message}",
            )
            return
        except (AuthenticationError, PermissionDeniedError) as exc:
            self.last_error = str(exc)
            self._track(job, due=time.monotonic())
            self.stop(str(exc))
            return
        except (APIConnectionError, APIError) as exc:
            self._note_failure(exc)
            self._track(job, due=time.monotonic() + min(30.0, 2.0 * job.polls))
            return
        self._connection_failures = 0
        self.on_result(job, evaluation)

    def on_result(self, job: Job, evaluation: Evaluation) -> None:
        """An evaluation's state arrived, by a poll or by a webhook."""
        if job.status not in {"queued", "processing"}:
            return  # a late duplicate (webhooks may be delivered twice)
        elapsed = time.monotonic() - job.submitted
        if evaluation.is_done:
            was_known = self.model.known
            self.model.finished(elapsed, job.last_not_done)  # exact by webhook
            self.journal.record_result(
                self.name, job.row, job.pool, evaluation.status, dict(evaluation.raw), job.polls
            )
            self._move(job, evaluation.status)
            self._finish_times.append(time.monotonic())
            self._by_eval.pop(job.eval_id or "", None)
            if self.model.known and not was_known:
                self._reschedule_all()
            return
        self.model.running(job.last_not_done, elapsed)
        job.last_not_done = elapsed
        status = evaluation.status if evaluation.status == "processing" else job.status
        if elapsed > self.deadline_s:
            self._finish(
                job,
                "error",
                "deadline",
                f"still {evaluation.status!r} {elapsed:.0f} s after submission "
                f"(deadline {self.deadline_s:.0f} s); rerun the batch to poll it again",
            )
            return
        if status != job.status:
            self.journal.record_poll(self.name, job.row, job.pool, status, job.polls)
            self._move(job, status)
        self._track(job)

    def on_webhook(self, payload: dict[str, Any]) -> None:
        """A result delivered to the local receiver (deduplicated by eval_id)."""
        job = self._by_eval.get(str(payload.get("eval_id")))
        if job is None:
            return
        evaluation = Evaluation.from_json(payload)
        if evaluation.is_done:
            self.stats.webhooks += 1
            self.on_result(job, evaluation)
            self._wake.set()

    # -- bookkeeping -------------------------------------------------------------------------------

    def _note_failure(self, exc: Exception) -> None:
        self.last_error = f"{type(exc).__name__}: {exc}"
        if isinstance(exc, APIConnectionError):
            self._connection_failures += 1
            if self._connection_failures >= MAX_CONNECTION_FAILURES:
                self.stop(
                    f"{self._connection_failures} connection failures in a row "
                    f"(last: {exc}); check the network and rerun to resume"
                )

    def _move(self, job: Job, status: str) -> None:
        counts = self.stats.counts
        counts[job.status] -= job.copies
        counts[status] += job.copies
        job.status = status

    def _finish(self, job: Job, status: str, code: str | None, message: str | None) -> None:
        self.journal.set_status(
            self.name, job.row, job.pool, status, error_code=code, error_message=message
        )
        self._move(job, status)
        if status in {"error", "uncertain"}:
            self.last_error = f"row {job.row} ({job.pool}): {message}"
        self._finish_times.append(time.monotonic())
        if job.eval_id:
            self._by_eval.pop(job.eval_id, None)

    def progress(self) -> BatchProgress:
        """A snapshot of where the batch stands."""
        now = time.monotonic()
        counts = {s: n for s, n in self.stats.counts.items() if n > 0}
        # a row being sent is still pending until its 202 arrives
        if submitting := counts.pop("submitting", 0):
            counts["pending"] = counts.get("pending", 0) + submitting
        recent = [t for t in self._finish_times if now - t <= 30.0]
        throughput = None
        if len(recent) >= 2 and recent[-1] > recent[0]:
            throughput = (len(recent) - 1) / (now - recent[0])
        snapshot = BatchProgress(name=self.name, total=self.total, counts=counts)
        left = self.total - snapshot.done
        rate_limit = self.client.rate_limit
        reset_in = None
        if rate_limit and rate_limit.reset is not None:
            reset_in = max(0.0, rate_limit.reset - time.time())
        return BatchProgress(
            name=self.name,
            total=self.total,
            counts=counts,
            budget_remaining=self.client.limiter.available(),
            budget_limit=rate_limit.limit if rate_limit else None,
            reset_in_s=reset_in,
            elapsed_s=now - self.started,
            throughput_per_s=throughput,
            eta_s=left / throughput if throughput and left else (0.0 if not left else None),
            requests=self.stats.requests,
            polls=self.stats.polls,
            rate_limited=self.client.limiter.rate_limited,
            last_error=self.last_error,
            finished=self.finished,
            stopped_reason=self.stopped_reason,
        )
