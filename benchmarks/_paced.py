"""Scenarios 1-4: the limit binds (on each kind of window), latency binds, webhooks, and
the clients users write instead.

Every run of every client (nexio-lab, nexio-lab with webhooks, (a) the vendor's advice, (b)
the shortcut, (c) the burst at each reset) gets its own fresh sandbox with the same seed and
settings, and starts just after a window boundary when windows are aligned on the clock.
Clients alternate run by run (the order rotates each round) and each figure is the median
over the rounds, with the spread of the per-run ratios. Requests, polls and 429s are the
sandbox's own counts; every wall time is also set against the run's true floor
(:mod:`benchmarks._floor`).
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from nexio_lab import AsyncClient, Batch, NexioError
from nexio_lab.sandbox import DEFAULT_API_KEY

from . import baselines
from ._common import POOL, Settings, StatsAt, align_to_window, fresh_sandbox, journal_path, profiles
from ._floor import Floor, durations, polling_floor, webhook_floor
from ._report import Row, median, ratio, spread

__all__ = [
    "Measured",
    "latency_binds",
    "limit_binds",
    "measure",
    "paired",
    "rounds",
    "webhook_delivery",
]

# Targets of issue 11 (rate discipline) and issue 7 (the clients users write).
FLOOR_TARGET = 1.05  # wall / true floor where the budget binds
VS_BURST = 1.02  # no more than 2 % behind (c), the strongest honest fixed-window client
VS_VENDOR_KIND = 1.1  # on each kind: wall at most 1.1x (a), which is told the limit
VS_VENDOR = 1.05  # latency scenario: wall vs (a)
POLLS_VS_VENDOR = 1.05  # polls per evaluation at most 1.05x (a)'s, in every regime
LATE_429_SHARE = 0.02  # 429s after the first window, share of all requests
CLEARLY = 0.8  # "beat the shortcut clearly": at most this fraction of its cost
WEBHOOK_VS_VENDOR = 0.6
WEBHOOK_FLOOR = 1.1
#: A webhook batch still running this long after its journal holds every result is
#: cancelled, and its wall time reported as at least that (marked "did not return").
LINGER_S = 5.0

NAMES = {
    "nexio": "nexio-lab",
    "webhook": "nexio-lab (webhook)",
    "vendor": "(a) vendor advice",
    "shortcut": "(b) shortcut",
    "burst": "(c) burst at each reset",
}


@dataclass
class Measured:
    """One client's run on one sandbox."""

    client: str
    wall_s: float
    requests: int
    polls: int
    posts: int
    jobs_created: int
    rate_limited: int
    rate_limited_after_first_window: int
    finished: int
    last_ready: float  # Unix time the last evaluation became ready (sandbox's word)
    last_noticed: float  # Unix time the client saw the last result
    floor: Floor
    webhooks: int = 0
    started: float = 0.0  # Unix time the client started
    returned: bool = True  # False: cancelled LINGER_S after it had every result
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def noticed_all_s(self) -> float:
        """Seconds from the start until the client had seen every result."""
        return self.last_noticed - self.started

    @property
    def latency_s(self) -> float:
        return self.last_noticed - self.last_ready

    @property
    def late_429_share(self) -> float:
        return self.rate_limited_after_first_window / max(1, self.requests)

    def as_dict(self) -> dict[str, Any]:
        data = {k: v for k, v in self.__dict__.items() if k != "floor"}
        data["floor"] = {
            "floor_s": self.floor.floor_s,
            "budget_s": self.floor.budget_s,
            "ready_s": self.floor.ready_s,
            "naive_s": self.floor.naive_s,
            "binds": self.floor.binds,
        }
        return data


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def _nexio(
    url: str, rows: list[dict[str, Any]], store: Any, webhook: str | None, linger: float | None
) -> tuple[Any, bool]:
    """Run a batch; with ``linger``, cancel it when it has not returned ``linger`` s after
    its journal holds every result (so a slow wind-down cannot stall the harness).
    Returns the batch and whether ``run_batch`` returned by itself."""
    async with AsyncClient(api_key=DEFAULT_API_KEY, base_url=url) as client:
        task = asyncio.ensure_future(
            client.run_batch(
                rows, pool=POOL, store=store, name="bench", progress=False, webhook=webhook
            )
        )
        if linger is None:
            return await task, True
        view: Batch | None = None
        all_done_at: float | None = None
        while not task.done():
            await asyncio.sleep(0.1)
            if all_done_at is None:
                with contextlib.suppress(NexioError):
                    view = view or Batch.open("bench", store)
                counts = view.status_counts() if view else {}
                if counts.get("completed", 0) + counts.get("failed", 0) == len(rows):
                    all_done_at = time.monotonic()
            elif time.monotonic() - all_done_at > linger:
                task.cancel()
                break
        with contextlib.suppress(asyncio.CancelledError):
            return await task, True
    return Batch.open("bench", store), False


