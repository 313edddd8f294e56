"""The v1 contract over real HTTP: every status, its error object and its headers."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator

import httpx
import pytest
from sandbox_support import (
    PROFILE,
    assert_error,
    assert_rate_headers,
    client,
    submit,
)

from nexio_lab._models import DEFAULT_DIMENSIONS, LEVELS, TIERS
from nexio_lab.sandbox import DEFAULT_API_KEY, DEFAULT_POOLS, Sandbox, run

OTHER_KEY = "nx_test_other_team_key_000000001"


@pytest.fixture(scope="module")
def sb() -> Iterator[Sandbox]:
    with run(speed=1e9, rate_limit=100_000, api_keys=[DEFAULT_API_KEY, OTHER_KEY]) as sandbox:
        yield sandbox


@pytest.fixture(scope="module")
def http(sb: Sandbox) -> Iterator[httpx.Client]:
    with client(sb) as c:
        yield c


def test_health_needs_no_key_and_carries_the_rate_headers_uncounted(sb: Sandbox) -> None:
    # the contract: *every* response carries the rate-limit headers (a dry run's ETA reads
    # them from GET /health); /health itself does not spend the budget
    response = httpx.get(f"{sb.url}/health")
    assert response.status_code == 200 and response.json() == {"status": "ok"}
    limit = int(response.headers["x-ratelimit-limit"])
    again = httpx.get(f"{sb.url}/health")
    assert int(again.headers["x-ratelimit-remaining"]) == limit


def test_submit_answers_202_queued_with_an_eval_id(http: httpx.Client) -> None:
    response = http.post("/api/v1/jobs", json={"profile": PROFILE, "pool": "carriers:all"})
    assert response.status_code == 202
    body = response.json()
    assert body["status"] == "queued" and set(body) == {"eval_id", "status"}
    assert re.fullmatch(r"eval_[0-9A-Za-z]{8}", body["eval_id"])
    assert_rate_headers(response)


def test_completed_job_has_the_documented_shape(http: httpx.Client) -> None:
    eval_id = submit(http)
    response = http.get(f"/api/v1/jobs/{eval_id}")
    assert response.status_code == 200
    assert_rate_headers(response)
    job = response.json()
    assert job["eval_id"] == eval_id and job["status"] == "completed"
    assert job["pool_size"] == 1847 and 0 <= job["filtered"] < job["pool_size"]
    assert job["audit"].endswith(f"/traces/{eval_id}")
    candidates = job["candidates"]
    assert 0 < len(candidates) <= 25
    for candidate in candidates:
        assert set(candidate) == {"tier", "name", "confidence", "scores", "reasoning"}
        assert candidate["tier"] in TIERS and candidate["confidence"] in ("HIGH", "MEDIUM", "LOW")
        assert tuple(candidate["scores"]) == DEFAULT_DIMENSIONS
        assert set(candidate["scores"].values()) <= set(LEVELS)
        assert candidate["reasoning"].endswith(".")
    # Ranked best first: tiers never improve going down the list.
    ranks = [TIERS.index(c["tier"]) for c in candidates]
    assert ranks == sorted(ranks)
    assert len({c["name"] for c in candidates}) == len(candidates)


def test_reasoning_names_the_real_factors(http: httpx.Client) -> None:
    job = http.get(f"/api/v1/jobs/{submit(http)}").json()
    reasoning = job["candidates"][0]["reasoning"]
    assert "CA" in reasoning and "general liability" in reasoning and "$12M" in reasoning


def test_shortlist_and_pools(http: httpx.Client) -> None:
    sizes = {}
    for pool in DEFAULT_POOLS:
        body = {"profile": {"entity": "generic-co"}, "pool": pool}
        eval_id = http.post("/api/v1/jobs", json=body).json()["eval_id"]
        job = http.get(f"/api/v1/jobs/{eval_id}").json()
        sizes[pool] = job["pool_size"]
        assert len(job["candidates"]) == min(25, job["pool_size"] - job["filtered"])
    assert sizes == {"carriers:all": 1847, "carriers:tier1": 60, "providers:network": 250}


def test_unknown_profile_fields_pass_through(sb: Sandbox, http: httpx.Client) -> None:
    profile = {"entity": "odd-co", "industry": "beekeeping", "nested": {"a": [1, None]},
               "state": None, "revenue": "n/a"}  # fmt: skip
    eval_id = submit(http, profile)
    assert http.get(f"/api/v1/jobs/{eval_id}").json()["status"] == "completed"
    record = next(j for j in sb.jobs() if j.eval_id == eval_id)
    assert record.profile == profile and record["pool"] == "carriers:all"
    assert DEFAULT_API_KEY not in json.dumps(record)


@pytest.mark.parametrize(
    ("content", "headers", "message"),
    [
        (b'{"profile": {"entity": "a"}, "pool": "carriers:all"}', {"Content-Type": "text/plain"},
         "Content-Type"),
        (b"{not json", {"Content-Type": "application/json"}, "Malformed JSON"),
        (b"\xff\xfe", {"Content-Type": "application/json"}, "Malformed JSON"),
        (b"[1, 2]", {"Content-Type": "application/json"}, "JSON object"),
        (b"", {"Content-Type": "application/json"}, "Malformed JSON"),
    ],
)  # fmt: skip
def test_malformed_requests_are_400(
    http: httpx.Client, content: bytes, headers: dict, message: str
) -> None:
    error = assert_error(
        http.post("/api/v1/jobs", content=content, headers=headers), 400, "invalid_request"
    )
    assert message in error["message"]


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"pool": "carriers:all"}, "Missing required field: profile"),
        ({"profile": "acme", "pool": "carriers:all"}, "profile must be a JSON object"),
        ({"profile": {}, "pool": "carriers:all"}, "Missing required field: profile.entity"),
        ({"profile": {"state": "CA"}, "pool": "carriers:all"},
         "Missing required field: profile.entity"),
        ({"profile": {"entity": "  "}, "pool": "carriers:all"},
         "Missing required field: profile.entity"),
        ({"profile": {"entity": 42}, "pool": "carriers:all"}, "profile.entity must be"),
        ({"profile": {"entity": "a"}}, "Missing required field: pool"),
        ({"profile": {"entity": "a"}, "pool": 7}, "pool must be"),
        ({"profile": {"entity": "a"}, "pool": "carriers:all", "webhook_url": "ftp://x/y"},
         "webhook_url"),
        ({"profile": {"entity": "a"}, "pool": "carriers:all", "webhook_url": 5}, "webhook_url"),
    ],
)  # fmt: skip
def test_invalid_fields_are_400_naming_the_field(
    sb: Sandbox, http: httpx.Client, body: dict, message: str
) -> None:
    created = sb.stats()["jobs_created"]
    response = http.post("/api/v1/jobs", json=body)
    error = assert_error(response, 400, "invalid_request")
    assert message in error["message"]
    assert_rate_headers(response)
    assert sb.stats()["jobs_created"] == created


def test_unknown_pool_is_422(http: httpx.Client) -> None:
    response = http.post("/api/v1/jobs", json={"profile": PROFILE, "pool": "carriers:nope"})
    error = assert_error(response, 422, "unknown_pool")
    assert "carriers:nope" in error["message"]
    assert_rate_headers(response)


@pytest.mark.parametrize("key", [None, "", "nx_test_wrong", DEFAULT_API_KEY + "x", "nx_live_abc"])
def test_missing_or_unknown_key_is_401(sb: Sandbox, key: str | None) -> None:
    with client(sb, key=key) as http:
        for response in (
            http.post("/api/v1/jobs", json={"profile": PROFILE, "pool": "carriers:all"}),
            http.get("/api/v1/jobs/eval_00000000"),
        ):
            error = assert_error(response, 401, "unauthorized")
            assert error["message"] == "Invalid or missing API key"
            limit, remaining, _ = assert_rate_headers(response)
            assert remaining == limit  # nothing counted for an unknown key


def test_live_keys_can_never_be_configured() -> None:
    with pytest.raises(ValueError, match="nx_live_"):
        run(api_keys=["nx_live_0123456789abcdef"])


def test_job_of_another_key_is_403(sb: Sandbox, http: httpx.Client) -> None:
    eval_id = submit(http)
    with client(sb, key=OTHER_KEY) as other:
        response = other.get(f"/api/v1/jobs/{eval_id}")
        assert_error(response, 403, "forbidden")
        assert_rate_headers(response)
        own = submit(other)
        assert other.get(f"/api/v1/jobs/{own}").status_code == 200
    owners = {j.eval_id: j.owner for j in sb.jobs()}
    assert owners[eval_id] != owners[own]
    assert OTHER_KEY not in owners.values() and DEFAULT_API_KEY not in owners.values()


@pytest.mark.parametrize("path", ["/api/v1/jobs/eval_zzzzzzzz", "/api/v1/jobs/", "/api/v1/nope"])
def test_unknown_ids_and_routes_under_api_are_404_with_headers(
    http: httpx.Client, path: str
) -> None:
    response = http.get(path)
    assert_error(response, 404, "not_found")
    assert_rate_headers(response)


def test_unknown_routes_elsewhere_are_404(sb: Sandbox) -> None:
    assert_error(httpx.get(f"{sb.url}/api/v2/jobs"), 404, "not_found")


@pytest.mark.parametrize(
    ("method", "path", "allow"),
    [("DELETE", "/api/v1/jobs", "POST"), ("GET", "/api/v1/jobs", "POST"),
     ("PUT", "/api/v1/jobs/eval_00000000", "GET"), ("POST", "/health", "GET")],
)  # fmt: skip
def test_wrong_methods_are_405(http: httpx.Client, method: str, path: str, allow: str) -> None:
    response = http.request(method, path)
    assert_error(response, 405, "method_not_allowed")
    assert response.headers["allow"] == allow
    if path.startswith("/api/v1/"):
        assert_rate_headers(response)


def test_bodies_over_1_mib_are_413(sb: Sandbox, http: httpx.Client) -> None:
    big = json.dumps({"profile": {"entity": "a", "blob": "x" * (1 << 20)}, "pool": "carriers:all"})
    response = http.post("/api/v1/jobs", content=big, headers={"Content-Type": "application/json"})
    assert_error(response, 413, "payload_too_large")
    assert_rate_headers(response)

    def chunks() -> Iterator[bytes]:  # no Content-Length: the streamed size decides
        yield b'{"profile": {"entity": "a", "blob": "'
        for _ in range(40):
            yield b"y" * 32_768
        yield b'"}, "pool": "carriers:all"}'

    response = http.post(
        "/api/v1/jobs", content=chunks(), headers={"Content-Type": "application/json"}
    )
    assert "content-length" not in response.request.headers
    assert_error(response, 413, "payload_too_large")
    # Just under the limit is fine.
    fits = {"profile": {"entity": "a", "blob": "x" * ((1 << 20) - 100)}, "pool": "carriers:all"}
    assert http.post("/api/v1/jobs", json=fits).status_code == 202


def test_openapi_document_is_served_without_a_key(sb: Sandbox) -> None:
    document = httpx.get(f"{sb.url}/openapi.json").json()
    assert document["openapi"].startswith("3.")
    assert {"/health", "/api/v1/jobs", "/api/v1/jobs/{eval_id}"} <= set(document["paths"])


def test_stats_count_requests_by_kind_and_status(make_sandbox) -> None:
    sb = make_sandbox()
    with client(sb) as http:
        httpx.get(f"{sb.url}/health")
        eval_id = submit(http)
        http.get(f"/api/v1/jobs/{eval_id}")
        http.get("/api/v1/jobs/eval_nothere")
    stats = sb.stats()
    assert (stats["requests"], stats["health"], stats["posts"], stats["gets"]) == (4, 1, 1, 2)
    assert stats["by_status"] == {"200": 2, "202": 1, "404": 1}
    sb.reset_stats()
    assert sb.stats()["requests"] == 0 and sb.stats()["by_status"] == {}
