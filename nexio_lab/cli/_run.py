"""``nexio-lab run``: a batch of profiles against one or more pools, journaled and resumable.

Exit codes: 0 when every row reached ``completed`` or ``failed`` at the API; 1 when the
batch ran but some rows errored locally, could not be submitted, are ``uncertain`` or are
still open (they are listed); 2 when the batch could not run at all (bad or missing key,
unreachable API, unusable input, a live batch not confirmed), with one line on stderr.
"""

from __future__ import annotations

import argparse
import logging
import sys
import time
import warnings
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .._status import OPEN, Status, is_ok
from ._common import (
    EXIT_OK,
    EXIT_ROWS,
    add_format_option,
    add_store_option,
    fail,
    guarded,
    write_tables,
)
from ._resume import add_reuse_option

if TYPE_CHECKING:
    from collections.abc import Iterator

    from .._client import Client
    from .._models import EvaluationRecord
    from ..batch import Batch, BatchPlan

__all__ = ["problem_rows", "register"]

#: How many problem rows are listed before "... and N more".
_LIST_AT_MOST = 50


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "run",
        help="run a batch of profiles against one or more pools",
        description=(
            "Run every profile of PROFILES (.csv, .jsonl or .parquet) against every --pool, "
            "within the key's rate limit, journaled as it goes: rerunning the same command "
            "resumes without resubmitting. Reads NEXIO_API_KEY and NEXIO_BASE_URL. Exit "
            "status: 0 all rows completed or failed at the API, 1 some rows errored or are "
            "left (listed), 2 the batch could not run."
        ),
    )
    parser.add_argument(
        "profiles", metavar="PROFILES", help="profiles file: .csv, .jsonl, .parquet"
    )
    parser.add_argument(
        "--pool",
        dest="pools",
        metavar="POOL",
        action="append",
        required=True,
        help="candidate pool, e.g. carriers:all (repeat for several: every profile x every pool)",
    )
    parser.add_argument(
        "--name", help="batch name; the same name resumes (default: the file's stem)"
    )
    parser.add_argument(
        "--out", metavar="DIR", help="tables go here (default ./nexio-results/NAME)"
    )
    add_format_option(parser)
    add_store_option(parser)
    parser.add_argument("--base-url", metavar="URL", help="API base URL (default $NEXIO_BASE_URL)")
    parser.add_argument(
        "--webhook",
        metavar="URL",
        help="receive results on a local http://HOST:PORT/path instead of polling",
    )
    parser.add_argument(
        "--dry-run",
        action="store_true",
        help="check every row and print what would be billed; send nothing",
    )
    parser.add_argument(
        "--yes", action="store_true", help="skip the confirmation of large live-key batches"
    )
    parser.add_argument(
        "--resubmit-uncertain",
        action="store_true",
        default=None,
        help="resubmit rows whose submission outcome is unknown (default: only with test keys)",
    )
    parser.add_argument(
        "--extend", action="store_true", help="add changed rows to an existing batch name"
    )
    parser.add_argument(
        "--allow-duplicates",
        action="store_true",
        help="send identical (profile, pool) pairs each time instead of once",
    )
    parser.add_argument(
        "--deadline",
        metavar="SECONDS",
        type=float,
        default=900.0,
        help="give up polling an evaluation after this long (default 900)",
    )
    parser.add_argument("--no-progress", action="store_true", help="no progress output")
    add_reuse_option(parser)
    parser.add_argument(
        "--detach",
        action="store_true",
        help="journal the batch, then run it in a separate process that outlives this one "
        "(follow it with `status NAME --watch`, stop it with `cancel NAME`)",
    )
    parser.add_argument(
        "--price",
        metavar="AMOUNT",
        type=float,
        help="price of one evaluation, for the dry run's cost estimate (the docs publish none)",
    )
    parser.set_defaults(func=guarded(run_command))


def _default_name(profiles: str) -> str:
    return Path(profiles).stem or "batch"


