"""README claims without a test elsewhere, each checked against what the server saw.

Cancel stops every request at once and a rerun finishes; ``allow_duplicates=True`` sends each
identical pair; the tables are readable (partial) while the batch runs; a 403 stops the batch
with its state kept; a 400 for one profile marks that row ``error`` and the rest go on.
"""

from __future__ import annotations

import json
import threading
import time
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

from fault_servers import FaultServer, forward, held, json_reply
from reliability_support import SANDBOX_KEY, journal_rows, profiles

import nexio_lab as nx
from nexio_lab.sandbox import Sandbox

POOL = "carriers:tier1"


def _wait_for(predicate: Callable[[], bool], timeout: float = 60.0, what: str = "") -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what or predicate}")
        time.sleep(0.02)


def _entity(request: Any) -> str | None:
    return request.json()["profile"].get("entity") if request.method == "POST" else None


# -- cancel --------------------------------------------------------------------------------------


def test_cancel_mid_run_stops_every_request_then_a_rerun_finishes(
    make_sandbox: Callable[..., Sandbox], tmp_path: Path
) -> None:
    # a limit nobody reaches: only cancel can stop the submissions
    sandbox = make_sandbox(rate_limit=10**6, rate_window=60.0)
    store = tmp_path / "j.sqlite"
    n = 600
    with nx.Client(SANDBOX_KEY, base_url=sandbox.url) as client:
        batch = client.start_batch(profiles(n), pool=POOL, name="c", store=store, progress=False)
        _wait_for(lambda: sandbox.stats()["posts"] >= 10, what="the first submissions")
        batch.cancel()
        assert not batch.running
        at_cancel = sandbox.stats()
        posts = at_cancel["posts"]
        assert posts < n, "the batch finished before the cancel: nothing was tested"
        # round trips through the client's own event loop (where the engine ran) and the
        # server: a request the engine still sent would have arrived before their answers
        for _ in range(20):
            assert client.health() == {"status": "ok"}
        after = sandbox.stats()
        assert after["health"] == at_cancel["health"] + 20  # the round trips did happen
        assert after["posts"] == posts
        assert after["requests"] - after["health"] == at_cancel["requests"] - at_cancel["health"]
        rows = journal_rows(store, "c")
        assert not [r for r in rows if r["status"] in {"submitting", "uncertain"}]
        assert {r["eval_id"] for r in rows if r["eval_id"]} == {j.eval_id for j in sandbox.jobs()}
        assert sum(r["status"] == "pending" for r in rows) == n - posts

        resumed = client.run_batch(profiles(n), pool=POOL, name="c", store=store, progress=False)
    assert resumed.status_counts()["completed"] == n
    assert sandbox.stats()["jobs_created"] == n  # each row sent once over both runs


# -- allow_duplicates -----------------------------------------------------------------------------


def test_allow_duplicates_sends_every_identical_pair(sandbox: Sandbox, tmp_path: Path) -> None:
    same = {"entity": "same", "state": "CA", "revenue": 5_000_000}
    rows = [same, dict(same), dict(same), {"entity": "other"}]
    with nx.Client(SANDBOX_KEY, base_url=sandbox.url) as client, warnings.catch_warnings():
        warnings.simplefilter("error")  # no "sent once" warning either
        batch = client.run_batch(
            rows, pool=POOL, name="dup", store=tmp_path / "j.sqlite", progress=False,
            allow_duplicates=True,
        )  # fmt: skip
    assert sandbox.stats()["jobs_created"] == 4
    assert batch.status_counts()["completed"] == 4
    assert batch.evaluations["eval_id"].nunique() == 4


# -- partial tables while running ------------------------------------------------------------------


def test_tables_are_partial_while_the_batch_runs(
    sandbox: Sandbox, make_fault_server: Callable[..., FaultServer], tmp_path: Path
) -> None:
    gate = threading.Event()

    def handler(request: Any) -> Any:
        # the poll of co-003's job is held until the test lets it through
        if request.method == "GET":
            eval_id = request.path.rsplit("/", 1)[-1]
            if any(
                j.eval_id == eval_id and j.profile["entity"] == "co-003" for j in sandbox.jobs()
            ):
                return held(gate)
        return forward

    proxy = make_fault_server(handler, upstream=sandbox)
    with nx.Client(SANDBOX_KEY, base_url=proxy.url) as client:
        batch = client.start_batch(
            profiles(6), pool=POOL, name="partial", store=tmp_path / "j.sqlite", progress=False
        )
        try:
            _wait_for(lambda: batch.status_counts()["completed"] == 5, what="five rows done")
            assert batch.running
            evaluations = batch.evaluations
            assert len(evaluations) == 6
            done = evaluations[evaluations["status"] == "completed"]
            assert sorted(done["entity"]) == [f"co-{i:03d}" for i in (0, 1, 2, 4, 5)]
            open_row = evaluations[evaluations["entity"] == "co-003"]
            assert list(open_row["status"]) in (["queued"], ["processing"])
            candidates = batch.candidates
            assert len(candidates) > 0 and set(candidates["entity"]) == set(done["entity"])
        finally:
            gate.set()
        batch.wait(timeout=60)
    assert not batch.running and batch.status_counts()["completed"] == 6
    assert "co-003" in set(batch.candidates["entity"])  # built again once finished


