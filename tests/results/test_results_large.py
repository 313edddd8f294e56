"""Large results: tables built and exported in chunks from the journal equal the one-shot ones,
the journal compresses results (and still reads old TEXT ones), and memory is bounded by the
chunk, not by the batch."""

from __future__ import annotations

import json
import sqlite3
import tracemalloc
from dataclasses import replace
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq
import pytest

from nexio_lab import Client
from nexio_lab._models import EvaluationRecord
from nexio_lab.batch import Batch
from nexio_lab.batch._journal import Journal, decode_result
from nexio_lab.batch._synthetic import journal_records
from nexio_lab.results import ResultSet
from nexio_lab.results._frames import Tables, build_tables, build_tables_chunked
from nexio_lab.results._synthetic import synthetic_records


def _assert_tables_equal(got: Tables, want: Tables) -> None:
    for name in ("evaluations", "candidates", "scores", "errors"):
        pd.testing.assert_frame_equal(getattr(got, name), getattr(want, name), obj=name)
    assert got.dimensions == want.dimensions


def _mixed_records(odd: list[EvaluationRecord]) -> list[EvaluationRecord]:
    """Synthetic rows plus odd ones whose layout differs from chunk to chunk: an unknown tier
    and an extra dimension late, a profile field that is an int early and text later,
    failures, and a duplicate-free spread of pools."""
    records = synthetic_records(23, 4, seed=3, failed_every=5)
    extra = [replace(r, row=100 + i) for i, r in enumerate(odd)]
    late = records[-1]
    assert late.result is not None
    cands = [dict(c) for c in late.result["candidates"]]
    cands[0] = {**cands[0], "tier": "ZZ_LATE_TIER", "scores": {**cands[0]["scores"], "zeta": "L2"}}
    records[-1] = replace(
        late,
        profile={**late.profile, "revenue": "unknown", "late_field": True},
        result={**late.result, "candidates": cands},
    )
    return records + extra


@pytest.mark.parametrize("chunk", [1, 7, 10_000])
def test_chunked_tables_equal_one_shot_on_synthetic_data(
    tmp_path: Path, chunk: int, odd_records: list[EvaluationRecord]
) -> None:
    journal = Journal(tmp_path / "j.sqlite")
    journal_records(journal, "b", _mixed_records(odd_records))
    want = build_tables(list(journal.records("b")))
    got = build_tables_chunked(lambda: journal.iter_records("b", chunk=chunk))
    _assert_tables_equal(got, want)
    # the odd layout really spans chunks: late tier and dimension, profile int -> text
    assert "ZZ_LATE_TIER" in want.candidates["tier"].cat.categories
    assert "zeta" in want.dimensions
    assert want.evaluations["profile_revenue"].dtype == "string"


def test_journal_chunks_read_what_records_reads(
    tmp_path: Path, odd_records: list[EvaluationRecord]
) -> None:
    journal = Journal(tmp_path / "j.sqlite")
    journal_records(journal, "b", _mixed_records(odd_records))
    journal_records(journal, "other", synthetic_records(5, 2, seed=9))
    whole = list(journal.records("b"))
    for chunk in (1, 7, 10_000):
        pages = list(journal.iter_records("b", chunk=chunk))
        assert all(len(p) <= chunk for p in pages)
        assert [r for p in pages for r in p] == whole
    with pytest.raises(ValueError, match="chunk"):
        next(journal.iter_records("b", chunk=0))


def test_results_are_compressed_and_old_text_journals_still_read(tmp_path: Path) -> None:
    records = synthetic_records(40, 25, seed=1)
    new, old = Journal(tmp_path / "new.sqlite"), Journal(tmp_path / "old.sqlite")
    journal_records(new, "b", records)
    journal_records(old, "b", records, compress=False)  # as journals before compression
    for path in ("new.sqlite", "old.sqlite"):
        with sqlite3.connect(tmp_path / path) as db:
            kinds = {k for (k,) in db.execute("SELECT DISTINCT typeof(result) FROM rows")}
            sizes = db.execute("SELECT SUM(length(result)) FROM rows").fetchone()[0]
        assert kinds == ({"blob"} if path == "new.sqlite" else {"text"})
        if path == "new.sqlite":
            compressed = sizes
        else:
            text = sizes
    assert text / compressed > 3  # several times smaller (the benchmark prints the ratio)
    assert list(new.records("b")) == list(old.records("b"))
    assert [r.result for r in new.records("b")] == [r.result for r in records]
    _assert_tables_equal(
        build_tables_chunked(lambda: old.iter_records("b", chunk=7)),
        build_tables(list(new.records("b"))),
    )
    assert decode_result(None) is None


def test_update_row_stores_a_compressed_result(tmp_path: Path) -> None:
    journal = Journal(tmp_path / "j.sqlite")
    journal_records(journal, "b", synthetic_records(1, 2, seed=1))
    result = {"eval_id": "e1", "status": "completed", "candidates": [], "note": "café"}
    journal.update_row("b", 0, "carriers:all", "completed", result=result)
    with sqlite3.connect(tmp_path / "j.sqlite") as db:
        (stored,) = db.execute("SELECT result FROM rows WHERE row = 0").fetchone()
    assert isinstance(stored, bytes) and b"caf" not in stored
    assert next(iter(journal.records("b"))).result == result


