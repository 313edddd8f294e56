"""Compact notebook HTML of one evaluation, in the core: pure strings, everything escaped."""

from __future__ import annotations

from collections.abc import Mapping
from html import escape
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ._models import Evaluation

__all__ = ["cell", "evaluation_html"]

#: Candidates shown in an evaluation's HTML; the rest are counted, not listed.
TOP = 5


def cell(value: Any) -> str:
    return "" if value is None else escape(str(value))


def evaluation_html(ev: Evaluation, top: int = TOP) -> str:
    """An evaluation as a small HTML table: id, status, pool, filter, the top candidates.

    >>> from nexio_lab import Evaluation
    >>> ev = Evaluation.from_json({"eval_id": "e<1>", "status": "completed",
    ...     "candidates": [{"name": "A & B", "tier": "STRONG_FIT", "confidence": "HIGH"}]})
    >>> "A &amp; B" in evaluation_html(ev) and "e&lt;1&gt;" in evaluation_html(ev)
    True
    """
    head = f"<b>Evaluation</b> <code>{cell(ev.eval_id)}</code> · status <b>{cell(ev.status)}</b>"
    if ev.pool_size is not None:
        head += f" · pool_size {cell(ev.pool_size)}"
    if ev.filtered is not None:
        head += f" · filtered {cell(ev.filtered)}"
    if ev.candidates:
        head += f" · {len(ev.candidates)} candidates"
    if isinstance(ev.error, Mapping) and ev.error:
        head += f" · error {cell(ev.error.get('code'))}: {cell(ev.error.get('message'))}"
    rows = "".join(
        f"<tr><td>{c.rank}</td><td>{cell(c.name)}</td><td>{cell(c.tier)}</td>"
        f"<td>{cell(c.confidence)}</td></tr>"
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
