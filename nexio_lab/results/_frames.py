"""Build the results tables from raw job JSON, vectorised (see ``_columns`` for the contract).

One pass in Python collects each field into a list; pandas/numpy turn the lists into typed
columns; per-candidate and per-score rows are never built one by one. Candidate rows take
their evaluation's columns by index, and the long ``scores`` table is a ravel of the wide
level-code matrix, so 1.5 M score rows cost a few numpy takes.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any, NamedTuple

import numpy as np
import pandas as pd

from .._models import LEVELS, Evaluation, EvaluationRecord, _as_int, _as_str
from ._columns import (
    CANDIDATE_COLUMNS,
    ERROR_COLUMNS,
    EVALUATION_COLUMNS,
    PROFILE_PREFIX,
    SCORE_COLUMNS,
    TIME_DTYPE,
    confidence_dtype,
    dimension_column,
    level_dtype,
    order_dimensions,
    tier_dtype,
)

__all__ = [
    "ChunkSource",
    "Layout",
    "LayoutChanged",
    "Tables",
    "build_tables",
    "build_tables_chunked",
    "records_from_evaluations",
    "stream_tables",
    "survey",
    "tier_numbers",
]

_LEVEL_CODE = {level: code for code, level in enumerate(LEVELS)}


class Tables(NamedTuple):
    """The four tables of some results and the dimensions of ``candidates``' level columns.

    The one tables type of the package: built here, read back by ``read_results``, held by
    a ResultSet, used by the plots.
    """

    evaluations: pd.DataFrame
    candidates: pd.DataFrame
    scores: pd.DataFrame
    errors: pd.DataFrame
    dimensions: tuple[str, ...]


def tier_numbers(tiers: pd.Categorical) -> pd.arrays.IntegerArray:
    """``tier_num``: 1-based position of each tier in its ordered dtype, missing stays missing."""
    codes = np.asarray(tiers.codes)
    return pd.arrays.IntegerArray((codes + 1).astype(np.int8), codes < 0)


def records_from_evaluations(
    evaluations: Sequence[Evaluation],
    profiles: Sequence[Mapping[str, Any]] | None = None,
    pools: Sequence[str] | None = None,
) -> list[EvaluationRecord]:
    """Wrap plain evaluations as records: ``row`` is the position, profile/pool optional."""
    evaluations = list(evaluations)
    for label, given in (("profiles", profiles), ("pools", pools)):
        if given is not None and len(given) != len(evaluations):
            raise ValueError(
                f"{label} has {len(given)} items for {len(evaluations)} evaluations; "
                "pass one per evaluation"
            )
    records = []
    for i, ev in enumerate(evaluations):
        error = ev.error if isinstance(ev.error, Mapping) else {}
        records.append(
            EvaluationRecord(
                row=i,
                pool=pools[i] if pools is not None else None,  # type: ignore[arg-type]
                profile=profiles[i] if profiles is not None else {},
                status=ev.status,
                eval_id=ev.eval_id or None,
                error_code=_as_str(error.get("code")),
                error_message=_as_str(error.get("message")),
                result=_result_of(ev),
            )
        )
    return records


def _result_of(ev: Evaluation) -> dict[str, Any]:
    """The evaluation's JSON: its ``raw`` when it has one, else rebuilt from the attributes."""
    raw = dict(ev.raw) if isinstance(ev.raw, Mapping) else {}
    raw.setdefault("eval_id", ev.eval_id)
    raw.setdefault("status", ev.status)
    raw.setdefault("pool_size", ev.pool_size)
    raw.setdefault("filtered", ev.filtered)
    if not isinstance(raw.get("candidates"), list):
        raw["candidates"] = [
            {
                "name": c.name,
                "tier": c.tier,
                "confidence": c.confidence,
                "scores": dict(c.scores),
                "reasoning": c.reasoning,
            }
            for c in ev.candidates
        ]
    return raw


def _utc(value: Any) -> Any:
    if isinstance(value, datetime) and value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value


