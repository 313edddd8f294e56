"""Shared fixtures: real sandboxes on loopback (see nexio_lab.sandbox), and in CI no skips.

When ``CI`` is set (``.ci/run`` exports ``CI=1``), a test that skips fails instead: a skip
means the machine lacks something the test needs (a browser, a permission), and CI must
provide it rather than pass without running the test.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Generator, Iterator
from typing import Any

import pytest

from nexio_lab.sandbox import Sandbox, run


def _in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() not in {"", "0", "false", "no"}


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Generator:
    outcome = yield
    report = outcome.get_result()
    if report.skipped and not hasattr(report, "wasxfail") and _in_ci():
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else report.longrepr
        report.outcome = "failed"
        report.longrepr = f"skipped in CI, which must run every test: {reason}"


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
