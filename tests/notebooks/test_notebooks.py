"""The example notebooks run, in a real Jupyter kernel, and reproduce their stored outputs.

nbval (strict mode, not ``--nbval-lax``) re-executes every cell and compares its text
outputs (stdout/stderr, ``text/plain``, ``text/html``) with the ones stored in the
notebook. Cells whose output cannot repeat (the live progress widget) carry
``# NBVAL_IGNORE_OUTPUT``; PNG outputs are not compared by nbval (they differ byte-wise
between matplotlib builds), but their ``<Figure size ...>`` text is, and the stored
notebooks must hold a PNG for each plot (checked below).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

NOTEBOOKS = Path(__file__).resolve().parents[2] / "notebooks"
EXPECTED = ("01_quickstart.ipynb", "02_batch.ipynb", "03_compare.ipynb")
IGNORE = "# NBVAL_IGNORE_OUTPUT"


def _cells(name: str) -> list[dict]:
    """The notebook's cells, each ``source`` joined into one string (nbformat may split it)."""
    cells = json.loads((NOTEBOOKS / name).read_text(encoding="utf-8"))["cells"]
    for cell in cells:
        if isinstance(cell["source"], list):
            cell["source"] = "".join(cell["source"])
    return cells


@pytest.mark.notebook
@pytest.mark.timeout(600)
def test_notebooks_reproduce_their_outputs_under_nbval(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("NEXIO_")}
    env["NEXIO_LAB_HOME"] = str(tmp_path / "home")  # the notebooks use temp journals anyway
    done = subprocess.run(
        [
            sys.executable, "-m", "pytest", "--nbval", "--nbval-current-env",
            "-p", "no:cacheprovider", "-q", "--no-header",
            *(str(NOTEBOOKS / name) for name in EXPECTED),
        ],
        cwd=NOTEBOOKS.parent,
        env=env,
        capture_output=True,
        text=True,
        timeout=590,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout[-6000:] + done.stderr[-2000:]
    # every cell of every notebook was an nbval item, and each passed
    cells = sum(1 for name in EXPECTED for cell in _cells(name) if cell["cell_type"] == "code")
    assert f"{cells} passed" in done.stdout, done.stdout[-2000:]


@pytest.mark.parametrize("name", EXPECTED)
def test_stored_outputs_are_what_a_reader_should_see(name: str) -> None:
    cells = [c for c in _cells(name) if c["cell_type"] == "code"]
    text = json.dumps(cells)
    for leak in ("/tmp/", "/home/", "/root/", "/work/", "127.0.0.1", "nx_test_", "nx_live_"):
        outputs = json.dumps([c["outputs"] for c in cells])
        assert leak not in outputs, f"{name}: stored outputs mention {leak!r}"
    assert "Traceback" not in text and '"output_type": "error"' not in text
    for cell in cells:
        assert cell["execution_count"] is not None, f"{name}: a cell was never run"
        ignored = cell["source"].lstrip().startswith(IGNORE)
        # eval_ids are random: only ignored cells may show one
        if not ignored:
            assert "eval_" not in json.dumps(cell["outputs"]), cell["source"]
    # the outputs hold the plots, and only the widget cells are ignored by nbval
    pngs = sum("image/png" in o.get("data", {}) for c in cells for o in c["outputs"])
    assert pngs >= 1
    ignored = [c for c in cells if c["source"].lstrip().startswith(IGNORE)]
    assert all("progress=" in c["source"] for c in ignored)
    assert len(ignored) <= 2  # the run_batch and attach widgets
