"""The client against the sandbox over loopback: every method, every error class."""

from __future__ import annotations

import asyncio
import logging
import socket
import ssl

import numpy as np
import pandas as pd
import pytest

import nexio_lab
from nexio_lab import (
    AsyncClient,
    AuthenticationError,
    BadRequestError,
    Client,
    NexioError,
    NotFoundError,
    PermissionDeniedError,
    ProfileError,
    RateLimitError,
    SubmissionUncertainError,
    UnprocessableEntityError,
)

PROFILE = {"entity": "acme", "state": "CA", "line": "professional_liability", "revenue": 12_000_000}


def test_submit_get_wait(sandbox) -> None:
    with Client(sandbox.api_key, base_url=sandbox.url) as client:
        assert client.health() == {"status": "ok"}
        ev = client.submit(PROFILE, pool="carriers:all")
        assert ev.status == "queued" and ev.eval_id.startswith("eval_")
        assert client.get(ev.eval_id).eval_id == ev.eval_id
        done = client.wait(ev.eval_id, poll_interval=0.05)
        assert done.is_done and done.status == "completed"
        assert done.pool_size and done.candidates
        assert [c.rank for c in done.candidates] == list(range(1, len(done.candidates) + 1))
        assert set(done.candidates[0].scores) >= {"appetite", "coverage", "financial"}
        limit = client.rate_limit
        assert limit is not None and limit.limit and limit.reset


def test_async_client_same_surface(sandbox) -> None:
    async def main() -> str:
        async with AsyncClient(sandbox.api_key, base_url=sandbox.url) as client:
            ev = await client.submit(PROFILE, pool="carriers:tier1")
            return (await client.wait(ev.eval_id, poll_interval=0.05)).status

    assert asyncio.run(main()) == "completed"


def test_sync_client_works_inside_a_running_loop(sandbox) -> None:
    """As in a Jupyter cell: a loop already runs in this thread."""

    async def cell() -> dict:
        return Client(sandbox.api_key, base_url=sandbox.url).health()

    assert asyncio.run(cell()) == {"status": "ok"}


def test_environment_defaults(sandbox, monkeypatch) -> None:
    monkeypatch.setenv("NEXIO_API_KEY", sandbox.api_key)
    monkeypatch.setenv("NEXIO_BASE_URL", sandbox.url)
    client = Client()
    assert client.base_url == sandbox.url
    assert client.submit(PROFILE, pool="carriers:all").status == "queued"


@pytest.mark.parametrize(
    ("call", "error", "status"),
    [
        (lambda c: c.submit(PROFILE, pool="no:such-pool"), UnprocessableEntityError, 422),
        (lambda c: c.get("eval_doesnotexist"), NotFoundError, 404),
        (
            # past the local checks, straight to the server
            lambda c: c._loop.run(c.async_client.transport.submit({"entity": ""}, "carriers:all")),
            BadRequestError,
            400,
        ),
    ],
)
def test_error_classes_from_real_responses(sandbox, call, error, status) -> None:
    client = Client(sandbox.api_key, base_url=sandbox.url)
    with pytest.raises(error) as info:
        call(client)
    assert info.value.status_code == status
    assert info.value.code and info.value.message
    assert "X-RateLimit-Limit" in info.value.headers or "x-ratelimit-limit" in info.value.headers


def test_authentication_and_permission_errors(make_sandbox) -> None:
    sb = make_sandbox(api_keys=["nx_test_alice_0001", "nx_test_bob_00002"])
    alice = Client("nx_test_alice_0001", base_url=sb.url)
    with pytest.raises(AuthenticationError) as info:
        Client("nx_test_wrong", base_url=sb.url).submit(PROFILE, pool="carriers:all")
    assert "NEXIO_API_KEY" in str(info.value) and info.value.code == "unauthorized"
    ev = alice.submit(PROFILE, pool="carriers:all")
    with pytest.raises(PermissionDeniedError) as denied:
        Client("nx_test_bob_00002", base_url=sb.url).get(ev.eval_id)
    assert denied.value.status_code == 403


def test_rate_limit_error_when_retries_are_off(make_sandbox) -> None:
    sb = make_sandbox(rate_limit=2, rate_window=3600)
    # another client spends the window: this one's limiter knows nothing of it
    spender = Client(sb.api_key, base_url=sb.url)
    for _ in range(2):
        spender.submit(PROFILE, pool="carriers:all")
    with pytest.raises(RateLimitError) as info:
        Client(sb.api_key, base_url=sb.url, max_retries=0).submit(PROFILE, pool="carriers:all")
    assert info.value.status_code == 429
    assert sb.stats()["jobs_created"] == 2


def test_burst_of_three_windows_stays_within_the_limit(make_sandbox) -> None:
    sb = make_sandbox(rate_limit=5, rate_window=0.5)

    async def burst() -> list[str]:
        async with AsyncClient(sb.api_key, base_url=sb.url) as client:
            evs = await asyncio.gather(
                *(client.submit({"entity": f"e{i}"}, pool="carriers:all") for i in range(15))
            )
            return [ev.status for ev in evs]

    assert asyncio.run(burst()) == ["queued"] * 15
    stats = sb.stats()
    assert stats["jobs_created"] == 15
    assert stats["by_status"].get("429", 0) <= 1


