"""What every scenario shares: profiles, fresh sandboxes, aligned starts, timing helpers."""

from __future__ import annotations

import contextlib
import json
import math
import os
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from nexio_lab import sandbox
from nexio_lab.sandbox._ratelimit import DEFAULT_RATE_KIND, RateKind, RateRule

__all__ = [
    "POOL",
    "REPO",
    "SEED",
    "Served",
    "Settings",
    "StatsAt",
    "align_to_window",
    "fresh_sandbox",
    "journal_path",
    "profiles",
    "serve_in_subprocess",
]

REPO = Path(__file__).resolve().parent.parent
POOL = "carriers:all"
SEED = 7
_STATES = ("CA", "NY", "TX", "FL", "IL", "WA", "MA", "GA")
_LINES = ("professional_liability", "general_liability", "workers_comp", "cyber")


@dataclass(frozen=True)
class Settings:
    """One scenario's sandbox: ``limit`` requests per ``window`` s counted the ``kind`` way
    (see ``--rate-kind``), processing / ``speed``."""

    n: int
    limit: int = 60
    window: float = 5.0
    speed: float = 20.0
    error_rate: float = 0.0
    kind: RateKind = DEFAULT_RATE_KIND

    @property
    def rate(self) -> float:
        return self.limit / self.window

    @property
    def rule(self) -> RateRule:
        return RateRule(self.limit, self.window, self.kind)

    def label(self) -> str:
        return f"{self.limit} req/{self.window:g} s {self.kind}, speed {self.speed:g}"

    def sandbox_options(self) -> dict[str, Any]:
        return {
            "rate_limit": self.limit,
            "rate_window": self.window,
            "speed": self.speed,
            "seed": SEED,
            "error_rate": self.error_rate,
            "rate_kind": self.kind,
        }


def profiles(n: int, tag: str = "bench") -> list[dict[str, Any]]:
    """``n`` distinct insurance profiles (deterministic), so no two rows share a result."""
    return [
        {
            "entity": f"{tag}-{i:06d}",
            "state": _STATES[i % len(_STATES)],
            "line": _LINES[(i // len(_STATES)) % len(_LINES)],
            "revenue": 1_000_000 + 37_000 * i,
        }
        for i in range(n)
    ]


@contextlib.contextmanager
def fresh_sandbox(
    settings: Settings, *, in_process: bool = False
) -> Iterator[Served | sandbox.Sandbox]:
    """A new sandbox with the scenario's settings and the shared seed, in its own process:
    a real service is not in the client's process, and sharing one interpreter (one GIL on
    2 cores) made every client's bursts slower than the server counts them. ``in_process``
    keeps it in this one (``python -m benchmarks._timeline`` watches its counting)."""
    if in_process:
        with sandbox.run(**settings.sandbox_options()) as local:
            yield local
    else:
        with serve_in_subprocess(**settings.sandbox_options()) as served:
            yield served


def align_to_window(window: float, margin: float = 0.02, kind: str = DEFAULT_RATE_KIND) -> float:
    """Sleep until just after the next rate-limit window boundary when the sandbox aligns
    its windows on the Unix clock, so every client starts with a whole, fresh window (other
    kinds start fresh with the key's first request: no wait). Returns the start time."""
    now = time.time()
    if kind != "fixed-aligned":
        return now
    start = math.floor(now / window) * window + window + margin
    time.sleep(start - now)
    return time.time()


@contextlib.contextmanager
def journal_path() -> Iterator[Path]:
    """A throwaway journal: benchmarks never touch the user's ~/.nexio-lab."""
    with tempfile.TemporaryDirectory(prefix="nexio-bench-") as tmp:
        yield Path(tmp) / "journal.sqlite"


class StatsAt:
    """Snapshots ``sb.stats()`` at a given Unix time (e.g. the end of the first window)."""

    def __init__(self, sb: Served | sandbox.Sandbox, at: float) -> None:
        self.snapshot: dict[str, Any] | None = None
        self._stop = threading.Event()

        def take() -> None:
            if not self._stop.wait(max(0.0, at - time.time())):
                self.snapshot = sb.stats()

        self._thread = threading.Thread(target=take, daemon=True)
        self._thread.start()

    def count_429(self) -> int:
        return 0 if self.snapshot is None else self.snapshot["by_status"].get("429", 0)

    def cancel(self) -> None:
        self._stop.set()


class Served:
    """A sandbox in its own process (so the client measured is alone in ours)."""

    def __init__(self, **options: Any) -> None:
        self._proc = subprocess.Popen(
            [sys.executable, "-m", "benchmarks._serve", json.dumps(options)],
            cwd=REPO,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            env={**os.environ, "PYTHONPATH": str(REPO)},
        )
        assert self._proc.stdout is not None
        line = self._proc.stdout.readline()
        if not line:
            raise RuntimeError("the sandbox subprocess did not start")
        self.url = json.loads(line)["url"]
        self._lock = threading.Lock()

    def stats(self) -> dict[str, Any]:
        """The sandbox's counters (``Sandbox.stats()``)."""
        return self._ask("stats")

    def jobs(self) -> list[dict[str, Any]]:
        """Every job (``Sandbox.jobs()``), as plain dicts."""
        return self._ask("jobs")

    def _ask(self, command: str) -> Any:
        assert self._proc.stdin is not None and self._proc.stdout is not None
        with self._lock:  # StatsAt asks from a timer thread
            self._proc.stdin.write(command + "\n")
            self._proc.stdin.flush()
            return json.loads(self._proc.stdout.readline())

    def stop(self) -> None:
        if self._proc.poll() is None:
            assert self._proc.stdin is not None
            self._proc.stdin.close()
            try:
                self._proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                self._proc.wait()


@contextlib.contextmanager
def serve_in_subprocess(**options: Any) -> Iterator[Served]:
    served = Served(**options)
    try:
        yield served
    finally:
        served.stop()
