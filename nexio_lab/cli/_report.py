"""``nexio-lab report NAME --out q4.html``: a batch's one-file HTML report, from the journal."""

from __future__ import annotations

import argparse
from typing import Any

from ._common import EXIT_OK, add_store_option, guarded

__all__ = ["register"]


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "report",
        help="write a journaled batch's one-file HTML report (no request is made)",
        description=(
            "Write one self-contained HTML file about batch NAME: rows by status, timing, "
            "pools, the six plots, the pool comparison, top candidates per segment, errors."
        ),
    )
    parser.add_argument("name", metavar="NAME", help="the batch name given to `run`")
    parser.add_argument("--out", metavar="FILE", required=True, help="the HTML file to write")
    add_store_option(parser)
    parser.set_defaults(func=guarded(report_command))


def report_command(args: argparse.Namespace) -> int:
    from ..batch import Batch

    batch = Batch.open(args.name, args.store)
    path = batch.to_report(args.out)
    print(f"batch {args.name!r}: report of {len(batch.evaluations)} evaluation(s) written to")
    print(f"  {path}")
    return EXIT_OK
