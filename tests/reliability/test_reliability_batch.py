"""Batch-level faults: every row finishes (or says why not), none is lost, none paid twice
except rows the journal marked uncertain."""

from __future__ import annotations

import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from fault_servers import FaultServer, forward, forward_then_drop, html, reset
from reliability_support import (
    SANDBOX_KEY,
    CountingTransport,
    duplicates,
    journal_rows,
    profiles,
    record_batch,
    sent_by,
)

import nexio_lab as nx
from nexio_lab.sandbox import Sandbox

POOL = "carriers:tier1"


def _run(client: nx.Client, rows: Any, store: Path, name: str, **options: Any) -> nx.Batch:
    return client.run_batch(rows, pool=POOL, store=store, progress=False, name=name, **options)


def _line(
    record: Any, fault: str, batch: nx.Batch, sandbox: Sandbox, client: nx.Client, rows: int
) -> Any:
    """The summary line of one batch run straight against ``sandbox``."""
    stats = sandbox.stats()
    return record_batch(
        record,
        fault,
        [batch],
        rows,
        requests=stats["requests"] - stats["health"],
        sent=sent_by(client),
        jobs=sandbox.jobs(),
        duplicates=duplicates(sandbox),
    )


def _wait_for(predicate: Callable[[], bool], timeout: float = 30.0, what: str = "") -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what or predicate}")
        time.sleep(0.02)


@pytest.mark.parametrize("error_rate", [0.1, 0.3])
def test_injected_server_errors_every_row_finishes(
    error_rate: float,
    make_sandbox: Callable[..., Sandbox],
    make_client: Callable[..., nx.Client],
    tmp_path: Path,
    reliability: Any,
) -> None:
    sandbox = make_sandbox(error_rate=error_rate, seed=7)
    client = make_client(sandbox.url)
    batch = _run(client, profiles(24), tmp_path / "j.sqlite", "errors")
    assert batch.status_counts()["completed"] == 24, batch.status_counts()
    assert batch.ok and batch.stopped_reason is None
    assert sandbox.stats()["injected_errors"] > 0  # the faults really happened
    line = _line(
        reliability, f"500/503 on {error_rate:.0%} of requests", batch, sandbox, client, 24
    )
    assert line.lost == 0 and line.duplicates == 0 and line.retries > 0


def test_failed_evaluations_are_rows_failed_with_their_error(
    make_sandbox: Callable[..., Sandbox],
    make_client: Callable[..., nx.Client],
    tmp_path: Path,
    reliability: Any,
) -> None:
    sandbox = make_sandbox(failure_rate=0.4, seed=3)
    client = make_client(sandbox.url)
    batch = _run(client, profiles(20), tmp_path / "j.sqlite", "failures")
    counts = batch.status_counts()
    assert counts["completed"] + counts["failed"] == 20 and counts["failed"] > 0
    failed = [r for r in batch.records() if r.status == "failed"]
    assert all(r.error_message for r in failed), failed[0]
    line = _line(reliability, "evaluations ending failed (40%)", batch, sandbox, client, 20)
    assert line.lost == 0 and line.duplicates == 0


def test_evaluations_that_never_finish_hit_the_deadline(
    make_sandbox: Callable[..., Sandbox],
    make_client: Callable[..., nx.Client],
    tmp_path: Path,
    reliability: Any,
) -> None:
    sandbox = make_sandbox(speed=1e-4)  # 15-60 s become 40+ hours
    client = make_client(sandbox.url)
    batch = _run(client, profiles(3), tmp_path / "j.sqlite", "stuck", deadline_s=0.5)
    assert batch.status_counts()["error"] == 3
    for record in batch.records():
        assert record.error_code == "deadline"
        assert "deadline" in record.error_message and "rerun" in record.error_message
    line = _line(reliability, "evaluations that never finish (deadline)", batch, sandbox, client, 3)
    assert line.lost == 0 and line.duplicates == 0


def test_429_storm_at_a_tight_limit(
    make_sandbox: Callable[..., Sandbox],
    make_client: Callable[..., nx.Client],
    tmp_path: Path,
    reliability: Any,
) -> None:
    sandbox = make_sandbox(rate_limit=6, rate_window=0.5)
    client = make_client(sandbox.url)
    batch = _run(client, profiles(20), tmp_path / "j.sqlite", "tight")
    assert batch.status_counts()["completed"] == 20
    limited = sandbox.stats()["by_status"].get("429", 0)
    assert limited == client.limiter.rate_limited <= 1  # the limiter waits instead
    line = _line(reliability, "tight rate limit (6 per 0.5 s)", batch, sandbox, client, 20)
    assert line.lost == 0 and line.duplicates == 0


