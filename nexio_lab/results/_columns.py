"""The column contract of every results table: names, order and dtypes, in this one place.

Four tables, built from a batch's :class:`~nexio_lab.EvaluationRecord` list (or from plain
:class:`~nexio_lab.Evaluation` objects):

``evaluations``: one row per (input row, pool)
    ``row, eval_id, entity, pool, status, pool_size, filtered, n_candidates, error_code,
    error_message, submitted_at, completed_at, duration_s``, then one ``profile_<field>``
    column per profile field (union over rows, in first-seen order; ``entity`` included as
    ``profile_entity``). A profile column keeps its native type when every non-null value
    agrees: ints -> ``Int64``, numbers -> ``float64``, bools -> ``boolean``, text ->
    ``string``; anything mixed or nested becomes ``string`` (JSON for lists and dicts).
    ``n_candidates`` counts the rows this evaluation has in ``candidates``. ``error_code`` and
    ``error_message`` come from the record, else from the result's ``error`` object.
    ``duration_s`` is ``completed_at - submitted_at`` in seconds.

``candidates``: one row per returned candidate
    ``row, eval_id, entity, pool, rank, name, tier, confidence, reasoning``, then one column
    per dimension holding its level: the six default dimensions first in their documented
    order (always present, so frames of different batches line up), then any extra
    dimension seen, sorted. A dimension whose name clashes with a fixed column gets the
    suffix ``_level`` (see :func:`dimension_column`). ``rank`` is the candidate's 1-based
    position in the API's list; entries of that list that are not JSON objects are skipped
    (their rank number is not reused).

``scores``: long form, one row per (candidate, dimension the candidate was scored on)
    ``row, eval_id, entity, pool, rank, name, dimension, level, level_num``; candidate-major,
    dimensions in column order. ``dimension`` is a Categorical of the dimension names.

``errors``: the evaluations whose status is not ``completed``
    ``row, eval_id, entity, pool, status, error_code, error_message``.

Dtypes: ``row``, ``rank``, ``pool_size``, ``filtered``, ``n_candidates`` are ``Int64``;
ids, names, entity, pool, status, error fields and reasoning are ``string`` (``pd.NA`` for
missing); times are ``datetime64[us, UTC]`` (naive times are taken as UTC); ``level`` and every
dimension column are the ordered Categorical ``L1 < L2 < L3 < L4`` (``L1`` is best); a level
string outside ``L1..L4`` (case and surrounding blanks are forgiven) becomes missing there,
and its ``level_num`` (``Int8``, 1..4) is missing too, but the scores row stays. ``tier`` and
``confidence`` are ordered Categoricals: the known values best first (``TIERS``,
``CONFIDENCES``), then every unknown value seen, sorted, kept rather than dropped.
Empty inputs give empty tables with the same columns and dtypes.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import pandas as pd

from .._models import CONFIDENCES, DEFAULT_DIMENSIONS, LEVELS, TIERS

__all__ = [
    "CANDIDATE_COLUMNS",
    "CONTRACT_VERSION",
    "ERROR_COLUMNS",
    "EVALUATION_COLUMNS",
    "PROFILE_PREFIX",
    "SCORE_COLUMNS",
    "TABLES",
    "TIME_DTYPE",
    "dimension_column",
    "level_dtype",
    "order_dimensions",
    "ordered_categories",
]

#: Bumped whenever a column is renamed, removed or changes dtype.
CONTRACT_VERSION = 1
#: The tables written by ``to_parquet``/``to_csv`` (``errors`` is derived from ``evaluations``).
TABLES = ("evaluations", "candidates", "scores")
PROFILE_PREFIX = "profile_"

EVALUATION_COLUMNS = (
    "row",
    "eval_id",
    "entity",
    "pool",
    "status",
    "pool_size",
    "filtered",
    "n_candidates",
    "error_code",
    "error_message",
    "submitted_at",
    "completed_at",
    "duration_s",
)
CANDIDATE_COLUMNS = (
    "row",
    "eval_id",
    "entity",
    "pool",
    "rank",
    "name",
    "tier",
    "confidence",
    "reasoning",
)
SCORE_COLUMNS = (
    "row",
    "eval_id",
    "entity",
    "pool",
    "rank",
    "name",
    "dimension",
    "level",
    "level_num",
)
ERROR_COLUMNS = ("row", "eval_id", "entity", "pool", "status", "error_code", "error_message")

STRING = "string"
INT = "Int64"
TIME_DTYPE = pd.DatetimeTZDtype(unit="us", tz="UTC")

#: Dtypes of the fixed columns (categoricals, whose categories depend on data, are absent).
FIXED_DTYPES: dict[str, str | pd.api.extensions.ExtensionDtype] = {
    "row": INT,
    "eval_id": STRING,
    "entity": STRING,
    "pool": STRING,
    "status": STRING,
    "pool_size": INT,
    "filtered": INT,
    "n_candidates": INT,
    "error_code": STRING,
    "error_message": STRING,
    "submitted_at": TIME_DTYPE,
    "completed_at": TIME_DTYPE,
    "duration_s": "float64",
    "rank": INT,
    "name": STRING,
    "reasoning": STRING,
    "level_num": "Int8",
}


def level_dtype() -> pd.CategoricalDtype:
    """The ordered ``L1 < L2 < L3 < L4`` dtype of ``level`` and of every dimension column."""
    return pd.CategoricalDtype(list(LEVELS), ordered=True)


def ordered_categories(known: Sequence[str], seen: Iterable[object]) -> pd.CategoricalDtype:
    """Known values in their order, then the unknown ones seen, sorted (for tier, confidence).

    >>> ordered_categories(["HIGH", "LOW"], ["LOW", "ODD", None]).categories.tolist()
    ['HIGH', 'LOW', 'ODD']
    """
    known_set = set(known)
    extra = sorted({str(v) for v in seen if v is not None and not pd.isna(v)} - known_set)
    return pd.CategoricalDtype([*known, *extra], ordered=True)


def tier_dtype(seen: Iterable[object] = ()) -> pd.CategoricalDtype:
    return ordered_categories(TIERS, seen)


def confidence_dtype(seen: Iterable[object] = ()) -> pd.CategoricalDtype:
    return ordered_categories(CONFIDENCES, seen)


def order_dimensions(seen: Iterable[str]) -> tuple[str, ...]:
    """The default six in their documented order, then the other dimensions seen, sorted."""
    return (*DEFAULT_DIMENSIONS, *sorted(set(seen) - set(DEFAULT_DIMENSIONS)))


def dimension_column(dimension: str) -> str:
    """The ``candidates`` column of a dimension: its name, unless that is a fixed column."""
    return f"{dimension}_level" if dimension in CANDIDATE_COLUMNS else dimension
