"""Benchmark: how long each explorer redraw takes on a large result set (issue 15).

The target: every redraw under a second on 10,000 evaluations. Each step is one control
change as the app makes it (``ExplorerState.set`` then rendering the PNG, or rebuilding
the top-candidates table), timed from the change to the bytes, in the order a person
would click; the browser's share (sending ~50 KB of PNG over the kernel's socket) is not
included. Beside each plot step: the same plot drawn by calling the plot function on the
whole ResultSet, as a notebook cell would (ratio = explorer / direct call). Wall and CPU
time are both shown: on a machine shared with other work, wall time includes waiting. Rounds start
with empty caches, so every first comparison is paid again. Data: synthetic, seeded, each
profile on three pools (a second run, another seed, for the run-to-run comparison).

    python benchmarks/explore.py                  # 10,000 evaluations, 3 rounds
    python benchmarks/explore.py --smoke          # tiny sizes (a test runs this)
    python benchmarks/explore.py --json out.json  # also write the figures as JSON
"""

from __future__ import annotations

import argparse
import dataclasses
import functools
import gc
import io
import json
import os
import random
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")

from matplotlib.figure import Figure

from nexio_lab import plots
from nexio_lab.explorer import ExplorerState
from nexio_lab.results import ResultSet, compare
from nexio_lab.results._synthetic import synthetic_records

POOLS = ("carriers:all", "carriers:tier1", "providers:network")
LINES = ("property", "cyber", "general_liability", "workers_comp", "professional_liability")
BUDGET_S = 1.0


def make_run(n_evaluations: int, n_candidates: int, seed: int) -> ResultSet:
    """Every profile on every pool, with state, line and a revenue spread over the bands."""
    rng = random.Random(seed)
    records = synthetic_records(
        n_evaluations, n_candidates, seed, pools=POOLS, n_carriers=60, failed_every=50
    )
    profiles: dict[int, dict[str, Any]] = {}
    out = []
    for i, record in enumerate(records):
        row = i // len(POOLS)
        if row not in profiles:
            profiles[row] = {
                "entity": f"entity-{row:06d}",
                "state": record.profile["state"],
                "line": rng.choice(LINES),
                "revenue": int(10 ** rng.uniform(5.5, 9.5)),
            }
        out.append(dataclasses.replace(record, row=row, profile=profiles[row]))
    results = ResultSet.from_records(out)
    _ = results.evaluations, results.candidates, results.scores  # built before timing
    return results


def steps(state: ExplorerState) -> list[tuple[str, Callable[[], Any]]]:
    """(label, action) of each control change, in a plausible order; each renders."""

    def change(render: str, **changes: Any) -> Callable[[], Any]:
        def act() -> Any:
            if changes.get("entity") == "second":
                changes["entity"] = state.entity_options()[1]
            state.set(**changes)
            if render == "table":
                return state.top_table()
            if render == "plot":
                drawings = [state.render_plot()]
            elif render == "shift":
                drawings = [state.render_ab("rank_shift")]
            else:
                drawings = [state.render_ab("rank_shift"), state.render_ab("tier_transition")]
            for drawing in drawings:
                if drawing.png is None:
                    raise RuntimeError(f"nothing drawn for {changes}: {drawing.message}")
            return drawings

        return act

    return [
        ("plot tier_distribution", change("plot", plot="tier_distribution")),
        ("plot dimension_profile", change("plot", plot="dimension_profile")),
        ("plot funnel", change("plot", plot="funnel")),
        ("plot score_heatmap", change("plot", plot="score_heatmap")),
        ("plot rank_shift (first pool comparison)", change("plot", plot="rank_shift")),
        ("plot tier_transition", change("plot", plot="tier_transition")),
        ("group by profile_state", change("plot", plot="dimension_profile",
                                          group_by="profile_state")),
        ("filter state = CA", change("plot", filters={"profile_state": ["CA"]})),
        ("filter tier = STRONG_FIT", change("plot", filters={"profile_state": [],
                                                                "tier": ["STRONG_FIT"]})),
        ("filter line = cyber", change("plot", filters={"tier": [],
                                                           "profile_line": ["cyber"]})),
        ("clear filters", change("plot", filters={"profile_line": []})),
        ("top candidates table", change("table", per_segment=5)),
        ("A/B pools (rank shift + tier transition)", change("ab", ab_kind="pool")),
        ("A/B another entity (rank shift only)", change("shift", entity="second")),
        ("A/B segments CA vs NY", change("ab", ab_kind="segment", segment_by="profile_state",
                                         a="CA", b="NY")),
        ("A/B runs", change("ab", ab_kind="run")),
    ]  # fmt: skip


