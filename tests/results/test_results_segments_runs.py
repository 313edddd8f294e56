"""compare by segment (ref=, the rest, within=), agreement() as a DataFrame, compare_runs() and
the numpy rank correlations, on hand-built results whose differences are known."""

from __future__ import annotations

import itertools
import math
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import nexio_lab
from nexio_lab import agreement, compare, compare_runs
from nexio_lab._models import EvaluationRecord
from nexio_lab.results import ResultSet
from nexio_lab.results._stats import kendall_tau_b, spearman_rho

T0 = datetime(2026, 10, 1, tzinfo=UTC)


def rec(
    row: int,
    entity: str,
    pool: str,
    ranked: list[tuple[str, str]],
    *,
    at: datetime | None = None,
    status: str = "completed",
) -> EvaluationRecord:
    return EvaluationRecord(
        row=row,
        pool=pool,
        profile={"entity": entity, "state": "CA" if entity == "acme" else "NY"},
        status=status,
        eval_id=f"e_{entity}_{pool}",
        submitted_at=at,
        completed_at=at + timedelta(seconds=30) if at else None,
        result={
            "eval_id": f"e_{entity}_{pool}",
            "status": status,
            "candidates": [{"name": n, "tier": t, "scores": {"appetite": "L2"}} for n, t in ranked],
        },
    )


S, G, W = "STRONG_FIT", "GOOD_FIT", "WEAK_FIT"


def three_pools() -> ResultSet:
    return ResultSet.from_records(
        [
            rec(0, "acme", "p1", [("H", S), ("T", G), ("C", W)]),
            rec(0, "acme", "p2", [("H", S), ("T", S)]),
            rec(0, "acme", "p3", [("T", S), ("H", G), ("C", G)]),
            rec(1, "bolt", "p1", [("H", G), ("C", G)]),
            rec(1, "bolt", "p2", [("C", G), ("H", W)]),
            rec(1, "bolt", "p3", [("H", G)]),
        ]
    )


def rows_of(diff: pd.DataFrame, segment: str) -> dict[tuple[str, str], dict]:
    part = diff[diff["segment"] == segment].astype(object)
    return {(r["entity"], r["name"]): r for r in part.to_dict("records")}


def test_each_segment_against_a_given_reference() -> None:
    diff = compare(three_pools(), by="pool", ref="p1")
    assert diff.columns[:4].tolist() == ["segment", "entity", "name", "present"]
    assert diff["segment"].unique().tolist() == ["p2", "p3"]
    p2, p3 = rows_of(diff, "p2"), rows_of(diff, "p3")
    assert (p2[("acme", "T")]["tier_change"], p2[("acme", "T")]["rank_change"]) == ("up", 0)
    assert (p2[("bolt", "H")]["tier_change"], p2[("bolt", "H")]["rank_change"]) == ("down", 1)
    assert p2[("acme", "C")]["present"] == "a_only"
    assert (p3[("acme", "H")]["tier_change"], p3[("acme", "H")]["rank_change"]) == ("down", 1)
    assert (p3[("acme", "C")]["tier_change"], p3[("acme", "C")]["rank_change"]) == ("up", 0)
    assert p3[("bolt", "C")]["present"] == "a_only"
    # one categorical dtype for every segment's tiers
    assert diff["tier_a"].dtype == diff["tier_b"].dtype
    assert "summary" not in diff.attrs and set(diff.attrs["summaries"]) == {"p2", "p3"}

    table = agreement(three_pools(), by="pool", ref="p1")
    assert table.columns.tolist() == [
        "segment", "label_a", "label_b", "k", "n_shared", "n_a_only", "n_b_only",
        "same_tier_share", "spearman", "kendall", "top_k_overlap",
    ]  # fmt: skip
    got = table.set_index("segment")
    # p2 vs p1: ranks A [1,2,1,2] B [1,2,2,1]: uncorrelated; p3 vs p1: A [1,2,3,1] B [2,1,3,1]
    assert got.loc["p2", ["n_shared", "n_a_only", "n_b_only"]].tolist() == [4, 1, 0]
    assert got.loc["p2", "same_tier_share"] == 0.5
    assert got.loc["p2", "spearman"] == 0.0 and got.loc["p2", "kendall"] == 0.0
    assert got.loc["p2", "top_k_overlap"] == pytest.approx(4 / 5)
    assert got.loc["p3", "same_tier_share"] == 0.25
    assert got.loc["p3", "spearman"] == pytest.approx(0.5)
    assert got.loc["p3", "kendall"] == pytest.approx(0.4)
    assert got["label_a"].tolist() == ["p1", "p1"]


