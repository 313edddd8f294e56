"""An in-memory Nexio API behind ``httpx.MockTransport``, for what no loopback server may do:
take an ``nx_live_`` key over ``https://`` (the client refuses live keys over plain http, and
the sandbox refuses live keys).

It bills every POST it accepts (``billed``), can lose the answer of chosen POSTs *after*
creating the job (the worst case for double billing), and answers polls with a completed
evaluation at once.

>>> api = MockNexio()                                                     # doctest: +SKIP
>>> client = nx.Client("nx_live_...", base_url=api.base_url, transport=api.transport())
"""

from __future__ import annotations

import itertools
import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx

__all__ = ["LIVE_KEY", "MockNexio"]

#: A live-looking key: it is only ever sent to the mock transport below.
LIVE_KEY = "nx_live_M0ckL1veK3y0123456789abcdef"


@dataclass
class MockNexio:
    """``lose`` decides, per accepted POST body, whether its 202 is lost after billing."""

    lose: Callable[[dict[str, Any]], bool] = lambda body: False
    base_url: str = "https://api.nexio.mock"
    status_for: Callable[[dict[str, Any]], tuple[int, dict[str, Any]] | None] = lambda body: None
    jobs: dict[str, dict[str, Any]] = field(default_factory=dict)
    requests: list[httpx.Request] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._ids = itertools.count(1)
        self._lock = threading.Lock()

    # -- what happened ---------------------------------------------------------------------

    @property
    def posts(self) -> int:
        with self._lock:
            return sum(1 for r in self.requests if r.method == "POST")

    def billed(self) -> list[str]:
        """The entity of every job created (one entry per billed evaluation)."""
        with self._lock:
            return [job["profile"]["entity"] for job in self.jobs.values()]

    # -- the transport -----------------------------------------------------------------------

    def transport(self) -> httpx.MockTransport:
        return httpx.MockTransport(self._handle)

    def _headers(self) -> dict[str, str]:
        return {
            "X-RateLimit-Limit": "100000",
            "X-RateLimit-Remaining": "99999",
            "X-RateLimit-Reset": f"{time.time() + 60:.3f}",
        }

    def _handle(self, request: httpx.Request) -> httpx.Response:
        with self._lock:
            self.requests.append(request)
        if request.url.scheme != "https":  # a live key must never travel in clear
            raise AssertionError(f"non-https request: {request.url}")
        if not request.headers.get("x-api-key", "").startswith(("nx_live_", "nx_test_")):
            return self._error(401, "unauthorized", "Invalid or missing API key")
        if request.method == "POST" and request.url.path == "/api/v1/jobs":
            body = json.loads(request.content)
            refused = self.status_for(body)
            if refused is not None:
                return httpx.Response(refused[0], json=refused[1], headers=self._headers())
            with self._lock:
                eval_id = f"eval_mock{next(self._ids):06d}"
                self.jobs[eval_id] = {"profile": body["profile"], "pool": body["pool"]}
            if self.lose(body):
                # the job exists and is billed; the answer never arrives
                raise httpx.RemoteProtocolError("Server disconnected without sending a response.")
            return httpx.Response(
                202, json={"eval_id": eval_id, "status": "queued"}, headers=self._headers()
            )
        if request.method == "GET" and request.url.path.startswith("/api/v1/jobs/"):
            eval_id = request.url.path.rsplit("/", 1)[1]
            with self._lock:
                job = self.jobs.get(eval_id)
            if job is None:
                return self._error(404, "not_found", f"no job {eval_id}")
            return httpx.Response(200, json=self._completed(eval_id, job), headers=self._headers())
        if request.url.path == "/health":
            return httpx.Response(200, json={"status": "ok"})
        return self._error(404, "not_found", request.url.path)

    def _error(self, status: int, code: str, message: str) -> httpx.Response:
        return httpx.Response(
            status, json={"error": {"code": code, "message": message}}, headers=self._headers()
        )

    @staticmethod
    def _completed(eval_id: str, job: dict[str, Any]) -> dict[str, Any]:
        return {
            "eval_id": eval_id,
            "status": "completed",
            "pool_size": 10,
            "filtered": 1,
            "candidates": [
                {
                    "tier": "STRONG_FIT",
                    "name": f"Carrier for {job['profile']['entity']}",
                    "confidence": "HIGH",
                    "scores": {"appetite": "L1", "coverage": "L2"},
                    "reasoning": "mock",
                }
            ],
        }
