"""Benchmark: a large batch's tables and export, chunked from the journal vs today's one-shot path.

A store of N synthetic evaluations (25 candidates each, written straight into a journal, no
server) is read back four ways, each in its own subprocess so peaks do not mix; the figure is
the child's peak RSS (``ru_maxrss``) beside the RSS it had after its imports:

- tables, today: every record parsed at once (``ResultSet.from_records(journal.records())``)
  from a journal that stores JSON text, as journals did before compression;
- tables, chunked: ``Batch.open(...).results`` (chunks of ``Batch.CHUNK`` evaluations) from a
  journal that stores compressed JSON;
- export, today: the one-shot tables written with ``to_parquet``;
- export, streamed: ``Batch.open(...).to_parquet`` straight from the journal.

Journal bytes per evaluation are the two stores' file sizes after a checkpoint, over N.

    python benchmarks/large.py                    # 50,000 evaluations
    python benchmarks/large.py --evaluations 2000 # smaller
    python benchmarks/large.py --smoke            # tiny (a test runs this so it cannot rot)
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
NAME = "large"
SLICE = 1000  # evaluations made and journaled at a time while building the store


def _rss_mb() -> float:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KB on Linux


def build_store(path: Path, n: int, candidates: int, compress: bool) -> int:
    """Journal ``n`` synthetic evaluations into ``path``; return the file's bytes."""
    from nexio_lab.batch._journal import Journal
    from nexio_lab.batch._synthetic import journal_records
    from nexio_lab.results._synthetic import synthetic_records

    journal = Journal(path)

    def records():  # a slice at a time, so building the store stays small too
        for start in range(0, n, SLICE):
            yield from synthetic_records(
                min(SLICE, n - start), candidates, seed=start, start=start, failed_every=50
            )

    journal_records(journal, NAME, records(), compress=compress)
    journal.close()
    with sqlite3.connect(path) as db:
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    return path.stat().st_size


def child(mode: str, store: str, out: str) -> dict[str, float]:
    """One measurement, in this (fresh) process."""
    import pandas as pd  # noqa: F401  (imports count in the floor, not in the figure)
    import pyarrow.parquet  # noqa: F401

    from nexio_lab.batch import Batch
    from nexio_lab.results import ResultSet

    floor = _rss_mb()
    started = time.perf_counter()
    batch = Batch.open(NAME, store)
    if mode.endswith("today"):
        results = ResultSet.from_records(list(batch.journal.records(NAME)))
    if mode == "tables-today":
        tables = results.tables
    elif mode == "tables-chunked":
        tables = batch.results.tables
    elif mode == "export-today":
        results.to_parquet(out)
    elif mode == "export-streamed":
        batch.to_parquet(out)
    else:
        raise ValueError(mode)
    figures = {"floor_mb": floor, "peak_mb": _peak_mb(), "wall_s": time.perf_counter() - started}
    if mode.startswith("tables"):
        figures["tables_mb"] = (
            sum(
                int(getattr(tables, t).memory_usage(deep=True).sum())
                for t in ("evaluations", "candidates", "scores", "errors")
            )
            / 2**20
        )
    return figures


def _run_child(mode: str, store: Path, out: Path) -> dict[str, float]:
    done = subprocess.run(
        [sys.executable, __file__, "--child", mode, str(store), str(out)],
        cwd=REPO,
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(REPO)},
        check=False,
    )
    if done.returncode:
        raise RuntimeError(f"{mode} failed: {done.stderr[-2000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--evaluations", type=int, default=50_000)
    parser.add_argument("--candidates", type=int, default=25)
    parser.add_argument("--smoke", action="store_true", help="tiny sizes")
    parser.add_argument(
        "--child", nargs=3, metavar=("MODE", "STORE", "OUT"), help=argparse.SUPPRESS
    )
    args = parser.parse_args(argv)
    if args.child:
        print(json.dumps(child(*args.child)))
        return 0
    if args.smoke:
        args.evaluations, args.candidates = 30, 5
    n = args.evaluations
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        text_bytes = build_store(root / "text.sqlite", n, args.candidates, compress=False)
        blob_bytes = build_store(root / "blob.sqlite", n, args.candidates, compress=True)
        with sqlite3.connect(root / "text.sqlite") as db:
            (json_bytes,) = db.execute("SELECT SUM(length(result)) FROM rows").fetchone()
        with sqlite3.connect(root / "blob.sqlite") as db:
            (zlib_bytes,) = db.execute("SELECT SUM(length(result)) FROM rows").fetchone()
        runs = {
            mode: _run_child(mode, root / store, root / f"out-{mode}")
            for mode, store in (
                ("tables-today", "text.sqlite"),
                ("tables-chunked", "blob.sqlite"),
                ("export-today", "text.sqlite"),
                ("export-streamed", "blob.sqlite"),
            )
        }
    print(f"{n:,} evaluations x {args.candidates} candidates (peak RSS of a fresh process each)")
    print(f"{'figure':<44} | {'today':>10} | {'chunked':>10} | ratio")

    def row(label: str, today: float, ours: float, unit: str) -> None:
        print(f"{label:<44} | {today:>7.1f} {unit} | {ours:>7.1f} {unit} | {ours / today:.2f}")

    def above_floor(run: dict[str, float]) -> float:
        return run["peak_mb"] - run["floor_mb"]

    t, c = runs["tables-today"], runs["tables-chunked"]
    row("tables: peak RSS", t["peak_mb"], c["peak_mb"], "MB")
    row("tables: peak RSS above the imports' floor", above_floor(t), above_floor(c), "MB")
    row("tables: their own size (memory_usage deep)", t["tables_mb"], c["tables_mb"], "MB")
    print(
        f"{'tables: (peak - floor) / own size':<44} | "
        f"{above_floor(t) / t['tables_mb']:>10.2f} | "
        f"{above_floor(c) / c['tables_mb']:>10.2f} |"
    )
    e, s = runs["export-today"], runs["export-streamed"]
    row("export to_parquet: peak RSS", e["peak_mb"], s["peak_mb"], "MB")
    row("export: peak RSS above the imports' floor", above_floor(e), above_floor(s), "MB")
    row("tables: wall time (chunked reads twice)", t["wall_s"], c["wall_s"], "s ")
    row("export: wall time", e["wall_s"], s["wall_s"], "s ")
    row("journal file bytes per evaluation", text_bytes / n / 1024, blob_bytes / n / 1024, "KB")
    row("result column bytes per evaluation", json_bytes / n / 1024, zlib_bytes / n / 1024, "KB")
    print(f"result compression ratio (JSON text / zlib): {json_bytes / zlib_bytes:.2f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
