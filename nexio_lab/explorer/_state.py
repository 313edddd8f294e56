"""The explorer's state model: what is selected, what it selects in the data, the drawings.

Nothing here knows about widgets: a front-end (``_app.py``) turns control changes into
:meth:`ExplorerState.set` calls and shows what :meth:`ExplorerState.render_plot`,
:meth:`~ExplorerState.render_ab` and :meth:`~ExplorerState.top_table` return, so every
behaviour is testable without a browser.

Filters keep the rows whose value is one of the chosen values (no value chosen: no
filter). ``pool`` and the ``profile_*`` filters act on evaluations (and so on their
candidates and scores); ``tier`` acts on candidates and their scores only. The revenue band
is derived from ``profile_revenue`` (:data:`REVENUE_BANDS`) as ``profile_revenue_band``.
"""

from __future__ import annotations

import io
import math
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import pandas as pd

from ..results import ResultSet
from ..results._columns import ERROR_COLUMNS
from ..results._frames import Tables
from ..results._top import segment_labels, top_candidates

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = [
    "AB_KINDS",
    "FILTER_COLUMNS",
    "PLOTS",
    "REVENUE_BANDS",
    "Drawing",
    "ExplorerState",
    "Selection",
]

#: The plots of :mod:`nexio_lab.plots`, in the picker's order.
PLOTS = (
    "tier_distribution",
    "dimension_profile",
    "funnel",
    "score_heatmap",
    "rank_shift",
    "tier_transition",
)
#: Plots of a comparison: they draw the A/B selection.
AB_PLOTS = ("rank_shift", "tier_transition")
#: What the two sides of an A/B comparison are: two pools, two segments, or two runs.
AB_KINDS = ("pool", "segment", "run")
REVENUE_BAND = "profile_revenue_band"
#: Filterable columns, when the data has them.
FILTER_COLUMNS = ("tier", "pool", "profile_state", "profile_line", REVENUE_BAND)
#: (upper bound, label) of each revenue band; a revenue falls in the first band it is below.
REVENUE_BANDS = (
    (1e6, "<$1M"),
    (1e7, "$1M–10M"),
    (1e8, "$10M–100M"),
    (1e9, "$100M–1B"),
    (math.inf, "$1B+"),
)
#: Matching keys of each A/B kind (see :func:`nexio_lab.compare`): a segment comparison
#: matches carriers, not entities (an entity sits in one segment only).
AB_KEYS = {
    "pool": ("entity", "name"),
    "segment": ("pool", "name"),
    "run": ("entity", "pool", "name"),
}
#: Options offered in a picker of evaluations or entities (the rest are not listed).
MAX_OPTIONS = 500


@dataclass(frozen=True, slots=True)
class Selection:
    """Every choice of the explorer's controls; ``None`` means "the default for the data"."""

    run: str
    plot: str = "tier_distribution"
    group_by: str = "pool"
    #: (column, chosen values) pairs; a column absent or with no value chosen is not filtered.
    filters: tuple[tuple[str, tuple[str, ...]], ...] = ()
    eval_id: str | None = None
    ab_kind: str = "pool"
    segment_by: str = "profile_state"
    a: str | None = None
    b: str | None = None
    entity: str | None = None
    per_segment: int = 3

    def chosen(self, column: str) -> tuple[str, ...]:
        """The values chosen for ``column`` (empty: no filter)."""
        return dict(self.filters).get(column, ())


@dataclass(frozen=True, slots=True)
class Drawing:
    """One rendered figure: PNG bytes, or the reason there is none; and how long it took."""

    png: bytes | None = field(repr=False)
    message: str | None
    seconds: float


@dataclass
class _Run:
    """One run's tables, with the links that make filtering a few numpy takes."""

    label: str
    evaluations: pd.DataFrame
    candidates: pd.DataFrame
    scores: pd.DataFrame
    dimensions: tuple[str, ...]
    cand_eval: np.ndarray  # position in evaluations of each candidate
    score_cand: np.ndarray  # position in candidates of each score row
    labels: dict[str, np.ndarray] = field(default_factory=dict)  # filter column -> text


