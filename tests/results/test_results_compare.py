"""compare(): known tier moves, rank correlations, top-k overlap, splits and their errors."""

from __future__ import annotations

import math
from typing import Any

import pandas as pd
import pytest

from nexio_lab._models import Evaluation, EvaluationRecord
from nexio_lab.results import CompareSummary, ResultSet, compare, to_frames


def evaluation(eval_id: str, ranked: list[tuple[str, str, dict[str, str]]]) -> Evaluation:
    return Evaluation.from_json(
        {
            "eval_id": eval_id,
            "status": "completed",
            "candidates": [
                {"name": n, "tier": t, "confidence": "HIGH", "scores": s} for n, t, s in ranked
            ],
        }
    )


A = evaluation(
    "eval_A",
    [
        ("X", "STRONG_FIT", {"appetite": "L1", "pricing": "L2"}),
        ("Y", "GOOD_FIT", {"appetite": "L2", "pricing": "L2"}),
        ("Z", "POSSIBLE_FIT", {"appetite": "L3"}),
        ("W", "WEAK_FIT", {"appetite": "L4"}),
    ],
)
B = evaluation(
    "eval_B",
    [
        ("Y", "STRONG_FIT", {"appetite": "L1", "pricing": "L2"}),
        ("X", "GOOD_FIT", {"appetite": "L3", "pricing": "L2"}),
        ("Z", "POSSIBLE_FIT", {"appetite": "L3"}),
        ("V", "STRONG_FIT", {"appetite": "L1"}),
    ],
)


def by_name(frame: pd.DataFrame) -> dict[str, dict[str, Any]]:
    plain = frame.astype(object).where(frame.notna(), None)
    return {row["name"]: row for row in plain.to_dict("records")}


def test_two_evaluations_known_moves() -> None:
    diff = compare(A, B)
    rows = by_name(diff)
    assert diff["name"].tolist() == ["X", "Y", "Z", "W", "V"]  # A's order, then B-only
    assert rows["X"]["tier_change"] == "down" and rows["X"]["rank_change"] == 1
    assert rows["Y"]["tier_change"] == "up" and rows["Y"]["rank_change"] == -1
    assert rows["Z"]["tier_change"] == "same" and rows["Z"]["rank_change"] == 0
    assert rows["W"]["present"] == "a_only" and rows["W"]["tier_b"] is None
    assert rows["W"]["tier_change"] is None and rows["W"]["rank_change"] is None
    assert rows["V"]["present"] == "b_only" and rows["V"]["rank_b"] == 4
    # level change is B - A in level steps: positive means worse on B
    assert rows["X"]["appetite_change"] == 2 and rows["Y"]["appetite_change"] == -1
    assert rows["X"]["pricing_change"] == 0 and rows["Z"]["pricing_change"] is None
    assert rows["X"]["eval_id_a"] == "eval_A" and rows["X"]["eval_id_b"] == "eval_B"
    assert diff["rank_change"].dtype == "Int64" and diff["appetite_change"].dtype == "Int64"
    assert diff["tier_a"].dtype == diff["tier_b"].dtype and diff["tier_a"].dtype.ordered


def test_two_evaluations_summary() -> None:
    summary = compare(A, B).attrs["summary"]
    assert isinstance(summary, CompareSummary)
    assert (summary.label_a, summary.label_b) == ("eval_A", "eval_B")
    assert summary.key == ("name",)
    assert (summary.n_shared, summary.n_a_only, summary.n_b_only) == (3, 1, 1)
    assert summary.same_tier_share == pytest.approx(1 / 3)
    # shared ranks A [1, 2, 3] vs B [2, 1, 3]
    assert summary.spearman == pytest.approx(0.5)
    assert summary.kendall == pytest.approx(1 / 3)
    # Jaccard of the top k: k=10 (default) and k=4 see {X,Y,Z,W} vs {Y,X,Z,V}
    assert summary.k == 10 and summary.top_k_overlap == pytest.approx(3 / 5)
    assert compare(A, B, k=2).attrs["summary"].top_k_overlap == 1.0
    assert compare(A, B, k=1).attrs["summary"].top_k_overlap == 0.0


def test_identical_sides_agree_fully() -> None:
    summary = compare(A, A).attrs["summary"]
    assert summary.same_tier_share == 1.0 and summary.spearman == pytest.approx(1.0)
    assert summary.kendall == pytest.approx(1.0) and summary.n_a_only == 0


