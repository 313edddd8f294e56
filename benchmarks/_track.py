"""Child process for scenarios 6 and 7: run one batch, sample this process's RSS.

    python -m benchmarks._track '{"url": ..., "n": 20000, "until": "submitted"}'

Prints one JSON line: peak and floor RSS (MB), samples ``[t, rss_mb, rate_limited, done,
open]``, status counts and wall time. ``until`` is "submitted" (every row sent and tracked),
"end" (the batch finished) or "tables" (finished, then its four tables built, as an analyst
reads them). The floor is taken with nexio-lab, httpx and pandas imported, before the batch,
so what grows past it is the batch's. Running alone in a process keeps the measurement clean.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import pandas  # noqa: F401  (loaded before the floor: an import is not per evaluation)
import psutil

import nexio_lab.results  # noqa: F401
from nexio_lab import Client
from nexio_lab.sandbox import DEFAULT_API_KEY

from ._common import POOL, profiles

MB = 1024 * 1024


def main() -> int:
    options = json.loads(sys.argv[1])
    process = psutil.Process()
    floor = process.memory_info().rss / MB  # interpreter + nexio-lab + httpx + pandas
    peak = floor
    samples: list[list[float]] = []
    stop = threading.Event()
    started = time.monotonic()
    client = Client(api_key=DEFAULT_API_KEY, base_url=options["url"])
    limiter = client.limiter
    state: dict[str, int] = {"done": 0, "open": 0}

    def sample() -> None:
        nonlocal peak
        last = 0.0
        while not stop.wait(0.05):
            rss = process.memory_info().rss / MB
            peak = max(peak, rss)
            now = time.monotonic() - started
            if now - last >= options.get("sample_every", 1.0):
                samples.append(
                    [
                        round(now, 2),
                        round(rss, 1),
                        limiter.rate_limited,
                        state["done"],
                        state["open"],
                    ]
                )
                last = now

    threading.Thread(target=sample, daemon=True).start()
    rows = profiles(options["n"], "track")
    with tempfile.TemporaryDirectory(prefix="nexio-bench-") as tmp:
        batch = client.start_batch(
            rows, pool=POOL, store=Path(tmp) / "journal.sqlite", name="track", progress=False
        )
        while True:
            progress = batch.progress
            counts = progress.counts
            state["done"] = progress.done
            state["open"] = counts.get("queued", 0) + counts.get("processing", 0)
            if options["until"] == "submitted" and not counts.get("pending"):
                break
            if progress.finished:
                break
            time.sleep(0.1)
        wall = time.monotonic() - started
        tables: dict[str, Any] = {}
        if options["until"] == "tables":
            batch.wait()
            tables["peak_before_mb"] = peak
            built = time.monotonic()
            frames = [batch.evaluations, batch.candidates, batch.scores, batch.errors]
            tables |= {"rows": [len(f) for f in frames], "seconds": time.monotonic() - built}
        time.sleep(0.2)  # one more sample with everything tracked (and the tables held)
        stop.set()
        result = {
            "tables": tables,
            "floor_mb": floor,
            "peak_mb": max(peak, process.memory_info().rss / MB),
            "wall_s": wall,
            "counts": dict(batch.progress.counts),
            "rate_limited": limiter.rate_limited,
            "samples": samples,
        }
        print(json.dumps(result), flush=True)
    # The batch may still be running ("submitted"): leave without a graceful drain.
    os._exit(0)


if __name__ == "__main__":
    sys.exit(main())
