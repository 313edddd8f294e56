"""Starting a batch and the :class:`Batch` handle an analyst holds while it runs and after."""

from __future__ import annotations

import asyncio
import concurrent.futures
import json
import logging
import os
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, TypeAlias

from .._config import default_store
from .._exceptions import NexioError, ProfileError
from .._models import RateLimit
from .._profile import MissingPolicy
from .._status import OPEN, Status, is_ok
from .._warn import warn
from ..progress import BATCH_STATUSES, BatchProgress
from ._engine import Engine
from ._estimate import fill_estimates, journal_backlog, plan_lines
from ._inputs import read_profiles
from ._journal import Journal, PlannedRow, fingerprint
from ._lock import DriverLock
from ._polling import PollPolicy
from ._reuse import ReuseChoice, apply_reuse, parse_reuse

if TYPE_CHECKING:
    import threading

    import pandas as pd

    from .._client import AsyncClient, Client
    from .._loop import LoopThread
    from .._models import EvaluationRecord
    from ..plots import PlotAccessor
    from ..progress.auto import ProgressChoice
    from ..results import ResultSet
    from ..results._frames import Tables

__all__ = [
    "Batch",
    "BatchOptions",
    "BatchPlan",
    "ProfileSource",
    "plan_batch",
    "run_batch",
    "start_batch",
]

#: What a batch takes as profiles: a DataFrame, mappings, or a CSV / JSONL / Parquet path.
#: A :class:`BatchPlan` from :func:`plan_batch` is accepted too: its rows are not read again.
ProfileSource: TypeAlias = (
    "pd.DataFrame | Iterable[Mapping[str, Any]] | str | os.PathLike[str] | BatchPlan"
)

logger = logging.getLogger("nexio_lab.batch")

#: A live-key batch above this many billed evaluations needs ``confirm=True`` (CLI: --yes).
CONFIRM_ABOVE = 100


def _unfinished(counts: Mapping[str, int]) -> int:
    """Rows a rerun would still act on (an uncertain row waits for a decision instead)."""
    return sum(counts.get(s, 0) for s in OPEN - {Status.UNCERTAIN})


class BatchInputError(NexioError, ValueError):
    """The input does not match the batch already journaled under that name."""


@dataclass(frozen=True)
class BatchOptions:
    """How a batch runs: the options of ``run_batch`` / ``start_batch``, checked once.

    >>> BatchOptions(pool="carriers:all").pool_list
    ['carriers:all']
    """

    pool: str | None = None
    pools: Sequence[str] | None = None
    name: str | None = None
    store: str | Path | Journal | None = None
    webhook: str | None = None
    confirm: bool = False
    resubmit_uncertain: bool | None = None
    allow_duplicates: bool = False
    extend: bool = False
    deadline_s: float = 900.0
    #: take completed results of the same profile, pool and base URL from any batch of the
    #: store, this recent (``"7d"``, ``"12h"``, ``True`` for any age), instead of paying again
    reuse: ReuseChoice = False
    poll: PollPolicy = "polite"

    def __post_init__(self) -> None:
        if not self.deadline_s > 0:
            raise ValueError("deadline_s must be a positive number of seconds")
        parse_reuse(self.reuse)  # fails early on an unreadable age
        if self.poll not in ("polite", "eager"):
            raise ValueError(f"poll must be 'polite' or 'eager', not {self.poll!r}")
        self.pool_list  # noqa: B018 - fails early on no pool or an empty one

    @property
    def pool_list(self) -> list[str]:
        """The pools named, in order, each once."""
        chosen = list(self.pools or []) + ([self.pool] if self.pool else [])
        if not chosen:
            raise NexioError("name at least one pool: pool='carriers:all' or pools=[...]")
        for p in chosen:
            if not isinstance(p, str) or not p.strip():
                raise NexioError(f"a pool must be a non-empty string, not {p!r}")
        return list(dict.fromkeys(chosen))

    def journal(self) -> Journal:
        """The journal these options name (the default store when none)."""
        if isinstance(self.store, Journal):
            return self.store
        return Journal(self.store or default_store())