def test_resets_and_proxy_pages_on_polls(
    sandbox: Sandbox,
    make_fault_server: Callable[..., FaultServer],
    make_client: Callable[..., nx.Client],
    tmp_path: Path,
    reliability: Any,
) -> None:
    def handler(request: Any) -> Any:
        if request.method == "GET" and request.index % 3 == 0:
            return reset
        if request.method == "GET" and request.index % 5 == 1:
            return html(502)
        return forward

    proxy = make_fault_server(handler, upstream=sandbox)
    client = make_client(proxy.url)
    batch = _run(client, profiles(16), tmp_path / "j.sqlite", "resets")
    assert batch.status_counts()["completed"] == 16
    line = record_batch(
        reliability,
        "resets and proxy 502 pages on polls",
        [batch],
        16,
        requests=proxy.count(),
        sent=sent_by(client),
        jobs=sandbox.jobs(),
        duplicates=duplicates(sandbox),
    )
    assert line.lost == 0 and line.duplicates == 0
    faulted = sum(
        1 for r in proxy.requests if r.method == "GET" and (r.index % 3 == 0 or r.index % 5 == 1)
    )
    assert line.retries == faulted > 0  # each faulted poll retried once by the client


def test_lost_post_answers_become_uncertain_and_a_rerun_resubmits_only_them(
    sandbox: Sandbox,
    make_fault_server: Callable[..., FaultServer],
    make_client: Callable[..., nx.Client],
    tmp_path: Path,
    reliability: Any,
) -> None:
    lost_posts = {2, 5, 9}
    seen: list[int] = []

    def handler(request: Any) -> Any:
        if request.method != "POST":
            return forward
        seen.append(request.index)
        return forward_then_drop if len(seen) - 1 in lost_posts else forward

    proxy = make_fault_server(handler, upstream=sandbox)
    client = make_client(proxy.url)
    store = tmp_path / "j.sqlite"
    first = _run(client, profiles(12), store, "lost-posts")
    counts = first.status_counts()
    assert counts["uncertain"] == 3 and counts["completed"] == 9
    uncertain = {r.profile["entity"] for r in first.records() if r.status == "uncertain"}
    assert len(sandbox.jobs()) == 12  # the server did create the three lost ones

    again = _run(client, profiles(12), store, "lost-posts", resubmit_uncertain=True)
    assert again.status_counts()["completed"] == 12
    entities = [j["profile"]["entity"] for j in sandbox.jobs()]
    paid_twice = {e for e in entities if entities.count(e) > 1}
    assert paid_twice == uncertain  # duplicates only for rows journaled as uncertain
    record_batch(
        reliability,
        "POST answer lost after the job was created (rerun)",
        [first, again],
        12,
        requests=proxy.count(),
        sent=sent_by(client),
        jobs=sandbox.jobs(),
        duplicates=duplicates(sandbox),
    )


def _all_submitted(store: Path, name: str, n: int) -> Callable[[], bool]:
    def check() -> bool:
        try:
            rows = journal_rows(store, name)
        except sqlite3.Error:
            return False
        return len(rows) == n and all(r["eval_id"] for r in rows)

    return check


@pytest.mark.parametrize("with_db", [True, False])
def test_sandbox_restarted_mid_batch(
    with_db: bool,
    make_sandbox: Callable[..., Sandbox],
    tmp_path: Path,
    reliability: Any,
) -> None:
    db = tmp_path / "sandbox.sqlite" if with_db else None
    # 4 rows (the engine's scouts, polled from 1 s on), each taking 1.5-6 s: all still
    # running when the sandbox restarts right after the last submission
    first = make_sandbox(speed=10, db=db)
    store = tmp_path / "j.sqlite"
    # the default backoff, as a user has it: it rides out the restart
    transport = CountingTransport()
    with nx.Client(SANDBOX_KEY, base_url=first.url, transport=transport) as client:
        batch = client.start_batch(
            profiles(4), pool=POOL, store=store, progress=False, name="restart"
        )
        _wait_for(_all_submitted(store, "restart", 4), what="every row submitted")
        first.stop()
        second = make_sandbox(speed=10, db=db, port=first.port)
        batch.wait(timeout=60)
    counts = batch.status_counts()
    records = batch.records()
    if with_db:
        assert counts["completed"] == 4, counts
        assert batch.ok
        fault = "sandbox restarted mid-batch (--db)"
    else:
        lost_ids = [r for r in records if r.status == "error"]
        assert len(lost_ids) == 4, counts  # unfinished jobs are gone with the server
        for record in lost_ids:
            assert record.error_code == "not_found"
            assert "restarted" in record.error_message and record.eval_id in record.error_message
        # reported per row after one 404 each: not retried forever
        assert second.stats()["by_status"].get("404") == len(lost_ids)
        fault = "sandbox restarted mid-batch (no db: 404 per row)"
    record_batch(
        reliability,
        fault,
        [batch],
        4,
        # requests refused while the server was down reached no server: counted as sent
        requests=first.stats()["requests"] + second.stats()["requests"],
        sent=transport.sent,
        jobs=second.jobs() if with_db else None,
        duplicates=len(second.jobs()) if not with_db else duplicates(second),
    )


