"""Write the results tables as Parquet or CSV, locally or to any fsspec URL, and read them back.

Layout: a folder (local path or URL such as ``s3://bucket/q4`` or ``memory://q4``) holding
``evaluations``, ``candidates`` and ``scores``, each ``<table>.parquet`` (or ``.csv``), or,
with ``partition_cols``, ``<table>/`` as a hive-partitioned Parquet dataset
(``<table>/pool=carriers%3Aall/<part>.parquet``) that DuckDB, Polars, Spark and pyarrow read
as one table. A path ending in ``.parquet`` or ``.csv`` names one file, not the folder of
three tables: it is refused before anything is written.

Parquet files describe themselves: each file's schema metadata holds, under the key
``nexio_lab``, the table's name, the contract version, the dimensions and every column's
dtype (with categories), so there is no sidecar file. A CSV file has no room for it: CSV
folders keep ``nexio-results.json`` beside the tables (CSV readers skip it), and are typed by
the column contract when it is missing (e.g. CSVs made by hand).

URLs and ``storage_options`` work as in pandas; a URL whose filesystem package is not
installed (``s3://`` without s3fs) fails naming the package, before anything is written.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Mapping, Sequence
from contextlib import ExitStack
from itertools import chain
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import pandas as pd

from ._columns import (
    CANDIDATE_COLUMNS,
    CONTRACT_VERSION,
    ERROR_COLUMNS,
    FIXED_DTYPES,
    TABLES,
    confidence_dtype,
    dimension_column,
    level_dtype,
    order_dimensions,
    tier_dtype,
)
from ._frames import Tables

if TYPE_CHECKING:
    from fsspec import AbstractFileSystem

    from ._resultset import ResultSet

__all__ = ["METADATA_FILE", "METADATA_KEY", "read_results", "write_chunks", "write_results"]

#: The CSV folder's sidecar (Parquet files carry the same in their schema metadata).
METADATA_FILE = "nexio-results.json"
#: The key of the Parquet schema metadata that holds the table's description.
METADATA_KEY = b"nexio_lab"
Format = Literal["parquet", "csv"]


def _filesystem(
    path: str | os.PathLike[str], storage_options: Mapping[str, Any] | None, doing: str
) -> tuple[AbstractFileSystem, str, bool]:
    """The fsspec filesystem of ``path``, the path inside it, and whether it is local."""
    import fsspec.core

    text = os.fspath(path)
    try:
        fs, root = fsspec.core.url_to_fs(text, **dict(storage_options or {}))
    except ImportError as exc:
        protocol = text.split("://", 1)[0]
        raise ImportError(
            f"cannot {doing} {text!r}: the {protocol}:// filesystem needs a package that is "
            f"not installed ({exc})"
        ) from exc
    except ValueError as exc:
        if "protocol" not in str(exc).lower():
            raise
        raise ValueError(f"cannot {doing} {text!r}: {exc} (fsspec has no such filesystem)") from exc
    local = "file" in (fs.protocol if isinstance(fs.protocol, tuple) else (fs.protocol,))
    return fs, root.rstrip("/") or root, local


def _join(root: str, name: str) -> str:
    return f"{root}/{name}" if root else name


def write_results(
    results: ResultSet,
    path: str | os.PathLike[str],
    fmt: Format,
    *,
    partition_cols: Sequence[str] | None = None,
    storage_options: Mapping[str, Any] | None = None,
) -> Path | str:
    """Write ``results``' three tables into the folder ``path``; return it.

    Returns a :class:`~pathlib.Path` for a local folder, else ``path`` as given.
    """
    return write_chunks(
        results.dimensions,
        [results.tables],
        path,
        fmt,
        partition_cols=partition_cols,
        storage_options=storage_options,
    )


def write_chunks(
    dimensions: Sequence[str],
    chunks: Iterable[Tables],
    path: str | os.PathLike[str],
    fmt: Format,
    *,
    partition_cols: Sequence[str] | None = None,
    storage_options: Mapping[str, Any] | None = None,
) -> Path | str:
    """Write the tables of ``chunks`` (built with one layout, so their columns and dtypes
    agree) one chunk after another: the files are those of the concatenated tables, and
    only one chunk is in memory at a time."""
    text = os.fspath(path)
    if text.rstrip("/").lower().endswith((".parquet", ".csv")):
        raise ValueError(
            f"{text!r} names one file, but the results are three tables "
            f"({', '.join(TABLES)}): give a folder, e.g. {text.rstrip('/').rsplit('.', 1)[0]!r}, "
            f"to get <folder>/evaluations.{fmt}, ...; for one table use pandas, e.g. "
            f"results.candidates.to_{fmt}({text!r})"
        )
    parts = list(partition_cols or ())
    if parts and fmt != "parquet":
        raise ValueError("partition_cols is for Parquet only")
    chunk_iter = iter(chunks)
    first = next(chunk_iter)
    for name in TABLES:
        frame = getattr(first, name)
        missing = [c for c in parts if c not in frame.columns]
        if missing:
            raise ValueError(
                f"cannot partition the {name} table by {missing}: no such column there "
                f"(partition columns must be in every table, e.g. pool, entity, row)"
            )
    fs, root, local = _filesystem(path, storage_options, "write to")
    fs.makedirs(root, exist_ok=True)
    dimension_list = list(dimensions)
    specs = {name: _dtype_specs(getattr(first, name)) for name in TABLES}
    with ExitStack() as stack:
        sinks: dict[str, _ParquetSink | _CsvSink] = {}
        for name in TABLES:
            if fmt == "parquet":
                # One form per table: a file replaces an earlier dataset folder, and the
                # reverse; a dataset folder is rewritten whole (no earlier partition survives).
                for stale in (_join(root, name), _join(root, f"{name}.parquet")):
                    if fs.exists(stale):
                        fs.rm(stale, recursive=True)
                sinks[name] = _ParquetSink(
                    name, dimension_list, specs[name], fs, root, local, parts
                )
            else:
                sinks[name] = _CsvSink(
                    stack.enter_context(
                        fs.open(_join(root, f"{name}.csv"), "w", encoding="utf-8", newline="")
                    )
                )
            stack.callback(sinks[name].close)
        for chunk in chain([first], chunk_iter):
            for name in TABLES:
                sinks[name].write(getattr(chunk, name))
    if fmt == "csv":
        metadata = {
            "format": fmt,
            "contract_version": CONTRACT_VERSION,
            "dimensions": dimension_list,
            "dtypes": specs,
        }
        with fs.open(_join(root, METADATA_FILE), "w", encoding="utf-8") as f:
            f.write(json.dumps(metadata, indent=1))
    if not local:
        return text
    return Path(root) if text.startswith("file://") else Path(text)


def _dtype_specs(frame: pd.DataFrame) -> dict[str, dict[str, Any]]:
    return {str(col): _dtype_spec(dtype) for col, dtype in frame.dtypes.items()}


class _CsvSink:
    """One CSV table, written a chunk at a time (the header with the first)."""

    def __init__(self, file: Any) -> None:
        self._file = file
        self._header = True

    def write(self, frame: pd.DataFrame) -> None:
        # ISO 8601 with offset keeps UTC times unambiguous; utf-8 keeps non-ASCII.
        frame.to_csv(
            self._file, index=False, header=self._header, date_format="%Y-%m-%dT%H:%M:%S.%f%z"
        )
        self._header = False

    def close(self) -> None:
        pass  # the file is closed by its own context


class _ParquetSink:
    """One Parquet table (a file, or a hive-partitioned dataset), written a chunk at a time."""

    def __init__(
        self,
        name: str,
        dimensions: list[str],
        specs: dict[str, dict[str, Any]],
        fs: AbstractFileSystem,
        root: str,
        local: bool,
        partition_cols: list[str],
    ) -> None:
        self._name, self._fs, self._root, self._parts = name, fs, root, partition_cols
        self._filesystem = None if local else fs
        self._described = json.dumps(
            {
                "table": name,
                "contract_version": CONTRACT_VERSION,
                "dimensions": dimensions,
                "dtypes": specs,
            }
        ).encode()
        self._writer: Any = None
        self._empty: Any = None  # the schema-only table, while no row was written
        self._rows_written = False

    def write(self, frame: pd.DataFrame) -> None:
        import pyarrow as pa
        import pyarrow.parquet as pq

        table = pa.Table.from_pandas(frame, preserve_index=False)
        table = table.replace_schema_metadata(
            {**(table.schema.metadata or {}), METADATA_KEY: self._described}
        )
        if not self._parts:
            if self._writer is None:
                self._writer = pq.ParquetWriter(
                    _join(self._root, f"{self._name}.parquet"),
                    table.schema,
                    filesystem=self._filesystem,
                )
            self._writer.write_table(table)
        elif table.num_rows == 0:
            if self._empty is None:
                self._empty = table
        else:
            pq.write_to_dataset(
                table,
                _join(self._root, self._name),
                partition_cols=self._parts,
                filesystem=self._filesystem,
            )
            self._rows_written = True

    def close(self) -> None:
        import pyarrow.parquet as pq

        if self._writer is not None:
            self._writer.close()
        elif self._parts and not self._rows_written and self._empty is not None:
            # An empty table has no partitions: one file with every column keeps it readable.
            self._fs.makedirs(_join(self._root, self._name), exist_ok=True)
            pq.write_table(
                self._empty,
                _join(self._root, f"{self._name}/part-0.parquet"),
                filesystem=self._filesystem,
            )


def read_results(
    path: str | os.PathLike[str], *, storage_options: Mapping[str, Any] | None = None
) -> ResultSet:
    """Read the folder ``to_parquet`` or ``to_csv`` wrote (auto-detected) as a ResultSet.

    ``path`` is a local folder or an fsspec URL (``s3://bucket/q4``, ``memory://q4``, ...;
    ``storage_options`` go to its filesystem). Parquet wins when a folder holds both
    formats. A partitioned dataset comes back in the contract's column order and dtypes,
    its rows sorted by ``row``, ``pool`` (and ``rank``).

    >>> import tempfile
    >>> from nexio_lab.results import ResultSet
    >>> path = ResultSet.from_records([]).to_parquet(tempfile.mkdtemp())
    >>> read_results(path).candidates.columns[:3].tolist()
    ['row', 'eval_id', 'entity']
    """
    from ._resultset import ResultSet

    fs, root, _ = _filesystem(path, storage_options, "read")
    shown = os.fspath(path)
    if fs.isfile(root):
        raise ValueError(
            f"{shown!r} is a file; read_results reads the folder that to_parquet/to_csv wrote "
            "(for one table use pd.read_parquet or pd.read_csv)"
        )
    if fs.exists(_join(root, "evaluations.parquet")) or fs.isdir(_join(root, "evaluations")):
        fmt: Format = "parquet"
    elif fs.exists(_join(root, "evaluations.csv")):
        fmt = "csv"
    else:
        raise FileNotFoundError(
            f"no evaluations.parquet, evaluations/ or evaluations.csv in {shown}: "
            "not a results directory"
        )
    frames: dict[str, pd.DataFrame] = {}
    dimensions: tuple[str, ...] | None = None
    if fmt == "parquet":
        for name in TABLES:
            frames[name], described = _read_parquet(fs, root, name)
            if described.get("dimensions") is not None:
                dimensions = tuple(described["dimensions"])
    else:
        metadata: dict[str, Any] = {}
        if fs.exists(_join(root, METADATA_FILE)):
            with fs.open(_join(root, METADATA_FILE), "r", encoding="utf-8") as f:
                metadata = json.loads(f.read())
        for name in TABLES:
            specs = metadata.get("dtypes", {}).get(name, {})
            with fs.open(_join(root, f"{name}.csv"), "rb") as f:
                frames[name] = _read_csv(f, specs)
        if metadata.get("dimensions") is not None:
            dimensions = tuple(metadata["dimensions"])
        if not metadata.get("dtypes"):
            dimensions = dimensions or _dimensions_of(frames["candidates"])
            _retype_by_contract(frames, dimensions)
    dimensions = dimensions if dimensions is not None else _dimensions_of(frames["candidates"])
    evaluations = frames["evaluations"]
    errors = evaluations.loc[
        evaluations["status"].ne("completed").fillna(True).to_numpy(dtype=bool),
        list(ERROR_COLUMNS),
    ].reset_index(drop=True)
    tables = Tables(evaluations, frames["candidates"], frames["scores"], errors, dimensions)
    return ResultSet(tables=tables)


def _read_parquet(
    fs: AbstractFileSystem, root: str, name: str
) -> tuple[pd.DataFrame, dict[str, Any]]:
    import pyarrow.dataset as pads
    import pyarrow.parquet as pq

    single = _join(root, f"{name}.parquet")
    partitioned = not fs.exists(single)
    if partitioned:
        # Plain (not dictionary) partition values: a missing one comes back as null.
        hive = pads.HivePartitioning.discover(infer_dictionary=False)
        table = pq.ParquetDataset(_join(root, name), filesystem=fs, partitioning=hive).read()
    else:
        table = pq.read_table(single, filesystem=fs)
    raw = (table.schema.metadata or {}).get(METADATA_KEY)
    described: dict[str, Any] = json.loads(raw) if raw else {}
    specs: dict[str, dict[str, Any]] = described.get("dtypes", {})
    frame = table.to_pandas()
    if partitioned:
        # Partition columns come back last and as categories: put back order and dtypes.
        for col in (c for c in specs if c in frame and _dtype_spec(frame[c].dtype) != specs[c]):
            frame[col] = _coerce(frame[col].astype("string"), specs[col])
        frame = frame[[c for c in specs if c in frame] + [c for c in frame if c not in specs]]
        keys = [c for c in ("row", "pool", "rank") if c in frame]
        frame = frame.sort_values(keys, kind="stable").reset_index(drop=True) if keys else frame
    return _restore_categories(frame, specs), described


def _dtype_spec(dtype: Any) -> dict[str, Any]:
    if isinstance(dtype, pd.CategoricalDtype):
        return {
            "kind": "category",
            "categories": [str(c) for c in dtype.categories],
            "ordered": bool(dtype.ordered),
        }
    return {"kind": str(dtype)}


def _restore_categories(frame: pd.DataFrame, specs: dict[str, dict[str, Any]]) -> pd.DataFrame:
    # Parquet drops the categories of an empty column; the metadata still has them.
    for col, spec in specs.items():
        if spec["kind"] == "category" and col in frame:
            dtype = pd.CategoricalDtype(spec["categories"], ordered=spec["ordered"])
            if frame[col].dtype != dtype:
                frame[col] = frame[col].astype(object).astype(dtype)
    return frame


def _read_csv(source: Any, specs: dict[str, dict[str, Any]]) -> pd.DataFrame:
    # Everything as text first (empty -> NA), then each column to its recorded dtype.
    raw = pd.read_csv(
        source, dtype="string", keep_default_na=False, na_values=[""], encoding="utf-8"
    )
    return pd.DataFrame({col: _coerce(raw[col], specs.get(col)) for col in raw.columns})


def _coerce(text: pd.Series, spec: dict[str, Any] | None) -> Any:
    """One CSV column (``string``) converted to the dtype ``spec`` describes."""
    if spec is None:
        return _infer(text)
    kind = spec["kind"]
    if kind == "category":
        dtype = pd.CategoricalDtype(spec["categories"], ordered=spec["ordered"])
        return pd.Categorical(text.astype(object).where(text.notna(), None), dtype=dtype)
    if kind.startswith("datetime64"):
        times = pd.to_datetime(text, utc=True, format="ISO8601")
        return times.astype(pd.api.types.pandas_dtype(kind))
    if kind == "boolean":
        return text.map({"True": True, "False": False}).astype("boolean")
    if kind == "string":
        return text
    try:
        return pd.to_numeric(text).astype(kind)
    except (TypeError, ValueError):
        return text


def _infer(text: pd.Series) -> Any:
    """A column with no recorded dtype: a number if every value parses, else text."""
    try:
        numbers = pd.to_numeric(text)
    except (TypeError, ValueError):
        return text
    if numbers.isna().all() and text.isna().all():
        return text
    as_int = numbers.dropna()
    if len(as_int) and (as_int == as_int.round()).all() and "." not in "".join(text.dropna()):
        return numbers.astype("Int64")
    return numbers.astype("float64")


def _dimensions_of(candidates: pd.DataFrame) -> tuple[str, ...]:
    extra = [c for c in candidates.columns if c not in CANDIDATE_COLUMNS]
    return order_dimensions(c.removesuffix("_level") if c.endswith("_level") else c for c in extra)


def _retype_by_contract(frames: dict[str, pd.DataFrame], dimensions: tuple[str, ...]) -> None:
    """Without metadata: fixed columns to their contract dtypes, levels and tiers categorical."""
    level_columns = {dimension_column(d) for d in dimensions} | {"level"}
    for frame in frames.values():
        for col in frame.columns:
            if col in FIXED_DTYPES:
                spec = _dtype_spec(pd.api.types.pandas_dtype(FIXED_DTYPES[col]))
            elif col in level_columns:
                spec = _dtype_spec(level_dtype())
            elif col == "tier":
                spec = _dtype_spec(tier_dtype(frame[col].dropna().astype(str)))
            elif col == "confidence":
                spec = _dtype_spec(confidence_dtype(frame[col].dropna().astype(str)))
            elif col == "dimension":
                spec = {"kind": "category", "categories": list(dimensions), "ordered": False}
            else:
                continue
            frame[col] = _coerce(frame[col].astype("string"), spec)
