"""Client-level faults: each network or server fault leads to the right outcome.

Safe requests (GET, /health) are retried through every fault; a POST is retried only when the
server cannot have created the job, and an uncertain POST raises SubmissionUncertainError
carrying the profile. Error bodies that are not JSON still become the right APIError class.
"""

from __future__ import annotations

import json
import logging
import socket
import time
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from fault_servers import (
    FaultServer,
    drop,
    forward_then_drop,
    html,
    json_reply,
    reply,
    reset,
    sequence,
    stall,
    truncated,
)
from reliability_support import Calls, duplicates, sent_by, tally_call

import nexio_lab as nx
from nexio_lab.sandbox import Sandbox

PROFILE = {"entity": "acme-manufacturing", "state": "CA", "revenue": 12_000_000}
POOL = "carriers:tier1"
JOBS = "/api/v1/jobs"


@pytest.fixture
def behind(
    sandbox: Sandbox, make_fault_server: Callable[..., FaultServer], make_client: Callable[..., Any]
) -> Callable[..., tuple[FaultServer, nx.Client]]:
    """``behind(handler, **client_options)``: a fault server in front of the sandbox, and a
    client talking to it."""

    def make(handler: Any, **options: Any) -> tuple[FaultServer, nx.Client]:
        server = make_fault_server(handler, upstream=sandbox)
        return server, make_client(server.url, **options)

    return make


# -- POST: uncertain when the server may have created the job --------------------------------

UNCERTAIN_POSTS = {
    "POST: connection dropped after the body was read": drop,
    "POST: connection reset after the body was read": reset,
    "POST: 202 with a truncated JSON body": truncated(202, b'{"eval_id": "eval_'),
    "POST: answer slower than the timeout": stall,
    "POST: job created, then the answer lost": forward_then_drop,
}


@pytest.mark.parametrize("fault", list(UNCERTAIN_POSTS))
def test_uncertain_post_is_never_retried_and_carries_the_profile(
    fault: str, behind: Callable[..., Any], sandbox: Sandbox, reliability: Any
) -> None:
    server, client = behind(sequence(UNCERTAIN_POSTS[fault], method="POST"), timeout=0.5)
    calls = Calls(client)
    with pytest.raises(nx.SubmissionUncertainError) as caught:
        calls.submit({**PROFILE, "revenue": 12_000_000.0}, pool=POOL)
    error = caught.value
    assert server.count("POST", JOBS) == 1  # one request: a retry could bill twice
    assert error.profile == {**PROFILE, "revenue": 12_000_000.0}
    assert error.pool == POOL
    assert "uncertain" in str(error) and "acme-manufacturing" in str(error)
    created = len(sandbox.jobs())
    assert created == (1 if UNCERTAIN_POSTS[fault] is forward_then_drop else 0)
    reliability(
        fault,
        tally_call(error, posts_seen=server.count("POST", JOBS), created=created),
        requests=server.count(),
        sent=sent_by(client),
        own=calls.asked,
        duplicates=duplicates(sandbox),
    )


RETRIABLE_POSTS = {
    "POST: 503 twice, then served": (json_reply(503, {"error": {"code": "unavailable"}}),) * 2,
    "POST: proxy 502 HTML page twice, then served": (html(502),) * 2,
    "POST: 429 storm without rate-limit headers": (
        json_reply(429, {"error": {"code": "rate_limit_exceeded"}}),
    )
    * 4,
}


@pytest.mark.parametrize("fault", list(RETRIABLE_POSTS))
def test_post_is_retried_when_the_server_cannot_have_created_the_job(
    fault: str, behind: Callable[..., Any], sandbox: Sandbox, reliability: Any
) -> None:
    faults = RETRIABLE_POSTS[fault]
    server, client = behind(sequence(*faults, method="POST"))
    calls = Calls(client)
    evaluation = calls.submit(PROFILE, pool=POOL)
    assert evaluation.status == "queued" and evaluation.eval_id.startswith("eval_")
    assert server.count("POST", JOBS) == len(faults) + 1
    assert [j["eval_id"] for j in sandbox.jobs()] == [evaluation.eval_id]  # billed once
    final = calls.finish(evaluation)
    assert final.status == "completed"
    line = reliability(
        fault,
        tally_call(final, posts_seen=server.count("POST", JOBS), created=len(sandbox.jobs())),
        requests=server.count(),
        sent=sent_by(client),
        own=calls.asked,
        duplicates=duplicates(sandbox),
    )
    assert line.retries == len(faults)  # each fault retried once


