"""The README's fault table is the one this suite prints: same columns, each row adding up.

Its numbers come from ``update_readme.py`` (a run of this suite); this checks that nobody
typed a table of another shape, or one whose rows do not account for every evaluation.
"""

from __future__ import annotations

import re
from pathlib import Path

from reliability_support import HEADER

README = (Path(__file__).resolve().parent / "README.md").read_text(encoding="utf-8")
SUITE = Path(__file__).resolve().parent


def _table() -> list[list[str]]:
    found = re.search(
        r"<!-- reliability-table -->\n(.*?)\n<!-- /reliability-table -->", README, re.S
    )
    assert found, "README.md lost its reliability-table markers"
    lines = [line for line in found.group(1).splitlines() if not line.startswith("|-")]
    return [[cell.strip() for cell in line.strip("|").split("|")] for line in lines]


def test_readme_table_has_the_suites_columns() -> None:
    header, *rows = _table()
    assert tuple(header) == HEADER
    assert rows, "the README's table is empty"


def test_every_readme_row_accounts_for_each_evaluation() -> None:
    _, *rows = _table()
    for fault, *cells in rows:
        rows_, _requests, retries, result, failed, error, uncertain, lost, _dup = map(int, cells)
        assert result + failed + error + uncertain + lost == rows_, fault
        assert retries >= 0, fault


def test_every_readme_fault_is_recorded_by_a_test() -> None:
    sources = "\n".join(p.read_text(encoding="utf-8") for p in SUITE.glob("test_*.py"))
    _, *rows = _table()
    for fault, *_ in rows:
        # "500/503 on 10% of requests" comes from an f-string over the injected rates
        pattern = re.sub(r"\d+%", "{error_rate:.0%}", fault)
        assert fault in sources or pattern in sources, f"no test records {fault!r}"
