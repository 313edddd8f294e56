"""One self-contained HTML file for people who do not open notebooks.

Everything is inside the file: plots are SVG in ``data:`` URIs, the style sheet is inline,
there is no script, no font and no link to fetch, so it reads offline and prints (print
CSS: A4, no figure or table split across pages). All text from the data is escaped. The
file holds only what the tables hold, never a key.

Sections, each an element with an ``id``: ``summary`` (rows by status, timing, pools),
``plots`` (the six plots), ``comparison`` (agreement of every pair of pools),
``top`` (the best candidates per segment) and ``errors``.
"""

from __future__ import annotations

import base64
import io
import itertools
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from html import escape
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from .._version import __version__
from ..results._top import top_candidates

if TYPE_CHECKING:
    from matplotlib.axes import Axes

__all__ = ["pool_agreement", "report_html", "write_report"]

#: Error rows listed at most (the rest are counted).
ERRORS_SHOWN = 200
_CSS = """
:root { color-scheme: light; }
body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, Helvetica, Arial, sans-serif;
  margin: 2rem auto; max-width: 72rem; padding: 0 1rem; color: #1a1a1a; line-height: 1.4; }
h1 { font-size: 1.6rem; margin-bottom: .2rem; }
h2 { font-size: 1.25rem; border-bottom: 2px solid #0072B2; padding-bottom: .2rem;
  margin-top: 2rem; }
h3 { font-size: 1.05rem; margin: 1.2rem 0 .4rem; }
.meta { color: #555; font-size: .9rem; }
nav a { margin-right: 1rem; color: #0072B2; }
table { border-collapse: collapse; margin: .4rem 0 1rem; font-size: .88rem; }
th, td { border-bottom: 1px solid #ddd; padding: .25rem .6rem; text-align: left;
  vertical-align: top; }
th { background: #f3f6f9; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
td.text { max-width: 40rem; }
.grid { display: grid; grid-template-columns: repeat(auto-fit, minmax(30rem, 1fr)); gap: 1rem; }
figure { margin: 0; break-inside: avoid; }
figure img { width: 100%; height: auto; border: 1px solid #eee; }
figcaption { font-size: .85rem; color: #555; }
.note { color: #555; font-style: italic; }
@page { size: A4; margin: 14mm; }
@media print {
  body { margin: 0; max-width: none; font-size: 10pt; }
  nav { display: none; }
  h2 { break-after: avoid; }
  table, figure, tr { break-inside: avoid; }
  .grid { display: block; }
  figure { margin-bottom: 6mm; }
  a { color: inherit; text-decoration: none; }
}
"""


def write_report(
    data: Any,
    path: str | Path,
    *,
    title: str | None = None,
    segment_by: str = "profile_state",
    per_segment: int = 3,
    k: int = 10,
) -> Path:
    """Write the one-file HTML report of ``data`` (a batch or ResultSet) to ``path``.

    See :func:`report_html` for the options; returns the path written.

    >>> batch.to_report("q4.html")  # doctest: +SKIP
    PosixPath('q4.html')
    """
    out = Path(path)
    html = report_html(data, title=title, segment_by=segment_by, per_segment=per_segment, k=k)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(html, encoding="utf-8")
    return out


def report_html(
    data: Any,
    *,
    title: str | None = None,
    segment_by: str = "profile_state",
    per_segment: int = 3,
    k: int = 10,
) -> str:
    """The report as one HTML string.

    ``segment_by`` names the segments of the top-candidates section (a column of
    ``evaluations`` or ``candidates``; ``pool`` when the data has no such column);
    ``per_segment`` candidates are listed for each; ``k`` is the depth of the top-k overlap.

    >>> from nexio_lab.results import ResultSet
    >>> from nexio_lab.results._synthetic import synthetic_records
    >>> html = report_html(ResultSet.from_records(synthetic_records(6, 4, seed=1)))
    >>> html.startswith("<!DOCTYPE html>"), 'id="errors"' in html
    (True, True)
    """
    results = getattr(data, "results", data)
    evaluations, candidates = results.evaluations, results.candidates
    name = getattr(data, "name", None)
    title = title or (f"Batch {name}" if name else "Evaluation results")
    if segment_by not in evaluations.columns and segment_by not in candidates.columns:
        segment_by = "pool"
    stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    sections = [
        _summary_section(data, results),
        _plots_section(results, k),
        _comparison_section(candidates, k),
        _top_section(results, segment_by, per_segment),
        _errors_section(results.errors),
    ]
    nav = "".join(
        f'<a href="#{anchor}">{label}</a>'
        for anchor, label in (
            ("summary", "Summary"),
            ("plots", "Plots"),
            ("comparison", "Pool comparison"),
            ("top", "Top candidates"),
            ("errors", "Errors"),
        )
    )
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{escape(title)}</title><style>{_CSS}</style></head><body>"
        f"<header><h1>{escape(title)}</h1>"
        f'<p class="meta">{len(evaluations):,} evaluations · {len(candidates):,} candidates · '
        f"generated {stamp} by nexio-lab {escape(__version__)}</p><nav>{nav}</nav></header>"
        f"{''.join(sections)}</body></html>\n"
    )


