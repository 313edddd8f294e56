"""Scenario 9: the docs' own timings, compressed so they fit minutes (issue 11).

Processing 15-60 s and a limit of 100 requests per 60 s, both divided by the sandbox's
``speed`` (the window is 60 s / speed). Every figure is converted back to real-time units
(multiplied by the speed) and labelled *scaled*: they are what the same run would take at
the service's scale, assuming the client's own costs are negligible at that scale (they are
magnified by the speed here, which only handicaps the clients measured).
"""

from __future__ import annotations

from ._common import Settings
from ._paced import NAMES, POLLS_VS_VENDOR, _all_finished, _details, paired, rounds
from ._report import Row

__all__ = ["real_scale", "real_settings"]

LIMIT, WINDOW = 100, 60.0


def real_settings(n: int, speed: float) -> Settings:
    return Settings(n=n, limit=LIMIT, window=WINDOW / speed, speed=speed)


def real_scale(n: int, speed: float, n_rounds: int = 3) -> list[Row]:
    """N evaluations at the docs' scale: polls per evaluation and lateness vs (a)."""
    settings = real_settings(n, speed)
    s = f"9 real scale (scaled x{speed:g})"
    runs = rounds(settings, ["nexio", "vendor"], n_rounds)
    ours, vendor = runs["nexio"], runs["vendor"]
    label = f"N={n}, {LIMIT} req/{WINDOW:g} s, processing 15-60 s, real s"
    rows = [
        paired(
            s,
            f"polls per evaluation vs {NAMES['vendor']}, {label}",
            [m.polls / n for m in ours],
            [m.polls / n for m in vendor],
            f"ratio <= {POLLS_VS_VENDOR}",
            lambda r: r <= POLLS_VS_VENDOR,
        ),
        paired(
            s,
            f"start -> last result noticed vs {NAMES['vendor']}, real s",
            [m.noticed_all_s * speed for m in ours],
            [m.noticed_all_s * speed for m in vendor],
            "ratio <= 1 (no later than (a))",
            lambda r: r <= 1.0,
            "s",
        ),
        paired(
            s,
            f"lateness: last ready -> noticed vs {NAMES['vendor']}, real s",
            [m.latency_s * speed for m in ours],
            [m.latency_s * speed for m in vendor],
            unit="s",
        ),
        paired(
            s,
            "nexio-lab: wall / true floor, real s",
            [m.wall_s * speed for m in ours],
            [m.floor.floor_s * speed for m in ours],
            unit="s",
            floor=[m.floor.floor_s * speed for m in ours],
            naive=ours[0].floor.naive_s * speed,
        ),
        paired(
            s,
            f"{NAMES['vendor']}: wall / true floor, real s",
            [m.wall_s * speed for m in vendor],
            [m.floor.floor_s * speed for m in vendor],
            unit="s",
            floor=[m.floor.floor_s * speed for m in vendor],
            naive=vendor[0].floor.naive_s * speed,
        ),
        _all_finished(s, settings, runs),
    ]
    _details(rows, runs)
    return rows
