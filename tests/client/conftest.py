"""A raw TCP server for faults the sandbox cannot make: it reads a whole request, then
does what the test asks (e.g. closes the connection without answering)."""

from __future__ import annotations

import socket
import threading
from collections.abc import Callable, Iterator

import pytest


class RawServer:
    """Accepts connections in a thread; ``handler(request_bytes, conn)`` answers each."""

    def __init__(self, handler: Callable[[bytes, socket.socket], None]) -> None:
        self.handler = handler
        self.requests: list[bytes] = []
        self._sock = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self._sock.getsockname()[1]}"
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self._sock.accept()
            except OSError:
                return
            with conn:
                data = b""
                while b"\r\n\r\n" not in data:
                    chunk = conn.recv(65536)
                    if not chunk:
                        break
                    data += chunk
                head, _, body = data.partition(b"\r\n\r\n")
                length = 0
                for line in head.split(b"\r\n"):
                    if line.lower().startswith(b"content-length:"):
                        length = int(line.split(b":")[1])
                while len(body) < length:
                    body += conn.recv(65536)
                self.requests.append(head + b"\r\n\r\n" + body)
                self.handler(head + b"\r\n\r\n" + body, conn)

    def close(self) -> None:
        self._sock.close()


@pytest.fixture
def raw_server() -> Iterator[Callable[[Callable[[bytes, socket.socket], None]], RawServer]]:
    servers: list[RawServer] = []

    def start(handler: Callable[[bytes, socket.socket], None]) -> RawServer:
        server = RawServer(handler)
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.close()
