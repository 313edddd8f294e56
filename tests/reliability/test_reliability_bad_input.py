"""Bad input: a clear error before any request, naming the row and field; the rest goes on."""

from __future__ import annotations

import math
import subprocess
import sys
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from reliability_support import SANDBOX_KEY, duplicates, profiles

import nexio_lab as nx
from nexio_lab._profile import prepare_profile
from nexio_lab.sandbox import Sandbox, run

POOL = "carriers:tier1"


def _run(client: nx.Client, rows: Any, tmp_path: Path, **options: Any) -> nx.Batch:
    options.setdefault("pool", POOL)
    return client.run_batch(
        rows, store=tmp_path / "j.sqlite", progress=False, name="bad", **options
    )


@pytest.fixture
def client(sandbox: Sandbox, make_client: Callable[..., nx.Client]) -> nx.Client:
    return make_client(sandbox.url)


# -- whole inputs refused before any request ---------------------------------------------------


@pytest.mark.parametrize(
    ("content", "words"),
    [
        (b"name,state\nacme,CA\n", ["no 'entity' column", "name, state"]),
        (b"", ["is empty"]),
        ("entity,state\nsoci\xe9t\xe9,CA\n".encode("latin-1"), ["not UTF-8", "re-save"]),
    ],
    ids=["no entity column", "empty file", "not UTF-8"],
)
def test_unusable_file_is_refused_before_any_request(
    content: bytes, words: list[str], client: nx.Client, sandbox: Sandbox, tmp_path: Path
) -> None:
    path = tmp_path / "rows.csv"
    path.write_bytes(content)
    with pytest.raises(nx.InputError) as caught:
        _run(client, path, tmp_path)
    for word in words:
        assert word in str(caught.value), str(caught.value)
    assert str(path) in str(caught.value)
    assert sandbox.stats()["posts"] == 0


def test_bom_csv_keeps_its_entity_column(
    client: nx.Client, sandbox: Sandbox, tmp_path: Path
) -> None:
    path = tmp_path / "rows.csv"
    path.write_bytes("entity,state\nacme,CA\nNA,NY\n".encode("utf-8-sig"))
    batch = _run(client, path, tmp_path)
    assert batch.status_counts()["completed"] == 2
    # "NA" is a real entity name, not a missing value
    assert sorted(j["profile"]["entity"] for j in sandbox.jobs()) == ["NA", "acme"]


# -- rows refused one by one, the others sent --------------------------------------------------

BAD_ROWS: list[tuple[dict[str, Any], str]] = [
    ({"state": "CA"}, "entity"),
    ({"entity": ""}, "entity"),
    ({"entity": "   "}, "entity"),
    ({"entity": 42}, "entity"),
    ({"entity": None}, "entity"),
    ({"entity": float("nan")}, "entity"),
    ({"entity": "inf-co", "revenue": float("inf")}, "revenue"),
    ({"entity": "np-inf", "revenue": np.float64("-inf")}, "revenue"),
    ({"entity": "bytes-co", "notes": b"\x00raw"}, "notes"),
    ({"entity": "deep-bytes", "meta": {"blob": bytearray(b"x")}}, "meta.blob"),
    ({"entity": "obj-co", "owner": object()}, "owner"),
    ({"entity": "key-co", "meta": {1: "x"}}, "meta"),
]


def test_bad_rows_are_rejected_by_row_and_field_and_the_rest_finish(
    client: nx.Client, sandbox: Sandbox, tmp_path: Path
) -> None:
    good = profiles(3)
    rows: list[Any] = [*good[:2], *(row for row, _ in BAD_ROWS), good[2]]
    with pytest.warns(UserWarning, match=r"rejected locally"):
        batch = _run(client, rows, tmp_path)
    records = {r.row: r for r in batch.records()}
    assert len(records) == len(rows)  # nothing dropped silently
    for offset, (_, field) in enumerate(BAD_ROWS):
        record = records[2 + offset]
        assert record.status == "error" and record.error_code == "invalid_profile"
        assert f"row {2 + offset}" in record.error_message
        assert f"field {field!r}" in record.error_message, record.error_message
    assert batch.status_counts()["completed"] == 3
    assert sandbox.stats()["posts"] == 3  # no request for a rejected row


