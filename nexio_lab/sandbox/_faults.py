"""Injected server errors (``--error-rate``): which requests get a 500 or a 503."""

from __future__ import annotations

import random

__all__ = ["FaultInjector"]


class FaultInjector:
    """Draws, per request, whether it fails and how, from a generator seeded by ``seed``.

    About two in three injected errors are 500 ``internal_error``, the rest 503
    ``service_unavailable``. The draw comes before anything else, so a failed request has
    no side effect at all.
    """

    def __init__(self, rate: float, seed: int) -> None:
        self.rate = rate
        self._rng = random.Random(f"faults/{seed}")

    def draw(self) -> int | None:
        """The status to answer with, or None to serve the request normally."""
        if self.rate <= 0 or self._rng.random() >= self.rate:
            return None
        return 500 if self._rng.random() < 0.66 else 503