# Sections ---------------------------------------------------------------------------------
def _summary_section(data: Any, results: Any) -> str:
    evaluations = results.evaluations
    counts = (
        data.status_counts()
        if hasattr(data, "status_counts")
        else {str(s): int(n) for s, n in evaluations["status"].value_counts(sort=False).items()}
    )
    status = pd.DataFrame({"status": list(counts), "rows": [int(n) for n in counts.values()]})
    status = pd.concat(
        [status, pd.DataFrame({"status": ["total"], "rows": [int(status["rows"].sum())]})]
    )
    timing = _timing(evaluations)
    pools = _pools(results)
    return (
        '<section id="summary"><h2>Summary</h2><div class="grid">'
        f"<div><h3>Rows by status</h3>{_table(status, table_id='status')}</div>"
        f"<div><h3>Timing</h3>{_table(timing, table_id='timing')}</div></div>"
        f"<h3>Pools</h3>{_table(pools, table_id='pools')}</section>"
    )


def _timing(evaluations: pd.DataFrame) -> pd.DataFrame:
    submitted = evaluations["submitted_at"].dropna()
    completed = evaluations["completed_at"].dropna()
    durations = evaluations["duration_s"].dropna()
    rows: list[tuple[str, str]] = []
    if len(submitted):
        rows.append(("first submitted", _time(submitted.min())))
    if len(completed):
        rows.append(("last completed", _time(completed.max())))
    if len(submitted) and len(completed):
        span = (completed.max() - submitted.min()).total_seconds()
        rows.append(("span", f"{span:,.1f} s"))
    if len(durations):
        rows += [
            ("evaluation time, median", f"{durations.median():,.1f} s"),
            ("evaluation time, 90th percentile", f"{durations.quantile(0.9):,.1f} s"),
            ("evaluation time, longest", f"{durations.max():,.1f} s"),
        ]
    if not rows:
        rows.append(("times", "none recorded"))
    return pd.DataFrame(rows, columns=["measure", "value"])


def _pools(results: Any) -> pd.DataFrame:
    """Per pool: evaluations, completed, not completed, candidates, mean per completed."""
    evaluations, candidates = results.evaluations, results.candidates
    pool = evaluations["pool"].astype(object).fillna("(none)")
    done = evaluations["status"].eq("completed").fillna(False).to_numpy(dtype=bool)
    frame = pd.DataFrame({"pool": pool.to_numpy(), "done": done})
    per_pool = frame.groupby("pool", sort=True)["done"].agg(["size", "sum"])
    shortlisted = candidates["pool"].astype(object).fillna("(none)").value_counts()
    out = pd.DataFrame(
        {
            "pool": per_pool.index,
            "evaluations": per_pool["size"].to_numpy(dtype=int),
            "completed": per_pool["sum"].to_numpy(dtype=int),
            "not completed": (per_pool["size"] - per_pool["sum"]).to_numpy(dtype=int),
            "candidates": [int(shortlisted.get(p, 0)) for p in per_pool.index],
        }
    )
    out["candidates per completed"] = [
        round(c / n, 1) if n else float("nan")
        for c, n in zip(out["candidates"], out["completed"], strict=True)
    ]
    return out


