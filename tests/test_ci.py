"""CI runs every test: a skip there is a failure (tests/conftest.py), and .ci/run says CI."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

SKIPPING = """
import pytest

def test_needs_a_tool_this_machine_lacks():
    pytest.skip("no such tool here")

@pytest.fixture
def tool():
    pytest.skip("no such tool in the fixture either")

def test_through_a_fixture(tool):
    pass

def test_runs():
    assert True
"""


@pytest.mark.parametrize(
    ("ci", "expected"),
    [
        ("1", "1 failed, 1 passed, 1 error"),
        ("", "1 passed, 2 skipped"),
    ],
)
def test_a_skip_fails_when_ci_is_set(ci: str, expected: str, tmp_path: Path) -> None:
    shutil.copy(ROOT / "tests" / "conftest.py", tmp_path / "conftest.py")
    (tmp_path / "test_skips.py").write_text(SKIPPING)
    env = {**os.environ, "CI": ci}
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(tmp_path)],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert expected in done.stdout, done.stdout[-2000:]
    if ci:
        assert "skipped in CI" in done.stdout and "no such tool here" in done.stdout


def test_ci_script_exports_ci() -> None:
    lines = (ROOT / ".ci" / "run").read_text(encoding="utf-8").splitlines()
    exported = [i for i, line in enumerate(lines) if line.strip() == "export CI=1"]
    tests = [i for i, line in enumerate(lines) if line.strip().startswith("./run test")]
    assert exported and tests and exported[0] < tests[0]
