"""Resume by name: continue a journaled batch from the profiles and pools it holds.

No input is needed: every row's profile and pool are in the journal. The rules are those of a
rerun: rows already sent are polled, never sent twice; a row whose POST's answer was lost
(``uncertain``) is resubmitted only with ``resubmit_uncertain`` (default: test keys only);
a live key needs ``confirm=True`` above ``CONFIRM_ABOVE`` billed evaluations.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from .._config import take_driver_token
from .._exceptions import NexioError
from ._batch import CONFIRM_ABOVE, Batch, _drive
from ._engine import Engine
from ._journal import Journal
from ._lock import DriverLock
from ._reuse import ReuseChoice, apply_reuse, parse_reuse

if TYPE_CHECKING:
    from .._client import AsyncClient
    from .._loop import LoopThread
    from ..progress.auto import ProgressChoice

__all__ = ["prepare_resume", "resume_batch", "start_resume"]


def prepare_resume(
    client: AsyncClient,
    name: str,
    *,
    store: str | Path | Journal | None = None,
    webhook: str | None = None,
    confirm: bool = False,
    resubmit_uncertain: bool | None = None,
    deadline_s: float = 900.0,
    reuse: ReuseChoice = False,
) -> Batch:
    """Take the batch's lock and load its unfinished rows; nothing is sent yet."""
    if deadline_s <= 0:
        raise ValueError("deadline_s must be a positive number of seconds")
    client.transport.require_key()
    journal = Journal.existing(store, name)
    info = journal.batch_info(name)
    if info is None:
        known = ", ".join(journal.batch_names()) or "none"
        raise NexioError(f"no batch named {name!r} in {journal.path} (batches: {known})")
    if info["base_url"] and info["base_url"] != client.base_url:
        raise NexioError(
            f"batch {name!r} was run against {info['base_url']}, not {client.base_url}: "
            "its evaluations can only be followed there (pass base_url=)"
        )
    age = parse_reuse(reuse)
    # a detached process takes over the lock its parent holds for it
    lock = DriverLock(journal, name, token=take_driver_token())
    lock.acquire(key_kind=client.transport.key_type)
    try:
        apply_reuse(journal, name, client.base_url, age)
        if client.is_live and not confirm:
            to_send = len(journal.reusable_rows(name))
            if to_send > CONFIRM_ABOVE:
                raise NexioError(
                    f"resuming batch {name!r} would submit {to_send} billed evaluations with "
                    "a live key; pass confirm=True (CLI: --yes) to go ahead"
                )
        engine = Engine(
            client.transport, journal, name, webhook_url=webhook or None, deadline_s=deadline_s
        )
        if resubmit_uncertain is None:
            resubmit_uncertain = not client.is_live
        engine.load(resubmit_uncertain=resubmit_uncertain)
    except BaseException:
        lock.release()
        raise
    batch = Batch(journal, name, engine)
    batch._driver = lock
    return batch


async def resume_batch(
    client: AsyncClient,
    name: str,
    *,
    store: str | Path | Journal | None = None,
    progress: ProgressChoice = "auto",
    webhook: str | None = None,
    confirm: bool = False,
    resubmit_uncertain: bool | None = None,
    deadline_s: float = 900.0,
    reuse: ReuseChoice = False,
) -> Batch:
    """Run the unfinished rows of batch ``name`` to the end; return the batch."""
    from ..progress import auto_progress

    batch = prepare_resume(
        client,
        name,
        store=store,
        webhook=webhook,
        confirm=confirm,
        resubmit_uncertain=resubmit_uncertain,
        deadline_s=deadline_s,
        reuse=reuse,
    )
    return await _drive(batch, auto_progress(progress), webhook)


def start_resume(
    client: AsyncClient,
    name: str,
    *,
    loop: LoopThread,
    store: str | Path | Journal | None = None,
    progress: ProgressChoice = "auto",
    webhook: str | None = None,
    confirm: bool = False,
    resubmit_uncertain: bool | None = None,
    deadline_s: float = 900.0,
    reuse: ReuseChoice = False,
    run: bool = True,
) -> Batch:
    """:func:`resume_batch` on ``loop``, returning at once (``.wait()``, ``.cancel()``);
    with ``run=False`` only prepared (the lock held), e.g. to be detached."""
    from ..progress import auto_progress

    batch = prepare_resume(
        client,
        name,
        store=store,
        webhook=webhook,
        confirm=confirm,
        resubmit_uncertain=resubmit_uncertain,
        deadline_s=deadline_s,
        reuse=reuse,
    )
    if not run:
        return batch
    reporter = auto_progress(progress)
    if reporter is not None and batch._engine is not None:
        reporter.update(batch._engine.progress())
    batch._loop = loop
    batch._future, batch._ended = loop.submit(_drive(batch, reporter, webhook))
    return batch
