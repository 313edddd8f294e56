"""Batches that outlive their process: open, list, resume by name, one driver, reuse, plans.

Everything runs against real sandboxes on loopback. A sandbox whose window allows a few
requests per hour keeps a batch "running" for as long as a test needs, without timing.
"""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import nexio_lab
from nexio_lab import Client
from nexio_lab.batch import BatchLockedError, fetch_rate_limit, plan_batch
from nexio_lab.batch._registry import LIST_COLUMNS
from nexio_lab.sandbox import Sandbox

STATES = ["CA", "TX", "NY", "FL", "IL"]


def profiles(n: int, prefix: str = "co", start: int = 0) -> pd.DataFrame:
    idx = range(start, start + n)
    return pd.DataFrame(
        {
            "entity": [f"{prefix}-{i}" for i in idx],
            "state": [STATES[i % 5] for i in idx],
            "line": ["general_liability"] * n,
            "revenue": [250_000 * (i + 1) for i in idx],
        }
    )


def run(client: Client, rows: pd.DataFrame, name: str, store: Path, **options: object):
    return client.run_batch(
        rows, pool="carriers:all", name=name, store=store, progress=False, **options
    )


def open_the_window(sb: Sandbox) -> None:
    """The stalled sandbox lets everything through from now on (a new, generous window)."""
    import dataclasses

    limiter = sb._state.limiter
    limiter.rule = dataclasses.replace(limiter.rule, limit=100_000)
    limiter.reset()


def wait_until(condition: Callable[[], bool], what: str, timeout: float = 60.0) -> None:
    """Poll ``condition`` (no fixed sleep decides anything); fail the test after ``timeout``."""
    event = threading.Event()
    deadline = datetime.now(UTC) + timedelta(seconds=timeout)
    while not condition():
        if datetime.now(UTC) > deadline:
            pytest.fail(f"timed out waiting for {what}")
        event.wait(0.05)


def test_open_batch_tells_the_truth_finished_stopped_running(make_sandbox, tmp_path) -> None:
    sb = make_sandbox()
    store = tmp_path / "j.sqlite"
    client = Client(sb.api_key, base_url=sb.url)
    run(client, profiles(6), "done", store)
    opened = nexio_lab.open_batch("done", store)
    assert repr(opened) == "<Batch 'done' finished: completed=6>"
    assert len(opened.evaluations) == 6 and opened.status_counts()["completed"] == 6

    # five requests per hour: the batch stalls after five, still driven by this process
    slow = make_sandbox(rate_limit=5, rate_window=3600)
    slow_client = Client(slow.api_key, base_url=slow.url)
    started = slow_client.start_batch(
        profiles(12), pool="carriers:all", name="slow", store=store, progress=False
    )
    live = nexio_lab.open_batch("slow", store)
    assert live.running and live.pid == os.getpid()
    assert repr(live).startswith(f"<Batch 'slow' running in process {os.getpid()}:")
    listed = nexio_lab.list_batches(store).set_index("name")
    assert bool(listed.loc["slow", "running"]) and listed.loc["slow", "pid"] == os.getpid()
    assert listed.loc["slow", "state"] == "running"

    started.cancel()
    left = sum(
        n for s, n in live.status_counts().items() if s in {"pending", "queued", "processing"}
    )
    assert left > 0 and not live.running
    assert (
        live.state == "stopped"
        and live.describe() == f"stopped with {left} not finished (cancelled)"
    )
    assert repr(live).startswith(f"<Batch 'slow' stopped with {left} not finished (cancelled):")

    frame = nexio_lab.list_batches(store)
    assert tuple(frame.columns) == LIST_COLUMNS
    assert list(frame["name"]) == ["done", "slow"]
    row = frame.set_index("name").loc["done"]
    assert row["rows"] == 6 and row["completed"] == 6 and row["state"] == "finished"
    assert row["key_kind"] == "test" and row["base_url"] == sb.url and not row["running"]
    assert row["pools"] == "carriers:all"
    assert frame.set_index("name").loc["slow", "state"] == "stopped"
    assert frame["last_activity"].notna().all()
    with pytest.raises(nexio_lab.NexioError, match=r"no batch named 'nope'.*done, slow"):
        nexio_lab.open_batch("nope", store)


