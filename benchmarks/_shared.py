"""Scenario 8: several processes share one key, with no coordinator (issue 11).

K separate processes (:mod:`benchmarks._shared_child`, each its own ``run_batch``, its own
journal) start together on one key of a fresh sandbox, N distinct evaluations each. The
sandbox counts every request and every 429; the floor is the true floor of K x N
evaluations on that key (:mod:`benchmarks._floor`), from the go signal.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from ._common import REPO, Settings, StatsAt, align_to_window, fresh_sandbox
from ._floor import durations, polling_floor
from ._report import Row, ratio

__all__ = ["shared_key"]

SHARE_429 = 0.05  # 429s, share of all requests
WALL_VS_FLOOR = 1.15  # total wall vs the bound for K x N
SLOWEST_VS_OTHERS = 1.3  # no client slower than this x the mean of the others


def _run_children(settings: Settings, k: int, timeout: float) -> dict[str, Any]:
    with fresh_sandbox(settings) as sb, tempfile.TemporaryDirectory(prefix="nexio-bench-") as tmp:
        env = {**os.environ, "PYTHONPATH": str(REPO), "NEXIO_LAB_HOME": tmp}
        children = []
        for i in range(k):
            options = {
                "url": sb.url,
                "n": settings.n,
                "tag": f"k{i}",
                "store": str(Path(tmp) / f"journal-{i}.sqlite"),
            }
            children.append(
                subprocess.Popen(
                    [sys.executable, "-m", "benchmarks._shared_child", json.dumps(options)],
                    cwd=REPO,
                    env=env,
                    stdin=subprocess.PIPE,
                    stdout=subprocess.PIPE,
                    stderr=subprocess.PIPE,
                    text=True,
                )
            )
        try:
            for child in children:
                assert child.stdout is not None
                if child.stdout.readline().strip() != "ready":
                    raise RuntimeError(f"a shared-key child failed: {child.stderr.read()[-2000:]}")
            go = align_to_window(settings.window, kind=settings.kind)
            first_window = StatsAt(sb, go + settings.window - 0.05)
            for child in children:
                assert child.stdin is not None
                child.stdin.write("go\n")
                child.stdin.flush()
            results = []
            for child in children:
                out, err = child.communicate(timeout=timeout)
                lines = [line for line in out.splitlines() if line.startswith("{")]
                if child.returncode != 0 or not lines:
                    raise RuntimeError(f"shared-key child exited {child.returncode}: {err[-2000:]}")
                results.append(json.loads(lines[-1]))
        finally:
            for child in children:
                if child.poll() is None:
                    child.kill()
                    child.wait()
        first_window.cancel()
        stats = sb.stats()
        jobs = sb.jobs()
    return {
        "go": go,
        "results": results,
        "stats": stats,
        "spans": durations(jobs),
        "first_window_429": first_window.count_429(),
    }


def shared_key(settings: Settings, k: int, timeout: float = 600.0) -> list[Row]:
    """K processes x ``settings.n`` evaluations on one key, started together."""
    s = f"8 shared key [{settings.kind}]"
    measured = _run_children(settings, k, timeout)
    go, results, stats = measured["go"], measured["results"], measured["stats"]
    total = k * settings.n
    floor = polling_floor(settings.rule, go, measured["spans"])
    walls = [r["end"] - go for r in results]
    wall = max(walls)
    requests = stats["requests"]
    refused = stats["by_status"].get("429", 0)
    share = refused / max(1, requests)
    slowest = max(range(k), key=lambda i: walls[i])
    others = [w for i, w in enumerate(walls) if i != slowest]
    mean_others = sum(others) / len(others)
    finished = sum(r["finished"] for r in results)
    label = f"K={k} processes x N={settings.n}, {settings.label()}"
    details = {"go": go, "walls": walls, "children": results, "stats": stats}
    return [
        Row(
            s,
            f"429s, % of all requests, {label}",
            100 * share,
            None,
            None,
            f"<= {100 * SHARE_429:g} %",
            share <= SHARE_429,
            "%",
            details={**details, "requests": requests, "429": refused},
        ),
        Row(
            s,
            "429s after the first window, % of all requests",
            100 * (refused - measured["first_window_429"]) / max(1, requests),
            unit="%",
        ),
        Row(
            s,
            f"total wall / true floor of K x N = {total}",
            wall,
            floor.floor_s,
            ratio(wall, floor.floor_s),
            f"ratio <= {WALL_VS_FLOOR}",
            wall / floor.floor_s <= WALL_VS_FLOOR,
            "s",
            floor=floor.floor_s,
            naive=floor.naive_s,
        ),
        Row(
            s,
            "slowest client wall / mean of the others",
            walls[slowest],
            mean_others,
            ratio(walls[slowest], mean_others),
            f"ratio <= {SLOWEST_VS_OTHERS}",
            walls[slowest] / mean_others <= SLOWEST_VS_OTHERS,
            "s",
        ),
        Row(
            s,
            "rows finished, evaluations created (all clients)",
            finished,
            total,
            target=f"= {total}, created = {total}",
            passed=finished == total and stats["jobs_created"] == total,
            details={"jobs_created": stats["jobs_created"], "requests": requests},
        ),
    ]