class ExplorerState:
    """The explorer's data and selection; see the module docstring for the rules.

    ``data`` is a ResultSet or batch, or several runs of the same profiles (a sequence,
    oldest first, or a mapping label -> results) for run-to-run comparisons.

    >>> from nexio_lab.results._synthetic import synthetic_records
    >>> state = ExplorerState(ResultSet.from_records(synthetic_records(30, 5, seed=2)))
    >>> state.set(plot="funnel", group_by="profile_state").plot
    'funnel'
    >>> _ = state.set(filters={"pool": ["carriers:all"]})
    >>> len(state.filtered().evaluations)
    10
    """

    def __init__(self, data: Any, *, per_segment: int = 3) -> None:
        self.runs: dict[str, _Run] = {
            label: _prepare(label, results) for label, results in _runs_of(data).items()
        }
        last = list(self.runs)[-1]
        self.selection = Selection(run=last, per_segment=per_segment)
        self._filtered: dict[tuple[Any, ...], ResultSet] = {}
        self._comparisons: dict[tuple[Any, ...], pd.DataFrame] = {}
        if "profile_state" not in self.group_options():
            self.selection = replace(self.selection, segment_by=self.group_options()[-1])

    # Options ------------------------------------------------------------------------------
    @property
    def run(self) -> _Run:
        """The run shown: its tables and the links between them."""
        return self.runs[self.selection.run]

    def group_options(self) -> list[str]:
        """``pool`` and every ``profile_*`` column of the current run."""
        columns = self.run.evaluations.columns
        return ["pool", *(c for c in columns if c.startswith("profile_"))]

    def filter_options(self) -> dict[str, list[str]]:
        """Filterable column -> its values in the current run (tiers best first)."""
        out: dict[str, list[str]] = {}
        for column, labels in self.run.labels.items():
            values = set(labels.tolist())
            source = (
                self.run.candidates[column] if column == "tier" else self.run.evaluations[column]
            )
            out[column] = _ordered(values, source)
        return out

    def ab_options(self, kind: str | None = None) -> list[str]:
        """The sides an A/B comparison of ``kind`` can pick from."""
        kind = kind or self.selection.ab_kind
        if kind == "run":
            return list(self.runs)
        column = "pool" if kind == "pool" else self.selection.segment_by
        evaluations = self.run.evaluations
        return _ordered(set(segment_labels(evaluations[column]).tolist()), evaluations[column])

    def ab_pair(self) -> tuple[str, str]:
        """The chosen sides A and B, or the defaults: the first two pools, the two largest
        segments, the last two runs (older as A). ValueError when there are not two."""
        sel, options = self.selection, self.ab_options()
        if len(options) < 2:
            what = {"pool": "pools", "segment": f"values of {sel.segment_by}", "run": "runs"}
            raise ValueError(
                f"an A/B comparison needs two {what[sel.ab_kind]}; found {len(options)}"
            )
        if sel.ab_kind == "run":
            default = (options[-2], options[-1])
        elif sel.ab_kind == "segment":
            sizes = pd.Series(segment_labels(self.run.evaluations[sel.segment_by])).value_counts()
            largest = sizes.index[:2].tolist()
            default = (largest[0], largest[1]) if len(largest) == 2 else (options[0], options[1])
        else:
            default = (options[0], options[1])
        a = sel.a if sel.a in options else default[0]
        b = sel.b if sel.b in options else next(o for o in (default[1], *options) if o != a)
        return a, b

    def evaluation_options(self) -> list[tuple[str, str]]:
        """(label, eval_id) of the filtered evaluations a score heatmap can show (capped)."""
        ev = self.filtered().evaluations
        done = ev[ev["n_candidates"].fillna(0).to_numpy() > 0].head(MAX_OPTIONS)
        return [
            (f"{entity} · {pool}", str(eval_id))
            for entity, pool, eval_id in zip(
                done["entity"].astype(object),
                done["pool"].astype(object),
                done["eval_id"],
                strict=True,
            )
            if not pd.isna(eval_id)
        ]

    def entity_options(self) -> list[str]:
        """Entities with candidates on both sides of the A/B comparison (capped)."""
        diff = self.comparison()
        if "entity" not in diff:
            return []
        both = diff[diff["present"].eq("both").to_numpy(dtype=bool)]
        return [str(e) for e in pd.unique(both["entity"].dropna())][:MAX_OPTIONS]

    # Changes ------------------------------------------------------------------------------
    def set(
        self,
        *,
        run: str | None = None,
        plot: str | None = None,
        group_by: str | None = None,
        filters: Mapping[str, Sequence[str]] | None = None,
        eval_id: str | None = None,
        ab_kind: str | None = None,
        segment_by: str | None = None,
        a: str | None = None,
        b: str | None = None,
        entity: str | None = None,
        per_segment: int | None = None,
    ) -> Selection:
        """Apply the given changes (others stay) and return the new selection.

        ``filters`` replaces the filters of the columns it names (an empty list clears one).
        A bad value raises ValueError naming the control and the allowed values, and leaves
        the selection as it was.
        """
        sel = self.selection
        changes: dict[str, Any] = {}
        if run is not None:
            _check("run", run, list(self.runs))
            changes["run"] = run
        if plot is not None:
            _check("plot", plot, list(PLOTS))
            changes["plot"] = plot
        if ab_kind is not None and ab_kind != sel.ab_kind:
            _check("ab_kind", ab_kind, list(AB_KINDS))
            changes |= {"ab_kind": ab_kind, "a": None, "b": None, "entity": None}
        if per_segment is not None:
            if per_segment < 1:
                raise ValueError(f"per_segment must be at least 1, got {per_segment}")
            changes["per_segment"] = per_segment
        trial = replace(sel, **changes)
        self.selection, previous = trial, sel
        try:
            if group_by is not None:
                _check("group_by", group_by, self.group_options())
                trial = replace(trial, group_by=group_by)
            if segment_by is not None and segment_by != trial.segment_by:
                _check("segment_by", segment_by, self.group_options())
                trial = replace(trial, segment_by=segment_by, a=None, b=None, entity=None)
            if filters is not None:
                trial = replace(trial, filters=self._merged_filters(trial, filters))
            self.selection = trial
            if a is not None:
                _check("a", a, self.ab_options())
                trial = replace(trial, a=a, entity=None)
            if b is not None:
                _check("b", b, self.ab_options())
                trial = replace(trial, b=b, entity=None)
            if eval_id is not None:
                trial = replace(trial, eval_id=eval_id)
            if entity is not None:
                trial = replace(trial, entity=entity)
        except BaseException:
            self.selection = previous
            raise
        self.selection = trial
        return trial

    def _merged_filters(
        self, sel: Selection, filters: Mapping[str, Sequence[str]]
    ) -> tuple[tuple[str, tuple[str, ...]], ...]:
        options = self.filter_options()
        merged = dict(sel.filters)
        for column, values in filters.items():
            _check("filter", column, list(options))
            if isinstance(values, str):
                values = [values]
            unknown = [v for v in values if v not in options[column]]
            if unknown:
                raise ValueError(
                    f"filter {column}: unknown value(s) {unknown}; values are {options[column]}"
                )
            merged[column] = tuple(values)
        return tuple((c, v) for c, v in merged.items() if v)

    # Data ---------------------------------------------------------------------------------
    def filtered(self, run: str | None = None) -> ResultSet:
        """The tables of ``run`` (default: the current one) with the filters applied."""
        label = run or self.selection.run
        key = (label, self.selection.filters)
        if key not in self._filtered:
            if len(self._filtered) > 8:
                self._filtered.clear()
            self._filtered[key] = _apply_filters(self.runs[label], self.selection)
        return self._filtered[key]

    def top_table(self) -> pd.DataFrame:
        """The best candidates per segment of ``group_by`` (see ``top_candidates``)."""
        rs = self.filtered()
        return top_candidates(
            rs.candidates,
            rs.evaluations,
            by=self.selection.group_by,
            per_segment=self.selection.per_segment,
        )

    def comparison(self) -> pd.DataFrame:
        """The :func:`~nexio_lab.compare` frame of the A/B selection (filters applied)."""
        from ..results import compare

        sel = self.selection
        a, b = self.ab_pair()
        segment_by = sel.segment_by if sel.ab_kind == "segment" else None
        key = (sel.run, sel.filters, sel.ab_kind, segment_by, a, b)
        if key in self._comparisons:
            return self._comparisons[key]
        if sel.ab_kind == "run":
            side_a, side_b = self.filtered(a).candidates, self.filtered(b).candidates
        else:
            rs = self.filtered()
            column = "pool" if sel.ab_kind == "pool" else sel.segment_by
            candidates = rs.candidates
            if column in candidates:
                labels = segment_labels(candidates[column])
            else:
                # evaluation-level column: candidates take their evaluation's value
                run = self.run
                positions = run.cand_eval[_positions_in(run.candidates, candidates)]
                labels = segment_labels(run.evaluations[column])[positions]
            side_a, side_b = candidates[labels == a], candidates[labels == b]
        diff = compare(side_a, side_b, on=AB_KEYS[sel.ab_kind], labels=(a, b))
        if len(self._comparisons) > 16:
            self._comparisons.clear()
        self._comparisons[key] = diff
        return diff

    def entity(self) -> str | None:
        """The entity whose ranks the rank shift shows: the chosen one, else the first with
        candidates on both sides (``None`` for segment comparisons, keyed by carrier)."""
        options = self.entity_options()
        if not options:
            return None
        return self.selection.entity if self.selection.entity in options else options[0]

    def heatmap_eval_id(self) -> str:
        """The evaluation the score heatmap shows: the chosen one, else the first listed."""
        options = [eval_id for _, eval_id in self.evaluation_options()]
        if not options:
            raise ValueError("no evaluation with candidates matches the filters")
        return self.selection.eval_id if self.selection.eval_id in options else options[0]

    # Drawings -----------------------------------------------------------------------------
    def draw_plot(self, fig: Figure) -> None:
        """Draw the picked plot on ``fig`` (ValueError when the selection has nothing)."""
        from .. import plots

        sel, ax = self.selection, fig.add_subplot()
        if sel.plot == "rank_shift":
            plots.rank_shift(self.comparison(), entity=self.entity(), ax=ax)
        elif sel.plot == "tier_transition":
            plots.tier_transition(self.comparison(), ax=ax)
        elif sel.plot == "score_heatmap":
            plots.score_heatmap(self.filtered(), self.heatmap_eval_id(), ax=ax)
        else:
            rs = self.filtered()
            if rs.evaluations.empty:
                raise ValueError("no evaluation matches the filters")
            getattr(plots, sel.plot)(rs, sel.group_by, ax=ax)

    def draw_ab(self, fig: Figure, plot: Literal["rank_shift", "tier_transition"]) -> None:
        """Draw one plot of the A/B comparison on ``fig``."""
        from .. import plots

        diff, ax = self.comparison(), fig.add_subplot()
        if plot == "rank_shift":
            plots.rank_shift(diff, entity=self.entity(), ax=ax)
        else:
            plots.tier_transition(diff, ax=ax)

    def render_plot(self, *, dpi: int = 80) -> Drawing:
        """The picked plot as PNG bytes (or why not), timed from selection to bytes."""
        return _render(self.draw_plot, (9.0, 5.5), dpi)

    def render_ab(
        self, plot: Literal["rank_shift", "tier_transition"], *, dpi: int = 80
    ) -> Drawing:
        """One plot of the A/B comparison as PNG bytes (or why not), timed to the bytes.

        Two drawings, not one: picking another entity redraws the rank shift only.
        """
        _check("plot", plot, list(AB_PLOTS))
        return _render(lambda fig: self.draw_ab(fig, plot), (7.0, 5.5), dpi)

    def describe(self) -> str:
        """One line: what the filters keep of the current run."""
        rs, run = self.filtered(), self.run
        return (
            f"{len(rs.evaluations):,} of {len(run.evaluations):,} evaluations · "
            f"{len(rs.candidates):,} of {len(run.candidates):,} candidates"
        )


