"""Scenarios 1-4: the limit binds, latency binds, webhooks, and the clients users write.

Every client (nexio-lab, nexio-lab with webhooks, the vendor's advice, the shortcut) gets
its own fresh sandbox with the same seed and settings, and starts just after a window
boundary. Requests, polls and 429s are the sandbox's own counts.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import time
from dataclasses import dataclass
from typing import Any

from nexio_lab import AsyncClient, Batch, NexioError
from nexio_lab.sandbox import DEFAULT_API_KEY

from . import baselines
from ._common import POOL, Settings, StatsAt, align_to_window, fresh_sandbox, journal_path, profiles
from ._report import Row, ratio

__all__ = ["latency_binds", "limit_binds", "webhook_delivery"]

WALL_VS_VENDOR = 1.05
CLEARLY = 0.8  # "beat the shortcut clearly": at most this fraction of its cost
WEBHOOK_VS_VENDOR = 0.6
#: A webhook batch still running this long after its journal holds every result is
#: cancelled, and its wall time reported as at least that (marked "did not return").
LINGER_S = 5.0


@dataclass
class Measured:
    """One client's run on one sandbox."""

    wall_s: float
    requests: int
    polls: int
    rate_limited: int
    rate_limited_after_first_window: int
    finished: int
    last_ready: float  # Unix time the last evaluation became ready (sandbox's word)
    last_noticed: float  # Unix time the client saw the last result
    webhooks: int = 0
    started: float = 0.0  # Unix time the client started
    returned: bool = True  # False: cancelled LINGER_S after it had every result

    @property
    def noticed_all_s(self) -> float:
        """Seconds from the start until the client had seen every result."""
        return self.last_noticed - self.started

    @property
    def latency_s(self) -> float:
        return self.last_noticed - self.last_ready


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


def measure(settings: Settings, client: str) -> Measured:
    """Run ``client`` ("nexio", "webhook", "vendor" or "shortcut") on a fresh sandbox."""
    rows = profiles(settings.n)
    with fresh_sandbox(settings) as sb, journal_path() as store:
        started = align_to_window(settings.window)
        first_window = StatsAt(sb, started + settings.window - 0.05)
        t0 = time.monotonic()
        webhooks = 0
        returned = True
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
            if client == "vendor":
                run = asyncio.run(
                    baselines.vendor_client(
                        sb.url,
                        rows,
                        POOL,
                        limit=settings.limit,
                        window=settings.window,
                        speed=settings.speed,
                    )
                )
            else:
                run = asyncio.run(
                    baselines.shortcut_client(sb.url, rows, POOL, speed=settings.speed)
                )
            wall = time.monotonic() - t0
            finished, last_noticed = run.finished, run.last_noticed
        first_window.cancel()
        stats = sb.stats()
        last_ready = max(job["ready_at"] for job in sb.jobs())
    total_429 = stats["by_status"].get("429", 0)
    return Measured(
        wall_s=wall,
        requests=stats["requests"],
        polls=stats["gets"],
        rate_limited=total_429,
        rate_limited_after_first_window=total_429 - first_window.count_429(),
        finished=finished,
        last_ready=last_ready,
        last_noticed=last_noticed,
        webhooks=webhooks,
        started=started,
        returned=returned,
    )


_vendor_cache: dict[Settings, Measured] = {}


def _vendor(settings: Settings) -> Measured:
    if settings not in _vendor_cache:
        _vendor_cache[settings] = measure(settings, "vendor")
    return _vendor_cache[settings]


def _versus(
    scenario: str, ours: Measured, base: Measured, name: str, wall_target: float
) -> list[Row]:
    """Wall, requests and 429s of nexio-lab against one baseline client."""
    clearly = wall_target == CLEARLY
    wall_ratio = ratio(ours.wall_s, base.wall_s)
    req_ratio = ratio(ours.requests, base.requests)
    return [
        Row(
            scenario,
            f"wall time vs {name}",
            ours.wall_s,
            base.wall_s,
            wall_ratio,
            f"ratio <= {wall_target}",
            wall_ratio is not None and wall_ratio <= wall_target,
            "s",
        ),
        Row(
            scenario,
            f"requests vs {name}",
            ours.requests,
            base.requests,
            req_ratio,
            f"ratio <= {CLEARLY}" if clearly else "info",
            (req_ratio is not None and req_ratio <= CLEARLY) if clearly else None,
        ),
        Row(
            scenario,
            f"429s vs {name}",
            ours.rate_limited,
            base.rate_limited,
            ratio(ours.rate_limited, base.rate_limited),
            "fewer" if clearly else "info",
            (ours.rate_limited < base.rate_limited or ours.rate_limited == 0) if clearly else None,
        ),
    ]


def _all_finished(scenario: str, settings: Settings, runs: dict[str, Measured]) -> Row:
    short = {k: v.finished for k, v in runs.items() if v.finished != settings.n}
    return Row(
        scenario,
        "rows finished (every client)",
        min(r.finished for r in runs.values()),
        settings.n,
        target=f"= {settings.n}",
        passed=not short,
        details={"short": short},
    )