def _start_cli_run(sandbox: Sandbox, store: Path, rows: Path, home: Path) -> subprocess.Popen:
    """``nexio-lab run`` in a child process, as an analyst would start it."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("NEXIO_")}
    env.update(NEXIO_API_KEY=SANDBOX_KEY, NEXIO_BASE_URL=sandbox.url, NEXIO_LAB_HOME=str(home))
    command = [
        sys.executable,
        "-m",
        "nexio_lab.cli",
        "-v",  # logs each retry: the child's counters die with it, its log does not
        "run",
        str(rows),
        "--pool",
        POOL,
        "--store",
        str(store),
        "--name",
        "killed",
        "--no-progress",
        "--out",
        str(home / "out"),
    ]
    return subprocess.Popen(
        command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )


def _wait_for_submissions(store: Path, at_least: int) -> None:
    def some_submitted() -> bool:
        try:
            return sum(bool(r["eval_id"]) for r in journal_rows(store, "killed")) >= at_least
        except sqlite3.Error:
            return False

    _wait_for(some_submitted, timeout=60, what=f"{at_least} rows submitted by the CLI")


def test_sigkill_mid_batch_then_rerun(
    make_sandbox: Callable[..., Sandbox],
    make_client: Callable[..., nx.Client],
    tmp_path: Path,
    reliability: Any,
) -> None:
    # quick jobs, but a tight limit spreads the 60 requests over about 4 s: time to kill
    sandbox = make_sandbox(rate_limit=8, rate_window=0.5)
    store = tmp_path / "j.sqlite"
    rows = tmp_path / "rows.jsonl"
    rows.write_text("".join(json.dumps(p) + "\n" for p in profiles(30)))
    process = _start_cli_run(sandbox, store, rows, tmp_path / "home")
    try:
        _wait_for_submissions(store, 6)
        process.send_signal(signal.SIGKILL)
        _, stderr = process.communicate(timeout=10)
        assert process.returncode == -signal.SIGKILL
    finally:
        if process.poll() is None:
            process.kill()
    child_requests = sandbox.stats()["requests"]
    child_retries = sum("retrying" in line for line in stderr.splitlines())
    with sqlite3.connect(store) as db:
        assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    at_kill = journal_rows(store, "killed")
    in_doubt = {json.loads(r["profile"])["entity"] for r in at_kill if r["status"] == "submitting"}
    unfinished = sum(r["status"] not in {"completed", "failed"} for r in at_kill)
    assert unfinished > 0  # the kill really landed mid-batch

    client = make_client(sandbox.url)
    batch = client.run_batch(rows, pool=POOL, store=store, name="killed", progress=False)
    assert batch.status_counts()["completed"] == 30, batch.status_counts()
    entities = [j["profile"]["entity"] for j in sandbox.jobs()]
    paid_twice = {e for e in entities if entities.count(e) > 1}
    assert paid_twice <= in_doubt  # duplicates only for rows journaled as uncertain
    record_batch(
        reliability,
        "client SIGKILLed mid-batch, rerun",
        [batch],
        30,
        requests=sandbox.stats()["requests"],
        own_elsewhere=child_requests - child_retries,  # the killed child's engine
        jobs=sandbox.jobs(),
        duplicates=duplicates(sandbox),
    )


CHILD = Path(__file__).with_name("journal_child.py")


def _child_batch(sandbox: Sandbox, store: Path, name: str, n: int, **limits: Any) -> dict:
    """Run a batch in a child process under ``limits`` (see journal_child.py)."""
    options = {"url": sandbox.url, "store": str(store), "name": name, "n": n, **limits}
    env = {k: v for k, v in os.environ.items() if not k.startswith("NEXIO_")}
    env["PYTHONPATH"] = str(CHILD.parent)
    env["NEXIO_LAB_HOME"] = str(store.parent / "home")
    done = subprocess.run(
        [sys.executable, str(CHILD), json.dumps(options)],
        env=env,
        cwd=store.parent,
        capture_output=True,
        text=True,
        timeout=90,
    )
    lines = [line for line in done.stdout.splitlines() if line.startswith("{")]
    assert done.returncode == 0 and lines, done.stderr[-3000:]
    return json.loads(lines[-1])


@pytest.fixture
def open_dir() -> Iterator[Path]:
    """A directory another user can enter (pytest's tmp_path is private to root)."""
    path = Path(tempfile.mkdtemp(prefix="nexio-journal-"))
    path.chmod(0o755)
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


def test_journal_disk_full_then_rerun_with_space(
    make_sandbox: Callable[..., Sandbox],
    make_client: Callable[..., nx.Client],
    tmp_path: Path,
    reliability: Any,
) -> None:
    # ten requests per 0.5 s: rows complete one after another; once ten have, the child's
    # disk is full (no file of it may grow any more)
    sandbox = make_sandbox(rate_limit=10, rate_window=0.5)
    store = tmp_path / "j.sqlite"
    outcome = _child_batch(sandbox, store, "full", 40, full_after=10)
    stopped = outcome["raised"] or outcome["stopped"] or ""
    assert "cannot write the journal" in stopped and str(store) in stopped, outcome
    assert "free space" in stopped
    with sqlite3.connect(store) as db:
        assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    at_stop = journal_rows(store, "full")
    done_at_stop = sum(r["status"] == "completed" for r in at_stop)
    assert len(at_stop) == 40 and 0 < done_at_stop < 40, "the disk did not fill mid-batch"
    in_doubt = {
        json.loads(r["profile"])["entity"]
        for r in at_stop
        if r["status"] in {"submitting", "uncertain"}
    }
    # space freed (no limit in this process): the rerun finishes every row
    client = make_client(sandbox.url)
    again = _run(client, profiles(40), store, "full", resubmit_uncertain=True)
    assert again.status_counts()["completed"] == 40, again.status_counts()
    entities = [j["profile"]["entity"] for j in sandbox.jobs()]
    assert {e for e in entities if entities.count(e) > 1} <= in_doubt
    record_batch(
        reliability,
        "journal disk full, rerun after freeing space",
        [again],
        40,
        requests=sandbox.stats()["requests"] - sandbox.stats()["health"],
        sent=outcome["sent"] + sent_by(client),
        own_elsewhere=outcome["requests"],  # the child's engine
        jobs=sandbox.jobs(),
        duplicates=duplicates(sandbox),
    )


def test_journal_that_cannot_be_written(
    open_dir: Path, sandbox: Sandbox, make_client: Callable[..., nx.Client]
) -> None:
    store = open_dir / "j.sqlite"
    client = make_client(sandbox.url)
    done = _run(client, profiles(2), store, "ro")
    assert done.status_counts()["completed"] == 2
    done.journal.close()
    store.chmod(0o444)
    before = store.read_bytes()
    posts = sandbox.stats()["posts"]
    # root writes through permission bits: the child drops to another user first
    user = {"uid": 65534} if os.geteuid() == 0 else {}
    outcome = _child_batch(sandbox, store, "ro-more", 4, **user)
    assert outcome["raised"] and "JournalError" in outcome["raised"], outcome
    assert str(store) in outcome["raised"]
    assert sandbox.stats()["posts"] == posts  # nothing sent without a journal
    assert store.read_bytes() == before
    with sqlite3.connect(f"file:{store}?mode=ro", uri=True) as db:
        assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)


def test_ctrl_c_mid_batch_stops_at_once_with_the_journal_consistent(
    make_sandbox: Callable[..., Sandbox], tmp_path: Path
) -> None:
    # eight requests per 5 s: the run is still submitting when Ctrl-C comes
    sandbox = make_sandbox(rate_limit=8, rate_window=5.0)
    store = tmp_path / "j.sqlite"
    rows = tmp_path / "rows.jsonl"
    rows.write_text("".join(json.dumps(p) + "\n" for p in profiles(30)))
    process = _start_cli_run(sandbox, store, rows, tmp_path / "home")
    try:
        _wait_for_submissions(store, 3)
        process.send_signal(signal.SIGINT)
        _, stderr = process.communicate(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 130, stderr
    assert "Traceback" not in stderr
    at_stop = journal_rows(store, "killed")
    assert not [r for r in at_stop if r["status"] == "submitting"]
    journaled = {r["eval_id"] for r in at_stop if r["eval_id"]}
    assert journaled == {j["eval_id"] for j in sandbox.jobs()}  # every created job is known
    assert sum(r["status"] == "pending" for r in at_stop) > 0  # it stopped submitting