def _render(draw: Any, size: tuple[float, float], dpi: int) -> Drawing:
    # A bare Figure: pyplot never tracks it, so no figure piles up however often we redraw.
    from matplotlib.figure import Figure

    started = time.perf_counter()
    fig = Figure(figsize=size, layout="constrained")
    try:
        draw(fig)
        buffer = io.BytesIO()
        fig.savefig(buffer, format="png", dpi=dpi)
    except ValueError as exc:
        return Drawing(None, str(exc), time.perf_counter() - started)
    finally:
        fig.clear()
    return Drawing(buffer.getvalue(), None, time.perf_counter() - started)


def _check(control: str, value: str, allowed: list[str]) -> None:
    if value not in allowed:
        shown = ", ".join(repr(v) for v in allowed[:20]) + (" ..." if len(allowed) > 20 else "")
        raise ValueError(f"{control}: unknown value {value!r}; expected one of {shown}")


def _ordered(values: set[str], source: pd.Series) -> list[str]:
    """Values in the column's category order when it has one, else sorted as text."""
    if isinstance(source.dtype, pd.CategoricalDtype):
        order = [str(c) for c in source.cat.categories]
        return [v for v in order if v in values] + sorted(values - set(order))
    return sorted(values)


def _runs_of(data: Any) -> dict[str, Any]:
    if isinstance(data, Mapping):
        runs = {str(k): v for k, v in data.items()}
    elif isinstance(data, Sequence) and not isinstance(data, str | pd.DataFrame):
        names = [getattr(r, "name", None) for r in data]
        unique = all(isinstance(n, str) for n in names) and len(set(names)) == len(names)
        runs = {
            (str(n) if unique else f"run {i + 1}"): r
            for i, (n, r) in enumerate(zip(names, data, strict=True))
        }
    else:
        runs = {str(getattr(data, "name", None) or "results"): data}
    if not runs:
        raise ValueError("nothing to explore: no results given")
    for label, results in runs.items():
        if not isinstance(getattr(results, "candidates", None), pd.DataFrame):
            raise TypeError(
                f"cannot explore {label!r}: a {type(results).__name__}, expected a ResultSet "
                "or batch"
            )
    return runs