def _baseline(settings: Settings, client: str, url: str, rows: list[dict[str, Any]]) -> Any:
    if client == "vendor":
        coro = baselines.vendor_client(
            url, rows, POOL, limit=settings.limit, window=settings.window, speed=settings.speed
        )
    elif client == "burst":
        coro = baselines.burst_client(url, rows, POOL, limit=settings.limit, speed=settings.speed)
    elif client == "shortcut":
        coro = baselines.shortcut_client(url, rows, POOL, speed=settings.speed)
    else:
        raise ValueError(f"unknown client {client!r}")
    return asyncio.run(coro)


def measure(settings: Settings, client: str, *, in_process: bool = False) -> Measured:
    """Run ``client`` ("nexio", "webhook", "vendor", "shortcut" or "burst") on a fresh
    sandbox and set its wall time against the run's true floor (``in_process``: the
    sandbox in this process, for a tool that watches its counting)."""
    rows = profiles(settings.n)
    with fresh_sandbox(settings, in_process=in_process) as sb, journal_path() as store:
        started = align_to_window(settings.window, kind=settings.kind)
        first_window = StatsAt(sb, started + settings.window - 0.05)
        t0 = time.monotonic()
        webhooks = 0
        returned = True
        extra: dict[str, Any] = {}
        if client in {"nexio", "webhook"}:
            hook = f"http://127.0.0.1:{_free_port()}/hook" if client == "webhook" else None
            # webhook runs are cut LINGER_S after the last result (see webhook_delivery)
            linger = (
                min(LINGER_S, max(1.0, settings.n / settings.rate)) if client == "webhook" else None
            )
            batch, returned = asyncio.run(_nexio(sb.url, rows, store, hook, linger))
            wall = time.monotonic() - t0
            records = batch.records()
            finished = sum(r.status in {"completed", "failed"} for r in records)
            last_noticed = max(r.completed_at.timestamp() for r in records if r.completed_at)
            webhooks = batch._engine.stats.webhooks if batch._engine else 0
        else:
            run = _baseline(settings, client, sb.url, rows)
            wall = time.monotonic() - t0
            finished, last_noticed = run.finished, run.last_noticed
            if run.errors:
                extra["errors"] = run.errors[:5]
        first_window.cancel()
        stats = sb.stats()
        jobs = sb.jobs()
    spans = durations(jobs)
    floor = (webhook_floor if client == "webhook" else polling_floor)(settings.rule, started, spans)
    total_429 = stats["by_status"].get("429", 0)
    return Measured(
        client=client,
        wall_s=wall,
        requests=stats["requests"],
        polls=stats["gets"],
        posts=stats["posts"],
        jobs_created=stats["jobs_created"],
        rate_limited=total_429,
        rate_limited_after_first_window=total_429 - first_window.count_429(),
        finished=finished,
        last_ready=stats["last_ready_at"] or started,
        last_noticed=last_noticed,
        floor=floor,
        webhooks=webhooks,
        started=started,
        returned=returned,
        extra=extra,
    )


def rounds(settings: Settings, clients: Sequence[str], n: int) -> dict[str, list[Measured]]:
    """``n`` rounds of every client in turn, the order rotated each round so no client
    always runs first (or last) on a machine whose load drifts."""
    runs: dict[str, list[Measured]] = {c: [] for c in clients}
    for r in range(n):
        shift = r % len(clients)
        for client in [*clients[shift:], *clients[:shift]]:
            runs[client].append(measure(settings, client))
    return runs


