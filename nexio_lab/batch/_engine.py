"""The batch engine: every (profile, pool) of a batch tracked concurrently within one budget.

One dispatcher takes a slot of the key's budget, then decides what it is worth: a submission
while any wait (the budget binds, so polls would only delay them), else the poll the
:class:`~._scheduler.PollScheduler` says is due. Requests go through the client's
:class:`~nexio_lab._transport.Transport` and run as tasks; every state change of a row is one
:meth:`Engine._move` (journal first, then counts), so a crash at any point loses nothing.

Whatever goes wrong, the engine ends: an error it cannot handle (a journal that cannot be
written, a refused key, a bug) stops the batch, gives back every slot, leaves each row in a
state that says the truth, and is raised to whoever waits for the batch.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections import Counter, deque
from collections.abc import Coroutine
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
from .._limiter import Slot
from .._models import Evaluation
from .._status import IN_FLIGHT, Status
from ..progress import BatchProgress
from ._journal import Journal
from ._polling import PollPolicy
from ._scheduler import Job, PollScheduler
from ._timing import DurationModel

if TYPE_CHECKING:
    from .._transport import Transport

__all__ = ["Engine", "Job"]

logger = logging.getLogger("nexio_lab.batch")

#: Consecutive connection failures (after the client's own retries) that stop the batch.
MAX_CONNECTION_FAILURES = 5
#: How long in-flight requests may finish after a cancel, so their answers are journaled.
CANCEL_GRACE_S = 10.0
#: Webhooks kept for jobs whose 202 has not been handled yet (beyond: polled when overdue).
MAX_EARLY_WEBHOOKS = 10_000
#: Errors that end the whole batch and are raised to whoever waits for it.
FATAL = (AuthenticationError, PermissionDeniedError)


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
        transport: Transport,
        journal: Journal,
        name: str,
        *,
        webhook_url: str | None = None,
        deadline_s: float = 900.0,
        concurrency: int = 64,
        poll: PollPolicy = "polite",
    ) -> None:
        self.transport = transport
        self.journal = journal
        self.name = name
        self.webhook_url = webhook_url
        self.deadline_s = deadline_s
        self.model = DurationModel()
        self.stats = EngineStats()
        self.total = 0
        self.started = time.monotonic()
        self.finished = False
        self.stopped_reason: str | None = None
        self.last_error: str | None = None
        #: the error that ended the batch, raised to whoever waits for it
        self.error: BaseException | None = None
        self._pending: deque[Job] = deque()
        self._submitting: dict[int, Job] = {}  # POSTs on their way, by id(job)
        self._early_webhooks: dict[str, dict[str, Any]] = {}  # by eval_id
        self.scheduler = PollScheduler(
            transport.limiter,
            self.model,
            webhooks=bool(webhook_url),
            submissions_waiting=lambda: bool(self._pending),
            policy=poll,
            window=lambda: transport.limiter.window_estimate,
        )
        self._tasks: set[asyncio.Task[None]] = set()
        self._wake = asyncio.Event()
        self._stopping = False
        self._dead_pools: dict[str, tuple[str, str]] = {}  # pool -> the 422's code, message
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
        for open_row in self.journal.open_rows(self.name):
            job = Job(
                open_row.row,
                open_row.pool,
                open_row.profile,
                open_row.status,
                open_row.eval_id,
                polls=open_row.polls,
                copies=open_row.copies,
            )
            if job.eval_id:  # resumed: poll it now, the clock before the restart is unknown
                job.submitted = now
                self.scheduler.track(job, due=now)
            elif job.status == Status.PENDING:
                self._pending.append(job)
            elif job.status == Status.UNCERTAIN and resubmit_uncertain:
                self._move(job, Status.PENDING)
                self._pending.append(job)

    # -- the run -------------------------------------------------------------------------------

    async def run(self) -> None:
        """Dispatch until every row finished, the batch was stopped, or it was cancelled.

        An unexpected error anywhere ends the run at once: requests in flight get a grace
        period to journal their answers, then the error is kept in :attr:`error`.
        """
        try:
            await self._dispatch()
            await self._drain()
        except asyncio.CancelledError:
            self.stop("cancelled")
            await self._drain(timeout=CANCEL_GRACE_S)
            raise
        except Exception as exc:
            self._fail(exc)
            await self._drain(timeout=CANCEL_GRACE_S)
        finally:
            for task in self._tasks:
                task.cancel()
            self._close_in_flight_submissions()
            self.finished = True

    def stop(self, reason: str) -> None:
        """Stop sending submissions and polls; rows keep their journaled state."""
        if not self._stopping:
            logger.warning("batch %s stopped: %s", self.name, reason)
        self._stopping = True
        self.stopped_reason = self.stopped_reason or reason
        self._wake.set()

    def _fail(self, exc: BaseException) -> None:
        """An error that ends the batch: kept for :meth:`Batch.wait` to raise."""
        self.error = self.error or exc
        self.last_error = f"{type(exc).__name__}: {exc}"
        reason = str(exc) if isinstance(exc, FATAL) else f"internal error: {self.last_error}"
        self.stop(reason)

    async def _drain(self, timeout: float | None = None) -> None:
        if self._tasks:
            await asyncio.wait(set(self._tasks), timeout=timeout)

    def _close_in_flight_submissions(self) -> None:
        """A POST cut off by the end of the run may or may not have created its job."""
        for job in list(self._submitting.values()):
            with contextlib.suppress(Exception):  # the journal may be what failed
                self._move(
                    job,
                    Status.UNCERTAIN,
                    code="uncertain",
                    message="the batch ended while this row's POST was in flight",
                )

    def _has_work(self) -> bool:
        return bool(self._pending or self.scheduler.jobs or self._tasks)

    async def _dispatch(self) -> None:
        while not self._stopping and self._has_work():
            self._wake.clear()
            wait = self._seconds_to_next_action()
            if wait is None or wait > 0:
                # nothing to send now: sleep until a poll is due or something changes
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(wait):  # not wait_for: see _limiter._wait
                        await self._wake.wait()
                continue
            if self._semaphore.locked():
                if await self._until_stopped(self._semaphore.acquire()) is None:
                    break
            else:
                await self._semaphore.acquire()  # free: no wait
            slot = await self._until_stopped(self.transport.limiter.take())
            if slot is None:
                self._semaphore.release()
                break
            try:
                action = None if self._stopping else self._take_action(slot)
            except BaseException:
                slot.done(None)
                self._semaphore.release()
                raise
            if action is None:  # what was due was taken care of while we waited
                slot.done(None)
                self._semaphore.release()
                continue
            self._spawn(action, slot)  # the task gives both back when it ends

    async def _until_stopped(self, waiting: Coroutine[Any, Any, Any]) -> Any:
        """``waiting``'s result, or None when the batch stops first (then nothing is held)."""
        task = asyncio.ensure_future(waiting)
        stopped = asyncio.ensure_future(self._stopped())
        try:
            await asyncio.wait({task, stopped}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            stopped.cancel()
            if not task.done():
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
        if task.cancelled():
            return None
        result = task.result()
        if self._stopping:
            if isinstance(result, Slot):
                result.done(None)
            elif result is True:  # a semaphore
                self._semaphore.release()
            return None
        return result if result is not None else True

    async def _stopped(self) -> None:
        while not self._stopping:
            self._wake.clear()
            await self._wake.wait()

    def _seconds_to_next_action(self) -> float | None:
        if self._pending:
            return 0.0
        return self.scheduler.seconds_to_next_poll()

    def _take_action(self, slot: Slot) -> Coroutine[Any, Any, None] | None:
        while self._pending:
            job = self._pending.popleft()
            if job.pool in self._dead_pools:
                self._fail_dead_pool(job)
                continue
            return self._submit(job, slot)
        due = self.scheduler.take()
        return None if due is None else self._poll(due, slot)

    def _spawn(self, coro: Coroutine[Any, Any, None], slot: Slot) -> None:
        async def guarded() -> None:
            async with slot:  # given back on every path, even one the transport never saw
                await coro

        task = asyncio.ensure_future(guarded())
        self._tasks.add(task)

        def done(t: asyncio.Task[None]) -> None:
            self._tasks.discard(t)
            self._semaphore.release()
            self._wake.set()
            if not t.cancelled() and t.exception() is not None:
                self._fail(t.exception())  # type: ignore[arg-type]

        task.add_done_callback(done)

    # -- submissions ---------------------------------------------------------------------------

    async def _submit(self, job: Job, slot: Slot) -> None:
        assert job.profile is not None
        profile = json.loads(job.profile)
        self.stats.requests += 1
        self.stats.submissions += 1

        def sending() -> None:
            # journaled just before the bytes go out, after every local check: a row
            # marked submitting was really on its way
            self._move(job, Status.SUBMITTING, submitted=True)
            self._submitting[id(job)] = job

        try:
            evaluation = await self.transport.submit(
                profile, job.pool, self.webhook_url, slot=slot, on_send=sending
            )
        except SubmissionUncertainError as exc:
            self._end(job, Status.UNCERTAIN, "uncertain", str(exc))
            return
        except UnprocessableEntityError as exc:
            self._dead_pools.setdefault(job.pool, (exc.code or "unprocessable", exc.message))
            self._fail_dead_pool(job)
            for other in [j for j in self._pending if j.pool == job.pool]:
                self._fail_dead_pool(other)
            self._pending = deque(j for j in self._pending if j.pool != job.pool)
            return
        except FATAL as exc:
            self._back_to_pending(job)
            self._fail(exc)
            return
        except (BadRequestError, ProfileError) as exc:
            code = getattr(exc, "code", None) or "invalid_profile"
            self._end(job, Status.ERROR, code, getattr(exc, "message", None) or str(exc))
            return
        except (APIConnectionError, APIError) as exc:
            # not created (the transport only raises these when the server cannot have it)
            self._note_failure(exc)
            job.attempts += 1
            if job.attempts >= 3 and not isinstance(exc, APIConnectionError):
                self._end(job, Status.ERROR, getattr(exc, "code", None) or "api_error", str(exc))
            else:
                self._back_to_pending(job)
            return
        except BaseException:
            # not ours to handle (a bug, a cancellation): whether the job exists is known
            # only if the request never left
            if job.status == Status.SUBMITTING:
                self._end(job, Status.UNCERTAIN, "uncertain", "the POST's outcome is unknown")
            raise
        finally:
            self._submitting.pop(id(job), None)
        self._connection_failures = 0
        status = evaluation.status if evaluation.status in IN_FLIGHT else Status.QUEUED
        try:
            self._move(job, status, eval_id=evaluation.eval_id)
        except BaseException:
            # the job exists but its eval_id could not be journaled: say so, with the id
            with contextlib.suppress(Exception):
                message = f"created as {evaluation.eval_id}, which the journal failed to record"
                self._end(job, Status.UNCERTAIN, "uncertain", message)
            raise
        job.eval_id = evaluation.eval_id
        job.profile = None
        job.submitted = time.monotonic()
        self.scheduler.track(job)
        if early := self._early_webhooks.pop(job.eval_id, None):
            self.on_webhook(early)

    def _back_to_pending(self, job: Job) -> None:
        if job.status != Status.PENDING:
            self._move(job, Status.PENDING)
        self._pending.appendleft(job)

    def _fail_dead_pool(self, job: Job) -> None:
        code, reason = self._dead_pools[job.pool]
        self._end(
            job, Status.ERROR, code, f"pool {job.pool!r} was refused by the API (422): {reason}"
        )

    # -- polls -----------------------------------------------------------------------------------

    async def _poll(self, job: Job, slot: Slot) -> None:
        assert job.eval_id is not None
        self.stats.requests += 1
        self.stats.polls += 1
        job.polls += 1
        job.last_polled = time.monotonic()
        try:
            evaluation = await self.transport.get(job.eval_id, slot=slot)
        except NotFoundError as exc:
            self._end(
                job,
                Status.ERROR,
                exc.code or "not_found",
                f"the server no longer knows {job.eval_id} (was it restarted "
                f"without its database?): {exc.message}",
            )
            return
        except FATAL as exc:
            self.scheduler.track(job, due=time.monotonic())
            self._fail(exc)
            return
        except (APIConnectionError, APIError) as exc:
            self._note_failure(exc)
            self.scheduler.track(job, due=time.monotonic() + min(30.0, 2.0 * job.polls))
            return
        self._connection_failures = 0
        self.on_result(job, evaluation)

    def on_result(self, job: Job, evaluation: Evaluation) -> None:
        """An evaluation's state arrived, by a poll or by a webhook."""
        if job.status not in IN_FLIGHT:
            return  # a late duplicate (webhooks may be delivered twice)
        elapsed = time.monotonic() - job.submitted
        if evaluation.is_done:
            was_known = self.model.known
            self.model.finished(elapsed, job.last_not_done)  # exact by webhook
            self._move(job, evaluation.status, result=dict(evaluation.raw), polls=job.polls)
            self._finish_times.append(time.monotonic())
            self.scheduler.forget(job)
            if self.model.known and not was_known:
                self.scheduler.reschedule_all()
            return
        self.model.running(job.last_not_done, elapsed)
        job.last_not_done = elapsed
        status = evaluation.status if evaluation.status == Status.PROCESSING else job.status
        if elapsed > self.deadline_s:
            self._end(
                job,
                Status.ERROR,
                "deadline",
                f"still {evaluation.status!r} {elapsed:.0f} s after submission "
                f"(deadline {self.deadline_s:.0f} s); rerun the batch to poll it again",
            )
            return
        if status != job.status:
            self._move(job, status, polls=job.polls)
        self.scheduler.track(job)

    def on_webhook(self, payload: dict[str, Any]) -> None:
        """A result delivered to the local receiver (deduplicated by eval_id)."""
        eval_id = str(payload.get("eval_id"))
        job = self.scheduler.jobs.get(eval_id)
        if job is None:
            # a fast job's webhook can beat its own 202 here: keep it for when the 202 lands
            if len(self._early_webhooks) < MAX_EARLY_WEBHOOKS:
                self._early_webhooks[eval_id] = payload
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

    def _move(
        self,
        job: Job,
        status: str,
        *,
        code: str | None = None,
        message: str | None = None,
        eval_id: str | None = None,
        result: dict[str, Any] | None = None,
        polls: int | None = None,
        submitted: bool = False,
    ) -> None:
        """The one state transition of a row: journaled first, then counted."""
        self.journal.update_row(
            self.name,
            job.row,
            job.pool,
            status,
            error_code=code,
            error_message=message,
            eval_id=eval_id,
            result=result,
            polls=polls,
            submitted=submitted or eval_id is not None,
        )
        counts = self.stats.counts
        counts[job.status] -= job.copies
        counts[status] += job.copies
        job.status = status

    def _end(self, job: Job, status: str, code: str | None, message: str | None) -> None:
        """A row ends without a result (error or uncertain)."""
        self._move(job, status, code=code, message=message)
        self.last_error = f"row {job.row} ({job.pool}): {message}"
        self._finish_times.append(time.monotonic())
        self.scheduler.forget(job)

    def progress(self) -> BatchProgress:
        """A snapshot of where the batch stands."""
        now = time.monotonic()
        counts = {s: n for s, n in self.stats.counts.items() if n > 0}
        # a row being sent is still pending until its 202 arrives
        if submitting := counts.pop(Status.SUBMITTING, 0):
            counts[Status.PENDING] = counts.get(Status.PENDING, 0) + submitting
        recent = [t for t in self._finish_times if now - t <= 30.0]
        throughput = None
        if len(recent) >= 2 and recent[-1] > recent[0]:
            throughput = (len(recent) - 1) / (now - recent[0])
        snapshot = BatchProgress(name=self.name, total=self.total, counts=counts)
        left = self.total - snapshot.done
        limiter = self.transport.limiter
        rate_limit = limiter.snapshot
        reset_in = None
        if rate_limit and rate_limit.reset is not None:
            reset_in = max(0.0, rate_limit.reset - time.time())
        return BatchProgress(
            name=self.name,
            total=self.total,
            counts={str(s): n for s, n in counts.items()},
            budget_remaining=limiter.available(),
            budget_limit=rate_limit.limit if rate_limit else None,
            reset_in_s=reset_in,
            elapsed_s=now - self.started,
            throughput_per_s=throughput,
            eta_s=left / throughput if throughput and left else (0.0 if not left else None),
            requests=self.stats.requests,
            polls=self.stats.polls,
            rate_limited=limiter.rate_limited,
            last_error=self.last_error,
            finished=self.finished,
            stopped_reason=self.stopped_reason,
        )
