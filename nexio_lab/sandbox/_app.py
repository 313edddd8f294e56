"""The HTTP face of the sandbox: routes, the /api/v1 gate and the request handlers.

Every request under ``/api/v1/`` passes the gate in this order, so nothing has a side effect
before it is known to be served: injected fault (500/503) -> key (401) -> rate limit (429,
counted per key) -> handler. Rate-limit headers go on every answer under ``/api/v1/``:
for an unknown key (401, or a fault before the key is known) they describe a fresh window
(``Remaining`` = ``Limit``) because nothing was counted.
"""

from __future__ import annotations

import contextlib
import json
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route, request_response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ._auth import KeyRing
from ._config import SandboxConfig
from ._errors import ApiError, error_response
from ._evaluations import Evaluations
from ._faults import FaultInjector
from ._openapi import openapi_document
from ._pools import pools_for
from ._ratelimit import RateLimits, RateRule
from ._stats import Stats
from ._store import JobStore
from ._validation import MAX_BODY, is_json_media_type, parse_submission
from ._webhooks import WebhookSender

__all__ = ["SandboxState", "create_app"]

log = logging.getLogger("nexio_lab.sandbox")
_JSON = "application/json"
_FAULTS = {
    500: ("internal_error", "Internal server error (injected by the sandbox)"),
    503: ("service_unavailable", "Service temporarily unavailable (injected by the sandbox)"),
}


@dataclass(frozen=True, slots=True)
class SandboxState:
    """Everything a running sandbox holds; ``app.state.sandbox`` of :func:`create_app`."""

    config: SandboxConfig
    keys: KeyRing
    limiter: RateLimits
    faults: FaultInjector
    store: JobStore
    evaluations: Evaluations
    webhooks: WebhookSender
    stats: Stats


Handler = Callable[[Request, SandboxState, str], Awaitable[Response]]


class _AnyMethod:
    """A function endpoint routed for every method (Starlette routes functions to GET only),
    so a wrong method gets our 405 with the error object, not a plain-text one."""

    def __init__(self, endpoint: Callable[[Request], Awaitable[Response]]) -> None:
        self._app = request_response(endpoint)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self._app(scope, receive, send)


def _method_not_allowed(request: Request, allowed: str) -> ApiError:
    return ApiError(
        405,
        "method_not_allowed",
        f"Method {request.method} not allowed on {request.url.path[:200]}",
        headers={"Allow": allowed},
    )


def _guarded(handler: Handler) -> _AnyMethod:
    """Wrap an /api/v1 handler in the gate (faults, key, rate limit, headers, errors)."""

    async def endpoint(request: Request) -> Response:
        sandbox: SandboxState = request.app.state.sandbox
        owner = sandbox.keys.owner(request.headers.get("x-api-key"))
        fault = sandbox.faults.draw()
        if fault is not None:
            sandbox.stats.add("injected_errors")
            headers = sandbox.limiter.peek(owner).headers()
            if fault == 503:
                headers["Retry-After"] = "1"
            return error_response(fault, *_FAULTS[fault], headers=headers)
        if owner is None:
            headers = sandbox.limiter.peek(None).headers()
            return error_response(
                401, "unauthorized", "Invalid or missing API key", headers=headers
            )
        quota = sandbox.limiter.hit(owner)
        headers = quota.headers()
        if not quota.allowed:
            config = sandbox.config
            message = (
                f"Rate limit exceeded: {config.rate_limit} requests per "
                f"{config.rate_window:g} s ({config.rate_kind}); retry after Retry-After"
            )
            return error_response(429, "rate_limit_exceeded", message, headers=headers)
        try:
            response = await handler(request, sandbox, owner)
        except ApiError as exc:
            response = exc.response()
        except Exception:
            log.exception("sandbox handler failed")
            response = error_response(500, "internal_error", "Unexpected sandbox error")
        response.headers.update(headers)
        return response

    return _AnyMethod(endpoint)


async def _read_body(request: Request) -> bytes:
    """The body, refusing (413) anything over :data:`MAX_BODY` before reading it all."""
    too_large = ApiError(413, "payload_too_large", f"Request body exceeds {MAX_BODY} bytes (1 MiB)")
    declared = request.headers.get("content-length")
    if declared is not None and declared.strip().isdigit() and int(declared) > MAX_BODY:
        raise too_large
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_BODY:
            raise too_large
        chunks.append(chunk)
    return b"".join(chunks)


