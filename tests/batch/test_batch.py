"""The batch engine against the sandbox: all collected, within the limit, journaled."""

from __future__ import annotations

import asyncio
import sqlite3

import pandas as pd
import pytest

from nexio_lab import AsyncClient, AuthenticationError, Batch, Client
from nexio_lab.batch import BatchInputError, plan_batch

STATES = ["CA", "TX", "NY", "FL", "IL"]
LINES = ["general_liability", "professional_liability", "workers_comp"]


def profiles(n: int, prefix: str = "co") -> pd.DataFrame:
    return pd.DataFrame(
        {
            "entity": [f"{prefix}-{i}" for i in range(n)],
            "state": [STATES[i % 5] for i in range(n)],
            "line": [LINES[i % 3] for i in range(n)],
            "revenue": [250_000 * (i + 1) for i in range(n)],
        }
    )


def test_binding_limit_all_collected_no_429_few_polls(make_sandbox, tmp_path) -> None:
    sb = make_sandbox(rate_limit=100, rate_window=2.0, speed=40)
    client = Client(sb.api_key, base_url=sb.url)
    batch = client.run_batch(
        profiles(200),
        pools=["carriers:all", "carriers:tier1"],
        name="binding",
        store=tmp_path / "j.sqlite",
        progress=False,
    )
    counts = batch.status_counts()
    assert counts["completed"] + counts["failed"] == 400 and batch.ok
    stats = sb.stats()
    assert stats["jobs_created"] == 400  # nothing submitted twice
    assert stats["by_status"].get("429", 0) == 0
    assert stats["gets"] / 400 <= 1.3  # polls per evaluation
    assert len(batch.evaluations) == 400
    assert set(batch.evaluations["pool"]) == {"carriers:all", "carriers:tier1"}


def test_async_run_batch(sandbox, tmp_path) -> None:
    async def main() -> Batch:
        async with AsyncClient(sandbox.api_key, base_url=sandbox.url) as client:
            return await client.run_batch(
                profiles(6),
                pool="carriers:all",
                name="a",
                store=tmp_path / "j.sqlite",
                progress=False,
            )

    batch = asyncio.run(main())
    assert batch.status_counts()["completed"] == 6


def test_rerun_resumes_without_resubmitting(sandbox, tmp_path) -> None:
    client = Client(sandbox.api_key, base_url=sandbox.url)
    store = tmp_path / "j.sqlite"
    first = client.run_batch(
        profiles(5), pool="carriers:all", name="r", store=store, progress=False
    )
    assert first.status_counts()["completed"] == 5
    created = sandbox.stats()["jobs_created"]
    # same rows again plus three new ones: only the new ones are sent
    again = client.run_batch(
        profiles(8), pool="carriers:all", name="r", store=store, progress=False
    )
    assert again.status_counts()["completed"] == 8
    assert sandbox.stats()["jobs_created"] == created + 3
    with pytest.raises(BatchInputError, match="row 0"):
        client.run_batch(
            profiles(5, prefix="other"), pool="carriers:all", name="r", store=store, progress=False
        )


def test_journal_knows_every_row_and_result(sandbox, tmp_path) -> None:
    store = tmp_path / "j.sqlite"
    Client(sandbox.api_key, base_url=sandbox.url).run_batch(
        profiles(4), pool="carriers:tier1", name="j", store=store, progress=False
    )
    rows = (
        sqlite3.connect(store)
        .execute("SELECT status, eval_id, result IS NOT NULL FROM rows WHERE batch = 'j'")
        .fetchall()
    )
    assert len(rows) == 4 and all(r[0] == "completed" and r[1] and r[2] for r in rows)
    reopened = Batch.open("j", store)
    assert reopened.status_counts()["completed"] == 4
    assert len(reopened.candidates) > 0


