"""The explorer's widgets: controls bound to an :class:`ExplorerState`, drawings in Outputs.

Each control change is one :meth:`ExplorerState.set` call; the drawings it affects are
re-rendered to PNG and replace the previous one in their ``Output`` in a single state
update (the old image stays until the new one is there: no flicker, never two images), and
figures are bare matplotlib ``Figure`` objects that pyplot never holds, so none pile up.
"""

from __future__ import annotations

import base64
import contextlib
from collections.abc import Callable
from html import escape
from typing import Any, Literal

import ipywidgets as widgets

from ._state import AB_KINDS, PLOTS, Drawing, ExplorerState

__all__ = ["Explorer", "explore"]

#: Filter labels that the column name would not say in a few letters.
_LABELS = {"profile_revenue_band": "revenue"}
#: Rows of the top-candidates table shown at most.
TABLE_ROWS = 60
_TABLE_CSS = """<style>
.nexio-top table {border-collapse: collapse; font-size: 12px}
.nexio-top th, .nexio-top td {border-bottom: 1px solid #ddd; padding: 2px 6px;
  text-align: left; vertical-align: top}
.nexio-top td:last-child {max-width: 44em; white-space: normal}
</style>"""


def explore(data: Any, *, per_segment: int = 3) -> Explorer:
    """An interactive explorer of ``data`` for JupyterLab and Notebook 7.

    ``data`` is a batch or ResultSet, or several runs of the same profiles (a list, oldest
    first, or a dict label -> results) to compare runs. It offers the six plots, grouping
    by pool or any ``profile_*`` column, filters (tier, pool, state, line, revenue band),
    the ``per_segment`` best candidates of each group with their reasoning, and an A/B
    comparison (rank shift and tier transition) of two pools, segments or runs.

    >>> from nexio_lab import explore
    >>> explore(batch)            # doctest: +SKIP
    >>> explore([batch_q3, batch_q4])  # doctest: +SKIP
    """
    return Explorer(ExplorerState(data, per_segment=per_segment))


