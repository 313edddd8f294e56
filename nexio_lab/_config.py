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


def api_key() -> str | None:
    """``$NEXIO_API_KEY``, or None when unset or empty."""
    return os.environ.get(ENV_API_KEY) or None


def base_url() -> str:
    """``$NEXIO_BASE_URL``, else the production URL."""
    return os.environ.get(ENV_BASE_URL) or DEFAULT_BASE_URL


def home() -> Path:
    """``$NEXIO_LAB_HOME``, defaulting to ``~/.nexio-lab``: journals and logs live here."""
    return Path(os.environ.get(ENV_HOME) or Path.home() / ".nexio-lab")


def default_store() -> Path:
    """The journal used when none is named: ``$NEXIO_LAB_HOME/journal.sqlite``."""
    return home() / "journal.sqlite"
