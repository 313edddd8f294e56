"""Purpose-built HTTP servers for faults the sandbox cannot make.

:class:`FaultServer` is a raw asyncio HTTP/1.1 server on loopback, in a daemon thread. Each
request is read whole (headers and body) and recorded, then a *handler* picks an action:
answer normally, drop the connection, reset it, send a truncated body, an HTML proxy page,
never answer, or forward the request to an upstream server (the sandbox) and then relay or
drop its answer. Faults are thus placed exactly where the client's rules care about them:
before the server read the request, or after it created the job.
"""

from __future__ import annotations

import asyncio
import json
import socket
import ssl
import struct
import threading
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "Action",
    "FaultServer",
    "Request",
    "drop",
    "forward",
    "forward_then_drop",
    "held",
    "html",
    "json_reply",
    "reply",
    "reset",
    "sequence",
    "stall",
    "truncated",
]


@dataclass
class Request:
    """One request as the server read it."""

    method: str
    path: str
    headers: dict[str, str]
    body: bytes
    index: int  # 0-based order of arrival over the server's life
    at: float  # time.time() when it was read whole

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class _Conn:
    reader: asyncio.StreamReader
    writer: asyncio.StreamWriter
    server: FaultServer


Action = Callable[[_Conn, Request], Awaitable[None]]

_REASONS = {200: "OK", 202: "Accepted", 401: "Unauthorized", 404: "Not Found", 429: "Too Many"}


def _head(status: int, headers: dict[str, str], length: int) -> bytes:
    lines = [f"HTTP/1.1 {status} {_REASONS.get(status, 'Status')}"]
    lines += [f"{k}: {v}" for k, v in headers.items()]
    lines += [f"Content-Length: {length}", "Connection: close", "", ""]
    return "\r\n".join(lines).encode("latin-1")


def reply(status: int, body: bytes = b"", headers: dict[str, str] | None = None) -> Action:
    """Answer ``status`` with ``body`` and close."""

    async def act(conn: _Conn, request: Request) -> None:
        conn.writer.write(_head(status, dict(headers or {}), len(body)) + body)
        await conn.writer.drain()

    return act


def json_reply(status: int, payload: Any, headers: dict[str, str] | None = None) -> Action:
    return reply(
        status,
        json.dumps(payload).encode(),
        {"Content-Type": "application/json", **(headers or {})},
    )


def html(status: int, title: str = "Bad Gateway") -> Action:
    """An error page as a reverse proxy (nginx) sends it: text/html, no JSON at all."""
    page = (
        f"<html>\r\n<head><title>{status} {title}</title></head>\r\n<body>\r\n"
        f"<center><h1>{status} {title}</h1></center>\r\n<hr><center>nginx</center>\r\n"
        "</body>\r\n</html>\r\n"
    ).encode()
    return reply(status, page, {"Content-Type": "text/html"})


def truncated(status: int, body: bytes, missing: int = 40) -> Action:
    """Declare ``missing`` more bytes than are sent, then close: a cut answer."""

    async def act(conn: _Conn, request: Request) -> None:
        head = _head(status, {"Content-Type": "application/json"}, len(body) + missing)
        conn.writer.write(head + body)
        await conn.writer.drain()

    return act


async def drop(conn: _Conn, request: Request) -> None:
    """Close after reading the whole request, without a byte of answer."""


async def reset(conn: _Conn, request: Request) -> None:
    """Abort the connection with a TCP RST (SO_LINGER 0) after reading the request."""
    sock = conn.writer.get_extra_info("socket")
    if sock is not None:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    conn.writer.transport.abort()


async def stall(conn: _Conn, request: Request) -> None:
    """Never answer (until the server stops): slower than any client timeout."""
    await conn.server.stopping.wait()


async def _upstream(conn: _Conn, request: Request) -> bytes:
    """Send ``request`` to the upstream server; return its whole raw answer."""
    assert conn.server.upstream is not None
    host, port = conn.server.upstream
    reader, writer = await asyncio.open_connection(host, port)
    skip = {"connection", "content-length", "host", "keep-alive"}
    lines = [f"{request.method} {request.path} HTTP/1.1", f"Host: {host}:{port}"]
    lines += [f"{k}: {v}" for k, v in request.headers.items() if k not in skip]
    lines += [f"Content-Length: {len(request.body)}", "Connection: close", "", ""]
    writer.write("\r\n".join(lines).encode("latin-1") + request.body)
    await writer.drain()
    answer = await reader.read()  # Connection: close, so EOF ends the answer
    writer.close()
    return answer


