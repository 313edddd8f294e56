from __future__ import annotations

import logging

import pytest

from nexio_lab.progress import LogProgress


@pytest.fixture
def logs(caplog: pytest.LogCaptureFixture) -> pytest.LogCaptureFixture:
    caplog.set_level(logging.INFO, logger="nexio_lab.progress")
    return caplog


def test_periodic_lines_and_a_final_one(clock, run_of, logs) -> None:
    records = logs.records
    log = LogProgress(clock=clock)  # default: every 10 s
    snaps = list(run_of(30))
    for p in snaps[:-1]:
        clock.advance(1)
        log.update(p)
    log.close(snaps[-1])
    lines = [r.getMessage() for r in records]
    # First update, then one every 10 s of clock, then the final line.
    assert [line.split(" (")[0] for line in lines] == [
        "demo: 0/30",
        "demo: 10/30",
        "demo: 20/30",
        "demo: 30/30",
    ]
    assert "budget 50/60, reset in 2.1 s" in lines[1]
    assert "ETA 20s" in lines[1]
    assert lines[-1].startswith("demo: 30/30 (100%) finished · completed 30")
    assert {r.name for r in records} == {"nexio_lab.progress"}
    assert records[-1].levelno == logging.INFO


def test_a_bad_ending_is_a_warning_with_the_last_error(clock, run_of, logs) -> None:
    log = LogProgress(interval_s=5, clock=clock)
    snaps = list(run_of(4, errors=2))
    log.update(snaps[-1])  # a finished update: the final line is close()'s
    log.close(snaps[-1])
    records = logs.records
    assert len(records) == 1
    assert records[0].levelno == logging.WARNING
    assert "finished with problems" in records[0].getMessage()
    assert "last error: HTTP 422: bad profile" in records[0].getMessage()


def test_custom_logger_and_interval(clock, run_of, caplog) -> None:
    caplog.set_level(logging.DEBUG, logger="my.app")
    log = LogProgress(interval_s=2, logger=logging.getLogger("my.app"), level=logging.DEBUG,
                      clock=clock)  # fmt: skip
    for p in list(run_of(6))[:-1]:
        clock.advance(1)
        log.update(p)
    assert [r.getMessage().split(" (")[0] for r in caplog.records] == [
        "demo: 0/6",
        "demo: 2/6",
        "demo: 4/6",
    ]
    assert {r.levelno for r in caplog.records} == {logging.DEBUG}
