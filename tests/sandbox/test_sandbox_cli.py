"""``nexio-lab sandbox`` as a real subprocess: starts, serves, masks keys, stops on SIGINT."""

from __future__ import annotations

import re
import signal
import subprocess
import sys
import threading
from pathlib import Path

import httpx

SECRET = "nx_test_team_secret_5f2a9c1e7b3d"


def _start(*args: str) -> tuple[subprocess.Popen[str], list[str]]:
    script = Path(sys.executable).with_name("nexio-lab")
    command = [str(script)] if script.exists() else [sys.executable, "-m", "nexio_lab.cli"]
    process = subprocess.Popen(
        [*command, "sandbox", "--port", "0", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    lines: list[str] = []
    ready = threading.Event()

    def read() -> None:
        assert process.stdout is not None
        for line in process.stdout:
            lines.append(line)
            if "serving at" in line:
                ready.set()
        ready.set()

    threading.Thread(target=read, daemon=True).start()
    assert ready.wait(30), "the sandbox did not announce itself"
    return process, lines


def test_cli_serves_masks_the_key_and_stops_on_sigint() -> None:
    process, lines = _start("--api-key", SECRET, "--speed", "1000", "--rate-limit", "50")
    try:
        url = re.search(r"serving at (http://\S+)", "".join(lines)).group(1)
        assert url.startswith("http://127.0.0.1:")
        assert httpx.get(f"{url}/health").json() == {"status": "ok"}
        response = httpx.get(f"{url}/api/v1/jobs/eval_x", headers={"X-API-Key": SECRET})
        assert response.status_code == 404
        assert response.headers["x-ratelimit-limit"] == "50"
    finally:
        process.send_signal(signal.SIGINT)
        code = process.wait(timeout=20)
    output = "".join(lines)
    assert code == 0, output
    assert SECRET not in output and "nx_test_…" + SECRET[-4:] in output
    assert "sandbox stopped" in output


def test_cli_shows_the_default_test_key() -> None:
    process, lines = _start()
    process.send_signal(signal.SIGINT)
    assert process.wait(timeout=20) == 0
    assert "nx_test_sandbox_0000000000000000" in "".join(lines)


def test_cli_refuses_live_keys() -> None:
    script = Path(sys.executable).with_name("nexio-lab")
    result = subprocess.run(
        [str(script), "sandbox", "--port", "0", "--api-key", "nx_live_abcdef0123456789"],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode == 2
    assert "nx_live_" in result.stderr and "abcdef0123456789" not in result.stderr + result.stdout
