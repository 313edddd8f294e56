"""Detached batches as real processes: they outlive their starter, stop cleanly on cancel,
resume after SIGKILL with nothing paid twice, refuse a second driver, and never show the key.

A sandbox whose window allows a few requests per hour keeps a detached batch "running" for
as long as a test needs (no timing decides anything); ``open_the_window`` then lets a
resume finish. Every wait polls a condition with a generous bound that fails the test.
"""

from __future__ import annotations

import json
import os
import re
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

import nexio_lab
from nexio_lab.batch._lock import pid_alive
from nexio_lab.sandbox import Sandbox, run

#: Distinctive, so that any copy of it would be found; it opens only these sandboxes.
SECRET = "nx_test_L1fecycleS3cretK3yAbCdEf0123456789"


def wait_until(condition: Callable[[], bool], what: str, timeout: float = 90.0) -> None:
    pause = threading.Event()
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}")
        pause.wait(0.05)


def open_the_window(sb: Sandbox) -> None:
    """The stalled sandbox lets everything through from now on (a new, generous window)."""
    import dataclasses

    limiter = sb._state.limiter
    limiter.rule = dataclasses.replace(limiter.rule, limit=100_000)
    limiter.reset()


def env(sb: Sandbox) -> dict[str, str]:
    return {"NEXIO_API_KEY": SECRET, "NEXIO_BASE_URL": sb.url}


def rows(store: Path, name: str) -> list[dict[str, Any]]:
    with sqlite3.connect(store) as db:
        db.row_factory = sqlite3.Row
        return [dict(r) for r in db.execute("SELECT * FROM rows WHERE batch = ?", (name,))]


def driver_pid(store: Path, name: str) -> int | None:
    with sqlite3.connect(store) as db:
        found = db.execute("SELECT pid FROM drivers WHERE batch = ?", (name,)).fetchone()
    return None if found is None else int(found[0])


def detached_pid(output: str) -> int:
    found = re.search(r"detached: process (\d+)", output)
    assert found, output
    return int(found.group(1))


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Path]:
    """The journal the ``cli`` fixture's NEXIO_LAB_HOME points at; detached drivers this test
    left running are killed at teardown (only ours: their argv names this store)."""
    path = tmp_path / "home" / "journal.sqlite"
    yield path
    if not path.exists():
        return
    with sqlite3.connect(path) as db:
        pids = [r[0] for r in db.execute("SELECT pid FROM drivers")]
    for pid in pids:
        try:
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
        except OSError:
            continue
        if str(path).encode() in cmdline and pid_alive(pid):
            os.kill(pid, signal.SIGKILL)


@pytest.fixture
def stalled() -> Iterator[Sandbox]:
    """Six requests per hour: a batch stalls after six, its driver alive and waiting."""
    with run(speed=2000, rate_limit=6, rate_window=3600, api_keys=[SECRET], seed=5) as sb:
        yield sb


def assert_key_absent(pid: int, *texts: str, files: list[Path]) -> None:
    cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
    assert b"nexio_lab.cli\x00resume" in cmdline and SECRET.encode() not in cmdline
    ps = subprocess.run(["ps", "-eo", "pid,args", "ww"], capture_output=True, text=True).stdout
    assert str(pid) in ps and SECRET not in ps
    for text in texts:
        assert SECRET not in text
    for path in files:
        assert path.exists(), path
        assert SECRET.encode() not in path.read_bytes(), path
        assert SECRET[8:].encode() not in path.read_bytes(), path


def test_detached_run_outlives_its_starter_and_list_status_open_show_it(
    cli: Any, make_profiles: Any, tmp_path: Path, store: Path
) -> None:
    with run(speed=300, rate_limit=50, rate_window=1.0, api_keys=[SECRET], seed=2) as sb:
        make_profiles(tmp_path / "p.csv", 30)
        started = cli(
            "run", "p.csv", "--pool", "carriers:all", "--name", "away", "--detach", env=env(sb)
        )
        assert started.code == 0, started.output  # the starter has exited; the batch goes on
        pid = detached_pid(started.stdout)
        log = Path(re.search(r"log (\S+\.log)", started.stdout).group(1))
        assert log.parent == store.parent / "logs"

        watched = cli("status", "away", "--watch", env=env(sb))  # follows until it ends
        assert watched.code == 0, watched.output
        assert "finished" in watched.stdout and re.search(r"completed\s+30", watched.stdout)
        wait_until(lambda: not pid_alive(pid), "the detached process to exit")

        batch = nexio_lab.open_batch("away", store)
        assert repr(batch) == "<Batch 'away' finished: completed=30>"
        assert len(batch.evaluations) == 30 and batch.evaluations["status"].eq("completed").all()
        listed = cli("list")
        assert listed.code == 0 and re.search(r"away\s+finished\s+30\s+30", listed.stdout), (
            listed.stdout
        )
        status = cli("status", "away")
        assert "finished" in status.stdout and re.search(r"completed\s+30", status.stdout)
        assert sb.stats()["posts"] == 30
        assert "finished" in log.read_text() and "completed 30" in log.read_text()


