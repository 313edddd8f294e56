from __future__ import annotations

import re

import pytest

from nexio_lab.progress import BATCH_STATUSES, BatchProgress, ProgressReporter, WidgetProgress


def chip_counts(html_text: str) -> dict[str, int]:
    pairs = re.findall(r'data-status="([^"]+)".*?<b>(\d+)</b>', html_text)
    return {s: int(n) for s, n in pairs}


def test_follows_a_batch_to_a_green_summary(clock, run_of) -> None:
    w = WidgetProgress(display=False, clock=clock)
    assert isinstance(w, ProgressReporter)
    snaps = list(run_of(10))
    for p in snaps[:-1]:
        clock.advance(1.0)
        w.update(p)
        assert (w.bar.value, w.bar.max) == (p.done, 10)
        assert w.done_label.value.startswith(f"{p.done}/10")
        assert chip_counts(w.counts.value) == {s: p.count(s) for s in BATCH_STATUSES}
    assert "budget 51/60, reset in 2.1 s" in w.stats.value
    assert "ETA 1s" in w.stats.value
    assert w.bar.bar_style == ""

    w.close(snaps[-1])
    assert (w.bar.value, w.bar.max) == (10, 10)
    assert w.done_label.value == "10/10 (100%)"
    assert w.bar.bar_style == "success"
    assert "finished" in w.title.value
    assert w.error.value == ""
    assert "nexio-progress" in w.widget._dom_classes


def test_errors_turn_it_red_and_show_the_last_error(clock, run_of) -> None:
    w = WidgetProgress(display=False, clock=clock)
    snaps = list(run_of(4, errors=1))
    w.update(snaps[2])
    assert "HTTP 422: bad profile" in w.error.value
    w.close(snaps[-1])
    assert w.bar.bar_style == "danger"
    assert chip_counts(w.counts.value)["error"] == 1
    assert "finished with problems" in w.title.value


def test_stopped_batch_is_red_even_with_no_error_rows(clock) -> None:
    w = WidgetProgress(display=False, clock=clock)
    p = BatchProgress("demo", 5, {"completed": 2, "pending": 3}, finished=True,
                      stopped_reason="invalid key")  # fmt: skip
    w.close(p)
    assert w.bar.bar_style == "danger"
    assert (w.bar.value, w.bar.max) == (2, 5)
    assert "stopped: invalid key" in w.title.value


def test_rapid_updates_are_throttled_but_the_final_one_renders(clock, run_of) -> None:
    w = WidgetProgress(display=False, clock=clock)
    snaps = list(run_of(20))
    for p in snaps[:-1]:
        clock.advance(0.125)  # 8 a second (exact in binary), above the 5 a second allowed
        w.update(p)
    assert w.renders == 10  # every other one of the 20 updates
    assert w.bar.value == 18  # the last rendered snapshot, not the last one received
    clock.advance(0.125)
    w.update(snaps[-1])  # finished: renders despite the throttle
    assert w.renders == 11
    assert w.bar.value == 20
    w.close(snaps[-1])
    w.update(snaps[3])  # after close nothing changes the summary
    assert w.bar.value == 20
    assert w.bar.bar_style == "success"


def test_unknown_status_and_markup_are_shown_safely(clock) -> None:
    w = WidgetProgress(display=False, clock=clock)
    p = BatchProgress("<b>x</b>", 3, {"completed": 1, "on_hold": 2},
                      last_error="<script>alert(1)</script>")  # fmt: skip
    w.update(p)
    assert chip_counts(w.counts.value)["on_hold"] == 2
    assert "<script>" not in w.error.value
    assert "&lt;script&gt;" in w.error.value
    assert "&lt;b&gt;x&lt;/b&gt;" in w.title.value


def test_empty_batch_shows_a_full_bar(clock) -> None:
    w = WidgetProgress(display=False, clock=clock)
    w.close(BatchProgress("empty", 0, {}, finished=True))
    assert w.bar.value == w.bar.max == 1
    assert w.bar.bar_style == "success"
    assert w.done_label.value == "0/0 (100%)"


def test_total_can_change_between_snapshots(clock) -> None:
    w = WidgetProgress(display=False, clock=clock)
    w.update(BatchProgress("grow", 2, {"completed": 2}))
    clock.advance(1)
    w.update(BatchProgress("grow", 8, {"completed": 5, "queued": 3}))
    assert (w.bar.value, w.bar.max) == (5, 8)
    clock.advance(1)
    w.update(BatchProgress("grow", 3, {"completed": 1, "queued": 2}))
    assert (w.bar.value, w.bar.max) == (1, 3)


def test_displays_itself_once_on_first_update(clock, run_of, monkeypatch) -> None:
    import IPython.display

    shown: list[object] = []
    monkeypatch.setattr(IPython.display, "display", lambda obj: shown.append(obj))
    w = WidgetProgress(clock=clock)
    for p in run_of(3):
        clock.advance(1)
        w.update(p)
    w.close(p)
    assert shown == [w.widget]


@pytest.mark.parametrize("status", BATCH_STATUSES)
def test_every_status_has_a_chip(clock, status) -> None:
    w = WidgetProgress(display=False, clock=clock)
    w.update(BatchProgress("b", 7, {status: 7}))
    assert chip_counts(w.counts.value)[status] == 7