async def submit_job(request: Request, sandbox: SandboxState, owner: str) -> Response:
    """``POST /api/v1/jobs``: validate, create the job, answer 202 queued."""
    if request.method != "POST":
        raise _method_not_allowed(request, "POST")
    body = await _read_body(request)
    if not is_json_media_type(request.headers.get("content-type")):
        raise ApiError(400, "invalid_request", "Content-Type must be application/json")
    submission = parse_submission(body, sandbox.evaluations.pool_ids)
    job = sandbox.evaluations.submit(
        owner, submission.profile, submission.pool, submission.webhook_url
    )
    sandbox.stats.add("jobs_created")
    sandbox.stats.ready(job.ready_at)
    if job.webhook_url:
        sandbox.webhooks.schedule(job)
    return Response(
        f'{{"eval_id":"{job.eval_id}","status":"queued"}}'.encode(), 202, media_type=_JSON
    )


async def read_job(request: Request, sandbox: SandboxState, owner: str) -> Response:
    """``GET /api/v1/jobs/{eval_id}``: the job as it is now."""
    if request.method not in ("GET", "HEAD"):
        raise _method_not_allowed(request, "GET")
    eval_id = request.path_params["eval_id"]
    job = sandbox.store.get(eval_id)
    if job is None:
        raise ApiError(404, "not_found", f"No evaluation with id {eval_id[:64]!r}")
    if job.owner != owner:
        raise ApiError(403, "forbidden", "This evaluation belongs to another API key")
    return Response(sandbox.evaluations.body(job), 200, media_type=_JSON)


async def unknown_api_route(request: Request, sandbox: SandboxState, owner: str) -> Response:
    raise ApiError(404, "not_found", f"No such endpoint: {request.url.path[:200]}")


async def health(request: Request) -> Response:
    if request.method not in ("GET", "HEAD"):
        return _method_not_allowed(request, "GET").response()
    # like the real service, every answer carries the rate-limit headers (the key's window
    # when a known key is sent, else a fresh one); /health itself is not counted
    sandbox: SandboxState = request.app.state.sandbox
    owner = sandbox.keys.owner(request.headers.get("x-api-key"))
    headers = sandbox.limiter.peek(owner).headers()
    return Response(b'{"status":"ok"}', 200, media_type=_JSON, headers=headers)


_OPENAPI = json.dumps(openapi_document(), separators=(",", ":")).encode()


async def openapi(request: Request) -> Response:
    if request.method not in ("GET", "HEAD"):
        return _method_not_allowed(request, "GET").response()
    return Response(_OPENAPI, 200, media_type=_JSON)


async def not_found(request: Request) -> Response:
    return error_response(404, "not_found", f"No such endpoint: {request.url.path[:200]}")


class _Counting:
    """Counts every request and every answer's status (pure ASGI: cheap)."""

    def __init__(self, app: ASGIApp, stats: Stats) -> None:
        self.app = app
        self.stats = stats

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        stats = self.stats
        stats.add("requests")
        path, method = scope["path"], scope["method"]
        if path.startswith("/api/"):
            stats.api_request(time.time())
        if path == "/health":
            stats.add("health")
        elif path == "/api/v1/jobs" and method == "POST":
            stats.add("posts")
        elif path.startswith("/api/v1/jobs/") and method == "GET":
            stats.add("gets")

        async def counting_send(message: Message) -> None:
            if message["type"] == "http.response.start":
                stats.status(message["status"])
            await send(message)

        await self.app(scope, receive, counting_send)


def create_app(config: SandboxConfig) -> Starlette:
    """The sandbox as an ASGI app (serve it with any ASGI server; :func:`run` uses uvicorn).

    >>> app = create_app(SandboxConfig(seed=1))
    >>> app.state.sandbox.config.seed
    1
    """
    stats = Stats()
    store = JobStore(config.db)
    evaluations = Evaluations(config, store)
    state = SandboxState(
        config=config,
        keys=KeyRing(config.api_keys),
        limiter=RateLimits(RateRule(config.rate_limit, config.rate_window, config.rate_kind)),
        faults=FaultInjector(config.error_rate, config.seed),
        store=store,
        evaluations=evaluations,
        webhooks=WebhookSender(stats, evaluations.body, store.webhook_done),
        stats=stats,
    )

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        pools_for(config.seed)  # build the pools now, not on the first request
        store.open()
        await state.webhooks.start()
        for job in store.pending_webhooks():
            state.webhooks.schedule(job)
        try:
            yield
        finally:
            await state.webhooks.stop()
            store.close()

    routes = [
        Route("/health", _AnyMethod(health)),
        Route("/openapi.json", _AnyMethod(openapi)),
        Route("/api/v1/jobs", _guarded(submit_job)),
        Route("/api/v1/jobs/{eval_id}", _guarded(read_job)),
        Route("/api/v1/{rest:path}", _guarded(unknown_api_route)),
        Route("/{rest:path}", _AnyMethod(not_found)),
    ]
    app = Starlette(
        routes=routes,
        middleware=[Middleware(_Counting, stats=stats)],
        lifespan=lifespan,
    )
    app.state.sandbox = state
    return app
