"""A local receiver for webhook deliveries: results arrive instead of being polled for.

It listens on the host and port of the ``webhook`` URL, accepts ``POST <path>`` with the
finished evaluation as JSON, answers 2xx at once and hands the body to the engine on the
engine's own loop. Deliveries may repeat; the engine deduplicates on ``eval_id``.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from .._exceptions import NexioError
from .._server import ServerThread

__all__ = ["WebhookReceiver"]


class WebhookReceiver:
    """``http://HOST:PORT/path`` served in a thread; each delivery goes to ``on_result``."""

    def __init__(
        self, url: str, on_result: Callable[[dict[str, Any]], None], loop: asyncio.AbstractEventLoop
    ) -> None:
        parts = urlsplit(url)
        if parts.scheme != "http" or not parts.hostname or parts.port is None:
            raise NexioError(f"webhook must be a local http://HOST:PORT/path URL, not {url!r}")
        self.url = url
        path = parts.path or "/"

        async def receive(request: Request) -> JSONResponse:
            try:
                payload = json.loads(await request.body())
            except ValueError:
                return JSONResponse({"error": "not JSON"}, status_code=400)
            if isinstance(payload, dict):
                loop.call_soon_threadsafe(on_result, payload)
            return JSONResponse({"received": True})

        app = Starlette(routes=[Route(path, receive, methods=["POST"])])
        self._server = ServerThread(app, parts.hostname, parts.port, name="nexio-webhooks")

    def start(self) -> None:
        self._server.start()

    def stop(self) -> None:
        self._server.stop()