def test_each_segment_against_all_other_rows_by_default() -> None:
    diff = compare(three_pools(), by="pool")
    assert diff["segment"].unique().tolist() == ["p1", "p2", "p3"]
    summary = diff.attrs["summaries"]["p2"]
    assert (summary.label_a, summary.label_b) == ("all but p2", "p2")
    p2 = rows_of(diff, "p2")
    # the rest (p1 + p3) keeps each candidate's best rank: acme T is rank 1 STRONG there
    assert (p2[("acme", "T")]["rank_a"], p2[("acme", "T")]["tier_change"]) == (1, "same")
    assert (p2[("bolt", "H")]["rank_change"], p2[("bolt", "H")]["tier_change"]) == (1, "down")
    assert p2[("bolt", "C")]["rank_change"] == -1
    assert (summary.n_shared, summary.n_a_only, summary.same_tier_share) == (4, 1, 0.75)


def test_two_values_stay_one_comparison_and_within_repeats_it_per_segment() -> None:
    records = [
        rec(0, "acme", "p1", [("H", S), ("T", G), ("C", W)]),
        rec(0, "acme", "p2", [("H", S), ("T", S)]),
        rec(1, "bolt", "p1", [("H", G), ("C", G)]),
        rec(1, "bolt", "p2", [("C", G), ("H", W)]),
    ]
    two = ResultSet.from_records(records)
    whole = compare(two, by="pool")
    assert whole["segment"].unique().tolist() == ["p2"]
    assert whole.attrs["summary"].n_shared == 4  # as before: one pair, one summary
    per_state = compare(two, by="pool", within="profile_state")
    assert per_state["segment"].unique().tolist() == ["CA", "NY"]
    table = agreement(per_state).set_index("segment")
    assert table.loc["CA", ["n_shared", "n_a_only"]].tolist() == [2, 1]
    assert table.loc["NY", ["n_shared", "n_a_only"]].tolist() == [2, 0]
    assert table["label_a"].tolist() == ["p1", "p1"]
    # the same as comparing each state's two pools by hand
    cand = two.candidates
    for state, entity in (("CA", "acme"), ("NY", "bolt")):
        mine = cand[cand["entity"] == entity]
        by_hand = compare(mine[mine["pool"] == "p1"], mine[mine["pool"] == "p2"])
        expected = by_hand.attrs["summary"]
        assert table.loc[state, "n_shared"] == expected.n_shared
        assert table.loc[state, "same_tier_share"] == expected.same_tier_share
    # with a ref and three pools, each state holds one segment per compared pool
    both = compare(three_pools(), by="pool", ref="p1", within="profile_state")
    assert both["segment"].unique().tolist() == ["CA / p2", "CA / p3", "NY / p2", "NY / p3"]


def test_agreement_is_recomputed_from_the_rows_when_attrs_are_gone() -> None:
    diff = compare(three_pools(), by="pool", ref="p1")
    direct = agreement(diff)
    stripped = diff.copy()
    stripped.attrs = {}
    again = agreement(stripped)
    numbers = ["n_shared", "n_a_only", "n_b_only", "same_tier_share", "spearman", "kendall"]
    pd.testing.assert_frame_equal(direct[numbers], again[numbers])
    assert again["label_b"].tolist() == ["p2", "p3"]
    # two plain evaluations-like frames: one row, segment is B's label
    two = agreement(diff[diff["segment"] == "p2"])
    assert two["segment"].tolist() == ["p2"] and two["n_shared"].tolist() == [4]


def three_runs() -> tuple[ResultSet, ResultSet, ResultSet]:
    oct_, nov, dec = T0, T0 + timedelta(days=31), T0 + timedelta(days=61)
    october = ResultSet.from_records(
        [
            rec(0, "acme", "p", [("H", S), ("T", G), ("C", W)], at=oct_),
            rec(1, "bolt", "p", [("H", G), ("C", G)], at=oct_),
        ]
    )
    november = ResultSet.from_records(
        [
            rec(0, "acme", "p", [("T", S), ("H", S), ("N", G)], at=nov),
            rec(1, "bolt", "p", [("C", G), ("H", G)], at=nov),
        ]
    )
    december = ResultSet.from_records(
        [
            rec(0, "acme", "p", [("T", S), ("H", S), ("N", G)], at=dec),
            rec(1, "bolt", "p", [], at=dec, status="failed"),
        ]
    )
    return october, november, december


