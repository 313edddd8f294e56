"""The one home of configuration: environment variables and their defaults.

Every other module asks here; none reads ``os.environ`` itself.

>>> DEFAULT_BASE_URL
'https://api.usenexio.com'
"""

from __future__ import annotations

import os
from pathlib import Path

__all__ = [
    "DEFAULT_BASE_URL",
    "ENV_API_KEY",
    "ENV_BASE_URL",
    "ENV_HOME",
    "api_key",
    "base_url",
    "default_store",
    "home",
]

#: The production API; a loopback ``http://`` URL points the client at a sandbox.
DEFAULT_BASE_URL = "https://api.usenexio.com"
ENV_API_KEY = "NEXIO_API_KEY"
ENV_BASE_URL = "NEXIO_BASE_URL"
ENV_HOME = "NEXIO_LAB_HOME"
#: hands a detached batch's lock to the process that drives it (never the key: see below)
ENV_DRIVER_TOKEN = "NEXIO_LAB_DRIVER_TOKEN"


def api_key() -> str | None:
    """``$NEXIO_API_KEY``, or None when unset or empty."""
    return os.environ.get(ENV_API_KEY) or None


def base_url() -> str:
    """``$NEXIO_BASE_URL``, else the production URL."""
    return os.environ.get(ENV_BASE_URL) or DEFAULT_BASE_URL


def take_driver_token() -> str | None:
    """The lock token a detaching process handed over, removed from the environment so
    that nothing started from here inherits it."""
    return os.environ.pop(ENV_DRIVER_TOKEN, None)


def child_environment(
    *, api_key: str | None, driver_token: str, import_path: str
) -> dict[str, str]:
    """The environment of a detached batch process: this one's, with the key passed in the
    environment (never in argv, which every user of the machine can read with ``ps``)."""
    env = {k: v for k, v in os.environ.items() if k != ENV_API_KEY}
    if api_key:
        env[ENV_API_KEY] = api_key
    env[ENV_DRIVER_TOKEN] = driver_token
    # the child imports this same nexio_lab, installed or not
    env["PYTHONPATH"] = os.pathsep.join(p for p in (import_path, os.environ.get("PYTHONPATH")) if p)
    env["PYTHONUNBUFFERED"] = "1"
    return env


def home() -> Path:
    """``$NEXIO_LAB_HOME``, defaulting to ``~/.nexio-lab``: journals and logs live here."""
    return Path(os.environ.get(ENV_HOME) or Path.home() / ".nexio-lab")


def default_store() -> Path:
    """The journal used when none is named: ``$NEXIO_LAB_HOME/journal.sqlite``."""
    return home() / "journal.sqlite"
