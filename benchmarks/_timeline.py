"""Where one nexio-lab run loses time against its true floor, request by request.

python -m benchmarks._timeline --rate-kind fixed [--n 120] [--limit 60] [--window 2.5]

One ``run_batch`` on a fresh in-process sandbox with the ``limit`` scenario's settings. The
sandbox's own counting (``RateLimits.hit``) is wrapped to note when each request was
admitted; :func:`benchmarks._floor.slot_times` gives when the floor would admit it. Printed:
the client's start-up (start -> first request), each window's first admissions (the probe
and what follows its answer) and last admission (how long the window's burst took), the
lag of every tenth request behind the floor, and idle gaps. Figures are one run's: read
them to find causes, not as a benchmark (``python -m benchmarks --only limit`` is that).
"""

from __future__ import annotations

import argparse
import sys
import time
from typing import Any

from nexio_lab.sandbox import _ratelimit
from nexio_lab.sandbox._ratelimit import RATE_KINDS, Quota, RateLimits

from . import _paced
from ._common import Settings
from ._floor import slot_times

#: (Unix time, allowed, remaining, reset) of every request the sandbox counted
_LOG: list[tuple[float, bool, int, float]] = []


def _recording_hit(original: Any) -> Any:
    def hit(self: RateLimits, owner: str) -> Quota:
        quota: Quota = original(self, owner)
        _LOG.append((time.time(), quota.allowed, quota.remaining, quota.reset))
        return quota

    return hit


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks._timeline")
    parser.add_argument("--rate-kind", choices=RATE_KINDS, default="fixed")
    parser.add_argument("--n", type=int, default=120)
    parser.add_argument("--limit", type=int, default=60)
    parser.add_argument("--window", type=float, default=2.5)
    parser.add_argument("--speed", type=float, default=40.0)
    args = parser.parse_args(argv)
    settings = Settings(
        n=args.n, limit=args.limit, window=args.window, speed=args.speed, kind=args.rate_kind
    )
    original = RateLimits.hit
    _ratelimit.RateLimits.hit = _recording_hit(original)  # type: ignore[method-assign]
    try:
        m = _paced.measure(settings, "nexio", in_process=True)
    finally:
        _ratelimit.RateLimits.hit = original  # type: ignore[method-assign]
    start = m.started
    floor = slot_times(settings.rule, start, 2 * settings.n)
    admitted = [t for t, allowed, _, _ in _LOG if allowed]
    print(
        f"{settings.label()}: wall {m.wall_s:.3f} s, floor {m.floor.floor_s:.3f} s "
        f"({m.floor.binds} binds), wall/floor {m.wall_s / m.floor.floor_s:.3f}; "
        f"requests {m.requests}, polls {m.polls}, 429s {m.rate_limited}; "
        f"last ready {m.last_ready - start:.3f} s, last noticed {m.last_noticed - start:.3f} s"
    )
    if not admitted:
        return 1
    print(f"start -> first request: {admitted[0] - start:.3f} s")
    per = settings.limit
    for w in range(0, (len(admitted) + per - 1) // per):
        chunk = admitted[w * per : (w + 1) * per]
        firsts = ", ".join(f"{t - start:.4f}" for t in chunk[:3])
        print(
            f"window {w}: floor {floor[min(w * per, len(floor) - 1)] - start:7.3f}  "
            f"first admissions {firsts}  last {chunk[-1] - start:.4f}  "
            f"burst {chunk[-1] - chunk[0]:.3f} s"
        )
    for i in range(0, min(len(admitted), len(floor)), 10):
        print(
            f"  request {i:4d}: floor {floor[i] - start:7.3f}  admitted "
            f"{admitted[i] - start:7.3f}  lag {admitted[i] - floor[i]:6.3f}"
        )
    prev = start
    for t, allowed, remaining, reset in _LOG:
        if t - prev > 0.05 * settings.window:
            print(
                f"  idle {prev - start:7.3f} -> {t - start:7.3f} s; then allowed={allowed} "
                f"remaining={remaining} reset={reset - start:.3f}"
            )
        prev = t
    refused = [round(t - start, 3) for t, allowed, _, _ in _LOG if not allowed]
    print(f"429s at (s from start): {refused}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
