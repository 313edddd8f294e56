"""Helpers for the sandbox tests: a plain httpx client and contract assertions."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import httpx

from nexio_lab.sandbox import Sandbox

RATE_HEADERS = ("x-ratelimit-limit", "x-ratelimit-remaining", "x-ratelimit-reset")
PROFILE = {"entity": "acme-manufacturing", "state": "CA", "line": "general_liability",
           "revenue": 12_000_000}  # fmt: skip


def client(sb: Sandbox, key: str | None = "default") -> httpx.Client:
    """A plain httpx client for ``sb`` sending ``key`` (its own key by default)."""
    headers = {}
    if key is not None:
        headers["X-API-Key"] = sb.api_key if key == "default" else key
    return httpx.Client(base_url=sb.url, headers=headers, timeout=10.0, trust_env=False)


def submit(http: httpx.Client, profile: dict[str, Any] | None = None, **extra: Any) -> str:
    body = {"profile": PROFILE if profile is None else profile, "pool": "carriers:all", **extra}
    response = http.post("/api/v1/jobs", json=body)
    assert response.status_code == 202, response.text
    return response.json()["eval_id"]


def assert_error(response: httpx.Response, status: int, code: str | None = None) -> dict:
    """The response has ``status`` and exactly the documented error object."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()
    assert set(body) == {"error"}
    error = body["error"]
    assert set(error) == {"code", "message", "details"}
    assert isinstance(error["code"], str) and isinstance(error["message"], str)
    assert error["message"] and isinstance(error["details"], list)
    if code is not None:
        assert error["code"] == code
    return error


def assert_rate_headers(response: httpx.Response) -> tuple[int, int, float]:
    for name in RATE_HEADERS:
        assert name in response.headers, (response.status_code, dict(response.headers))
    limit = int(response.headers["x-ratelimit-limit"])
    remaining = int(response.headers["x-ratelimit-remaining"])
    reset = float(response.headers["x-ratelimit-reset"])
    assert 0 <= remaining <= limit
    return limit, remaining, reset


def wait_until(condition: Callable[[], Any], timeout: float = 10.0, what: str = "") -> Any:
    """Poll ``condition`` (cheap, in-process) until truthy; fail after ``timeout``."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what or condition}")
        time.sleep(0.01)


def wait_for_clock(when: float) -> None:
    """Block until the Unix clock reaches ``when`` (waiting on the clock, not guessing)."""
    while (left := when - time.time()) > 0:
        time.sleep(min(left, 0.05))