def _strings(values: list[Any]) -> pd.api.extensions.ExtensionArray:
    return pd.array(values, dtype="string")


def _object_array(values: list[Any]) -> np.ndarray:
    # np.array(values) would turn equal-length nested lists into a 2-D array; fromiter won't.
    return np.fromiter(values, dtype=object, count=len(values))


def _factorize(values: list[Any]) -> tuple[np.ndarray, list[Any]]:
    """Codes (-1 for missing) and uniques of arbitrary JSON values, unhashables as text."""
    try:
        codes, uniques = pd.factorize(_object_array(values), use_na_sentinel=True)
    except TypeError:
        hashable = [v if v is None or isinstance(v, str | int | float) else str(v) for v in values]
        codes, uniques = pd.factorize(_object_array(hashable), use_na_sentinel=True)
    return np.asarray(codes), list(uniques)


def _categorical(values: list[Any], dtype: pd.CategoricalDtype) -> pd.Categorical:
    """A Categorical of text values (each unique value is a category of ``dtype``)."""
    codes, uniques = _factorize(values)
    names = [u if isinstance(u, str) else str(u) for u in uniques]
    position = {c: i for i, c in enumerate(dtype.categories)}
    lut = np.array([position[n] for n in names] + [-1], dtype=np.int32)
    return pd.Categorical.from_codes(lut[codes], dtype=dtype)


def _level_codes(values: list[Any]) -> np.ndarray:
    """Level codes 0..3; -1 for a present but unknown level; -2 when the value is missing."""
    codes, uniques = _factorize(values)
    lut = np.array(
        [_LEVEL_CODE.get(str(u).strip().upper(), -1) for u in uniques] + [-2], dtype=np.int8
    )
    return lut[codes]


def _profile_column(values: list[Any], kinds: frozenset[type]) -> Any:
    """Keep a profile field's native type when its non-null values (of ``kinds``, over all
    the records) agree, else text."""
    if kinds and kinds <= {bool}:
        return pd.array(values, dtype="boolean")
    if kinds and kinds <= {int}:
        return pd.array(values, dtype="Int64")
    if kinds and kinds <= {int, float}:
        return np.array([np.nan if v is None else float(v) for v in values], dtype="float64")
    return _strings(
        [json.dumps(v, default=str) if isinstance(v, dict | list | tuple) else v for v in values]
    )


def _times(values: list[Any]) -> pd.Series:
    series = pd.to_datetime(pd.Series([_utc(v) for v in values], dtype=object), utc=True)
    return series.astype(TIME_DTYPE)


class Layout(NamedTuple):
    """What fixes the tables' data-dependent columns and dtypes, over all the records.

    Tables built in chunks line up only when every chunk uses the layout of the whole: the
    profile fields (first-seen order) and the Python types of their values, the tiers and
    confidences seen (their categories) and the score keys (the dimension columns).
    """

    profile_kinds: dict[str, frozenset[type]]
    tiers: frozenset[str]
    confidences: frozenset[str]
    dimension_keys: frozenset[str]

    def merge(self, other: Layout) -> Layout:
        """The layout of both sets of records (``self``'s records first)."""
        kinds = dict(self.profile_kinds)
        for field, seen in other.profile_kinds.items():
            kinds[field] = kinds.get(field, frozenset()) | seen
        return Layout(
            kinds,
            self.tiers | other.tiers,
            self.confidences | other.confidences,
            self.dimension_keys | other.dimension_keys,
        )


class LayoutChanged(RuntimeError):
    """The records changed between surveying them and building their tables (a batch that
    is still running); reading again gives a consistent layout."""


