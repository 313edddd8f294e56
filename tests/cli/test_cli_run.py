"""``nexio-lab run`` as a subprocess against a sandbox: exit codes, tables, what is sent."""

from __future__ import annotations

import os
import pty
import select
import socket
import subprocess
import sys
from pathlib import Path
from typing import Any

from nexio_lab import read_results
from nexio_lab.sandbox import Sandbox

POOLS = ("--pool", "carriers:all", "--pool", "carriers:tier1")


def test_run_completes_writes_tables_and_resumes(
    cli: Any, sandbox_server: Sandbox, tmp_path: Path, make_profiles: Any, env_for: Any
) -> None:
    make_profiles(tmp_path / "profiles.csv", 12)
    env = env_for(sandbox_server)

    first = cli("run", "profiles.csv", *POOLS, "--out", "out", "--no-progress", env=env)

    assert first.code == 0, first.output
    assert "completed 24" in first.stdout
    results = read_results(tmp_path / "out")
    assert len(results.evaluations) == 24
    assert set(results.evaluations["status"]) == {"completed"}
    assert set(results.evaluations["pool"]) == {"carriers:all", "carriers:tier1"}
    assert len(results.candidates) > 0
    assert sandbox_server.stats()["posts"] == 24

    # Same command again: the journal (named after the file) resumes; nothing is re-sent.
    before = sandbox_server.stats()
    again = cli("run", "profiles.csv", *POOLS, "--out", "out2", "--format", "csv", env=env)
    assert again.code == 0, again.output
    after = sandbox_server.stats()
    assert (after["posts"], after["gets"]) == (before["posts"], before["gets"])
    assert sorted(p.name for p in (tmp_path / "out2").glob("*.csv")) == [
        "candidates.csv",
        "evaluations.csv",
        "scores.csv",
    ]


def test_malformed_row_exits_1_naming_row_and_field(
    cli: Any, sandbox_server: Sandbox, tmp_path: Path, make_profiles: Any, env_for: Any
) -> None:
    make_profiles(tmp_path / "profiles.csv", 8, blank_entity_rows=(3,))

    done = cli(
        "run", "profiles.csv", "--pool", "carriers:all", "--name", "q4",
        env=env_for(sandbox_server),
    )  # fmt: skip

    assert done.code == 1, done.output
    assert "completed 7" in done.stdout
    listed = [line for line in done.stdout.splitlines() if line.strip().startswith("row ")]
    assert len(listed) == 1
    assert "row 3 (carriers:all)" in listed[0]
    assert "'entity'" in listed[0]
    assert sandbox_server.stats()["posts"] == 7  # the bad row cost no request
    # the tables are written anyway, by default under ./nexio-results/NAME
    results = read_results(tmp_path / "nexio-results" / "q4")
    assert results.evaluations.set_index("row").loc[3, "error_code"] == "invalid_profile"


def test_unknown_pool_is_said_once_and_exit_1(
    cli: Any, sandbox_server: Sandbox, tmp_path: Path, make_profiles: Any, env_for: Any
) -> None:
    make_profiles(tmp_path / "profiles.csv", 4)

    done = cli(
        "run", "profiles.csv", "--pool", "carriers:all", "--pool", "carriers:nope",
        env=env_for(sandbox_server),
    )  # fmt: skip

    assert done.code == 1, done.output
    assert "completed 4" in done.stdout
    listed = [line for line in done.stdout.splitlines() if "(carriers:nope)" in line]
    assert listed == [
        "  4 rows (0-3) (carriers:nope): error (unknown_pool): pool 'carriers:nope' was "
        "refused by the API (422): Unknown pool: carriers:nope"
    ]


def test_only_an_unknown_pool_writes_no_empty_tables(
    cli: Any, sandbox_server: Sandbox, tmp_path: Path, make_profiles: Any, env_for: Any
) -> None:
    make_profiles(tmp_path / "profiles.csv", 50)

    done = cli("run", "profiles.csv", "--pool", "carriers:nope", env=env_for(sandbox_server))

    assert done.code == 1, done.output
    assert "no evaluation finished: no tables written" in done.stdout
    assert not (tmp_path / "nexio-results").exists()
    assert len([line for line in done.stdout.splitlines() if "carriers:nope" in line]) == 1


