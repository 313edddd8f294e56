"""Every example in the package's docstrings runs and prints what it says (``doctest``)."""

from __future__ import annotations

import doctest
import importlib
import pkgutil

import pytest

import nexio_lab

#: ``python -m`` entry points run on import
_ENTRY_POINTS = {"nexio_lab.__main__", "nexio_lab.cli.__main__"}
MODULES = sorted(
    info.name
    for info in pkgutil.walk_packages(nexio_lab.__path__, "nexio_lab.")
    if info.name not in _ENTRY_POINTS
)


def test_the_walk_finds_the_package() -> None:
    assert {"nexio_lab._client", "nexio_lab.batch._engine", "nexio_lab.sandbox"} <= set(MODULES)


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name: str) -> None:
    module = importlib.import_module(name)
    result = doctest.testmod(
        module, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE, report=True
    )
    assert result.failed == 0, f"{result.failed} docstring example(s) failed in {name}"