def test_the_key_is_in_no_argv_ps_log_or_store_and_cancel_then_resume_finishes(
    cli: Any, make_profiles: Any, tmp_path: Path, store: Path, stalled: Sandbox
) -> None:
    make_profiles(tmp_path / "p.csv", 20)
    started = cli(
        "run", "p.csv", "--pool", "carriers:all", "--name", "bg", "--detach", env=env(stalled)
    )
    assert started.code == 0, started.output
    pid = detached_pid(started.stdout)
    wait_until(lambda: stalled.stats()["requests"] >= 6, "the window to be spent")
    assert driver_pid(store, "bg") == pid and pid_alive(pid)
    assert nexio_lab.open_batch("bg", store).describe() == f"running in process {pid}"
    log = next((store.parent / "logs").glob("bg-*.log"))
    journal_files = sorted(store.parent.glob("journal.sqlite*"))
    assert_key_absent(pid, started.output, files=[log, *journal_files])

    cancelled = cli("cancel", "bg")
    assert cancelled.code == 0, cancelled.output
    assert (
        f"process {pid} stopped" in cancelled.stdout and "nexio-lab resume bg" in cancelled.stdout
    )
    wait_until(lambda: not pid_alive(pid), "the cancelled process to exit")
    at_stop = rows(store, "bg")
    assert not [r for r in at_stop if r["status"] == "submitting"]
    assert {r["eval_id"] for r in at_stop if r["eval_id"]} == {j["eval_id"] for j in stalled.jobs()}
    pending = sum(r["status"] in {"pending", "queued", "processing"} for r in at_stop)
    assert pending > 0
    assert (
        nexio_lab.open_batch("bg", store).describe()
        == f"stopped with {pending} not finished (cancelled)"
    )
    assert "cancel requested" in log.read_text()

    open_the_window(stalled)
    resumed = cli("resume", "bg", "--progress", "none", env=env(stalled))
    assert resumed.code == 0, resumed.output
    assert "completed 20" in resumed.stdout or "failed" in resumed.stdout
    assert stalled.stats()["jobs_created"] == 20  # nothing paid twice
    assert nexio_lab.open_batch("bg", store).state == "finished"
    assert_no_secret_in(log, *store.parent.glob("journal.sqlite*"), text=resumed.output)


def assert_no_secret_in(*paths: Path, text: str) -> None:
    assert SECRET not in text
    for path in paths:
        assert SECRET.encode() not in path.read_bytes(), path


def test_sigkill_of_the_detached_process_then_resume_pays_nothing_twice(
    cli: Any, make_profiles: Any, tmp_path: Path, store: Path, stalled: Sandbox
) -> None:
    make_profiles(tmp_path / "p.csv", 16)
    started = cli(
        "run", "p.csv", "--pool", "carriers:all", "--name", "k", "--detach", env=env(stalled)
    )
    pid = detached_pid(started.stdout)
    wait_until(lambda: stalled.stats()["requests"] >= 6, "the window to be spent")
    wait_until(
        lambda: len([r for r in rows(store, "k") if r["eval_id"]]) >= 3, "3 journaled submissions"
    )
    os.kill(pid, signal.SIGKILL)
    wait_until(lambda: not pid_alive(pid), "the killed process to be gone")
    killed = nexio_lab.open_batch("k", store)
    assert killed.describe().startswith("stopped with ") and not killed.running
    in_doubt = {
        json.loads(r["profile"])["entity"] for r in rows(store, "k") if r["status"] == "submitting"
    }

    open_the_window(stalled)
    resumed = cli("resume", "k", "--progress", "none", env=env(stalled))  # takes the dead lock
    assert resumed.code == 0, resumed.output
    assert nexio_lab.open_batch("k", store).state == "finished"
    entities = [j["profile"]["entity"] for j in stalled.jobs()]
    assert len(set(entities)) == 16
    assert {e for e in entities if entities.count(e) > 1} <= in_doubt  # nothing paid twice
    assert len(entities) == 16 + len(in_doubt & set(entities))


