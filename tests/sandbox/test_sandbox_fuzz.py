"""Hypothesis-driven requests against the served OpenAPI document: no 5xx, nothing
outside the contract (documented statuses, the error object, rate-limit headers)."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sandbox_support import RATE_HEADERS

from nexio_lab.sandbox import DEFAULT_POOLS, Sandbox, run

KNOWN_ID: list[str] = []


@pytest.fixture(scope="module")
def sb() -> Iterator[Sandbox]:
    with run(speed=1e9, rate_limit=1_000_000, error_rate=0.0) as sandbox:
        response = httpx.post(
            f"{sandbox.url}/api/v1/jobs",
            json={"profile": {"entity": "seed-co"}, "pool": "carriers:all"},
            headers={"X-API-Key": sandbox.api_key},
        )
        KNOWN_ID[:] = [response.json()["eval_id"]]
        yield sandbox


@pytest.fixture(scope="module")
def http() -> Iterator[httpx.Client]:
    with httpx.Client(timeout=10, trust_env=False) as client:
        yield client


@pytest.fixture(scope="module")
def spec(sb: Sandbox) -> dict[str, Any]:
    return httpx.get(f"{sb.url}/openapi.json").json()


json_scalars = st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20)
json_values = st.recursive(
    json_scalars,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)
profiles = st.fixed_dictionaries(
    {},
    optional={
        "entity": st.text(max_size=30) | json_values,
        "state": st.sampled_from(["CA", "TX", "ny", "ZZ", ""]) | json_values,
        "line": st.sampled_from(["cyber", "workers_comp", "Workers Comp", "nope"]) | json_values,
        "revenue": st.floats(allow_nan=True) | st.integers() | st.text(max_size=12) | st.none(),
        "industry": json_values,
    },
)
submissions = st.fixed_dictionaries(
    {},
    optional={
        "profile": profiles | json_values,
        "pool": st.sampled_from([*DEFAULT_POOLS, "carriers:none", ""]) | json_values,
        "webhook_url": st.sampled_from(["http://127.0.0.1:9/x", "https://h.invalid/", "ftp://a",
                                        "http://", "nope"]) | json_values,
    },
)  # fmt: skip
bodies = (
    submissions.map(lambda b: json.dumps(b).encode())
    | json_values.map(lambda b: json.dumps(b).encode())
    | st.binary(max_size=64)
)
fixed_paths = st.sampled_from(
    ["/health", "/openapi.json", "/api/v1/jobs", "/api/v1/jobs/{known}",
     "/api/v1/jobs/eval_00000000", "/api/v1/", "/api/v1/jobs/a/b", "/x",
     "/api/v1/jobs/%2e%2e", "/api/v1/jobs/" + "é" * 3]
)  # fmt: skip
random_paths = st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789_/-", max_size=30)
paths = fixed_paths | random_paths.map(lambda p: "/api/v1/" + p)
keys = st.sampled_from(["own", None, "", "nx_test_nope", "nx_live_0123456789", "own+"])
content_types = st.sampled_from(
    ["application/json", "application/json; charset=utf-8", "text/plain", None,
     "application/problem+json", "multipart/form-data"]
)  # fmt: skip
methods = st.sampled_from(["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"])


def _documented(spec: dict[str, Any], method: str, path: str) -> set[int]:
    """Statuses the document allows for this request (404/405 for everything else)."""
    allowed = {404, 405}
    if path == "/openapi.json":  # the document itself, served to anyone who asks
        allowed |= {200}
    for template, operations in spec["paths"].items():
        pattern = "^" + re.sub(r"\{[^}]+\}", "[^/]+", template) + "$"
        if re.match(pattern, path):
            allowed |= {int(s) for op in operations.values() for s in op["responses"]}
    if path.startswith("/api/v1/"):
        allowed |= {400, 401, 413, 429} if method == "POST" else {401, 429}
    return allowed - {500, 503}  # error_rate is 0: no 5xx may ever appear


@settings(
    max_examples=200,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(method=methods, path=paths, key=keys, content_type=content_types, body=bodies)
def test_fuzzed_requests_stay_inside_the_contract(
    sb: Sandbox, http: httpx.Client, spec: dict, method: str, path: str, key: str | None,
    content_type: str | None, body: bytes,
) -> None:  # fmt: skip
    path = path.replace("{known}", KNOWN_ID[0])
    headers = {}
    if key is not None:
        headers["X-API-Key"] = {"own": sb.api_key, "own+": sb.api_key + "0"}.get(key, key)
    if content_type is not None:
        headers["Content-Type"] = content_type
    content = body if method in ("POST", "PUT", "PATCH") else None
    response = http.request(method, sb.url + path, headers=headers, content=content)
    status = response.status_code
    assert status < 500, response.text
    assert status in _documented(spec, method, response.url.path), (status, response.text)
    if path.startswith("/api/v1/"):
        for name in RATE_HEADERS:
            assert name in response.headers
    if method == "HEAD":
        return
    payload = response.json()
    if status >= 400:
        assert set(payload) == {"error"} and set(payload["error"]) == {"code", "message", "details"}
        assert isinstance(payload["error"]["details"], list)
    elif status == 202:
        assert re.fullmatch(r"eval_[0-9A-Za-z]{8}", payload["eval_id"])
        assert payload["status"] == "queued"
    elif path.startswith("/api/v1/jobs/"):
        assert payload["status"] in ("completed", "failed")
        assert payload["eval_id"] == KNOWN_ID[0]
