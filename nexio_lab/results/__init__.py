"""Results as tidy DataFrames: build, export, read back, compare.

The column contract (names, order, dtypes) lives in :mod:`nexio_lab.results._columns`.

>>> from nexio_lab import Evaluation
>>> ev = Evaluation.from_json({"eval_id": "e1", "status": "completed", "candidates": [
...     {"name": "Hartford", "tier": "STRONG_FIT", "scores": {"appetite": "L1"}}]})
>>> to_frames([ev]).scores[["name", "dimension", "level"]].to_dict("records")
[{'name': 'Hartford', 'dimension': 'appetite', 'level': 'L1'}]
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from .._models import Evaluation
from ._columns import CONTRACT_VERSION
from ._compare import CompareSummary, compare
from ._export import read_results
from ._frames import build_tables, records_from_evaluations
from ._resultset import ResultSet

__all__ = [
    "CONTRACT_VERSION",
    "CompareSummary",
    "ResultSet",
    "compare",
    "read_results",
    "to_frames",
]


def to_frames(
    evaluations: Sequence[Evaluation],
    *,
    profiles: Sequence[Mapping[str, Any]] | None = None,
    pools: Sequence[str] | None = None,
) -> ResultSet:
    """The tables of plain evaluations: ``row`` is the position in ``evaluations``.

    ``entity`` and the ``profile_*`` columns come from ``profiles`` and ``pool`` from
    ``pools`` when given (one per evaluation), else they are missing.
    """
    records = records_from_evaluations(evaluations, profiles, pools)
    return ResultSet(tables=build_tables(records))
