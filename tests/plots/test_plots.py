"""Every plot rendered to PNG with Agg, then checked: titles, labels, legends, artists, data."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
from matplotlib.colors import to_hex

from nexio_lab._models import LEVELS, TIERS, Evaluation
from nexio_lab.plots import (
    PlotAccessor,
    dimension_profile,
    funnel,
    rank_shift,
    score_heatmap,
    tier_distribution,
    tier_transition,
)
from nexio_lab.plots._palette import (
    BETTER_COLOR,
    LEVEL_COLORS,
    SAME_COLOR,
    STAGE_COLORS,
    TIER_COLORS,
    UNKNOWN_COLOR,
    WORSE_COLOR,
)
from nexio_lab.results import ResultSet, compare
from nexio_lab.results._synthetic import synthetic_records


def render(ax, tmp_path: Path, name: str) -> Path:
    path = tmp_path / f"{name}.png"
    ax.figure.savefig(path, dpi=60)
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and path.stat().st_size > 2000
    return path


def legend_texts(ax) -> list[str]:
    legend = ax.get_legend()
    assert legend is not None, "plot has no legend"
    return [t.get_text() for t in legend.get_texts()]


def tick_texts(ticks) -> list[str]:
    return [t.get_text() for t in ticks]


def test_tier_distribution_by_pool(batch: ResultSet, tmp_path: Path) -> None:
    ax = tier_distribution(batch, by="pool")
    render(ax, tmp_path, "tiers")
    assert ax.get_title() == "Tiers per pool"
    assert (ax.get_xlabel(), ax.get_ylabel()) == ("candidates", "pool")
    assert legend_texts(ax) == list(TIERS)
    assert len(ax.patches) == 3 * 4  # 3 pools x 4 tiers
    pools = sorted(batch.candidates["pool"].unique())
    assert tick_texts(ax.get_yticklabels()) == pools
    # the bars add up to the candidate counts, and each tier has its palette colour
    counts = batch.candidates.groupby("pool").size()
    totals = {}
    for patch in ax.patches:
        y = round(patch.get_y() + patch.get_height() / 2)
        totals[y] = totals.get(y, 0) + patch.get_width()
    assert [totals[i] for i in range(3)] == [counts[p] for p in pools]
    colors = {to_hex(p.get_facecolor()) for p in ax.patches}
    assert colors == {c.lower() for c in TIER_COLORS.values()}


def test_tier_distribution_many_groups_unknown_tiers_and_shares(
    batch: ResultSet, unknown_tiers: ResultSet, tmp_path: Path
) -> None:
    ax = tier_distribution(batch, by="eval_id", top_n=4, normalize=True)
    render(ax, tmp_path, "tiers_top")
    labels = tick_texts(ax.get_yticklabels())
    assert len(labels) == 4 and labels[-1] == "other (7)"  # 10 completed evaluations
    assert ax.get_xlabel() == "share of candidates"
    widths = np.zeros(4)
    for patch in ax.patches:
        widths[round(patch.get_y() + patch.get_height() / 2)] += patch.get_width()
    assert widths == pytest.approx(np.ones(4))

    _, ax2 = plt.subplots()
    assert tier_distribution(unknown_tiers, ax=ax2) is ax2
    render(ax2, tmp_path, "tiers_unknown")
    assert ax2.get_ylabel() == "eval_id"  # one pool: grouped by evaluation
    assert legend_texts(ax2) == ["STRONG_FIT", "GOOD_FIT", "MYSTERY_FIT", "ODD_FIT"]
    unknown = [p for p in ax2.patches if to_hex(p.get_facecolor()) == UNKNOWN_COLOR.lower()]
    assert len(unknown) == 2 and {p.get_hatch() for p in unknown} == {"", "//"}
    assert sorted(p.get_width() for p in unknown) == [1, 2]


def test_score_heatmap(unknown_tiers: ResultSet, batch: ResultSet, tmp_path: Path) -> None:
    ax = score_heatmap(unknown_tiers)
    render(ax, tmp_path, "heatmap")
    assert ax.get_title() == "Scores of acme on p"  # entity and pool, not eval_id
    assert (ax.get_xlabel(), ax.get_ylabel()) == ("dimension", "candidate (by rank)")
    # dimensions nobody was scored on are left out
    assert tick_texts(ax.get_xticklabels()) == ["appetite", "cyber"]
    assert tick_texts(ax.get_yticklabels())[:2] == ["1. C0", "2. C1"]
    assert legend_texts(ax) == list(LEVELS)
    handles = ax.get_legend().legend_handles
    assert [to_hex(h.get_facecolor()) for h in handles] == [
        LEVEL_COLORS[lv].lower() for lv in LEVELS
    ]
    (image,) = ax.images
    assert image.get_array().shape == (5, 2)
    assert image.get_array()[:, 0].tolist() == [0] * 5  # L1
    assert [t.get_text() for t in ax.texts] == ["L1", "L4"] * 5

    with pytest.raises(ValueError, match="pass eval_id= \\(one of 10"):
        score_heatmap(batch)
    ax = score_heatmap(batch, "eval_00000000", top_n=3)
    render(ax, tmp_path, "heatmap_top")
    assert ax.get_title() == "Scores of entity-000000 on carriers:all, top 3 of 8"
    assert ax.images[0].get_array().shape == (3, 6)
    with pytest.raises(ValueError, match="no candidates of evaluation 'nope'"):
        score_heatmap(batch, "nope")


def test_score_heatmap_marks_unscored_cells(batch: ResultSet, tmp_path: Path) -> None:
    frame = batch.candidates[batch.candidates["eval_id"] == "eval_00000001"].copy()
    frame.loc[frame.index[0], "pricing"] = None
    ax = score_heatmap(frame)
    render(ax, tmp_path, "heatmap_missing")
    assert legend_texts(ax) == [*LEVELS, "not scored"]
    assert len(ax.texts) == 8 * 6 - 1


def test_score_heatmap_title_never_shows_the_eval_id(batch: ResultSet) -> None:
    one = batch.candidates[batch.candidates["eval_id"] == "eval_00000001"]
    # a bare Evaluation knows neither entity nor pool: a generic title
    evaluation = Evaluation.from_json(
        {"eval_id": "eval_7xKp2mNc", "status": "completed",
         "candidates": [{"name": "A", "tier": "GOOD_FIT", "scores": {"appetite": "L2"}}]}
    )  # fmt: skip
    cases = {
        "Scores per candidate and dimension": score_heatmap(evaluation),
        "Scores of entity-000001": score_heatmap(one.drop(columns=["pool"])),
        "Scores on carriers:tier1": score_heatmap(one.assign(entity=pd.NA)),
        "Scores per candidate and dimension, top 2 of 8": score_heatmap(
            one.drop(columns=["entity", "pool"]), top_n=2
        ),
    }
    for expected, ax in cases.items():
        assert ax.get_title() == expected
        assert "eval_" not in ax.get_title()


def test_dimension_profile(batch: ResultSet, tmp_path: Path) -> None:
    ax = dimension_profile(batch, by="profile_state", top_n=3)
    render(ax, tmp_path, "profile")
    assert ax.get_title() == "Mean level per dimension by profile_state"
    assert (ax.get_xlabel(), ax.get_ylabel()) == ("dimension", "mean level (L1 best)")
    assert tick_texts(ax.get_yticklabels()) == list(LEVELS)
    bottom, top = ax.get_ylim()
    assert bottom > top  # L1 up
    labels = legend_texts(ax)
    assert len(ax.lines) == len(labels) == 3 and labels[-1].startswith("other (")

    ax = dimension_profile(batch)  # default: by pool
    assert legend_texts(ax) == sorted(batch.evaluations["pool"].unique())
    expected = (
        batch.scores[batch.scores["pool"] == "carriers:all"]
        .groupby("dimension", observed=True)["level_num"]
        .mean()
        .to_numpy(dtype=float)
    )
    assert ax.lines[0].get_ydata() == pytest.approx(expected)


def test_funnel(batch: ResultSet, tmp_path: Path) -> None:
    ax = funnel(batch)
    render(ax, tmp_path, "funnel")
    assert ax.get_title() == "Funnel per pool: pool → filter → shortlist"
    assert (ax.get_xlabel(), ax.get_ylabel()) == ("candidates (mean per evaluation)", "pool")
    assert legend_texts(ax) == ["pool", "after filter", "shortlisted"]
    assert len(ax.patches) == 3 * 3
    assert [to_hex(p.get_facecolor()) for p in ax.patches[::3]] == [c.lower() for c in STAGE_COLORS]
    done = batch.evaluations[batch.evaluations["status"] == "completed"]
    first = done[done["pool"] == "carriers:all"]
    widths = [p.get_width() for p in ax.patches]
    assert widths[0] == pytest.approx(first["pool_size"].mean())
    assert widths[3] == pytest.approx((first["pool_size"] - first["filtered"]).mean())
    assert widths[6] == 8  # shortlisted: 8 candidates each; failed evaluations left out
    assert len(ax.texts) == 9  # values written on bars

    total = funnel(batch.evaluations, by="eval_id", agg="sum", top_n=5)
    assert total.get_xlabel() == "candidates (total)"
    assert len(total.patches) == 3 * 5


def test_rank_shift(pair, tmp_path: Path) -> None:
    a, b = pair
    ax = rank_shift(a, b)
    render(ax, tmp_path, "shift")
    assert ax.get_title() == "Rank shift: eval_A → eval_B"
    assert (ax.get_xlabel(), ax.get_ylabel()) == ("side", "rank (1 = best)")
    assert tick_texts(ax.get_xticklabels()) == ["eval_A", "eval_B"]
    assert legend_texts(ax) == [
        "better on B", "worse on B", "same rank", "only in eval_A", "only in eval_B",
    ]  # fmt: skip
    assert len(ax.lines) == 5  # 3 slopes + 2 one-sided points
    by_start = {tuple(line.get_ydata()): to_hex(line.get_color()) for line in ax.lines}
    assert by_start[(1, 2)] == WORSE_COLOR.lower()  # X: 1 -> 2
    assert by_start[(2, 1)] == BETTER_COLOR.lower()  # Y: 2 -> 1
    assert by_start[(3, 3)] == SAME_COLOR.lower()
    bottom, top = ax.get_ylim()
    assert bottom > top
    assert sorted(t.get_text() for t in ax.texts) == sorted(
        ["X", "Y", "Z", "W", "Y", "X", "Z", "V"]  # names at both ends
    )

    # from a ready compare() frame, limited to the top 2
    ax = rank_shift(compare(a, b), top_n=2)
    assert len(ax.lines) == 2 and ax.get_title().endswith("(top 2 of 5)")


def test_tier_transition(pair, batch: ResultSet, tmp_path: Path) -> None:
    a, b = pair
    ax = tier_transition(compare(a, b))
    render(ax, tmp_path, "transition")
    assert ax.get_title() == "Tier transition: eval_A → eval_B"
    assert (ax.get_xlabel(), ax.get_ylabel()) == ("tier on eval_B", "tier on eval_A")
    labels = [*TIERS, "(absent)"]
    assert tick_texts(ax.get_xticklabels()) == labels
    counts = ax.images[0].get_array()
    expected = np.zeros((5, 5), dtype=int)
    expected[0, 1] = 1  # X strong -> good
    expected[1, 0] = 1  # Y good -> strong
    expected[2, 2] = 1  # Z same
    expected[3, 4] = 1  # W weak -> absent
    expected[4, 3] = 1  # V absent -> weak
    assert counts.tolist() == expected.tolist()
    assert len(ax.texts) == 25
    colorbar = ax.images[0].colorbar
    assert colorbar is not None and colorbar.ax.get_ylabel() == "candidates"

    two_pools = ResultSet.from_records(synthetic_records(8, 6, seed=1, pools=("p_a", "p_b")))
    split = tier_transition(two_pools, by="pool")
    assert (split.get_xlabel(), split.get_ylabel()) == ("tier on p_b", "tier on p_a")
    expected_total = len(compare(two_pools, by="pool"))
    assert split.images[0].get_array().sum() == expected_total


def test_accessor_and_split(batch: ResultSet, tmp_path: Path) -> None:
    two = ResultSet(tables=batch.tables)  # same tables, a second result set
    plot = batch.plot
    assert isinstance(plot, PlotAccessor)
    assert plot.tier_distribution().get_title() == "Tiers per pool"
    title = plot.score_heatmap("eval_00000002").get_title()
    assert title == "Scores of entity-000002 on providers:network"
    assert plot.dimension_profile().get_legend() is not None
    assert len(plot.funnel().patches) == 9
    ax = plot.rank_shift(two, top_n=5)
    assert len(ax.lines) == 5 and legend_texts(ax) == ["same rank"]
    ax = plot.tier_transition(two)
    diagonal = np.diag(ax.images[0].get_array())
    assert diagonal.sum() == len(batch.candidates)
    render(ax, tmp_path, "accessor")
    with pytest.raises(ValueError, match=r"rank_shift draws one comparison.*3 segments"):
        plot.rank_shift("pool")  # three pools: each against the other two
    diff = batch.compare("pool")
    one = diff[diff["segment"] == diff["segment"].iloc[0]]
    ax = tier_transition(one)
    assert ax.get_xlabel() == f"tier on {one['segment'].iloc[0]}"
    assert ax.get_ylabel() == f"tier on all but {one['segment'].iloc[0]}"


def test_rejects_what_it_cannot_plot() -> None:
    with pytest.raises(TypeError, match="cannot plot a int"):
        tier_distribution(3)
    with pytest.raises(ValueError, match="must be an evaluations, candidates or scores"):
        funnel(pd.DataFrame({"x": [1]}))
    with pytest.raises(ValueError, match="funnel needs the evaluations table"):
        funnel(pd.DataFrame({"rank": [1], "tier": ["STRONG_FIT"]}))


def test_importing_the_package_does_not_import_matplotlib() -> None:
    code = (
        "import sys, nexio_lab, nexio_lab.results, nexio_lab.plots; "
        "assert 'matplotlib' not in sys.modules, 'matplotlib imported eagerly'"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)


def labels_outside_axes(ax) -> list[str]:
    """The texts of ``ax`` whose rendered box is not wholly inside the axes' window extent."""
    figure = ax.get_figure(root=True)
    figure.canvas.draw()  # Agg: lays out and renders, so every extent is the final one
    renderer = figure.canvas.get_renderer()
    window = ax.get_window_extent(renderer)
    outside = []
    for text in ax.texts:
        box = text.get_window_extent(renderer)
        if not (window.x0 <= box.x0 and box.x1 <= window.x1 and window.y0 <= box.y0
                and box.y1 <= window.y1):  # fmt: skip
            outside.append(text.get_text())
    return outside