class Explorer:
    """The explorer app; display it in a notebook cell. ``state`` drives it from code."""

    def __init__(self, state: ExplorerState) -> None:
        self.state = state
        self._syncing = False
        self._ab_dirty = True
        self.last_drawings: dict[str, Drawing] = {}
        sel = state.selection
        full = widgets.Layout(width="98%")

        self.run = widgets.Dropdown(description="run", options=list(state.runs), value=sel.run)
        if len(state.runs) < 2:
            self.run.layout.display = "none"
        self.plot = widgets.Dropdown(description="plot", options=list(PLOTS), value=sel.plot)
        self.group_by = widgets.Dropdown(description="group by")
        self.eval_id = widgets.Dropdown(description="evaluation")
        self.filters: dict[str, widgets.SelectMultiple] = {}
        for column in state.filter_options():
            self.filters[column] = widgets.SelectMultiple(
                description=_LABELS.get(column, column.removeprefix("profile_")),
                rows=4,
                layout=widgets.Layout(width="260px"),
            )
        self.status = widgets.HTML()
        self.plot_out = widgets.Output(layout=widgets.Layout(min_height="420px"))
        self.per_segment = widgets.BoundedIntText(
            description="per group", value=sel.per_segment, min=1, max=50
        )
        self.table = widgets.HTML(layout=full)
        self.ab_kind = widgets.ToggleButtons(
            description="compare", options=list(AB_KINDS), value=sel.ab_kind
        )
        self.segment_by = widgets.Dropdown(description="segments")
        self.a = widgets.Dropdown(description="A")
        self.b = widgets.Dropdown(description="B")
        self.entity = widgets.Dropdown(description="entity")
        self.shift_out = widgets.Output(layout=widgets.Layout(min_height="420px", width="50%"))
        self.tiers_out = widgets.Output(layout=widgets.Layout(min_height="420px", width="50%"))
        self.ab_status = widgets.HTML()

        controls = widgets.VBox(
            [self.run, self.plot, self.group_by, self.eval_id, *self.filters.values()],
            layout=widgets.Layout(min_width="290px"),
        )
        self.tabs = widgets.Tab(
            children=[
                widgets.HBox([controls, self.plot_out]),
                widgets.VBox([self.per_segment, self.table]),
                widgets.VBox(
                    [
                        widgets.HBox([self.ab_kind, self.segment_by]),
                        widgets.HBox([self.a, self.b, self.entity]),
                        self.ab_status,
                        widgets.HBox([self.shift_out, self.tiers_out]),
                    ]
                ),
            ]
        )
        for i, title in enumerate(("Plots", "Top candidates", "A/B")):
            self.tabs.set_title(i, title)
        self.widget = widgets.VBox([self.status, self.tabs])
        self.widget.add_class("nexio-explorer")

        self._sync_options()
        self._bind()
        self.redraw_plot()
        self.refresh_table()

    # Binding ------------------------------------------------------------------------------
    def _bind(self) -> None:
        plain: dict[str, tuple[widgets.Widget, Callable[[], object]]] = {
            "run": (self.run, self._after_data_change),
            "plot": (self.plot, self.redraw_plot),
            "group_by": (self.group_by, self._after_group_change),
            "eval_id": (self.eval_id, self.redraw_plot),
            "per_segment": (self.per_segment, self.refresh_table),
            "ab_kind": (self.ab_kind, self._after_ab_change),
            "segment_by": (self.segment_by, self._after_ab_change),
            "a": (self.a, self._after_ab_change),
            "b": (self.b, self._after_ab_change),
            "entity": (self.entity, self._after_entity_change),
        }
        for name, (control, then) in plain.items():
            control.observe(self._handler(name, then), names="value")
        for column, control in self.filters.items():
            control.observe(self._filter_handler(column), names="value")
        self.tabs.observe(lambda _: self._maybe_draw_ab(), names="selected_index")

    def _handler(self, name: str, then: Callable[[], object]) -> Callable[[dict[str, Any]], None]:
        def handle(change: dict[str, Any]) -> None:
            if self._syncing or change["new"] is None:
                return
            self._apply({name: change["new"]}, then)

        return handle

    def _filter_handler(self, column: str) -> Callable[[dict[str, Any]], None]:
        def handle(change: dict[str, Any]) -> None:
            if not self._syncing:
                self._apply({"filters": {column: list(change["new"])}}, self._after_data_change)

        return handle

    def _apply(self, changes: dict[str, Any], then: Callable[[], object]) -> None:
        try:
            self.state.set(**changes)
        except ValueError as exc:
            self.status.value = f"<span style='color:#b00'>{escape(str(exc))}</span>"
            return
        then()

    # Reactions ----------------------------------------------------------------------------
    def _after_data_change(self) -> None:
        self._sync_options()
        self.redraw_plot()
        self.refresh_table()
        self._ab_dirty = True
        self._maybe_draw_ab()

    def _after_group_change(self) -> None:
        self.redraw_plot()
        self.refresh_table()

    def _after_ab_change(self) -> None:
        self._sync_ab_options()
        self._ab_dirty = True
        if self.state.selection.plot in ("rank_shift", "tier_transition"):
            self.redraw_plot()
        self._maybe_draw_ab()

    def _after_entity_change(self) -> None:
        if self.state.selection.plot == "rank_shift":
            self.redraw_plot()
        if self.tabs.selected_index == 2 and not self._ab_dirty:
            self.redraw_ab(entity_only=True)
        else:
            self._ab_dirty = True
            self._maybe_draw_ab()

    # Options ------------------------------------------------------------------------------
    def _sync_options(self) -> None:
        state, sel = self.state, self.state.selection
        self._syncing = True
        try:
            self.group_by.options = state.group_options()
            self.group_by.value = sel.group_by
            options = state.filter_options()
            for column, control in self.filters.items():
                control.options = options.get(column, [])
                control.value = tuple(v for v in sel.chosen(column) if v in control.options)
            evals = state.evaluation_options()
            self.eval_id.options = evals
            chosen = [v for _, v in evals]
            self.eval_id.value = sel.eval_id if sel.eval_id in chosen else None
            self.segment_by.options = state.group_options()[1:] or ["pool"]
            self.segment_by.value = (
                sel.segment_by if sel.segment_by in self.segment_by.options else None
            )
        finally:
            self._syncing = False
        self._sync_ab_options()

    def _sync_ab_options(self) -> None:
        state, sel = self.state, self.state.selection
        self._syncing = True
        try:
            self.segment_by.layout.display = "" if sel.ab_kind == "segment" else "none"
            options = state.ab_options()
            self.a.options = self.b.options = options
            pair: tuple[str, str] | tuple[None, None]
            try:
                pair = state.ab_pair()
            except ValueError:
                pair = (None, None)
            self.a.value, self.b.value = pair
            self.entity.layout.display = "none" if sel.ab_kind == "segment" else ""
        finally:
            self._syncing = False

    def _sync_entities(self) -> None:
        self._syncing = True
        try:
            options = self.state.entity_options()
            self.entity.options = options
            self.entity.value = self.state.entity()
        finally:
            self._syncing = False

    # Drawing ------------------------------------------------------------------------------
    def redraw_plot(self) -> Drawing:
        """Render the picked plot and show it (replacing the previous one)."""
        self.eval_id.layout.display = "" if self.state.selection.plot == "score_heatmap" else "none"
        drawing = self.state.render_plot()
        self._show(self.plot_out, drawing)
        self.last_drawings["plot"] = drawing
        self.status.value = (
            f"{escape(self.state.describe())} · plot drawn in {drawing.seconds:.2f} s"
        )
        return drawing

    def redraw_ab(self, *, entity_only: bool = False) -> None:
        """Render the A/B comparison's plots and show them (replacing the previous ones);
        ``entity_only``: the rank shift only (the tier transition does not depend on it)."""
        if not entity_only:
            # without a comparison there are no entities; the drawings say why
            with contextlib.suppress(ValueError):
                self._sync_entities()
        plots: tuple[Literal["rank_shift", "tier_transition"], ...] = (
            ("rank_shift",) if entity_only else ("rank_shift", "tier_transition")
        )
        seconds = 0.0
        for plot in plots:
            drawing = self.state.render_ab(plot)
            self._show(self.shift_out if plot == "rank_shift" else self.tiers_out, drawing)
            self.last_drawings[plot] = drawing
            seconds += drawing.seconds
        self._ab_dirty = False
        self.ab_status.value = f"drawn in {seconds:.2f} s"

    def _maybe_draw_ab(self) -> None:
        # The comparison of a large run is the costliest drawing: only for a visible tab.
        if self._ab_dirty and self.tabs.selected_index == 2:
            self.redraw_ab()

    def refresh_table(self) -> None:
        """Rebuild the top-candidates table."""
        top = self.state.top_table()
        shown = top.head(TABLE_ROWS)
        more = len(top) - len(shown)
        note = f"<p><i>… {more} more rows</i></p>" if more > 0 else ""
        self.table.value = (
            f"{_TABLE_CSS}<div class='nexio-top'>"
            f"{shown.to_html(index=False, escape=True, na_rep='')}{note}</div>"
        )

    @staticmethod
    def _show(out: widgets.Output, drawing: Drawing) -> None:
        if drawing.png is not None:
            data = {
                "image/png": base64.b64encode(drawing.png).decode("ascii"),
                "text/plain": "<explorer plot>",
            }
        else:
            message = drawing.message or "nothing to draw"
            data = {"text/html": f"<p><i>{escape(message)}</i></p>", "text/plain": message}
        # One state update replaces the output: the old image stays until the new one is
        # there (no flicker), only one is ever held (no stacking), and no display message
        # goes through the kernel, so it works the same from a callback, a cell or a test.
        out.outputs = ({"output_type": "display_data", "data": data, "metadata": {}},)

    # Display ------------------------------------------------------------------------------
    def _repr_mimebundle_(self, **kwargs: Any) -> dict[str, Any]:
        bundle = self.widget._repr_mimebundle_(**kwargs)
        # the widget's own text repr would hold every output, images included
        bundle["text/plain"] = repr(self)
        return bundle

    def __repr__(self) -> str:
        run = self.state.run
        return (
            f"<Explorer of {run.label!r}: {len(run.evaluations):,} evaluations, "
            f"{len(self.state.runs)} run(s)>"
        )
