"""Batches against the sandbox counting requests every way the API docs allow, and several
clients sharing one key: nothing lost, nothing submitted twice, hardly any 429."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import pytest

from nexio_lab import Batch, Client
from nexio_lab.sandbox._config import SandboxConfig

RATE_KINDS = ["fixed-aligned", "fixed", "sliding", "bucket"]
#: the sandbox's --rate-kind comes with the rate-bench branch
HAS_RATE_KINDS = "rate_kind" in SandboxConfig.__dataclass_fields__


def rows(n: int, prefix: str) -> list[dict[str, Any]]:
    return [{"entity": f"{prefix}-{i}", "state": "CA", "revenue": 1_000_000 + i} for i in range(n)]


@pytest.mark.skipif(not HAS_RATE_KINDS, reason="the sandbox has no rate_kind yet")
@pytest.mark.parametrize("kind", RATE_KINDS)
def test_each_kind_of_window_is_learned_and_respected(make_sandbox, tmp_path, kind) -> None:
    # 60 evaluations at 20 requests per second: the budget binds for several windows
    sb = make_sandbox(rate_limit=20, rate_window=1.0, rate_kind=kind, speed=200)
    client = Client(sb.api_key, base_url=sb.url)
    batch = client.run_batch(
        rows(60, kind), pool="carriers:all", name=kind, store=tmp_path / "j.sqlite", progress=False
    )
    counts = batch.status_counts()
    assert counts["completed"] + counts.get("failed", 0) == 60 and batch.ok
    stats = sb.stats()
    assert stats["jobs_created"] == 60  # nothing submitted twice
    assert stats["by_status"].get("429", 0) == client.limiter.rate_limited
    # the first window may teach the hard way; after it, the kind is known
    assert client.limiter.rate_limited <= 2
    assert client.limiter.kind in ({"fixed", "unknown"} if "fixed" in kind else {kind})


def test_three_clients_on_one_key_lose_nothing_and_send_nothing_twice(
    make_sandbox, tmp_path: Path
) -> None:
    """Three batches at once on one key (a team's notebooks), each with its own journal."""
    sb = make_sandbox(rate_limit=30, rate_window=1.0, speed=200)
    n = 40
    batches: dict[int, Batch] = {}
    errors: list[BaseException] = []
    clients = [Client(sb.api_key, base_url=sb.url) for _ in range(3)]

    def run(i: int) -> None:
        try:
            batches[i] = clients[i].run_batch(
                rows(n, f"team{i}"),
                pool="carriers:all",
                name=f"shared-{i}",
                store=tmp_path / f"j{i}.sqlite",
                progress=False,
            )
        except BaseException as exc:  # reported below, with the thread's name
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(i,), name=f"client-{i}") for i in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    eval_ids: list[str] = []
    for i in range(3):
        frame = batches[i].evaluations
        assert len(frame) == n and batches[i].ok  # nothing lost
        assert set(frame["status"]) <= {"completed", "failed"}
        eval_ids += list(frame["eval_id"])
    assert len(set(eval_ids)) == 3 * n  # nothing shared or doubled between the batches
    stats = sb.stats()
    assert stats["jobs_created"] == 3 * n  # nothing submitted twice
    limited = stats["by_status"].get("429", 0)
    assert limited == sum(c.limiter.rate_limited for c in clients)
    assert limited <= 0.1 * stats["requests"]  # they yield to each other
    for c in clients:
        c.close()
