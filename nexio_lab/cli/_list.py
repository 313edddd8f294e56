"""``nexio-lab list``: every batch of the store, read from the journal only."""

from __future__ import annotations

import argparse
from typing import Any

from ._common import EXIT_OK, add_store_option, guarded

__all__ = ["register"]

_SHOWN = (
    "name",
    "state",
    "rows",
    "completed",
    "failed",
    "error",
    "uncertain",
    "pending",
    "reused",
    "key_kind",
    "pid",
    "last_activity",
    "pools",
    "base_url",
)


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "list",
        help="the batches of the store: state, counts, who runs them (no request is made)",
        description="List every batch of the journal with its counts per status, the kind "
        "of key it ran with, and whether (and in which process) it runs now.",
    )
    add_store_option(parser)
    parser.add_argument("--all-columns", action="store_true", help="every column")
    parser.set_defaults(func=guarded(list_command))


def list_command(args: argparse.Namespace) -> int:
    import pandas as pd

    from ..batch import list_batches

    frame = list_batches(args.store)
    if frame.empty:
        print("no batches in this store")
        return EXIT_OK
    shown = frame if args.all_columns else frame[list(_SHOWN)]
    shown = shown.assign(
        last_activity=shown["last_activity"].dt.strftime("%Y-%m-%d %H:%M"),
        pid=shown["pid"].astype(object).where(shown["pid"].notna(), "-"),
    )
    with pd.option_context("display.width", 200, "display.max_columns", None):
        print(shown.to_string(index=False, na_rep="-"))
    return EXIT_OK