@dataclass
class BatchPlan:
    """What a batch would send, checked locally with nothing sent (``--dry-run``), and the
    rows to journal (``rows``): the input is read once, by :func:`plan_batch`."""

    name: str
    pools: list[str]
    rows: int = 0
    evaluations: int = 0  # rows x pools, including invalid rows and duplicates
    billable: int = 0  # what would be submitted (and billed on a live key) by this run
    duplicates: int = 0
    already_known: int = 0  # rows the journal had already (resume)
    errors: list[ProfileError] = field(default_factory=list)
    #: the rows to journal (new ones only), in input order
    planned: list[PlannedRow] = field(default_factory=list, repr=False)
    # estimates (see _estimate.py): resume, reuse, requests, ETA, cost
    resumed_to_send: int = 0  # journaled rows never sent: submitted (billed) by this run
    resumed_to_poll: int = 0  # journaled rows sent and unfinished: polled
    reused: int = 0  # rows filled from earlier results (reuse on): not sent, not billed
    reuse_age: str | None = None  # the reuse window, when reuse is on
    reusable_recent: int = 0  # with reuse off: rows an earlier result of 7 days could fill
    reusable_any: int = 0  # ... of any age
    requests: int | None = None
    eta_s: float | None = None
    window_s: float | None = None
    cost: float | None = None
    price_per_evaluation: float | None = None
    base_url: str | None = None
    rate_limit: RateLimit | None = None
    fingerprints: list[str] = field(default_factory=list, repr=False)

    def __str__(self) -> str:
        lines = [
            f"batch {self.name!r}: {self.rows} rows x {len(self.pools)} pool(s) "
            f"({', '.join(self.pools)}) = {self.evaluations} evaluations",
            f"  to submit (billed on a live key): {self.billable}",
        ]
        if self.already_known:
            lines.append(
                f"  already in the journal (resumed, not resubmitted): {self.already_known}"
            )
        if self.duplicates:
            lines.append(f"  identical (profile, pool) pairs sent once: {self.duplicates}")
        if self.errors:
            lines.append(f"  rows rejected locally: {len(self.errors)}")
            lines.extend(f"    {e}" for e in self.errors[:20])
            if len(self.errors) > 20:
                lines.append(f"    ... and {len(self.errors) - 20} more")
        lines.extend(plan_lines(self))
        return "\n".join(lines)


def plan_batch(
    profiles: ProfileSource,
    *,
    pool: str | None = None,
    pools: Sequence[str] | None = None,
    name: str = "dry-run",
    journal: Journal | None = None,
    allow_duplicates: bool = False,
    extend: bool = False,
    missing: MissingPolicy = "null",
    reuse: ReuseChoice = False,
    base_url: str | None = None,
    webhook: str | None = None,
    price_per_evaluation: float | None = None,
    rate_limit: RateLimit | None = None,
    rate_limit_at: float | None = None,
) -> BatchPlan:
    """Read and check every row once, and count what would be sent; nothing is written.

    The plan's ``planned`` rows are what :func:`run_batch` journals. Also estimated: rows
    resumed from the journal, rows ``reuse`` fills from earlier results of this store (for
    ``base_url``; with reuse off, how many it would), requests expected, an ETA from
    ``rate_limit`` (see :func:`~nexio_lab.batch.fetch_rate_limit`; read at ``rate_limit_at``,
    Unix time, default now) and a cost for
    ``price_per_evaluation``.

    >>> plan = plan_batch([{"entity": "a"}, {"entity": "a"}, {}], pool="carriers:all")
    >>> plan.billable, plan.duplicates, len(plan.errors)
    (1, 1, 1)
    """
    chosen = BatchOptions(pool=pool, pools=pools).pool_list
    plan = BatchPlan(name=name, pools=chosen)
    backlog = journal_backlog(journal, name)
    known = journal.existing_fingerprints(name) if journal and journal.has_batch(name) else {}
    seen: dict[str, int] = {}
    next_row = max((row for row, _ in known), default=-1) + 1
    for item in read_profiles(profiles, missing=missing):
        plan.rows += 1
        if item.error is not None:
            plan.errors.append(item.error)
        text = None if item.profile is None else json.dumps(item.profile, sort_keys=True)
        for p in plan.pools:
            plan.evaluations += 1
            row = item.row
            fp = None if text is None else fingerprint(text, p)
            if (row, p) in known:
                if known[(row, p)] == fp:
                    plan.already_known += 1
                    if fp:
                        seen.setdefault(fp, row)
                    continue
                if not extend:
                    raise BatchInputError(
                        f"row {row} ({p}) differs from what batch {name!r} journaled; use "
                        "another name, or extend=True (CLI: --extend) to add it as a new row"
                    )
                row = next_row + item.row
            if item.error is not None:
                plan.planned.append(
                    PlannedRow(
                        row, p, None, None, Status.ERROR, None, "invalid_profile", str(item.error)
                    )
                )
                continue
            duplicate_of = seen.get(fp) if fp and not allow_duplicates else None
            if duplicate_of is not None:
                plan.duplicates += 1
            else:
                plan.billable += 1
                assert fp is not None
                seen[fp] = row
                plan.fingerprints.append(fp)
            plan.planned.append(PlannedRow(row, p, text, fp, Status.PENDING, duplicate_of))
    fill_estimates(
        plan,
        journal,
        backlog=backlog,
        base_url=base_url,
        reuse=reuse,
        webhook=webhook,
        price_per_evaluation=price_per_evaluation,
        rate_limit=rate_limit,
        rate_limit_at=rate_limit_at,
    )
    return plan


