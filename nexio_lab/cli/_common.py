"""What the CLI subcommands share: error reporting, the journal option, writing tables."""

from __future__ import annotations

import argparse
import functools
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from .._exceptions import NexioError

if TYPE_CHECKING:
    from ..batch import Batch
    from ..results import ResultSet

__all__ = [
    "EXIT_FAILED",
    "EXIT_OK",
    "EXIT_ROWS",
    "Format",
    "add_store_option",
    "fail",
    "guarded",
    "write_tables",
]

EXIT_OK = 0
EXIT_ROWS = 1  # the run went through but some rows did not reach completed/failed
EXIT_FAILED = 2  # nothing useful happened: bad key, unreachable API, unusable input

Format = Literal["parquet", "csv"]


def fail(message: str) -> int:
    """Print one line on stderr (never a traceback) and return the failure exit code."""
    print(f"nexio-lab: {message}", file=sys.stderr)
    return EXIT_FAILED


def guarded(func: Callable[[argparse.Namespace], int]) -> Callable[[argparse.Namespace], int]:
    """Turn a :class:`NexioError` escaping a subcommand into one line on stderr and exit 2.

    The library's messages never hold the key, so they are safe to print as they are.
    """

    @functools.wraps(func)
    def wrapper(args: argparse.Namespace) -> int:
        try:
            return func(args)
        except NexioError as exc:
            return fail(str(exc).splitlines()[0] if str(exc) else type(exc).__name__)

    return wrapper


def add_store_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--store",
        metavar="PATH",
        help="journal file (default: $NEXIO_LAB_HOME/journal.sqlite, "
        "NEXIO_LAB_HOME defaulting to ~/.nexio-lab)",
    )


def add_format_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--format",
        choices=("parquet", "csv"),
        default="parquet",
        help="file format of the tables (default: parquet)",
    )


def write_tables(results: ResultSet | Batch, directory: str | Path, fmt: Format) -> list[Path]:
    """Write ``evaluations``, ``candidates`` and ``scores`` into ``directory``; return the files."""
    out = Path(directory)
    written = results.to_parquet(out) if fmt == "parquet" else results.to_csv(out)
    suffix = f".{fmt}"
    return sorted(p for p in Path(written).iterdir() if p.suffix == suffix)
