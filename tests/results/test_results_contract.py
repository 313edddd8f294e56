"""nexio_lab.columns(): the contract as a DataFrame, checked against the tables really built."""

from __future__ import annotations

import pandas as pd
import pytest

import nexio_lab
from nexio_lab._models import TIERS
from nexio_lab.results import ResultSet
from nexio_lab.results._columns import CONTRACT_VERSION


@pytest.mark.parametrize("which", ["odd", "batch_like", "empty"])
def test_columns_describes_the_tables_as_built(which: str, request) -> None:
    rs = ResultSet.from_records([]) if which == "empty" else request.getfixturevalue(which)
    contract = nexio_lab.columns()
    assert contract.columns.tolist() == ["table", "column", "dtype", "meaning"]
    assert contract["table"].unique().tolist() == ["evaluations", "candidates", "scores", "errors"]
    assert contract["meaning"].str.len().min() > 10  # every column is explained
    for table, rows in contract.groupby("table", sort=False):
        frame = getattr(rs, table)
        fixed = rows[~rows["column"].str.contains("<")]
        n = len(fixed)
        # the fixed columns, in order, then only the data-dependent ones
        assert frame.columns[:n].tolist() == fixed["column"].tolist(), table
        extra = frame.columns[n:].tolist()
        if table == "evaluations":
            assert all(c.startswith("profile_") for c in extra)
        elif table == "candidates":
            assert extra == list(rs.dimensions)
            assert all(str(frame[c].dtype) == "category" for c in extra)
        else:
            assert extra == [], table
        for column, dtype in zip(fixed["column"], fixed["dtype"], strict=True):
            actual = frame[column].dtype
            if dtype.startswith("category"):
                assert isinstance(actual, pd.CategoricalDtype), (table, column)
                assert actual.ordered == ("ordered" in dtype), (table, column)
            else:
                assert str(actual) == dtype, (table, column)


def test_tier_num_is_the_tier_order_with_unknown_tiers_last(odd: ResultSet) -> None:
    cand = odd.candidates
    assert cand.columns.get_loc("tier_num") == cand.columns.get_loc("tier") + 1
    assert str(cand["tier_num"].dtype) == "Int8"
    # Alpha STRONG_FIT, Beta SUPER_FIT (unknown), Gamma no tier, Delta WEAK_FIT
    assert cand["tier_num"].tolist()[:2] == [1, len(TIERS) + 1]
    assert cand["tier_num"].isna().tolist() == [False, False, True, False]
    assert cand["tier_num"].iloc[3] == TIERS.index("WEAK_FIT") + 1
    ordered = cand.dropna(subset=["tier"]).sort_values("tier_num")["tier"].astype(str).tolist()
    assert ordered == cand.dropna(subset=["tier"]).sort_values("tier")["tier"].astype(str).tolist()
    assert CONTRACT_VERSION == 2