# -- 403 and 400 -----------------------------------------------------------------------------------

FORBIDDEN = json_reply(403, {"error": {"code": "forbidden", "message": "key may not use this"}})


def test_a_403_stops_the_batch_with_its_state_kept(
    make_sandbox: Callable[..., Sandbox],
    make_fault_server: Callable[..., FaultServer],
    tmp_path: Path,
) -> None:
    # five requests per 2 s: rows are still waiting to be sent when the 403 comes
    sandbox = make_sandbox(rate_limit=5, rate_window=2.0)
    posts: list[str | None] = []
    refuse_from = [4]  # the 4th POST and every later one get a 403, until the key may again

    def handler(request: Any) -> Any:
        if request.method != "POST":
            return forward
        posts.append(_entity(request))
        return FORBIDDEN if len(posts) >= refuse_from[0] else forward

    proxy = make_fault_server(handler, upstream=sandbox)
    store = tmp_path / "j.sqlite"
    n = 12
    with nx.Client(SANDBOX_KEY, base_url=proxy.url, max_retries=0) as client:
        batch = client.start_batch(profiles(n), pool=POOL, name="403", store=store, progress=False)
        surfaced = ""
        try:
            batch.wait(timeout=60)
            surfaced = batch.stopped_reason or ""
        except nx.PermissionDeniedError as exc:
            surfaced = str(exc)
        assert not batch.running
    assert "403" in surfaced or "forbidden" in surfaced, surfaced
    # the batch stopped at the 403: no submission after it (those in flight excepted)
    refused = sum(1 for r in proxy.requests if r.method == "POST") - 3
    assert 1 <= refused <= 2, refused
    rows = journal_rows(store, "403")
    assert len(rows) == n
    assert not [r for r in rows if r["status"] in {"submitting", "uncertain", "error"}]
    created = {j.eval_id for j in sandbox.jobs()}
    assert {r["eval_id"] for r in rows if r["eval_id"]} == created and len(created) == 3
    assert sum(r["status"] == "pending" for r in rows) == n - 3  # nothing else was sent
    reopened = nx.Batch.open("403", store)
    assert reopened.status_counts()["pending"] == n - 3

    refuse_from[0] = 10**9  # the key may again: the rerun finishes, nothing sent twice
    with nx.Client(SANDBOX_KEY, base_url=proxy.url) as client:
        again = client.run_batch(profiles(n), pool=POOL, name="403", store=store, progress=False)
    assert again.status_counts()["completed"] == n
    assert sandbox.stats()["jobs_created"] == n


def test_a_400_for_one_profile_marks_that_row_error_and_the_rest_go_on(
    sandbox: Sandbox, make_fault_server: Callable[..., FaultServer], tmp_path: Path
) -> None:
    invalid = json_reply(
        400,
        {
            "error": {
                "code": "invalid_request",
                "message": "Missing required field: profile.industry",
                "details": [],
            }
        },
    )
    proxy = make_fault_server(
        lambda request: invalid if _entity(request) == "co-002" else forward, upstream=sandbox
    )
    with nx.Client(SANDBOX_KEY, base_url=proxy.url) as client:
        batch = client.run_batch(
            profiles(6), pool=POOL, name="400", store=tmp_path / "j.sqlite", progress=False
        )
    counts = batch.status_counts()
    assert counts["completed"] == 5 and counts["error"] == 1, counts
    assert batch.stopped_reason is None
    errors = batch.errors
    assert list(errors["entity"]) == ["co-002"]
    assert errors["error_code"].iloc[0] == "invalid_request"
    assert "profile.industry" in errors["error_message"].iloc[0]
    # a 400 is final: the row was sent once, not retried
    sent = [json.loads(r.body)["profile"]["entity"] for r in proxy.requests if r.method == "POST"]
    assert sent.count("co-002") == 1
    assert not any(j.profile["entity"] == "co-002" for j in sandbox.jobs())
