"""Per-key rate limiting, in four kinds of window, as plain functions of a state and a time.

The docs promise only the three ``X-RateLimit-*`` headers and leave open how the server
counts (see ``/work/shared/nexio-api.md``). The sandbox can count in each way a real server
might, so clients and benchmarks can be tried against all of them (``--rate-kind``):

``fixed-aligned`` (the default, and the sandbox's only behaviour before ``--rate-kind``)
    Fixed windows on the Unix clock: a window starts at ``floor(now / window) * window``,
    every key shares the boundaries, ``Reset`` is the next boundary.
``fixed``
    Fixed windows aligned on the key's first request: a window opens with the first request
    after the previous one ended and lasts ``window`` seconds; ``Reset`` is its end.
``sliding``
    A sliding log: a request is allowed while fewer than ``limit`` requests were counted in
    the last ``window`` seconds; ``Reset`` is when the oldest counted request expires.
``bucket``
    A token bucket of ``limit`` tokens refilled at ``limit / window`` per second, full at the
    start; ``Remaining`` is the whole tokens left; ``Reset`` is when it is full again.

In every kind a refused request (429) counts nothing, and its ``Retry-After`` says when the
next request would be allowed (whole seconds, at least 1). :func:`admit` and :func:`peek`
are pure apart from updating the state they are given, so tests drive them with any clock;
:class:`RateLimits` holds one state per key for the app.
"""

from __future__ import annotations

import math
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal, get_args

__all__ = [
    "DEFAULT_RATE_KIND",
    "RATE_KINDS",
    "KeyState",
    "Quota",
    "RateKind",
    "RateLimits",
    "RateRule",
    "admit",
    "format_reset",
    "peek",
]

RateKind = Literal["fixed-aligned", "fixed", "sliding", "bucket"]
RATE_KINDS: tuple[str, ...] = get_args(RateKind)
#: What the sandbox did before it had kinds: fixed windows aligned on the clock (listed
#: first in RATE_KINDS).
DEFAULT_RATE_KIND: RateKind = "fixed-aligned"


def format_reset(reset: float) -> str:
    """``X-RateLimit-Reset`` text: an integer when whole, else decimal seconds.

    >>> format_reset(1700000060.0), format_reset(1700000000.5)
    ('1700000060', '1700000000.5')
    """
    if reset == int(reset):
        return str(int(reset))
    return f"{reset:.6f}".rstrip("0").rstrip(".")


@dataclass(frozen=True, slots=True)
class RateRule:
    """``limit`` requests per ``window`` seconds, counted the ``kind`` way."""

    limit: int
    window: float
    kind: RateKind = DEFAULT_RATE_KIND

    def __post_init__(self) -> None:
        if self.kind not in RATE_KINDS:
            raise ValueError(f"rate kind must be one of {', '.join(RATE_KINDS)}: {self.kind!r}")


@dataclass(frozen=True, slots=True)
class Quota:
    """One key's budget after a request: allowed or not, and what the headers say.

    ``retry_after`` (seconds from the decision) is set on a refusal: when the next request
    would be allowed, which is ``reset`` for fixed windows but sooner for a sliding log or a
    bucket (one slot frees before the whole budget does).
    """

    allowed: bool
    limit: int
    remaining: int
    reset: float
    retry_after: float | None = None

    def headers(self) -> dict[str, str]:
        headers = {
            "X-RateLimit-Limit": str(self.limit),
            "X-RateLimit-Remaining": str(self.remaining),
            "X-RateLimit-Reset": format_reset(self.reset),
        }
        if self.retry_after is not None:
            # Retry-After only takes whole seconds; the precise time is in the Reset header
            # for fixed windows.
            headers["Retry-After"] = str(max(1, math.ceil(self.retry_after)))
        return headers


@dataclass(slots=True)
class KeyState:
    """What one key has used: a fixed window's start and count, the sliding log of counted
    request times, or the bucket's tokens at ``start`` (a fresh state is an unused key)."""

    start: float | None = None
    used: int = 0
    tokens: float = 0.0
    log: deque[float] = field(default_factory=deque)


