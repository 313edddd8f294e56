"""The public surface: one sorted ``__all__``, every name importable, a light import."""

from __future__ import annotations

import subprocess
import sys

import nexio_lab
import nexio_lab.batch
import nexio_lab.progress
import nexio_lab.results
import nexio_lab.sandbox


def test_every_all_is_sorted_and_importable() -> None:
    for module in (
        nexio_lab,
        nexio_lab.batch,
        nexio_lab.progress,
        nexio_lab.results,
        nexio_lab.sandbox,
    ):
        assert module.__all__ == sorted(module.__all__), module.__name__
        for name in module.__all__:
            assert getattr(module, name) is not None


def test_import_does_not_load_heavy_parts() -> None:
    code = (
        "import sys, nexio_lab; "
        "print(sorted(m for m in ('pandas', 'matplotlib', 'ipywidgets', 'uvicorn') "
        "if m in sys.modules))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert out.strip() == "[]"
