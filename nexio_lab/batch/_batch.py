"""Starting a batch and the :class:`Batch` handle an analyst holds while it runs and after."""

from __future__ import annotations

import asyncio
import concurrent.futures
import json
import logging
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .._exceptions import NexioError, ProfileError
from .._profile import MissingPolicy
from ._engine import Engine
from ._inputs import read_profiles
from ._journal import Journal, default_store, fingerprint
from ._progress import BATCH_STATUSES, BatchProgress

if TYPE_CHECKING:
    import threading

    import pandas as pd

    from .._client import AsyncClient
    from .._loop import LoopThread
    from .._models import EvaluationRecord
    from ..results import ResultSet

__all__ = ["Batch", "BatchPlan", "plan_batch", "run_batch", "start_batch"]

logger = logging.getLogger("nexio_lab.batch")

#: A live-key batch above this many billed evaluations needs ``confirm=True`` (CLI: --yes).
CONFIRM_ABOVE = 100
_CHUNK = 5_000


class BatchInputError(NexioError, ValueError):
    """The input does not match the batch already journaled under that name."""


@dataclass
class BatchPlan:
    """What a batch would send: checked locally, nothing sent (``--dry-run``)."""

    name: str
    pools: list[str]
    rows: int = 0
    evaluations: int = 0  # rows x pools, including invalid rows and duplicates
    billable: int = 0  # what would be submitted (and billed on a live key) by this run
    duplicates: int = 0
    already_known: int = 0  # rows the journal had already (resume)
    errors: list[ProfileError] = field(default_factory=list)

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
        return "\n".join(lines)


def _pools(pool: str | None, pools: Sequence[str] | None) -> list[str]:
    chosen = list(pools or []) + ([pool] if pool else [])
    if not chosen:
        raise NexioError("name at least one pool: pool='carriers:all' or pools=[...]")
    for p in chosen:
        if not isinstance(p, str) or not p.strip():
            raise NexioError(f"a pool must be a non-empty string, not {p!r}")
    return list(dict.fromkeys(chosen))