def _fixed(rule: RateRule, state: KeyState, now: float) -> tuple[float, int]:
    """The current window's start and the requests counted in it."""
    if rule.kind == "fixed-aligned":
        start = math.floor(now / rule.window) * rule.window
        used = state.used if state.start == start else 0
        return start, used
    if state.start is None or now >= state.start + rule.window:
        return now, 0  # a window opens with this request
    return state.start, state.used


def _expire(rule: RateRule, state: KeyState, now: float) -> None:
    while state.log and state.log[0] <= now - rule.window:
        state.log.popleft()


def _tokens(rule: RateRule, state: KeyState, now: float) -> float:
    if state.start is None:
        return float(rule.limit)
    refill = (now - state.start) * rule.limit / rule.window
    return min(float(rule.limit), state.tokens + refill)


def admit(rule: RateRule, state: KeyState, now: float) -> Quota:
    """Count one request at ``now`` if the budget has room (updating ``state``).

    >>> rule, state = RateRule(2, 10.0, "fixed"), KeyState()
    >>> [admit(rule, state, t).allowed for t in (3.0, 4.0, 5.0, 13.0)]
    [True, True, False, True]
    >>> admit(rule, state, 13.5).reset
    23.0
    """
    limit, window = rule.limit, rule.window
    if rule.kind in ("fixed", "fixed-aligned"):
        start, used = _fixed(rule, state, now)
        reset = start + window
        if used >= limit:
            return Quota(False, limit, 0, reset, reset - now)
        state.start, state.used = start, used + 1
        return Quota(True, limit, limit - used - 1, reset)
    if rule.kind == "sliding":
        _expire(rule, state, now)
        if len(state.log) >= limit:
            oldest_expires = state.log[0] + window
            return Quota(False, limit, 0, oldest_expires, oldest_expires - now)
        state.log.append(now)
        return Quota(True, limit, limit - len(state.log), state.log[0] + window)
    # bucket
    tokens = _tokens(rule, state, now)
    per_token = window / limit
    if tokens < 1.0:
        return Quota(False, limit, 0, now + (limit - tokens) * per_token, (1 - tokens) * per_token)
    tokens -= 1.0
    state.start, state.tokens = now, tokens
    return Quota(True, limit, math.floor(tokens), now + (limit - tokens) * per_token)


def peek(rule: RateRule, state: KeyState | None, now: float) -> Quota:
    """The budget of a key at ``now`` without counting (None: an unknown key, nothing used).

    >>> peek(RateRule(5, 60.0, "bucket"), None, 100.0)
    Quota(allowed=True, limit=5, remaining=5, reset=100.0, retry_after=None)
    """
    limit, window = rule.limit, rule.window
    state = state if state is not None else KeyState()
    if rule.kind in ("fixed", "fixed-aligned"):
        start, used = _fixed(rule, state, now)
        return Quota(True, limit, limit - used, start + window)
    if rule.kind == "sliding":
        live = [t for t in state.log if t > now - window]
        # Nothing counted: a request now would be the oldest, expiring a window from now.
        reset = live[0] + window if live else now + window
        return Quota(True, limit, limit - len(live), reset)
    tokens = _tokens(rule, state, now)
    return Quota(True, limit, math.floor(tokens), now + (limit - tokens) * window / limit)


class RateLimits:
    """One :class:`KeyState` per key under one :class:`RateRule`, read on ``clock``.

    The app calls it from its event loop only, so it needs no lock.
    """

    def __init__(self, rule: RateRule, clock: Callable[[], float] = time.time) -> None:
        self.rule = rule
        self._clock = clock
        self._states: dict[str, KeyState] = {}

    def hit(self, owner: str) -> Quota:
        """Count one request of ``owner`` if its budget has room."""
        state = self._states.get(owner)
        if state is None:
            state = self._states[owner] = KeyState()
        return admit(self.rule, state, self._clock())

    def peek(self, owner: str | None) -> Quota:
        """``owner``'s budget without counting (None: an unknown key, nothing used)."""
        state = self._states.get(owner) if owner is not None else None
        return peek(self.rule, state, self._clock())

    def reset(self) -> None:
        self._states.clear()