def test_missing_values_become_null_and_scalars_plain_json(
    client: nx.Client, sandbox: Sandbox, tmp_path: Path
) -> None:
    frame = pd.DataFrame(
        {
            "entity": ["a-co", "b-co"],
            "revenue": pd.array([12_000_000, None], dtype="Int64"),
            "employees": np.array([10, 20], dtype=np.int32),
            "score": [np.float32(0.5), np.nan],
            "listed": [np.bool_(True), pd.NA],
            "founded": [pd.Timestamp("2001-02-03"), pd.NaT],
        }
    )
    frame["meta"] = [{"naics": [np.int64(332), "x"], "extra": None}, {"nested": {"k": 1.5}}]
    batch = _run(client, frame, tmp_path)
    assert batch.status_counts()["completed"] == 2
    sent = {j["profile"]["entity"]: j["profile"] for j in sandbox.jobs()}
    assert sent["a-co"] == {
        "entity": "a-co",
        "revenue": 12_000_000,
        "employees": 10,
        "score": 0.5,
        "listed": True,
        "founded": "2001-02-03T00:00:00",
        "meta": {"naics": [332, "x"], "extra": None},
    }
    assert sent["b-co"]["revenue"] is None and sent["b-co"]["score"] is None
    assert sent["b-co"]["listed"] is None and sent["b-co"]["founded"] is None
    assert sent["b-co"]["meta"] == {"nested": {"k": 1.5}}


def test_missing_values_as_errors_by_option(sandbox: Sandbox, tmp_path: Path) -> None:
    with nx.Client(SANDBOX_KEY, base_url=sandbox.url, missing="error") as strict:
        rows = [{"entity": "a", "revenue": float("nan")}, {"entity": "b", "revenue": 1}]
        with pytest.warns(UserWarning):
            batch = _run(strict, rows, tmp_path)
    record = batch.records()[0]
    assert record.status == "error" and "field 'revenue'" in record.error_message
    assert "missing" in record.error_message
    assert sandbox.stats()["posts"] == 1


def test_duplicate_rows_are_sent_once_with_a_warning(
    client: nx.Client, sandbox: Sandbox, tmp_path: Path
) -> None:
    rows = [*profiles(3), profiles(3)[1], profiles(3)[1]]
    with pytest.warns(UserWarning, match=r"2 identical \(profile, pool\) pair"):
        batch = _run(client, rows, tmp_path)
    assert batch.status_counts()["completed"] == 5
    assert sandbox.stats()["posts"] == 3 and duplicates(sandbox) == 0
    by_row = {r.row: r for r in batch.records()}
    assert by_row[3].eval_id == by_row[4].eval_id == by_row[1].eval_id


PLAN_AND_MEASURE = """
import sys, threading, psutil
import nexio_lab.batch, pandas, pyarrow  # imports are not the input's memory
process, peak, done = psutil.Process(), [0], threading.Event()
before = process.memory_info().rss
def sample():
    while not done.wait(0.005):
        peak[0] = max(peak[0], process.memory_info().rss)
sampler = threading.Thread(target=sample)
sampler.start()
plan = nexio_lab.batch.plan_batch(sys.argv[1], pool="carriers:tier1", name="big")
done.set()
sampler.join()
print(plan.rows, plan.billable, len(plan.errors), max(peak[0], before) - before)
"""


def test_100k_row_csv_is_planned_in_bounded_memory(tmp_path: Path) -> None:
    path = tmp_path / "big.csv"
    n = 100_000
    frame = pd.DataFrame(
        {
            "entity": [f"company-{i:06d}" for i in range(n)],
            "state": np.resize(np.array(["CA", "NY", "TX"]), n),
            "line": "general_liability",
            "revenue": np.arange(n) * 1000 + 1_000_000,
        }
    )
    frame.to_csv(path, index=False)
    del frame
    # a fresh process, so the peak RSS is this plan's alone
    done = subprocess.run(
        [sys.executable, "-c", PLAN_AND_MEASURE, str(path)],
        capture_output=True,
        text=True,
        check=True,
    )
    rows, billable, errors, growth = map(int, done.stdout.split())
    assert (rows, billable, errors) == (n, n, 0)
    # measured ~45 MiB (chunks of 5,000 rows plus a fingerprint per row for deduplication);
    # 100,000 profiles held as dicts, or the frame plus its JSON, would be well above
    assert growth < 96 * 2**20, f"peak RSS grew by {growth / 2**20:.0f} MiB"
    print(f"plan of {n} rows: peak RSS +{growth / 2**20:.0f} MiB")


# -- refusals from the API that stop one pool, or the batch -----------------------------------


