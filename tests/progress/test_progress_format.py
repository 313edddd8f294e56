from __future__ import annotations

from nexio_lab.progress import BATCH_STATUSES, BatchProgress
from nexio_lab.progress import _format as fmt


def snap(**kw) -> BatchProgress:
    base = dict(name="demo", total=60, counts={"completed": 23, "queued": 37})
    base.update(kw)
    return BatchProgress(**base)


def test_budget_text_parts_known_and_missing() -> None:
    assert fmt.budget_text(snap(budget_remaining=37, budget_limit=60, reset_in_s=2.14)) == (
        "budget 37/60, reset in 2.1 s"
    )
    assert fmt.budget_text(snap(budget_remaining=5)) == "budget 5"
    assert fmt.budget_text(snap()) is None


def test_throughput_and_eta() -> None:
    assert fmt.throughput_text(snap(throughput_per_s=12.34)) == "12.3 eval/s"
    assert fmt.eta_text(snap(eta_s=65)) == "ETA 1m05s"
    assert fmt.eta_text(snap(eta_s=7380)) == "ETA 2h03m"
    assert fmt.eta_text(snap(eta_s=float("inf"))) is None
    assert fmt.eta_text(snap(eta_s=3, finished=True)) is None


def test_counts_keep_every_known_status_and_unknown_ones() -> None:
    p = snap(counts={"completed": 2, "on_hold": 4})
    statuses = [s for s, _ in fmt.status_counts(p)]
    assert statuses == [*BATCH_STATUSES, "on_hold"]
    assert fmt.counts_text(p, skip_zero=True) == "completed 2 · on_hold 4"
    assert "pending 0" in fmt.counts_text(p)


def test_percent_never_rounds_up_to_done() -> None:
    assert fmt.percent_text(snap(total=1000, counts={"completed": 999})) == "99%"
    assert fmt.percent_text(snap(total=0, counts={})) == "100%"


def test_error_text_is_one_line_and_bounded() -> None:
    text = fmt.error_text(snap(last_error="boom\n" + "x" * 1000))
    assert text is not None
    assert "\n" not in text
    assert text.startswith("last error: boom x")
    assert len(text) <= len("last error: ") + fmt.MAX_ERROR_CHARS


def test_summary_line_states_outcome() -> None:
    ok = snap(total=2, counts={"completed": 2}, finished=True)
    assert fmt.summary_line(ok).startswith("demo: 2/2 (100%) finished")
    bad = snap(total=2, counts={"completed": 1, "uncertain": 1}, finished=True)
    assert "finished with problems" in fmt.summary_line(bad)
    stopped = snap(total=2, counts={"completed": 1}, finished=True, stopped_reason="invalid key")
    assert "stopped: invalid key" in fmt.summary_line(stopped)
    running = snap(total=2, counts={"completed": 1, "queued": 1})
    assert fmt.outcome_text(running) is None