def run_command(args: argparse.Namespace) -> int:
    from .. import _config
    from .._client import Client
    from .._exceptions import MissingAPIKeyError

    name = args.name or _default_name(args.profiles)
    plan = _plan(args, name)  # the input is read here, once
    if args.dry_run:
        print(plan)
        print("dry run: nothing was sent")
        # Rejected rows would end as errors in a real run: the same exit code says so now.
        return EXIT_ROWS if plan.errors else EXIT_OK
    if _config.api_key() is None:
        return fail(str(MissingAPIKeyError()))
    client = Client(base_url=args.base_url)
    try:
        confirmed = args.yes or _confirm_if_needed(client, plan)
        if confirmed is None:
            return fail(
                "this batch needs confirmation (live key, more than 100 billed evaluations) "
                "and stdin is not a terminal; rerun with --yes to go ahead"
            )
        if confirmed is False:
            return fail("not confirmed; nothing was sent")
        _check_reachable(client)
        if args.detach:
            return _detach(client, args, plan)
        batch = _run(client, args, plan)
    finally:
        client.close()
    return _report(batch, args, name)


def _detach(client: Client, args: argparse.Namespace, plan: BatchPlan) -> int:
    with _warnings_as_lines():
        batch = client.start_batch(
            plan,
            pools=plan.pools,
            name=plan.name,
            store=args.store,
            webhook=args.webhook,
            confirm=True,  # asked above when it had to be
            resubmit_uncertain=args.resubmit_uncertain,
            allow_duplicates=args.allow_duplicates,
            extend=args.extend,
            deadline_s=args.deadline,
            reuse=args.reuse or False,
            detach=True,
        )
    name = plan.name
    print(plan)
    print(
        f"batch {name!r} detached: process {getattr(batch, 'pid', None) or '?'}, log "
        f"{getattr(batch, 'log_path', '?')}\nfollow it with `nexio-lab status {name} --watch`; "
        f"stop it with `nexio-lab cancel {name}`; `nexio-lab resume {name}` continues it"
    )
    return EXIT_OK


def _check_reachable(client: Client) -> None:
    """``GET /health`` (unbilled, no key) so a wrong URL fails at once, before any row is
    journaled. Fewer retries than the batch's own: a refused connection is rarely a blip,
    and the batch itself still retries its requests in full."""
    from .._client import Client

    with Client(None, base_url=client.base_url, max_retries=2) as probe:
        probe.health()


def _plan(args: argparse.Namespace, name: str) -> BatchPlan:
    """Read and check the input; only an existing journal is read (a plan creates nothing).
    A dry run also asks one unkeyed, unbilled ``GET /health`` for the rate limit (the ETA)."""
    from .. import _config
    from ..batch import Journal, default_store, fetch_rate_limit, plan_batch

    store = Path(args.store) if args.store else default_store()
    base_url = (args.base_url or _config.base_url()).rstrip("/")
    read_at = time.time()
    rate_limit = fetch_rate_limit(base_url) if args.dry_run else None
    return plan_batch(
        args.profiles,
        pools=args.pools,
        name=name,
        journal=Journal(store) if store.is_file() else None,
        allow_duplicates=args.allow_duplicates,
        extend=args.extend,
        reuse=args.reuse or False,
        base_url=base_url,
        webhook=args.webhook,
        price_per_evaluation=args.price,
        rate_limit=rate_limit,
        rate_limit_at=read_at,
    )


def _confirm_if_needed(client: Client, plan: BatchPlan) -> bool | None:
    """True to go ahead, False when the analyst said no, None when nobody could be asked."""
    from ..batch import CONFIRM_ABOVE

    if not client.is_live or plan.billable <= CONFIRM_ABOVE:
        return True
    print(plan, file=sys.stderr)
    if not (sys.stdin.isatty() and sys.stderr.isatty()):
        return None
    # The question goes to stderr, like the plan: stdout may be piped into a file.
    print(
        f"Submit {plan.billable} billed evaluations with a live key? [y/N] ",
        end="",
        file=sys.stderr,
        flush=True,
    )
    return sys.stdin.readline().strip().lower() in {"y", "yes"}


@contextmanager
def _warnings_as_lines() -> Iterator[None]:
    """Library warnings (rejected rows, duplicates) as plain lines, not source locations."""

    def show(message: Any, *_: Any, **__: Any) -> None:
        print(f"nexio-lab: warning: {message}", file=sys.stderr)

    with warnings.catch_warnings():
        warnings.simplefilter("default")
        warnings.showwarning = show
        yield


