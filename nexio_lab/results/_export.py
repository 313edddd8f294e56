"""Write the results tables as Parquet or CSV, and read either back with the contract dtypes.

Next to the tables sits ``nexio-results.json``: the format, the contract version, the
dimensions and every column's dtype (with categories). Parquet needs none of it (pyarrow
keeps dtypes); CSV uses it to re-type what it read, and falls back on the column contract
when the file is missing (e.g. CSVs made by hand).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Literal

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

__all__ = ["METADATA_FILE", "read_results", "write_results"]

METADATA_FILE = "nexio-results.json"
Format = Literal["parquet", "csv"]


def write_results(results: Any, directory: str | Path, fmt: Format) -> Path:
    """Write ``results``' three tables and the metadata file into ``directory``."""
    out = Path(directory)
    out.mkdir(parents=True, exist_ok=True)
    frames = {name: getattr(results, name) for name in TABLES}
    for name, frame in frames.items():
        path = out / f"{name}.{fmt}"
        if fmt == "parquet":
            frame.to_parquet(path, index=False, engine="pyarrow")
        else:
            # ISO 8601 with offset keeps UTC times unambiguous; utf-8 keeps non-ASCII.
            frame.to_csv(path, index=False, encoding="utf-8", date_format="%Y-%m-%dT%H:%M:%S.%f%z")
    metadata = {
        "format": fmt,
        "contract_version": CONTRACT_VERSION,
        "dimensions": list(results.dimensions),
        "dtypes": {
            name: {str(col): _dtype_spec(dtype) for col, dtype in frame.dtypes.items()}
            for name, frame in frames.items()
        },
    }
    (out / METADATA_FILE).write_text(json.dumps(metadata, indent=1), encoding="utf-8")
    return out


def read_results(directory: str | Path) -> Any:
    """Read tables written by ``to_parquet`` or ``to_csv`` (auto-detected) as a ResultSet.

    >>> import tempfile
    >>> from nexio_lab.results import ResultSet
    >>> path = ResultSet.from_records([]).to_csv(tempfile.mkdtemp())
    >>> read_results(path).candidates.columns[:3].tolist()
    ['row', 'eval_id', 'entity']
    """
    from ._resultset import ResultSet

    src = Path(directory)
    metadata: dict[str, Any] = {}
    if (src / METADATA_FILE).is_file():
        metadata = json.loads((src / METADATA_FILE).read_text(encoding="utf-8"))
    fmt = metadata.get("format")
    if fmt not in ("parquet", "csv"):
        fmt = next((f for f in ("parquet", "csv") if (src / f"evaluations.{f}").is_file()), None)
    if fmt is None or not (src / f"evaluations.{fmt}").is_file():
        raise FileNotFoundError(
            f"no evaluations.parquet or evaluations.csv in {src}: not a results directory"
        )
    frames: dict[str, pd.DataFrame] = {}
    for name in TABLES:
        path = src / f"{name}.{fmt}"
        specs = metadata.get("dtypes", {}).get(name, {})
        if fmt == "parquet":
            frames[name] = _restore_categories(pd.read_parquet(path, engine="pyarrow"), specs)
        else:
            frames[name] = _read_csv(path, specs)
    dimensions = tuple(metadata.get("dimensions") or _dimensions_of(frames["candidates"]))
    if fmt == "csv" and not metadata.get("dtypes"):
        _retype_by_contract(frames, dimensions)
    evaluations = frames["evaluations"]
    errors = evaluations.loc[
        evaluations["status"].ne("completed").fillna(True).to_numpy(dtype=bool),
        list(ERROR_COLUMNS),
    ].reset_index(drop=True)
    tables = Tables(evaluations, frames["candidates"], frames["scores"], errors, dimensions)
    return ResultSet(tables=tables)


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


def _read_csv(path: Path, specs: dict[str, dict[str, Any]]) -> pd.DataFrame:
    # Everything as text first (empty -> NA), then each column to its recorded dtype.
    raw = pd.read_csv(path, dtype="string", keep_default_na=False, na_values=[""], encoding="utf-8")
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