def test_bad_row_and_unknown_pool_do_not_stop_the_rest(sandbox, tmp_path) -> None:
    rows = [{"entity": "good-1"}, {"state": "CA"}, {"entity": "good-2"}]
    client = Client(sandbox.api_key, base_url=sandbox.url)
    with pytest.warns(UserWarning, match="row 1"):
        batch = client.run_batch(
            rows,
            pools=["carriers:all", "no:such"],
            name="bad",
            store=tmp_path / "j.sqlite",
            progress=False,
        )
    counts = batch.status_counts()
    assert counts["completed"] == 2  # the good rows on the good pool
    assert counts["error"] == 4  # row 1 twice, and the unknown pool's two good rows
    errors = batch.errors.set_index(["row", "pool"])
    assert "field 'entity'" in errors.loc[(1, "carriers:all"), "error_message"]
    assert errors.loc[(0, "no:such"), "error_code"] == "unknown_pool"
    # one 422 was enough to stop that pool
    assert sum(1 for j in sandbox.jobs() if j.pool == "no:such") == 0
    assert not batch.ok


def test_invalid_key_stops_the_batch_and_keeps_state(sandbox, tmp_path) -> None:
    store = tmp_path / "j.sqlite"
    bad = Client("nx_test_not_a_key", base_url=sandbox.url)
    with pytest.raises(AuthenticationError, match="401"):
        bad.run_batch(profiles(10), pool="carriers:all", name="k", store=store, progress=False)
    reopened = Batch.open("k", store)
    assert reopened.status_counts()["pending"] == 10
    assert repr(reopened).startswith("<Batch 'k' stopped with 10 not finished")
    good = Client(sandbox.api_key, base_url=sandbox.url)
    resumed = good.run_batch(
        profiles(10), pool="carriers:all", name="k", store=store, progress=False
    )
    assert resumed.status_counts()["completed"] == 10


def test_duplicates_are_sent_once(sandbox, tmp_path) -> None:
    rows = [{"entity": "same", "state": "CA"}] * 3 + [{"entity": "other"}]
    with pytest.warns(UserWarning, match="sent once"):
        batch = Client(sandbox.api_key, base_url=sandbox.url).run_batch(
            rows, pool="carriers:all", name="d", store=tmp_path / "j.sqlite", progress=False
        )
    assert sandbox.stats()["jobs_created"] == 2
    assert batch.status_counts()["completed"] == 4
    assert batch.evaluations["eval_id"].nunique() == 2


def test_webhook_mode_needs_no_polls(sandbox, tmp_path, free_tcp_port) -> None:
    client = Client(sandbox.api_key, base_url=sandbox.url)
    batch = client.run_batch(
        profiles(20),
        pool="carriers:all",
        name="w",
        webhook=f"http://127.0.0.1:{free_tcp_port}/hook",
        store=tmp_path / "j.sqlite",
        progress=False,
    )
    assert batch.status_counts()["completed"] == 20
    assert sandbox.stats()["gets"] == 0
    assert batch._engine.stats.webhooks == 20


def test_error_rate_every_row_finishes(make_sandbox, tmp_path) -> None:
    sb = make_sandbox(error_rate=0.1, seed=5)
    client = Client(sb.api_key, base_url=sb.url)
    client.retry_policy.base_delay = 0.01
    batch = client.run_batch(
        profiles(40), pool="carriers:all", name="e", store=tmp_path / "j.sqlite", progress=False
    )
    assert batch.status_counts()["completed"] == 40
    assert sb.stats()["injected_errors"] > 0
    assert sb.stats()["jobs_created"] == 40


def test_cancel_stops_submissions_and_resume_finishes(make_sandbox, tmp_path) -> None:
    sb = make_sandbox(rate_limit=5, rate_window=3600)  # five requests, then a long wait
    store = tmp_path / "j.sqlite"
    client = Client(sb.api_key, base_url=sb.url)
    batch = client.start_batch(
        profiles(20), pool="carriers:all", name="c", store=store, progress=False
    )
    batch.cancel()
    assert not batch.running
    counts = batch.status_counts()
    assert counts["pending"] + counts["queued"] + counts["processing"] + counts["completed"] == 20
    assert sb.stats()["jobs_created"] <= 5
    journaled = (
        sqlite3.connect(store)
        .execute("SELECT COUNT(*) FROM rows WHERE batch = 'c' AND eval_id IS NOT NULL")
        .fetchone()[0]
    )
    assert journaled == sb.stats()["jobs_created"]  # every created job is known


