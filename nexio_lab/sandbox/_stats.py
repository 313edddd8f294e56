"""Request and delivery counters, read in-process by tests and benchmarks."""

from __future__ import annotations

import threading
from collections import Counter
from typing import Any

__all__ = ["Stats"]


class Stats:
    """Counters: ``requests``, ``posts``, ``gets``, ``health``, ``jobs_created``,
    ``injected_errors``, ``webhook_attempts``, ``webhooks_delivered``, ``webhooks_failed``,
    and ``by_status`` (answers per HTTP status, keys are strings such as ``"429"``)."""

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

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._counts: Counter[str] = Counter()
        self._statuses: Counter[str] = Counter()

    def add(self, name: str, n: int = 1) -> None:
        self._counts[name] += n

    def status(self, code: int) -> None:
        self._statuses[str(code)] += 1

    def snapshot(self) -> dict[str, Any]:
        with self._lock:
            counts = dict(self._counts)
            statuses = dict(self._statuses)
        snapshot: dict[str, Any] = {name: counts.get(name, 0) for name in self._NAMES}
        snapshot["by_status"] = dict(sorted(statuses.items()))
        return snapshot

    def reset(self) -> None:
        with self._lock:
            self._counts.clear()
            self._statuses.clear()