class _Collected(NamedTuple):
    """The per-field lists that one pass over the records fills."""

    n: int
    rows: list[Any]
    eval_ids: list[Any]
    entities: list[Any]
    pools: list[Any]
    statuses: list[Any]
    pool_sizes: list[Any]
    filtereds: list[Any]
    error_codes: list[Any]
    error_messages: list[Any]
    submitted: list[Any]
    completed: list[Any]
    reused_from: list[Any]
    profiles: list[Mapping[str, Any]]
    n_candidates: np.ndarray
    candidate_objs: list[Mapping[str, Any]]
    ranks: list[int]


def _collect(records: Iterable[EvaluationRecord]) -> _Collected:
    records = records if isinstance(records, Sequence) else list(records)
    n = len(records)
    rows: list[Any] = [None] * n
    eval_ids: list[Any] = [None] * n
    entities: list[Any] = [None] * n
    pools: list[Any] = [None] * n
    statuses: list[Any] = [None] * n
    pool_sizes: list[Any] = [None] * n
    filtereds: list[Any] = [None] * n
    error_codes: list[Any] = [None] * n
    error_messages: list[Any] = [None] * n
    submitted: list[Any] = [None] * n
    completed: list[Any] = [None] * n
    reused_from: list[Any] = [None] * n
    profiles: list[Mapping[str, Any]] = [{}] * n
    n_candidates = np.zeros(n, dtype=np.int64)

    candidate_objs: list[Mapping[str, Any]] = []
    ranks: list[int] = []

    for i, rec in enumerate(records):
        res = rec.result if isinstance(rec.result, Mapping) else {}
        profile = rec.profile if isinstance(rec.profile, Mapping) else {}
        profiles[i] = profile
        rows[i] = rec.row
        eval_ids[i] = rec.eval_id or res.get("eval_id")
        entities[i] = profile.get("entity")
        pools[i] = rec.pool
        statuses[i] = rec.status
        pool_sizes[i] = _as_int(res.get("pool_size"))
        filtereds[i] = _as_int(res.get("filtered"))
        error = res.get("error")
        error = error if isinstance(error, Mapping) else {"message": error}
        error_codes[i] = rec.error_code if rec.error_code is not None else error.get("code")
        error_messages[i] = (
            rec.error_message if rec.error_message is not None else error.get("message")
        )
        submitted[i] = rec.submitted_at
        completed[i] = rec.completed_at
        reused_from[i] = getattr(rec, "reused_from", None)

        cands = res.get("candidates")
        if not isinstance(cands, list) or not cands:
            continue
        before = len(candidate_objs)
        if all(type(c) is dict for c in cands):
            candidate_objs.extend(cands)
            ranks.extend(range(1, len(cands) + 1))
        else:
            for rank, c in enumerate(cands, 1):
                if isinstance(c, Mapping):
                    candidate_objs.append(c)
                    ranks.append(rank)
        n_candidates[i] = len(candidate_objs) - before
    return _Collected(
        n,
        rows,
        eval_ids,
        entities,
        pools,
        statuses,
        pool_sizes,
        filtereds,
        error_codes,
        error_messages,
        submitted,
        completed,
        reused_from,
        profiles,
        n_candidates,
        candidate_objs,
        ranks,
    )


def _names(values: list[Any]) -> frozenset[str]:
    """The category names ``_categorical`` gives these values."""
    _, uniques = _factorize(values)
    return frozenset(u if isinstance(u, str) else str(u) for u in uniques)


def _score_maps(objs: list[Mapping[str, Any]]) -> tuple[list[Mapping[Any, Any]], set[str]]:
    """Each candidate's scores as a mapping with text keys, and the keys seen."""
    raw_scores = [c.get("scores") for c in objs]
    score_maps = [
        s if type(s) is dict else (s if isinstance(s, Mapping) else {}) for s in raw_scores
    ]
    keys = set().union(*score_maps)
    # Keys are read as text; a non-text key (not JSON, but possible in hand-made dicts) counts
    # under its text form.
    if any(not isinstance(k, str) for k in keys):
        score_maps = [{str(k): v for k, v in s.items()} for s in score_maps]
        keys = {str(k) for k in keys}
    return score_maps, keys


