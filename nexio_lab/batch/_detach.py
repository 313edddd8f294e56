"""Detach: hand a prepared batch to a separate OS process that outlives this one.

The child is ``python -m nexio_lab.cli resume NAME`` in its own session (a kernel restart or
a closed terminal does not reach it), writing its log next to the journal. The key goes
through the child's environment only: never its argv (which ``ps`` shows every user of the
machine) nor a file. The lock this process took while journaling the batch passes to the
child through a random token, so no other driver can slip in between.
"""

from __future__ import annotations

import re
import subprocess
import sys
import threading
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from .._exceptions import NexioError

if TYPE_CHECKING:
    from .._client import AsyncClient
    from ._batch import Batch
    from ._registry import StoredBatch

__all__ = ["detach", "log_path_for"]


def log_path_for(journal_path: str, name: str) -> Path:
    """``<store folder>/logs/<name>-<UTC time>.log``."""
    safe = re.sub(r"[^A-Za-z0-9._-]+", "_", name)[:80] or "batch"
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
    return Path(journal_path).resolve().parent / "logs" / f"{safe}-{stamp}.log"


def detach(
    batch: Batch,
    client: AsyncClient,
    *,
    webhook: str | None,
    resubmit_uncertain: bool | None,
    deadline_s: float,
) -> StoredBatch:
    """Start the detached driver of ``batch`` (whose lock this process holds) and return a
    journal-backed handle at once; ``handle.log_path`` is the child's log file."""
    from ._registry import open_batch

    lock = batch._driver
    journal = batch.journal
    if lock is None or not lock.held:
        raise NexioError("internal: detach needs the batch's lock")
    if journal.path == ":memory:":
        lock.release()
        raise NexioError("a detached batch needs a journal file: pass store=PATH")
    if resubmit_uncertain is None:
        resubmit_uncertain = not client.is_live
    log_path = log_path_for(journal.path, batch.name)
    argv = [
        sys.executable,
        "-m",
        "nexio_lab.cli",
        "resume",
        batch.name,
        "--store",
        str(Path(journal.path).resolve()),
        "--base-url",
        client.base_url,
        "--deadline",
        repr(float(deadline_s)),
        "--resubmit-uncertain" if resubmit_uncertain else "--no-resubmit-uncertain",
        "--progress",
        "log",
        "--yes",  # this process already applied the live-key confirmation
    ]
    if webhook:
        argv += ["--webhook", webhook]
    env = client.transport.child_environment(
        driver_token=lock.token, import_path=str(Path(__file__).resolve().parents[2])
    )
    try:
        log_path.parent.mkdir(parents=True, exist_ok=True)
        with open(log_path, "ab") as log:
            process = subprocess.Popen(
                argv,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                env=env,
                cwd=log_path.parent,
                start_new_session=True,  # no SIGHUP/SIGINT from our terminal or kernel
                close_fds=True,
            )
    except OSError as exc:
        lock.release()
        raise NexioError(f"cannot start the detached process: {exc}") from exc
    # reap the child if it ends while we live (a zombie would look alive to `ps`); the
    # thread dies with us, the child does not
    threading.Thread(target=process.wait, name="nexio-lab-detached", daemon=True).start()
    lock.hand_over(process.pid, str(log_path))
    journal.set_log_path(batch.name, str(log_path))
    handle = open_batch(batch.name, journal)
    handle.log_path = log_path
    handle.plan = batch.plan
    return handle