def limit_binds(settings: Settings) -> list[Row]:
    """Scenario 1 (and its part of 4): N evaluations where the budget is the bottleneck."""
    s = "1 limit binds"
    n = settings.n
    ours = measure(settings, "nexio")
    vendor = _vendor(settings)
    shortcut = measure(settings, "shortcut")
    bound = 2 * n / settings.rate
    wall_bound = ours.wall_s / bound
    polls = ours.polls / n
    rows = [
        Row(
            s,
            f"wall / (2N/rate), N={n}, {settings.limit} req/{settings.window:g} s, "
            f"speed {settings.speed:g}",
            ours.wall_s,
            bound,
            wall_bound,
            "ratio <= 1.1",
            wall_bound <= 1.1,
            "s",
        ),
        Row(
            s,
            "polls per evaluation",
            polls,
            vendor.polls / n,
            ratio(polls, vendor.polls / n),
            "<= 1.3",
            polls <= 1.3,
        ),
        Row(
            s,
            "429s after the first window (not told the limit)",
            ours.rate_limited_after_first_window,
            None,
            None,
            "= 0",
            ours.rate_limited_after_first_window == 0,
        ),
        Row(
            s, "429s in the first window", ours.rate_limited - ours.rate_limited_after_first_window
        ),
    ]
    rows += _versus("4 vs clients (1)", ours, vendor, "(a) vendor advice", WALL_VS_VENDOR)
    rows += _versus("4 vs clients (1)", ours, shortcut, "(b) shortcut", CLEARLY)
    runs = {"nexio": ours, "vendor": vendor, "shortcut": shortcut}
    rows.append(_all_finished(s, settings, runs))
    rows[0].details["runs"] = {k: v.__dict__ for k, v in runs.items()}
    return rows


def latency_binds(settings: Settings) -> list[Row]:
    """Scenario 2 (and its part of 4): few evaluations, so readiness is the bottleneck."""
    s = "2 latency binds"
    ours = measure(settings, "nexio")
    vendor = _vendor(settings)
    shortcut = measure(settings, "shortcut")
    rows = [
        Row(
            s,
            f"last ready -> noticed, N={settings.n}, {settings.limit} req/"
            f"{settings.window:g} s, speed {settings.speed:g}",
            ours.latency_s,
            vendor.latency_s,
            ratio(ours.latency_s, vendor.latency_s),
            "< 1.5 s",
            ours.latency_s < 1.5,
            "s",
        ),
        Row(
            s,
            "polls spent vs (a) vendor advice",
            ours.polls,
            vendor.polls,
            ratio(ours.polls, vendor.polls),
            "fewer",
            ours.polls < vendor.polls,
        ),
        Row(
            s,
            "polls per evaluation",
            ours.polls / settings.n,
            vendor.polls / settings.n,
            ratio(ours.polls, vendor.polls),
        ),
        Row(
            s,
            "last ready -> noticed vs (b) shortcut",
            ours.latency_s,
            shortcut.latency_s,
            ratio(ours.latency_s, shortcut.latency_s),
            "info",
            None,
            "s",
        ),
    ]
    rows += _versus("4 vs clients (2)", ours, vendor, "(a) vendor advice", WALL_VS_VENDOR)
    rows += _versus("4 vs clients (2)", ours, shortcut, "(b) shortcut", CLEARLY)
    runs = {"nexio": ours, "vendor": vendor, "shortcut": shortcut}
    rows.append(_all_finished(s, settings, runs))
    rows[0].details["runs"] = {k: v.__dict__ for k, v in runs.items()}
    return rows


def webhook_delivery(settings: Settings) -> list[Row]:
    """Scenario 3: as scenario 1, results delivered by webhook instead of polled."""
    s = "3 webhook"
    n = settings.n
    ours = measure(settings, "webhook")
    vendor = _vendor(settings)
    per_eval = ours.requests / n
    bound = n / settings.rate
    wall_vs_vendor = ratio(ours.wall_s, vendor.wall_s)
    return [
        Row(
            s,
            f"requests per evaluation, N={n}",
            per_eval,
            2.0,
            ratio(per_eval, 2.0),
            "~1 (<= 1.1)",
            per_eval <= 1.1,
            details={"run": ours.__dict__, "webhooks_received": ours.webhooks},
        ),
        Row(
            s,
            "wall / (N/rate)"
            + (
                ""
                if ours.returned
                else " (run_batch had not returned after the last result: cancelled)"
            ),
            ours.wall_s,
            bound,
            ratio(ours.wall_s, bound),
            "ratio <= 1.1",
            ours.wall_s / bound <= 1.1,
            "s",
        ),
        Row(
            s,
            "start -> every result received, / (N/rate)",
            ours.noticed_all_s,
            bound,
            ratio(ours.noticed_all_s, bound),
            "info (wall minus the wind-down)",
            None,
            "s",
        ),
        Row(
            "4 vs clients (1)",
            "webhook wall vs (a) vendor advice"
            + ("" if ours.returned else " (cancelled, at least)"),
            ours.wall_s,
            vendor.wall_s,
            wall_vs_vendor,
            f"ratio <= {WEBHOOK_VS_VENDOR}",
            wall_vs_vendor is not None and wall_vs_vendor <= WEBHOOK_VS_VENDOR,
            "s",
        ),
        _all_finished(s, settings, {"webhook": ours}),
    ]
