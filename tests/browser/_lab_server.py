"""A hermetic JupyterLab on loopback, for driving notebooks from a real browser."""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import httpx
import psutil

REPO = Path(__file__).resolve().parents[2]


@dataclass
class JupyterLab:
    """A running JupyterLab server whose root is a scratch copy of part of the repo."""

    root: Path
    port: int
    token: str
    process: subprocess.Popen[bytes]
    log_path: Path

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def notebook_url(self, relative: str) -> str:
        # ?reset: start from an empty workspace, whatever the tmp workspaces dir holds.
        return f"{self.base_url}/lab/tree/{relative}?reset&token={self.token}"

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def stop(self) -> None:
        """Shut down through the API (kernels included), then make sure nothing is left."""
        # Kernels run in sessions of their own: remember them to reach any survivor.
        children = _children(self.process.pid)
        if self.process.poll() is None:
            try:
                httpx.post(
                    f"{self.base_url}/api/shutdown",
                    headers={"Authorization": f"token {self.token}"},
                    timeout=10,
                )
                self.process.wait(timeout=20)
            except (httpx.HTTPError, subprocess.TimeoutExpired):
                pass
        _kill_group(self.process)
        for child in children:
            with contextlib.suppress(psutil.NoSuchProcess):
                child.kill()
        psutil.wait_procs(children, timeout=10)


def stage(tmp: Path, paths: Iterable[Path]) -> Path:
    """Copy repo directories into ``tmp/root`` at their repo-relative places, so a notebook's
    relative paths (e.g. ``../data/profiles.csv``) keep working and the run never writes to
    the repo (JupyterLab autosaves what it runs)."""
    root = tmp / "root"
    for src in paths:
        if src.exists():
            shutil.copytree(
                src,
                root / src.resolve().relative_to(REPO),
                ignore=shutil.ignore_patterns("__pycache__", ".ipynb_checkpoints"),
                dirs_exist_ok=True,
            )
    return root


def start(root: Path, tmp: Path, *, startup_timeout: float = 60.0) -> JupyterLab:
    """Start JupyterLab serving ``root``; returns once ``/api/status`` answers."""
    jupyter = tmp / "jupyter"
    env = _hermetic_env(jupyter)
    _write_config(Path(env["JUPYTER_CONFIG_DIR"]), jupyter)
    _write_kernelspec(Path(env["JUPYTER_DATA_DIR"]))
    port = _free_port()
    token = secrets.token_hex(16)
    log_path = tmp / "jupyterlab.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "jupyter",
                "lab",
                "--no-browser",
                "--expose-app-in-browser",  # window.jupyterapp: run cells, read the model
                f"--IdentityProvider.token={token}",
                "--ServerApp.ip=127.0.0.1",
                f"--ServerApp.port={port}",
                "--ServerApp.port_retries=0",
                f"--ServerApp.root_dir={root}",
            ],
            cwd=root,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: teardown reaches the kernels
        )
    lab = JupyterLab(root=root, port=port, token=token, process=process, log_path=log_path)
    try:
        _wait_ready(lab, startup_timeout)
    except BaseException:
        lab.stop()
        raise
    return lab


def _wait_ready(lab: JupyterLab, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    url = f"{lab.base_url}/api/status"
    headers = {"Authorization": f"token {lab.token}"}
    while time.monotonic() < deadline:
        try:
            if httpx.get(url, headers=headers, timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        try:
            # Doubles as the pause between polls, and notices an early death.
            code = lab.process.wait(timeout=0.2)
        except subprocess.TimeoutExpired:
            continue
        raise RuntimeError(f"JupyterLab exited with {code}:\n{lab.log()[-4000:]}")
    raise TimeoutError(f"JupyterLab not ready in {timeout} s:\n{lab.log()[-4000:]}")


def _hermetic_env(jupyter: Path) -> dict[str, str]:
    # No NEXIO_* from the caller: without NEXIO_API_KEY the notebooks use their embedded
    # sandbox, never the real service; the kernel journals under the tmp dir.
    env = {k: v for k, v in os.environ.items() if not k.startswith("NEXIO_")}
    env["NEXIO_LAB_HOME"] = str(jupyter / "nexio-lab-home")
    for name, sub in {
        "JUPYTER_CONFIG_DIR": "config",
        "JUPYTER_DATA_DIR": "data",
        "JUPYTER_RUNTIME_DIR": "runtime",
        "IPYTHONDIR": "ipython",
    }.items():
        path = jupyter / sub
        path.mkdir(parents=True, exist_ok=True)
        env[name] = str(path)
    env["JUPYTER_PLATFORM_DIRS"] = "1"
    # The kernel must see the same interpreter and packages as the tests.
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    env.pop("JUPYTER_PATH", None)
    env.pop("JUPYTER_CONFIG_PATH", None)
    return env


def _write_config(config_dir: Path, jupyter: Path) -> None:
    config = {
        "ServerApp": {
            # Language servers and terminals are of no use here and slow the start.
            "jpserver_extensions": {"jupyter_lsp": False, "jupyter_server_terminals": False},
            "terminals_enabled": False,
            "allow_root": True,  # CI containers run as root; the server is loopback-only
        },
        "LabApp": {
            "news_url": None,
            "extension_manager": "readonly",  # no PyPI listing
            "check_for_updates_class": "jupyterlab.handlers.announcements.NeverCheckForUpdate",
            "workspaces_dir": str(jupyter / "workspaces"),
            "user_settings_dir": str(jupyter / "settings"),
        },
    }
    (config_dir / "jupyter_server_config.json").write_text(json.dumps(config))
    # No "would you like news?" toast, no plugin store listing fetched from PyPI.
    labconfig = config_dir / "labconfig"
    labconfig.mkdir(exist_ok=True)
    page_config = {
        "disabledExtensions": {
            "@jupyterlab/apputils-extension:announcements": True,
            "@jupyterlab/extensionmanager-extension": True,
        }
    }
    (labconfig / "page_config.json").write_text(json.dumps(page_config))
    # Every cell in the DOM, however long the notebook (windowing would drop off-screen ones).
    tracker = jupyter / "settings" / "@jupyterlab" / "notebook-extension"
    tracker.mkdir(parents=True, exist_ok=True)
    (tracker / "tracker.jupyterlab-settings").write_text(json.dumps({"windowingMode": "none"}))


def _write_kernelspec(data_dir: Path) -> None:
    # Shadows the venv's spec ("python" from PATH) with this exact interpreter.
    spec_dir = data_dir / "kernels" / "python3"
    spec_dir.mkdir(parents=True, exist_ok=True)
    spec = {
        "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": "Python 3 (ipykernel)",
        "language": "python",
    }
    (spec_dir / "kernel.json").write_text(json.dumps(spec))


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _children(pid: int) -> list[psutil.Process]:
    try:
        return psutil.Process(pid).children(recursive=True)
    except psutil.NoSuchProcess:
        return []


def _kill_group(process: subprocess.Popen[bytes]) -> None:
    """Kill the server's process group (its kernels included), if anything is left."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, signal.SIGKILL)
    with contextlib.suppress(subprocess.TimeoutExpired):
        process.wait(timeout=10)
