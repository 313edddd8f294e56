"""Never paid twice with a live key, and never billed beyond 100 evaluations unasked.

A live (``nx_live_``) key only travels over https, and the sandbox refuses live keys, so these
batches run over ``httpx.MockTransport`` (an in-memory API that bills every job it creates,
see ``mock_api.py``). The POST answers of chosen rows are lost *after* their jobs were
created: the rows are ``uncertain``, and resubmitting them bills them a second time.
"""

from __future__ import annotations

import json
import os
import ssl
import subprocess
import sys
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import trustme
from fault_servers import FaultServer, forward, forward_then_drop
from mock_api import LIVE_KEY, MockNexio
from reliability_support import SANDBOX_KEY, profiles

import nexio_lab as nx
from nexio_lab.sandbox import Sandbox

POOL = "carriers:all"
LOST = {"co-001", "co-004"}


def _losing_once(entities: set[str]) -> MockNexio:
    """An API that loses the 202 of the first POST of each entity in ``entities``."""
    left = set(entities)

    def lose(body: dict[str, Any]) -> bool:
        entity = body["profile"]["entity"]
        if entity in left:
            left.discard(entity)
            return True
        return False

    return MockNexio(lose=lose)


def _client(api: MockNexio, key: str = LIVE_KEY) -> nx.Client:
    return nx.Client(key, base_url=api.base_url, transport=api.transport())


def _run(client: nx.Client, store: Path, n: int = 6, **options: Any) -> nx.Batch:
    return client.run_batch(
        profiles(n), pool=POOL, name="live", store=store, progress=False, **options
    )


def _uncertain(batch: nx.Batch) -> set[str]:
    return {r.profile["entity"] for r in batch.records() if r.status == "uncertain"}


def test_live_key_uncertain_rows_are_resubmitted_only_when_asked(tmp_path: Path) -> None:
    api = _losing_once(LOST)
    store = tmp_path / "j.sqlite"
    with _client(api) as client:
        assert client.is_live
        first = _run(client, store)
        assert _uncertain(first) == LOST
        assert first.status_counts()["completed"] == 4
        assert Counter(api.billed()) == Counter(f"co-{i:03d}" for i in range(6))
        posts = api.posts

        # resume, with the default and with an explicit False: the uncertain rows stay so
        for options in ({}, {"resubmit_uncertain": False}):
            again = _run(client, store, **options)
            assert api.posts == posts, f"an uncertain row was resubmitted with {options}"
            assert _uncertain(again) == LOST
            assert again.status_counts()["completed"] == 4

        # asked: they are sent again, and billed a second time (the documented cost)
        done = _run(client, store, resubmit_uncertain=True)
        assert api.posts == posts + len(LOST)
        assert done.status_counts()["completed"] == 6 and not _uncertain(done)
    paid_twice = {e for e, n in Counter(api.billed()).items() if n > 1}
    assert paid_twice == LOST


def test_test_key_uncertain_rows_are_resubmitted_by_default(tmp_path: Path) -> None:
    # the other side of the default: a test key is free, so a resume resubmits
    api = _losing_once(LOST)
    store = tmp_path / "j.sqlite"
    with _client(api, key="nx_test_M0ckT3stK3y0123456789") as client:
        assert not client.is_live
        first = _run(client, store)
        assert _uncertain(first) == LOST
        posts = api.posts
        again = _run(client, store)
        assert api.posts == posts + len(LOST)
        assert again.status_counts()["completed"] == 6


def test_a_lost_answer_is_never_retried_by_the_client(tmp_path: Path) -> None:
    # one POST per row, whatever happened to its answer: no silent retry bills twice
    api = _losing_once(LOST)
    with _client(api) as client:
        _run(client, tmp_path / "j.sqlite")
    assert api.posts == 6 and len(api.jobs) == 6


# -- the same from the command line, over real https -------------------------------------------


