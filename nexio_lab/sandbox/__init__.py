"""A local Nexio-compatible server, for trying things without a key or a bill.

It implements the v1 contract (``/health``, ``POST /api/v1/jobs``,
``GET /api/v1/jobs/{eval_id}``, keys, rate limits, errors, webhooks) over seeded synthetic
pools (``carriers:all``, ``carriers:tier1``, ``providers:network``), with knobs for speed,
failures and injected server errors. Start it from Python or with ``nexio-lab sandbox``.

>>> import httpx
>>> from nexio_lab.sandbox import run
>>> with run(speed=1e6) as sb:
...     headers = {"X-API-Key": sb.api_key}
...     body = {"profile": {"entity": "acme", "state": "CA"}, "pool": "carriers:tier1"}
...     accepted = httpx.post(f"{sb.url}/api/v1/jobs", json=body, headers=headers)
...     accepted.status_code, accepted.json()["status"]
(202, 'queued')
"""

from ._app import create_app
from ._config import DEFAULT_API_KEY, SandboxConfig
from ._pools import DEFAULT_POOLS
from ._sandbox import Sandbox, run

__all__ = ["DEFAULT_API_KEY", "DEFAULT_POOLS", "Sandbox", "SandboxConfig", "create_app", "run"]