def _plots_section(results: Any, k: int) -> str:
    from .. import plots

    candidates = results.candidates
    pools = _pool_names(candidates)
    first = _first_completed(results.evaluations)
    draws: list[tuple[str, str, Callable[[Axes], Any] | None, str]] = [
        ("tier_distribution", "Tiers per pool",
         lambda ax: plots.tier_distribution(results, "pool", ax=ax), ""),
        ("dimension_profile", "Mean level per dimension",
         lambda ax: plots.dimension_profile(results, "pool", ax=ax), ""),
        ("funnel", "Pool → filter → shortlist",
         lambda ax: plots.funnel(results, "pool", ax=ax), ""),
        ("score_heatmap", "Scores of the first evaluation",
         (lambda ax: plots.score_heatmap(results, first, ax=ax)) if first else None,
         "no completed evaluation with candidates"),
    ]  # fmt: skip
    if len(pools) >= 2:
        diff = _pool_diff(candidates, pools[0], pools[1], k)
        entity = _entity_in_both(diff)
        of = f" for {entity}" if entity else ""
        draws += [
            ("rank_shift", f"Rank shift {pools[0]} → {pools[1]}{of}",
             lambda ax: plots.rank_shift(diff, entity=entity, ax=ax), ""),
            ("tier_transition", f"Tier transition {pools[0]} → {pools[1]}",
             lambda ax: plots.tier_transition(diff, ax=ax), ""),
        ]  # fmt: skip
    else:
        reason = "needs two pools; this batch has " + (pools[0] if pools else "none")
        draws += [
            ("rank_shift", "Rank shift", None, reason),
            ("tier_transition", "Tier transition", None, reason),
        ]
    figures = []
    for plot, caption, draw, reason in draws:
        body = _svg_img(draw, caption) if draw is not None else None
        if body is None:
            body = f'<p class="note">{escape(reason or "nothing to draw")}</p>'
        figures.append(
            f'<figure data-plot="{plot}">{body}'
            f"<figcaption>{escape(plot)}: {escape(caption)}</figcaption></figure>"
        )
    return f'<section id="plots"><h2>Plots</h2><div class="grid">{"".join(figures)}</div></section>'


def pool_agreement(candidates: pd.DataFrame, *, k: int = 10) -> pd.DataFrame:
    """The agreement of every pair of pools: :func:`nexio_lab.agreement` rows, one per pair.

    Candidates match by ``(entity, name)``; ``label_a``/``label_b`` name the two pools.

    >>> from nexio_lab.results import ResultSet
    >>> from nexio_lab.results._synthetic import synthetic_records
    >>> rs = ResultSet.from_records(synthetic_records(9, 4, seed=1))
    >>> pool_agreement(rs.candidates)[["label_a", "label_b"]].values.tolist()[0]
    ['carriers:all', 'carriers:tier1']
    """
    from ..results import agreement

    pools = _pool_names(candidates)
    frames = [
        agreement(_pool_diff(candidates, a, b, k)) for a, b in itertools.combinations(pools, 2)
    ]
    if not frames:
        return agreement(candidates.iloc[:0], candidates.iloc[:0], k=k).iloc[:0]
    return pd.concat(frames, ignore_index=True)


def _comparison_section(candidates: pd.DataFrame, k: int) -> str:
    table = pool_agreement(candidates, k=k)
    if table.empty:
        body = '<p class="note">One pool only: nothing to compare.</p>'
    else:
        shown = table[
            ["label_a", "label_b", "n_shared", "n_a_only", "n_b_only", "same_tier_share",
             "spearman", "kendall", "top_k_overlap"]
        ].rename(
            columns={
                "label_a": "pool A",
                "label_b": "pool B",
                "n_shared": "shortlisted by both",
                "n_a_only": "only in A",
                "n_b_only": "only in B",
                "same_tier_share": "same tier",
                "spearman": "Spearman",
                "kendall": "Kendall",
                "top_k_overlap": f"top-{k} overlap",
            }
        )  # fmt: skip
        body = _table(
            shown,
            table_id="agreement",
            formats={"same tier": _percent, f"top-{k} overlap": _percent,
                     "Spearman": _decimal, "Kendall": _decimal},
        )  # fmt: skip
    return (
        '<section id="comparison"><h2>Pool comparison</h2>'
        '<p class="meta">Candidates matched by (entity, name). Same tier: share of the '
        "candidates shortlisted by both pools with the same tier in both. Spearman and "
        "Kendall: rank correlations over those. Top-k overlap: Jaccard index of the "
        f"candidates ranked within the first {k} on each side "
        "(<code>nexio_lab.agreement</code>).</p>"
        f"{body}</section>"
    )


def _top_section(results: Any, segment_by: str, per_segment: int) -> str:
    top = top_candidates(
        results.candidates, results.evaluations, by=segment_by, per_segment=per_segment
    )
    body = (
        _table(top.rename(columns={"segment": segment_by}), table_id="top", text=("reasoning",))
        if len(top)
        else '<p class="note">No candidates.</p>'
    )
    return (
        f'<section id="top"><h2>Top candidates per {escape(segment_by)}</h2>'
        f'<p class="meta">The {per_segment} best of each {escape(segment_by)}: best tier, '
        f"then best rank, then highest confidence.</p>{body}</section>"
    )