def direct(results: ResultSet, previous: ResultSet) -> dict[str, Callable[[], Any]]:
    """The same plots as one notebook call each, on the whole ResultSet."""
    c = results.candidates
    first = str(results.evaluations.dropna(subset=["pool_size"])["eval_id"].iloc[0])

    def pools() -> Any:
        a, b = c[c["pool"] == POOLS[0]], c[c["pool"] == POOLS[1]]
        return compare(a, b, on=["entity", "name"], labels=POOLS[:2])

    calls: dict[str, Callable[[Any], Any]] = {
        "plot tier_distribution": lambda ax: plots.tier_distribution(results, "pool", ax=ax),
        "plot dimension_profile": lambda ax: plots.dimension_profile(results, "pool", ax=ax),
        "plot funnel": lambda ax: plots.funnel(results, "pool", ax=ax),
        "plot score_heatmap": lambda ax: plots.score_heatmap(results, first, ax=ax),
        "plot rank_shift (first pool comparison)": lambda ax: plots.rank_shift(
            pools(), entity="entity-000000", ax=ax
        ),
        "plot tier_transition": lambda ax: plots.tier_transition(pools(), ax=ax),
        "group by profile_state": lambda ax: plots.dimension_profile(
            results, "profile_state", ax=ax
        ),
    }

    def png(draw: Callable[[Any], Any]) -> Callable[[], Any]:
        def act() -> bytes:
            fig = Figure(figsize=(9.0, 5.5), layout="constrained")
            draw(fig.add_subplot())
            buffer = io.BytesIO()
            fig.savefig(buffer, format="png", dpi=80)
            return buffer.getvalue()

        return act

    return {label: png(draw) for label, draw in calls.items()}


def timed(action: Callable[[], Any]) -> tuple[float, float]:
    """Wall and CPU seconds of ``action`` (CPU time is what the kernel itself spends; the
    wall time also holds waiting for a core, which other work on the machine makes longer)."""
    gc.collect()
    wall, cpu = time.perf_counter(), time.process_time()
    action()
    return time.perf_counter() - wall, time.process_time() - cpu


def _row(
    step: str, values: list[tuple[float, float]], direct_s: list[float] | None
) -> dict[str, Any]:
    """Medians (wall, CPU) and the worst wall time of a step; the direct call's median."""
    return {
        "step": step,
        "median_s": statistics.median(w for w, _ in values),
        "max_s": max(w for w, _ in values),
        "cpu_s": statistics.median(c for _, c in values),
        "direct_s": statistics.median(direct_s) if direct_s else None,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--evaluations", type=int, default=10_000)
    parser.add_argument("--candidates", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--smoke", action="store_true", help="tiny sizes, one round")
    parser.add_argument("--json", type=Path, metavar="PATH", help="also write figures here")
    args = parser.parse_args(argv)
    if args.smoke:
        args.evaluations, args.candidates, args.rounds = 60, 5, 1

    started = time.perf_counter()
    previous = make_run(args.evaluations, args.candidates, seed=1)
    results = make_run(args.evaluations, args.candidates, seed=2)
    built = time.perf_counter() - started
    # warm-up: imports (matplotlib, scipy) and font caches are paid once per kernel
    warm = ExplorerState(results)
    warm.render_plot()
    warm.render_ab("tier_transition")

    times: dict[str, list[tuple[float, float]]] = {}
    baseline: dict[str, list[float]] = {}
    opened: list[tuple[float, float]] = []
    runs = {"previous": previous, "latest": results}
    for _ in range(args.rounds):
        box: list[ExplorerState] = []
        opened.append(timed(functools.partial(lambda out: out.append(ExplorerState(runs)), box)))
        state = box[0]
        for label, action in steps(state):
            times.setdefault(label, []).append(timed(action))
        for label, action in direct(results, previous).items():
            baseline.setdefault(label, []).append(timed(action)[0])

    n_cand = len(results.candidates)
    print(
        f"explorer redraws: {len(results.evaluations):,} evaluations, {n_cand:,} candidates, "
        f"{len(results.scores):,} score rows per run; 2 runs; median of {args.rounds} "
        f"round(s) (tables built in {built:.1f} s, not counted)"
    )
    rows = [_row("open (prepare 2 runs)", opened, None)]
    rows += [_row(label, values, baseline.get(label)) for label, values in times.items()]
    header = (
        f"{'step':<44} {'wall':>8} {'max':>8} {'cpu':>8} {'/ 1 s':>6} {'direct':>8} {'ratio':>6}"
    )
    print(header)
    print("-" * len(header))
    for row in rows:
        d = row["direct_s"]
        print(
            f"{row['step']:<44} {row['median_s']:>7.3f}s {row['max_s']:>7.3f}s "
            f"{row['cpu_s']:>7.3f}s {row['median_s'] / BUDGET_S:>6.2f} "
            + (f"{d:>7.3f}s {row['median_s'] / d:>6.2f}" if d else f"{'':>8} {'':>6}")
        )
    print(f"load average over the last minute at the end: {os.getloadavg()[0]:.1f} "
          f"({os.cpu_count()} cores)")  # fmt: skip
    redraws = [r for r in rows if not r["step"].startswith("open")]
    worst = max(redraws, key=lambda r: r["max_s"])
    verdict = "all under" if worst["max_s"] < BUDGET_S else "NOT all under"
    print(
        f"slowest redraw: {worst['step']} {worst['max_s']:.3f} s ({verdict} {BUDGET_S:.0f} s"
        + (", smoke sizes" if args.smoke else "")
        + ")"
    )
    if args.json:
        args.json.write_text(json.dumps({"rounds": args.rounds, "rows": rows}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
