"""Serving an ASGI app with uvicorn in a background daemon thread (the sandbox, and the
batch engine's webhook receiver)."""

from __future__ import annotations

import socket
import threading

import uvicorn
from starlette.types import ASGIApp

__all__ = ["ServerThread"]


class _Server(uvicorn.Server):
    def __init__(self, config: uvicorn.Config, started: threading.Event) -> None:
        super().__init__(config)
        self._started_event = started

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets=sockets)
        if self.started:
            self._started_event.set()


class ServerThread:
    """uvicorn on a socket bound here (so port 0 yields a known free port), in a thread.

    :meth:`start` returns once the server accepts connections; :meth:`stop` asks it to
    finish, waits for the thread and is idempotent.
    """

    def __init__(self, app: ASGIApp, host: str, port: int, name: str = "nexio-lab") -> None:
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        # proto must be IPPROTO_TCP: asyncio only sets TCP_NODELAY on accepted connections of
        # such sockets, and without it Nagle + delayed ACKs cost ~40 ms per response.
        self._socket = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
        self._socket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            self._socket.bind((host, port))
        except OSError:
            self._socket.close()
            raise
        self.host = host
        self.port: int = self._socket.getsockname()[1]
        config = uvicorn.Config(
            app,
            log_level="warning",
            access_log=False,
            lifespan="on",
            timeout_graceful_shutdown=2,
            # The app is the contract; no Server/Date headers from uvicorn needed.
            server_header=False,
        )
        self._started = threading.Event()
        self._server = _Server(config, self._started)
        self._thread = threading.Thread(target=self._serve, name=f"{name}:{self.port}", daemon=True)
        self._error: BaseException | None = None

    def _serve(self) -> None:
        try:
            self._server.run(sockets=[self._socket])
        except BaseException as exc:  # SystemExit on a failed lifespan startup included
            self._error = exc

    @property
    def running(self) -> bool:
        return self._thread.is_alive() and self._started.is_set()

    def start(self, timeout: float = 30.0) -> None:
        self._thread.start()
        while not self._started.wait(0.05):
            if not self._thread.is_alive() or timeout <= 0:
                self.stop()
                raise RuntimeError(f"the server did not start: {self._error!r}")
            timeout -= 0.05

    def stop(self, timeout: float = 10.0) -> None:
        self._server.should_exit = True
        if self._thread.is_alive():
            self._thread.join(timeout)
        self._socket.close()
