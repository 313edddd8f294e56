"""``nexio-lab cancel NAME``: stop the process running a batch, cleanly."""

from __future__ import annotations

import argparse
from typing import Any

from ._common import EXIT_OK, add_store_option, guarded

__all__ = ["register"]


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "cancel",
        help="stop the process running a batch (its journal stays consistent)",
        description=(
            "Ask the process running batch NAME (detached or not) to stop: nothing new is "
            "sent, answers of requests in flight are journaled. `nexio-lab resume NAME` "
            "finishes it later."
        ),
    )
    parser.add_argument("name", metavar="NAME", help="the batch name")
    add_store_option(parser)
    parser.add_argument(
        "--timeout", metavar="SECONDS", type=float, default=60.0, help="wait this long"
    )
    parser.set_defaults(func=guarded(cancel_command))


def cancel_command(args: argparse.Namespace) -> int:
    from ..batch import open_batch

    batch = open_batch(args.name, args.store)
    pid = batch.pid
    if pid is None:
        print(f"batch {args.name!r} is not running ({batch.describe()})")
        return EXIT_OK
    batch.cancel(timeout=args.timeout)
    print(f"batch {args.name!r}: process {pid} stopped; now {batch.describe()}")
    if batch.state != "finished":
        print(f"`nexio-lab resume {args.name}` finishes it")
    return EXIT_OK
