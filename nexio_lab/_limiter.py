"""A rate limiter fed by the server's ``X-RateLimit-*`` headers, for any kind of window.

It never hard-codes a limit, a window or how the server counts. The three headers look the
same whether the server counts in a fixed window (aligned on the clock or on the first
request), a sliding log (Reset = when the oldest counted request expires) or a token bucket
(Reset = when it is full again), so the limiter learns the kind from how they move:

- a Reset that moves forward before it has passed is a bucket's (every request pushes "full
  again" later); fixed windows and sliding logs only move it once it has passed;
- once a Reset has passed, a new Reset about a window later is a fixed window's, one much
  sooner is a sliding log's (the log still holds the requests sent after the oldest).

Whatever the kind, what frees at a reset is not assumed: the first request after it goes
alone (a probe) and its answer says how much the server really gives back, so the whole
window is never burst at a reset that was not earned. A bucket, once recognised, refills
continuously at the rate its headers imply and is spent as it refills.

A key may be shared by other processes or machines with no coordinator: the headers are the
only shared truth. When Remaining falls faster than this client spends, or a 429 arrives,
the limiter yields: it paces what is left instead of bursting it. Every client sees the same
Remaining and paces it at the same rate, so each gets a fair share without counting the
others: a fixed window's Remaining is spread over a short horizon (to the reset when the
others spend steadily rather than early, so a script polling at its own pace is not
starved), and its last request waits until the others go quiet; a sliding log or a bucket
is paced against a reserve the clients keep between them. A first window that may be
shared starts one request at a time until two answers show nobody else; a client that had
the key to itself probes a little after each reset, so that the others' probes show. After
a 429 it backs off past the reset with jitter.

One limiter serves every request of a client; all run on the client's event loop, so
asyncio primitives are enough.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import random
import time
from collections import Counter, deque
from collections.abc import AsyncIterator, Callable, Mapping
from typing import Literal, Protocol

from ._models import RateLimit

__all__ = ["Budget", "RateLimiter", "Slot", "WindowKind"]

logger = logging.getLogger("nexio_lab")

WindowKind = Literal["unknown", "fixed", "sliding", "bucket"]

#: A tiny margin past a reset absorbs timer granularity and small clock differences.
RESET_MARGIN_S = 0.005
#: Bucket refills are planned this much slower than the headers imply (latency blurs them).
BUCKET_SAFETY = 1.03
#: On a shared token bucket, the requests the clients keep in reserve between them: more
#: is safer against 429s, less spends faster.
PACE_RESERVE = 10.0
#: ... and on a shared sliding log, fewer: a bucket's unspent tokens wait for later, but
#: every moment a place in the log stays free is lost for good (at 10, two and three
#: processes finished 1.2 and 1.18x the floor in the benchmark; at 4, 1.1 and 1.08x, with
#: 429s about as many: benchmarks/README.md).
LOG_RESERVE = 4.0
#: On a shared fixed window, what is left is spread over at most this part of a window
#: (rather than to the reset): spent early, the window's last requests are not late,
#: and every client still paces at the same rate.
PACE_HORIZON = 0.1
#: A shared fixed window's last requests, left until the others go quiet.
LAST_RESERVE = 1
#: Answers showing no other spender, one request at a time, before a client that may
#: share the key takes the window as its own.
CONFIRM_ALONE = 2
#: The most clients the share estimate counts (a bound on how far 429s raise it).
MAX_SHARE = 16.0


class Budget(Protocol):
    """What a scheduler may read of the key's budget (a :class:`RateLimiter`, or a fake)."""

    def available(self) -> int | None:
        """Requests that may go now; None when unlimited or unknown."""
        ...

    def seconds_to_reset(self) -> float | None:
        """Seconds until the window resets; None before any header was seen."""
        ...