def test_compare_runs_in_time_order_with_known_drift() -> None:
    october, november, december = three_runs()
    drift = compare_runs([november, december, october], labels=["nov", "dec", "oct"])
    assert drift.runs["run"].astype(str).tolist() == ["oct", "nov", "dec"]
    assert drift.runs["n_completed"].tolist() == [2, 2, 1]
    assert drift.runs["n_candidates"].tolist() == [5, 5, 3]
    assert drift.runs["started_at"].iloc[0] == pd.Timestamp(T0)

    pairs = drift.pairs.astype({"run_a": str, "run_b": str}).set_index(["run_a", "run_b"])
    first = pairs.loc[("oct", "nov")]
    # acme: C dropped, N new, H 1->2 and T 2->1 (GOOD -> STRONG); bolt: H and C swap
    assert first[["n_evaluations", "n_shared", "n_new", "n_dropped"]].tolist() == [2, 4, 1, 1]
    assert first["tier_changed_share"] == 0.25
    assert first["spearman"] == pytest.approx(-1.0) and first["kendall"] == pytest.approx(-1.0)
    second = pairs.loc[("nov", "dec")]
    # bolt failed in December: only acme counts, and it did not move
    assert second[["n_evaluations", "n_shared", "n_new", "n_dropped"]].tolist() == [1, 3, 0, 0]
    assert second["tier_changed_share"] == 0.0
    assert second["spearman"] == pytest.approx(1.0) and second["kendall"] == pytest.approx(1.0)

    cand = drift.candidates
    assert cand.columns.tolist() == [
        "entity", "pool", "name", "run", "returned", "rank", "tier", "tier_num",
    ]  # fmt: skip
    assert len(cand) == 4 * 3 + 2 * 2  # bolt has no December row: its evaluation failed
    acme_c = cand[(cand["entity"] == "acme") & (cand["name"] == "C")]
    assert acme_c["run"].astype(str).tolist() == ["oct", "nov", "dec"]
    assert acme_c["returned"].tolist() == [True, False, False]
    assert acme_c["rank"].tolist()[0] == 3 and acme_c["rank"].isna().tolist() == [False, True, True]
    acme_t = cand[(cand["entity"] == "acme") & (cand["name"] == "T")]
    assert acme_t["tier"].astype(str).tolist() == ["GOOD_FIT", "STRONG_FIT", "STRONG_FIT"]
    assert acme_t["tier_num"].tolist() == [2, 1, 1]
    wide = cand.pivot_table(index=["entity", "name"], columns="run", values="rank", observed=True)
    assert wide.columns.astype(str).tolist() == ["oct", "nov", "dec"]
    assert "oct -> nov -> dec" in repr(drift)


def test_compare_runs_names_order_and_errors() -> None:
    october, november, _ = three_runs()
    no_times = ResultSet.from_records([rec(0, "acme", "p", [("H", S)])])
    # a run without times: the order given is kept, default labels run1, run2, ...
    drift = compare_runs([november, no_times])
    assert drift.runs["run"].astype(str).tolist() == ["run1", "run2"]
    assert drift.pairs["n_shared"].tolist() == [1]

    class Named:
        def __init__(self, name: str, rs: ResultSet) -> None:
            self.name, self.evaluations, self.candidates = name, rs.evaluations, rs.candidates

    named = compare_runs([Named("q4-nov", november), Named("q4-oct", october)])
    assert named.runs["run"].astype(str).tolist() == ["q4-oct", "q4-nov"]
    with pytest.raises(ValueError, match="at least two runs"):
        compare_runs([october])
    with pytest.raises(ValueError, match="2 distinct names"):
        compare_runs([october, november], labels=["x", "x"])
    with pytest.raises(ValueError, match=r"no column \['profile_id'\]"):
        compare_runs([october, november], on=["profile_id", "pool"])
    with pytest.raises(TypeError, match="cannot compare a int"):
        compare_runs([october, 3])


def test_summaries_are_public_and_lazy() -> None:
    for name in ("agreement", "columns", "compare_runs", "RunComparison"):
        assert name in nexio_lab.__all__ and getattr(nexio_lab, name) is not None


# Rank correlations without scipy --------------------------------------------------------------


