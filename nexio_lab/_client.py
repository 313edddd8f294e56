"""The Nexio clients: :class:`AsyncClient` is the implementation, :class:`Client` its sync twin.

``Client`` runs ``AsyncClient``'s coroutines on a private event loop in a daemon thread (see
``_loop.py``), so there is one implementation of every rule: rate limit, retries, the
no-double-billing rule for submissions, key hygiene.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import time
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import httpx

from ._exceptions import (
    APIConnectionError,
    APITimeoutError,
    NexioError,
    RateLimitError,
    ServerError,
    SubmissionUncertainError,
    error_from_response,
)
from ._limiter import RateLimiter
from ._loop import loop_thread
from ._models import Evaluation, RateLimit
from ._net import is_loopback
from ._profile import MissingPolicy, prepare_profile
from ._retry import Outcome, RetryPolicy
from ._version import __version__

if TYPE_CHECKING:
    from .batch import Batch

__all__ = ["DEFAULT_BASE_URL", "AsyncClient", "Client"]

logger = logging.getLogger("nexio_lab")

DEFAULT_BASE_URL = "https://api.usenexio.com"
JOBS_PATH = "/api/v1/jobs"
LIVE_KEY_PREFIX = "nx_live_"


def _check_base_url(base_url: str, api_key: str | None) -> str:
    parts = urlsplit(base_url)
    if parts.scheme not in {"http", "https"} or not parts.hostname:
        raise NexioError(f"base_url must be an http(s) URL, not {base_url!r}")
    if parts.scheme == "http":
        if not is_loopback(parts.hostname):
            raise NexioError(
                f"plain http:// is allowed only for loopback hosts; use https:// for "
                f"{parts.hostname}"
            )
        if api_key and api_key.startswith(LIVE_KEY_PREFIX):
            raise NexioError("a live (nx_live_) key is never sent over plain http://")
    return base_url.rstrip("/")


def _key_kind(api_key: str | None) -> str:
    """What a repr may say about a key: its kind, never its value."""
    if not api_key:
        return "None"
    for prefix in ("nx_live_", "nx_test_"):
        if api_key.startswith(prefix):
            return f"'{prefix}***'"
    return "'***'"


def _classify(exc: httpx.TransportError) -> Outcome:
    if isinstance(exc, httpx.ConnectError | httpx.ConnectTimeout | httpx.PoolTimeout):
        return Outcome.NOT_SENT
    return Outcome.LOST_AFTER_SEND


class AsyncClient:
    """Async client for the Nexio v1 API.

    ``api_key`` defaults to ``NEXIO_API_KEY`` and ``base_url`` to ``NEXIO_BASE_URL`` (else
    the production URL). Every request goes through one header-fed rate limiter.

    >>> async def main():                                           # doctest: +SKIP
    ...     async with AsyncClient() as client:
    ...         ev = await client.submit({"entity": "acme", "state": "CA"}, pool="carriers:all")
    ...         return await client.wait(ev.eval_id)
    """

    def __init__(
        self,
        api_key: str | None = None,
        *,
        base_url: str | None = None,
        timeout: float = 30.0,
        max_retries: int = 5,
        missing: MissingPolicy = "null",
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        api_key = api_key if api_key is not None else os.environ.get("NEXIO_API_KEY") or None
        if api_key is not None and (
            not api_key.isascii() or not api_key.isprintable() or " " in api_key
        ):
            raise NexioError("the API key has characters an HTTP header cannot carry")
        self._api_key = api_key
        self.base_url = _check_base_url(
            base_url or os.environ.get("NEXIO_BASE_URL") or DEFAULT_BASE_URL, api_key
        )
        self.timeout = timeout
        self.missing: MissingPolicy = missing
        self.retry_policy = RetryPolicy(max_retries=max_retries)
        self.limiter = RateLimiter()
        self._transport = transport
        self._http: httpx.AsyncClient | None = None

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(base_url={self.base_url!r}, api_key={_key_kind(self._api_key)})"
        )

    @property
    def is_live(self) -> bool:
        """True for a production (billed) ``nx_live_`` key."""
        return bool(self._api_key and self._api_key.startswith(LIVE_KEY_PREFIX))

    @property
    def rate_limit(self) -> RateLimit | None:
        """The rate-limit window as the last response described it, or None."""
        return self.limiter.snapshot

    # -- lifecycle -------------------------------------------------------------------------

    def _client(self) -> httpx.AsyncClient:
        if self._http is None:
            self._http = httpx.AsyncClient(
                base_url=self.base_url,
                timeout=self.timeout,
                transport=self._transport,
                limits=httpx.Limits(max_connections=64, max_keepalive_connections=64),
                headers={"User-Agent": f"nexio-lab/{__version__}"},
            )
        return self._http

    async def aclose(self) -> None:
        """Close the connection pool."""
        if self._http is not None:
            await self._http.aclose()
            self._http = None

    async def __aenter__(self) -> AsyncClient:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    # -- the API ---------------------------------------------------------------------------

    async def health(self) -> dict[str, Any]:
        """``GET /health`` (no key needed): ``{'status': 'ok'}`` when the service is up."""
        return await self._request("GET", "/health", needs_key=False)

    async def submit(
        self, profile: Mapping[str, Any], *, pool: str, webhook_url: str | None = None
    ) -> Evaluation:
        """Submit one evaluation (billed on live keys). Returns it with status ``queued``.

        Raises :class:`~nexio_lab.ProfileError` before any request for an unusable profile,
        and :class:`~nexio_lab.SubmissionUncertainError` when the answer was lost after the
        request went out (the job may exist; it is never retried blindly).
        """
        if webhook_url is not None:
            parts = urlsplit(webhook_url) if isinstance(webhook_url, str) else None
            if parts is None or parts.scheme not in {"http", "https"} or not parts.hostname:
                raise NexioError(f"webhook_url must be an http(s) URL, not {webhook_url!r}")
        return await self._submit(prepare_profile(profile, missing=self.missing), pool, webhook_url)

    async def get(self, eval_id: str) -> Evaluation:
        """``GET /api/v1/jobs/{eval_id}``: the evaluation's state, with results once done."""
        return await self._get(eval_id)

    async def wait(
        self,
        eval_id: str,
        *,
        timeout: float | None = None,
        poll_interval: float = 2.0,
        max_interval: float = 30.0,
    ) -> Evaluation:
        """Poll until the evaluation is ``completed`` or ``failed`` (the docs' 2 s x1.5, 30 s
        cap); :class:`~nexio_lab.APITimeoutError` after ``timeout`` seconds."""
        deadline = None if timeout is None else time.monotonic() + timeout
        interval = poll_interval
        while True:
            evaluation = await self._get(eval_id)
            if evaluation.is_done:
                return evaluation
            if deadline is not None and time.monotonic() + interval > deadline:
                raise APITimeoutError(
                    f"evaluation {eval_id} was still {evaluation.status!r} after {timeout} s"
                )
            await asyncio.sleep(interval)
            interval = min(max_interval, interval * 1.5)

    async def run_batch(self, profiles: Any, **options: Any) -> Batch:
        """Run a batch to the end; see :func:`nexio_lab.batch.run_batch` for the options."""
        from .batch import run_batch

        return await run_batch(self, profiles, **options)

    # -- internals shared with the batch engine --------------------------------------------

    async def _submit(
        self,
        profile: dict[str, Any],
        pool: str,
        webhook_url: str | None = None,
        *,
        slot_held: bool = False,
    ) -> Evaluation:
        """POST an already JSON-safe profile; ``slot_held``: the caller acquired the slot."""
        if not isinstance(pool, str) or not pool:
            raise NexioError("pool must be a non-empty string such as 'carriers:all'")
        body: dict[str, Any] = {"profile": profile, "pool": pool}
        if webhook_url is not None:
            body["webhook_url"] = webhook_url
        try:
            data = await self._request(
                "POST", JOBS_PATH, body=body, idempotent=False, slot_held=slot_held
            )
            if not data.get("eval_id"):
                raise _Uncertain("the 202 answer carried no eval_id")
        except _Uncertain as exc:
            raise SubmissionUncertainError(str(exc), profile=profile, pool=pool) from exc
        return Evaluation.from_json(data)

    async def _get(self, eval_id: str, *, slot_held: bool = False) -> Evaluation:
        if not isinstance(eval_id, str) or not eval_id or "/" in eval_id:
            raise NexioError(f"not an eval_id: {eval_id!r}")
        data = await self._request("GET", f"{JOBS_PATH}/{eval_id}", slot_held=slot_held)
        return Evaluation.from_json(data, eval_id=eval_id)

    async def _request(
        self,
        method: str,
        path: str,
        *,
        body: dict[str, Any] | None = None,
        needs_key: bool = True,
        idempotent: bool = True,
        slot_held: bool = False,
    ) -> dict[str, Any]:
        """Send one request through the limiter, retrying what is safe to retry; return the
        answer's JSON object.

        This is the single boundary where httpx errors become nexio-lab errors. A request
        that is not idempotent and whose answer was lost or unreadable raises ``_Uncertain``.
        """
        headers = {}
        if needs_key:
            if not self._api_key:
                raise NexioError("no API key: set NEXIO_API_KEY or pass api_key=")
            headers["X-API-Key"] = self._api_key
        content = None if body is None else json.dumps(body, allow_nan=False).encode()
        if content is not None:
            headers["Content-Type"] = "application/json"
        policy = self.retry_policy
        attempt = 0
        while True:
            limited = needs_key  # /health is outside the per-key limit
            if limited and not (slot_held and attempt == 0):
                await self.limiter.acquire()
            try:
                response = await self._client().request(
                    method, path, content=content, headers=headers
                )
            except httpx.TransportError as exc:
                if limited:
                    self.limiter.release(None)
                outcome = _classify(exc)
                if policy.should_retry(outcome, attempt=attempt, idempotent=idempotent):
                    logger.info("%s %s: %s; retrying", method, path, type(exc).__name__)
                    await asyncio.sleep(policy.backoff(attempt))
                    attempt += 1
                    continue
                if outcome is Outcome.LOST_AFTER_SEND and not idempotent:
                    raise _Uncertain(f"{type(exc).__name__}: the answer was lost") from exc
                if isinstance(exc, httpx.TimeoutException):
                    raise APITimeoutError() from exc
                raise APIConnectionError(
                    f"could not reach {self.base_url}: {type(exc).__name__}"
                ) from exc
            except BaseException:
                if limited:
                    self.limiter.release(None)
                raise
            if limited:
                self.limiter.release(response.headers, response.status_code)
            status = response.status_code
            logger.debug("%s %s -> %s", method, path, status)
            if status < 400:
                try:
                    data = response.json()
                    if isinstance(data, dict):
                        return data
                except (ValueError, UnicodeDecodeError):
                    pass
                # a 2xx whose body is cut or not a JSON object: a lost answer
                if policy.should_retry(
                    Outcome.LOST_AFTER_SEND, attempt=attempt, idempotent=idempotent
                ):
                    await asyncio.sleep(policy.backoff(attempt))
                    attempt += 1
                    continue
                message = f"the {status} answer was not a JSON object (truncated?)"
                raise (APIConnectionError(message) if idempotent else _Uncertain(message))
            error = error_from_response(status, response.content, response.headers)
            outcome = (
                Outcome.RATE_LIMITED
                if isinstance(error, RateLimitError)
                else Outcome.SERVER_ERROR
                if isinstance(error, ServerError)
                else None
            )
            if outcome and policy.should_retry(outcome, attempt=attempt, idempotent=idempotent):
                logger.info("%s %s -> %s; retrying", method, path, status)
                if outcome is Outcome.SERVER_ERROR or self.limiter.available() is None:
                    await asyncio.sleep(policy.backoff(attempt))
                # after a 429 the limiter itself waits for the reset
                attempt += 1
                continue
            raise error