def test_server_errors_are_retried(make_sandbox) -> None:
    sb = make_sandbox(error_rate=0.3, seed=3)
    client = Client(sb.api_key, base_url=sb.url, max_retries=8)
    client.retry_policy.base_delay = 0.001
    evs = [client.submit({"entity": f"e{i}"}, pool="carriers:all") for i in range(20)]
    for ev in evs:
        assert client.get(ev.eval_id).eval_id == ev.eval_id
    stats = sb.stats()
    assert stats["injected_errors"] > 0
    assert stats["jobs_created"] == 20  # an injected 5xx creates nothing: no double bill


def test_connection_refused_is_a_connection_error() -> None:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()  # nothing listens there now
    client = Client("nx_test_k", base_url=f"http://127.0.0.1:{port}", max_retries=1)
    client.retry_policy.base_delay = 0.001
    with pytest.raises(nexio_lab.APIConnectionError) as info:
        client.submit(PROFILE, pool="carriers:all")
    assert not isinstance(info.value, SubmissionUncertainError)


def test_profiles_are_made_json_safe(sandbox) -> None:
    row = (
        pd.DataFrame(
            [
                {
                    "entity": "acme",
                    "revenue": np.int64(5),
                    "ratio": np.float32(0.5),
                    "state": pd.NA,
                    "since": pd.Timestamp("2020-01-02", tz="UTC"),
                    "flag": np.bool_(True),
                }
            ]
        )
        .astype({"state": "string"})
        .iloc[0]
    )
    client = Client(sandbox.api_key, base_url=sandbox.url)
    ev = client.submit(row.to_dict(), pool="carriers:all")
    assert ev.status == "queued"
    job = next(j for j in sandbox.jobs() if j.eval_id == ev.eval_id)
    assert job.profile == {
        "entity": "acme",
        "revenue": 5,
        "ratio": 0.5,
        "state": None,
        "since": "2020-01-02T00:00:00+00:00",
        "flag": True,
    }


@pytest.mark.parametrize(
    ("profile", "field"),
    [
        ({"state": "CA"}, "entity"),
        ({"entity": "  "}, "entity"),
        ({"entity": 7}, "entity"),
        ({"entity": "a", "revenue": float("inf")}, "revenue"),
        ({"entity": "a", "blob": b"\x00"}, "blob"),
        ({"entity": "a", "nested": {"when": object()}}, "nested.when"),
    ],
)
def test_bad_profiles_fail_before_any_request(sandbox, profile, field) -> None:
    client = Client(sandbox.api_key, base_url=sandbox.url)
    before = sandbox.stats()["requests"]
    with pytest.raises(ProfileError) as info:
        client.submit(profile, pool="carriers:all")
    assert info.value.field == field and repr(field) in str(info.value)
    assert sandbox.stats()["requests"] == before


def test_missing_values_can_be_errors(sandbox) -> None:
    client = Client(sandbox.api_key, base_url=sandbox.url, missing="error")
    with pytest.raises(ProfileError, match="revenue"):
        client.submit({"entity": "a", "revenue": float("nan")}, pool="carriers:all")


def test_transport_rules() -> None:
    with pytest.raises(NexioError, match="loopback"):
        Client("nx_test_k", base_url="http://example.com")
    with pytest.raises(NexioError, match="live"):
        Client("nx_live_k", base_url="http://127.0.0.1:1")
    assert Client("nx_live_k", base_url="https://api.usenexio.com").is_live


def test_key_never_shown(sandbox, caplog) -> None:
    key = "nx_test_supersecret_123456"
    caplog.set_level(logging.DEBUG)
    client = Client(key, base_url=sandbox.url)
    with pytest.raises(AuthenticationError) as info:
        client.submit(PROFILE, pool="carriers:all")
    shown = [
        repr(client),
        str(client),
        str(info.value),
        repr(info.value),
        repr(info.value.headers),
        caplog.text,
    ]
    assert not any(key in text for text in shown)
    assert "nx_test_***" in repr(client)


@pytest.mark.parametrize(
    ("base_url", "loads"), [("http://127.0.0.1:1", 0), ("https://example.invalid", 1)]
)
def test_a_plain_http_server_costs_no_trust_store(monkeypatch, base_url, loads) -> None:
    """Loading the trust store took tens of milliseconds before every batch's first
    request, for a server that TLS is never asked of; over https it is loaded as httpx
    always does."""
    calls = []
    real = ssl.SSLContext.load_verify_locations

    def counting(self, *args, **kwargs):
        calls.append(args)
        return real(self, *args, **kwargs)

    monkeypatch.setattr(ssl.SSLContext, "load_verify_locations", counting)
    client = AsyncClient(api_key="k", base_url=base_url)
    asyncio.run(_build_and_close(client))
    assert len(calls) == loads


async def _build_and_close(client: AsyncClient) -> None:
    client.transport._client()
    await client.aclose()


def test_the_plain_http_tls_settings_fail_closed() -> None:
    from nexio_lab._transport import _trusts_nothing

    context = _trusts_nothing()
    assert context.verify_mode is ssl.CERT_REQUIRED and context.check_hostname
    assert context.cert_store_stats()["x509_ca"] == 0
