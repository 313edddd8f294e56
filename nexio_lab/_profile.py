"""Profiles made JSON-safe before they cost a request.

Analysts hand over pandas rows: numpy and pandas scalars, NaN, NA, NaT, Timestamps. The API
wants plain JSON. Everything convertible is converted; everything else is a ProfileError naming
the field, raised before any request is spent.
"""

from __future__ import annotations

import datetime as dt
import decimal
import math
from collections.abc import Mapping
from typing import Any, Literal

from ._exceptions import ProfileError

__all__ = ["MissingPolicy", "prepare_profile"]

#: What a missing value (NaN, None-like NA, NaT) becomes: JSON null, or an error.
MissingPolicy = Literal["null", "error"]


def _is_missing(value: Any) -> bool:
    if value is None:
        return False  # None is a legitimate JSON null, not a "missing" marker
    if isinstance(value, float):
        return math.isnan(value)
    # pandas.NA, pandas.NaT and numpy NaN scalars, without importing pandas eagerly
    type_name = type(value).__name__
    if type_name in {"NAType", "NaTType"}:
        return True
    if type_name.startswith("float") and hasattr(value, "dtype"):
        return bool(value != value)
    return False


def _to_json(value: Any, path: str, missing: MissingPolicy) -> Any:
    if value is None or isinstance(value, bool | str):
        return value
    if _is_missing(value):
        if missing == "error":
            raise ProfileError("is missing (NaN/NA/NaT); fill it in or drop the field", field=path)
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        if math.isinf(value):
            raise ProfileError("is infinite, which JSON cannot carry", field=path)
        return value
    if hasattr(value, "dtype") and hasattr(value, "item") and getattr(value, "ndim", 0) == 0:
        return _to_json(value.item(), path, missing)  # numpy scalar -> Python scalar
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()  # pandas.Timestamp is a datetime subclass
    if isinstance(value, decimal.Decimal):
        return _to_json(float(value), path, missing)
    if isinstance(value, Mapping):
        out = {}
        for key, item in value.items():
            if not isinstance(key, str):
                raise ProfileError(f"has a non-string key {key!r}", field=path)
            out[key] = _to_json(item, f"{path}.{key}", missing)
        return out
    if isinstance(value, list | tuple):
        return [_to_json(item, f"{path}[{i}]", missing) for i, item in enumerate(value)]
    if isinstance(value, bytes | bytearray):
        raise ProfileError("is bytes; decode it to text first", field=path)
    raise ProfileError(
        f"has a value of type {type(value).__name__} that JSON cannot carry", field=path
    )


def prepare_profile(profile: Any, *, missing: MissingPolicy = "null") -> dict[str, Any]:
    """Return a JSON-safe copy of ``profile`` or raise :class:`ProfileError`.

    >>> import numpy as np
    >>> prepare_profile({"entity": "acme", "revenue": np.int64(12), "state": float("nan")})
    {'entity': 'acme', 'revenue': 12, 'state': None}
    """
    if not isinstance(profile, Mapping):
        raise ProfileError(f"a profile must be a mapping of fields, not {type(profile).__name__}")
    out: dict[str, Any] = {}
    for key, value in profile.items():
        if not isinstance(key, str):
            raise ProfileError(
                f"field names must be strings, not {type(key).__name__}", field=str(key)
            )
        out[key] = _to_json(value, key, missing)
    entity = out.get("entity")
    if not isinstance(entity, str) or not entity.strip():
        problem = "is missing" if entity is None else "must be a non-empty string"
        raise ProfileError(f"{problem} (every profile needs a unique entity name)", field="entity")
    return out