def _layout_of(c: _Collected) -> tuple[Layout, list[Mapping[Any, Any]]]:
    """The layout of the collected records, and their candidates' score maps (text keys)."""
    fields = dict.fromkeys(k for p in c.profiles for k in p)
    kinds = {
        k: frozenset(type(v) for p in c.profiles if (v := p.get(k)) is not None) for k in fields
    }
    score_maps, keys = _score_maps(c.candidate_objs)
    layout = Layout(
        kinds,
        _names([o.get("tier") for o in c.candidate_objs]),
        _names([o.get("confidence") for o in c.candidate_objs]),
        frozenset(keys),
    )
    return layout, score_maps


def survey(records: Iterable[EvaluationRecord]) -> Layout:
    """The layout of ``records`` (merge the layouts of chunks to get the whole's)."""
    return _layout_of(_collect(records))[0]


def build_tables(records: Iterable[EvaluationRecord], layout: Layout | None = None) -> Tables:
    """All four tables of ``records`` (see the module ``_columns`` for the contract).

    ``layout`` (from :func:`survey`, merged over every chunk) builds one chunk of a larger
    whole: its categories, dimension and profile columns are the whole's, so chunks concatenate.
    """
    c = _collect(records)
    own, score_maps = _layout_of(c)
    if layout is None:
        layout = own
    elif layout.merge(own) != layout:
        raise LayoutChanged(
            "these records have tiers, dimensions or profile fields the layout lacks"
        )
    n = c.n
    # Evaluation columns, also the source that candidate rows take from by index.
    ev_cols: dict[str, Any] = {
        "row": pd.array(c.rows, dtype="Int64"),
        "eval_id": _strings(c.eval_ids),
        "entity": _strings(c.entities),
        "pool": _strings(c.pools),
    }
    sub, comp = _times(c.submitted), _times(c.completed)
    evaluations = pd.DataFrame(
        {
            **ev_cols,
            "status": _strings(c.statuses),
            "pool_size": pd.array(c.pool_sizes, dtype="Int64"),
            "filtered": pd.array(c.filtereds, dtype="Int64"),
            "n_candidates": pd.array(c.n_candidates, dtype="Int64"),
            "error_code": _strings(c.error_codes),
            "error_message": _strings(c.error_messages),
            "submitted_at": sub.array,
            "completed_at": comp.array,
            "duration_s": (comp - sub).dt.total_seconds().to_numpy(dtype="float64"),
            "reused_from": _strings(c.reused_from),
        }
    )
    if layout.profile_kinds:
        profiles = c.profiles
        evaluations = pd.concat(
            [
                evaluations,
                pd.DataFrame(
                    {
                        f"{PROFILE_PREFIX}{k}": _profile_column([p.get(k) for p in profiles], kinds)
                        for k, kinds in layout.profile_kinds.items()
                    },
                    index=evaluations.index,
                ),
            ],
            axis=1,
        )

    owner = np.repeat(np.arange(n), c.n_candidates)
    candidates, scores, dimensions = _candidate_tables(
        c.candidate_objs, score_maps, c.ranks, owner, ev_cols, layout
    )
    assert tuple(evaluations.columns[: len(EVALUATION_COLUMNS)]) == EVALUATION_COLUMNS
    assert tuple(candidates.columns[: len(CANDIDATE_COLUMNS)]) == CANDIDATE_COLUMNS
    assert tuple(scores.columns) == SCORE_COLUMNS
    errors = evaluations.loc[
        evaluations["status"].ne("completed").fillna(True).to_numpy(dtype=bool),
        list(ERROR_COLUMNS),
    ].reset_index(drop=True)
    return Tables(evaluations, candidates, scores, errors, dimensions)


ChunkSource = Callable[[], Iterable[Sequence[EvaluationRecord]]]