def revenue_bands(revenue: pd.Series) -> pd.Categorical:
    """Each revenue's band (:data:`REVENUE_BANDS`), an ordered Categorical; missing stays."""
    values = pd.to_numeric(revenue, errors="coerce").astype("float64").to_numpy()
    edges = [bound for bound, _ in REVENUE_BANDS]
    names = [name for _, name in REVENUE_BANDS]
    codes = np.searchsorted(edges, values, side="right")
    codes[np.isnan(values) | (values < 0)] = -1
    return pd.Categorical.from_codes(codes, dtype=pd.CategoricalDtype(names, ordered=True))


def _prepare(label: str, data: Any) -> _Run:
    results = getattr(data, "results", data)  # a batch's ResultSet knows its dimensions
    evaluations = results.evaluations
    candidates = results.candidates
    scores = results.scores
    dimensions = tuple(getattr(results, "dimensions", ()))
    if "profile_revenue" in evaluations and REVENUE_BAND not in evaluations:
        evaluations = evaluations.assign(
            **{REVENUE_BAND: revenue_bands(evaluations["profile_revenue"])}
        )
    run = _Run(
        label=label,
        evaluations=evaluations,
        candidates=candidates,
        scores=scores,
        dimensions=dimensions,
        cand_eval=_link(evaluations, candidates, ["row", "pool"]),
        score_cand=_link(candidates, scores, ["row", "pool", "rank"]),
    )
    for column in FILTER_COLUMNS:
        source = candidates if column == "tier" else evaluations
        if column in source:
            run.labels[column] = segment_labels(source[column])
    return run


