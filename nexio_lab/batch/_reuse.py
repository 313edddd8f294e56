"""Reuse across batches: a completed result for the same (profile, pool) and base URL, from
any batch of the store and recent enough, stands in for a new billed evaluation.

"The same profile" is the same fingerprint: the profile as the client sends it (JSON-safe,
numpy scalars as plain numbers, NaN as the ``missing`` policy says), serialised with sorted
keys, and the pool (see ``_journal.fingerprint``).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta

from .._exceptions import NexioError
from ._journal import Journal

__all__ = ["ReuseChoice", "apply_reuse", "count_reusable", "describe_age", "parse_reuse"]

#: ``reuse=``: False/None (off), True (any age), a number of seconds, a timedelta, or text
#: such as ``"7d"``, ``"12h"``, ``"30m"``, ``"90s"``, ``"2w"``.
ReuseChoice = bool | int | float | str | timedelta | None

_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}
_AGE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhdw])\s*$", re.IGNORECASE)


def parse_reuse(reuse: ReuseChoice) -> timedelta | bool:
    """``False`` when off, ``True`` for any age, else the maximum age.

    >>> parse_reuse("7d"), parse_reuse(True), parse_reuse(None)
    (datetime.timedelta(days=7), True, False)
    """
    if reuse is None or reuse is False:
        return False
    if reuse is True:
        return True
    if isinstance(reuse, timedelta):
        age = reuse
    elif isinstance(reuse, int | float):
        age = timedelta(seconds=float(reuse))
    elif isinstance(reuse, str) and (m := _AGE.match(reuse)):
        age = timedelta(seconds=float(m.group(1)) * _UNITS[m.group(2).lower()])
    elif isinstance(reuse, str) and reuse.strip().lower() in {"true", "any", "all"}:
        return True
    else:
        raise NexioError(
            f"reuse must be True, False, or an age such as '7d', '12h' or '30m', not {reuse!r}"
        )
    if age <= timedelta(0):
        raise NexioError(f"reuse age must be positive, not {reuse!r}")
    return age


def describe_age(age: timedelta | bool) -> str:
    """``'the last 7 days'``-style text for a parsed reuse choice."""
    if age is True or age is False:
        return "any earlier batch"
    seconds = age.total_seconds()
    for unit, size in (("day", 86400), ("hour", 3600), ("minute", 60)):
        if seconds >= size and seconds % size == 0:
            n = int(seconds // size)
            return f"the last {n} {unit}{'s' if n != 1 else ''}"
    return f"the last {seconds:g} seconds"


def _since(age: timedelta | bool) -> str | None:
    if age is True or age is False:
        return None
    return (datetime.now(UTC) - age).isoformat()


def count_reusable(
    journal: Journal | None,
    fingerprints: Iterable[str],
    base_url: str | None,
    age: timedelta | bool,
) -> int:
    """How many of ``fingerprints`` have a completed result reuse could take."""
    if journal is None or base_url is None:
        return 0
    since = _since(age)
    return sum(journal.reuse_source(fp, base_url, since) is not None for fp in fingerprints)


def apply_reuse(journal: Journal, name: str, base_url: str, age: timedelta | bool) -> int:
    """Fill the never-sent rows of ``name`` from earlier results; return how many."""
    if age is False:
        return 0
    since = _since(age)
    reused = 0
    for row, pool, fp in journal.reusable_rows(name):
        source = journal.reuse_source(fp, base_url, since)
        if source is not None:
            journal.mark_reused(name, row, pool, source)
            reused += 1
    return reused
