"""Text pieces of a progress display, built in one place for every front-end.

Each helper takes a :class:`~nexio_lab.progress.BatchProgress` and returns a short
string, or ``None`` when the snapshot does not know that figure yet (front-ends then leave it
out rather than print a placeholder).

>>> from nexio_lab.progress import BatchProgress
>>> p = BatchProgress(name="demo", total=60, counts={"completed": 23}, budget_remaining=37,
...                   budget_limit=60, reset_in_s=2.1, throughput_per_s=12.34, eta_s=65)
>>> done_text(p), budget_text(p), throughput_text(p), eta_text(p)
('23/60', 'budget 37/60, reset in 2.1 s', '12.3 eval/s', 'ETA 1m05s')
"""

from __future__ import annotations

import math

from ._state import BATCH_STATUSES, BatchProgress

#: Longest error text shown; API errors can carry whole response bodies.
MAX_ERROR_CHARS = 200


def status_counts(p: BatchProgress) -> list[tuple[str, int]]:
    """Every known status in display order (zeros included), then any unknown ones.

    >>> from nexio_lab.progress import BatchProgress
    >>> status_counts(BatchProgress("b", 2, {"completed": 1, "on_hold": 1}))[-2:]
    [('uncertain', 0), ('on_hold', 1)]
    """
    known = [(s, p.counts.get(s, 0)) for s in BATCH_STATUSES]
    # The real API may grow statuses; show them rather than hide rows.
    extra = sorted((s, n) for s, n in p.counts.items() if s not in BATCH_STATUSES)
    return known + extra


def counts_text(p: BatchProgress, *, skip_zero: bool = False) -> str:
    """``"pending 3 · queued 0 · ..."``; with ``skip_zero`` only the statuses in use.

    >>> from nexio_lab.progress import BatchProgress
    >>> counts_text(BatchProgress("b", 4, {"completed": 3, "error": 1}), skip_zero=True)
    'completed 3 · error 1'
    """
    parts = [f"{s} {n}" for s, n in status_counts(p) if n or not skip_zero]
    return " · ".join(parts)


def done_text(p: BatchProgress) -> str:
    """``"done/total"``."""
    return f"{p.done}/{p.total}"


def percent_text(p: BatchProgress) -> str:
    """Whole percent, never showing 100% before the last row is done."""
    pct = math.floor(p.fraction * 100) if p.done < p.total else 100
    return f"{pct}%"


def budget_text(p: BatchProgress) -> str | None:
    """``"budget 37/60, reset in 2.1 s"`` (parts the snapshot lacks are left out)."""
    if p.budget_remaining is None:
        return None
    text = f"budget {p.budget_remaining}"
    if p.budget_limit is not None:
        text += f"/{p.budget_limit}"
    if p.reset_in_s is not None:
        text += f", reset in {max(p.reset_in_s, 0.0):.1f} s"
    return text


def throughput_text(p: BatchProgress) -> str | None:
    """``"12.3 eval/s"``."""
    if p.throughput_per_s is None:
        return None
    return f"{p.throughput_per_s:.1f} eval/s"


def duration_text(seconds: float) -> str:
    """Compact duration: ``42s``, ``1m05s``, ``2h03m``.

    >>> duration_text(4.4), duration_text(65), duration_text(7380)
    ('4s', '1m05s', '2h03m')
    """
    s = max(0, round(seconds))
    if s < 60:
        return f"{s}s"
    if s < 3600:
        return f"{s // 60}m{s % 60:02d}s"
    return f"{s // 3600}h{s % 3600 // 60:02d}m"


def eta_text(p: BatchProgress) -> str | None:
    """``"ETA 1m05s"``; nothing once finished or when unknown."""
    if p.finished or p.eta_s is None or not math.isfinite(p.eta_s):
        return None
    return f"ETA {duration_text(p.eta_s)}"


def elapsed_text(p: BatchProgress) -> str:
    """``"elapsed 12s"``."""
    return f"elapsed {duration_text(p.elapsed_s)}"


def error_text(p: BatchProgress) -> str | None:
    """``"last error: ..."``, on one line and cut to :data:`MAX_ERROR_CHARS`."""
    if not p.last_error:
        return None
    one_line = " ".join(p.last_error.split())
    if len(one_line) > MAX_ERROR_CHARS:
        one_line = one_line[: MAX_ERROR_CHARS - 1] + "…"
    return f"last error: {one_line}"


def outcome_text(p: BatchProgress) -> str | None:
    """How a finished batch ended: ``"finished"``, ``"finished with problems"`` or
    ``"stopped: <reason>"``; ``None`` while running."""
    if not p.finished:
        return None
    if p.stopped_reason:
        return f"stopped: {p.stopped_reason}"
    return "finished" if p.ok else "finished with problems"


def stats_text(p: BatchProgress) -> str:
    """Budget, throughput, ETA and elapsed time, the ones known, joined."""
    parts = [budget_text(p), throughput_text(p), eta_text(p), elapsed_text(p)]
    return " · ".join(x for x in parts if x)


def summary_line(p: BatchProgress) -> str:
    """Everything on one line, for logs and plain text.

    >>> from nexio_lab.progress import BatchProgress
    >>> summary_line(BatchProgress("demo", 2, {"completed": 2}, finished=True))
    'demo: 2/2 (100%) finished · completed 2 · elapsed 0s'
    """
    head = f"{p.name}: {done_text(p)} ({percent_text(p)})"
    outcome = outcome_text(p)
    if outcome:
        head += f" {outcome}"
    parts = [head, counts_text(p, skip_zero=True) or None, stats_text(p), error_text(p)]
    return " · ".join(x for x in parts if x)
