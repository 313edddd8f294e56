"""``nexio-lab status NAME``: where a journaled batch stands, read from the journal only."""

from __future__ import annotations

import argparse
import logging
from typing import Any

from ._common import EXIT_OK, add_store_option, guarded

__all__ = ["register"]


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "status",
        help="counts per status of a journaled batch (no request is made)",
        description="Print how many rows of batch NAME are in each status, from the journal.",
    )
    parser.add_argument("name", metavar="NAME", help="the batch name given to `run`")
    add_store_option(parser)
    parser.add_argument(
        "--watch",
        action="store_true",
        help="follow the batch live (whichever process runs it) until it ends",
    )
    parser.set_defaults(func=guarded(status_command))


def status_command(args: argparse.Namespace) -> int:
    from ..batch import open_batch

    batch = open_batch(args.name, args.store)
    if args.watch:
        from ..batch import attach

        logging.getLogger("nexio_lab.progress").setLevel(logging.INFO)  # non-TTY: log lines
        batch = attach(args.name, batch.journal, progress="auto")
    counts = batch.status_counts()
    total = sum(counts.values())
    width = max(len(s) for s in counts)
    print(f"batch {args.name!r}: {total} evaluation(s), {batch.describe()}")
    for status, n in counts.items():
        print(f"  {status:<{width}}  {n}")
    left = total - counts.get("completed", 0) - counts.get("failed", 0)
    if left:
        print(f"{left} not completed or failed; `nexio-lab resume {args.name}` continues")
    return EXIT_OK