def test_unknown_tier_has_no_direction() -> None:
    odd = evaluation("e_odd", [("X", "MYSTERY_FIT", {}), ("Y", "GOOD_FIT", {})])
    rows = by_name(compare(A, odd))
    assert rows["X"]["tier_change"] is None and rows["X"]["tier_b"] == "MYSTERY_FIT"
    assert rows["Y"]["tier_change"] == "same"
    summary = compare(odd, odd).attrs["summary"]
    assert summary.same_tier_share == 1.0


def test_fewer_than_two_shared_gives_nan_correlations() -> None:
    one = evaluation("e1", [("X", "STRONG_FIT", {})])
    summary = compare(one, evaluation("e2", [("Q", "STRONG_FIT", {})])).attrs["summary"]
    assert summary.n_shared == 0 and math.isnan(summary.spearman)
    assert math.isnan(summary.same_tier_share) and summary.top_k_overlap == 0.0


def two_pool_batch() -> ResultSet:
    """Two entities, each evaluated on two pools with known differences."""

    def rec(row: int, entity: str, pool: str, ranked: list[tuple[str, str]]) -> EvaluationRecord:
        return EvaluationRecord(
            row=row,
            pool=pool,
            profile={"entity": entity, "state": "CA" if entity == "acme" else "NY"},
            status="completed",
            eval_id=f"e_{entity}_{pool}",
            result={
                "eval_id": f"e_{entity}_{pool}",
                "status": "completed",
                "candidates": [
                    {"name": n, "tier": t, "scores": {"appetite": "L2"}} for n, t in ranked
                ],
            },
        )

    return ResultSet.from_records(
        [
            rec(0, "acme", "all", [("H", "STRONG_FIT"), ("T", "GOOD_FIT"), ("C", "WEAK_FIT")]),
            rec(0, "acme", "tier1", [("H", "STRONG_FIT"), ("T", "STRONG_FIT")]),
            rec(1, "bolt", "all", [("H", "GOOD_FIT"), ("C", "GOOD_FIT")]),
            rec(1, "bolt", "tier1", [("C", "GOOD_FIT"), ("H", "WEAK_FIT")]),
        ]
    )


def test_split_on_pool_matches_within_entity() -> None:
    rs = two_pool_batch()
    diff = compare(rs, by="pool")
    summary = diff.attrs["summary"]
    assert (summary.label_a, summary.label_b) == ("all", "tier1")
    assert summary.key == ("entity", "name")
    keyed = {(r["entity"], r["name"]): r for r in diff.astype(object).to_dict("records")}
    assert set(keyed) == {("acme", "H"), ("acme", "T"), ("acme", "C"), ("bolt", "H"), ("bolt", "C")}
    assert keyed[("acme", "T")]["tier_change"] == "up"
    assert (
        keyed[("acme", "C")]["present"] == "b_only" or keyed[("acme", "C")]["present"] == "a_only"
    )
    assert keyed[("acme", "C")]["present"] == "a_only"
    assert (
        keyed[("bolt", "H")]["tier_change"] == "down" and keyed[("bolt", "H")]["rank_change"] == 1
    )
    assert (summary.n_shared, summary.n_a_only, summary.n_b_only) == (4, 1, 0)
    assert summary.same_tier_share == pytest.approx(2 / 4)
    # the method form and a string argument are the same thing
    assert_same = rs.compare("pool")
    pd.testing.assert_frame_equal(diff, assert_same)


def test_split_on_a_profile_column_of_evaluations() -> None:
    rs = two_pool_batch()
    diff = compare(rs, by="profile_state")
    summary = diff.attrs["summary"]
    assert (summary.label_a, summary.label_b) == ("CA", "NY")
    # different entities on each side: nothing shares (entity, name) ...
    assert summary.n_shared == 0
    # ... unless matched on name only (keeps each side's best rank of a name)
    by_name_only = compare(rs, by="profile_state", on=["name"])
    rows = by_name(by_name_only)
    assert rows["H"]["rank_a"] == 1 and rows["H"]["rank_b"] == 1
    assert rows["C"]["rank_b"] == 1 and rows["C"]["rank_a"] == 3