def plan_batch(
    profiles: Any,
    *,
    pool: str | None = None,
    pools: Sequence[str] | None = None,
    name: str = "dry-run",
    journal: Journal | None = None,
    allow_duplicates: bool = False,
    extend: bool = False,
    missing: MissingPolicy = "null",
    _write: bool = False,
) -> BatchPlan:
    """Check every row locally and count what would be sent; with ``_write``, journal it."""
    plan = BatchPlan(name=name, pools=_pools(pool, pools))
    known = journal.existing_fingerprints(name) if journal and journal.has_batch(name) else {}
    seen: dict[str, int] = {}
    next_row = max((row for row, _ in known), default=-1) + 1
    chunk: list[tuple[Any, ...]] = []
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
                chunk.append(
                    (row, p, None, None, "error", None, "invalid_profile", str(item.error))
                )
                continue
            duplicate_of = seen.get(fp) if fp and not allow_duplicates else None
            if duplicate_of is not None:
                plan.duplicates += 1
            else:
                plan.billable += 1
                assert fp is not None
                seen[fp] = row
            chunk.append((row, p, text, fp, "pending", duplicate_of, None, None))
        if _write and journal is not None and len(chunk) >= _CHUNK:
            journal.add_rows(name, chunk)
            chunk = []
    if _write and journal is not None and chunk:
        journal.add_rows(name, chunk)
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
        self.plan: BatchPlan | None = None
        self._engine = engine
        self._future: concurrent.futures.Future[Any] | None = None
        self._ended: threading.Event | None = None
        self._loop: LoopThread | None = None
        self._results: ResultSet | None = None

    @classmethod
    def open(cls, name: str, store: str | Path | None = None) -> Batch:
        """The journaled batch ``name`` (no request is made)."""
        journal = Journal(store or default_store())
        if not journal.has_batch(name):
            known = ", ".join(journal.batch_names()) or "none"
            raise NexioError(f"no batch named {name!r} in {journal.path} (batches: {known})")
        return cls(journal, name)

    # -- state -------------------------------------------------------------------------------

    @property
    def running(self) -> bool:
        return self._engine is not None and not self._engine.finished

    @property
    def progress(self) -> BatchProgress:
        if self._engine is not None:
            return self._engine.progress()
        counts = self.journal.status_counts(self.name)
        return BatchProgress(
            name=self.name, total=sum(counts.values()), counts=counts, finished=True
        )

    def status_counts(self) -> dict[str, int]:
        """Rows per status: pending, queued, processing, completed, failed, error, uncertain."""
        counts = dict(self.progress.counts)
        return {s: counts.pop(s, 0) for s in BATCH_STATUSES} | counts

    @property
    def stopped_reason(self) -> str | None:
        return self._engine.stopped_reason if self._engine else None

    @property
    def ok(self) -> bool:
        """Every row completed or failed at the API; nothing errored, uncertain or left."""
        counts = self.status_counts()
        return (
            counts["completed"] + counts["failed"] == sum(counts.values())
            and not self.stopped_reason
        )

    def records(self) -> list[EvaluationRecord]:
        return list(self.journal.records(self.name))

    # -- results -------------------------------------------------------------------------------

    @property
    def results(self) -> ResultSet:
        """The tables (partial while running), built once the batch has finished."""
        from ..results import ResultSet

        if self.running or self._results is None:
            results = ResultSet.from_records(self.records())
            if self.running:
                return results
            self._results = results
        return self._results

    @property
    def evaluations(self) -> pd.DataFrame:
        return self.results.evaluations

    @property
    def candidates(self) -> pd.DataFrame:
        return self.results.candidates

    @property
    def scores(self) -> pd.DataFrame:
        return self.results.scores

    @property
    def errors(self) -> pd.DataFrame:
        return self.results.errors

    @property
    def plot(self) -> Any:
        return self.results.plot

    def to_parquet(self, directory: str | Path) -> Path:
        return self.results.to_parquet(directory)

    def to_csv(self, directory: str | Path) -> Path:
        return self.results.to_csv(directory)

    # -- control (sync batches started with Client.start_batch) ------------------------------

    def wait(self, timeout: float | None = None) -> Batch:
        """Block until the batch ends; Ctrl-C stops it with everything journaled."""
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

    # -- display ---------------------------------------------------------------------------------

    def __repr__(self) -> str:
        counts = ", ".join(f"{s}={n}" for s, n in self.status_counts().items() if n)
        state = "running" if self.running else "done"
        return f"<Batch {self.name!r} {state}: {counts or 'empty'}>"

    def _repr_html_(self) -> str:
        from html import escape

        counts = self.status_counts()
        cells = "".join(f"<td>{n}</td>" for n in counts.values())
        heads = "".join(f"<th>{escape(s)}</th>" for s in counts)
        state = "running" if self.running else "done"
        reason = self.stopped_reason
        note = f"<p>stopped: {escape(reason)}</p>" if reason else ""
        return (
            f"<div><b>Batch {escape(self.name)}</b> ({state})"
            f"<table><tr>{heads}</tr><tr>{cells}</tr></table>{note}</div>"
        )


def _prepare(
    client: AsyncClient,
    profiles: Any,
    *,
    pool: str | None,
    pools: Sequence[str] | None,
    name: str | None,
    store: str | Path | Journal | None,
    webhook: str | None,
    confirm: bool,
    resubmit_uncertain: bool | None,
    allow_duplicates: bool,
    extend: bool,
    deadline_s: float,
) -> Batch:
    """Everything that happens before the first request: checks, journal, engine."""
    name = name or datetime.now(UTC).strftime("batch-%Y%m%d-%H%M%S")
    journal = store if isinstance(store, Journal) else Journal(store or default_store())
    chosen = _pools(pool, pools)
    if client.is_live:
        preview = plan_batch(
            profiles,
            pools=chosen,
            name=name,
            journal=journal,
            allow_duplicates=allow_duplicates,
            extend=extend,
            missing=client.missing,
        )
        if preview.billable > CONFIRM_ABOVE and not confirm:
            raise NexioError(
                f"this batch would submit {preview.billable} billed evaluations with a live "
                f"key; pass confirm=True (CLI: --yes) to go ahead\n{preview}"
            )
    journal.create_batch(name, client.base_url, {"pools": chosen})
    plan = plan_batch(
        profiles,
        pools=chosen,
        name=name,
        journal=journal,
        allow_duplicates=allow_duplicates,
        extend=extend,
        missing=client.missing,
        _write=True,
    )
    for error in plan.errors:
        logger.debug("rejected before sending: %s", error)  # the warning below says it
    if plan.errors:
        warnings.warn(
            f"{len(plan.errors)} row(s) rejected locally (see batch.errors); the "
            f"others go on. First: {plan.errors[0]}",
            stacklevel=4,
        )
    if plan.duplicates:
        warnings.warn(
            f"{plan.duplicates} identical (profile, pool) pair(s) will be sent once "
            "and share one result (allow_duplicates=True sends each)",
            stacklevel=4,
        )
    engine = Engine(client, journal, name, webhook_url=webhook or None, deadline_s=deadline_s)
    if resubmit_uncertain is None:
        resubmit_uncertain = not client.is_live
    engine.load(resubmit_uncertain=resubmit_uncertain)
    batch = Batch(journal, name, engine)
    batch.plan = plan
    return batch


