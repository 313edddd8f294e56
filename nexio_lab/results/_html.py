"""Compact HTML for notebooks: one evaluation, or a result set's summary. Everything escaped."""

from __future__ import annotations

from collections.abc import Mapping
from html import escape
from typing import Any

from .._models import Evaluation

__all__ = ["evaluation_html", "resultset_html"]

#: Candidates shown in an evaluation's HTML; the rest are counted, not listed.
TOP = 5


def _cell(value: Any) -> str:
    return "" if value is None else escape(str(value))


def evaluation_html(ev: Evaluation, top: int = TOP) -> str:
    """An evaluation as a small HTML table: id, status, pool, filter, the top candidates.

    >>> ev = Evaluation.from_json({"eval_id": "e<1>", "status": "completed",
    ...     "candidates": [{"name": "A & B", "tier": "STRONG_FIT", "confidence": "HIGH"}]})
    >>> "A &amp; B" in evaluation_html(ev) and "e&lt;1&gt;" in evaluation_html(ev)
    True
    """
    head = f"<b>Evaluation</b> <code>{_cell(ev.eval_id)}</code> · status <b>{_cell(ev.status)}</b>"
    if ev.pool_size is not None:
        head += f" · pool_size {_cell(ev.pool_size)}"
    if ev.filtered is not None:
        head += f" · filtered {_cell(ev.filtered)}"
    if ev.candidates:
        head += f" · {len(ev.candidates)} candidates"
    if isinstance(ev.error, Mapping) and ev.error:
        head += f" · error {_cell(ev.error.get('code'))}: {_cell(ev.error.get('message'))}"
    rows = "".join(
        f"<tr><td>{c.rank}</td><td>{_cell(c.name)}</td><td>{_cell(c.tier)}</td>"
        f"<td>{_cell(c.confidence)}</td></tr>"
        for c in ev.candidates[:top]
    )
    more = len(ev.candidates) - top
    if more > 0:
        rows += f'<tr><td colspan="4"><i>… {more} more</i></td></tr>'
    table = (
        "<table><thead><tr><th>rank</th><th>name</th><th>tier</th><th>confidence</th></tr>"
        f"</thead><tbody>{rows}</tbody></table>"
        if rows
        else ""
    )
    return f'<div class="nexio-evaluation"><div>{head}</div>{table}</div>'


def resultset_html(summary: dict[str, Any]) -> str:
    """A result set's counts (from ``ResultSet.summary()``) as a small HTML table."""

    def counts(mapping: dict[str, int]) -> str:
        return ", ".join(f"{_cell(k)}: {int(v)}" for k, v in mapping.items()) or "none"

    rows = [
        ("evaluations", f"{int(summary['evaluations'])} ({counts(summary['by_status'])})"),
        ("candidates", str(int(summary["candidates"]))),
        ("tiers", counts(summary["by_tier"])),
        ("dimensions", ", ".join(_cell(d) for d in summary["dimensions"])),
    ]
    body = "".join(f"<tr><th>{name}</th><td>{value}</td></tr>" for name, value in rows)
    return f'<div class="nexio-results"><b>ResultSet</b><table>{body}</table></div>'