def test_resume_by_name_needs_no_input_and_pays_nothing_twice(make_sandbox, tmp_path) -> None:
    sb = make_sandbox(rate_limit=8, rate_window=3600)
    store = tmp_path / "j.sqlite"
    client = Client(sb.api_key, base_url=sb.url)
    batch = client.start_batch(
        profiles(15),
        pools=["carriers:all", "carriers:tier1"],
        name="r",
        store=store,
        progress=False,
    )
    wait_until(lambda: sb.stats()["requests"] >= 8, "the window to be spent")
    batch.cancel()
    created = sb.stats()["jobs_created"]
    assert 0 < created < 30
    open_the_window(sb)
    client = Client(sb.api_key, base_url=sb.url)  # one that has not seen the old window

    resumed = nexio_lab.open_batch("r", store).resume(client, progress=False)
    assert resumed.status_counts()["completed"] + resumed.status_counts()["failed"] == 30
    assert sb.stats()["jobs_created"] == 30  # the first run's jobs were polled, not resent
    assert set(resumed.evaluations["pool"]) == {"carriers:all", "carriers:tier1"}
    assert nexio_lab.open_batch("r", store).state == "finished"

    # client.resume_batch of a finished batch sends nothing
    posts = sb.stats()["posts"]
    again = client.resume_batch("r", store=store, progress=False)
    assert again.status_counts()["completed"] + again.status_counts()["failed"] == 30
    assert sb.stats()["posts"] == posts

    other = make_sandbox()
    elsewhere = Client(other.api_key, base_url=other.url)
    with pytest.raises(nexio_lab.NexioError, match="was run against"):
        elsewhere.resume_batch("r", store=store, progress=False)


def test_one_driver_at_a_time_and_a_dead_ones_lock_is_taken_over(make_sandbox, tmp_path) -> None:
    sb = make_sandbox(rate_limit=3, rate_window=3600)
    store = tmp_path / "j.sqlite"
    client = Client(sb.api_key, base_url=sb.url)
    first = client.start_batch(
        profiles(6), pool="carriers:all", name="x", store=store, progress=False
    )
    # the first driver sends the key's 3 requests of the hour (one at a time: the first
    # window may be shared), then waits; only then are the others' requests countable
    deadline = time.monotonic() + 60
    while sb.stats()["posts"] < 3:
        assert time.monotonic() < deadline, "the first driver never sent its 3 requests"
        time.sleep(0.01)
    posts = sb.stats()["posts"]
    for attempt in (
        lambda: client.start_batch(
            profiles(6), pool="carriers:all", name="x", store=store, progress=False
        ),
        lambda: client.resume_batch("x", store=store, progress=False),
        lambda: client.resume_batch("x", store=store, detach=True),
    ):
        with pytest.raises(
            BatchLockedError, match=f"batch 'x' is being run by process {os.getpid()}"
        ):
            attempt()
    assert sb.stats()["posts"] == posts  # a refused driver sent nothing
    first.cancel()

    # a process that held the lock and died: its lock is taken over
    dead = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True
    )
    dead_pid = int(dead.stdout)
    with sqlite3.connect(store) as db:
        db.execute(
            "INSERT INTO drivers (batch, token, pid, host, started_at, heartbeat_at) "
            "VALUES ('x', 'gone', ?, ?, '2026-01-01T00:00:00+00:00', '2026-01-01T00:00:00+00:00')",
            (dead_pid, os.uname().nodename),
        )
    assert nexio_lab.open_batch("x", store).state.startswith("stopped")  # its pid is gone
    open_the_window(sb)
    taken = client.resume_batch("x", store=store, progress=False, wait=False)
    assert nexio_lab.open_batch("x", store).pid == os.getpid()
    taken.cancel()
    assert not nexio_lab.open_batch("x", store).running


