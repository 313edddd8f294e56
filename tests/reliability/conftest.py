"""Fixtures of the reliability suite, and the fault summary table it prints at the end.

Every fault test records one line with :func:`reliability` (``record(fault, requests=...,
retries=..., finished=..., lost=..., duplicates=...)``); ``pytest_terminal_summary`` prints
them as a table, and writes it to ``$NEXIO_RELIABILITY_SUMMARY`` when that is set (the README
and the closing note quote it).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from fault_servers import FaultServer
from reliability_support import SANDBOX_KEY

from nexio_lab import Client
from nexio_lab.sandbox import Sandbox


@dataclass(frozen=True)
class FaultLine:
    fault: str
    requests: int
    retries: int
    finished: int
    lost: int
    duplicates: int


_LINES: list[FaultLine] = []
_HEADER = ("fault", "requests", "retries", "rows finished", "rows lost", "duplicates")


def summary_table(lines: list[FaultLine]) -> str:
    rows = [_HEADER] + [
        (x.fault, str(x.requests), str(x.retries), str(x.finished), str(x.lost), str(x.duplicates))
        for x in lines
    ]
    widths = [max(len(r[i]) for r in rows) for i in range(len(_HEADER))]
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
    """``record(fault, requests=, retries=, finished=, lost=, duplicates=)`` adds a line."""

    def record(
        fault: str, *, requests: int, retries: int, finished: int, lost: int, duplicates: int
    ) -> FaultLine:
        line = FaultLine(fault, requests, retries, finished, lost, duplicates)
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

    def make(handler: Any, upstream: Sandbox | None = None) -> FaultServer:
        server = FaultServer(handler, ("127.0.0.1", upstream.port) if upstream else None)
        started.append(server.start())
        return server

    yield make
    for server in started:
        server.stop()


@pytest.fixture
def make_client() -> Iterator[Callable[..., Client]]:
    """Clients with quick backoff (the schedule is not under test, the outcome is)."""
    made: list[Client] = []

    def make(url: str, api_key: str | None = None, **options: Any) -> Client:
        client = Client(api_key or SANDBOX_KEY, base_url=url, **options)
        client.retry_policy.base_delay = 0.01
        client.retry_policy.max_delay = 0.05
        made.append(client)
        return client

    yield make
    for client in made:
        client.close()
