"""Sending one request to the Nexio API: the only place that talks HTTP.

The transport owns everything about a single request: the key and the headers, the budget
(a :class:`~._limiter.Slot`, given back on every path), the retry decision
(:class:`~._retry.RetryPolicy`) and the mapping of httpx's errors and of error answers to
nexio-lab's (``raise X(...) from exc``, here and nowhere else). The clients and the batch
engine both send through it; neither touches httpx.
"""

from __future__ import annotations

import asyncio
import functools
import json
import logging
import ssl
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

import httpx

from . import _config
from ._exceptions import (
    APIConnectionError,
    APITimeoutError,
    MissingAPIKeyError,
    NexioError,
    RateLimitError,
    ServerError,
    SubmissionUncertainError,
    error_from_response,
)
from ._limiter import RateLimiter, Slot
from ._models import Evaluation
from ._net import is_loopback
from ._retry import Outcome, RetryPolicy
from ._version import __version__

__all__ = ["JOBS_PATH", "LIVE_KEY_PREFIX", "Transport", "check_base_url", "key_kind"]

logger = logging.getLogger("nexio_lab")

JOBS_PATH = "/api/v1/jobs"
LIVE_KEY_PREFIX = "nx_live_"


def check_base_url(base_url: str, api_key: str | None) -> str:
    """The base URL without its trailing slash, if it may carry this key."""
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


def key_kind(api_key: str | None) -> str:
    """What a repr may say about a key: its kind, never its value.

    >>> key_kind("nx_test_abc"), key_kind(None)
    ("'nx_test_***'", 'None')
    """
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


class _Uncertain(APIConnectionError):
    """A non-idempotent request went out but its answer is lost or unreadable."""


@functools.cache
def _trusts_nothing() -> ssl.SSLContext:
    """TLS settings for a plain-http server. httpx builds them for every client whether TLS
    is used or not, and loading the trust store costs tens of milliseconds before the first
    request of every batch. This context loads none: it would refuse any certificate,
    should TLS ever be asked of it (it fails closed, unlike ``verify=False``)."""
    return ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)