def stream_tables(read: ChunkSource) -> tuple[tuple[str, ...], Iterator[Tables]]:
    """The dimensions and the tables of each chunk ``read()`` yields, sharing one layout.

    ``read`` is called twice (a survey pass, then the build pass), so only one chunk of
    parsed records is in memory at a time; the chunks' tables concatenate into the tables
    :func:`build_tables` makes of all the records at once. Raises :class:`LayoutChanged` if
    the records change between the passes.
    """
    layout = survey(())
    for chunk in read():
        layout = layout.merge(survey(chunk))
    dimensions = order_dimensions(layout.dimension_keys)

    def build() -> Iterator[Tables]:
        empty = True
        for chunk in read():
            empty = False
            yield build_tables(chunk, layout)
        if empty:
            yield build_tables((), layout)

    return dimensions, build()


def build_tables_chunked(read: ChunkSource, attempts: int = 3) -> Tables:
    """:func:`build_tables` of all the records ``read()`` yields, one chunk parsed at a time.

    Peak memory is the tables plus their pieces (one copy of the non-text columns; the
    text columns' Arrow buffers are shared) plus one chunk's parsed records, instead of all
    the records parsed at once. A batch still running may change between the passes: then
    the build starts over (up to ``attempts`` times).
    """
    for attempt in range(attempts):
        try:
            _, chunks = stream_tables(read)
            parts = list(chunks)
        except LayoutChanged:
            if attempt == attempts - 1:
                raise
            continue
        if len(parts) == 1:
            return parts[0]
        evaluations, candidates, scores, errors = (
            pd.concat([p[i] for p in parts], ignore_index=True) for i in range(4)
        )
        return Tables(evaluations, candidates, scores, errors, parts[0].dimensions)
    raise AssertionError("unreachable")


def _candidate_tables(
    objs: list[Mapping[str, Any]],
    score_maps: list[Mapping[Any, Any]],
    ranks: list[int],
    owner: np.ndarray,
    ev_cols: dict[str, Any],
    layout: Layout,
) -> tuple[pd.DataFrame, pd.DataFrame, tuple[str, ...]]:
    key_cols = {name: col.take(owner) for name, col in ev_cols.items()}
    rank = pd.array(ranks, dtype="Int64")
    names = _strings([c.get("name") for c in objs])

    dimensions = order_dimensions(layout.dimension_keys)

    n, n_dims = len(objs), len(dimensions)
    level_codes = np.empty((n, n_dims), dtype=np.int8)
    for j, dim in enumerate(dimensions):
        level_codes[:, j] = _level_codes([s.get(dim) for s in score_maps])

    ldtype = level_dtype()
    wide_levels = {
        dimension_column(dim): pd.Categorical.from_codes(
            np.maximum(level_codes[:, j], -1), dtype=ldtype
        )
        for j, dim in enumerate(dimensions)
    }
    tiers = _categorical([c.get("tier") for c in objs], tier_dtype(layout.tiers))
    candidates = pd.DataFrame(
        {
            **key_cols,
            "rank": rank,
            "name": names,
            "tier": tiers,
            "tier_num": tier_numbers(tiers),
            "confidence": _categorical(
                [c.get("confidence") for c in objs], confidence_dtype(layout.confidences)
            ),
            "reasoning": _strings([c.get("reasoning") for c in objs]),
            **wide_levels,
        }
    )

    flat = level_codes.ravel()
    present = np.flatnonzero(flat != -2)
    cand_idx, dim_idx = np.divmod(present, n_dims) if n_dims else (present, present)
    codes = flat[present]
    known = codes >= 0
    scores = pd.DataFrame(
        {
            **{name: col.take(cand_idx) for name, col in key_cols.items()},
            "rank": rank.take(cand_idx),
            "name": names.take(cand_idx),
            "dimension": pd.Categorical.from_codes(dim_idx, categories=list(dimensions)),
            "level": pd.Categorical.from_codes(np.maximum(codes, -1), dtype=ldtype),
            "level_num": pd.arrays.IntegerArray((codes + 1).astype(np.int8), ~known),
        }
    )
    return candidates, scores, dimensions
