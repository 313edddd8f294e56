"""The explorer's widgets drive its state (no browser; the real one is in tests/browser)."""

from __future__ import annotations

import nexio_lab
from nexio_lab.results import ResultSet


def test_controls_change_the_state_and_the_drawings(results: ResultSet) -> None:
    app = nexio_lab.explore(results)
    first = app.last_drawings["plot"].png
    assert first is not None

    shown = app.plot_out.outputs
    assert len(shown) == 1 and "image/png" in shown[0]["data"]

    app.plot.value = "funnel"
    assert app.state.selection.plot == "funnel"
    assert app.last_drawings["plot"].png not in (None, first)
    # the new image replaced the old one in the Output: one image, never two
    assert len(app.plot_out.outputs) == 1
    assert app.plot_out.outputs[0]["data"]["image/png"] != shown[0]["data"]["image/png"]

    app.filters["pool"].value = ("P",)
    assert app.state.selection.chosen("pool") == ("P",)
    assert app.status.value.startswith("4 of 8 evaluations · 8 of 15 candidates")
    assert "<td>X for acme on P</td>" in app.table.value
    assert "on Q</td>" not in app.table.value

    # the heatmap's evaluation picker appears only for that plot, listing the filtered ones
    assert app.eval_id.layout.display == "none"
    app.plot.value = "score_heatmap"
    assert app.eval_id.layout.display == ""
    assert [label for label, _ in app.eval_id.options] == [
        "acme · P", "bolt · P", "cora · P", "dune · P",
    ]  # fmt: skip


def test_the_ab_tab_draws_when_shown_and_follows_its_pickers(results: ResultSet) -> None:
    app = nexio_lab.explore(results)
    assert "rank_shift" not in app.last_drawings  # the costliest drawings wait for their tab
    app.tabs.selected_index = 2
    first, tiers = app.last_drawings["rank_shift"], app.last_drawings["tier_transition"]
    assert first.png is not None and tiers.png is not None
    assert (app.a.value, app.b.value) == ("P", "Q")
    assert list(app.entity.options) == ["acme", "bolt", "cora"]

    app.entity.value = "cora"
    assert app.state.selection.entity == "cora"
    assert app.last_drawings["rank_shift"].png != first.png
    assert app.last_drawings["tier_transition"] is tiers  # not redrawn: it has no entity

    app.ab_kind.value = "segment"
    assert app.segment_by.layout.display == "" and app.entity.layout.display == "none"
    assert list(app.a.options) == ["CA", "NY", "TX"]
    app.b.value = "TX"
    assert app.state.ab_pair()[1] == "TX"


def test_a_bad_choice_shows_a_message_not_a_traceback(results: ResultSet) -> None:
    app = nexio_lab.explore(results)
    app._apply({"plot": "pie"}, app.redraw_plot)
    assert "plot: unknown value &#x27;pie&#x27;" in app.status.value
    assert app.state.selection.plot == "tier_distribution"


def test_display_bundle_is_the_widget_with_a_short_text(results: ResultSet) -> None:
    app = nexio_lab.explore(results)
    bundle = app._repr_mimebundle_()
    assert "application/vnd.jupyter.widget-view+json" in bundle
    assert bundle["text/plain"] == "<Explorer of 'results': 8 evaluations, 1 run(s)>"
