"""``nexio-lab resume NAME``: finish a journaled batch from the profiles and pools it holds.

No input file: the journal has every row. Exit codes as for ``run``; 130 when stopped by
Ctrl-C or SIGTERM (a detached batch's ``cancel``), its journal consistent.
"""

from __future__ import annotations

import argparse
import logging
import signal
import sys
from pathlib import Path
from typing import Any

from ._common import EXIT_OK, EXIT_ROWS, add_format_option, add_store_option, fail, guarded

__all__ = ["add_reuse_option", "register"]


def add_reuse_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--reuse",
        metavar="AGE",
        help="take completed results of the same profile, pool and base URL from any batch "
        "of the store evaluated within AGE (e.g. 7d, 12h, 30m; 'any' for any age) "
        "instead of paying again",
    )


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "resume",
        help="finish a journaled batch (no input file needed)",
        description=(
            "Continue batch NAME from the profiles and pools its journal holds: rows already "
            "sent are polled, never sent twice. Reads NEXIO_API_KEY; the base URL defaults "
            "to the one the batch was run against. --detach hands it to a separate process."
        ),
    )
    parser.add_argument("name", metavar="NAME", help="the batch name")
    add_store_option(parser)
    parser.add_argument("--base-url", metavar="URL", help="API base URL (default: the batch's)")
    parser.add_argument("--webhook", metavar="URL", help="receive results on a local URL")
    parser.add_argument(
        "--resubmit-uncertain",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="resubmit rows whose submission outcome is unknown (default: only test keys)",
    )
    parser.add_argument("--deadline", metavar="SECONDS", type=float, default=900.0)
    add_reuse_option(parser)
    parser.add_argument(
        "--yes", action="store_true", help="skip the confirmation of large live-key batches"
    )
    parser.add_argument("--detach", action="store_true", help="run it in a separate process")
    parser.add_argument("--out", metavar="DIR", help="also write the tables here")
    add_format_option(parser)
    parser.add_argument(
        "--progress",
        choices=("auto", "console", "log", "none"),
        default="auto",
        help="progress output (default: a live line on a terminal, log lines otherwise)",
    )
    parser.set_defaults(func=guarded(resume_command))


def _terminate_as_interrupt(signum: int, frame: Any) -> None:
    # SIGTERM (`nexio-lab cancel`, a stopping system) takes the Ctrl-C path: nothing new is
    # sent, answers of requests in flight are journaled, and a later resume finishes it
    raise KeyboardInterrupt


def resume_command(args: argparse.Namespace) -> int:
    from .._client import Client
    from ..batch import Journal, default_store

    journal = Journal(args.store or default_store())
    info = journal.batch_info(args.name)
    base_url = args.base_url or (info or {}).get("base_url")
    progress: Any = False if args.progress == "none" else args.progress
    if progress:
        logging.getLogger("nexio_lab.progress").setLevel(logging.INFO)
    signal.signal(signal.SIGTERM, _terminate_as_interrupt)
    client = Client(base_url=base_url or None)  # the key: NEXIO_API_KEY, never argv
    try:
        batch = client.resume_batch(
            args.name,
            store=journal,
            progress=progress,
            webhook=args.webhook,
            confirm=args.yes,
            resubmit_uncertain=args.resubmit_uncertain,
            deadline_s=args.deadline,
            reuse=args.reuse or False,
            detach=args.detach,
        )
    finally:
        client.close()
    if args.detach:
        from ..batch._registry import StoredBatch

        assert isinstance(batch, StoredBatch)
        print(
            f"batch {args.name!r} detached: process {batch.pid or '?'}, log {batch.log_path}\n"
            f"follow it with `nexio-lab status {args.name} --watch`"
        )
        return EXIT_OK
    return report(batch, args.name, out=args.out, fmt=args.format)


def report(batch: Any, name: str, *, out: str | None, fmt: Any) -> int:
    """Counts, problem rows and (with ``out``) the tables of a batch that ran here."""
    from ._common import write_tables
    from ._run import problem_rows

    counts = {s: n for s, n in batch.status_counts().items() if n}
    print(f"batch {name!r}: " + ", ".join(f"{s} {n}" for s, n in counts.items()), flush=True)
    if out:
        files = write_tables(batch.results, Path(out), fmt)
        print(f"tables: {', '.join(str(f) for f in files)}")
    problems = problem_rows(batch)
    stopped = batch.stopped_reason
    if stopped and stopped != "cancelled":
        print(f"{len(problems)} row(s) not finished; `nexio-lab resume {name}` continues")
        return fail(f"batch stopped: {stopped}")
    if not problems:
        return EXIT_OK
    print(f"{len(problems)} row(s) did not complete", file=sys.stdout)
    return EXIT_ROWS
