"""The explorer's state model on hand-built results (no widgets, no browser)."""

from __future__ import annotations

import pandas as pd
import pytest

from nexio_lab.explorer import PLOTS, ExplorerState, top_candidates
from nexio_lab.results import ResultSet, compare

PNG = b"\x89PNG\r\n\x1a\n"


def test_options_come_from_the_data(results: ResultSet) -> None:
    state = ExplorerState(results)
    assert state.group_options() == [
        "pool", "profile_entity", "profile_state", "profile_line", "profile_revenue",
        "profile_revenue_band",
    ]  # fmt: skip
    options = state.filter_options()
    assert options["tier"] == ["STRONG_FIT", "GOOD_FIT", "POSSIBLE_FIT", "WEAK_FIT"]
    assert options["pool"] == ["P", "Q"]
    assert options["profile_state"] == ["CA", "NY", "TX"]
    assert options["profile_line"] == ["cyber", "property"]
    # bands in their own order, only those present; $1M exactly is in the $1M–10M band
    assert options["profile_revenue_band"] == ["<$1M", "$1M–10M", "$10M–100M", "$1B+"]
    bands = state.run.evaluations.set_index("entity")["profile_revenue_band"].astype(str)
    assert bands["bolt"].iloc[0] == "$1M–10M" and bands["dune"].iloc[0] == "$1B+"


@pytest.mark.parametrize(
    ("filters", "evaluations", "candidates", "scores"),
    [
        ({}, 8, 15, 30),
        ({"pool": ["P"]}, 4, 8, 16),
        ({"tier": ["STRONG_FIT"]}, 8, 4, 8),  # tier filters candidates, not evaluations
        ({"profile_state": ["CA"]}, 4, 10, 20),
        ({"profile_line": ["cyber"]}, 4, 9, 18),
        ({"profile_revenue_band": ["$1B+"]}, 2, 2, 4),
        ({"pool": ["Q"], "profile_state": ["CA", "NY"], "tier": ["STRONG_FIT"]}, 3, 2, 4),
    ],
)
def test_filters_keep_the_matching_rows(
    results: ResultSet, filters: dict, evaluations: int, candidates: int, scores: int
) -> None:
    state = ExplorerState(results)
    state.set(filters=filters)
    rs = state.filtered()
    assert (len(rs.evaluations), len(rs.candidates), len(rs.scores)) == (
        evaluations, candidates, scores,
    )  # fmt: skip
    for column, values in filters.items():
        table = rs.candidates if column == "tier" else rs.evaluations
        assert set(table[column].astype(str)) <= set(values)
    # every kept candidate belongs to a kept evaluation
    kept = set(zip(rs.evaluations["row"], rs.evaluations["pool"], strict=True))
    assert set(zip(rs.candidates["row"], rs.candidates["pool"], strict=True)) <= kept
    # the errors of the filtered view are its evaluations that did not complete
    assert len(rs.errors) == int((rs.evaluations["status"] != "completed").sum())


def test_an_empty_filter_clears_it_and_bad_values_are_refused(results: ResultSet) -> None:
    state = ExplorerState(results)
    state.set(filters={"pool": ["P"]})
    with pytest.raises(ValueError, match=r"filter profile_state: unknown value\(s\) \['ZZ'\]"):
        state.set(filters={"profile_state": ["ZZ"]})
    with pytest.raises(ValueError, match="plot: unknown value 'pie'"):
        state.set(plot="pie", group_by="profile_state")
    # a refused change leaves the whole selection as it was
    assert state.selection.chosen("pool") == ("P",) and state.selection.plot == PLOTS[0]
    assert state.selection.group_by == "pool"
    state.set(filters={"pool": []})
    assert len(state.filtered().evaluations) == 8


def test_every_plot_renders_and_a_change_redraws(results: ResultSet) -> None:
    state = ExplorerState(results)
    drawings = {}
    for plot in PLOTS:
        state.set(plot=plot)
        drawing = state.render_plot()
        assert drawing.message is None, (plot, drawing.message)
        assert drawing.png is not None and drawing.png.startswith(PNG)
        drawings[plot] = drawing.png
    assert len(set(drawings.values())) == len(PLOTS)
    state.set(plot="tier_distribution")
    before = state.render_plot().png
    state.set(group_by="profile_state")
    assert state.render_plot().png != before


def test_a_selection_with_nothing_to_draw_says_why(results: ResultSet) -> None:
    state = ExplorerState(results)
    state.set(plot="score_heatmap", filters={"profile_revenue_band": ["$1B+"], "pool": ["Q"]})
    drawing = state.render_plot()
    assert drawing.png is None
    assert drawing.message == "no evaluation with candidates matches the filters"
    one_pool = ExplorerState(results)
    one_pool.set(filters={"pool": ["P"]})
    only_p = ExplorerState(one_pool.filtered())
    assert only_p.ab_options() == ["P"]
    drawing = only_p.render_ab("tier_transition")
    assert drawing.png is None
    assert drawing.message == "an A/B comparison needs two pools; found 1"