def _run(client: Client, args: argparse.Namespace, plan: BatchPlan) -> Batch:
    progress: Any = False if args.no_progress else "auto"
    if not args.no_progress:
        # In a non-TTY, "auto" logs a line every few seconds at INFO: let those through.
        logging.getLogger("nexio_lab.progress").setLevel(logging.INFO)
    with _warnings_as_lines():
        return client.run_batch(
            plan,
            pools=plan.pools,
            name=plan.name,
            store=args.store,
            webhook=args.webhook,
            progress=progress,
            confirm=True,  # asked above when it had to be
            resubmit_uncertain=args.resubmit_uncertain,
            allow_duplicates=args.allow_duplicates,
            extend=args.extend,
            deadline_s=args.deadline,
            reuse=args.reuse or False,
        )


def problem_rows(batch: Batch) -> list[tuple[int, str, str]]:
    """(row, pool, reason) of every row that did not end completed or failed at the API."""
    rows = []
    for record in batch.records():
        if is_ok(record.status):
            continue
        rows.append((record.row, record.pool, _reason(record)))
    return sorted(rows)


def _reason(record: EvaluationRecord) -> str:
    code, message = record.error_code, record.error_message
    if message:
        return f"{record.status}: {message}" if not code else f"{record.status} ({code}): {message}"
    if record.status in OPEN:
        return f"{record.status}: not finished; rerun the same command to resume"
    return record.status


def _row_ranges(rows: list[int]) -> str:
    """``[0, 1, 2, 5]`` -> ``'0-2, 5'``.

    >>> _row_ranges([0, 1, 2, 5, 7, 8])
    '0-2, 5, 7-8'
    """
    spans: list[list[int]] = []
    for row in sorted(rows):
        if spans and row == spans[-1][1] + 1:
            spans[-1][1] = row
        else:
            spans.append([row, row])
    return ", ".join(str(a) if a == b else f"{a}-{b}" for a, b in spans)


def _grouped(problems: list[tuple[int, str, str]]) -> list[str]:
    """One line per (pool, reason): an unknown pool says so once, not once per row."""
    groups: dict[tuple[str, str], list[int]] = {}
    for row, pool, reason in problems:
        groups.setdefault((pool, reason), []).append(row)
    lines = []
    for (pool, reason), rows in groups.items():
        where = f"row {rows[0]}" if len(rows) == 1 else f"{len(rows)} rows ({_row_ranges(rows)})"
        lines.append(f"  {where} ({pool}): {reason}")
    return lines


def _report(batch: Batch, args: argparse.Namespace, name: str) -> int:
    counts = {s: n for s, n in batch.status_counts().items() if n}
    print(f"batch {name!r}: " + ", ".join(f"{s} {n}" for s, n in counts.items()))
    if sum(n for s, n in counts.items() if is_ok(s)):
        out = Path(args.out) if args.out else Path("nexio-results") / name
        files = write_tables(batch.results, out, args.format)
        print(f"tables: {', '.join(str(f) for f in files)}")
    else:
        print("no evaluation finished: no tables written")
    problems = problem_rows(batch)
    stopped = batch.stopped_reason and batch.stopped_reason != "cancelled"
    if stopped:
        # A whole-batch stop (the network gone): the rows are not the story.
        print(f"{len(problems)} row(s) not finished; rerun the same command to resume")
        return fail(f"batch stopped: {batch.stopped_reason}")
    if not problems:
        return EXIT_OK
    print(f"{len(problems)} row(s) did not complete:")
    lines = _grouped(problems)
    for line in lines[:_LIST_AT_MOST]:
        print(line)
    if len(lines) > _LIST_AT_MOST:
        print(f"  ... and {len(lines) - _LIST_AT_MOST} more (see the evaluations table)")
    if any(reason.startswith(Status.UNCERTAIN) for _, _, reason in problems):
        print(
            "uncertain rows are resubmitted by a rerun with a test key; with a live key only "
            "with --resubmit-uncertain (it may bill them twice)"
        )
    return EXIT_ROWS
