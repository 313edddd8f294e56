"""nexio-lab benchmarks: batch efficiency against the rate-limit bound and against the
clients a user would write instead (issue 7), plus the soak test (issue 8).

    python -m benchmarks                      # scenarios 1-6, 8, 9 on every kind of window
    python -m benchmarks --smoke              # tiny sizes, seconds (run by the tests)
    python -m benchmarks --only limit         # one scenario (repeatable)
    python -m benchmarks --rate-kind sliding  # `limit` and `shared` on one kind (repeatable)
    python -m benchmarks --soak               # add scenario 7 (5,000 evaluations, ~4 min)
    python -m benchmarks --json results.json  # also write the table as JSON

Scenarios: limit (1, with 4's baselines, on each kind of window), latency (2, with 4's
baselines), webhook (3), overhead (5), memory (6: RSS and frames), soak (7), shared (8:
K processes on one key, each kind), realscale (9: the docs' timings, compressed). Each run
is on a fresh sandbox with the same seed; paired comparisons alternate over 3 rounds (1 in
smoke mode); see benchmarks/README.md for what each figure means.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import os
import platform
import sys
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

if __package__ in {None, ""}:  # `python benchmarks/run.py`
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    __package__ = "benchmarks"

from benchmarks._common import Settings
from benchmarks._report import Row, print_table, write_json
from nexio_lab.sandbox._ratelimit import DEFAULT_RATE_KIND, RATE_KINDS

__all__ = ["SCENARIOS", "main"]

#: name -> (full size, smoke size) settings
SIZES: dict[str, tuple[Settings, Settings]] = {
    # 2N = 240 requests over 4 windows; processing 0.4-1.5 s: the budget binds. 60 requests
    # per 5 s is the issue's own example; compressed further, the client's own time per
    # request (a 60-request burst takes it about 0.2 s here) weighs as a part of a window
    # that it never does at a real minute
    "limit": (
        Settings(n=120, limit=60, window=5.0, speed=40),
        Settings(n=8, limit=10, window=0.5, speed=400),
    ),
    # processing 3-12 s: after the submissions' window the budget has room, readiness binds
    "latency": (
        Settings(n=60, limit=60, window=5.0, speed=5),
        Settings(n=8, limit=20, window=1.0, speed=100),
    ),
    "soak": (
        Settings(n=5000, limit=100, window=2.0, speed=60, error_rate=0.1),
        Settings(n=40, limit=30, window=1.0, speed=200, error_rate=0.1),
    ),
}
#: K processes -> evaluations each (full, smoke), on the "limit" settings' key
SHARED = {2: (120, 6), 3: (80, 4)}
#: real-scale scenario: evaluations (full, smoke) and the speed it is compressed by
REAL_SCALE = {"n": ((5, 60), (3,)), "speed": (10.0, 100.0)}
ROUNDS = (3, 1)  # alternating runs per paired comparison (full, smoke)


def _limit(smoke: bool, kinds: list[str]) -> list[Row]:
    from benchmarks._paced import limit_binds

    rows: list[Row] = []
    for kind in kinds:
        settings = replace(SIZES["limit"][smoke], kind=kind)
        rows += limit_binds(settings, ROUNDS[smoke], shortcut=kind == DEFAULT_RATE_KIND)
    return rows


def _latency(smoke: bool, kinds: list[str]) -> list[Row]:
    from benchmarks._paced import latency_binds

    return latency_binds(SIZES["latency"][smoke], ROUNDS[smoke])


def _webhook(smoke: bool, kinds: list[str]) -> list[Row]:
    from benchmarks._paced import webhook_delivery

    return webhook_delivery(SIZES["limit"][smoke], ROUNDS[smoke])


def _shared(smoke: bool, kinds: list[str]) -> list[Row]:
    from benchmarks._shared import shared_key

    rows: list[Row] = []
    # smoke: the first kind only (three interpreters start per kind)
    for kind in kinds[:1] if smoke else kinds:
        for k, sizes in SHARED.items():
            settings = replace(SIZES["limit"][smoke], kind=kind, n=sizes[smoke])
            rows += shared_key(settings, k)
    return rows


def _realscale(smoke: bool, kinds: list[str]) -> list[Row]:
    from benchmarks._realscale import real_scale

    speed = REAL_SCALE["speed"][smoke]
    rows: list[Row] = []
    for n in REAL_SCALE["n"][smoke]:
        rows += real_scale(n, speed, ROUNDS[smoke])
    return rows


def _overhead(smoke: bool, kinds: list[str]) -> list[Row]:
    from benchmarks._overhead import client_overhead

    return (
        client_overhead(40, repeats=3, capacity_n=200)
        if smoke
        else client_overhead(500, repeats=3, capacity_n=3000)
    )


def _memory(smoke: bool, kinds: list[str]) -> list[Row]:
    from benchmarks._scale import frames_vs_json_normalize, memory_and_scale

    rows = memory_and_scale(300 if smoke else 20_000)
    with contextlib.redirect_stdout(io.StringIO()):  # frames.py prints its own table
        rows += frames_vs_json_normalize(smoke)
    return rows


def _soak(smoke: bool, kinds: list[str]) -> list[Row]:
    from benchmarks._scale import soak

    return soak(SIZES["soak"][smoke])


SCENARIOS: dict[str, Callable[[bool, list[str]], list[Row]]] = {
    "limit": _limit,
    "latency": _latency,
    "webhook": _webhook,
    "shared": _shared,
    "realscale": _realscale,
    "overhead": _overhead,
    "memory": _memory,
    "soak": _soak,
}
DEFAULT = ("limit", "latency", "webhook", "shared", "realscale", "overhead", "memory")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks", description=__doc__.splitlines()[0]
    )
    parser.add_argument("--smoke", action="store_true", help="tiny sizes, a few seconds each")
    parser.add_argument(
        "--only",
        action="append",
        choices=sorted(SCENARIOS),
        metavar="SCENARIO",
        help=f"run only this scenario (repeatable): {', '.join(SCENARIOS)}",
    )
    parser.add_argument("--soak", action="store_true", help="also run the soak (scenario 7)")
    parser.add_argument(
        "--rate-kind",
        action="append",
        choices=RATE_KINDS,
        dest="kinds",
        metavar="KIND",
        help=f"kinds of window for `limit` and `shared` (repeatable; default all: "
        f"{', '.join(RATE_KINDS)})",
    )
    parser.add_argument("--json", type=Path, metavar="PATH", help="also write the rows as JSON")
    args = parser.parse_args(argv)
    chosen = args.only or [*DEFAULT, *(["soak"] if args.soak else [])]
    kinds = args.kinds or list(RATE_KINDS)
    rows: list[Row] = []
    timings: dict[str, float] = {}
    started = time.monotonic()
    for name in chosen:
        t0 = time.monotonic()
        print(f"# running {name}...", file=sys.stderr, flush=True)
        rows += SCENARIOS[name](args.smoke, kinds)
        timings[name] = round(time.monotonic() - t0, 1)
    table = print_table(rows)
    total = time.monotonic() - started
    print(f"\n{len(rows)} figures in {total:.0f} s; per scenario: {timings}")
    if args.smoke:
        print("(smoke sizes: the figures show the harness works, not how fast nexio-lab is)")
    if args.json:
        write_json(
            args.json,
            rows,
            {
                "smoke": args.smoke,
                "scenarios": chosen,
                "rate_kinds": kinds,
                "command": " ".join(["python -m benchmarks", *(argv or sys.argv[1:])]),
                "seconds": timings,
                "total_s": round(total, 1),
                "python": platform.python_version(),
                "cpus": os.cpu_count(),
                "table": table,
            },
        )
    failed = [r for r in rows if r.passed is False]
    return 1 if failed and not args.smoke else 0


if __name__ == "__main__":
    sys.exit(main())
