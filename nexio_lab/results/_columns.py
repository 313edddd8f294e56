"""The column contract of every results table: names, order and dtypes, in this one place.

Four tables, built from a batch's :class:`~nexio_lab.EvaluationRecord` list (or from plain
:class:`~nexio_lab.Evaluation` objects):

``evaluations``: one row per (input row, pool)
    ``row, eval_id, entity, pool, status, pool_size, filtered, n_candidates, error_code,
    error_message, submitted_at, completed_at, duration_s, reused_from``, then one
    ``profile_<field>`` column per profile field (union over rows, in first-seen order;
    ``entity`` included as ``profile_entity``). A profile column keeps its native type when
    every non-null value agrees: ints -> ``Int64``, numbers -> ``float64``, bools ->
    ``boolean``, text -> ``string``; anything mixed or nested becomes ``string`` (JSON for lists
    and dicts). ``n_candidates`` counts the rows this evaluation has in ``candidates``.
    ``error_code`` and ``error_message`` come from the record, else from the result's ``error``
    object. ``duration_s`` is ``completed_at - submitted_at`` in seconds. ``reused_from`` is
    ``batch:eval_id`` of the earlier result a row reused (``reuse=``), else missing.

``candidates``: one row per returned candidate
    ``row, eval_id, entity, pool, rank, name, tier, tier_num, confidence, reasoning``, then
    one column per dimension holding its level: the six default dimensions first in their
    documented order (always present, so frames of different batches line up), then any
    extra dimension seen, sorted. A dimension whose name clashes with a fixed column gets the
    suffix ``_level`` (see :func:`dimension_column`). ``rank`` is the candidate's 1-based
    position in the API's list; entries of that list that are not JSON objects are skipped
    (their rank number is not reused). ``tier_num`` (``Int8``) is the tier's position in the
    tier order, 1 = best: the known tiers first, then the unknown ones seen in this table,
    sorted. Readers that do not know pandas' categories (DuckDB, Polars, Spark read ``tier``
    from Parquet as plain text) sort tiers right with ``ORDER BY tier_num``.

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

:func:`columns` gives the same contract as a DataFrame (``nexio_lab.columns()``).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import NamedTuple

import pandas as pd

from .._models import CONFIDENCES, DEFAULT_DIMENSIONS, LEVELS, TIERS

__all__ = [
    "CANDIDATE_COLUMNS",
    "CONTRACT",
    "CONTRACT_VERSION",
    "ERROR_COLUMNS",
    "EVALUATION_COLUMNS",
    "PROFILE_PREFIX",
    "SCORE_COLUMNS",
    "TABLES",
    "TIME_DTYPE",
    "Column",
    "columns",
    "dimension_column",
    "level_dtype",
    "order_dimensions",
    "ordered_categories",
]

#: Bumped whenever a column is renamed, removed or changes dtype.
CONTRACT_VERSION = 2  # 2: tier_num in candidates
#: The tables written by ``to_parquet``/``to_csv`` (``errors`` is derived from ``evaluations``).
TABLES = ("evaluations", "candidates", "scores")
PROFILE_PREFIX = "profile_"

STRING = "string"
INT = "Int64"
TIME_DTYPE = pd.DatetimeTZDtype(unit="us", tz="UTC")
LEVEL = "category (ordered L1 < L2 < L3 < L4)"
TIER = "category (ordered: known tiers best first, then unknown ones sorted)"


class Column(NamedTuple):
    """One column of the contract: its name, dtype (as pandas prints it) and meaning."""

    name: str
    dtype: str
    meaning: str


_KEYS = (
    Column("row", INT, "0-based position of the profile in the batch's input"),
    Column("eval_id", STRING, "the API's id of the evaluation (missing if never submitted)"),
    Column("entity", STRING, "the profile's entity field"),
    Column("pool", STRING, "the carrier pool the profile was evaluated against"),
)

#: Every fixed column of every table, in order; ``<dimension>`` and ``profile_<field>`` stand
#: for the columns that depend on the data (see the module docstring).
CONTRACT: dict[str, tuple[Column, ...]] = {
    "evaluations": (
        *_KEYS,
        Column("status", STRING, "batch status: completed, failed, error, uncertain, ..."),
        Column("pool_size", INT, "carriers in the pool"),
        Column("filtered", INT, "carriers removed by the pool's filter"),
        Column("n_candidates", INT, "rows this evaluation has in candidates"),
        Column("error_code", STRING, "why it did not complete: the API's or a local code"),
        Column("error_message", STRING, "the error's message"),
        Column("submitted_at", str(TIME_DTYPE), "when the evaluation was accepted (UTC)"),
        Column("completed_at", str(TIME_DTYPE), "when it reached completed or failed (UTC)"),
        Column("duration_s", "float64", "completed_at - submitted_at, in seconds"),
        Column("reused_from", STRING, "batch:eval_id of the earlier result reused (reuse=)"),
        Column(f"{PROFILE_PREFIX}<field>", "native", "one column per profile field"),
    ),
    "candidates": (
        *_KEYS,
        Column("rank", INT, "1-based position in the API's list (1 is best)"),
        Column("name", STRING, "the carrier's name"),
        Column("tier", TIER, "the API's fit tier"),
        Column("tier_num", "Int8", "the tier's position, 1 = best; sorts right everywhere"),
        Column("confidence", TIER.replace("tiers", "values"), "the API's confidence"),
        Column("reasoning", STRING, "the API's explanation"),
        Column("<dimension>", LEVEL, "one column per dimension: the candidate's level"),
    ),
    "scores": (
        *_KEYS,
        Column("rank", INT, "the candidate's rank"),
        Column("name", STRING, "the candidate's name"),
        Column("dimension", "category", "the scored dimension"),
        Column("level", LEVEL, "the level on that dimension (L1 is best)"),
        Column("level_num", "Int8", "the level as 1..4 (1 = L1, best)"),
    ),
    "errors": (
        *_KEYS,
        Column("status", STRING, "the evaluation's batch status"),
        Column("error_code", STRING, "the error's code"),
        Column("error_message", STRING, "the error's message"),
    ),
}


def _fixed(table: str) -> tuple[str, ...]:
    return tuple(c.name for c in CONTRACT[table] if "<" not in c.name)


EVALUATION_COLUMNS = _fixed("evaluations")
CANDIDATE_COLUMNS = _fixed("candidates")
SCORE_COLUMNS = _fixed("scores")
ERROR_COLUMNS = _fixed("errors")

#: Dtypes of the fixed columns (categoricals, whose categories depend on data, are absent).
FIXED_DTYPES: dict[str, str | pd.api.extensions.ExtensionDtype] = {
    c.name: TIME_DTYPE if c.dtype == str(TIME_DTYPE) else c.dtype
    for table in CONTRACT.values()
    for c in table
    if "<" not in c.name and not c.dtype.startswith(("category", "native"))
}


def columns() -> pd.DataFrame:
    """The column contract of the results tables: ``table, column, dtype, meaning``.

    ``<dimension>`` and ``profile_<field>`` stand for the columns that depend on the data.

    >>> import nexio_lab
    >>> contract = nexio_lab.columns()
    >>> contract[contract["table"] == "candidates"]["column"].tolist()[4:8]
    ['rank', 'name', 'tier', 'tier_num']
    """
    return pd.DataFrame(
        [(table, *column) for table, cols in CONTRACT.items() for column in cols],
        columns=["table", "column", "dtype", "meaning"],
    ).astype("string")


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