def test_reuse_skips_the_post_and_says_where_from(make_sandbox, tmp_path) -> None:
    sb = make_sandbox()
    store = tmp_path / "j.sqlite"
    client = Client(sb.api_key, base_url=sb.url)
    first = run(client, profiles(10), "week1", store)
    assert first.ok
    # the same profiles as numpy scalars and in another column order are the same profiles
    again = profiles(10)[["revenue", "line", "entity", "state"]]
    again["revenue"] = again["revenue"].astype(np.int64)
    more = pd.concat([again, profiles(4, start=10)[["revenue", "line", "entity", "state"]]])

    plan = plan_batch(
        more, pool="carriers:all", name="week2", journal=first.journal, base_url=sb.url
    )
    assert (plan.billable, plan.reusable_recent, plan.reusable_any) == (14, 10, 10)
    assert (
        "10 of 14 were evaluated in the last 7 days in this store; reuse='7d' would skip them"
        in str(plan)
    )
    plan = plan_batch(
        more, pool="carriers:all", name="week2", journal=first.journal, base_url=sb.url, reuse="7d"
    )
    assert (plan.billable, plan.reused) == (4, 10)

    posts = sb.stats()["posts"]
    second = run(client, more.reset_index(drop=True), "week2", store, reuse="7d")
    assert second.ok and sb.stats()["posts"] == posts + 4  # no POST for a reused row
    ev = second.evaluations.set_index("entity")
    sources = first.evaluations.set_index("entity")["eval_id"]
    for entity in sources.index:
        assert ev.loc[entity, "reused_from"] == f"week1:{sources[entity]}"
        assert ev.loc[entity, "eval_id"] == sources[entity]
    assert ev["reused_from"].isna().sum() == 4
    assert len(second.candidates[second.candidates["entity"] == "co-0"]) > 0
    listed = nexio_lab.list_batches(store).set_index("name")
    assert listed.loc["week2", "reused"] == 10 and listed.loc["week1", "reused"] == 0


def test_what_is_not_reused(make_sandbox, tmp_path) -> None:
    sb = make_sandbox(seed=3)
    store = tmp_path / "j.sqlite"
    client = Client(sb.api_key, base_url=sb.url)
    run(client, profiles(4), "base", store)

    changed = profiles(4)
    changed.loc[0, "state"] = "WA"  # one field of one profile
    posts = sb.stats()["posts"]
    b = run(client, changed, "changed", store, reuse=True)
    assert sb.stats()["posts"] == posts + 1 and b.evaluations["reused_from"].notna().sum() == 3

    posts = sb.stats()["posts"]
    c = client.run_batch(
        profiles(4), pool="carriers:tier1", name="pool", store=store, progress=False, reuse=True
    )
    assert sb.stats()["posts"] == posts + 4 and c.evaluations["reused_from"].isna().all()

    # results two days old: outside a one-day window, inside a three-day one
    with sqlite3.connect(store) as db:
        old = (datetime.now(UTC) - timedelta(days=2)).isoformat()
        db.execute("UPDATE rows SET completed_at = ?", (old,))
    posts = sb.stats()["posts"]
    d = run(client, profiles(4), "expired", store, reuse="1d")
    assert sb.stats()["posts"] == posts + 4 and d.evaluations["reused_from"].isna().all()
    with sqlite3.connect(store) as db:
        db.execute("UPDATE rows SET completed_at = ?", (old,))
    posts = sb.stats()["posts"]
    e = run(client, profiles(4), "in-window", store, reuse="3d")
    assert sb.stats()["posts"] == posts and e.evaluations["reused_from"].notna().all()

    other = make_sandbox(seed=3)  # the same service elsewhere: another base URL
    with Client(other.api_key, base_url=other.url) as elsewhere:
        f = run(elsewhere, profiles(4), "elsewhere", store, reuse=True)
    assert other.stats()["posts"] == 4 and f.evaluations["reused_from"].isna().all()

    with pytest.raises(nexio_lab.NexioError, match="reuse must be"):
        run(client, profiles(4), "bad", store, reuse="soon")