def paired(
    scenario: str,
    figure: str,
    ours: Sequence[float],
    base: Sequence[float] | None,
    target: str = "info",
    check: Callable[[float], bool] | None = None,
    unit: str = "",
    *,
    on: str = "ratio",
    floor: Sequence[float] | None = None,
    naive: float | None = None,
) -> Row:
    """A row over paired runs: medians, the median per-run ratio and its spread; ``check``
    applies to the median ratio (``on="ratio"``) or to nexio-lab's median (``"value"``)."""
    ratios = [ratio(o, b) for o, b in zip(ours, base, strict=True)] if base else []
    finite = [r for r in ratios if r is not None]
    mid_ratio = median(finite) if finite else None
    value = median(list(ours))
    judged = mid_ratio if on == "ratio" else value
    passed = None if check is None else (judged is not None and check(judged))
    return Row(
        scenario,
        figure,
        value,
        median(list(base)) if base else None,
        mid_ratio,
        target,
        passed,
        unit,
        runs=len(ours),
        spread=spread(ratios) if base and on == "ratio" else spread(list(ours)),
        floor=median(list(floor)) if floor else None,
        naive=naive,
    )


def _walls(runs: list[Measured]) -> list[float]:
    return [m.wall_s for m in runs]


def _floors(runs: list[Measured]) -> list[float]:
    return [m.floor.floor_s for m in runs]


def _vs_floor(scenario: str, name: str, runs: list[Measured], target: float | None) -> Row:
    """Wall over the true floor, per run, median and spread."""
    return paired(
        scenario,
        f"{name}: wall / true floor",
        _walls(runs),
        _floors(runs),
        f"ratio <= {target}" if target else "info",
        (lambda r: r <= target) if target else None,
        "s",
        floor=_floors(runs),
        naive=runs[0].floor.naive_s,
    )


def _all_finished(scenario: str, settings: Settings, runs: dict[str, list[Measured]]) -> Row:
    n = settings.n
    short = {k: [m.finished for m in v] for k, v in runs.items() if any(m.finished != n for m in v)}
    dupes = {
        k: [m.jobs_created for m in v]
        for k, v in runs.items()
        if any(m.jobs_created != settings.n for m in v)
    }
    return Row(
        scenario,
        "rows finished, evaluations created (every client, every run)",
        min(m.finished for v in runs.values() for m in v),
        settings.n,
        target=f"= {settings.n}, created = {settings.n}",
        passed=not short and not dupes,
        runs=max(len(v) for v in runs.values()),
        details={"short": short, "created": dupes},
    )


def _details(rows: list[Row], runs: dict[str, list[Measured]]) -> None:
    rows[0].details["runs"] = {k: [m.as_dict() for m in v] for k, v in runs.items()}


def limit_binds(settings: Settings, n_rounds: int = 3, shortcut: bool = True) -> list[Row]:
    """Scenario 1 (and its part of 4) on one kind of window: N evaluations where the budget
    is the bottleneck; nexio-lab (never told the limit) vs the true floor, (a), (c), (b)."""
    s = f"1 limit binds [{settings.kind}]"
    n = settings.n
    clients = ["nexio", "vendor", "burst"] + (["shortcut"] if shortcut else [])
    runs = rounds(settings, clients, n_rounds)
    ours, vendor, burst = runs["nexio"], runs["vendor"], runs["burst"]
    rows = [
        _vs_floor(s, f"nexio-lab, N={n}, {settings.label()}", ours, FLOOR_TARGET),
        _vs_floor(s, NAMES["burst"], burst, None),
        _vs_floor(s, NAMES["vendor"], vendor, None),
        paired(
            s,
            f"wall vs {NAMES['burst']} (told the limit)",
            _walls(ours),
            _walls(burst),
            f"ratio <= {VS_BURST}",
            lambda r: r <= VS_BURST,
            "s",
        ),
        paired(
            s,
            f"wall vs {NAMES['vendor']} (told the limit)",
            _walls(ours),
            _walls(vendor),
            f"ratio <= {VS_VENDOR_KIND}",
            lambda r: r <= VS_VENDOR_KIND,
            "s",
        ),
        paired(
            s,
            f"polls per evaluation vs {NAMES['vendor']}",
            [m.polls / n for m in ours],
            [m.polls / n for m in vendor],
            f"ratio <= {POLLS_VS_VENDOR}",
            lambda r: r <= POLLS_VS_VENDOR,
        ),
        paired(
            s,
            f"start -> last result noticed vs {NAMES['vendor']}",
            [m.noticed_all_s for m in ours],
            [m.noticed_all_s for m in vendor],
            "ratio <= 1 (no later than (a))",
            lambda r: r <= 1.0,
            "s",
        ),
        paired(
            s,
            f"429s after the first window, % of requests (baseline: {NAMES['burst']})",
            [100 * m.late_429_share for m in ours],
            [100 * m.late_429_share for m in burst],
            f"<= {100 * LATE_429_SHARE:g} %",
            lambda v: v <= 100 * LATE_429_SHARE,
            "%",
            on="value",
        ),
        paired(
            s,
            "429s in the first window",
            [m.rate_limited - m.rate_limited_after_first_window for m in ours],
            [m.rate_limited - m.rate_limited_after_first_window for m in burst],
        ),
    ]
    if shortcut:
        short = runs["shortcut"]
        rows += [
            paired(
                s,
                f"wall vs {NAMES['shortcut']}",
                _walls(ours),
                _walls(short),
                f"ratio <= {CLEARLY}",
                lambda r: r <= CLEARLY,
                "s",
            ),
            paired(
                s,
                f"requests vs {NAMES['shortcut']}",
                [m.requests for m in ours],
                [m.requests for m in short],
                f"ratio <= {CLEARLY}",
                lambda r: r <= CLEARLY,
            ),
        ]
    rows.append(_all_finished(s, settings, runs))
    _details(rows, runs)
    return rows