@pytest.mark.parametrize(
    ("figsize", "ncols", "agg"),
    [((8, 4), 1, "mean"), ((16, 4.5), 3, "mean"), ((4, 3), 1, "sum")],
    ids=["own-figure-size", "third-of-a-wide-figure", "small-figure-totals"],
)
def test_funnel_value_labels_fit_inside_the_axes(
    batch: ResultSet, tmp_path: Path, figsize: tuple[float, float], ncols: int, agg: str
) -> None:
    _, axs = plt.subplots(1, ncols, figsize=figsize, layout="constrained", squeeze=False)
    ax = funnel(batch, by="pool", agg=agg, ax=axs[0, -1])
    # every label is the full value, and its whole box lies inside the axes
    assert [t.get_text() for t in ax.texts] == [f"{p.get_width():,.0f}" for p in ax.patches]
    assert max(len(t.get_text()) for t in ax.texts) >= 5  # e.g. "1,847": a label that can be cut
    assert labels_outside_axes(ax) == []
    render(ax, tmp_path, f"funnel_fit_{agg}_{ncols}")


def test_funnel_on_a_bare_figure_outside_pyplot() -> None:
    """As the demo draws: a ``matplotlib.figure.Figure`` with no pyplot canvas."""
    from matplotlib.figure import Figure

    from nexio_lab.plots import funnel
    from nexio_lab.results import ResultSet
    from nexio_lab.results._synthetic import synthetic_records

    ax = Figure().subplots()
    assert funnel(ResultSet.from_records(synthetic_records(6, 5, seed=1)), ax=ax) is ax
    assert ax.patches  # the bars were drawn


