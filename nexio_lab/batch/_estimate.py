"""Estimates before running: what reuse saves, requests expected, ETA and cost.

Requests: about two per evaluation when polling (the submission and, with a well-timed poll,
one GET), one with a webhook; a row already sent is polled once more. The ETA divides those
by the key's rate, learned from one ``GET /health`` (every response carries the rate-limit
headers); the window's length is taken as the time its reset was away, which is exact on a
fresh window and short otherwise, so the ETA errs on the fast side. The docs publish no
price: a cost is only given for ``price_per_evaluation``.
"""

from __future__ import annotations

import time
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from .._models import RateLimit
from ._reuse import count_reusable, describe_age, parse_reuse

if TYPE_CHECKING:
    from ._batch import BatchPlan
    from ._journal import Journal

__all__ = ["fetch_rate_limit", "fill_estimates", "journal_backlog", "plan_lines"]

#: Requests per evaluation when polling, and with a webhook.
REQUESTS_POLLING = 2
REQUESTS_WEBHOOK = 1
#: The window the dry run reports reuse for when reuse is off.
REPORT_AGE = timedelta(days=7)


def fetch_rate_limit(base_url: str, *, timeout: float = 5.0) -> RateLimit | None:
    """The key's rate limit as one unkeyed, unbilled ``GET /health`` reports it (every
    response carries the headers); None when the service cannot be reached or sent none.
    Pass it to :func:`~nexio_lab.batch.plan_batch` for an ETA, soon after reading it.

    >>> from nexio_lab import sandbox
    >>> with sandbox.run(rate_limit=120) as sb:
    ...     fetch_rate_limit(sb.url).limit
    120
    """
    import httpx

    try:
        response = httpx.get(f"{base_url.rstrip('/')}/health", timeout=timeout)
    except httpx.HTTPError:
        return None
    return RateLimit.from_headers(response.headers)


def journal_backlog(journal: Journal | None, name: str) -> tuple[int, int, list[str]]:
    """(rows journaled but never sent, rows sent and not finished, fingerprints of the
    never-sent rows) of a batch being resumed."""
    if journal is None or not journal.has_batch(name):
        return 0, 0, []
    to_send = journal.reusable_rows(name)
    open_rows = journal.open_rows(name)
    sent = sum(1 for r in open_rows if r[4])  # eval_id known: it will be polled
    return len(to_send), sent, [fp for _, _, fp in to_send]


def fill_estimates(
    plan: BatchPlan,
    journal: Journal | None,
    *,
    backlog: tuple[int, int, list[str]],
    base_url: str | None,
    reuse: Any,
    webhook: str | None,
    price_per_evaluation: float | None,
    rate_limit: RateLimit | None,
    rate_limit_at: float | None,
) -> None:
    """Complete ``plan``: reuse (done or possible), billable, requests, ETA and cost."""
    age = parse_reuse(reuse)
    to_send, to_poll, backlog_fps = backlog
    plan.resumed_to_send = to_send
    plan.resumed_to_poll = to_poll
    fingerprints = [*plan.fingerprints, *backlog_fps]
    plan.base_url = base_url
    if age is not False:
        plan.reuse_age = describe_age(age)
        new = count_reusable(journal, plan.fingerprints, base_url, age)
        old = count_reusable(journal, backlog_fps, base_url, age)
        plan.reused = new + old
        plan.billable -= new
        plan.resumed_to_send -= old
    else:
        plan.reusable_recent = count_reusable(journal, fingerprints, base_url, REPORT_AGE)
        plan.reusable_any = count_reusable(journal, fingerprints, base_url, True)
    sends = plan.billable + plan.resumed_to_send
    per = REQUESTS_WEBHOOK if webhook else REQUESTS_POLLING
    plan.requests = sends * per + plan.resumed_to_poll
    if price_per_evaluation is not None:
        if price_per_evaluation < 0:
            raise ValueError("price_per_evaluation must be zero or more")
        plan.cost = sends * float(price_per_evaluation)
    plan.price_per_evaluation = price_per_evaluation
    plan.rate_limit = rate_limit
    if rate_limit and rate_limit.limit and rate_limit.reset:
        window = max(rate_limit.reset - (rate_limit_at or time.time()), 1.0)
        plan.window_s = window
        plan.eta_s = plan.requests / rate_limit.limit * window


def _duration(seconds: float) -> str:
    if seconds < 1:
        return "under 1 s"
    whole = round(seconds)
    if whole < 90:
        return f"{whole} s"
    if whole < 90 * 60:
        return f"{whole / 60:.0f} min"
    return f"{whole / 3600:.1f} h"


def plan_lines(plan: BatchPlan) -> list[str]:
    """The estimate lines a plan prints after its counts."""
    lines = []
    total = plan.billable + plan.resumed_to_send + plan.reused
    if plan.resumed_to_send or plan.resumed_to_poll:
        lines.append(
            f"  resumed: {plan.resumed_to_send} journaled row(s) still to submit (billed), "
            f"{plan.resumed_to_poll} sent and awaiting results (polled, not billed again)"
        )
    if plan.reuse_age:
        lines.append(
            f"  reused from {plan.reuse_age} in this store (not sent, not billed): {plan.reused}"
        )
    elif plan.reusable_any:
        lines.append(
            f"  {plan.reusable_recent} of {total} were evaluated in the last 7 days in this "
            f"store; reuse='7d' would skip them"
            + (
                f" ({plan.reusable_any} at any age: reuse=True)"
                if plan.reusable_any != plan.reusable_recent
                else ""
            )
        )
    sends = plan.billable + plan.resumed_to_send
    if plan.requests is not None:
        lines.append(f"  billable evaluations: {sends}; requests expected: about {plan.requests}")
    if plan.eta_s is not None and plan.rate_limit is not None and plan.window_s is not None:
        about = "" if plan.eta_s < 1 else "about "
        lines.append(
            f"  ETA: {about}{_duration(plan.eta_s)} at the key's limit of "
            f"{plan.rate_limit.limit} requests per {_duration(plan.window_s)} window (GET /health)"
        )
    elif plan.requests:
        lines.append("  ETA: unknown (no rate limit known: pass rate_limit=fetch_rate_limit(URL))")
    if plan.cost is not None:
        lines.append(f"  cost: {plan.cost:,.2f} at {plan.price_per_evaluation:g} per evaluation")
    return lines
