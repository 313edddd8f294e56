"""Child process of the shared-key scenario: one ``run_batch`` on a key others use too.

    python -m benchmarks._shared_child '{"url": ..., "n": 80, "tag": "k0", "store": PATH}'

Imports everything and builds its client first, prints ``ready``, then waits for a line on
stdin (the go signal, sent to every child at once) so interpreter start-up is not counted.
Prints one JSON line: Unix ``start`` and ``end``, status counts, when the last result was
journaled and the 429s its client saw.
"""

from __future__ import annotations

import json
import sys
import time

from nexio_lab import Client
from nexio_lab.sandbox import DEFAULT_API_KEY

from ._common import POOL, profiles


def main() -> int:
    options = json.loads(sys.argv[1])
    rows = profiles(options["n"], options["tag"])  # distinct per child: no shared rows
    client = Client(api_key=DEFAULT_API_KEY, base_url=options["url"])
    print("ready", flush=True)
    sys.stdin.readline()
    start = time.time()
    batch = client.run_batch(
        rows, pool=POOL, store=options["store"], name=options["tag"], progress=False
    )
    end = time.time()
    records = batch.records()
    noticed = [r.completed_at.timestamp() for r in records if r.completed_at]
    result = {
        "start": start,
        "end": end,
        "counts": {str(k): int(v) for k, v in dict(batch.status_counts()).items()},
        "finished": sum(r.status in {"completed", "failed"} for r in records),
        "last_noticed": max(noticed, default=end),
        "rate_limited": client.limiter.rate_limited,
    }
    client.close()
    print(json.dumps(result), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
