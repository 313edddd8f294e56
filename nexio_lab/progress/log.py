"""Non-TTY front-end (CI, redirected output): periodic ``logging`` lines."""

from __future__ import annotations

import logging
import time

from . import _format as fmt
from ._base import Clock, ThrottledReporter
from ._state import BatchProgress

#: Logger the lines go to; configure it (or the root logger) to see INFO lines.
LOGGER_NAME = "nexio_lab.progress"


class LogProgress(ThrottledReporter):
    """One log line every ``interval_s`` seconds while the batch runs, and a final one
    (INFO when the batch ended well, WARNING otherwise)::

        demo: 40/200 (20%) · completed 38 · error 2 · queued 12 · 6.1 eval/s · ETA 26s · ...

    >>> import logging
    >>> from nexio_lab.progress import BatchProgress
    >>> LogProgress(interval_s=30).interval_s
    30
    """

    def __init__(
        self,
        *,
        interval_s: float = 10.0,
        logger: logging.Logger | None = None,
        level: int = logging.INFO,
        clock: Clock = time.monotonic,
    ) -> None:
        super().__init__(min_interval_s=interval_s, clock=clock)
        self.logger = logger or logging.getLogger(LOGGER_NAME)
        self.level = level

    @property
    def interval_s(self) -> float:
        """Seconds between two log lines."""
        return self.min_interval_s

    def _render(self, snapshot: BatchProgress) -> None:
        if snapshot.finished:
            return  # close() writes the final line, at the level the outcome deserves
        self.logger.log(self.level, "%s", fmt.summary_line(snapshot))

    def _finish(self, snapshot: BatchProgress) -> None:
        level = self.level if snapshot.ok else max(self.level, logging.WARNING)
        self.logger.log(level, "%s", fmt.summary_line(snapshot))
