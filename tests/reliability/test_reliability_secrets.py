"""The key is searched for, and never found, wherever nexio-lab writes or shows anything."""

from __future__ import annotations

import logging
import os
import signal
import socket
import subprocess
import sys
import traceback
from collections.abc import Callable
from pathlib import Path

import pytest
from reliability_support import SECRET_KEY, profiles

import nexio_lab as nx
from nexio_lab.sandbox import Sandbox

POOL = "carriers:tier1"
#: The key, and a middle slice of it (a leak may be partial, or masked only at the ends).
NEEDLES = (SECRET_KEY, SECRET_KEY[8:24])


def assert_no_key(text: str | bytes, where: str) -> None:
    for needle in NEEDLES:
        found = needle.encode() in text if isinstance(text, bytes) else needle in text
        assert not found, f"the key leaked into {where}"


@pytest.fixture
def secret_sandbox(make_sandbox: Callable[..., Sandbox]) -> Sandbox:
    return make_sandbox(api_keys=[SECRET_KEY])


def test_reprs_of_clients_batches_evaluations(
    secret_sandbox: Sandbox, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)  # every logger, httpx and httpcore included
    with nx.Client(SECRET_KEY, base_url=secret_sandbox.url) as client:
        assert_no_key(repr(client), "repr(Client)")
        assert_no_key(repr(client._async), "repr(AsyncClient)")
        batch = client.run_batch(
            profiles(3), pool=POOL, store=tmp_path / "j.sqlite", progress=False, name="s"
        )
        evaluation = client.get(batch.records()[0].eval_id)
    assert batch.ok
    for text, where in [
        (repr(batch), "repr(Batch)"),
        (batch._repr_html_(), "Batch._repr_html_"),
        (repr(batch.results), "repr(ResultSet)"),
        (repr(evaluation), "repr(Evaluation)"),
        (str(batch.plan), "str(BatchPlan)"),
        (repr(batch.progress), "repr(BatchProgress)"),
        (caplog.text, "DEBUG logs"),
    ]:
        assert_no_key(text, where)
    html = getattr(batch.results, "_repr_html_", None)
    if html is not None:
        assert_no_key(html(), "ResultSet._repr_html_")
    assert any(r.name.startswith("httpcore") for r in caplog.records)  # DEBUG really captured

    # the journal (with its WAL) and every exported file
    for path in tmp_path.glob("j.sqlite*"):
        assert_no_key(path.read_bytes(), path.name)
    for directory in (batch.to_parquet(tmp_path / "pq"), batch.to_csv(tmp_path / "csv")):
        files = [p for p in Path(directory).rglob("*") if p.is_file()]
        assert files
        for path in files:
            assert_no_key(path.read_bytes(), f"exported {path.name}")


def _full_text(error: BaseException) -> str:
    lines = traceback.format_exception(type(error), error, error.__traceback__)
    return "".join(lines) + repr(error) + repr(getattr(error, "headers", ""))


def test_401_and_connection_errors_and_their_tracebacks(
    sandbox: Sandbox, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    # the sandbox does not know this key: a real 401
    with nx.Client(SECRET_KEY, base_url=sandbox.url, max_retries=0) as client:
        with pytest.raises(nx.AuthenticationError) as caught:
            client.submit({"entity": "acme"}, pool=POOL)
        assert "NEXIO_API_KEY" in str(caught.value)
        assert_no_key(_full_text(caught.value), "a 401 traceback")
        with pytest.raises(nx.AuthenticationError) as caught:
            client.get("eval_00000000")
        assert_no_key(_full_text(caught.value), "a 401 traceback (GET)")
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with nx.Client(SECRET_KEY, base_url=f"http://127.0.0.1:{port}", max_retries=1) as client:
        with pytest.raises(nx.APIConnectionError) as caught:
            client.get("eval_00000000")
        assert_no_key(_full_text(caught.value), "a connection error traceback")
    assert_no_key(caplog.text, "DEBUG logs of failures")


def test_uncertain_submission_error_carries_the_profile_not_the_key(
    sandbox: Sandbox,
) -> None:
    error = nx.SubmissionUncertainError("lost", profile={"entity": "acme"}, pool=POOL)
    assert_no_key(_full_text(error), "SubmissionUncertainError")


@pytest.mark.parametrize(
    ("base_url", "key", "words"),
    [
        ("http://api.usenexio.com", "nx_test_abc", ["loopback", "https"]),
        ("http://10.0.0.5:8765", "nx_test_abc", ["loopback"]),
        ("http://127.0.0.1:8765", SECRET_KEY.replace("nx_test_", "nx_live_"), ["nx_live_"]),
        ("http://localhost:8765", SECRET_KEY.replace("nx_test_", "nx_live_"), ["http://"]),
        ("ftp://127.0.0.1", "nx_test_abc", ["http(s)"]),
    ],
)
def test_unsafe_transport_is_refused(base_url: str, key: str, words: list[str]) -> None:
    with pytest.raises(nx.NexioError) as caught:
        nx.Client(key, base_url=base_url)
    for word in words:
        assert word in str(caught.value)
    assert key[8:] not in str(caught.value)


def test_live_key_over_https_is_accepted_without_a_request() -> None:
    client = nx.AsyncClient(SECRET_KEY.replace("nx_test_", "nx_live_"))
    assert client.is_live and "nx_live_***" in repr(client)
    assert_no_key(repr(client).replace("nx_live_", "nx_test_"), "repr of a live client")


def test_cli_run_and_sandbox_output(tmp_path: Path) -> None:
    env = {
        **os.environ,
        "NEXIO_LAB_HOME": str(tmp_path / "home"),
        "NEXIO_API_KEY": SECRET_KEY,
    }
    cli = [sys.executable, "-m", "nexio_lab.cli"]
    sandbox = subprocess.Popen(
        [*cli, "sandbox", "--port", "0", "--speed", "1000", "--api-key", SECRET_KEY],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=env,
    )
    banner = []
    try:
        assert sandbox.stdout is not None
        for line in sandbox.stdout:
            banner.append(line)
            if "serving at" in line:
                break
        url = banner[-1].split("serving at ", 1)[1].split()[0]
        rows = tmp_path / "rows.csv"
        rows.write_text("entity,state\nacme,CA\nglobex,NY\n")
        env["NEXIO_BASE_URL"] = url
        run = subprocess.run(
            [
                *cli,
                "-vv",
                "run",
                str(rows),
                "--pool",
                POOL,
                "--out",
                str(tmp_path / "out"),
                "--no-progress",
            ],
            capture_output=True,
            text=True,
            env=env,
            timeout=60,
        )
        assert run.returncode == 0, run.stdout + run.stderr
        assert_no_key(run.stdout + run.stderr, "`nexio-lab run -vv` output")
        for path in (tmp_path / "out").rglob("*"):
            if path.is_file():
                assert_no_key(path.read_bytes(), f"CLI export {path.name}")
        for path in (tmp_path / "home").rglob("*"):
            if path.is_file():
                assert_no_key(path.read_bytes(), f"{path.name} under NEXIO_LAB_HOME")
    finally:
        sandbox.send_signal(signal.SIGINT)
        rest, _ = sandbox.communicate(timeout=30)
    assert_no_key("".join(banner) + rest, "`nexio-lab sandbox` output")