def test_post_to_a_refused_connection_is_retried_then_a_connection_error(
    make_client: Callable[..., Any], caplog: pytest.LogCaptureFixture, reliability: Any
) -> None:
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    client = make_client(f"http://127.0.0.1:{port}", max_retries=3)
    caplog.set_level(logging.INFO, logger="nexio_lab")
    calls = Calls(client)
    with pytest.raises(nx.APIConnectionError) as caught:
        calls.submit(PROFILE, pool=POOL)
    # refused before sending: safe to retry, and not "uncertain"
    assert not isinstance(caught.value, nx.SubmissionUncertainError)
    assert f"127.0.0.1:{port}" in str(caught.value)
    logged = sum("retrying" in r.getMessage() for r in caplog.records)
    # nothing listens: no server saw a request; the client's transport counted each attempt
    line = reliability(
        "POST: connection refused",
        tally_call(caught.value, posts_seen=0, created=0),
        requests=0,
        sent=sent_by(client),
        own=calls.asked,
        duplicates=0,
    )
    assert line.retries == logged == 3


def test_post_429_with_headers_waits_for_the_reset(
    behind: Callable[..., Any], sandbox: Sandbox, reliability: Any
) -> None:
    reset_at = time.time() + 0.4
    headers = {
        "X-RateLimit-Limit": "5",
        "X-RateLimit-Remaining": "0",
        "X-RateLimit-Reset": f"{reset_at:.3f}",
    }
    limited = json_reply(429, {"error": {"code": "rate_limit_exceeded"}}, headers)
    server, client = behind(sequence(limited, method="POST"))
    calls = Calls(client)
    evaluation = calls.submit(PROFILE, pool=POOL)
    posts = [r for r in server.requests if r.method == "POST"]
    assert len(posts) == 2 and len(sandbox.jobs()) == 1
    assert posts[1].at >= reset_at - 0.01  # the retry waited for the announced reset
    assert client.limiter.rate_limited == 1
    assert evaluation.eval_id == sandbox.jobs()[0]["eval_id"]
    final = calls.finish(evaluation)
    reliability(
        "POST: 429 with X-RateLimit-Reset",
        tally_call(final, posts_seen=len(posts), created=len(sandbox.jobs())),
        requests=server.count(),
        sent=sent_by(client),
        own=calls.asked,
        duplicates=duplicates(sandbox),
    )


# -- GET and /health: retried through everything ---------------------------------------------

GET_FAULTS = {
    "GET: connection dropped": (drop, drop),
    "GET: connection reset": (reset, reset, reset),
    "GET: truncated JSON body": (truncated(200, b'{"eval_id": "eval_x", "sta'),) * 2,
    "GET: answer slower than the timeout": (stall, stall),
    "GET: proxy 502/504 HTML pages": (html(502), html(504, "Gateway Time-out")),
    "GET: 200 with an HTML page (captive portal)": (
        reply(200, b"<html><body>Please log in</body></html>", {"Content-Type": "text/html"}),
    ),
}


@pytest.mark.parametrize("fault", list(GET_FAULTS))
def test_get_is_retried_through_faults(
    fault: str, behind: Callable[..., Any], sandbox: Sandbox, reliability: Any
) -> None:
    faults = GET_FAULTS[fault]
    server, client = behind(sequence(*faults, method="GET"), timeout=0.5)
    calls = Calls(client)
    evaluation = calls.submit(PROFILE, pool=POOL)  # POSTs pass straight through
    got = calls.get(evaluation.eval_id)
    assert got.eval_id == evaluation.eval_id and got.status in {"queued", "processing", "completed"}
    gets = server.count("GET", f"{JOBS}/{evaluation.eval_id}")
    assert gets == len(faults) + 1
    final = calls.finish(got)
    line = reliability(
        fault,
        tally_call(final, posts_seen=server.count("POST", JOBS), created=len(sandbox.jobs())),
        requests=server.count(),
        sent=sent_by(client),
        own=calls.asked,
        duplicates=duplicates(sandbox),
    )
    assert line.retries == len(faults)


