"""Fixtures for the CLI tests: a sandbox on loopback and a runner for ``nexio-lab``."""

from __future__ import annotations

import csv
import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from nexio_lab.sandbox import Sandbox, run

STATES = ("CA", "NY", "TX", "FL", "IL", "WA", "GA")
LINES = ("professional_liability", "general_liability", "workers_comp", "cyber")


@dataclass(frozen=True)
class Result:
    code: int
    stdout: str
    stderr: str

    @property
    def output(self) -> str:
        return self.stdout + self.stderr


CLI = Callable[..., Result]


@pytest.fixture
def sandbox_server() -> Iterator[Sandbox]:
    # Fast evaluations and a generous limit: these tests are about the command, not pacing.
    with run(speed=2000, rate_limit=2000, rate_window=1.0, seed=11) as sb:
        yield sb


@pytest.fixture
def cli(tmp_path: Path) -> CLI:
    """Run ``python -m nexio_lab.cli ARGS`` in ``tmp_path`` with a private NEXIO_LAB_HOME."""

    def invoke(*args: str, env: dict[str, str] | None = None, timeout: float = 90) -> Result:
        clean = {k: v for k, v in os.environ.items() if not k.startswith("NEXIO_")}
        clean["NEXIO_LAB_HOME"] = str(tmp_path / "home")
        clean.update(env or {})
        done = subprocess.run(
            [sys.executable, "-m", "nexio_lab.cli", *args],
            cwd=tmp_path,
            env=clean,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=timeout,
        )
        return Result(done.returncode, done.stdout, done.stderr)

    return invoke


def _write_profiles(path: Path, n: int, *, blank_entity_rows: tuple[int, ...] = ()) -> Path:
    """A CSV of ``n`` varied profiles; the rows in ``blank_entity_rows`` lack their entity."""
    with path.open("w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(["entity", "state", "line", "revenue"])
        for i in range(n):
            entity = "" if i in blank_entity_rows else f"acme-{i:03d}"
            writer.writerow(
                [entity, STATES[i % len(STATES)], LINES[i % len(LINES)], 250_000 * (1 + i % 40)]
            )
    return path


def _sandbox_env(sb: Sandbox, key: str | None = None) -> dict[str, str]:
    return {"NEXIO_API_KEY": key or sb.api_key, "NEXIO_BASE_URL": sb.url}


@pytest.fixture
def make_profiles() -> Callable[..., Path]:
    """``make_profiles(path, n, blank_entity_rows=(...))``: a CSV of ``n`` varied profiles."""
    return _write_profiles


@pytest.fixture
def env_for() -> Callable[..., dict[str, str]]:
    """``env_for(sandbox, key=None)``: NEXIO_API_KEY and NEXIO_BASE_URL for a sandbox."""
    return _sandbox_env