class Batch:
    """A batch of evaluations: live while it runs, its journal's view afterwards.

    >>> batch = client.run_batch(profiles, pool="carriers:all", name="q4")  # doctest: +SKIP
    >>> batch.status_counts()["completed"]                                   # doctest: +SKIP
    200
    """

    def __init__(self, journal: Journal, name: str, engine: Engine | None = None) -> None:
        self.journal = journal
        self.name = name
        #: what the input held, as checked before anything was sent (None when reopened)
        self.plan: BatchPlan | None = None
        self._engine = engine
        self._future: concurrent.futures.Future[Any] | None = None
        self._ended: threading.Event | None = None
        self._loop: LoopThread | None = None
        self._results: ResultSet | None = None
        self._driver: DriverLock | None = None  # held while this process runs the batch

    @classmethod
    def open(cls, name: str, store: str | Path | None = None) -> Batch:
        """The journaled batch ``name`` (no request is made); see :func:`open_batch`."""
        from ._registry import open_batch

        return open_batch(name, store)

    # -- state -------------------------------------------------------------------------------

    @property
    def running(self) -> bool:
        """True while this process's engine still works on the batch."""
        return self._engine is not None and not self._engine.finished

    @property
    def state(self) -> str:
        """``running``, ``finished`` (no row left to act on) or ``stopped`` (rows left: a
        rerun with the same name resumes them)."""
        if self.running:
            return "running"
        return "stopped" if _unfinished(self.status_counts()) else "finished"

    @property
    def progress(self) -> BatchProgress:
        """A snapshot of where the batch stands (counts, budget, throughput)."""
        if self._engine is not None:
            return self._engine.progress()
        counts = self.journal.status_counts(self.name)
        return BatchProgress(
            name=self.name, total=sum(counts.values()), counts=counts, finished=True
        )

    def status_counts(self) -> dict[str, int]:
        """Rows per status: pending, queued, processing, completed, failed, error, uncertain."""
        counts = dict(self.progress.counts)
        # a row whose POST is on its way is pending until its 202 arrives
        if submitting := counts.pop(Status.SUBMITTING, 0):
            counts[Status.PENDING] = counts.get(Status.PENDING, 0) + submitting
        return {s: counts.pop(s, 0) for s in BATCH_STATUSES} | counts

    @property
    def stopped_reason(self) -> str | None:
        """Why this process's run stopped early (a refused key, the network...), if it did."""
        return self._engine.stopped_reason if self._engine else None

    @property
    def ok(self) -> bool:
        """Every row completed or failed at the API; nothing errored, uncertain or left."""
        counts = self.status_counts()
        done = sum(n for s, n in counts.items() if is_ok(s))
        return done == sum(counts.values()) and not self.stopped_reason

    def records(self) -> list[EvaluationRecord]:
        """Every row as the journal knows it (the input of every table)."""
        reused = self.journal.reused_from(self.name)
        return [
            replace(r, reused_from=reused[(r.row, r.pool)]) if (r.row, r.pool) in reused else r
            for r in self.journal.records(self.name)
        ]

    # -- results -------------------------------------------------------------------------------

    #: Evaluations parsed at once when tables are built or written from the journal: about
    #: 9 KB of JSON each, so a chunk's parsed records stay a few tens of MB.
    CHUNK = 1000

    def _chunks(self) -> Iterator[list[EvaluationRecord]]:
        """:meth:`records`, ``CHUNK`` rows at a time."""
        reused = self.journal.reused_from(self.name)
        for chunk in self.journal.iter_records(self.name, chunk=self.CHUNK):
            yield [
                replace(r, reused_from=reused[(r.row, r.pool)]) if (r.row, r.pool) in reused else r
                for r in chunk
            ]

    def _build_tables(self) -> Tables:
        from ..results._frames import build_tables_chunked

        return build_tables_chunked(self._chunks)

    def _write(
        self,
        path: str | os.PathLike[str],
        fmt: Literal["parquet", "csv"],
        partition_cols: Sequence[str] | None,
        storage_options: Mapping[str, Any] | None,
    ) -> Path | str:
        """Tables already built are written as they are; else they stream from the journal,
        one chunk of records at a time, so memory stays bounded whatever the batch's size."""
        from ..results._export import write_chunks
        from ..results._frames import LayoutChanged, stream_tables

        if not self.running and self._results is not None and self._results._tables is not None:
            return (
                self._results.to_parquet(
                    path, partition_cols=partition_cols, storage_options=storage_options
                )
                if fmt == "parquet"
                else self._results.to_csv(path, storage_options=storage_options)
            )
        for attempt in range(3):
            try:
                dimensions, chunks = stream_tables(self._chunks)
                return write_chunks(
                    dimensions,
                    chunks,
                    path,
                    fmt,
                    partition_cols=partition_cols,
                    storage_options=storage_options,
                )
            except LayoutChanged:
                # a running batch got results the survey did not see: the files are
                # rewritten whole on the next attempt
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")

    @property
    def results(self) -> ResultSet:
        """The tables (partial while running), built once the batch has finished."""
        from ..results import ResultSet

        if self.running or self._results is None:
            results = ResultSet._lazy(self._build_tables)
            if self.running:
                return results
            self._results = results
        return self._results

    @property
    def evaluations(self) -> pd.DataFrame:
        """One row per (input row, pool): status, timing, profile fields, errors."""
        return self.results.evaluations

    @property
    def candidates(self) -> pd.DataFrame:
        """One row per ranked candidate of every completed evaluation (tier, confidence)."""
        return self.results.candidates

    @property
    def scores(self) -> pd.DataFrame:
        """One row per (candidate, dimension): the L1-L4 level."""
        return self.results.scores

    @property
    def errors(self) -> pd.DataFrame:
        """One row per evaluation that ended in error, failed or uncertain, with why."""
        return self.results.errors

    @property
    def plot(self) -> PlotAccessor:
        """The six plots of these results: ``batch.plot.tier_distribution()`` etc."""
        return self.results.plot

    def to_parquet(
        self,
        path: str | os.PathLike[str],
        *,
        partition_cols: Sequence[str] | None = None,
        storage_options: Mapping[str, Any] | None = None,
    ) -> Path | str:
        """Write the tables as Parquet into the folder ``path`` (local or fsspec URL).

        See :meth:`nexio_lab.ResultSet.to_parquet`: ``batch.to_parquet("s3://bucket/q4")``.
        """
        return self._write(path, "parquet", partition_cols, storage_options)

    def to_csv(
        self, path: str | os.PathLike[str], *, storage_options: Mapping[str, Any] | None = None
    ) -> Path | str:
        """Write the tables as CSV into the folder ``path`` (see :meth:`ResultSet.to_csv`)."""
        return self._write(path, "csv", None, storage_options)

    def to_report(self, path: str | Path) -> Path:
        """Write a one-file HTML report (see :func:`nexio_lab.report.write_report`)."""
        from ..report import write_report

        return write_report(self, path)

    # -- control (sync batches started with Client.start_batch) ------------------------------

    def wait(self, timeout: float | None = None) -> Batch:
        """Block until the batch ends and return it; Ctrl-C stops it with everything
        journaled. Raises the error that ended the batch, if one did (a refused key:
        :class:`~nexio_lab.AuthenticationError`; the journal keeps what was done)."""
        if self._future is not None and not self._future.cancelled():
            try:
                self._future.result(timeout)
            except KeyboardInterrupt:
                self.cancel()
                raise
            except concurrent.futures.CancelledError:
                pass  # cancelled from another thread: the journal holds where it stopped
        return self

    def cancel(self) -> Batch:
        """Stop at once: no new request is sent, answers of requests in flight are
        journaled, and a rerun with the same name resumes."""
        if self._future is not None and self._ended is not None:
            if self._engine is not None and self._loop is not None:
                # stop sending even if the cancellation itself were lost in a race
                self._loop.loop.call_soon_threadsafe(self._engine.stop, "cancelled")
            self._future.cancel()
            self._ended.wait(timeout=60)
        return self

    def resume(
        self,
        client: Client,
        *,
        progress: ProgressChoice = "auto",
        webhook: str | None = None,
        confirm: bool = False,
        resubmit_uncertain: bool | None = None,
        deadline_s: float = 900.0,
        reuse: ReuseChoice = False,
        detach: bool = False,
    ) -> Batch:
        """Continue this batch with ``client`` from the journal (no input needed); see
        :meth:`nexio_lab.Client.resume_batch`.

        >>> batch = nexio_lab.open_batch("q4").resume(client)   # doctest: +SKIP
        """
        return client.resume_batch(
            self.name,
            store=self.journal,
            progress=progress,
            webhook=webhook,
            confirm=confirm,
            resubmit_uncertain=resubmit_uncertain,
            deadline_s=deadline_s,
            reuse=reuse,
            detach=detach,
        )

    # -- display ---------------------------------------------------------------------------------

    def _state_line(self) -> str:
        if self.running:
            state = "running"
        else:
            left = _unfinished(self.status_counts())
            state = f"stopped with {left} not finished" if left else "finished"
        if self.stopped_reason:
            state += f" ({self.stopped_reason})"
        return state

    def __repr__(self) -> str:
        counts = ", ".join(f"{s}={n}" for s, n in self.status_counts().items() if n)
        return f"<Batch {self.name!r} {self._state_line()}: {counts or 'empty'}>"

    def _repr_html_(self) -> str:
        from html import escape

        counts = self.status_counts()
        cells = "".join(f"<td>{n}</td>" for n in counts.values())
        heads = "".join(f"<th>{escape(s)}</th>" for s in counts)
        return (
            f"<div><b>Batch {escape(self.name)}</b> ({escape(self._state_line())})"
            f"<table><tr>{heads}</tr><tr>{cells}</tr></table></div>"
        )


