"""Whatever fails inside a batch, the batch ends: promptly, with its budget given back, every
row in a state that says the truth, and the error raised to whoever waits for it.

Each test injects one failure at one step (before a request, while journaling, in the
limiter, while parsing an answer), on the N-th time that step runs, against a real sandbox.
A hang would be caught by pytest-timeout; the assertions check what was left behind.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

import nexio_lab as nx
from nexio_lab._limiter import RateLimiter
from nexio_lab._models import Evaluation
from nexio_lab._transport import Transport
from nexio_lab.batch import Journal, JournalError
from nexio_lab.sandbox import Sandbox

ROWS = [{"entity": f"co-{i}", "state": "CA"} for i in range(12)]


class Injected(RuntimeError):
    """The failure a test injects (a bug anywhere would look like this)."""


def fail_on_call(
    monkeypatch: pytest.MonkeyPatch,
    owner: Any,
    attribute: str,
    nth: int,
    error: BaseException | None = None,
    when: Callable[..., bool] = lambda *a, **k: True,
) -> list[int]:
    """Make ``owner.attribute`` raise on its ``nth`` matching call (1-based); returns the
    call counter so a test can check the failure really happened."""
    original = getattr(owner, attribute)
    calls = [0]

    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if when(*args, **kwargs):
            calls[0] += 1
            if calls[0] == nth:
                raise error or Injected(f"{attribute} failed (call {nth})")
        return original(*args, **kwargs)

    async def async_wrapper(*args: Any, **kwargs: Any) -> Any:
        if when(*args, **kwargs):
            calls[0] += 1
            if calls[0] == nth:
                raise error or Injected(f"{attribute} failed (call {nth})")
        return await original(*args, **kwargs)

    import inspect

    is_async = inspect.iscoroutinefunction(original)
    monkeypatch.setattr(owner, attribute, async_wrapper if is_async else wrapper)
    return calls


def journal_rows(store: Path, name: str) -> list[tuple[int, str, str | None]]:
    with sqlite3.connect(store) as db:
        return db.execute(
            "SELECT row, status, eval_id FROM rows WHERE batch = ? ORDER BY row", (name,)
        ).fetchall()


def assert_truthful(store: Path, name: str, sandbox: Sandbox) -> dict[str, int]:
    """No row is left 'submitting' (the run is over), and the jobs the server created are
    exactly the rows that know their eval_id plus those marked uncertain."""
    rows = journal_rows(store, name)
    statuses = [status for _, status, _ in rows]
    assert "submitting" not in statuses
    assert all(eval_id for _, status, eval_id in rows if status in {"queued", "processing"})
    assert all(eval_id is None for _, status, eval_id in rows if status == "pending")
    known = sum(1 for _, _, eval_id in rows if eval_id)
    assert sandbox.stats()["jobs_created"] == known + statuses.count("uncertain")
    return {s: statuses.count(s) for s in set(statuses)}


def run_to_failure(
    client: nx.Client, store: Path, expected: type[BaseException] = Injected
) -> pytest.ExceptionInfo[BaseException]:
    with pytest.raises(expected) as caught:
        client.run_batch(ROWS, pool="carriers:all", name="b", store=store, progress=False)
    assert client.limiter.in_flight == 0  # every slot given back
    return caught


def resume_finishes(sandbox: Sandbox, store: Path) -> None:
    """A rerun finishes every row; the only extra jobs are resubmitted uncertain rows."""
    uncertain = sum(1 for _, status, _ in journal_rows(store, "b") if status == "uncertain")
    created = sandbox.stats()["jobs_created"]
    again = nx.Client(sandbox.api_key, base_url=sandbox.url).run_batch(
        ROWS, pool="carriers:all", name="b", store=store, progress=False
    )
    assert again.ok, again.status_counts()
    pending_before = len(ROWS) - created + uncertain
    assert sandbox.stats()["jobs_created"] == created + pending_before


@pytest.fixture
def client(sandbox: Sandbox) -> nx.Client:
    return nx.Client(sandbox.api_key, base_url=sandbox.url)


# -- the missing key (the hang this file was written for) -------------------------------------


def test_no_key_fails_at_once_and_journals_nothing(
    sandbox: Sandbox, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("NEXIO_API_KEY", raising=False)
    client = nx.Client(base_url=sandbox.url)
    store = tmp_path / "j.sqlite"
    with pytest.raises(nx.MissingAPIKeyError, match="NEXIO_API_KEY"):
        client.start_batch(ROWS, pool="carriers:all", name="b", store=store, progress=False)
    assert sandbox.stats()["requests"] == 0
    assert not Journal(store).has_batch("b")


# call 1 of require_key is the batch's own check, before anything is journaled; the next
# ones run inside the transport, between taking a slot and sending
@pytest.mark.parametrize("nth", [2, 6])
def test_failure_before_a_request_leaves_rows_pending(
    nth: int, client: nx.Client, sandbox: Sandbox, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls = fail_on_call(monkeypatch, Transport, "require_key", nth)
    store = tmp_path / "j.sqlite"
    run_to_failure(client, store)
    assert calls[0] >= nth
    counts = assert_truthful(store, "b", sandbox)
    assert counts.get("pending", 0) >= 1 and counts.get("uncertain", 0) == 0
    resume_finishes(sandbox, store)


@pytest.mark.parametrize(
    ("nth", "status"),
    [(1, "submitting"), (3, "submitting"), (2, "queued"), (1, "completed")],
)
def test_failure_while_journaling_ends_the_batch(
    nth: int,
    status: str,
    client: nx.Client,
    sandbox: Sandbox,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # the N-th journal write of a row moving to `status` fails, as a full disk would
    calls = fail_on_call(
        monkeypatch,
        Journal,
        "update_row",
        nth,
        error=JournalError("cannot write the journal: database or disk is full"),
        when=lambda self, name, row, pool, new, **kw: new == status,
    )
    store = tmp_path / "j.sqlite"
    run_to_failure(client, store, expected=JournalError)
    assert calls[0] >= nth
    assert_truthful(store, "b", sandbox)
    resume_finishes(sandbox, store)


@pytest.mark.parametrize("nth", [1, 4])
def test_failure_in_the_limiter_ends_the_batch(
    nth: int, client: nx.Client, sandbox: Sandbox, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls = fail_on_call(monkeypatch, RateLimiter, "take", nth)
    store = tmp_path / "j.sqlite"
    run_to_failure(client, store)
    assert calls[0] >= nth
    assert assert_truthful(store, "b", sandbox).get("uncertain", 0) == 0
    resume_finishes(sandbox, store)


@pytest.mark.parametrize("answer", ["202", "poll"])
def test_failure_while_parsing_an_answer_ends_the_batch(
    answer: str,
    client: nx.Client,
    sandbox: Sandbox,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # the 202 carries no candidates key; a poll's answer carries eval_id plus a status
    is_202 = answer == "202"
    calls = fail_on_call(
        monkeypatch,
        Evaluation,
        "from_json",
        2,
        when=lambda data, eval_id=None: (eval_id is None) == is_202,
    )
    store = tmp_path / "j.sqlite"
    run_to_failure(client, store)
    assert calls[0] >= 2
    counts = assert_truthful(store, "b", sandbox)
    # a 202 that could not be read: its job exists, but nothing says which; a poll that
    # could not be read leaves its row queued with its eval_id, to be polled on resume
    assert counts.get("uncertain", 0) == (1 if is_202 else 0)
    resume_finishes(sandbox, store)


def test_the_cli_reports_a_missing_key_not_a_connection_error(tmp_path: Path) -> None:
    import os
    import subprocess
    import sys

    (tmp_path / "p.csv").write_text("entity,state\nacme,CA\n")
    env = {k: v for k, v in os.environ.items() if not k.startswith("NEXIO_")}
    done = subprocess.run(
        [sys.executable, "-m", "nexio_lab.cli", "run", "p.csv", "--pool", "carriers:all"],
        cwd=tmp_path,
        env=env | {"NEXIO_LAB_HOME": str(tmp_path)},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 2, done.stderr
    assert done.stderr.strip() == "nexio-lab: no API key: set NEXIO_API_KEY or pass api_key="
    assert not (tmp_path / "journal.sqlite").exists()
