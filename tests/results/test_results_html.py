"""Notebook HTML of an evaluation: compact, everything escaped."""

from __future__ import annotations

from nexio_lab._display import evaluation_html
from nexio_lab._models import Evaluation


def test_evaluation_html_lists_the_top_candidates_escaped() -> None:
    ev = Evaluation.from_json(
        {
            "eval_id": "eval_<x>",
            "status": "completed",
            "pool_size": 1847,
            "filtered": 53,
            "candidates": [
                {"name": f"Carrier & Sons {i}", "tier": "STRONG_FIT", "confidence": "HIGH"}
                for i in range(8)
            ]
            + [{"name": "<script>alert(1)</script>"}],
        }
    )
    html = ev._repr_html_()
    assert html == evaluation_html(ev)
    assert "eval_&lt;x&gt;" in html and "<x>" not in html
    assert "pool_size 1847" in html and "filtered 53" in html and "9 candidates" in html
    assert html.count("<tr><td>") == 5 and "Carrier &amp; Sons 4" in html
    assert "Carrier &amp; Sons 5" not in html and "… 4 more" in html
    assert "<script>" not in html


def test_failed_evaluation_html_shows_the_error() -> None:
    ev = Evaluation.from_json(
        {"eval_id": "e1", "status": "failed", "error": {"code": "boom", "message": "a<b"}}
    )
    html = evaluation_html(ev)
    assert "status <b>failed</b>" in html and "error boom: a&lt;b" in html
    assert "<table>" not in html