class Transport:
    """Sends requests for one key to one base URL, within one budget.

    ``slot``: a budget slot the caller already holds (the batch engine takes one before it
    decides what to send); the first attempt uses it, retries take their own. The held slot
    is given back whatever happens. ``on_send``: called once, just before the first attempt
    goes out (after every local check), so a caller can journal "sent" truthfully.
    """

    def __init__(
        self,
        api_key: str | None,
        base_url: str,
        *,
        timeout: float,
        retry_policy: RetryPolicy,
        limiter: RateLimiter,
        http_transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        if api_key is not None and (
            not api_key.isascii() or not api_key.isprintable() or " " in api_key
        ):
            raise NexioError("the API key has characters an HTTP header cannot carry")
        self._api_key = api_key
        self.base_url = check_base_url(base_url, api_key)
        self.timeout = timeout
        self.retry_policy = retry_policy
        self.limiter = limiter
        self._http_transport = http_transport
        self._http: httpx.AsyncClient | None = None

    def __repr__(self) -> str:
        return f"Transport(base_url={self.base_url!r}, api_key={key_kind(self._api_key)})"

    @property
    def has_key(self) -> bool:
        return bool(self._api_key)

    @property
    def is_live(self) -> bool:
        """True for a production (billed) ``nx_live_`` key."""
        return bool(self._api_key and self._api_key.startswith(LIVE_KEY_PREFIX))

    @property
    def key_kind(self) -> str:
        """What may be shown of the key: its kind, never its value."""
        return key_kind(self._api_key)

    @property
    def key_type(self) -> str:
        """``live``, ``test`` or ``other``: what a journal may record about the key."""
        if self.is_live:
            return "live"
        return "test" if (self._api_key or "").startswith("nx_test_") else "other"

    def child_environment(self, *, driver_token: str, import_path: str) -> dict[str, str]:
        """The environment for a process that drives a batch with this key (see
        :func:`nexio_lab._config.child_environment`)."""
        return _config.child_environment(
            api_key=self._api_key, driver_token=driver_token, import_path=import_path
        )

    def require_key(self) -> None:
        """Raise :class:`~nexio_lab.MissingAPIKeyError` at once when there is no key."""
        if not self._api_key:
            raise MissingAPIKeyError()

    def _client(self) -> httpx.AsyncClient:
        if self._http is None:
            plain = urlsplit(self.base_url).scheme == "http"
            self._http = httpx.AsyncClient(
                base_url=self.base_url,
                timeout=self.timeout,
                verify=_trusts_nothing() if plain else True,
                transport=self._http_transport,
                limits=httpx.Limits(max_connections=64, max_keepalive_connections=64),
                headers={"User-Agent": f"nexio-lab/{__version__}"},
            )
        return self._http

    async def aclose(self) -> None:
        if self._http is not None:
            await self._http.aclose()
            self._http = None

    # -- the three calls of the v1 API ---------------------------------------------------------

    async def health(self) -> dict[str, Any]:
        return await self.request("GET", "/health", needs_key=False)

    async def submit(
        self,
        profile: dict[str, Any],
        pool: str,
        webhook_url: str | None = None,
        *,
        slot: Slot | None = None,
        on_send: Callable[[], None] | None = None,
    ) -> Evaluation:
        """POST an already JSON-safe profile. Raises :class:`SubmissionUncertainError` when
        the request went out and its answer was lost; any other error means no job exists."""
        try:
            if not isinstance(pool, str) or not pool:
                raise NexioError("pool must be a non-empty string such as 'carriers:all'")
            body: dict[str, Any] = {"profile": profile, "pool": pool}
            if webhook_url is not None:
                body["webhook_url"] = webhook_url
            try:
                data = await self.request(
                    "POST", JOBS_PATH, body=body, idempotent=False, slot=slot, on_send=on_send
                )
                if not data.get("eval_id"):
                    raise _Uncertain("the 202 answer carried no eval_id")
            except _Uncertain as exc:
                raise SubmissionUncertainError(str(exc), profile=profile, pool=pool) from exc
            return Evaluation.from_json(data)
        finally:
            if slot is not None:
                slot.done(None)

    async def get(self, eval_id: str, *, slot: Slot | None = None) -> Evaluation:
        """``GET /api/v1/jobs/{eval_id}``."""
        try:
            if not isinstance(eval_id, str) or not eval_id or "/" in eval_id:
                raise NexioError(f"not an eval_id: {eval_id!r}")
            data = await self.request("GET", f"{JOBS_PATH}/{eval_id}", slot=slot)
            return Evaluation.from_json(data, eval_id=eval_id)
        finally:
            if slot is not None:
                slot.done(None)

    # -- one request -------------------------------------------------------------------------------

    async def request(
        self,
        method: str,
        path: str,
        *,
        body: dict[str, Any] | None = None,
        needs_key: bool = True,
        idempotent: bool = True,
        slot: Slot | None = None,
        on_send: Callable[[], None] | None = None,
    ) -> dict[str, Any]:
        """Send one request, retrying what is safe to retry; return the answer's JSON object.

        A request that is not idempotent and whose answer was lost or unreadable raises
        ``_Uncertain``. A held ``slot`` is always given back (the caller's context does it
        too: :meth:`Slot.done` is idempotent).
        """
        held = slot
        try:
            headers = {}
            if needs_key:
                self.require_key()
                assert self._api_key is not None
                headers["X-API-Key"] = self._api_key
            content = None if body is None else json.dumps(body, allow_nan=False).encode()
            if content is not None:
                headers["Content-Type"] = "application/json"
            if on_send is not None:
                on_send()
            return await self._attempts(method, path, content, headers, needs_key, idempotent, held)
        finally:
            if held is not None:
                held.done(None)

    async def _attempts(
        self,
        method: str,
        path: str,
        content: bytes | None,
        headers: dict[str, str],
        limited: bool,  # /health is outside the per-key limit
        idempotent: bool,
        held: Slot | None,
    ) -> dict[str, Any]:
        policy = self.retry_policy
        attempt = 0
        while True:
            slot = held if (held is not None and attempt == 0) else None
            if limited and slot is None:
                slot = await self.limiter.take()
            response: httpx.Response | None = None
            try:
                response = await self._client().request(
                    method, path, content=content, headers=headers
                )
            except httpx.TransportError as exc:
                if slot is not None:
                    slot.done(None)
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
            finally:
                # given back with what the answer taught, or with nothing on any other path
                if slot is not None:
                    if response is not None:
                        slot.done(response.headers, response.status_code)
                    slot.done(None)
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
            retryable: Outcome | None = (
                Outcome.RATE_LIMITED
                if isinstance(error, RateLimitError)
                else Outcome.SERVER_ERROR
                if isinstance(error, ServerError)
                else None
            )
            if retryable and policy.should_retry(retryable, attempt=attempt, idempotent=idempotent):
                logger.info("%s %s -> %s; retrying", method, path, status)
                if retryable is Outcome.SERVER_ERROR or self.limiter.available() is None:
                    await asyncio.sleep(policy.backoff(attempt))
                # after a 429 the limiter itself waits for the reset
                attempt += 1
                continue
            raise error