async def forward(conn: _Conn, request: Request) -> None:
    """Relay the request to the upstream server and its answer back."""
    conn.writer.write(await _upstream(conn, request))
    await conn.writer.drain()


async def forward_then_drop(conn: _Conn, request: Request) -> None:
    """The upstream server handles the request (the job exists), but the answer is lost."""
    await _upstream(conn, request)


def held(gate: threading.Event, then: Action = forward) -> Action:
    """Keep the request waiting until the test sets ``gate`` (or the server stops), then
    ``then``: an answer that comes exactly when the test says so."""

    async def act(conn: _Conn, request: Request) -> None:
        while not gate.is_set() and not conn.server.stopping.is_set():
            await asyncio.sleep(0.01)
        await then(conn, request)

    return act


Handler = Callable[[Request], Action]


def sequence(
    *actions: Action,
    then: Action = forward,
    method: str | None = None,
    otherwise: Action = forward,
) -> Handler:
    """A handler that answers the matching requests with ``actions`` in turn, then ``then``;
    requests of another method get ``otherwise``."""
    seen = 0
    lock = threading.Lock()

    def handler(request: Request) -> Action:
        nonlocal seen
        if method is not None and request.method != method:
            return otherwise
        with lock:
            n, seen = seen, seen + 1
        return actions[n] if n < len(actions) else then

    return handler


@dataclass
class FaultServer:
    """Serve ``handler(request) -> action`` on a free loopback port, in a daemon thread.

    >>> with FaultServer(lambda r: json_reply(200, {"status": "ok"})) as server:  # doctest: +SKIP
    ...     httpx.get(server.url + "/health").json()
    """

    handler: Handler
    upstream: tuple[str, int] | None = None
    requests: list[Request] = field(default_factory=list)
    #: serve https with this context (the upstream is still reached over plain http)
    tls: ssl.SSLContext | None = None

    def __post_init__(self) -> None:
        self._lock = threading.Lock()
        self._ready = threading.Event()
        self._loop = asyncio.new_event_loop()
        self.stopping = asyncio.Event()
        self._thread = threading.Thread(target=self._serve, name="fault-server", daemon=True)
        self.port = 0

    @property
    def url(self) -> str:
        return f"{'https' if self.tls else 'http'}://127.0.0.1:{self.port}"

    def count(self, method: str | None = None, path: str | None = None) -> int:
        with self._lock:
            return sum(
                1
                for r in self.requests
                if (method is None or r.method == method) and (path is None or r.path == path)
            )

    # -- lifecycle ---------------------------------------------------------------------------

    def start(self) -> FaultServer:
        self._thread.start()
        if not self._ready.wait(10):
            raise RuntimeError("fault server did not start")
        return self

    def stop(self) -> None:
        if self._thread.is_alive():
            self._loop.call_soon_threadsafe(self.stopping.set)
            self._thread.join(10)

    def __enter__(self) -> FaultServer:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def _serve(self) -> None:
        asyncio.set_event_loop(self._loop)
        self._loop.run_until_complete(self._main())

    async def _main(self) -> None:
        server = await asyncio.start_server(self._connection, "127.0.0.1", 0, ssl=self.tls)
        self.port = server.sockets[0].getsockname()[1]
        self._ready.set()
        async with server:
            await self.stopping.wait()
            server.close()

    # -- one connection: requests until the action closes it ----------------------------------

    async def _connection(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        conn = _Conn(reader, writer, self)
        try:
            request = await self._read(reader)
            if request is None:
                return
            action = self.handler(request)
            await action(conn, request)
        except (ConnectionError, asyncio.IncompleteReadError, ssl.SSLError):
            pass
        finally:
            if not writer.transport.is_closing():
                writer.close()

    async def _read(self, reader: asyncio.StreamReader) -> Request | None:
        try:
            head = await reader.readuntil(b"\r\n\r\n")
        except asyncio.IncompleteReadError:
            return None
        first, *lines = head.decode("latin-1").split("\r\n")
        method, path, _ = first.split(" ", 2)
        headers = {}
        for line in lines:
            if ":" in line:
                name, value = line.split(":", 1)
                headers[name.strip().lower()] = value.strip()
        body = await reader.readexactly(int(headers.get("content-length", "0")))
        with self._lock:
            request = Request(method, path, headers, body, len(self.requests), time.time())
            self.requests.append(request)
        return request
