"""ResultSet: the tables of a batch (or of loaded files), with export, compare and plots."""

from __future__ import annotations

import os
from collections.abc import Callable, Hashable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from .._models import EvaluationRecord
from ._frames import Tables, build_tables

if TYPE_CHECKING:
    from ..plots import PlotAccessor

__all__ = ["ResultSet"]


class ResultSet:
    """The ``evaluations``, ``candidates``, ``scores`` and ``errors`` tables of some results.

    Tables are built once, on first access, from the records (see
    :mod:`nexio_lab.results._columns` for the column contract).

    >>> rs = ResultSet.from_records([])
    >>> rs.candidates.empty, list(rs.scores.columns)[-3:]
    (True, ['dimension', 'level', 'level_num'])
    """

    def __init__(
        self,
        records: Sequence[EvaluationRecord] | None = None,
        *,
        tables: Tables | None = None,
    ) -> None:
        if (records is None) == (tables is None):
            raise TypeError("pass exactly one of records or tables")
        self._records = list(records) if records is not None else None
        self._tables = tables
        self._build: Callable[[], Tables] | None = None

    @classmethod
    def _lazy(cls, build: Callable[[], Tables]) -> ResultSet:
        """A result set whose tables ``build()`` makes on first use (e.g. from a journal)."""
        results = cls([])
        results._build = build
        return results

    @classmethod
    def from_records(cls, records: Sequence[EvaluationRecord]) -> ResultSet:
        """A result set over a batch's records (tables are built lazily)."""
        return cls(records)

    @property
    def tables(self) -> Tables:
        """The four tables at once, built on first use (see :func:`nexio_lab.columns`)."""
        if self._tables is None:
            if self._build is not None:
                self._tables, self._build = self._build(), None
            else:
                self._tables = build_tables(self._records or [])
        return self._tables

    @property
    def evaluations(self) -> pd.DataFrame:
        """One row per (input row, pool)."""
        return self.tables.evaluations

    @property
    def candidates(self) -> pd.DataFrame:
        """One row per returned candidate, one level column per dimension."""
        return self.tables.candidates

    @property
    def scores(self) -> pd.DataFrame:
        """Long form: one row per (candidate, dimension)."""
        return self.tables.scores

    @property
    def errors(self) -> pd.DataFrame:
        """The evaluations that did not complete, with the reason."""
        return self.tables.errors

    @property
    def dimensions(self) -> tuple[str, ...]:
        """The dimensions of the ``candidates`` level columns, in column order."""
        return self.tables.dimensions

    # Export -------------------------------------------------------------------------------
    def to_parquet(
        self,
        path: str | os.PathLike[str],
        *,
        partition_cols: Sequence[str] | None = None,
        storage_options: Mapping[str, Any] | None = None,
    ) -> Path | str:
        """Write ``evaluations``, ``candidates`` and ``scores`` as Parquet into the folder ``path``.

        ``path`` is a local folder or an fsspec URL (``s3://bucket/q4``, ``memory://q4``;
        ``storage_options`` as in pandas). Each table is one file, readable alone by pandas,
        DuckDB, Polars or Spark; its schema metadata describes it, so no other file is
        written. ``partition_cols`` (columns of every table, e.g. ``["pool"]``) writes each
        table as a hive-partitioned dataset folder instead. A path ending in ``.parquet`` is
        refused: it names one file, and the results are three tables. Returns the folder (a
        Path when local, else ``path``); :func:`~nexio_lab.read_results` reads it back.

        >>> import tempfile
        >>> out = ResultSet.from_records([]).to_parquet(tempfile.mkdtemp())
        >>> sorted(p.name for p in out.iterdir())
        ['candidates.parquet', 'evaluations.parquet', 'scores.parquet']
        """
        from ._export import write_results

        return write_results(
            self,
            path,
            "parquet",
            partition_cols=partition_cols,
            storage_options=storage_options,
        )

    def to_csv(
        self,
        path: str | os.PathLike[str],
        *,
        storage_options: Mapping[str, Any] | None = None,
    ) -> Path | str:
        """Write ``evaluations/candidates/scores.csv`` (UTF-8) into the folder ``path``.

        As :meth:`to_parquet`; CSV cannot hold dtypes, so ``nexio-results.json`` beside the
        tables records them for :func:`~nexio_lab.read_results`.
        """
        from ._export import write_results

        return write_results(self, path, "csv", storage_options=storage_options)

    # Compare and plots --------------------------------------------------------------------
    def compare(
        self,
        other: Any = None,
        *,
        by: str | None = None,
        ref: Hashable | None = None,
        within: str | None = None,
        k: int = 10,
    ) -> pd.DataFrame:
        """Compare with another result set/batch/evaluation, or split this one on a column.

        ``rs.compare("pool")`` is ``compare(rs, by="pool")``; see :func:`compare`.
        """
        from ._compare import compare

        if isinstance(other, str) and by is None:
            other, by = None, other
        return compare(self, other, by=by, ref=ref, within=within, k=k)

    @property
    def plot(self) -> PlotAccessor:
        """Plots of this result set: ``rs.plot.tier_distribution(by="pool")``, ..."""
        from ..plots import PlotAccessor

        return PlotAccessor(self)

    # Display ------------------------------------------------------------------------------
    def summary(self) -> dict[str, Any]:
        """Counts: evaluations by status, candidates, candidates by tier."""
        evaluations, candidates = self.evaluations, self.candidates
        return {
            "evaluations": len(evaluations),
            "by_status": {
                str(k): int(v) for k, v in evaluations["status"].value_counts(sort=False).items()
            },
            "candidates": len(candidates),
            "by_tier": {
                str(k): int(v) for k, v in candidates["tier"].value_counts(sort=False).items() if v
            },
            "dimensions": list(self.dimensions),
        }

    def __repr__(self) -> str:
        s = self.summary()
        status = ", ".join(f"{k}={v}" for k, v in s["by_status"].items()) or "none"
        tiers = ", ".join(f"{k}={v}" for k, v in s["by_tier"].items()) or "none"
        return (
            f"<ResultSet evaluations={s['evaluations']} ({status}) "
            f"candidates={s['candidates']} tiers: {tiers}>"
        )

    def _repr_html_(self) -> str:
        from ._html import resultset_html

        return resultset_html(self.summary())
