"""Results as tidy DataFrames: build, export, read back, compare.

The column contract (names, order, dtypes, meanings) lives in
:mod:`nexio_lab.results._columns`; :func:`columns` returns it as a DataFrame.

>>> from nexio_lab import Evaluation
>>> ev = Evaluation.from_json({"eval_id": "e1", "status": "completed", "candidates": [
...     {"name": "Hartford", "tier": "STRONG_FIT", "scores": {"appetite": "L1"}}]})
>>> to_frames(ev).scores[["name", "dimension", "level"]].to_dict("records")
[{'name': 'Hartford', 'dimension': 'appetite', 'level': 'L1'}]
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from .._models import Evaluation
from ._columns import CONTRACT_VERSION, columns
from ._compare import CompareSummary, agreement, compare
from ._export import read_results
from ._frames import Tables, build_tables, records_from_evaluations
from ._resultset import ResultSet
from ._runs import RunComparison, compare_runs
from ._top import top_candidates

__all__ = [
    "CONTRACT_VERSION",
    "CompareSummary",
    "ResultSet",
    "RunComparison",
    "Tables",
    "agreement",
    "columns",
    "compare",
    "compare_runs",
    "read_results",
    "to_frames",
    "top_candidates",
]


def to_frames(
    evaluations: Evaluation | Sequence[Evaluation],
    *,
    profiles: Sequence[Mapping[str, Any]] | None = None,
    pools: Sequence[str] | None = None,
) -> ResultSet:
    """The tables of plain evaluations (or of one): ``row`` is the position in ``evaluations``.

    ``entity`` and the ``profile_*`` columns come from ``profiles`` and ``pool`` from
    ``pools`` when given (one per evaluation), else they are missing. One evaluation's
    candidates, best first, are ``to_frames(ev).candidates``.
    """
    if isinstance(evaluations, Evaluation):
        evaluations = [evaluations]
    records = records_from_evaluations(evaluations, profiles, pools)
    return ResultSet(tables=build_tables(records))
