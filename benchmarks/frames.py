"""Benchmark: building the results tables vs ``pandas.json_normalize`` on the same payloads.

The target (issue 5): building all tables (evaluations, candidates, 1.5 M-row scores) from
10,000 evaluations x 25 candidates takes at most the time ``json_normalize`` needs to flatten
just the candidates. Payloads are synthetic and seeded, so runs compare.

    python benchmarks/frames.py                 # full size, best of 3
    python benchmarks/frames.py --smoke         # tiny sizes (used by a test so this cannot rot)
    python benchmarks/frames.py --json out.json # also write the figures as JSON
"""

from __future__ import annotations

import argparse
import gc
import json
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd

from nexio_lab._models import DEFAULT_DIMENSIONS, EvaluationRecord
from nexio_lab.results import ResultSet
from nexio_lab.results._synthetic import synthetic_records


def best_of(fn: Callable[[], Any], repeats: int) -> float:
    times = []
    for _ in range(repeats):
        gc.collect()
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def build_all(records: list[EvaluationRecord]) -> None:
    rs = ResultSet.from_records(records)
    # Touch every table: building is lazy.
    _ = rs.evaluations, rs.candidates, rs.scores, rs.errors


def baseline(records: list[EvaluationRecord]) -> None:
    results = [r.result for r in records]
    pd.json_normalize(
        results, record_path="candidates", meta=["eval_id", "status", "pool_size", "filtered"]
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--evaluations", type=int, default=10_000)
    parser.add_argument("--candidates", type=int, default=25)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--smoke", action="store_true", help="tiny sizes, one repeat")
    parser.add_argument("--json", type=Path, metavar="PATH", help="also write figures here")
    args = parser.parse_args(argv)
    if args.smoke:
        args.evaluations, args.candidates, args.repeats = 20, 5, 1

    records = synthetic_records(args.evaluations, args.candidates, args.seed)
    n_cand = args.evaluations * args.candidates
    figure = (
        f"all tables, {args.evaluations:,} evals x {args.candidates} candidates "
        f"({n_cand:,} candidate rows, {n_cand * len(DEFAULT_DIMENSIONS):,} score rows)"
    )
    ours = best_of(lambda: build_all(records), args.repeats)
    base = best_of(lambda: baseline(records), args.repeats)
    ratio = ours / base if base else float("inf")
    # Tiny sizes measure overheads, not throughput: no verdict in smoke mode.
    passed = None if args.smoke else ratio <= 1.0
    rows = [
        {
            "figure": figure,
            "nexio_lab_s": round(ours, 4),
            "baseline_s": round(base, 4),
            "ratio": round(ratio, 3),
            "target": "ratio <= 1.0 (json_normalize of candidates only)",
            "pass": passed,
        }
    ]
    header = ("figure", "nexio-lab", "baseline", "ratio", "target", "pass/fail")
    print(" | ".join(header))
    for row in rows:
        print(
            " | ".join(
                (
                    row["figure"],
                    f"{row['nexio_lab_s']:.3f} s",
                    f"{row['baseline_s']:.3f} s",
                    f"{row['ratio']:.2f}",
                    row["target"],
                    {True: "PASS", False: "FAIL", None: "n/a (smoke)"}[row["pass"]],
                )
            )
        )
    if args.json:
        args.json.write_text(json.dumps({"repeats": args.repeats, "rows": rows}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
