"""Compact HTML for notebooks: a result set's summary. Everything escaped."""

from __future__ import annotations

from typing import Any

from .._display import cell as _cell

__all__ = ["resultset_html"]


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
