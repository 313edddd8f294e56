from __future__ import annotations

import io

from nexio_lab.progress import BatchProgress, ConsoleProgress


def last_line(text: str) -> str:
    # tqdm redraws the line with carriage returns; the screen shows the last draw.
    return text.replace("\n", "\r").rstrip("\r").split("\r")[-1]


def test_one_live_line_ending_with_totals_and_counts(clock, run_of) -> None:
    out = io.StringIO()
    c = ConsoleProgress(file=out, clock=clock)
    snaps = list(run_of(10, errors=1))
    for p in snaps[:5]:
        clock.advance(1)
        c.update(p)
    middle = last_line(out.getvalue())
    assert "4/10" in middle
    assert "budget 56/60, reset in 2.1 s" in middle
    assert "ETA 6s" in middle

    c.close(snaps[-1])
    text = out.getvalue()
    final = [line for line in text.split("\n") if line.strip()]
    bar_line = last_line(final[-2])
    assert "demo: 100%" in bar_line
    assert "10/10" in bar_line
    assert "completed 9 · error 1" in bar_line
    assert "finished with problems" in bar_line
    assert final[-1] == "last error: HTTP 422: bad profile"
    assert "ETA" not in bar_line


def test_throttles_rapid_updates(clock, run_of) -> None:
    out = io.StringIO()
    c = ConsoleProgress(file=out, clock=clock)
    for p in list(run_of(40))[:-1]:
        clock.advance(0.0625)
        c.update(p)
    assert c.renders == 10  # one in four of the 40 updates (16/s against 5/s)
    assert "36/40" in last_line(out.getvalue())


def test_close_alone_prints_a_finished_line(clock) -> None:
    out = io.StringIO()
    ConsoleProgress(file=out, clock=clock).close(
        BatchProgress("b", 3, {"completed": 3}, finished=True)
    )
    line = last_line(out.getvalue())
    assert "3/3" in line
    assert "finished · completed 3" in line