class Slot:
    """One granted request: given back exactly once, by :meth:`done` or when its context
    ends, whatever happened in between (so no path can keep the budget forever)."""

    __slots__ = ("_limiter", "_open")

    def __init__(self, limiter: RateLimiter) -> None:
        self._limiter = limiter
        self._open = True

    @property
    def open(self) -> bool:
        return self._open

    def done(self, headers: Mapping[str, str] | None, status_code: int | None = None) -> None:
        """Give the slot back, learning from the response's headers (None: no response)."""
        if self._open:
            self._open = False
            self._limiter.release(headers, status_code)

    async def __aenter__(self) -> Slot:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        self.done(None)


class RateLimiter:
    """Grants request slots within the budget the server announced.

    Until the first response nothing is known, so one request goes alone (a probe). A server
    that sends no rate-limit headers at all is not limited here; its 429s are retried.

    >>> limiter = RateLimiter()
    >>> limiter.available(), limiter.kind
    (1, 'unknown')
    """

    def __init__(
        self, clock: Callable[[], float] = time.time, *, rng: random.Random | None = None
    ) -> None:
        self._clock = clock
        self._rng = rng or random.Random()
        self._limit: int | None = None
        self._remaining: int | None = None  # server's count as of _seen
        self._seen = 0.0  # local time of the answer that gave _remaining
        self._reset: float | None = None  # the server's latest Reset
        self._window: float | None = None  # window length (bucket: time to refill from empty)
        self._window_is_bucket = False  # _window was learned as a bucket's
        self._window_hint = 0.0  # the longest Reset - now seen: a lower bound of a window
        self._headerless = False
        self._in_flight = 0
        #: 429 answers seen: after the first window there should be none.
        self.rate_limited = 0
        self._blocked_until = 0.0  # from Retry-After, or a 429's reset plus jitter
        self._evidence: Counter[str] = Counter()
        # the current epoch: what was granted and answered since the last reset passed
        self._stale = False  # the reset passed: what it freed is unknown until a probe answers
        self._granted = 0
        self._answered = 0
        self._refused = 0
        self._last_grant = 0.0
        self._grant_before_reset = 0.0  # the last grant before the latest reset passed
        self._epochs = 0
        self._alone = False  # the previous epoch showed no other spender and no 429
        # fixed windows: when every client waits for the reset, each one's probe lands at
        # a random place among theirs, so the latest probes' places count the clients
        self._positions: deque[int] = deque(maxlen=6)
        self._fresh = True  # this epoch began with a whole new window (or is the first)
        self._others_seen = False  # Remaining fell faster than this client spent
        self._others_before = False  # ... in the previous epoch
        self._others_at = -math.inf  # when others' spending was last seen (a log's, a bucket's)
        self._bucket_mark: tuple[float, int] | None = None  # (when, Remaining) to count from
        self._bucket_answers = 0  # this client's answered requests since that mark
        self._yield = 1.0  # the same, raised by 429s, decaying while none arrive
        self._limited_in_epoch = False
        self._last_429 = -math.inf
        self._grants: deque[float] = deque()  # when this client's recent requests went
        self._passed_at: float | None = None  # the reset that began this epoch
        # an epoch that may be shared begins one request at a time: with nothing else in
        # flight, Remaining tells exactly whether anyone else spends (see _update_share)
        self._clear = 0  # answers in this epoch that showed no other spender
        self._took_leftover = False  # this fixed window's leftovers were reached for
        self._others_spent = 0  # what others surely spent in this fixed window
        self._others_spent_at = -math.inf  # when that last grew
        self._others_marks: list[tuple[float, int]] = []  # (when, others_spent) as it grew
        self._spent_at: float | None = None  # when an answer first said the window is spent
        # the first window has no history: it is spent early, as by clients like this one
        self._others_early_last = True
        self._epoch_began: float | None = None  # when this epoch's first answer came
        self._prompt_probe = True
        self._rtt = math.inf  # the shortest round trip of a probe seen
        self._jitter = self._rng.random()
        self._changed: asyncio.Event | None = None
        self._lock: asyncio.Lock | None = None

    # -- what callers may read -------------------------------------------------------------

    @property
    def kind(self) -> WindowKind:
        """How the server appears to count: ``"unknown"`` until the headers have told."""
        ev = self._evidence
        if ev["bucket"] >= 2 and ev["bucket"] > ev["fixed"]:
            return "bucket"
        if ev["fixed"] or ev["sliding"]:
            return "fixed" if ev["fixed"] >= ev["sliding"] else "sliding"
        return "unknown"

    @property
    def share(self) -> float:
        """How many clients appear to spend this key (1.0: this one alone)."""
        counted = 1
        if self.kind in {"sliding", "bucket"}:
            if self._clock() - self._others_at < self._span():
                counted = 2
        elif self._clear_epoch and not self._others_seen:
            counted = 1  # the first window shows no other spender
        else:
            counted = max(self._positions, default=1)
            if self._others_seen or self._others_before:
                counted = max(counted, 2)
        return max(float(counted), self._yield_now(self._clock()))

    def _yield_now(self, now: float) -> float:
        """The share raised by 429s, decaying by a half per window without one."""
        if self._yield <= 1.0:
            return 1.0
        return max(1.0, self._yield - 0.5 * max(0.0, now - self._last_429) / self._span())

    @property
    def snapshot(self) -> RateLimit | None:
        """The window as last described by the server (None before any response)."""
        if self._limit is None and self._remaining is None:
            return None
        now = self._clock()
        self._roll(now)
        if self._stale:
            fresh = self.kind in {"fixed", "unknown"} and self._window is not None
            reset = self._next_fixed_reset(now) if fresh else self._reset
            return RateLimit(self._limit, self._limit if fresh else None, reset)
        return RateLimit(self._limit, self._tokens_floor(now), self._reset)

    @property
    def window(self) -> float | None:
        """The window length learned from the headers, when known."""
        return self._window

    @property
    def window_estimate(self) -> float | None:
        """The window length if learned, else the longest Reset - now seen (a lower bound);
        None before any header."""
        return self._window or self._window_hint or None

    def seconds_to_reset(self) -> float | None:
        """Seconds until the budget is next refilled (a bucket: until it is full again);
        None before any header was seen. Past a reset whose effect is not yet known: 0."""
        now = self._clock()
        self._roll(now)
        if self._reset is None:
            return self._window_hint or None
        if self.kind == "bucket" and self._window and self._limit:
            tokens = self._tokens(now)
            return max(0.0, (self._limit - tokens) * self._window / self._limit)
        if self._stale:
            rolled = self._next_fixed_reset(now)
            if self.kind in {"fixed", "unknown"} and self._window and rolled is not None:
                return max(0.0, rolled - now)
            return 0.0
        return max(0.0, self._reset - now)

    @property
    def in_flight(self) -> int:
        return self._in_flight

    def available(self) -> int | None:
        """Requests that may be sent right now without waiting; None when unlimited/unknown."""
        now = self._clock()
        self._roll(now)
        if self._remaining is None and not self._stale:
            return None if self._headerless else (0 if self._in_flight else 1)
        if self._wait_time(now) != 0.0:
            return 0
        return max(0, self._room(now))

    # -- granting ----------------------------------------------------------------------------

    @contextlib.asynccontextmanager
    async def slot(self) -> AsyncIterator[Slot]:
        """Wait for a slot and hold it for the block: ``async with limiter.slot() as s:``."""
        granted = await self.take()
        async with granted:
            yield granted

    async def take(self) -> Slot:
        """Wait for a slot and hand it over; the holder must end it (``async with`` it)."""
        await self.acquire()
        return Slot(self)

    async def acquire(self) -> None:
        """Wait for a slot, then count the request as in flight (pair with :meth:`release`)."""
        if self._lock is None:
            self._lock = asyncio.Lock()
            self._changed = asyncio.Event()
        assert self._changed is not None
        async with self._lock:  # FIFO: callers get slots in the order they asked
            while True:
                self._changed.clear()
                if self.try_acquire():
                    return
                await self._wait(self.seconds_to_slot())

    def try_acquire(self) -> bool:
        """Count a request as in flight if one may go right now (pair with :meth:`release`);
        False, and nothing counted, if it would have to wait."""
        now = self._clock()
        if self._wait_time(now) != 0.0:
            return False
        self._in_flight += 1
        if self.share > 1 and not self._stale and self.kind in {"fixed", "unknown"}:
            # the window's leftovers, taken once the others went quiet: a 429 for this one
            # says the window is spent, not that someone else is new to the key
            self._took_leftover |= self._spare(now) <= LAST_RESERVE
        if self._granted == 0:
            # a probe sent after others ramped up would count their requests too
            prompt = self._probe_span() + RESET_MARGIN_S + min(0.05 * self._span(), 0.5 * self._rtt)
            self._prompt_probe = self._passed_at is None or now - self._passed_at <= prompt
        self._granted += 1
        self._last_grant = now
        self._grants.append(now)
        if len(self._grants) > 4 * (self._limit or 1):
            self._grants.popleft()
        return True

    def seconds_to_slot(self) -> float | None:
        """Seconds until a request may go (0.0: now; None: once an answer in flight arrives)."""
        return self._wait_time(self._clock())

    def _wait_time(self, now: float) -> float | None:
        """0.0 when a request may go now, else seconds to wait (None: until an answer)."""
        if now < self._blocked_until:
            return self._blocked_until - now
        self._roll(now)
        if self._stale and self._granted == 0 and now < self._probe_at():
            return self._probe_at() - now
        if self._remaining is None and not self._stale:
            if self._headerless:
                return 0.0
            return None if self._in_flight else 0.0  # nothing known: a probe alone
        if self._room(now) > 0:
            return 0.0
        paced = self._paced_wait(now)
        if paced is not None and paced > 0:
            return paced
        if self._ramp_room() <= 0 and self._in_flight:
            return None  # the answers in flight say more
        if self._stale:
            return None if self._in_flight else 0.0
        if self._probe_phase_end() > now:
            return self._probe_phase_end() - now
        if self.kind == "bucket" and self._window and self._limit:
            need = self.share * (self._in_flight + 1) + 1e-6
            return max(0.001, (need - self._tokens(now)) / self._refill_rate())
        if self._reset is None:
            return None if self._in_flight else 1.0
        return max(0.0, self._reset - now) + RESET_MARGIN_S

    def _room(self, now: float) -> int:
        """How many more requests may be in flight now."""
        ramp = self._ramp_room()
        if self._probe_phase_end() > now and not self._stale:
            return 0  # the others' probes are not all counted yet
        if self._stale and not (self.kind == "sliding" and self._remaining is not None):
            # what the reset freed is unknown: one probe, alone among this epoch's requests
            return min(ramp, 1 if self._granted == 0 else 0)
        room = min(self._spare(now), ramp)
        if room > 0 and (self._paced_wait(now) or 0.0) > 0.0:
            return 0
        if self.share > 1 and self._others_idle(now):
            # the others went quiet as far as this client saw, which may be a while ago:
            # what is left is taken one at a time, each answer saying what still is
            return min(room, 1 - self._in_flight)
        return room

    def _spare(self, now: float) -> int:
        """Requests the server would still admit by this client's count (never more than it
        announced, less what is in flight)."""
        if self._stale:
            # a sliding log only frees as its Reset passes, and under a binding budget each
            # answer's Reset (its oldest request's expiry) has often passed by the time the
            # answer arrives: what that answer left is still there, so it is spent now rather
            # than one probe per round trip (which let the log's expiries run ahead of this
            # client and spread each window's requests further than the last). Answers that
            # carry the passed Reset are not merged while stale, so every request since
            # counts against it: those in flight and those answered since the reset passed.
            probe = 1 if self._granted == 0 else 0
            spent = self._in_flight + self._answered
            return max(probe, (self._remaining or 0) - spent)
        return math.floor(self._tokens(now)) - self._in_flight

    def _paced_wait(self, now: float) -> float | None:
        """On a shared key: seconds until this client's next request, spreading what is left
        over the time until more comes (None: alone, or nothing left to spread).

        Every client sees the same Remaining, so each paces at the same rate whatever their
        number, and none needs to count the others. A fixed window's Remaining is spread
        over PACE_HORIZON of a window (K clients spend it early, as it falls, and never
        overrun it), or to the reset when the others spent steadily in the last window (a
        script at its own pace, which spending early would starve); its last request waits
        until the others go quiet. A sliding log or a bucket refills continuously: each
        client sends at a rate in proportion to what is left, so K clients settle with about
        LOG_RESERVE (a bucket: PACE_RESERVE) / K left between them and each sending 1 / K of
        the refill."""
        if self.share <= 1 or self._limit is None:
            return None
        spare = self._spare(now)
        if self.kind in {"fixed", "unknown"}:
            if spare <= 0 or self._stale or self._reset is None or self._others_idle(now):
                return None
            to_reset = max(0.0, self._reset - now)
            # the last ones wait until the others have gone quiet (or the reset): every
            # client would reach for them at once
            if spare <= LAST_RESERVE:
                return min(self._others_idle_at() - now, to_reset + RESET_MARGIN_S)
            horizon = to_reset
            if self._others_early_last:
                horizon = min(to_reset, PACE_HORIZON * self._span())
            interval = horizon / (spare - LAST_RESERVE)
        else:
            if spare <= 0:
                return None
            rate = self._limit / self._span()
            kept = LOG_RESERVE if self.kind == "sliding" else PACE_RESERVE
            interval = kept / (rate * spare)
        return max(0.0, self._last_grant + interval - now)

    def _span(self) -> float:
        return self._window or self._window_hint or 1.0

    def _probe_span(self) -> float:
        """Clients that may share the key probe right at the reset (one that had it to
        itself a little later, see :meth:`_probe_at`); none ramps up before this span ends,
        so that all their probes are counted."""
        if self._alone or self._passed_at is None or self.kind not in {"fixed", "unknown"}:
            return 0.0
        return self._alone_delay()

    def _alone_delay(self) -> float:
        return min(max(2 * self._rtt, RESET_MARGIN_S), 0.01 * self._span())

    def _probe_at(self) -> float:
        at = self._passed_at or 0.0
        if self._alone and self._passed_at is not None and self.kind in {"fixed", "unknown"}:
            # a client that had the key to itself probes a little after the others, so
            # that their probes show in its answer: bursting, it would not see them
            at += self._alone_delay()
        return at

    def _probe_phase_end(self) -> float:
        return (self._passed_at or 0.0) + self._probe_span()

    def _others_front_loaded(self) -> bool:
        """Whether the others spent most of their part of this fixed window early: in the
        first half of the time it was watched (what came after was refused or unseen)."""
        began = self._passed_at if self._passed_at is not None else self._epoch_began
        if began is None or self._others_spent < 2:
            return True
        # what others did is seen until the window was spent, or this client's last answer
        end = self._spent_at if self._spent_at is not None else self._seen
        early = max((n for at, n in self._others_marks if at <= (began + end) / 2), default=0)
        return early >= 0.8 * self._others_spent

    def _others_idle(self, now: float) -> bool:
        """The others spent nothing in this fixed window for a pacing horizon: they are done
        or waiting, so what is left is spent now (if they come back, their 429s say so)."""
        others = self._others_seen or self._others_before
        return others and self._yield_now(now) <= 1.0 and now >= self._others_idle_at()

    def _others_idle_at(self) -> float:
        began = self._epoch_began if self._epoch_began is not None else self._clock()
        # each client waits its own random time: the first to go takes what is left
        return max(self._others_spent_at, began) + (1 + self._jitter) * PACE_HORIZON * self._span()

    @property
    def _clear_epoch(self) -> bool:
        return self._epochs == 0 and self._clear >= CONFIRM_ALONE

    def _ramp_room(self) -> int:
        """After a reset, a client that may share the key first sends one request at a time
        until it knows whether others spend (then, alone, it bursts); shared, it ramps up
        (each answer lets two more go) so others' spending shows before the window is gone."""
        if self._alone or self._remaining is None or self._clear_epoch:
            return 1 << 30
        if self._epochs == 0 and self.kind in {"fixed", "unknown"} and not self._others_seen:
            return 1 - self._in_flight
        return 1 + 2 * self._answered - self._granted

    def _tokens(self, now: float) -> float:
        """The server's Remaining as it stands now, by the learned kind's refill."""
        remaining = float(self._remaining or 0)
        if self.kind == "bucket" and self._window and self._limit:
            remaining = min(
                float(self._limit), remaining + (now - self._seen) * self._refill_rate()
            )
        return remaining

    def _refill_rate(self) -> float:
        """A bucket's refill in requests per second, planned a little slower than its
        headers imply (0.0 while its size or refill time is unknown)."""
        if not (self._limit and self._window):
            return 0.0
        return self._limit / (self._window * BUCKET_SAFETY)

    def _tokens_floor(self, now: float) -> int | None:
        if self._remaining is None:
            return None
        return math.floor(self._tokens(now))

    # -- learning ----------------------------------------------------------------------------

    def release(self, headers: Mapping[str, str] | None, status_code: int | None = None) -> None:
        """Account for a finished request and learn from its headers (None: no response)."""
        self._in_flight = max(0, self._in_flight - 1)
        self._answered += 1
        now = self._clock()
        if status_code == 429:
            self.rate_limited += 1
            self._refused += 1
            if now - self._last_429 > 0.5 * self._span() and not self._took_leftover:
                # one overshoot answers many 429s
                self._yield = min(MAX_SHARE, self._yield_now(now) + 1.0)
                self._last_429 = now
            self._limited_in_epoch = True
            self._alone = False
        if headers is not None:
            self._learn(headers, status_code, now)
        if status_code == 429:
            self._back_off(now)
        if self._changed is not None:
            self._changed.set()

    def _back_off(self, now: float) -> None:
        """After a 429: nothing until the reset, plus jitter so that clients sharing the key
        do not all come back at the same instant."""
        base = max(self._blocked_until, now)
        if self._reset is not None and self.kind != "bucket":
            base = max(base, self._reset)
        span = min(self._span(), 10.0)
        self._blocked_until = base + self._rng.uniform(0.0, min(0.02 * span, 0.25))

    def _learn(self, headers: Mapping[str, str], status_code: int | None, now: float) -> None:
        info = RateLimit.from_headers(headers)
        retry_after = headers.get("retry-after") or headers.get("Retry-After")
        if retry_after:
            # an HTTP-date is ignored: X-RateLimit-Reset says the same thing
            with contextlib.suppress(ValueError):
                wait = float(retry_after)
                reset = info.reset if info is not None else None
                # a 429's Retry-After is whole seconds: when it is the Reset rounded up, the
                # Reset is the precise time (a second is most of a short window)
                rounded = reset is not None and wait <= max(1, math.ceil(reset - now))
                if not (status_code == 429 and rounded):
                    self._blocked_until = max(self._blocked_until, now + wait)
        if info is None:
            self._headerless = self._remaining is None and not self._stale
            return
        self._headerless = False
        if info.limit is not None:
            self._limit = int(info.limit)
        remaining = 0 if status_code == 429 else info.remaining
        reset = info.reset
        if remaining is None:
            return
        remaining = int(remaining)
        if reset is None:
            self._observe(remaining, None, now, merge=not self._stale)
            return
        self._window_hint = max(self._window_hint, reset - now)
        last = self._reset
        if last is None:
            self._observe(remaining, reset, now, merge=False)
        elif reset > last + 1e-6:
            self._moved(last, reset, remaining, now)
        elif abs(reset - last) <= 1e-6 and not (self._stale and self.kind != "bucket"):
            self._observe(remaining, reset, now, merge=True)
        # else: a late answer from a window that has ended; it tells nothing current
        self._learn_bucket_window(remaining, reset, now)
        if self._granted == 1 and self._answered == 1:
            self._rtt = min(self._rtt, now - self._last_grant)
        if status_code != 429:
            self._update_share(remaining)
            if remaining == 0 and self._spent_at is None:
                self._spent_at = now
            if self.kind == "sliding" and self._limit is not None:
                # the log holds more than this client's requests (a couple are allowed
                # for timing's blur): others spend too
                since = now - 1.05 * self._span()  # counted a little after it went
                while self._grants and self._grants[0] <= since:
                    self._grants.popleft()  # gone from the log (and from any later count)
                if self._limit - remaining > len(self._grants) + 2:
                    self._others_at = now
            elif self.kind == "bucket":
                self._count_others_in_bucket(remaining, now)

    def _count_others_in_bucket(self, remaining: int, now: float) -> None:
        """A bucket: did others spend since a marked answer? What it held then, plus the
        refill, less this client's requests since (answered or in flight), is what it would
        hold now without them. Counted over several answers, not one: clients that pace
        alike send about one request between two of each other's answers, which one
        answer's rounding would hide (two clients then forgot each other each window and
        burst together)."""
        self._bucket_answers += 1
        mark = self._bucket_mark
        if mark is not None and self._limit and self._window:
            at, held = mark
            refilled = held + (now - at) * self._refill_rate()
            # a full bucket wastes its refill: nothing can be told past that
            if refilled < self._limit - 1 and now - at < self._span():
                if refilled - self._bucket_answers - self._in_flight < remaining + 2:
                    return
                self._others_at = now
        self._bucket_mark = (now, remaining)
        self._bucket_answers = 0

    def _moved(self, last: float, reset: float, remaining: int, now: float) -> None:
        """The server's Reset moved forward: learn the kind from how."""
        hint = self._window_hint
        gap = reset - last
        if last > now + RESET_MARGIN_S and gap < 0.5 * hint:
            # moved before it passed: only a bucket does that (its "full again" recedes)
            self._evidence["bucket"] += 1
        elif last <= now:
            # the first answer after a reset: a whole new window, or a partial refill?
            informative = self._grant_before_reset > last - 0.5 * hint
            self._fresh = gap >= 0.75 * hint
            if self._fresh:
                if informative:
                    self._evidence["fixed"] += 1
                fixed_like = self.kind in {"fixed", "unknown"}
                if fixed_like and (self._window is None or gap < self._window):
                    self._window = gap
            elif informative and gap < 0.6 * hint:
                self._evidence["sliding"] += 1
        self._observe(remaining, reset, now, merge=False)

    def _observe(self, remaining: int, reset: float | None, now: float, *, merge: bool) -> None:
        if self._epoch_began is None:
            self._epoch_began = now
        if merge and self._remaining is not None:
            remaining = min(self._remaining, remaining)
        if self.kind == "bucket" and merge and self._remaining is not None:
            remaining = min(remaining, self._tokens_floor(now) or 0)
        self._remaining = remaining
        self._seen = now
        if reset is not None:
            self._reset = reset
        self._stale = False

    def _learn_bucket_window(self, remaining: int, reset: float, now: float) -> None:
        """A bucket's Reset is when it is full again: (limit - tokens) refills away."""
        limit = self._limit
        if self.kind != "bucket" or not limit or limit - remaining < 2:
            return
        # tokens lie in [remaining, remaining + 1): the smaller deficit gives the longer window
        estimate = (reset - now) * limit / (limit - remaining - 1)
        # a window taken for a fixed one's before the kind was known is no bound: a nearly
        # full bucket's first Resets, a request's refill apart, look like very short
        # windows (one client learned 1/30 of the true one and drew 429s on 9 in 10)
        if estimate > 0 and (not self._window_is_bucket or estimate < (self._window or math.inf)):
            self._window = estimate
            self._window_is_bucket = True

    def _update_share(self, remaining: int) -> None:
        """Count the clients spending this key, from a fresh fixed window's headers."""
        limit = self._limit
        if not limit or self._stale:
            return
        if not self._fresh or self.kind not in {"fixed", "unknown"}:
            return
        if self._granted == 1 and self._answered == 1 and self._prompt_probe:
            # the probe: how many requests the window counted, its own included
            self._positions.append(max(1, min(int(MAX_SHARE), limit - remaining)))
        consumed = limit - (self._remaining if self._remaining is not None else remaining)
        if (
            self._in_flight == 0
            and self._granted == self._answered
            and consumed <= self._answered - self._refused
            and self._last_grant >= self._probe_phase_end()
        ):
            # nothing of this client's in flight: every request the window counted beyond
            # its own is another spender's, and there is none (the probes are all in)
            self._clear += 1
        surely = consumed - (self._answered - self._refused) - self._in_flight
        if surely > self._others_spent:
            self._others_spent = surely
            self._others_spent_at = self._clock()
            self._others_marks.append((self._others_spent_at, surely))
        if consumed > self._granted:
            # Remaining fell faster than this client spent: it is not alone (whatever kind
            # the window turns out to be: a bucket's first answers look like this too)
            self._others_seen = True
            self._others_at = self._clock()
            self._alone = False

    def _roll(self, now: float) -> None:
        """Past the reset, a new epoch: what it freed is learned from a probe's answer."""
        if self._reset is None or now < self._reset or self._stale:
            return
        if self.kind == "bucket":
            return  # a bucket refills continuously; its Reset only says when it is full
        self._stale = True
        self._epochs += 1
        self._alone = not (self._limited_in_epoch or self._others_seen or self.share > 1)
        if not (self._limited_in_epoch or self._others_seen):
            self._positions.clear()  # a whole window with no other spender: alone again
        self._limited_in_epoch = False
        self._others_before = self._others_seen
        self._others_seen = False
        # others who spent most of their part early in the last window are clients like
        # this one, and this window is spent early too; others who spent steadily (a
        # script polling at its own pace, say) get it paced to its reset, not starved
        self._others_early_last = self._others_front_loaded()
        self._grant_before_reset = self._last_grant
        self._passed_at = self._reset
        self._clear = 0
        self._took_leftover = False
        self._others_spent = 0
        self._others_marks = []
        self._spent_at = None
        self._others_spent_at = -math.inf
        self._epoch_began = None
        self._granted = 0
        self._answered = 0
        self._refused = 0
        self._jitter = self._rng.random()
        logger.debug("rate-limit reset passed (%s window); probing", self.kind)

    def _next_fixed_reset(self, now: float) -> float | None:
        if self._reset is None or not self._window:
            return self._reset
        periods = max(0, math.floor((now - self._reset) / self._window) + 1)
        return self._reset + periods * self._window

    async def _wait(self, timeout: float | None) -> None:
        assert self._changed is not None
        # asyncio.timeout, not wait_for: on 3.11 wait_for can swallow a cancellation that
        # lands as its timeout fires, and a cancelled batch would go on sending
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(timeout):
                await self._changed.wait()