def _prepare(client: AsyncClient, profiles: ProfileSource, options: BatchOptions) -> Batch:
    """Everything that happens before the first request: checks, plan, journal, engine.

    Nothing is journaled when the key is missing, the input unusable, or a live batch
    unconfirmed; the input is read once (``profiles`` may be a :class:`BatchPlan` made
    by :func:`plan_batch`).
    """
    transport = client.transport
    transport.require_key()
    name = options.name or datetime.now(UTC).strftime("batch-%Y%m%d-%H%M%S")
    journal = options.journal()
    # one driver per batch: taken before anything is journaled, so racers write nothing
    lock = DriverLock(journal, name).acquire(key_kind=transport.key_type)
    try:
        batch = _prepare_locked(client, profiles, options, journal, name)
    except BaseException:
        lock.release()
        raise
    batch._driver = lock
    return batch


def _prepare_locked(
    client: AsyncClient,
    profiles: ProfileSource,
    options: BatchOptions,
    journal: Journal,
    name: str,
) -> Batch:
    transport = client.transport
    if isinstance(profiles, BatchPlan):  # read and checked already (the CLI's dry run)
        plan = profiles
        if (plan.name, plan.pools) != (name, options.pool_list):
            raise NexioError(
                f"the plan is for batch {plan.name!r} on {plan.pools}, not {name!r} on "
                f"{options.pool_list}"
            )
    else:
        plan = plan_batch(
            profiles,
            pools=options.pool_list,
            name=name,
            journal=journal,
            allow_duplicates=options.allow_duplicates,
            extend=options.extend,
            missing=client.missing,
            reuse=options.reuse,
            base_url=client.base_url,
            webhook=options.webhook,
        )
    if client.is_live and plan.billable > CONFIRM_ABOVE and not options.confirm:
        raise NexioError(
            f"this batch would submit {plan.billable} billed evaluations with a live "
            f"key; pass confirm=True (CLI: --yes) to go ahead\n{plan}"
        )
    journal.create_batch(name, client.base_url, {"pools": plan.pools})
    journal.add_rows(name, plan.planned)
    apply_reuse(journal, name, client.base_url, parse_reuse(options.reuse))
    for error in plan.errors:
        logger.debug("rejected before sending: %s", error)  # the warning below says it
    if plan.errors:
        warn(
            f"{len(plan.errors)} row(s) rejected locally (see batch.errors); the "
            f"others go on. First: {plan.errors[0]}"
        )
    if plan.duplicates:
        warn(
            f"{plan.duplicates} identical (profile, pool) pair(s) will be sent once "
            "and share one result (allow_duplicates=True sends each)"
        )
    engine = Engine(
        transport,
        journal,
        name,
        webhook_url=options.webhook or None,
        deadline_s=options.deadline_s,
        poll=options.poll,
    )
    resubmit = options.resubmit_uncertain
    engine.load(resubmit_uncertain=not client.is_live if resubmit is None else resubmit)
    batch = Batch(journal, name, engine)
    batch.plan = plan
    return batch