def test_split_needs_at_least_two_values() -> None:
    rs = ResultSet.from_records(
        [
            EvaluationRecord(row=i, pool=p, profile={"entity": "x"}, status="completed")
            for i, p in enumerate(["p1", "p1"])
        ]
    )
    with pytest.raises(ValueError, match=r"at least two distinct values.*found 1: 'p1'"):
        compare(rs, by="pool")
    with pytest.raises(ValueError, match=r"ref='p9' is not a value of 'pool'"):
        compare(rs, by="pool", ref="p9")
    with pytest.raises(ValueError, match=r"no value besides ref='p1'"):
        compare(rs, by="pool", ref="p1")
    with pytest.raises(TypeError, match="go with by="):
        compare(rs, rs, ref="p1")
    with pytest.raises(ValueError, match="no column 'nope'"):
        compare(rs, by="nope")
    with pytest.raises(TypeError, match="not both"):
        compare(rs, rs, by="pool")
    with pytest.raises(TypeError, match="two things"):
        compare(rs)
    with pytest.raises(TypeError, match="cannot compare a int"):
        compare(rs, 3)


def test_two_result_sets_and_frames(make_records) -> None:
    first = ResultSet.from_records(make_records(6, 10, seed=5))
    again = ResultSet.from_records(make_records(6, 10, seed=5))
    diff = compare(first, again)
    summary = diff.attrs["summary"]
    assert summary.n_shared == 60 and summary.same_tier_share == 1.0
    assert summary.spearman == pytest.approx(1.0) and summary.top_k_overlap == 1.0
    assert (diff["rank_change"] == 0).all() and (diff["appetite_change"] == 0).all()
    other = ResultSet.from_records(make_records(6, 10, seed=6))
    moved = compare(first.candidates, other.candidates)
    assert moved.attrs["summary"].n_shared < 60
    assert set(moved["present"].astype(str)) <= {"both", "a_only", "b_only"}
    # evaluation vs a frame of the same evaluation
    single = to_frames([A])
    # an Evaluation and a frame match on (entity, name); both entities missing still match
    assert compare(A, single).attrs["summary"].n_shared == 4
    assert compare(A, single, on=["name"]).attrs["summary"].same_tier_share == 1.0


def _side_with_ties(seed: int, n: int) -> pd.DataFrame:
    """Candidates with duplicate keys, tied ranks, missing ranks and missing tiers."""
    import numpy as np

    rng = np.random.default_rng(seed)
    tiers = np.array(["STRONG_FIT", "GOOD_FIT", "WEAK_FIT", "ODD_FIT", None], dtype=object)
    rank = pd.array(rng.integers(1, 4, n), dtype="Int64")
    rank[rng.random(n) < 0.15] = pd.NA
    return pd.DataFrame(
        {
            "entity": pd.array(rng.choice(["e1", "e2", "e3"], n), dtype="string"),
            "name": pd.array(rng.choice(list("ABCDEFG"), n), dtype="string"),
            "row": rng.permutation(n),
            "rank": rank,
            "tier": pd.Categorical(rng.choice(tiers, n)),
            "eval_id": pd.array([f"ev{i}" for i in range(n)], dtype="string"),
        }
    )


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_ties_and_missing_values_keep_the_best_ranked_row(seed: int) -> None:
    a, b = _side_with_ties(seed, 60), _side_with_ties(seed + 10, 50)
    diff = compare(a, b)

    # the reference: sort each whole side, keep each key's first row, merge, sort
    def side(frame: pd.DataFrame) -> pd.DataFrame:
        kept = frame.sort_values(["rank", "row"]).drop_duplicates(["entity", "name"])
        return kept[["entity", "name", "rank", "tier", "eval_id"]]

    ref = side(a).merge(side(b), on=["entity", "name"], how="outer", suffixes=("_a", "_b"))
    ref = ref.sort_values(["entity", "rank_a", "rank_b"], na_position="last", kind="stable")
    assert diff["eval_id_a"].tolist() == ref["eval_id_a"].tolist()
    assert diff["eval_id_b"].tolist() == ref["eval_id_b"].tolist()
    assert diff["rank_a"].tolist() == ref["rank_a"].tolist()

    both = ref.dropna(subset=["eval_id_a", "eval_id_b"])
    tier_a, tier_b = both["tier_a"].astype(object), both["tier_b"].astype(object)
    same = (tier_a == tier_b) & tier_a.isin(["STRONG_FIT", "GOOD_FIT", "WEAK_FIT", "ODD_FIT"])
    ranked = both.dropna(subset=["rank_a", "rank_b"])
    summary = diff.attrs["summary"]
    assert summary.n_shared == len(both)
    assert summary.n_a_only == ref["eval_id_b"].isna().sum()
    assert summary.n_b_only == ref["eval_id_a"].isna().sum()
    assert summary.same_tier_share == pytest.approx(same.mean())
    ra, rb = ranked["rank_a"].astype(float), ranked["rank_b"].astype(float)
    assert summary.spearman == pytest.approx(ra.rank().corr(rb.rank()))
