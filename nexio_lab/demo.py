"""The demo: the shipped profiles against two pools of an embedded sandbox, start to finish.

No key and no network: a sandbox runs in this process on loopback. :func:`run_demo` writes
the three tables as Parquet and CSV, PNGs of the comparison plots and the one-file HTML
report ``report.html``, and returns a :class:`DemoResult` whose
:meth:`~DemoResult.summary` is what ``nexio-lab demo`` prints.

>>> from nexio_lab.demo import run_demo                      # doctest: +SKIP
>>> result = run_demo("demo-out", rows=40, progress=False)   # doctest: +SKIP
>>> print(result.summary())                                  # doctest: +SKIP
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ._exceptions import NexioError

if TYPE_CHECKING:
    import pandas as pd

    from .batch import Batch
    from .results import CompareSummary, ResultSet

__all__ = ["DEMO_POOLS", "DemoResult", "run_demo", "shipped_profiles"]

#: The two pools the demo compares: every carrier, and the majors.
DEMO_POOLS = ("carriers:all", "carriers:tier1")
#: Sandbox settings: evaluations take 15-60 s / SPEED (0.5-2 s) and the limit binds a little,
#: so the progress display has something to show and the whole run stays short.
SPEED = 30.0
RATE_LIMIT = 150
RATE_WINDOW_S = 1.0
SEED = 7
BATCH_NAME = "demo"
JOURNAL_FILE = "journal.sqlite"


def shipped_profiles() -> Path:
    """The bundled ``profiles.csv``: inside an installed package, else the checkout's ``data/``.

    >>> shipped_profiles().name
    'profiles.csv'
    """
    packaged = resources.files("nexio_lab") / "data" / "profiles.csv"
    if packaged.is_file():
        return Path(str(packaged))
    checkout = Path(__file__).resolve().parents[1] / "data" / "profiles.csv"
    if checkout.is_file():
        return checkout
    raise NexioError(
        "the demo's profiles.csv is missing (neither nexio_lab/data/ nor the checkout's data/)"
    )


@dataclass
class DemoResult:
    """What :func:`run_demo` made and where it went."""

    out_dir: Path
    batch: Batch
    agreement: CompareSummary | None
    files: dict[str, list[Path]] = field(default_factory=dict)
    wall_s: float = 0.0

    @property
    def results(self) -> ResultSet:
        return self.batch.results

    def summary(self) -> str:
        """A few lines: counts, agreement between the pools, where the files went."""
        ev, cand = self.results.evaluations, self.results.candidates
        counts = {s: n for s, n in self.batch.status_counts().items() if n}
        lines = [
            f"{len(ev)} evaluations ({len(ev) // max(1, len(DEMO_POOLS))} profiles x "
            f"{len(DEMO_POOLS)} pools) in {self.wall_s:.1f} s: "
            + ", ".join(f"{n} {s}" for s, n in counts.items()),
            f"{len(cand)} candidates shortlisted; tiers: "
            + ", ".join(
                f"{tier} {n}" for tier, n in cand["tier"].value_counts(sort=False).items() if n
            ),
        ]
        if self.agreement is not None:
            a = self.agreement
            lines.append(
                f"{a.label_a} vs {a.label_b}: {a.n_shared} candidates shortlisted by both "
                f"({a.n_a_only} only in {a.label_a}, {a.n_b_only} only in {a.label_b}); "
                f"same tier {a.same_tier_share:.0%}, Spearman {a.spearman:.2f}, "
                f"Kendall {a.kendall:.2f}, top-{a.k} overlap {a.top_k_overlap:.0%}"
            )
        for kind, paths in self.files.items():
            where = sorted({str(p.parent) for p in paths})
            lines.append(f"{kind}: {', '.join(p.name for p in paths)} in {', '.join(where)}")
        return "\n".join(lines)


def run_demo(
    out_dir: str | Path = "demo-out",
    *,
    rows: int | None = None,
    pools: Sequence[str] = DEMO_POOLS,
    progress: Any = "auto",
    speed: float = SPEED,
    seed: int = SEED,
) -> DemoResult:
    """Run the demo into ``out_dir``: tables (``parquet/``, ``csv/``), ``plots/*.png`` and
    ``report.html``.

    ``rows`` takes the first N shipped profiles (all 240 by default). The journal lives in
    ``out_dir`` and starts fresh on every run: each run has its own sandbox, whose eval_ids
    a previous run's journal would not find.
    """
    import pandas as pd

    from . import Client, compare, sandbox

    started = time.monotonic()
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    for suffix in ("", "-wal", "-shm"):
        (out / f"{JOURNAL_FILE}{suffix}").unlink(missing_ok=True)
    profiles = pd.read_csv(shipped_profiles(), keep_default_na=False, na_values=[""])
    if rows is not None:
        profiles = profiles.head(rows)

    with (
        sandbox.run(speed=speed, rate_limit=RATE_LIMIT, rate_window=RATE_WINDOW_S, seed=seed) as sb,
        Client(sb.api_key, base_url=sb.url) as client,
    ):
        batch = client.run_batch(
            profiles,
            pools=list(pools),
            name=BATCH_NAME,
            store=out / JOURNAL_FILE,
            progress=progress,
        )
    results = batch.results
    result = DemoResult(out_dir=out, batch=batch, agreement=None)
    result.files["parquet"] = _tables_in(Path(results.to_parquet(out / "parquet")), "parquet")
    result.files["csv"] = _tables_in(Path(results.to_csv(out / "csv")), "csv")
    if len(set(results.candidates["pool"].dropna())) == 2:
        result.agreement = compare(results, by="pool").attrs["summary"]
    result.files["plots"] = _save_plots(results, out / "plots")
    result.files["report"] = [batch.to_report(out / "report.html")]
    result.wall_s = time.monotonic() - started
    return result


def _tables_in(directory: Path, suffix: str) -> list[Path]:
    return sorted(directory.glob(f"*.{suffix}"))


def _plots(results: ResultSet) -> dict[str, Callable[[Any], Any]]:
    """Name -> draw(ax) of each plot the demo saves."""
    plot = results.plot
    two_pools = len(set(results.candidates["pool"].dropna())) == 2
    first = _first_completed(results.evaluations)
    plots: dict[str, Callable[[Any], Any]] = {
        "tier_distribution": lambda ax: plot.tier_distribution(by="pool", ax=ax),
        "dimension_profile": lambda ax: plot.dimension_profile(by="pool", ax=ax),
        "dimension_profile_by_state": lambda ax: plot.dimension_profile(
            by="profile_state", top_n=6, ax=ax
        ),
        "funnel": lambda ax: plot.funnel(by="pool", ax=ax),
    }
    if first is not None:
        plots["score_heatmap"] = lambda ax: plot.score_heatmap(first, ax=ax)
    if two_pools:
        plots["tier_transition"] = lambda ax: plot.tier_transition(by="pool", ax=ax)
        entity = _entity_in_both(results.candidates)
        if entity is not None:
            plots["rank_shift"] = lambda ax: plot.rank_shift(by="pool", entity=entity, ax=ax)
    return plots


def _save_plots(results: ResultSet, directory: Path) -> list[Path]:
    # A bare Figure draws with Agg and never touches pyplot's global state or backend,
    # so run_demo behaves the same in a terminal, a script and a notebook.
    from matplotlib.figure import Figure

    directory.mkdir(parents=True, exist_ok=True)
    saved = []
    for name, draw in _plots(results).items():
        fig = Figure(figsize=(9, 6), layout="constrained")
        draw(fig.add_subplot())
        path = directory / f"{name}.png"
        fig.savefig(path, dpi=100)
        saved.append(path)
    return saved


def _first_completed(evaluations: pd.DataFrame) -> str | None:
    done = evaluations[evaluations["status"].eq("completed").fillna(False).to_numpy(bool)]
    done = done[done["n_candidates"].fillna(0).to_numpy() > 0].sort_values(["row", "pool"])
    return None if done.empty else str(done["eval_id"].iloc[0])


def _entity_in_both(candidates: pd.DataFrame) -> str | None:
    """The first entity (by input row) that both pools shortlisted candidates for."""
    per_entity = candidates.groupby("entity", observed=True)["pool"].nunique()
    both = set(per_entity[per_entity >= 2].index)
    ordered = candidates.sort_values("row")["entity"].drop_duplicates()
    return next((str(e) for e in ordered if e in both), None)