def test_dry_run_sends_nothing_and_needs_no_key(
    cli: Any, sandbox_server: Sandbox, tmp_path: Path, make_profiles: Any
) -> None:
    make_profiles(tmp_path / "profiles.csv", 10, blank_entity_rows=(4,))

    done = cli(
        "run", "profiles.csv", *POOLS, "--dry-run", env={"NEXIO_BASE_URL": sandbox_server.url}
    )

    assert done.code == 1, done.output  # a rejected row: a real run would end with an error
    assert "to submit (billed on a live key): 18" in done.stdout
    assert "row 4, field 'entity'" in done.stdout
    stats = sandbox_server.stats()
    # only one unkeyed, unbilled GET /health, for the rate limit behind the ETA
    assert stats["posts"] == stats["gets"] == 0 and stats["requests"] == stats["health"] == 1
    assert "ETA: under 1 s at the key's limit of 2000 requests per 1 s window" in done.stdout
    assert not (tmp_path / "home").exists()  # no journal made either

    clean = cli("run", "profiles.csv", "--pool", "carriers:all", "--dry-run", "--name", "x")
    assert "to submit (billed on a live key): 9" in clean.stdout


def test_bad_key_exits_2_with_one_line_and_no_key(
    cli: Any, sandbox_server: Sandbox, tmp_path: Path, make_profiles: Any, env_for: Any
) -> None:
    make_profiles(tmp_path / "profiles.csv", 5)
    key = "nx_test_not_a_real_key_0123456789"

    done = cli("run", "profiles.csv", "--pool", "carriers:all", env=env_for(sandbox_server, key))

    assert done.code == 2, done.output
    assert key not in done.output
    assert "Traceback" not in done.output
    last = done.stderr.strip().splitlines()[-1]
    assert last.startswith("nexio-lab: ") and "401" in last
    assert sandbox_server.stats()["jobs_created"] == 0


def test_unreachable_api_exits_2(cli: Any, tmp_path: Path, make_profiles: Any) -> None:
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    make_profiles(tmp_path / "profiles.csv", 2)
    key = "nx_test_sandbox_0000000000000000"

    done = cli(
        "run", "profiles.csv", "--pool", "carriers:all", "--base-url", f"http://127.0.0.1:{port}",
        env={"NEXIO_API_KEY": key},
    )  # fmt: skip

    assert done.code == 2, done.output
    assert "Traceback" not in done.output
    assert key not in done.output
    assert f"127.0.0.1:{port}" in done.stderr


def test_live_key_large_batch_refused_without_a_terminal(
    cli: Any, tmp_path: Path, make_profiles: Any
) -> None:
    # Refused before any request: the unreachable https URL is never contacted.
    make_profiles(tmp_path / "profiles.csv", 60)
    key = "nx_live_secret_0123456789abcdef"

    done = cli(
        "run", "profiles.csv", *POOLS, "--base-url", "https://127.0.0.1:9",
        env={"NEXIO_API_KEY": key},
    )  # fmt: skip

    assert done.code == 2, done.output
    assert "--yes" in done.stderr
    assert "120" in done.stderr  # the billable count it would have sent
    assert key not in done.output
    assert "Traceback" not in done.output


def test_live_key_large_batch_asks_on_a_terminal(tmp_path: Path, make_profiles: Any) -> None:
    # stdin and stderr on a pseudo-terminal: the command asks; "n" sends nothing.
    make_profiles(tmp_path / "profiles.csv", 60)
    key = "nx_live_secret_0123456789abcdef"
    env = {k: v for k, v in os.environ.items() if not k.startswith("NEXIO_")}
    env |= {"NEXIO_API_KEY": key, "NEXIO_LAB_HOME": str(tmp_path / "home")}
    master, slave = pty.openpty()
    proc = subprocess.Popen(
        [sys.executable, "-m", "nexio_lab.cli", "run", "profiles.csv", *POOLS,
         "--base-url", "https://127.0.0.1:9"],
        stdin=slave, stderr=slave, stdout=subprocess.PIPE, cwd=tmp_path, env=env, text=True,
    )  # fmt: skip
    os.close(slave)
    try:
        seen = b""
        while b"[y/N]" not in seen:
            ready, _, _ = select.select([master], [], [], 60)
            assert ready, f"no prompt within 60 s: {seen!r}"
            seen += os.read(master, 4096)
        os.write(master, b"n\n")
        out, _ = proc.communicate(timeout=60)
        while select.select([master], [], [], 0)[0]:
            try:
                chunk = os.read(master, 4096)
            except OSError:  # the terminal closed with the process (Linux: EIO)
                break
            if not chunk:
                break
            seen += chunk
    finally:
        proc.kill()
        os.close(master)

    assert proc.returncode == 2
    assert b"not confirmed; nothing was sent" in seen
    assert b"120" in seen  # the plan, with what would be billed
    assert key.encode() not in seen and key not in out
