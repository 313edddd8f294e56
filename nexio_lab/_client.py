"""The Nexio clients: :class:`AsyncClient` is the implementation, :class:`Client` its sync twin.

Both are facades over one :class:`~._transport.Transport`, which sends every request.
``Client`` runs ``AsyncClient``'s coroutines on a private event loop in a daemon thread (see
``_loop.py``), so there is one implementation of every rule: rate limit, retries, the
no-double-billing rule for submissions, key hygiene.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal
from urllib.parse import urlsplit

import httpx

from . import _config
from ._exceptions import APITimeoutError, NexioError
from ._limiter import RateLimiter
from ._loop import loop_thread
from ._models import Evaluation, RateLimit
from ._profile import MissingPolicy, prepare_profile
from ._retry import RetryPolicy
from ._transport import Transport

if TYPE_CHECKING:
    from .batch import Batch, ProfileSource
    from .batch._journal import Journal
    from .batch._reuse import ReuseChoice
    from .progress.auto import ProgressChoice

__all__ = ["DEFAULT_BASE_URL", "AsyncClient", "Client"]

DEFAULT_BASE_URL = _config.DEFAULT_BASE_URL


class AsyncClient:
    """Async client for the Nexio v1 API.

    ``api_key`` defaults to ``NEXIO_API_KEY`` and ``base_url`` to ``NEXIO_BASE_URL`` (else
    the production URL). Every request goes through one header-fed rate limiter.

    Args:
        api_key: the key (``nx_test_...`` or ``nx_live_...``); never shown in any output.
        base_url: the API's URL; plain ``http://`` only for loopback hosts (a sandbox).
        timeout: seconds for one HTTP request.
        max_retries: retries of a request that is safe to retry (429, 5xx, network).
        missing: what a missing value (NaN, None, NA) in a profile becomes: ``"null"``
            (sent as JSON null), ``"drop"`` (the field is left out) or ``"error"``.
        transport: an httpx transport (tests: ``httpx.MockTransport``).

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
        api_key = api_key if api_key is not None else _config.api_key()
        self.missing: MissingPolicy = missing
        #: the one retry decision of every request (see :class:`~nexio_lab._retry.RetryPolicy`)
        self.retry_policy = RetryPolicy(max_retries=max_retries)
        #: the key's budget, learned from the ``X-RateLimit-*`` headers
        self.limiter = RateLimiter()
        #: sends every request of this client (the batch engine uses it too)
        self.transport = Transport(
            api_key,
            base_url or _config.base_url(),
            timeout=timeout,
            retry_policy=self.retry_policy,
            limiter=self.limiter,
            http_transport=transport,
        )

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(base_url={self.base_url!r}, api_key={self.transport.key_kind})"
        )

    @property
    def base_url(self) -> str:
        """The API's URL, without a trailing slash."""
        return self.transport.base_url

    @property
    def timeout(self) -> float:
        """Seconds allowed for one HTTP request."""
        return self.transport.timeout

    @property
    def is_live(self) -> bool:
        """True for a production (billed) ``nx_live_`` key."""
        return self.transport.is_live

    @property
    def rate_limit(self) -> RateLimit | None:
        """The rate-limit window as the last response described it, or None."""
        return self.limiter.snapshot

    # -- lifecycle -------------------------------------------------------------------------

    async def aclose(self) -> None:
        """Close the connection pool."""
        await self.transport.aclose()

    async def __aenter__(self) -> AsyncClient:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    # -- the API ---------------------------------------------------------------------------

    async def health(self) -> dict[str, Any]:
        """``GET /health`` (no key needed): ``{'status': 'ok'}`` when the service is up."""
        return await self.transport.health()

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
        prepared = prepare_profile(profile, missing=self.missing)
        return await self.transport.submit(prepared, pool, webhook_url)

    async def get(self, eval_id: str) -> Evaluation:
        """``GET /api/v1/jobs/{eval_id}``: the evaluation's state, with results once done."""
        return await self.transport.get(eval_id)

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
            evaluation = await self.transport.get(eval_id)
            if evaluation.is_done:
                return evaluation
            if deadline is not None and time.monotonic() + interval > deadline:
                raise APITimeoutError(
                    f"evaluation {eval_id} was still {evaluation.status!r} after {timeout} s"
                )
            await asyncio.sleep(interval)
            interval = min(max_interval, interval * 1.5)

    async def run_batch(
        self,
        profiles: ProfileSource,
        *,
        pool: str | None = None,
        pools: Sequence[str] | None = None,
        name: str | None = None,
        store: str | Path | Journal | None = None,
        webhook: str | None = None,
        progress: ProgressChoice = "auto",
        confirm: bool = False,
        resubmit_uncertain: bool | None = None,
        allow_duplicates: bool = False,
        extend: bool = False,
        deadline_s: float = 900.0,
        reuse: ReuseChoice = False,
        poll: Literal["polite", "eager"] = "polite",
    ) -> Batch:
        """Run every profile against every pool, journaled and resumable; return the batch.

        See :meth:`Client.run_batch` for the options. Raises
        :class:`~nexio_lab.AuthenticationError` / :class:`~nexio_lab.PermissionDeniedError`
        when the server refuses the key (what was done stays in the journal).
        """
        from .batch import BatchOptions, run_batch

        options = BatchOptions(
            pool=pool,
            pools=pools,
            name=name,
            store=store,
            webhook=webhook,
            confirm=confirm,
            resubmit_uncertain=resubmit_uncertain,
            allow_duplicates=allow_duplicates,
            extend=extend,
            deadline_s=deadline_s,
            reuse=reuse,
            poll=poll,
        )
        return await run_batch(self, profiles, options, progress=progress)

    async def resume_batch(
        self,
        name: str,
        *,
        store: str | Path | Journal | None = None,
        progress: ProgressChoice = "auto",
        webhook: str | None = None,
        confirm: bool = False,
        resubmit_uncertain: bool | None = None,
        deadline_s: float = 900.0,
        reuse: ReuseChoice = False,
    ) -> Batch:
        """Finish journaled batch ``name`` from the profiles and pools its journal holds (no
        input needed); see :meth:`Client.resume_batch`."""
        from .batch._resume import resume_batch

        return await resume_batch(
            self,
            name,
            store=store,
            progress=progress,
            webhook=webhook,
            confirm=confirm,
            resubmit_uncertain=resubmit_uncertain,
            deadline_s=deadline_s,
            reuse=reuse,
        )


