"""Jupyter front-end: an ipywidgets display of a running batch (ipywidgets imported lazily)."""

from __future__ import annotations

import html
import time
from typing import TYPE_CHECKING, Any

from . import _format as fmt
from ._base import MIN_RENDER_INTERVAL_S, Clock, ThrottledReporter
from ._state import BatchProgress

if TYPE_CHECKING:
    import ipywidgets

#: Chip colour per status; unknown statuses get the neutral grey.
STATUS_COLOURS = {
    "pending": "#9e9e9e",
    "queued": "#64b5f6",
    "processing": "#1e88e5",
    "completed": "#43a047",
    "failed": "#fb8c00",
    "error": "#e53935",
    "uncertain": "#8e24aa",
}
_NEUTRAL = "#bdbdbd"

#: CSS class on the outer box, so tests and users' styles can find the display.
CSS_CLASS = "nexio-progress"


class WidgetProgress(ThrottledReporter):
    """Live batch display for Jupyter: title, progress bar with ``done/total``, per-status
    counts, rate-limit budget, throughput, ETA and the last error.

    It displays itself on the first update; at close the bar turns green when the batch
    ended well (``snapshot.ok``), red otherwise, and stays in the output as the summary.

    >>> from nexio_lab.progress import BatchProgress
    >>> w = WidgetProgress(display=False)
    >>> w.update(BatchProgress("demo", 4, {"completed": 1, "pending": 3}))
    >>> w.bar.value, w.bar.max, w.done_label.value
    (1, 4, '1/4 (25%)')

    Give the engine's first update from the thread of the cell (e.g. before starting a
    background batch) so the display lands in that cell's output.
    """

    def __init__(
        self,
        *,
        display: bool = True,
        min_interval_s: float = MIN_RENDER_INTERVAL_S,
        clock: Clock = time.monotonic,
    ) -> None:
        super().__init__(min_interval_s=min_interval_s, clock=clock)
        self._display = display
        self._box: ipywidgets.VBox | None = None

    # -- the widgets, built on first use -------------------------------------------------

    def _build(self) -> ipywidgets.VBox:
        import ipywidgets as w

        self.title = w.HTML()
        self.bar = w.IntProgress(min=0, max=1, value=0, layout=w.Layout(width="60%"))
        self.done_label = w.Label()
        self.done_label.add_class(f"{CSS_CLASS}-done")
        self.counts = w.HTML()
        self.stats = w.HTML()
        self.error = w.HTML()
        box = w.VBox(
            [
                self.title,
                w.HBox([self.bar, self.done_label]),
                self.counts,
                self.stats,
                self.error,
            ]
        )
        box.add_class(CSS_CLASS)
        return box

    @property
    def widget(self) -> ipywidgets.VBox:
        """The ipywidgets box (built on first access)."""
        if self._box is None:
            self._box = self._build()
        return self._box

    def _repr_mimebundle_(self, **kwargs: Any) -> Any:
        # Lets `reporter` on the last line of a cell show the display again.
        return self.widget._repr_mimebundle_(**kwargs)

    # -- rendering ------------------------------------------------------------------------

    def _render(self, snapshot: BatchProgress) -> None:
        first = self._box is None
        box = self.widget
        self._fill(snapshot)
        if first and self._display:
            from IPython.display import display

            display(box)

    def _finish(self, snapshot: BatchProgress) -> None:
        self._render(snapshot)
        self.bar.bar_style = "success" if snapshot.ok else "danger"

    def _fill(self, p: BatchProgress) -> None:
        outcome = fmt.outcome_text(p)
        title = f"<b>{html.escape(p.name)}</b>"
        if outcome:
            title += f" &mdash; {html.escape(outcome)}"
        self.title.value = title
        # An empty batch shows a full bar rather than 0/0 of nothing. Max before value:
        # the widget clamps value to the current max.
        self.bar.max = max(p.total, 1)
        self.bar.value = min(p.done, p.total) if p.total else 1
        self.done_label.value = f"{fmt.done_text(p)} ({fmt.percent_text(p)})"
        self.counts.value = counts_html(p)
        self.stats.value = html.escape(fmt.stats_text(p))
        err = fmt.error_text(p)
        self.error.value = f'<span style="color:#c62828">{html.escape(err)}</span>' if err else ""


def counts_html(p: BatchProgress) -> str:
    """One coloured chip per status with its count, e.g. ``● completed 3``.

    >>> from nexio_lab.progress import BatchProgress
    >>> "completed</span> <b>3</b>" in counts_html(BatchProgress("b", 3, {"completed": 3}))
    True
    """
    chips = []
    for status, n in fmt.status_counts(p):
        colour = STATUS_COLOURS.get(status, _NEUTRAL)
        # Zero counts stay visible (the full picture of statuses) but faded.
        opacity = "1" if n else "0.45"
        chips.append(
            f'<span class="{CSS_CLASS}-status" data-status="{html.escape(status)}" '
            f'style="margin-right:1em;opacity:{opacity}">'
            f'<span style="color:{colour}">&#9679;</span> '
            f"<span>{html.escape(status)}</span> <b>{n}</b></span>"
        )
    return "".join(chips)
