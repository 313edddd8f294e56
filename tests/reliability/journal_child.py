"""Run one batch in a child process whose journal cannot be written, without mount rights.

    python journal_child.py '{"url": ..., "store": ..., "name": ..., "n": 40,
                              "full_after": 10, "uid": 65534}'

``full_after``: once that many rows completed, no file may grow any more (``RLIMIT_FSIZE``
set to the journal's current size: a disk full mid-batch, as SQLite sees it), with SIGXFSZ
ignored so the write fails instead of killing the process. ``uid``: drop to
that user once everything is imported (root writes through any permission bits; another user
cannot write a 0444 journal). Prints one JSON line: how the batch ended.
"""

from __future__ import annotations

import json
import os
import resource
import signal
import sys
import time
from pathlib import Path

from reliability_support import SANDBOX_KEY, CountingTransport, profiles

# everything is imported before a uid drop, which may hide the interpreter's own files
import nexio_lab as nx
import nexio_lab.batch
import nexio_lab.progress


def _fill_the_disk(batch: nx.Batch, store: Path, after: int) -> None:
    """Once ``after`` rows completed, no file of this process may grow any more."""
    while batch.status_counts()["completed"] < after and batch.running:
        time.sleep(0.005)
    largest = max(p.stat().st_size for p in store.parent.glob(store.name + "*"))
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    resource.setrlimit(resource.RLIMIT_FSIZE, (largest, resource.RLIM_INFINITY))


def main() -> int:
    options = json.loads(sys.argv[1])
    transport = CountingTransport()
    client = nx.Client(SANDBOX_KEY, base_url=options["url"], transport=transport)
    client.health()  # the HTTP stack is loaded and a connection works before any limit
    if options.get("uid") is not None:
        os.setgid(int(options["uid"]))
        os.setuid(int(options["uid"]))
    outcome: dict[str, object] = {"raised": None, "stopped": None, "counts": None}
    sent_before = transport.sent
    batch = None
    try:
        batch = client.start_batch(
            profiles(int(options["n"])),
            pool=options.get("pool", "carriers:tier1"),
            name=options["name"],
            store=options["store"],
            progress=False,
        )
        if options.get("full_after") is not None:
            _fill_the_disk(batch, Path(options["store"]), int(options["full_after"]))
        batch.wait()
        outcome["stopped"] = batch.stopped_reason
    except nx.NexioError as exc:
        outcome["raised"] = f"{type(exc).__name__}: {exc}"
    # what the engine asked for, and what went on the wire: the summary's retries
    outcome["requests"] = batch.progress.requests if batch is not None else 0
    outcome["sent"] = transport.sent - sent_before
    print(json.dumps(outcome), flush=True)
    os._exit(0)  # nothing more may be written (atexit, a journal close) past the limit


if __name__ == "__main__":
    sys.exit(main())