def test_plan_estimates_requests_eta_and_cost(make_sandbox, tmp_path) -> None:
    sb = make_sandbox(rate_limit=120, rate_window=60.0)
    read_at = time.time()
    limit = fetch_rate_limit(sb.url)
    assert limit is not None and limit.limit == 120
    plan = plan_batch(
        profiles(30),
        pools=["carriers:all", "carriers:tier1"],
        base_url=sb.url,
        price_per_evaluation=0.4,
        rate_limit=limit,
        rate_limit_at=read_at,
    )
    assert plan.billable == 60 and plan.requests == 120 and plan.cost == pytest.approx(24.0)
    assert plan.window_s is not None and 0 < plan.window_s <= 60.0
    assert plan.eta_s == pytest.approx(120 / 120 * plan.window_s)
    text = str(plan)
    assert "requests expected: about 120" in text and "cost: 24.00 at 0.4 per evaluation" in text
    assert "ETA: about" in text and "limit of 120 requests per" in text
    hooked = plan_batch(profiles(30), pool="carriers:all", webhook="http://127.0.0.1:9/h")
    assert hooked.requests == 30 and hooked.eta_s is None
    assert sb.stats()["posts"] == 0

    # a stopped batch: its journaled rows are resumed, not counted as new
    store = tmp_path / "j.sqlite"
    slow = make_sandbox(rate_limit=4, rate_window=3600)
    client = Client(slow.api_key, base_url=slow.url)
    batch = client.start_batch(
        profiles(10), pool="carriers:all", name="s", store=store, progress=False
    )
    wait_until(lambda: slow.stats()["requests"] >= 4, "the window to be spent")
    batch.cancel()
    counts = batch.status_counts()
    plan = plan_batch(
        profiles(10), pool="carriers:all", name="s", journal=batch.journal, base_url=slow.url
    )
    sent = slow.stats()["jobs_created"]
    unfinished_sent = counts["queued"] + counts["processing"]
    assert plan.already_known == 10 and plan.billable == 0
    assert plan.resumed_to_send == 10 - sent and plan.resumed_to_poll == unfinished_sent
    assert plan.requests == 2 * (10 - sent) + unfinished_sent


class Recorder:
    """A progress reporter that keeps every snapshot it is given."""

    def __init__(self) -> None:
        self.updates: list[object] = []
        self.closed: object = None

    def update(self, snapshot: object) -> None:
        self.updates.append(snapshot)

    def close(self, snapshot: object) -> None:
        self.closed = snapshot


def test_detach_from_the_library_then_attach_feeds_progress_from_the_journal(
    make_sandbox, tmp_path
) -> None:
    key = "nx_test_L1braryDetachK3y0123456789abcdef"
    sb = make_sandbox(speed=200, rate_limit=40, rate_window=1.0, api_keys=[key])
    store = tmp_path / "j.sqlite"
    client = Client(key, base_url=sb.url)
    handle = client.start_batch(
        profiles(40), pool="carriers:all", name="lib", store=store, detach=True
    )
    assert handle.log_path is not None and handle.log_path.parent == tmp_path / "logs"
    recorder = Recorder()
    done = nexio_lab.attach("lib", store, progress=recorder)
    assert done.describe() == "finished" and not done.running
    assert recorder.closed is not None and recorder.closed.finished
    assert recorder.closed.counts["completed"] == 40
    assert all(u.total == 40 for u in recorder.updates)
    assert sb.stats()["posts"] == 40
    assert len(done.evaluations) == 40 and done.evaluations["reused_from"].isna().all()
    assert key not in handle.log_path.read_text()
    assert not any(key.encode() in p.read_bytes() for p in tmp_path.glob("j.sqlite*"))


def test_opening_a_store_that_does_not_exist_creates_nothing(tmp_path) -> None:
    from nexio_lab import JournalError, open_batch

    missing = tmp_path / "nowhere" / "journal.sqlite"
    with pytest.raises(JournalError, match="no journal at"):
        open_batch("q4", store=missing)
    assert not missing.exists() and not missing.parent.exists()