class Client:
    """Sync client for the Nexio v1 API: the same surface as :class:`AsyncClient`.

    Calls run on a private event loop thread, so they also work inside Jupyter. The
    arguments are :class:`AsyncClient`'s.

    >>> from nexio_lab import Client, sandbox
    >>> with sandbox.run(speed=1000) as sb, Client(sb.api_key, base_url=sb.url) as client:
    ...     ev = client.submit({"entity": "acme", "state": "CA"}, pool="carriers:all")
    ...     ev = client.wait(ev.eval_id, poll_interval=0.05)
    >>> ev.status, ev.candidates[0].rank
    ('completed', 1)
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
        self._async = AsyncClient(
            api_key,
            base_url=base_url,
            timeout=timeout,
            max_retries=max_retries,
            missing=missing,
            transport=transport,
        )
        self._loop = loop_thread()

    def __repr__(self) -> str:
        return repr(self._async).replace("AsyncClient", "Client", 1)

    @property
    def base_url(self) -> str:
        """The API's URL, without a trailing slash."""
        return self._async.base_url

    @property
    def rate_limit(self) -> RateLimit | None:
        """The rate-limit window as the last response described it, or None."""
        return self._async.rate_limit

    @property
    def is_live(self) -> bool:
        """True for a production (billed) ``nx_live_`` key."""
        return self._async.is_live

    @property
    def limiter(self) -> RateLimiter:
        """The key's budget as this client knows it (429s seen: ``limiter.rate_limited``)."""
        return self._async.limiter

    @property
    def retry_policy(self) -> RetryPolicy:
        """The retry decision and backoff of every request."""
        return self._async.retry_policy

    @property
    def async_client(self) -> AsyncClient:
        """The :class:`AsyncClient` this client runs on its private loop."""
        return self._async

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

    def wait(
        self,
        eval_id: str,
        *,
        timeout: float | None = None,
        poll_interval: float = 2.0,
        max_interval: float = 30.0,
    ) -> Evaluation:
        """Poll until done; see :meth:`AsyncClient.wait`."""
        return self._loop.run(
            self._async.wait(
                eval_id, timeout=timeout, poll_interval=poll_interval, max_interval=max_interval
            )
        )

    def run_batch(
        self,
        profiles: ProfileSource,
        *,
        pool: str | None = None,
        pools: Sequence[str] | None = None,
        name: str | None = None,
        store: str | Path | Journal | None = None,
        webhook: str | None = None,
        progress: ProgressChoice = "auto",
        confirm: bool = False,
        resubmit_uncertain: bool | None = None,
        allow_duplicates: bool = False,
        extend: bool = False,
        deadline_s: float = 900.0,
        reuse: ReuseChoice = False,
        poll: Literal["polite", "eager"] = "polite",
    ) -> Batch:
        """Run every profile against every pool to the end, with live progress.

        Args:
            profiles: a DataFrame, a list of dicts, or a CSV / JSONL / Parquet path.
            pool, pools: the candidate pool(s); every profile runs against each.
            name: the batch's name in the journal; the same name again resumes.
            store: the journal (a path; default ``$NEXIO_LAB_HOME/journal.sqlite``).
            webhook: a local ``http://HOST:PORT/path`` to receive results instead of polling.
            progress: ``"auto"`` (widget in Jupyter, a live line on a terminal, log lines
                otherwise), ``"widget"``, ``"console"``, ``"log"``, ``False`` or a reporter.
            confirm: required above 100 billed evaluations on a live key.
            resubmit_uncertain: resubmit rows whose POST answer was lost (default: only
                with a test key, since it may bill twice).
            allow_duplicates: send identical (profile, pool) pairs each time.
            extend: add changed rows to an existing batch name instead of refusing.
            deadline_s: give up polling an evaluation after this many seconds.
            reuse: take a completed result of the same profile (as sent), pool and base URL
                from any batch of the store instead of paying again: ``"7d"``, ``"12h"``,
                ``True`` for any age; off by default. ``reused_from`` in the evaluations
                table says which batch and eval_id each reused row came from.
            poll: ``"polite"`` (default) polls a job only when it has a fair chance of
                being done, or is late: at first the docs' advice (2 s, x1.5, capped at
                30 s), then where the durations observed place it, never more often than
                that advice. ``"eager"`` also spends budget the window would otherwise
                lose, for lower latency (more polls).

        Raises :class:`~nexio_lab.MissingAPIKeyError` before anything is journaled when there
        is no key, and :class:`~nexio_lab.AuthenticationError` /
        :class:`~nexio_lab.PermissionDeniedError` when the server refuses it (the journal
        keeps what was done). Ctrl-C stops the batch with everything journaled.

        >>> batch = client.run_batch(profiles, pool="carriers:all", name="q4")  # doctest: +SKIP
        >>> batch.status_counts()["completed"]                                   # doctest: +SKIP
        240
        """
        return self.start_batch(
            profiles,
            pool=pool,
            pools=pools,
            name=name,
            store=store,
            webhook=webhook,
            progress=progress,
            confirm=confirm,
            resubmit_uncertain=resubmit_uncertain,
            allow_duplicates=allow_duplicates,
            extend=extend,
            deadline_s=deadline_s,
            reuse=reuse,
            poll=poll,
        ).wait()

    def start_batch(
        self,
        profiles: ProfileSource,
        *,
        pool: str | None = None,
        pools: Sequence[str] | None = None,
        name: str | None = None,
        store: str | Path | Journal | None = None,
        webhook: str | None = None,
        progress: ProgressChoice = "auto",
        confirm: bool = False,
        resubmit_uncertain: bool | None = None,
        allow_duplicates: bool = False,
        extend: bool = False,
        deadline_s: float = 900.0,
        reuse: ReuseChoice = False,
        detach: bool = False,
        poll: Literal["polite", "eager"] = "polite",
    ) -> Batch:
        """Start a batch in the background and return it at once; the options are
        :meth:`run_batch`'s. Then ``batch.wait()``, ``batch.cancel()``, partial tables.

        ``detach=True`` journals the batch here, then hands it to a separate OS process
        that survives a kernel restart or a closed notebook; the handle returned reads the
        journal (``batch.log_path``: that process's log in the store's folder). The key
        reaches that process through its environment only. Follow it with
        :func:`nexio_lab.attach`, stop it with ``batch.cancel()``.

        >>> batch = client.start_batch(profiles, pool="carriers:all", name="q4", detach=True)
        ... # doctest: +SKIP
        """
        from .batch import BatchOptions, start_batch

        options = BatchOptions(
            pool=pool,
            pools=pools,
            name=name,
            store=store,
            webhook=webhook,
            confirm=confirm,
            resubmit_uncertain=resubmit_uncertain,
            allow_duplicates=allow_duplicates,
            extend=extend,
            deadline_s=deadline_s,
            reuse=reuse,
            poll=poll,
        )
        return start_batch(
            self._async,
            profiles,
            options,
            loop=self._loop,
            progress=False if detach else progress,
            detach=detach,
        )

    def resume_batch(
        self,
        name: str,
        *,
        store: str | Path | Journal | None = None,
        progress: ProgressChoice = "auto",
        webhook: str | None = None,
        confirm: bool = False,
        resubmit_uncertain: bool | None = None,
        deadline_s: float = 900.0,
        reuse: ReuseChoice = False,
        detach: bool = False,
        wait: bool = True,
    ) -> Batch:
        """Finish journaled batch ``name`` from the profiles and pools its journal holds.

        Rows already sent are polled, never sent twice; ``uncertain`` rows are resubmitted
        only with ``resubmit_uncertain`` (default: test keys only); a live key needs
        ``confirm=True`` above 100 billed evaluations. A batch another live process runs is
        refused (:class:`~nexio_lab.BatchLockedError` names it). ``detach=True`` hands
        the rest to a separate process and returns at once; ``wait=False`` runs it in the
        background of this one.

        >>> batch = client.resume_batch("q4")   # doctest: +SKIP
        """
        from .batch._resume import start_resume

        batch = start_resume(
            self._async,
            name,
            loop=self._loop,
            store=store,
            progress=False if detach else progress,
            webhook=webhook,
            confirm=confirm,
            resubmit_uncertain=resubmit_uncertain,
            deadline_s=deadline_s,
            reuse=reuse,
            run=not detach,
        )
        if detach:
            from .batch._detach import detach as detach_batch

            return detach_batch(
                batch,
                self._async,
                webhook=webhook,
                resubmit_uncertain=resubmit_uncertain,
                deadline_s=deadline_s,
            )
        return batch.wait() if wait else batch

    def close(self) -> None:
        """Close the connection pool."""
        self._loop.run(self._async.aclose())

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()