def test_health_is_retried_through_drops_and_resets(behind: Callable[..., Any]) -> None:
    server, client = behind(sequence(drop, reset, html(503, "Service Unavailable")))
    assert client.health() == {"status": "ok"}
    assert server.count("GET", "/health") == 4


def test_get_that_never_answers_ends_in_a_timeout_error(
    make_fault_server: Callable[..., FaultServer], make_client: Callable[..., Any]
) -> None:
    server = make_fault_server(lambda request: stall)
    client = make_client(server.url, timeout=0.2, max_retries=2)
    with pytest.raises(nx.APITimeoutError):
        client.get("eval_00000000")
    assert server.count("GET") == 3  # the first try and max_retries retries, then it gives up


# -- error bodies that are not the documented JSON -------------------------------------------

NON_JSON_ERRORS = [
    (html(502), nx.ServerError, ["502", "HTML page", "Bad Gateway"]),
    (html(401, "Authorization Required"), nx.AuthenticationError, ["401", "NEXIO_API_KEY"]),
    (html(403, "Forbidden"), nx.PermissionDeniedError, ["403", "HTML page"]),
    (html(404, "Not Found"), nx.NotFoundError, ["404", "Not Found"]),
    (
        reply(422, b"unknown pool", {"Content-Type": "text/plain"}),
        nx.UnprocessableEntityError,
        ["422", "unknown pool", "pool id"],
    ),
    (reply(400, b""), nx.BadRequestError, ["400", "no error body"]),
    (json_reply(500, ["not", "an", "object"]), nx.ServerError, ["500"]),
    (
        json_reply(418, {"error": {"code": "teapot", "message": "I'm a teapot"}}),
        nx.APIError,
        ["418 teapot", "I'm a teapot"],
    ),
    (json_reply(404, {"error": "no such job"}), nx.NotFoundError, ["no such job"]),
]


@pytest.mark.parametrize(("action", "error_class", "words"), NON_JSON_ERRORS)
def test_error_bodies_become_the_right_class_with_a_useful_message(
    action: Any,
    error_class: type[nx.APIError],
    words: list[str],
    make_fault_server: Callable[..., FaultServer],
    make_client: Callable[..., Any],
) -> None:
    server = make_fault_server(lambda request: action)
    client = make_client(server.url, max_retries=0)
    with pytest.raises(nx.APIError) as caught:
        client.get("eval_00000000")
    error = caught.value
    assert type(error) is error_class
    assert error.status_code == int(words[0][:3]) if words[0][:3].isdigit() else True
    for word in words:
        assert word in str(error), str(error)
    assert len(str(error)) < 400  # a snippet, not the whole page


def test_post_html_error_is_a_server_error_and_not_uncertain(
    make_fault_server: Callable[..., FaultServer], make_client: Callable[..., Any]
) -> None:
    server = make_fault_server(lambda request: html(502))
    client = make_client(server.url, max_retries=2)
    with pytest.raises(nx.ServerError) as caught:
        client.submit(PROFILE, pool=POOL)
    assert "HTML page" in str(caught.value)
    assert server.count("POST") == 3  # a 5xx answer means no job: retried within max_retries


def test_202_without_eval_id_is_uncertain(
    make_fault_server: Callable[..., FaultServer], make_client: Callable[..., Any]
) -> None:
    server = make_fault_server(lambda request: json_reply(202, {"status": "queued"}))
    client = make_client(server.url)
    with pytest.raises(nx.SubmissionUncertainError) as caught:
        client.submit(PROFILE, pool=POOL)
    assert caught.value.pool == POOL and server.count("POST") == 1
    assert json.loads(server.requests[0].body)["profile"] == PROFILE


def test_httpx_errors_are_mapped_at_one_boundary(
    make_fault_server: Callable[..., FaultServer], make_client: Callable[..., Any]
) -> None:
    """An answer that is not HTTP at all: a nexio-lab error, chained to httpx's."""

    async def garbage(conn: Any, request: Any) -> None:
        conn.writer.write(b"garbage\r\n\r\n")
        await conn.writer.drain()

    server = make_fault_server(lambda request: garbage)
    client = make_client(server.url, max_retries=0)
    with pytest.raises(nx.NexioError) as caught:
        client.get("eval_00000000")
    assert isinstance(caught.value.__cause__, httpx.HTTPError)
