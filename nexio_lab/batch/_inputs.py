"""Profiles in: a DataFrame, a list of mappings, or a CSV / JSONL / Parquet file.

Files are read in chunks, so a 100,000-row file is never held whole as a DataFrame. Every
row is made JSON-safe (see ``_profile.py``); a row that cannot be is reported with its row
number and field, and the others go on.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .._exceptions import NexioError, ProfileError
from .._profile import MissingPolicy, prepare_profile

__all__ = ["InputError", "InputRow", "read_profiles"]

_CHUNK = 5_000


class InputError(NexioError, ValueError):
    """The input as a whole cannot be used (missing file, no entity column, not UTF-8...)."""


@dataclass(frozen=True, slots=True)
class InputRow:
    """One input row: its JSON-safe profile, or the reason it was rejected."""

    row: int
    profile: dict[str, Any] | None
    error: ProfileError | None = None


def _records_from_frame(frame: Any, offset: int = 0) -> Iterator[tuple[int, dict[str, Any]]]:
    columns = [str(c) for c in frame.columns]
    # itertuples keeps numpy scalar types; prepare_profile turns them into plain JSON
    for i, values in enumerate(frame.itertuples(index=False, name=None)):
        yield offset + i, dict(zip(columns, values, strict=True))


def _check_columns(columns: Iterable[Any], source: str) -> None:
    if "entity" not in {str(c) for c in columns}:
        raise InputError(
            f"{source} has no 'entity' column (field 'entity' is required in every profile); "
            f"columns found: {', '.join(map(str, columns)) or 'none'}"
        )


def _read_csv(path: Path) -> Iterator[tuple[int, dict[str, Any]]]:
    import pandas as pd

    offset = 0
    try:
        # utf-8-sig drops a BOM; only empty cells are missing ("NA" may be a real entity name)
        reader = pd.read_csv(
            path, chunksize=_CHUNK, encoding="utf-8-sig", keep_default_na=False, na_values=[""]
        )
        for chunk in reader:
            if offset == 0:
                _check_columns(chunk.columns, str(path))
            yield from _records_from_frame(chunk, offset)
            offset += len(chunk)
    except UnicodeDecodeError as exc:
        raise InputError(
            f"{path} is not UTF-8 text (a byte at position {exc.start} cannot be decoded); "
            "re-save it as UTF-8"
        ) from exc
    except pd.errors.EmptyDataError as exc:
        raise InputError(f"{path} is empty: no header and no profiles") from exc
    except pd.errors.ParserError as exc:
        raise InputError(f"{path} is not a well-formed CSV file: {exc}") from exc


def _read_jsonl(path: Path) -> Iterator[tuple[int, dict[str, Any]]]:
    try:
        with path.open(encoding="utf-8-sig") as lines:
            row = 0
            for line in lines:
                if not line.strip():
                    continue
                try:
                    value = json.loads(line)
                except ValueError as exc:
                    raise InputError(f"{path}, row {row}: not a JSON object ({exc})") from exc
                yield row, value
                row += 1
    except UnicodeDecodeError as exc:
        raise InputError(f"{path} is not UTF-8 text; re-save it as UTF-8") from exc


def _read_parquet(path: Path) -> Iterator[tuple[int, dict[str, Any]]]:
    import pyarrow.parquet as pq

    source = pq.ParquetFile(path)
    _check_columns(source.schema_arrow.names, str(path))
    offset = 0
    for chunk in source.iter_batches(batch_size=_CHUNK):
        frame = chunk.to_pandas()
        yield from _records_from_frame(frame, offset)
        offset += len(frame)


def _raw_rows(profiles: Any) -> Iterator[tuple[int, Any]]:
    if isinstance(profiles, str | os.PathLike):
        path = Path(profiles)
        if not path.is_file():
            raise InputError(f"no such file: {path}")
        suffix = path.suffix.lower()
        if suffix in {".csv", ".txt"}:
            return _read_csv(path)
        if suffix in {".jsonl", ".ndjson"}:
            return _read_jsonl(path)
        if suffix in {".parquet", ".pq"}:
            return _read_parquet(path)
        raise InputError(f"{path}: unknown format {suffix!r}; use .csv, .jsonl or .parquet")
    if hasattr(profiles, "itertuples") and hasattr(profiles, "columns"):
        _check_columns(profiles.columns, "the DataFrame")
        return _records_from_frame(profiles)
    if isinstance(profiles, Mapping):
        raise InputError("pass a list of profiles (or a DataFrame / file), not one profile")
    if isinstance(profiles, Iterable):
        return enumerate(profiles)
    raise InputError(f"cannot read profiles from a {type(profiles).__name__}")


def read_profiles(profiles: Any, *, missing: MissingPolicy = "null") -> Iterator[InputRow]:
    """Yield every input row, validated, in order; raise :class:`InputError` for the whole.

    >>> [r.error.field for r in read_profiles([{"entity": "a"}, {"state": "CA"}]) if r.error]
    ['entity']
    """
    count = 0
    for row, raw in _raw_rows(profiles):
        count += 1
        try:
            yield InputRow(row, prepare_profile(raw, missing=missing))
        except ProfileError as exc:
            yield InputRow(row, None, exc.with_row(row))
    if count == 0:
        raise InputError("the input holds no profiles")
