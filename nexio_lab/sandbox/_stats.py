"""Request and delivery counters, read in-process by tests and benchmarks."""

from __future__ import annotations

import math
import threading
from collections import Counter
from typing import Any

__all__ = ["Stats"]


class Stats:
    """Counters: ``requests``, ``posts``, ``gets``, ``health``, ``jobs_created``,
    ``injected_errors``, ``webhook_attempts``, ``webhooks_delivered``, ``webhooks_failed``,
    and ``by_status`` (answers per HTTP status, keys are strings such as ``"429"``).

    Times (Unix s, None until it happened): ``first_request_at`` and ``last_request_at``
    (API requests under ``/api/v1/``, answered or refused) and ``last_ready_at`` (when the
    last evaluation created becomes ready: its final status is readable from then on), so a
    benchmark can place the true floor of a run.

    >>> stats = Stats()
    >>> stats.ready(12.5); stats.ready(11.0); stats.snapshot()["last_ready_at"]
    12.5
    """

    _NAMES = (
        "requests",
        "posts",
        "gets",
        "health",
        "jobs_created",
        "injected_errors",
        "webhook_attempts",
        "webhooks_delivered",
        "webhooks_failed",
    )
    _TIMES = ("first_request_at", "last_request_at", "last_ready_at")

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._counts: Counter[str] = Counter()
        self._statuses: Counter[str] = Counter()
        self._times: dict[str, float] = {}

    def add(self, name: str, n: int = 1) -> None:
        self._counts[name] += n

    def status(self, code: int) -> None:
        self._statuses[str(code)] += 1

    def api_request(self, at: float) -> None:
        """An API request arrived at ``at``."""
        self._times.setdefault("first_request_at", at)
        self._times["last_request_at"] = at

    def ready(self, at: float) -> None:
        """An evaluation was created that becomes ready at ``at``."""
        if at > self._times.get("last_ready_at", -math.inf):
            self._times["last_ready_at"] = at

    def snapshot(self) -> dict[str, Any]:
        with self._lock:
            counts = dict(self._counts)
            statuses = dict(self._statuses)
            times = dict(self._times)
        snapshot: dict[str, Any] = {name: counts.get(name, 0) for name in self._NAMES}
        snapshot["by_status"] = dict(sorted(statuses.items()))
        for name in self._TIMES:
            snapshot[name] = times.get(name)
        return snapshot

    def reset(self) -> None:
        with self._lock:
            self._counts.clear()
            self._statuses.clear()
            self._times.clear()
