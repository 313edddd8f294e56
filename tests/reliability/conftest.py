"""Fixtures of the reliability suite, and the fault summary table it prints at the end.

Every fault test records one line with the :func:`reliability` fixture, from counts taken of
what happened (see ``reliability_support.Tally``): the requests the server saw, the requests
the engine (or the test) asked for, and each row's final state. ``pytest_terminal_summary``
prints the lines as a table, and writes it to ``$NEXIO_RELIABILITY_SUMMARY`` when that is
set (``update_readme.py`` puts it in the README).
"""

from __future__ import annotations

import os
import ssl
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from fault_servers import FaultServer
from reliability_support import _SENT, HEADER, SANDBOX_KEY, CountingTransport, Tally

from nexio_lab import Client
from nexio_lab.sandbox import Sandbox


@dataclass(frozen=True)
class FaultLine:
    fault: str
    rows: int
    requests: int
    retries: int
    result: int
    failed: int
    error: int
    uncertain: int
    lost: int
    duplicates: int

    def cells(self) -> tuple[str, ...]:
        numbers = (self.rows, self.requests, self.retries, self.result, self.failed)
        numbers += (self.error, self.uncertain, self.lost, self.duplicates)
        return (self.fault, *(str(n) for n in numbers))


_LINES: list[FaultLine] = []


def summary_table(lines: list[FaultLine]) -> str:
    rows = [HEADER] + [x.cells() for x in lines]
    widths = [max(len(r[i]) for r in rows) for i in range(len(HEADER))]
    out = []
    for n, r in enumerate(rows):
        cells = [r[0].ljust(widths[0])] + [
            c.rjust(w) for c, w in zip(r[1:], widths[1:], strict=True)
        ]
        out.append("| " + " | ".join(cells) + " |")
        if n == 0:
            out.append("|" + "|".join("-" * (w + 2) for w in widths) + "|")
    return "\n".join(out)


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if not _LINES:
        return
    table = summary_table(sorted(_LINES, key=lambda x: x.fault))
    terminalreporter.section("nexio-lab reliability: faults")
    terminalreporter.write_line(table)
    if path := os.environ.get("NEXIO_RELIABILITY_SUMMARY"):
        Path(path).write_text(table + "\n")


@pytest.fixture
def reliability() -> Callable[..., FaultLine]:
    """``record(fault, tally, requests=, own=, sent=None, duplicates=)`` adds a line.

    ``requests``: what reached the server(s); ``own``: the requests the engine (or the test,
    through the client's API) asked for; ``sent``: requests the client put on the wire, when
    some never reached a server (a refused connection), else ``requests``. Retries are
    ``sent - own``: the client's own repeats, never typed in.
    """

    def record(
        fault: str,
        tally: Tally,
        *,
        requests: int,
        own: int,
        duplicates: int,
        sent: int | None = None,
    ) -> FaultLine:
        retries = (requests if sent is None else sent) - own
        assert retries >= 0, f"{fault}: {own} requests asked, only {sent or requests} sent"
        line = FaultLine(
            fault,
            tally.rows,
            requests,
            retries,
            tally.result,
            tally.failed,
            tally.error,
            tally.uncertain,
            tally.lost,
            duplicates,
        )
        _LINES.append(line)
        return line

    return record


@pytest.fixture(autouse=True)
def _isolated_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # never touch the user's journal or pick up a real key from the environment
    monkeypatch.setenv("NEXIO_LAB_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("NEXIO_API_KEY", raising=False)
    monkeypatch.delenv("NEXIO_BASE_URL", raising=False)


@pytest.fixture
def make_fault_server() -> Iterator[Callable[..., FaultServer]]:
    started: list[FaultServer] = []

    def make(
        handler: Any, upstream: Sandbox | None = None, tls: ssl.SSLContext | None = None
    ) -> FaultServer:
        address = ("127.0.0.1", upstream.port) if upstream else None
        server = FaultServer(handler, address, tls=tls)
        started.append(server.start())
        return server

    yield make
    for server in started:
        server.stop()


@pytest.fixture
def make_client() -> Iterator[Callable[..., Client]]:
    """Clients with quick backoff (the schedule is not under test, the outcome is), each
    counting what it puts on the wire (``sent_by(client)``)."""
    made: list[Client] = []

    def make(url: str, api_key: str | None = None, **options: Any) -> Client:
        transport = CountingTransport()
        client = Client(api_key or SANDBOX_KEY, base_url=url, transport=transport, **options)
        client.retry_policy.base_delay = 0.01
        client.retry_policy.max_delay = 0.05
        _SENT[id(client)] = transport
        made.append(client)
        return client

    yield make
    for client in made:
        client.close()
        _SENT.pop(id(client), None)
