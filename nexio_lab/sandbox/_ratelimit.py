"""Per-key fixed-window rate limiting, windows aligned on the Unix clock."""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass

__all__ = ["FixedWindowLimiter", "Quota", "format_reset"]


def format_reset(reset: float) -> str:
    """``X-RateLimit-Reset`` text: an integer when whole, else decimal seconds.

    >>> format_reset(1700000060.0), format_reset(1700000000.5)
    ('1700000060', '1700000000.5')
    """
    if reset == int(reset):
        return str(int(reset))
    return f"{reset:.6f}".rstrip("0").rstrip(".")


@dataclass(frozen=True, slots=True)
class Quota:
    """One key's window after a request: allowed or not, and what the headers say."""

    allowed: bool
    limit: int
    remaining: int
    reset: float

    def headers(self) -> dict[str, str]:
        headers = {
            "X-RateLimit-Limit": str(self.limit),
            "X-RateLimit-Remaining": str(self.remaining),
            "X-RateLimit-Reset": format_reset(self.reset),
        }
        if not self.allowed:
            # Retry-After only takes whole seconds; the precise time is in the Reset header.
            headers["Retry-After"] = str(max(1, math.ceil(self.reset - time.time())))
        return headers


class FixedWindowLimiter:
    """``limit`` requests per ``window`` seconds per owner.

    A window starts at ``floor(now / window) * window``, so every key's windows share the
    same boundaries and ``reset`` is the next boundary. A refused request consumes nothing.
    """

    def __init__(self, limit: int, window: float, clock: Callable[[], float] = time.time) -> None:
        self.limit = limit
        self.window = window
        self._clock = clock
        self._used: dict[str, tuple[float, int]] = {}

    def _window(self) -> float:
        return math.floor(self._clock() / self.window) * self.window

    def hit(self, owner: str) -> Quota:
        """Count one request of ``owner`` if the window has room."""
        start = self._window()
        reset = start + self.window
        window_start, used = self._used.get(owner, (start, 0))
        if window_start != start:
            used = 0
        if used >= self.limit:
            return Quota(False, self.limit, 0, reset)
        self._used[owner] = (start, used + 1)
        return Quota(True, self.limit, self.limit - used - 1, reset)

    def peek(self, owner: str | None) -> Quota:
        """The window of ``owner`` without counting (None: an unknown key, nothing used)."""
        start = self._window()
        used = 0
        if owner is not None:
            window_start, used = self._used.get(owner, (start, 0))
            used = used if window_start == start else 0
        return Quota(True, self.limit, self.limit - used, start + self.window)

    def reset(self) -> None:
        self._used.clear()