def test_two_drivers_racing_one_wins_the_other_is_told_who(
    make_profiles: Any, tmp_path: Path, store: Path, stalled: Sandbox
) -> None:
    make_profiles(tmp_path / "p.csv", 12)
    environment = {k: v for k, v in os.environ.items() if not k.startswith("NEXIO_")}
    environment.update(env(stalled), NEXIO_LAB_HOME=str(store.parent))
    command = [
        sys.executable,
        "-m",
        "nexio_lab.cli",
        "run",
        "p.csv",
        "--pool",
        "carriers:all",
        "--name",
        "race",
        "--no-progress",
    ]
    racers = [
        subprocess.Popen(
            command,
            cwd=tmp_path,
            env=environment,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    try:
        wait_until(lambda: any(p.poll() is not None for p in racers), "one racer to give up")
        loser = next(p for p in racers if p.poll() is not None)
        winner = next(p for p in racers if p is not loser)
        _, err = loser.communicate(timeout=30)
        assert loser.returncode == 2, err
        assert f"batch 'race' is being run by process {winner.pid}" in err
        assert "Traceback" not in err
        assert winner.poll() is None and driver_pid(store, "race") == winner.pid
        nexio_lab.open_batch("race", store).cancel()
        _, err = winner.communicate(timeout=60)
        assert "Traceback" not in err
    finally:
        for p in racers:
            if p.poll() is None:
                p.kill()
                p.wait()
    journaled = {r["eval_id"] for r in rows(store, "race") if r["eval_id"]}
    assert journaled == {j["eval_id"] for j in stalled.jobs()}  # only the winner sent, all known
    assert len(rows(store, "race")) == 12


def test_reuse_and_the_dry_run_counts_from_the_cli(
    cli: Any, make_profiles: Any, tmp_path: Path, store: Path
) -> None:
    with run(speed=2000, rate_limit=2000, rate_window=1.0, api_keys=[SECRET], seed=4) as sb:
        make_profiles(tmp_path / "week1.csv", 10)
        make_profiles(tmp_path / "week2.csv", 14)  # the same first 10, and 4 new
        first = cli("run", "week1.csv", "--pool", "carriers:all", "--no-progress", env=env(sb))
        assert first.code == 0, first.output

        dry = cli(
            "run", "week2.csv", "--pool", "carriers:all", "--dry-run", "--price", "0.5", env=env(sb)
        )
        assert dry.code == 0, dry.output
        assert (
            "10 of 14 were evaluated in the last 7 days in this store; reuse='7d' would skip them"
            in dry.stdout
        )
        assert "billable evaluations: 14; requests expected: about 28" in dry.stdout
        assert "cost: 7.00 at 0.5 per evaluation" in dry.stdout
        assert "limit of 2000 requests per" in dry.stdout  # the ETA, from GET /health
        dry = cli(
            "run", "week2.csv", "--pool", "carriers:all", "--dry-run", "--reuse", "7d", env=env(sb)
        )
        assert "reused from the last 7 days in this store (not sent, not billed): 10" in dry.stdout
        assert "billable evaluations: 4; requests expected: about 8" in dry.stdout
        assert sb.stats()["posts"] == 10  # dry runs send nothing

        second = cli(
            "run",
            "week2.csv",
            "--pool",
            "carriers:all",
            "--reuse",
            "7d",
            "--out",
            "o",
            "--no-progress",
            env=env(sb),
        )
        assert second.code == 0, second.output
        assert sb.stats()["posts"] == 14  # only the 4 new rows were sent
        table = nexio_lab.read_results(tmp_path / "o").evaluations
        assert table["reused_from"].str.startswith("week1:eval").sum() == 10
        listed = cli("list")
        assert re.search(r"week2\s+finished\s+14\s+14\s+0\s+0\s+0\s+0\s+10", listed.stdout), (
            listed.stdout
        )
