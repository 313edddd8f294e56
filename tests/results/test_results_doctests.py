"""The examples in the results layer's docstrings run and print what they say."""

from __future__ import annotations

import doctest
import importlib

import pytest

MODULES = [
    "nexio_lab._display",
    "nexio_lab.results",
    "nexio_lab.results._columns",
    "nexio_lab.results._compare",
    "nexio_lab.results._export",
    "nexio_lab.results._resultset",
    "nexio_lab.results._runs",
    "nexio_lab.results._stats",
]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name: str) -> None:
    module = importlib.import_module(name)
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS)
    assert result.failed == 0, f"{result.failed} of {result.attempted} examples failed in {name}"