def test_dry_run_plan_sends_nothing(sandbox) -> None:
    plan = plan_batch(profiles(10), pools=["carriers:all", "carriers:tier1"])
    assert plan.billable == 20 and plan.evaluations == 20 and not plan.errors
    assert "20" in str(plan)
    assert sandbox.stats()["requests"] == 0


def test_warnings_point_at_the_callers_line(sandbox, tmp_path) -> None:
    client = Client(sandbox.api_key, base_url=sandbox.url)
    rows = [{"entity": "a"}, {"state": "CA"}]  # the second has no entity
    with pytest.warns(UserWarning, match="rejected locally") as caught:
        client.run_batch(rows, pool="carriers:all", name="w", store=tmp_path / "j", progress=False)
    # (pytest.warns records every warning: an unrelated one, e.g. a ResourceWarning from a
    # socket collected meanwhile, may come along)
    ours = [w.filename for w in caught if "rejected locally" in str(w.message)]
    assert ours == [__file__]


def test_a_typo_in_a_client_option_names_the_client() -> None:
    with pytest.raises(
        TypeError, match=r"Client.__init__\(\) got an unexpected keyword argument 'timout'"
    ):
        Client("nx_test_x", base_url="http://127.0.0.1:9", timout=3)  # type: ignore[call-arg]
    client = Client("nx_test_x", base_url="http://127.0.0.1:9")
    with pytest.raises(TypeError, match="unexpected keyword argument 'pool_'"):
        client.run_batch([{"entity": "a"}], pool_="x")  # type: ignore[call-arg]


class _CountingRows:
    """An input that counts how often it is read through."""

    def __init__(self, rows: list[dict[str, object]]) -> None:
        self.rows = rows
        self.reads = 0

    def __iter__(self):  # type: ignore[no-untyped-def]
        self.reads += 1
        return iter(self.rows)


def test_the_input_is_read_once(sandbox, tmp_path) -> None:
    rows = _CountingRows([{"entity": f"co-{i}"} for i in range(5)])
    client = Client(sandbox.api_key, base_url=sandbox.url)
    batch = client.run_batch(
        rows, pools=["carriers:all", "carriers:tier1"], name="once", store=tmp_path / "j",
        progress=False,
    )  # fmt: skip
    assert rows.reads == 1 and batch.ok
    # a plan made first (the CLI's way: print it, ask, then run it) is not read again
    rows = _CountingRows([{"entity": f"co-{i}"} for i in range(5)])
    plan = plan_batch(rows, pool="carriers:all", name="planned")
    batch = client.run_batch(
        plan, pool="carriers:all", name="planned", store=tmp_path / "j", progress=False
    )
    assert rows.reads == 1 and batch.status_counts()["completed"] == 5


def test_a_journal_write_is_all_or_nothing(tmp_path) -> None:
    from nexio_lab.batch import Journal, JournalError
    from nexio_lab.batch._journal import PlannedRow

    journal = Journal(tmp_path / "j.sqlite")
    journal.create_batch("b", "http://127.0.0.1:1", {"pools": ["p"]})
    rows = [PlannedRow(i, "p", "{}", f"fp{i}", "pending") for i in range(5)]
    with pytest.raises(JournalError):
        journal.add_rows("b", [*rows, rows[0]])  # the last one repeats a primary key
    assert journal.status_counts("b") == {}  # none of the five was kept
    journal.add_rows("b", rows)
    assert journal.status_counts("b") == {"pending": 5}
