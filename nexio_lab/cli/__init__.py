"""The ``nexio-lab`` command line: one module per subcommand, each with ``register``."""

from __future__ import annotations

import argparse
import importlib
import logging
import sys
from collections.abc import Sequence

from .._version import __version__

#: Subcommand modules, each exposing ``register(subparsers)`` that sets ``func`` on its parser.
_COMMANDS = ("demo", "run", "resume", "status", "list", "cancel", "export", "report", "sandbox")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="nexio-lab",
        description="Run, track, resume and compare batches of Nexio evaluations.",
    )
    parser.add_argument("--version", action="version", version=f"nexio-lab {__version__}")
    parser.add_argument("-v", "--verbose", action="count", default=0, help="more log output")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in _COMMANDS:
        try:
            module = importlib.import_module(f"._{name}", __name__)
        except ModuleNotFoundError as exc:
            if exc.name != f"{__name__}._{name}":
                raise
            continue  # subcommand not built yet
        module.register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.WARNING - 10 * min(args.verbose, 2),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    try:
        return int(args.func(args) or 0)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
