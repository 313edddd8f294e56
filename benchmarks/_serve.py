"""A sandbox in a subprocess: prints ``{"url": ...}``, answers ``stats`` and ``jobs`` lines
(one JSON line each), stops at EOF.

python -m benchmarks._serve '{"rate_limit": 1000000000, "speed": 1e9}'
"""

from __future__ import annotations

import json
import sys

from nexio_lab import sandbox


def main() -> int:
    options = json.loads(sys.argv[1]) if len(sys.argv) > 1 else {}
    with sandbox.run(**options) as sb:
        print(json.dumps({"url": sb.url}), flush=True)
        for line in sys.stdin:
            if line.strip() == "stats":
                print(json.dumps(sb.stats()), flush=True)
            elif line.strip() == "jobs":
                print(json.dumps([dict(job) for job in sb.jobs()], default=str), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
