"""Webhook delivery: POST the finished job body to its ``webhook_url`` at ready time.

One asyncio task per job sleeps until the job is done, then delivers, retrying up to
:data:`RETRIES` times with exponential backoff on connection errors and non-2xx answers.
Receivers deduplicate on ``eval_id`` (a retry after a lost 2xx sends the body again).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable

import httpx

from .._version import __version__
from ._stats import Stats
from ._store import Job

__all__ = ["RETRIES", "WebhookSender"]

RETRIES = 3
_BACKOFF = 0.25  # seconds before the first retry, doubled each time
log = logging.getLogger("nexio_lab.sandbox")


class WebhookSender:
    """Schedules and delivers webhooks on the server's event loop."""

    def __init__(
        self,
        stats: Stats,
        body: Callable[[Job], bytes],
        delivered: Callable[[str], None],
        backoff: float = _BACKOFF,
    ) -> None:
        self._stats = stats
        self._body = body
        self._delivered = delivered
        self._backoff = backoff
        self._tasks: set[asyncio.Task[None]] = set()
        self._client: httpx.AsyncClient | None = None

    async def start(self) -> None:
        # trust_env=False: a proxy from the environment must not swallow loopback deliveries.
        self._client = httpx.AsyncClient(
            timeout=10.0,
            trust_env=False,
            headers={"User-Agent": f"nexio-sandbox/{__version__}"},
        )

    async def stop(self) -> None:
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        if self._client is not None:
            await self._client.aclose()
            self._client = None

    def schedule(self, job: Job) -> None:
        """Deliver ``job``'s final body to its webhook once it is done."""
        task = asyncio.get_running_loop().create_task(self._deliver(job))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _deliver(self, job: Job) -> None:
        assert job.webhook_url and self._client is not None
        delay = job.ready_at - time.time()
        if delay > 0:
            await asyncio.sleep(delay)
        body = self._body(job)
        for attempt in range(RETRIES + 1):
            if attempt:
                await asyncio.sleep(self._backoff * 2 ** (attempt - 1))
            self._stats.add("webhook_attempts")
            try:
                response = await self._client.post(
                    job.webhook_url,
                    content=body,
                    headers={
                        "Content-Type": "application/json",
                        "X-Nexio-Eval-Id": job.eval_id,
                        "X-Nexio-Delivery-Attempt": str(attempt + 1),
                    },
                )
            except httpx.HTTPError as exc:
                log.debug("webhook for %s failed: %s", job.eval_id, type(exc).__name__)
                continue
            if response.is_success:
                self._stats.add("webhooks_delivered")
                self._delivered(job.eval_id)
                return
        self._stats.add("webhooks_failed")
        log.warning("webhook for %s not delivered after %d attempts", job.eval_id, RETRIES + 1)