def test_pool_comparison_matches_compare_on_a_manual_split(results: ResultSet) -> None:
    state = ExplorerState(results)
    assert state.ab_pair() == ("P", "Q")
    diff = state.comparison()
    c = results.candidates
    expected = compare(c[c["pool"] == "P"], c[c["pool"] == "Q"], on=["entity", "name"])
    summary = diff.attrs["summary"]
    assert (summary.n_shared, summary.n_a_only, summary.n_b_only) == (5, 3, 2)
    assert summary.n_shared == expected.attrs["summary"].n_shared
    assert (summary.label_a, summary.label_b) == ("P", "Q")
    # rank shift shows the first entity with candidates in both pools
    assert state.entity_options() == ["acme", "bolt", "cora"] and state.entity() == "acme"
    state.set(entity="cora")
    assert state.entity() == "cora"
    assert state.render_ab("rank_shift").png.startswith(PNG)
    assert state.render_ab("tier_transition").png.startswith(PNG)


def test_segment_comparison_matches_carriers_across_segments(results: ResultSet) -> None:
    state = ExplorerState(results)
    state.set(ab_kind="segment", segment_by="profile_state", a="CA", b="NY")
    summary = state.comparison().attrs["summary"]
    # (pool, carrier) pairs shortlisted in both CA and NY: (P, Y) and (Q, Y)
    assert summary.n_shared == 2
    assert state.entity() is None  # carriers, not entities, are matched
    with pytest.raises(ValueError, match="a: unknown value 'ZZ'"):
        state.set(a="ZZ")
    assert state.render_ab("rank_shift").png.startswith(PNG)
    assert state.render_ab("tier_transition").png.startswith(PNG)


def test_run_comparison_finds_what_changed(results: ResultSet, later_run: ResultSet) -> None:
    state = ExplorerState([results, later_run])
    assert list(state.runs) == ["run 1", "run 2"]
    assert state.selection.run == "run 2"  # the latest is shown
    state.set(ab_kind="run")
    assert state.ab_pair() == ("run 1", "run 2")
    diff = state.comparison()
    summary = diff.attrs["summary"]
    assert (summary.n_shared, summary.n_a_only, summary.n_b_only) == (14, 1, 0)
    moved = diff[(diff["entity"] == "acme") & (diff["pool"] == "P")].set_index("name")
    assert moved.loc["X", "present"] == "a_only"
    assert moved.loc["Y", "tier_change"] == "up" and moved.loc["Y", "rank_change"] == -1
    # filters apply to both runs
    state.set(filters={"pool": ["Q"]})
    assert state.comparison().attrs["summary"].n_a_only == 0
    named = ExplorerState({"q3": results, "q4": later_run})
    assert list(named.runs) == ["q3", "q4"]


def test_top_table_is_best_tier_then_rank_per_group(results: ResultSet) -> None:
    state = ExplorerState(results, per_segment=2)
    top = state.top_table()
    assert top[["segment", "entity", "name"]].values.tolist() == [
        ["P", "acme", "X"], ["P", "cora", "Y"], ["Q", "acme", "Y"], ["Q", "cora", "V"],
    ]  # fmt: skip
    assert top["reasoning"].tolist()[0] == "X for acme on P"
    state.set(group_by="profile_state", per_segment=1, filters={"tier": ["WEAK_FIT"]})
    top = state.top_table()
    assert top["segment"].tolist() == ["CA", "NY", "TX"]
    assert set(top["tier"].astype(str)) == {"WEAK_FIT"}


def test_top_candidates_contract(results: ResultSet) -> None:
    top = top_candidates(results.candidates, results.evaluations, by=None, per_segment=3)
    assert list(top.columns) == [
        "segment", "entity", "pool", "rank", "name", "tier", "confidence", "reasoning",
    ]  # fmt: skip
    assert top["segment"].tolist() == ["all"] * 3
    assert str(top["rank"].dtype) == "Int64" and isinstance(top["tier"].dtype, pd.CategoricalDtype)
    with pytest.raises(ValueError, match="no column 'nope' to segment by"):
        top_candidates(results.candidates, results.evaluations, by="nope")


def test_a_real_batch_is_explored_under_its_name(sandbox, tmp_path) -> None:
    from nexio_lab import Client

    profiles = [
        {"entity": f"acme-{i}", "state": s, "line": "cyber", "revenue": 3_000_000}
        for i, s in enumerate(["CA", "NY", "CA", "TX"])
    ]
    with Client(sandbox.api_key, base_url=sandbox.url) as client:
        batch = client.run_batch(
            profiles, pools=["carriers:all", "carriers:tier1"], name="q4",
            store=tmp_path / "j.sqlite", progress=False,
        )  # fmt: skip
    state = ExplorerState(batch)
    assert list(state.runs) == ["q4"]
    assert state.run.dimensions == batch.results.dimensions
    state.set(filters={"profile_state": ["CA"]}, plot="dimension_profile")
    assert len(state.filtered().evaluations) == 4
    assert state.render_plot().png.startswith(PNG)
    assert state.comparison().attrs["summary"].n_shared > 0  # same profiles on both pools
