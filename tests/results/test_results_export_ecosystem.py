"""Export that other tools read: fsspec URLs, Parquet metadata in the schema, partitioned
datasets, and the same files read by pandas, DuckDB and Polars with tiers in the right order."""

from __future__ import annotations

import json
import sys
import uuid
from pathlib import Path

import duckdb
import fsspec
import pandas as pd
import polars as pl
import pyarrow.parquet as pq
import pytest
from fsspec.implementations.memory import MemoryFileSystem
from pandas.testing import assert_frame_equal

import nexio_lab
from nexio_lab import read_results
from nexio_lab._models import TIERS
from nexio_lab.results import ResultSet
from nexio_lab.results._columns import CONTRACT_VERSION
from nexio_lab.results._export import METADATA_KEY

TABLES = ("evaluations", "candidates", "scores", "errors")
SQL = duckdb.connect()


def assert_same_tables(a: ResultSet, b: ResultSet) -> None:
    for name in TABLES:
        assert_frame_equal(getattr(a, name), getattr(b, name), obj=name)
    assert a.dimensions == b.dimensions


def sorted_tables(rs: ResultSet) -> dict[str, pd.DataFrame]:
    keys = {"evaluations": ["row", "pool"], "candidates": ["row", "pool", "rank"]}
    keys["scores"] = ["row", "pool", "rank", "dimension"]
    return {
        name: rs_table.sort_values(keys[name], kind="stable").reset_index(drop=True)
        for name in keys
        for rs_table in [getattr(rs, name)]
    }


@pytest.fixture
def memory_url() -> str:
    url = f"memory://nexio-test-{uuid.uuid4().hex}/q4"
    yield url
    fs = MemoryFileSystem()
    root = url.removeprefix("memory://").split("/")[0]
    if fs.exists(f"/{root}"):
        fs.rm(f"/{root}", recursive=True)


# fsspec URLs -------------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["parquet", "csv"])
def test_memory_url_round_trips_and_writes_nothing_locally(
    fmt: str, odd: ResultSet, memory_url: str, tmp_path: Path, monkeypatch
) -> None:
    monkeypatch.chdir(tmp_path)
    written = getattr(odd, f"to_{fmt}")(memory_url)
    assert written == memory_url  # a URL comes back as given, not as a local Path
    assert list(tmp_path.iterdir()) == []  # no folder named "memory:" here
    fs = MemoryFileSystem()
    names = sorted(
        p.rsplit("/", 1)[-1] for p in fs.ls(memory_url.removeprefix("memory://"), detail=False)
    )
    expected = [f"{t}.{fmt}" for t in ("candidates", "evaluations", "scores")]
    assert names == (expected if fmt == "parquet" else sorted([*expected, "nexio-results.json"]))
    back = read_results(memory_url)
    assert isinstance(back, ResultSet)
    assert_same_tables(odd, back)
    # pandas reads the same URL alone
    alone = getattr(pd, f"read_{fmt}")(f"{memory_url}/candidates.{fmt}")
    assert len(alone) == len(odd.candidates)


def test_a_url_whose_filesystem_is_missing_fails_naming_the_package(
    odd: ResultSet, tmp_path: Path, monkeypatch
) -> None:
    monkeypatch.chdir(tmp_path)
    # s3fs is not a dependency; make sure it cannot be imported even where it is installed
    monkeypatch.setitem(sys.modules, "s3fs", None)
    monkeypatch.delitem(sys.modules["fsspec.registry"]._registry, "s3", raising=False)
    with pytest.raises(ImportError, match=r"cannot write to 's3://bucket/q4'.*s3fs"):
        odd.to_parquet("s3://bucket/q4")
    with pytest.raises(ImportError, match=r"cannot write to 's3://bucket/q4'.*s3fs"):
        odd.to_csv("s3://bucket/q4")
    with pytest.raises(ImportError, match=r"cannot read 's3://bucket/q4'.*s3fs"):
        read_results("s3://bucket/q4")
    with pytest.raises(ValueError, match=r"Protocol not known: nope"):
        odd.to_parquet("nope://bucket/q4")
    assert list(tmp_path.iterdir()) == []  # never a local folder named "s3:"


class RecordingFileSystem(MemoryFileSystem):
    """A memory filesystem that remembers the options it was made with."""

    protocol = "recording"
    made_with: list[dict[str, object]] = []  # noqa: RUF012 (shared on purpose)

    def __init__(self, *args: object, **options: object) -> None:
        RecordingFileSystem.made_with.append(dict(options))
        super().__init__()


