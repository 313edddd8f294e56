"""``nexio-lab status NAME``: where a journaled batch stands, read from the journal only."""

from __future__ import annotations

import argparse
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
    parser.set_defaults(func=guarded(status_command))


def status_command(args: argparse.Namespace) -> int:
    from ..batch import Batch

    batch = Batch.open(args.name, args.store)
    counts = batch.status_counts()
    total = sum(counts.values())
    width = max(len(s) for s in counts)
    print(f"batch {args.name!r}: {total} evaluation(s)")
    for status, n in counts.items():
        print(f"  {status:<{width}}  {n}")
    left = total - counts.get("completed", 0) - counts.get("failed", 0)
    if left:
        print(f"{left} not completed or failed; `nexio-lab run` with the same name resumes")
    return EXIT_OK