async def _drive(batch: Batch, reporter: Any, webhook: str | None) -> Batch:
    """Run the engine with its progress reporter and, if asked, the webhook receiver;
    raise the error that ended it, if one did."""
    engine = batch._engine
    assert engine is not None
    receiver = None

    async def report() -> None:
        while True:
            reporter.update(engine.progress())
            await asyncio.sleep(0.25)

    reporting = asyncio.ensure_future(report()) if reporter is not None else None
    lock = batch._driver
    watching = None
    try:
        if webhook:
            from ._webhook import WebhookReceiver

            receiver = WebhookReceiver(webhook, engine.on_webhook, asyncio.get_running_loop())
            receiver.start()
        running = asyncio.ensure_future(engine.run())
        if lock is not None:
            watching = asyncio.ensure_future(lock.watch(engine, running))
        try:
            await running
        except asyncio.CancelledError:
            task = asyncio.current_task()
            if task is not None and task.cancelling():
                raise  # cancelled here (Ctrl-C, batch.cancel()): the caller expects it
            # else a cancel requested through the journal stopped it: a normal end
    finally:
        engine.finished = True
        if watching is not None:
            watching.cancel()
        if lock is not None:
            lock.release(engine.stopped_reason)
        if reporting is not None:
            reporting.cancel()
        if receiver is not None:
            receiver.stop()
        if reporter is not None:
            reporter.close(engine.progress())
    if engine.error is not None:
        raise engine.error
    return batch


