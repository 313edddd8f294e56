"""Run the reliability suite and put the fault table it prints into the README.

    .venv/bin/python tests/reliability/update_readme.py

The table is never typed: this replaces what sits between the README's
``<!-- reliability-table -->`` and ``<!-- /reliability-table -->`` markers with the table the
suite's conftest wrote (``$NEXIO_RELIABILITY_SUMMARY``), and fails when a test failed.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
README = ROOT / "tests" / "reliability" / "README.md"
START, END = "<!-- reliability-table -->", "<!-- /reliability-table -->"


def replace_table(readme: str, table: str) -> str:
    pattern = re.compile(re.escape(START) + r".*?" + re.escape(END), re.S)
    if not pattern.search(readme):
        raise SystemExit(f"README.md has no {START} ... {END} block")
    return pattern.sub(lambda _: f"{START}\n{table.strip()}\n{END}", readme)


def main() -> int:
    with tempfile.TemporaryDirectory() as tmp:
        summary = Path(tmp) / "summary.md"
        env = {**os.environ, "NEXIO_RELIABILITY_SUMMARY": str(summary)}
        done = subprocess.run(
            [
                *(sys.executable, "-m", "pytest", "tests/reliability", "-q"),
                *("-p", "no:cacheprovider"),
                # the check of the README's table reads what this run is about to write
                "--ignore=tests/reliability/test_reliability_readme.py",
            ],
            cwd=ROOT,
            env=env,
            check=False,
        )
        if done.returncode != 0:
            print("the reliability suite failed: README left as it was", file=sys.stderr)
            return done.returncode
        README.write_text(replace_table(README.read_text(encoding="utf-8"), summary.read_text()))
    print(f"updated {README.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
