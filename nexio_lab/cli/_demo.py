"""``nexio-lab demo``: the shipped profiles against two pools of an embedded sandbox."""

from __future__ import annotations

import argparse
import logging
from typing import Any

from ._common import EXIT_OK, EXIT_ROWS, guarded

__all__ = ["register"]


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "demo",
        help="a batch against an embedded sandbox: tables, plots, a summary (no key needed)",
        description=(
            "Start a local sandbox, run the shipped profiles against carriers:all and "
            "carriers:tier1 with live progress, and write the evaluations, candidates and "
            "scores tables (Parquet and CSV), PNGs of the comparison plots and a one-file "
            "HTML report (report.html) into --out. "
            "No key, no network."
        ),
    )
    parser.add_argument("--out", metavar="DIR", default="demo-out", help="default ./demo-out")
    parser.add_argument(
        "--rows", metavar="N", type=int, help="use the first N profiles (default: all 240)"
    )
    parser.add_argument("--no-progress", action="store_true", help="no progress output")
    parser.set_defaults(func=guarded(demo_command))


def demo_command(args: argparse.Namespace) -> int:
    from ..demo import run_demo

    if args.rows is not None and args.rows < 1:
        raise SystemExit("nexio-lab demo: --rows must be at least 1")
    if not args.no_progress:
        # In a non-TTY, progress comes as INFO log lines every few seconds: let them through.
        logging.getLogger("nexio_lab.progress").setLevel(logging.INFO)
    result = run_demo(args.out, rows=args.rows, progress=False if args.no_progress else "auto")
    print(result.summary())
    return EXIT_OK if result.batch.ok else EXIT_ROWS