def test_rank_correlations_match_published_values() -> None:
    # scipy's documented examples (spearmanr, kendalltau) and their printed results
    assert spearman_rho([1, 2, 3, 4, 5], [5, 6, 7, 8, 7]) == pytest.approx(0.8207826816681233)
    assert kendall_tau_b([12, 2, 1, 12, 2], [1, 4, 7, 1, 0]) == pytest.approx(-0.47140452079103173)
    # by hand: y = 5,6,7,8,7 has 8 concordant pairs, 1 discordant, 1 tied in y of 10
    assert kendall_tau_b([1, 2, 3, 4, 5], [5, 6, 7, 8, 7]) == pytest.approx(7 / math.sqrt(90))
    # a reversal is -1, a copy +1, with or without ties
    assert spearman_rho([1, 2, 2, 3], [3, 2, 2, 1]) == pytest.approx(-1.0)
    assert kendall_tau_b([1, 2, 2, 3], [1, 2, 2, 3]) == pytest.approx(1.0)
    # NaN where the statistic is undefined; missing pairs are dropped
    assert math.isnan(spearman_rho([1, 1, 1], [1, 2, 3]))
    assert math.isnan(kendall_tau_b([1], [1]))
    assert kendall_tau_b([1, 2, np.nan, 3], [1, 2, 5, 3]) == pytest.approx(1.0)
    with pytest.raises(ValueError, match="one length"):
        kendall_tau_b([1, 2], [1, 2, 3])


def brute_tau_b(x: list[int], y: list[int]) -> float:
    """Kendall's tau-b by counting every pair: the definition, O(n^2)."""
    c = d = tx = ty = 0
    for i, j in itertools.combinations(range(len(x)), 2):
        sx, sy = np.sign(x[i] - x[j]), np.sign(y[i] - y[j])
        if sx == 0 and sy == 0:
            continue
        if sx == 0:
            tx += 1
        elif sy == 0:
            ty += 1
        elif sx == sy:
            c += 1
        else:
            d += 1
    return (c - d) / math.sqrt((c + d + tx) * (c + d + ty))


def brute_spearman(x: list[int], y: list[int]) -> float:
    def ranks(v: list[int]) -> list[float]:
        return [sum(u < w for u in v) + (sum(u == w for u in v) + 1) / 2 for w in v]

    rx, ry = ranks(x), ranks(y)
    mx, my = sum(rx) / len(rx), sum(ry) / len(ry)
    num = sum((a - mx) * (b - my) for a, b in zip(rx, ry, strict=True))
    den = math.sqrt(sum((a - mx) ** 2 for a in rx) * sum((b - my) ** 2 for b in ry))
    return num / den


def test_rank_correlations_agree_with_their_definitions_on_tied_ranks() -> None:
    rng = np.random.default_rng(13)
    for _ in range(50):
        n = int(rng.integers(3, 30))
        x, y = rng.integers(1, 6, n).tolist(), rng.integers(1, 6, n).tolist()
        if len(set(x)) < 2 or len(set(y)) < 2:
            continue
        assert kendall_tau_b(x, y) == pytest.approx(brute_tau_b(x, y), abs=1e-12)
        assert spearman_rho(x, y) == pytest.approx(brute_spearman(x, y), abs=1e-12)


def test_compare_works_where_scipy_cannot_be_imported() -> None:
    code = """
import sys
class NoScipy:
    def find_spec(self, name, path=None, target=None):
        if name == "scipy" or name.startswith("scipy."):
            raise ImportError("scipy is blocked")
sys.meta_path.insert(0, NoScipy())
from nexio_lab import Evaluation, agreement
a = Evaluation.from_json({"eval_id": "a", "status": "completed", "candidates": [
    {"name": "X", "tier": "STRONG_FIT"}, {"name": "Y", "tier": "GOOD_FIT"},
    {"name": "Z", "tier": "GOOD_FIT"}]})
b = Evaluation.from_json({"eval_id": "b", "status": "completed", "candidates": [
    {"name": "Y", "tier": "STRONG_FIT"}, {"name": "X", "tier": "STRONG_FIT"},
    {"name": "Z", "tier": "GOOD_FIT"}]})
row = agreement(a, b).iloc[0]
print(round(row["spearman"], 6), round(row["kendall"], 6))
"""
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    # ranks [1, 2, 3] -> [2, 1, 3]: rho = 1 - 6 * 2 / (3 * 8), tau = (2 - 1) / 3
    assert done.stdout.split() == ["0.5", "0.333333"]
    pyproject = (Path(__file__).resolve().parents[2] / "pyproject.toml").read_text()
    assert "scipy" not in pyproject
