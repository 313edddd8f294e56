"""Shared fixtures: real sandboxes on loopback (see nexio_lab.sandbox)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from nexio_lab.sandbox import Sandbox, run


@pytest.fixture
def make_sandbox() -> Iterator[Callable[..., Sandbox]]:
    """Start sandboxes with ``run(**kwargs)`` (default ``speed=1000``); all stop at teardown.

    >>> def test_x(make_sandbox):  # doctest: +SKIP
    ...     sb = make_sandbox(rate_limit=5, rate_window=1.0)
    """
    started: list[Sandbox] = []

    def make(**kwargs: Any) -> Sandbox:
        kwargs.setdefault("speed", 1000.0)
        sandbox = run(**kwargs)
        started.append(sandbox)
        return sandbox

    yield make
    for sandbox in started:
        sandbox.stop()


@pytest.fixture
def sandbox(make_sandbox: Callable[..., Sandbox]) -> Sandbox:
    """A fresh sandbox where jobs finish within 15-60 ms (``speed=1000``)."""
    return make_sandbox()
