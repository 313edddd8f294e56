"""A running sandbox: start it in-process, talk to it over HTTP, look inside, stop it."""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Sequence
from pathlib import Path
from types import TracebackType
from typing import Any

from .._net import is_loopback
from .._server import ServerThread
from ._app import SandboxState, create_app
from ._config import DEFAULT_API_KEY, SandboxConfig
from ._ratelimit import DEFAULT_RATE_KIND, RateKind
from ._store import JobRecord

__all__ = ["Sandbox", "run"]

log = logging.getLogger("nexio_lab.sandbox")


class Sandbox:
    """A local Nexio-compatible server running in a background thread.

    Made by :func:`run`, already serving. Use it as a context manager, or call
    :meth:`stop` (idempotent) when done.

    >>> with run(speed=1e9) as sb:
    ...     sb.url.startswith("http://127.0.0.1:"), sb.api_key == DEFAULT_API_KEY
    (True, True)
    """

    def __init__(self, config: SandboxConfig) -> None:
        self.config = config
        self._app = create_app(config)
        self._state: SandboxState = self._app.state.sandbox
        self._server: ServerThread | None = None
        self.url = ""

    @property
    def api_key(self) -> str:
        """The first configured key (the documented test key by default)."""
        return self.config.api_keys[0]

    @property
    def port(self) -> int:
        return self._server.port if self._server else self.config.port

    @property
    def running(self) -> bool:
        return self._server is not None and self._server.running

    def start(self) -> Sandbox:
        if self._server is not None:
            return self
        if not is_loopback(self.config.host):
            log.warning("sandbox listening on non-loopback host %s", self.config.host)
        server = ServerThread(self._app, self.config.host, self.config.port, name="nexio-sandbox")
        server.start()
        self._server = server
        host = f"[{server.host}]" if ":" in server.host else server.host
        self.url = f"http://{host}:{server.port}"
        return self

    def stop(self) -> None:
        """Stop serving and wait for the server thread (safe to call twice)."""
        if self._server is not None:
            self._server.stop()

    def __enter__(self) -> Sandbox:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def jobs(self) -> list[JobRecord]:
        """Every job, oldest first, as dicts whose keys also read as attributes.

        Keys: ``eval_id``, ``owner`` (a key fingerprint, never the key), ``profile``,
        ``pool``, ``seed``, ``digest``, ``attempt``, ``created_at``, ``queued_until``,
        ``ready_at`` (Unix s), ``status`` (now), ``outcome`` (final status), ``failure``
        and ``webhook_url``.
        """
        return self._state.store.records(time.time())

    def stats(self) -> dict[str, Any]:
        """Counters since start (or the last :meth:`reset_stats`): ``requests``, ``posts``,
        ``gets``, ``health``, ``jobs_created``, ``injected_errors``, ``webhook_attempts``,
        ``webhooks_delivered``, ``webhooks_failed``, ``by_status`` ({"429": n, ...}), and
        the Unix times ``first_request_at``, ``last_request_at`` (API requests) and
        ``last_ready_at`` (when the last evaluation created becomes ready; None before)."""
        return self._state.stats.snapshot()

    def reset_stats(self) -> None:
        self._state.stats.reset()

    def __repr__(self) -> str:
        state = "running" if self.running else "stopped"
        return f"<Sandbox {self.url or self.config.host} {state}>"


def run(
    *,
    host: str = "127.0.0.1",
    port: int = 0,
    api_keys: Sequence[str] | None = None,
    rate_limit: int = 600,
    rate_window: float = 60.0,
    rate_kind: RateKind = DEFAULT_RATE_KIND,
    speed: float = 1.0,
    seed: int = 0,
    failure_rate: float = 0.0,
    error_rate: float = 0.0,
    db: str | os.PathLike[str] | None = None,
    shortlist: int = 25,
) -> Sandbox:
    """Start a sandbox on a free loopback port (by default) and return it, serving.

    Evaluations take 15-60 s divided by ``speed``; ``api_keys`` default to
    :data:`DEFAULT_API_KEY`; ``db`` keeps jobs across restarts. Each key may send
    ``rate_limit`` requests per ``rate_window`` seconds, counted the ``rate_kind`` way:
    ``"fixed-aligned"`` (fixed windows on the clock, the default), ``"fixed"`` (fixed
    windows opened by the key's first request), ``"sliding"`` (a sliding log) or
    ``"bucket"`` (a token bucket).

    >>> import httpx
    >>> with run(speed=1000) as sb:
    ...     httpx.get(f"{sb.url}/health").json()
    {'status': 'ok'}
    """
    config = SandboxConfig(
        host=host,
        port=port,
        api_keys=tuple(api_keys) if api_keys else (DEFAULT_API_KEY,),
        rate_limit=rate_limit,
        rate_window=rate_window,
        rate_kind=rate_kind,
        speed=speed,
        seed=seed,
        failure_rate=failure_rate,
        error_rate=error_rate,
        db=Path(db) if db is not None else None,
        shortlist=shortlist,
    )
    return Sandbox(config).start()