def latency_binds(settings: Settings, n_rounds: int = 3) -> list[Row]:
    """Scenario 2 (and its part of 4): few evaluations, so readiness is the bottleneck."""
    s = "2 latency binds"
    n = settings.n
    runs = rounds(settings, ["nexio", "vendor", "burst", "shortcut"], n_rounds)
    ours, vendor, short = runs["nexio"], runs["vendor"], runs["shortcut"]
    rows = [
        paired(
            s,
            f"start -> last result noticed vs {NAMES['vendor']}, N={n}, {settings.label()}",
            [m.noticed_all_s for m in ours],
            [m.noticed_all_s for m in vendor],
            "ratio <= 1 (no later than (a))",
            lambda r: r <= 1.0,
            "s",
        ),
        paired(
            s,
            f"last ready -> noticed (each client's own last ready) vs {NAMES['vendor']}",
            [m.latency_s for m in ours],
            [m.latency_s for m in vendor],
            unit="s",
        ),
        paired(
            s,
            f"polls per evaluation vs {NAMES['vendor']}",
            [m.polls / n for m in ours],
            [m.polls / n for m in vendor],
            f"ratio <= {POLLS_VS_VENDOR}",
            lambda r: r <= POLLS_VS_VENDOR,
        ),
        _vs_floor(s, "nexio-lab", ours, None),
        _vs_floor(s, NAMES["vendor"], vendor, None),
        paired(
            s,
            f"wall vs {NAMES['vendor']}",
            _walls(ours),
            _walls(vendor),
            f"ratio <= {VS_VENDOR}",
            lambda r: r <= VS_VENDOR,
            "s",
        ),
        paired(
            s,
            f"last ready -> noticed vs {NAMES['shortcut']}",
            [m.latency_s for m in ours],
            [m.latency_s for m in short],
            unit="s",
        ),
        paired(
            s,
            f"requests vs {NAMES['shortcut']}",
            [m.requests for m in ours],
            [m.requests for m in short],
            f"ratio <= {CLEARLY}",
            lambda r: r <= CLEARLY,
        ),
    ]
    rows.append(_all_finished(s, settings, runs))
    _details(rows, runs)
    return rows


def webhook_delivery(settings: Settings, n_rounds: int = 3) -> list[Row]:
    """Scenario 3: as scenario 1, results delivered by webhook instead of polled."""
    s = "3 webhook"
    n = settings.n
    runs = rounds(settings, ["webhook", "vendor"], n_rounds)
    ours, vendor = runs["webhook"], runs["vendor"]
    cut = "" if all(m.returned for m in ours) else " (some runs cancelled after the last result)"
    rows = [
        paired(
            s,
            f"requests per evaluation, N={n}, {settings.label()}",
            [m.requests / n for m in ours],
            [2.0] * len(ours),
            "~1 (<= 1.1)",
            lambda v: v <= 1.1,
            on="value",
        ),
        _vs_floor(s, f"nexio-lab (webhook){cut}", ours, WEBHOOK_FLOOR),
        paired(
            s,
            "start -> every result received / true floor",
            [m.noticed_all_s for m in ours],
            _floors(ours),
            unit="s",
        ),
        paired(
            s,
            f"webhook wall vs {NAMES['vendor']} (polling)" + cut,
            _walls(ours),
            _walls(vendor),
            f"ratio <= {WEBHOOK_VS_VENDOR}",
            lambda r: r <= WEBHOOK_VS_VENDOR,
            "s",
        ),
        _all_finished(s, settings, runs),
    ]
    _details(rows, runs)
    return rows