async def _drive(batch: Batch, reporter: Any, webhook: str | None) -> Batch:
    """Run the engine with its progress reporter and, if asked, the webhook receiver."""
    engine = batch._engine
    assert engine is not None
    receiver = None
    if webhook:
        from ._webhook import WebhookReceiver

        receiver = WebhookReceiver(webhook, engine.on_webhook, asyncio.get_running_loop())
        receiver.start()

    async def report() -> None:
        while True:
            reporter.update(engine.progress())
            await asyncio.sleep(0.25)

    reporting = asyncio.ensure_future(report()) if reporter is not None else None
    try:
        await engine.run()
    finally:
        if reporting is not None:
            reporting.cancel()
        if receiver is not None:
            receiver.stop()
        if reporter is not None:
            reporter.close(engine.progress())
    return batch


_OPTIONS = (
    "pool",
    "pools",
    "name",
    "store",
    "webhook",
    "confirm",
    "resubmit_uncertain",
    "allow_duplicates",
    "extend",
    "deadline_s",
)


def _split(options: dict[str, Any]) -> tuple[dict[str, Any], Any]:
    unknown = set(options) - set(_OPTIONS) - {"progress"}
    if unknown:
        raise TypeError(f"unknown batch option(s): {', '.join(sorted(unknown))}")
    prepared = {k: options.get(k) for k in _OPTIONS}
    prepared.update(
        confirm=bool(options.get("confirm")),
        allow_duplicates=bool(options.get("allow_duplicates")),
        extend=bool(options.get("extend")),
        deadline_s=900.0 if options.get("deadline_s") is None else float(options["deadline_s"]),
    )
    if prepared["deadline_s"] <= 0:
        raise ValueError("deadline_s must be a positive number of seconds")
    return prepared, options.get("progress", "auto")


async def run_batch(client: AsyncClient, profiles: Any, **options: Any) -> Batch:
    """Run every profile against every pool, journaled and resumable; return the batch.

    Options: ``pool`` / ``pools``, ``name`` (rerun the same name to resume), ``store``
    (journal path; default ``$NEXIO_LAB_HOME/journal.sqlite``), ``webhook`` (a local
    ``http://HOST:PORT/path`` to receive results instead of polling), ``progress``
    (``"auto"``, ``False``, ``"widget"``, ``"console"``, ``"log"`` or a reporter),
    ``confirm`` (needed above 100 billed evaluations on a live key), ``resubmit_uncertain``
    (default: only with a test key), ``allow_duplicates``, ``extend``, ``deadline_s``.
    """
    from ..progress import auto_progress

    prepared, progress = _split(options)
    batch = _prepare(client, profiles, **prepared)
    return await _drive(batch, auto_progress(progress), prepared["webhook"])


def start_batch(client: AsyncClient, profiles: Any, *, loop: LoopThread, **options: Any) -> Batch:
    """Prepare a batch in the caller's thread, then run it on ``loop``; return at once."""
    from ..progress import auto_progress

    prepared, progress = _split(options)
    batch = _prepare(client, profiles, **prepared)
    reporter = auto_progress(progress)
    if reporter is not None and batch._engine is not None:
        reporter.update(batch._engine.progress())  # displays a widget in the caller's cell
    batch._loop = loop
    batch._future, batch._ended = loop.submit(_drive(batch, reporter, prepared["webhook"]))
    return batch