def _cli(url: str, ca: Path, store: Path, rows: Path, *flags: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("NEXIO_")}
    env |= {"NEXIO_API_KEY": LIVE_KEY, "NEXIO_LAB_HOME": str(store.parent / "home")}
    env["SSL_CERT_FILE"] = str(ca)  # httpx trusts the test CA, and only it
    return subprocess.run(
        [sys.executable, "-m", "nexio_lab.cli", "run", str(rows), "--pool", POOL,
         "--base-url", url, "--store", str(store), "--name", "live", "--no-progress",
         "--out", str(store.parent / "out"), *flags],
        env=env, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip


def test_cli_resubmits_uncertain_rows_of_a_live_key_only_with_the_flag(
    sandbox: Sandbox, make_fault_server: Callable[..., FaultServer], tmp_path: Path
) -> None:
    # an https front for the sandbox that takes the live key (and passes the sandbox's on),
    # and loses the 202 of the first POST of each LOST row after the job was created
    ca = trustme.CA()
    tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1").configure_cert(tls)
    ca.cert_pem.write_to_path(str(tmp_path / "ca.pem"))
    left = set(LOST)

    def handler(request: Any) -> Any:
        if request.path.startswith("/api/"):
            assert request.headers.get("x-api-key") == LIVE_KEY
            request.headers["x-api-key"] = SANDBOX_KEY
        entity = request.json()["profile"]["entity"] if request.method == "POST" else None
        if entity in left:
            left.discard(entity)
            return forward_then_drop
        return forward

    front = make_fault_server(handler, upstream=sandbox, tls=tls)
    assert front.url.startswith("https://")
    rows = tmp_path / "rows.jsonl"
    rows.write_text("".join(json.dumps(p) + "\n" for p in profiles(6)))
    store = tmp_path / "j.sqlite"

    def posts() -> int:
        return sum(1 for r in front.requests if r.method == "POST")

    first = _cli(front.url, tmp_path / "ca.pem", store, rows)
    assert first.returncode == 1, first.stderr  # rows left uncertain
    assert posts() == 6 and LIVE_KEY not in first.stdout + first.stderr
    again = _cli(front.url, tmp_path / "ca.pem", store, rows)
    assert again.returncode == 1 and posts() == 6, again.stderr  # not resubmitted
    assert all(f"'{e}'" in again.stdout for e in LOST)  # the uncertain rows are listed
    assert "only with --resubmit-uncertain" in again.stdout  # and the way out is said
    done = _cli(front.url, tmp_path / "ca.pem", store, rows, "--resubmit-uncertain")
    assert done.returncode == 0, done.stderr
    assert posts() == 6 + len(LOST)
    entities = [j.profile["entity"] for j in sandbox.jobs()]
    assert {e for e in entities if entities.count(e) > 1} == LOST


# -- confirm=True above 100 billed evaluations --------------------------------------------------


@pytest.mark.parametrize(
    ("rows", "pools", "duplicates"),
    [(101, 1, 0), (51, 2, 0)],
    ids=["101 rows x 1 pool", "51 rows x 2 pools"],
)
def test_live_batch_above_100_evaluations_needs_confirm(
    rows: int, pools: int, duplicates: int, tmp_path: Path
) -> None:
    api = MockNexio()
    chosen = ["carriers:all", "carriers:tier1"][:pools]
    with _client(api) as client:
        with pytest.raises(nx.NexioError, match="confirm=True") as refused:
            client.run_batch(
                profiles(rows), pools=chosen, name="big", store=tmp_path / "j.sqlite",
                progress=False,
            )  # fmt: skip
        assert str(rows * pools) in str(refused.value)
        assert api.requests == []  # refused before any request
        batch = client.run_batch(
            profiles(rows), pools=chosen, name="big", store=tmp_path / "j.sqlite",
            progress=False, confirm=True,
        )  # fmt: skip
    assert api.posts == rows * pools == len(api.jobs)
    assert batch.status_counts()["completed"] == rows * pools


def test_live_batch_of_exactly_100_billed_evaluations_runs_unconfirmed(tmp_path: Path) -> None:
    # 101 rows, one of them identical to another: 100 billed evaluations, no confirm needed
    rows = [*profiles(100), profiles(1)[0]]
    api = MockNexio()
    with _client(api) as client, pytest.warns(UserWarning, match="sent once"):
        batch = client.run_batch(
            rows, pool=POOL, name="edge", store=tmp_path / "j.sqlite", progress=False
        )
    assert api.posts == 100 == len(api.jobs)
    assert batch.status_counts()["completed"] == 101


def test_a_test_key_needs_no_confirm(tmp_path: Path) -> None:
    api = MockNexio()
    with _client(api, key="nx_test_M0ckT3stK3y0123456789") as client:
        batch = client.run_batch(
            profiles(150), pool=POOL, name="free", store=tmp_path / "j.sqlite", progress=False
        )
    assert api.posts == 150 and batch.status_counts()["completed"] == 150