def test_storage_options_reach_the_filesystem(odd: ResultSet) -> None:
    fsspec.register_implementation("recording", RecordingFileSystem, clobber=True)
    url = f"recording://nexio-{uuid.uuid4().hex}/q4"
    try:
        odd.to_parquet(url, storage_options={"token": "t-1", "anon": False})
        back = read_results(url, storage_options={"token": "t-2"})
    finally:
        RecordingFileSystem().rm(url.rsplit("/", 1)[0], recursive=True)
    assert {"token": "t-1", "anon": False} in RecordingFileSystem.made_with
    assert {"token": "t-2"} in RecordingFileSystem.made_with
    assert_same_tables(odd, back)


# One file per table, metadata inside ---------------------------------------------------------


def test_a_path_ending_in_parquet_is_refused_before_writing(odd: ResultSet, tmp_path: Path) -> None:
    for fmt in ("parquet", "csv"):
        target = tmp_path / f"q4.{fmt}"
        with pytest.raises(ValueError, match=r"names one file.*give a folder, e.g. '.*q4'"):
            getattr(odd, f"to_{fmt}")(target)
        assert not target.exists()
    # the folder form works, and read_results says what to do with one table's file
    out = odd.to_parquet(tmp_path / "q4")
    with pytest.raises(ValueError, match="is a file; read_results reads the folder"):
        read_results(out / "candidates.parquet")


def test_each_parquet_file_describes_itself(odd: ResultSet, tmp_path: Path) -> None:
    out = odd.to_parquet(tmp_path)
    for name in ("evaluations", "candidates", "scores"):
        schema = pq.read_schema(out / f"{name}.parquet")
        described = json.loads(schema.metadata[METADATA_KEY])
        assert described["table"] == name
        assert described["contract_version"] == CONTRACT_VERSION
        assert described["dimensions"] == list(odd.dimensions)
        assert list(described["dtypes"]) == list(getattr(odd, name).columns)
        # and pandas reads the file alone, with the contract dtypes
        alone = pd.read_parquet(out / f"{name}.parquet")
        assert_frame_equal(alone, getattr(odd, name), check_categorical=False)
    tier = json.loads(pq.read_schema(out / "candidates.parquet").metadata[METADATA_KEY])
    tier = tier["dtypes"]["tier"]
    assert tier["categories"] == [*TIERS, "SUPER_FIT"] and tier["ordered"]


def test_empty_categories_come_back_from_the_schema_metadata(tmp_path: Path, odd) -> None:
    # no candidate has a tier: Parquet alone would lose the categories
    none = ResultSet(tables=odd.tables._replace(candidates=odd.candidates.iloc[[2]]))
    back = read_results(none.to_parquet(tmp_path))
    assert back.candidates["tier"].dtype == odd.candidates["tier"].dtype


# DuckDB and Polars ---------------------------------------------------------------------------


def test_duckdb_and_polars_read_each_table_with_tiers_in_order(
    batch_like: ResultSet, odd: ResultSet, tmp_path: Path
) -> None:
    out = batch_like.to_parquet(tmp_path / "batch")
    for name in ("evaluations", "candidates", "scores"):
        path = str(out / f"{name}.parquet")
        n = len(getattr(batch_like, name))
        assert SQL.execute(f"SELECT count(*) FROM '{path}'").fetchone() == (n,)
        assert pl.read_parquet(path).height == n

    odd_out = odd.to_parquet(tmp_path / "odd")
    path = str(odd_out / "candidates.parquet")
    by_num = SQL.execute(
        f"SELECT tier FROM '{path}' WHERE tier IS NOT NULL ORDER BY tier_num"
    ).fetchall()
    assert [t for (t,) in by_num] == ["STRONG_FIT", "WEAK_FIT", "SUPER_FIT"]  # unknown last
    # which is why tier_num exists: DuckDB reads tier as text and sorts it alphabetically
    by_text = SQL.execute(f"SELECT tier FROM '{path}' WHERE tier IS NOT NULL ORDER BY tier")
    assert [t for (t,) in by_text.fetchall()] == ["STRONG_FIT", "SUPER_FIT", "WEAK_FIT"]
    frame = pl.read_parquet(path).drop_nulls("tier").sort("tier_num")
    assert frame["tier"].cast(pl.String).to_list() == ["STRONG_FIT", "WEAK_FIT", "SUPER_FIT"]

    # every tier of the batch, in TIERS order, from both readers
    cands = str(out / "candidates.parquet")
    duck = SQL.execute(f"SELECT DISTINCT tier, tier_num FROM '{cands}' ORDER BY tier_num")
    assert [t for t, _ in duck.fetchall()] == list(TIERS)
    polars_order = (
        pl.read_parquet(cands).select("tier", "tier_num").unique().sort("tier_num")["tier"]
    )
    assert polars_order.cast(pl.String).to_list() == list(TIERS)