def _errors_section(errors: pd.DataFrame) -> str:
    shown = errors.head(ERRORS_SHOWN)
    more = len(errors) - len(shown)
    if errors.empty:
        body = '<p class="note">No errors: every row completed.</p>'
    else:
        body = _table(shown, table_id="errors-table", text=("error_message",))
        if more > 0:
            body += f'<p class="note">… and {more:,} more rows.</p>'
    return (
        f'<section id="errors"><h2>Errors ({len(errors):,})</h2>'
        f'<p class="meta">Rows that did not complete, with the reason.</p>{body}</section>'
    )


# Pieces -----------------------------------------------------------------------------------
def _pool_names(candidates: pd.DataFrame) -> list[str]:
    return sorted(str(p) for p in candidates["pool"].dropna().unique())


def _pool_diff(candidates: pd.DataFrame, a: str, b: str, k: int) -> pd.DataFrame:
    from ..results import compare

    pool = candidates["pool"]
    side_a = candidates[pool.eq(a).fillna(False).to_numpy(dtype=bool)]
    side_b = candidates[pool.eq(b).fillna(False).to_numpy(dtype=bool)]
    return compare(side_a, side_b, k=k, on=("entity", "name"), labels=(a, b))


def _entity_in_both(diff: pd.DataFrame) -> str | None:
    both = diff[diff["present"].eq("both").to_numpy(dtype=bool)]["entity"].dropna()
    return str(both.iloc[0]) if len(both) else None


def _first_completed(evaluations: pd.DataFrame) -> str | None:
    done = evaluations[evaluations["n_candidates"].fillna(0).to_numpy() > 0]
    done = done.sort_values(["row", "pool"])["eval_id"].dropna()
    return str(done.iloc[0]) if len(done) else None


def _svg_img(draw: Callable[[Axes], Any], alt: str) -> str | None:
    """The drawing as an ``<img>`` of an inline SVG; ``None`` when there is nothing to draw."""
    import matplotlib
    from matplotlib.figure import Figure

    fig = Figure(figsize=(9, 5.5), layout="constrained")
    try:
        with matplotlib.rc_context({"svg.fonttype": "path", "svg.hashsalt": "nexio-lab"}):
            draw(fig.add_subplot())
            buffer = io.BytesIO()
            fig.savefig(buffer, format="svg", metadata={"Date": None})
    except ValueError:
        return None
    finally:
        fig.clear()
    encoded = base64.b64encode(buffer.getvalue()).decode("ascii")
    return f'<img alt="{escape(alt)}" src="data:image/svg+xml;base64,{encoded}">'


def _time(value: Any) -> str:
    return pd.Timestamp(value).strftime("%Y-%m-%d %H:%M:%S UTC")


def _percent(value: Any) -> str:
    return "" if pd.isna(value) else f"{float(value):.0%}"


def _decimal(value: Any) -> str:
    if pd.isna(value):
        return ""
    shown = f"{float(value):.2f}"
    return "0.00" if shown == "-0.00" else shown  # a tiny negative is not a finding


def _cell(value: Any) -> str:
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return ""
    if isinstance(value, float):
        return f"{value:,.1f}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


def _table(
    frame: pd.DataFrame,
    *,
    table_id: str,
    formats: dict[str, Callable[[Any], str]] | None = None,
    text: Sequence[str] = (),
) -> str:
    """``frame`` as an escaped HTML table; numbers right-aligned, long texts wrapped."""
    formats = formats or {}
    numeric = {c for c in frame.columns if pd.api.types.is_numeric_dtype(frame[c].dtype)}
    head = "".join(f"<th>{escape(str(c))}</th>" for c in frame.columns)
    rows = []
    for values in frame.astype(object).itertuples(index=False, name=None):
        cells = []
        for column, value in zip(frame.columns, values, strict=True):
            shown = formats[column](value) if column in formats else _cell(value)
            kind = "num" if column in numeric else "text" if column in text else ""
            cls = f' class="{kind}"' if kind else ""
            cells.append(f"<td{cls}>{escape(shown)}</td>")
        rows.append(f"<tr>{''.join(cells)}</tr>")
    return (
        f'<table id="{escape(table_id)}"><thead><tr>{head}</tr></thead>'
        f"<tbody>{''.join(rows)}</tbody></table>"
    )
