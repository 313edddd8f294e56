"""What the batch engine talks to, and the throttle every front-end shares."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Protocol, runtime_checkable

from ._state import BatchProgress

#: Seconds between two renders of a live display: "a few times a second" at most.
MIN_RENDER_INTERVAL_S = 0.2

Clock = Callable[[], float]


@runtime_checkable
class ProgressReporter(Protocol):
    """Receives snapshots of a running batch.

    The engine calls :meth:`update` as the batch moves (possibly often: reporters throttle)
    and :meth:`close` once at the end with ``snapshot.finished`` true.

    >>> class Printer:
    ...     def update(self, snapshot): pass
    ...     def close(self, snapshot): print(snapshot.done, "done")
    >>> isinstance(Printer(), ProgressReporter)
    True
    """

    def update(self, snapshot: BatchProgress) -> None:
        """Show a new snapshot (called a few times a second)."""

    def close(self, snapshot: BatchProgress) -> None:
        """Show the final snapshot; the batch has ended."""


class ThrottledReporter:
    """Base of the bundled front-ends: renders at most once per ``min_interval_s``.

    An update arriving sooner than that after the previous render is dropped, unless it is
    the final one (``snapshot.finished``); :meth:`close` always renders. Subclasses implement
    :meth:`_render` and :meth:`_finish`. ``renders`` counts actual renders.
    """

    def __init__(
        self, *, min_interval_s: float = MIN_RENDER_INTERVAL_S, clock: Clock = time.monotonic
    ) -> None:
        self.min_interval_s = min_interval_s
        self._clock = clock
        self._last_render: float | None = None
        self.renders = 0
        self.closed = False

    def update(self, snapshot: BatchProgress) -> None:
        """Render ``snapshot`` unless the previous render was too recent."""
        if self.closed:
            return
        now = self._clock()
        due = self._last_render is None or now - self._last_render >= self.min_interval_s
        if due or snapshot.finished:
            self._last_render = now
            self.renders += 1
            self._render(snapshot)

    def close(self, snapshot: BatchProgress) -> None:
        """Render the final state and leave it as the summary. Later calls do nothing."""
        if self.closed:
            return
        self.closed = True
        self._last_render = self._clock()
        self.renders += 1
        self._finish(snapshot)

    def _render(self, snapshot: BatchProgress) -> None:
        raise NotImplementedError

    def _finish(self, snapshot: BatchProgress) -> None:
        raise NotImplementedError
