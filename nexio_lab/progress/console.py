"""Terminal front-end: one live tqdm line."""

from __future__ import annotations

import time
from typing import IO, TYPE_CHECKING

from . import _format as fmt
from ._base import MIN_RENDER_INTERVAL_S, Clock, ThrottledReporter
from ._state import BatchProgress

if TYPE_CHECKING:
    from tqdm import tqdm

_BAR_FORMAT = "{desc}: {percentage:3.0f}%|{bar}| {n_fmt}/{total_fmt}{postfix}"


class ConsoleProgress(ThrottledReporter):
    """A single live line on a terminal (stderr by default)::

        demo:  40%|████      | 4/10, completed 4 · queued 6 · budget 37/60, reset in 2.1 s · ETA 8s

    >>> import io
    >>> from nexio_lab.progress import BatchProgress
    >>> out = io.StringIO()
    >>> c = ConsoleProgress(file=out)
    >>> c.close(BatchProgress("demo", 2, {"completed": 2}, finished=True))
    >>> "2/2" in out.getvalue()
    True
    """

    def __init__(
        self,
        *,
        file: IO[str] | None = None,
        min_interval_s: float = MIN_RENDER_INTERVAL_S,
        clock: Clock = time.monotonic,
    ) -> None:
        super().__init__(min_interval_s=min_interval_s, clock=clock)
        self._file = file
        self._bar: tqdm | None = None

    def _render(self, snapshot: BatchProgress) -> None:
        bar = self._bar_for(snapshot)
        bar.total = snapshot.total
        bar.n = snapshot.done
        postfix = " · ".join(
            x
            for x in (
                fmt.outcome_text(snapshot),
                fmt.counts_text(snapshot, skip_zero=True),
                fmt.budget_text(snapshot),
                fmt.throughput_text(snapshot),
                fmt.eta_text(snapshot),
            )
            if x
        )
        # refresh=False then refresh(): one write per render, our throttle is the only one.
        bar.set_postfix_str(postfix, refresh=False)
        bar.refresh()

    def _finish(self, snapshot: BatchProgress) -> None:
        self._render(snapshot)
        assert self._bar is not None
        self._bar.close()
        err = fmt.error_text(snapshot)
        if err:
            print(err, file=self._file or _stderr())

    def _bar_for(self, snapshot: BatchProgress) -> tqdm:
        if self._bar is None:
            from tqdm import tqdm

            self._bar = tqdm(
                total=snapshot.total,
                desc=snapshot.name,
                unit="eval",
                file=self._file,
                leave=True,
                dynamic_ncols=True,
                bar_format=_BAR_FORMAT,
                # We drive redraws ourselves; keep tqdm from adding its own.
                mininterval=0,
                miniters=0,
            )
        return self._bar


def _stderr() -> IO[str]:
    import sys

    return sys.stderr