def _crosstab_reference(diff: pd.DataFrame) -> tuple[list[str], list[list[int]]]:
    """tier_transition's counts as it computed them before counting on codes."""
    order = [str(t) for t in getattr(diff["tier_a"].dtype, "categories", [])]

    def tiers(column: str) -> list[str]:
        return ["(absent)" if pd.isna(t) else str(t) for t in diff[column].astype(object)]

    a, b = tiers("tier_a"), tiers("tier_b")
    present = set(a) | set(b)
    labels = [t for t in order if t in present] + sorted(present - set(order) - {"(absent)"})
    labels += ["(absent)"] if "(absent)" in present else []
    counts = pd.crosstab(pd.Series(a, name="a"), pd.Series(b, name="b")).reindex(
        index=labels, columns=labels, fill_value=0
    )
    return labels, counts.to_numpy().tolist()


@pytest.mark.parametrize("categorical", [True, False])
def test_tier_transition_counts_equal_the_crosstab(categorical: bool) -> None:
    # missing tiers, unknown tiers, tiers only one side has, unused categories, ties
    rng = np.random.default_rng(7)
    choices = np.array([*TIERS, "ODD_FIT", "ZED", None], dtype=object)
    n = 400
    tier_a = rng.choice(choices[[0, 1, 3, 4, 6]], n)  # never GOOD_FIT's neighbour 2 or ZED
    tier_b = rng.choice(choices, n)
    diff = pd.DataFrame({"tier_a": tier_a, "tier_b": tier_b, "rank_a": 1, "rank_b": 1,
                         "present": "both"})  # fmt: skip
    if categorical:
        dtype = pd.CategoricalDtype([*TIERS, "ODD_FIT", "ZED", "UNUSED"])
        diff = diff.astype({"tier_a": dtype, "tier_b": dtype})
    labels, expected = _crosstab_reference(diff)
    ax = tier_transition(diff)
    assert tick_texts(ax.get_xticklabels()) == labels
    assert ax.images[0].get_array().tolist() == expected
    plt.close(ax.figure)
    empty = tier_transition(diff.iloc[:0])
    assert empty.images[0].get_array().size == 0
    plt.close(empty.figure)