def _link(parent: pd.DataFrame, child: pd.DataFrame, key: list[str]) -> np.ndarray:
    """Position in ``parent`` of each ``child`` row, matched on ``key`` (-1: none)."""
    if child.empty:
        return np.empty(0, dtype=np.int64)
    index = pd.MultiIndex.from_frame(parent[key].astype(object))
    if not index.is_unique:
        raise ValueError(f"the {key} of the results are not unique; cannot explore them")
    return index.get_indexer(pd.MultiIndex.from_frame(child[key].astype(object)))


def _positions_in(full: pd.DataFrame, subset: pd.DataFrame) -> np.ndarray:
    """Positions in ``full`` of the rows of ``subset`` (a row selection of it)."""
    return full.index.get_indexer(subset.index)


def _apply_filters(run: _Run, sel: Selection) -> ResultSet:
    eval_mask = np.ones(len(run.evaluations), dtype=bool)
    cand_mask = np.ones(len(run.candidates), dtype=bool)
    for column, values in sel.filters:
        if column not in run.labels:
            continue  # another run's column: nothing here to filter on
        keep = np.isin(run.labels[column], list(values))
        if column == "tier":
            cand_mask &= keep
        else:
            eval_mask &= keep
    valid = run.cand_eval >= 0
    cand_mask &= (
        np.where(valid, eval_mask[np.clip(run.cand_eval, 0, None)], False)
        if len(cand_mask)
        else cand_mask
    )
    score_valid = run.score_cand >= 0
    score_mask = (
        np.where(score_valid, cand_mask[np.clip(run.score_cand, 0, None)], False)
        if len(run.score_cand)
        else np.zeros(0, dtype=bool)
    )
    evaluations = run.evaluations[eval_mask]
    errors = evaluations[~evaluations["status"].eq("completed").fillna(False).to_numpy(bool)]
    return ResultSet(
        tables=Tables(
            evaluations=evaluations,
            candidates=run.candidates[cand_mask],
            scores=run.scores[score_mask],
            errors=errors[list(ERROR_COLUMNS)].reset_index(drop=True),
            dimensions=run.dimensions,
        )
    )