class _Uncertain(APIConnectionError):
    """Internal: a non-idempotent request went out but its answer is lost or unreadable."""


class Client:
    """Sync client for the Nexio v1 API: the same surface as :class:`AsyncClient`.

    Calls run on a private event loop thread, so they also work inside Jupyter.

    >>> from nexio_lab import Client, sandbox                        # doctest: +SKIP
    >>> with sandbox.run() as sb, Client(sb.api_key, base_url=sb.url) as client:
    ...     ev = client.wait(client.submit({"entity": "acme"}, pool="carriers:all").eval_id)
    """

    def __init__(self, api_key: str | None = None, **options: Any) -> None:
        self._async = AsyncClient(api_key, **options)
        self._loop = loop_thread()

    def __repr__(self) -> str:
        return repr(self._async).replace("AsyncClient", "Client", 1)

    @property
    def base_url(self) -> str:
        return self._async.base_url

    @property
    def rate_limit(self) -> RateLimit | None:
        """The rate-limit window as the last response described it, or None."""
        return self._async.rate_limit

    @property
    def is_live(self) -> bool:
        return self._async.is_live

    def health(self) -> dict[str, Any]:
        """``GET /health``; see :meth:`AsyncClient.health`."""
        return self._loop.run(self._async.health())

    def submit(
        self, profile: Mapping[str, Any], *, pool: str, webhook_url: str | None = None
    ) -> Evaluation:
        """Submit one evaluation; see :meth:`AsyncClient.submit`."""
        return self._loop.run(self._async.submit(profile, pool=pool, webhook_url=webhook_url))

    def get(self, eval_id: str) -> Evaluation:
        """Read one evaluation; see :meth:`AsyncClient.get`."""
        return self._loop.run(self._async.get(eval_id))

    def wait(self, eval_id: str, **options: Any) -> Evaluation:
        """Poll until done; see :meth:`AsyncClient.wait`."""
        return self._loop.run(self._async.wait(eval_id, **options))

    def run_batch(self, profiles: Any, **options: Any) -> Batch:
        """Run a batch to the end, with live progress; see :func:`nexio_lab.batch.run_batch`."""
        return self.start_batch(profiles, **options).wait()

    def start_batch(self, profiles: Any, **options: Any) -> Batch:
        """Start a batch in the background and return it at once (``.wait()``, ``.cancel()``)."""
        from .batch import start_batch

        return start_batch(self._async, profiles, loop=self._loop, **options)

    def close(self) -> None:
        self._loop.run(self._async.aclose())

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()
