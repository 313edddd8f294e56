"""``nexio-lab sandbox``: serve the local Nexio-compatible sandbox until Ctrl-C."""

from __future__ import annotations

import argparse
import sys
import threading

__all__ = ["register"]

#: ``nexio_lab.sandbox._ratelimit.RATE_KINDS``, default first, spelled out here so the CLI
#: does not import the server to build its parser (a test keeps the two equal).
RATE_KINDS = ("fixed-aligned", "fixed", "sliding", "bucket")


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "sandbox",
        help="serve a local Nexio-compatible sandbox",
        description=(
            "Serve the v1 Nexio API locally over seeded synthetic pools, until Ctrl-C. "
            "Example: nexio-lab sandbox --port 8765 --speed 100"
        ),
    )
    parser.add_argument(
        "--host",
        default=None,
        help="interface to bind (default 127.0.0.1; anything else exposes the sandbox)",
    )
    parser.add_argument("--port", type=int, default=8765, help="port (0: any free one)")
    parser.add_argument(
        "--api-key",
        action="append",
        dest="api_keys",
        metavar="KEY",
        help="accepted key, repeatable (default: the documented nx_test_ sandbox key)",
    )
    parser.add_argument("--rate-limit", type=int, default=600, help="requests per window")
    parser.add_argument("--rate-window", type=float, default=60.0, help="window in seconds")
    parser.add_argument(
        "--rate-kind",
        choices=RATE_KINDS,
        default=RATE_KINDS[0],
        help=(
            "how requests are counted: fixed-aligned (fixed windows on the clock, default), "
            "fixed (windows opened by a key's first request), sliding (a sliding log: Reset "
            "is when the oldest counted request expires), bucket (a token bucket: Reset is "
            "when it is full again)"
        ),
    )
    parser.add_argument("--speed", type=float, default=1.0, help="divide 15-60 s jobs by this")
    parser.add_argument("--seed", type=int, default=0, help="seed of pools and results")
    parser.add_argument("--failure-rate", type=float, default=0.0, help="share of failed jobs")
    parser.add_argument("--error-rate", type=float, default=0.0, help="share of 500/503s")
    parser.add_argument("--db", default=None, metavar="PATH", help="SQLite file to keep jobs")
    parser.add_argument("--shortlist", type=int, default=25, help="candidates per result")
    parser.set_defaults(func=_serve)


def _serve(args: argparse.Namespace) -> int:
    from .._net import is_loopback
    from ..sandbox import DEFAULT_API_KEY, run
    from ..sandbox._auth import mask_key

    host = args.host or "127.0.0.1"
    if not is_loopback(host):
        # Only an explicit --host gets here; say loudly what it means.
        print(f"warning: serving on {host}: reachable from other machines", file=sys.stderr)
    try:
        sandbox = run(
            host=host,
            port=args.port,
            api_keys=args.api_keys,
            rate_limit=args.rate_limit,
            rate_window=args.rate_window,
            rate_kind=args.rate_kind,
            speed=args.speed,
            seed=args.seed,
            failure_rate=args.failure_rate,
            error_rate=args.error_rate,
            db=args.db,
            shortlist=args.shortlist,
        )
    except (ValueError, OSError) as exc:
        print(f"nexio-lab sandbox: {exc}", file=sys.stderr)
        return 2
    if args.api_keys:
        keys = ", ".join(mask_key(k) for k in sandbox.config.api_keys)
        print(f"API keys: {keys} (as configured)")
    else:
        # The documented test key is meant to be shown: it only opens this sandbox.
        print(f"API key: {DEFAULT_API_KEY}")
    print(f"Nexio sandbox serving at {sandbox.url} (Ctrl-C to stop)", flush=True)
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        pass
    finally:
        sandbox.stop()
    print("sandbox stopped", flush=True)
    return 0