def _read_export(folder: Path, fmt: str) -> dict[str, object]:
    out: dict[str, object] = {}
    for name in ("evaluations", "candidates", "scores"):
        if fmt == "parquet":
            table = pq.read_table(folder / f"{name}.parquet")
            out[name] = (table.schema.metadata, table.to_pandas())
        else:
            out[name] = (folder / f"{name}.csv").read_bytes()
    if fmt == "csv":
        out["meta"] = json.loads((folder / "nexio-results.json").read_text())
    return out


@pytest.mark.parametrize("fmt", ["parquet", "csv"])
def test_streamed_export_equals_the_one_shot_export(
    tmp_path: Path, fmt: str, odd_records: list[EvaluationRecord]
) -> None:
    store = tmp_path / "j.sqlite"
    journal_records(Journal(store), "b", _mixed_records(odd_records))
    batch = Batch.open("b", store)
    batch.CHUNK = 7  # several chunks, split oddly
    streamed = Path(getattr(batch, f"to_{fmt}")(tmp_path / "streamed"))
    one_shot = ResultSet.from_records(batch.records())
    getattr(one_shot, f"to_{fmt}")(tmp_path / "one-shot")
    got, want = _read_export(streamed, fmt), _read_export(tmp_path / "one-shot", fmt)
    for name in want:
        if fmt == "parquet":
            (got_meta, got_frame), (want_meta, want_frame) = got[name], want[name]  # type: ignore[misc]
            assert got_meta == want_meta, name
            pd.testing.assert_frame_equal(got_frame, want_frame, obj=name)
        else:
            assert got[name] == want[name], name
    if fmt == "parquet":  # streamed in pieces: more than one row group
        assert pq.ParquetFile(streamed / "candidates.parquet").num_row_groups > 1


def test_streamed_partitioned_export_reads_back_equal(
    tmp_path: Path, odd_records: list[EvaluationRecord]
) -> None:
    from nexio_lab import read_results

    store = tmp_path / "j.sqlite"
    journal_records(Journal(store), "b", _mixed_records(odd_records))
    batch = Batch.open("b", store)
    batch.CHUNK = 7
    batch.to_parquet(tmp_path / "streamed", partition_cols=["pool"])
    ResultSet.from_records(batch.records()).to_parquet(tmp_path / "one", partition_cols=["pool"])
    got, want = read_results(tmp_path / "streamed"), read_results(tmp_path / "one")
    for name in ("evaluations", "candidates", "scores"):
        pd.testing.assert_frame_equal(getattr(got, name), getattr(want, name), obj=name)


def test_sandbox_batch_chunked_equals_one_shot(sandbox, tmp_path: Path) -> None:
    profiles = [
        {"entity": f"e{i}", "state": "CA" if i % 2 else "TX", "revenue": 1_000_000 + i}
        for i in range(9)
    ]
    profiles[4]["industry"] = "logistics"
    profiles.append(dict(profiles[0]))  # a duplicate row mirrors its original
    with pytest.warns(UserWarning, match="identical"):
        batch = Client(sandbox.api_key, base_url=sandbox.url).run_batch(
            profiles,
            pools=["carriers:all", "providers:network"],
            name="large",
            store=tmp_path / "j.sqlite",
            progress=False,
        )
    want = build_tables(batch.records())
    assert len(want.evaluations) == 20 and len(want.candidates) > 0
    for chunk in (1, 7, 1000):
        got = build_tables_chunked(lambda c=chunk: batch.journal.iter_records("large", chunk=c))
        _assert_tables_equal(got, want)
    _assert_tables_equal(batch.results.tables, want)  # what Batch.results builds, chunked


def _export_peak(tmp_path: Path, n: int, chunk: int) -> int:
    """Peak traced allocation (bytes) while a batch of ``n`` evaluations streams to Parquet."""
    store = tmp_path / f"j{n}.sqlite"
    journal_records(Journal(store), "b", synthetic_records(n, 25, seed=2))
    batch = Batch.open("b", store)
    batch.CHUNK = chunk
    tracemalloc.start()
    try:
        batch.to_parquet(tmp_path / f"out{n}")
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
        batch.journal.close()


def test_streamed_export_memory_follows_the_chunk_not_the_batch(tmp_path: Path) -> None:
    # The parsed JSON of a chunk is what Python allocates (tracemalloc sees it; Arrow's own
    # buffers are outside it). One chunk's batch gives the per-chunk peak p1; a batch of 16
    # chunks must stay under 2 * p1 (p1 holds everything a chunk costs, and the surrounding
    # constant costs are in p1 too, so a bounded stream sits near 1x), while parsing all 16
    # chunks at once would need about 16 * p1.
    chunk = 40
    p1 = _export_peak(tmp_path, chunk, chunk)
    p16 = _export_peak(tmp_path, 16 * chunk, chunk)
    assert p16 < 2 * p1, (p1, p16)
