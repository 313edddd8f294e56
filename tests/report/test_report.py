"""The one-file report of a real sandbox batch: its sections hold the tables' numbers."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path

import pandas as pd
import pytest

from nexio_lab import Client, compare
from nexio_lab.batch import Batch
from nexio_lab.explorer import top_candidates
from nexio_lab.report import pool_agreement, report_html, write_report
from nexio_lab.results import ResultSet
from nexio_lab.results._synthetic import synthetic_records

STATES = ("CA", "NY", "TX")


class _Tables(HTMLParser):
    """Every ``<table id=...>`` as a list of rows of cell texts (header row first)."""

    def __init__(self) -> None:
        super().__init__()
        self.tables: dict[str, list[list[str]]] = {}
        self.sections: list[str] = []
        self._table: list[list[str]] | None = None
        self._cell: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag == "section":
            self.sections.append(a.get("id") or "")
        elif tag == "table":
            self._table = self.tables.setdefault(a.get("id") or "", [])
        elif tag == "tr" and self._table is not None:
            self._table.append([])
        elif tag in ("td", "th") and self._table is not None:
            self._cell = []

    def handle_endtag(self, tag: str) -> None:
        if tag in ("td", "th") and self._cell is not None and self._table is not None:
            self._table[-1].append("".join(self._cell))
            self._cell = None
        elif tag == "table":
            self._table = None

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._cell.append(data)


def parse(html: str) -> _Tables:
    parser = _Tables()
    parser.feed(html)
    return parser


@pytest.fixture
def batch(sandbox, tmp_path: Path) -> Batch:
    """12 profiles x 2 pools against the sandbox; the row without an entity is an error."""
    profiles = [
        {"entity": f"acme-{i:02d}", "state": STATES[i % 3], "line": "cyber", "revenue": 2e6 * i}
        for i in range(12)
    ]
    profiles[5]["entity"] = ""
    client = Client(sandbox.api_key, base_url=sandbox.url)
    with client, pytest.warns(UserWarning, match="1 row"):
        return client.run_batch(
            profiles, pools=["carriers:all", "carriers:tier1"], name="q4",
            store=tmp_path / "journal.sqlite", progress=False,
        )  # fmt: skip


def test_report_sections_hold_the_tables_numbers(batch: Batch, sandbox, tmp_path: Path) -> None:
    path = batch.to_report(tmp_path / "out" / "q4.html")
    html = path.read_text(encoding="utf-8")
    doc = parse(html)
    assert doc.sections == ["summary", "plots", "comparison", "top", "errors"]
    assert "<title>Batch q4</title>" in html

    # rows by status: the batch's own counts, and their total
    status = dict(doc.tables["status"][1:])
    counts = batch.status_counts()
    assert {k: int(v) for k, v in status.items() if k != "total"} == counts
    assert int(status["total"]) == len(batch.evaluations) == 24
    assert counts["error"] == 2  # the row without an entity, on each pool

    # pools: evaluations, completed and candidates per pool
    pools = {row[0]: row[1:] for row in doc.tables["pools"][1:]}
    assert sorted(pools) == ["carriers:all", "carriers:tier1"]
    for pool, (n_eval, n_done, n_not, n_cand, _) in pools.items():
        ev = batch.evaluations[batch.evaluations["pool"] == pool]
        assert int(n_eval) == len(ev)
        assert int(n_done) == int((ev["status"] == "completed").sum())
        assert int(n_not) == len(ev) - int(n_done)
        assert int(n_cand) == int((batch.candidates["pool"] == pool).sum())

    # the six plots, each an inline SVG image
    plots = re.findall(r'<figure data-plot="(\w+)"><img alt="[^"]*" src="data:image/svg\+xml', html)
    assert plots == [
        "tier_distribution", "dimension_profile", "funnel", "score_heatmap", "rank_shift",
        "tier_transition",
    ]  # fmt: skip

    # the agreement of the two pools: compare()'s own figures
    c = batch.candidates
    summary = compare(
        c[c["pool"] == "carriers:all"], c[c["pool"] == "carriers:tier1"], on=["entity", "name"]
    ).attrs["summary"]
    header, row = doc.tables["agreement"]
    shown = dict(zip(header, row, strict=True))
    assert shown["shortlisted by both"] == str(summary.n_shared)
    assert shown["only in A"] == str(summary.n_a_only)
    assert shown["same tier"] == f"{summary.same_tier_share:.0%}"
    assert shown["Spearman"] == f"{summary.spearman:.2f}"
    assert shown["top-10 overlap"] == f"{summary.top_k_overlap:.0%}"

    # top candidates: 3 per state, as top_candidates ranks them
    top = top_candidates(c, batch.evaluations, by="profile_state", per_segment=3)
    rows = doc.tables["top"][1:]
    assert [r[0] for r in rows] == top["segment"].tolist()
    assert [r[4] for r in rows] == top["name"].tolist()
    assert doc.tables["top"][0][-1] == "reasoning" and all(r[-1] for r in rows)

    # errors: every row that did not complete, with its reason
    errors = doc.tables["errors-table"]
    assert len(errors) - 1 == len(batch.errors) == 2
    assert all("entity" in r[-1] for r in errors[1:])  # the message names the field

    # one file: nothing to fetch, nothing run, no key
    assert sandbox.api_key not in html
    assert "nx_test_" not in html and "<script" not in html and "<link" not in html
    assert not re.search(r'(src|href)="(?!data:|#)', html)
    assert "@media print" in html


def test_report_of_a_result_set_without_two_pools_or_errors(tmp_path: Path) -> None:
    rs = ResultSet.from_records(synthetic_records(9, 4, seed=2, pools=["only"]))
    html = write_report(rs, tmp_path / "r.html", title="Q4 <draft>").read_text(encoding="utf-8")
    assert "<title>Q4 &lt;draft&gt;</title>" in html
    doc = parse(html)
    assert "agreement" not in doc.tables
    assert "One pool only: nothing to compare." in html
    assert html.count("needs two pools; this batch has only") == 2
    assert "No errors: every row completed." in html
    top = doc.tables["top"]
    assert top[0][0] == "profile_state"


def test_pool_agreement_covers_every_pair_of_pools() -> None:
    rs = ResultSet.from_records(synthetic_records(30, 5, seed=4))
    table = pool_agreement(rs.candidates, k=5)
    assert table[["label_a", "label_b"]].values.tolist() == [
        ["carriers:all", "carriers:tier1"],
        ["carriers:all", "providers:network"],
        ["carriers:tier1", "providers:network"],
    ]
    assert table["k"].tolist() == [5, 5, 5]
    assert pd.api.types.is_float_dtype(table["same_tier_share"])
    assert "<table" in report_html(rs)
