"""``nexio-lab export NAME --out DIR``: write a batch's tables again, from the journal only."""

from __future__ import annotations

import argparse
from typing import Any

from ._common import EXIT_OK, add_format_option, add_store_option, guarded, write_tables

__all__ = ["register"]


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "export",
        help="write a journaled batch's tables again (no request is made)",
        description=(
            "Write the evaluations, candidates and scores tables of batch NAME into DIR, "
            "from what the journal holds."
        ),
    )
    parser.add_argument("name", metavar="NAME", help="the batch name given to `run`")
    parser.add_argument("--out", metavar="DIR", required=True, help="directory for the tables")
    add_format_option(parser)
    add_store_option(parser)
    parser.set_defaults(func=guarded(export_command))


def export_command(args: argparse.Namespace) -> int:
    from ..batch import Batch

    batch = Batch.open(args.name, args.store)
    # streamed from the journal a chunk at a time: memory stays bounded however large
    files = write_tables(batch, args.out, args.format)
    count = sum(batch.status_counts().values())
    print(f"batch {args.name!r}: {count} evaluation(s) written to")
    for path in files:
        print(f"  {path}")
    return EXIT_OK