def test_partitioned_dataset_reads_as_one_table_everywhere(
    batch_like: ResultSet, tmp_path: Path
) -> None:
    out = batch_like.to_parquet(tmp_path / "q4", partition_cols=["pool"])
    pools = sorted(batch_like.evaluations["pool"].unique())
    assert len(pools) > 1
    for name in ("evaluations", "candidates", "scores"):
        folder = out / name
        assert sorted(p.name for p in folder.iterdir()) == sorted(
            "pool=" + p.replace(":", "%3A") for p in pools
        )
        n = len(getattr(batch_like, name))
        glob = f"{folder}/**/*.parquet"
        duck = SQL.execute(
            "SELECT count(*), count(DISTINCT pool) "
            f"FROM read_parquet('{glob}', hive_partitioning=true)"
        )
        assert duck.fetchone() == (n, len(pools))
        polars = pl.scan_parquet(glob, hive_partitioning=True).collect()
        assert polars.height == n and sorted(polars["pool"].unique().to_list()) == pools
        assert len(pd.read_parquet(folder)) == n
        assert pq.ParquetDataset(folder, partitioning="hive").read().num_rows == n
    # read_results puts back column order, dtypes and row order
    back = read_results(out)
    for name, frame in sorted_tables(back).items():
        assert_frame_equal(frame, sorted_tables(batch_like)[name], obj=name)
    assert back.dimensions == batch_like.dimensions


def test_partitioned_rewrite_leaves_no_stale_rows(batch_like: ResultSet, tmp_path: Path) -> None:
    out = tmp_path / "q4"
    batch_like.to_parquet(out, partition_cols=["pool"])
    first_pool = batch_like.evaluations["pool"].iloc[0]
    keep = batch_like.evaluations["pool"].eq(first_pool).to_numpy(dtype=bool)
    ev = batch_like.evaluations[keep].reset_index(drop=True)
    cand = batch_like.candidates[batch_like.candidates["pool"].eq(first_pool).to_numpy(dtype=bool)]
    scores = batch_like.scores[batch_like.scores["pool"].eq(first_pool).to_numpy(dtype=bool)]
    part = ResultSet(
        tables=batch_like.tables._replace(
            evaluations=ev,
            candidates=cand.reset_index(drop=True),
            scores=scores.reset_index(drop=True),
        )
    )
    part.to_parquet(out, partition_cols=["pool"])
    back = read_results(out)
    assert set(back.evaluations["pool"]) == {first_pool}
    assert len(back.candidates) == len(cand)
    # and a later unpartitioned write replaces the dataset folders
    batch_like.to_parquet(out)
    assert sorted(p.name for p in out.iterdir()) == [
        "candidates.parquet",
        "evaluations.parquet",
        "scores.parquet",
    ]
    assert len(read_results(out).candidates) == len(batch_like.candidates)
    # CSV written beside a partitioned dataset leaves the dataset alone
    batch_like.to_parquet(out, partition_cols=["pool"])
    batch_like.to_csv(out)
    assert (out / "candidates").is_dir() and (out / "candidates.csv").is_file()
    assert len(read_results(out).candidates) == len(batch_like.candidates)


def test_partition_columns_must_be_in_every_table(odd: ResultSet, tmp_path: Path) -> None:
    with pytest.raises(
        ValueError, match=r"cannot partition the candidates table by \['profile_state'\]"
    ):
        odd.to_parquet(tmp_path / "q4", partition_cols=["profile_state"])
    with pytest.raises(ValueError, match="partition_cols is for Parquet only"):
        from nexio_lab.results._export import write_results

        write_results(odd, tmp_path / "q4", "csv", partition_cols=["pool"])
    assert not (tmp_path / "q4").exists()


def test_empty_results_partitioned_round_trip(tmp_path: Path) -> None:
    empty = ResultSet.from_records([])
    back = read_results(empty.to_parquet(tmp_path / "q4", partition_cols=["pool"]))
    assert_same_tables(empty, back)


def test_partitions_on_missing_values_and_numbers_round_trip(tmp_path: Path) -> None:
    ev = nexio_lab.Evaluation.from_json(
        {
            "eval_id": "e1",
            "status": "completed",
            "candidates": [{"name": "X", "tier": "STRONG_FIT", "scores": {"appetite": "L1"}}],
        }
    )
    rs = nexio_lab.to_frames([ev, ev, ev], pools=["a", None, "b"])
    for column in ("pool", "row"):
        out = rs.to_parquet(tmp_path / column, partition_cols=[column])
        assert_same_tables(rs, read_results(out))
    # the missing pool is hive's default partition, a null for DuckDB too
    glob = f"{tmp_path / 'pool'}/evaluations/**/*.parquet"
    nulls = SQL.execute(
        f"SELECT count(*) FROM read_parquet('{glob}', hive_partitioning=true) WHERE pool IS NULL"
    )
    assert nulls.fetchone() == (1,)
