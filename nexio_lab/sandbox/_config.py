"""The sandbox's settings, one frozen dataclass shared by the app, the runner and the CLI."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path

from ._ratelimit import DEFAULT_RATE_KIND, RATE_KINDS, RateKind

__all__ = ["DEFAULT_API_KEY", "SandboxConfig"]

#: The sandbox's documented test key, used when no key is configured. It is a test key
#: (``nx_test_``), meant to be shown and shared: it only ever opens a local sandbox.
DEFAULT_API_KEY = "nx_test_sandbox_0000000000000000"

#: Prefix of production keys, which the sandbox refuses whatever its configuration.
LIVE_KEY_PREFIX = "nx_live_"


@dataclass(frozen=True, slots=True)
class SandboxConfig:
    """How a sandbox behaves; every field mirrors a ``nexio-lab sandbox`` option.

    ``rate_limit`` requests per ``rate_window`` seconds per key, counted the ``rate_kind``
    way (``fixed-aligned``, ``fixed``, ``sliding`` or ``bucket``: see
    :mod:`nexio_lab.sandbox._ratelimit`); processing times (15-60 s)
    are divided by ``speed``; ``failure_rate`` of evaluations end ``failed``;
    ``error_rate`` of API requests get an injected 500/503; ``db`` persists jobs in SQLite.

    >>> SandboxConfig(speed=1000).api_keys == (DEFAULT_API_KEY,)
    True
    """

    host: str = "127.0.0.1"
    port: int = 0
    api_keys: tuple[str, ...] = field(default=(DEFAULT_API_KEY,), repr=False)
    rate_limit: int = 600
    rate_window: float = 60.0
    rate_kind: RateKind = DEFAULT_RATE_KIND
    speed: float = 1.0
    seed: int = 0
    failure_rate: float = 0.0
    error_rate: float = 0.0
    db: Path | None = None
    shortlist: int = 25

    def __post_init__(self) -> None:
        keys = tuple(self.api_keys or (DEFAULT_API_KEY,))
        if not all(isinstance(k, str) and k.strip() for k in keys):
            raise ValueError("api_keys must be non-empty strings")
        if any(k.startswith(LIVE_KEY_PREFIX) for k in keys):
            # Never let a production key near a toy server (nor into its logs).
            raise ValueError("the sandbox refuses nx_live_ keys; use an nx_test_ key")
        object.__setattr__(self, "api_keys", keys)
        if self.db is not None:
            object.__setattr__(self, "db", Path(self.db))
        if not 0 <= self.port <= 65535:
            raise ValueError("port must be in 0..65535")
        if self.rate_limit < 1:
            raise ValueError("rate_limit must be at least 1")
        if not (math.isfinite(self.rate_window) and self.rate_window > 0):
            raise ValueError("rate_window must be a positive number of seconds")
        if self.rate_kind not in RATE_KINDS:
            raise ValueError(
                f"rate_kind must be one of {', '.join(RATE_KINDS)}, not {self.rate_kind!r}"
            )
        if not (math.isfinite(self.speed) and self.speed > 0):
            raise ValueError("speed must be a positive factor")
        for name in ("failure_rate", "error_rate"):
            if not 0.0 <= getattr(self, name) <= 1.0:
                raise ValueError(f"{name} must be within 0..1")
        if self.shortlist < 1:
            raise ValueError("shortlist must be at least 1")