async def run_batch(
    client: AsyncClient,
    profiles: ProfileSource,
    options: BatchOptions,
    *,
    progress: ProgressChoice = "auto",
) -> Batch:
    """Run every profile against every pool, journaled and resumable; return the batch.

    The engine of :meth:`AsyncClient.run_batch <nexio_lab.AsyncClient.run_batch>`, whose
    signature documents the options.
    """
    from ..progress import auto_progress

    batch = _prepare(client, profiles, options)
    return await _drive(batch, auto_progress(progress), options.webhook)


def start_batch(
    client: AsyncClient,
    profiles: ProfileSource,
    options: BatchOptions,
    *,
    loop: LoopThread,
    progress: ProgressChoice = "auto",
    detach: bool = False,
) -> Batch:
    """Prepare a batch in the caller's thread, then run it on ``loop``; return at once.

    With ``detach``, a separate OS process runs it instead (see ``_detach.py``).
    """
    from ..progress import auto_progress

    batch = _prepare(client, profiles, options)
    if detach:
        from ._detach import detach as detach_batch

        return detach_batch(
            batch,
            client,
            webhook=options.webhook,
            resubmit_uncertain=options.resubmit_uncertain,
            deadline_s=options.deadline_s,
        )
    reporter = auto_progress(progress)
    if reporter is not None and batch._engine is not None:
        reporter.update(batch._engine.progress())  # displays a widget in the caller's cell
    batch._loop = loop
    batch._future, batch._ended = loop.submit(_drive(batch, reporter, options.webhook))
    return batch
