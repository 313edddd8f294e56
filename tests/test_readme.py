"""The README stays true: its top commands exist and every Python example runs."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")
EXAMPLES = re.findall(r"```python\n(.*?)```", README, re.S)


def test_the_two_commands_lead_the_readme() -> None:
    first_block = re.search(r"```bash\n(.*?)```", README, re.S)
    assert first_block is not None
    commands = [line.split("#")[0].strip() for line in first_block.group(1).splitlines()]
    assert commands[:2] == ["./run demo", "./run test"]
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    # CI runs the README's test command verbatim, as a line of its own
    assert commands[1] in [line.strip() for line in ci.splitlines()]


@pytest.mark.parametrize("example", EXAMPLES, ids=[f"example-{i}" for i in range(len(EXAMPLES))])
def test_python_example_runs(example: str, tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("NEXIO_")}
    env["NEXIO_LAB_HOME"] = str(tmp_path)
    (tmp_path / "data").symlink_to(ROOT / "data")  # examples run from a checkout's root
    done = subprocess.run(
        [sys.executable, "-c", example],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert "STRONG_FIT" in done.stdout  # each example prints a result with tiers