def test_unknown_pool_is_one_422_then_its_rows_error(
    client: nx.Client, sandbox: Sandbox, tmp_path: Path
) -> None:
    batch = _run(client, profiles(6), tmp_path, pool=None, pools=[POOL, "carriers:nope"])
    assert sandbox.stats()["by_status"].get("422") == 1
    records = batch.records()
    nope = [r for r in records if r.pool == "carriers:nope"]
    assert len(nope) == 6 and all(r.status == "error" for r in nope)
    assert all("carriers:nope" in r.error_message for r in nope)
    assert all(r.status == "completed" for r in records if r.pool == POOL)


def test_invalid_key_is_one_401_the_batch_stops_and_a_rerun_resumes(
    make_sandbox: Callable[..., Sandbox], make_client: Callable[..., nx.Client], tmp_path: Path
) -> None:
    sandbox = make_sandbox()
    bad = make_client(sandbox.url, api_key="nx_test_revoked_key_000000000000")
    with pytest.raises(nx.AuthenticationError, match="NEXIO_API_KEY"):
        _run(bad, profiles(5), tmp_path)
    assert sandbox.stats()["by_status"].get("401") == 1
    batch = nx.Batch.open("bad", tmp_path / "j.sqlite")
    assert not batch.ok and batch.status_counts()["pending"] == 5  # state kept
    good = make_client(sandbox.url)
    again = _run(good, profiles(5), tmp_path)
    assert again.status_counts()["completed"] == 5 and duplicates(sandbox) == 0


# -- webhook URLs ------------------------------------------------------------------------------


def test_submit_with_a_webhook_that_is_not_a_url_fails_before_any_request(
    client: nx.Client, sandbox: Sandbox
) -> None:
    with pytest.raises(nx.NexioError) as caught:
        client.submit({"entity": "acme"}, pool=POOL, webhook_url="not a url")
    assert "webhook" in str(caught.value)
    assert sandbox.stats()["posts"] == 0


@pytest.mark.parametrize("webhook", ["not a url", "ftp://127.0.0.1:9/hook", "http://127.0.0.1/x"])
def test_batch_webhook_that_is_not_a_local_url_fails_before_any_request(
    webhook: str, client: nx.Client, sandbox: Sandbox, tmp_path: Path
) -> None:
    with pytest.raises(nx.NexioError) as caught:
        _run(client, profiles(2), tmp_path, webhook=webhook)
    assert "webhook" in str(caught.value) and webhook in str(caught.value)
    assert sandbox.stats()["posts"] == 0


# -- what the local checks accept, the sandbox accepts ----------------------------------------

_scalars = (
    st.none()
    | st.booleans()
    | st.integers(-(2**53), 2**53)
    | st.floats(allow_nan=True, allow_infinity=False)
    | st.text(max_size=20)
)
_values = st.recursive(
    _scalars,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=8,
)
_profiles = st.dictionaries(st.text(max_size=12), _values, max_size=5).flatmap(
    lambda fields: st.one_of(st.text(max_size=30), st.none(), st.integers()).map(
        lambda entity: {**fields, "entity": entity}
    )
)


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(profile=_profiles)
def test_what_the_local_checks_accept_the_sandbox_accepts(profile: dict[str, Any]) -> None:
    try:
        prepared = prepare_profile(profile)
    except nx.ProfileError:
        return
    assert not any(isinstance(v, float) and math.isnan(v) for v in prepared.values())
    evaluation = _SHARED.client().submit(profile, pool=POOL)
    assert evaluation.status == "queued"


class _Shared:
    """One sandbox and client for every Hypothesis example (function fixtures would be
    shared across examples anyway)."""

    def __init__(self) -> None:
        self._sandbox: Sandbox | None = None
        self._client: nx.Client | None = None

    def client(self) -> nx.Client:
        if self._client is None:
            self._sandbox = run(speed=1000, rate_limit=100_000)
            self._client = nx.Client(SANDBOX_KEY, base_url=self._sandbox.url, max_retries=0)
        return self._client

    def close(self) -> None:
        if self._client is not None and self._sandbox is not None:
            self._client.close()
            self._sandbox.stop()
        self._client = self._sandbox = None


_SHARED = _Shared()


@pytest.fixture(autouse=True, scope="module")
def _close_shared() -> Any:
    yield
    _SHARED.close()


def test_warnings_name_the_first_rejected_row(
    client: nx.Client, sandbox: Sandbox, tmp_path: Path
) -> None:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        _run(client, [{"entity": "ok"}, {"entity": ""}], tmp_path)
    messages = [str(w.message) for w in caught]
    assert any("row 1" in m and "field 'entity'" in m for m in messages), messages
