"""Per-key fixed windows aligned on the Unix clock: boundary, 429, reset, headers."""

from __future__ import annotations

import math
import re
import time
from collections.abc import Callable

import httpx
from sandbox_support import PROFILE, assert_error, assert_rate_headers, client, wait_for_clock

from nexio_lab.sandbox import DEFAULT_API_KEY

OTHER_KEY = "nx_test_second_key_0000000000001"


def in_one_window(burst: Callable[[], list[httpx.Response]]) -> list[httpx.Response]:
    """Run ``burst`` until all its answers share one window (a burst may straddle a
    boundary; the next try then starts at the beginning of a fresh window)."""
    for _ in range(3):
        responses = burst()
        resets = {r.headers["x-ratelimit-reset"] for r in responses}
        if len(resets) == 1:
            return responses
        wait_for_clock(max(float(r) for r in resets))
    raise AssertionError("every burst straddled a window boundary")


def test_limit_boundary_429_and_reset(make_sandbox) -> None:
    window, limit = 1.0, 5
    sb = make_sandbox(rate_limit=limit, rate_window=window)
    with client(sb) as http:
        eval_id = http.post("/api/v1/jobs", json={"profile": PROFILE, "pool": "carriers:all"})
        eval_id = eval_id.json()["eval_id"]
        wait_for_clock(float(math.floor(time.time() / window) * window + window))

        def burst() -> list[httpx.Response]:
            return [http.get(f"/api/v1/jobs/{eval_id}") for _ in range(limit + 1)]

        responses = in_one_window(burst)
        assert [r.status_code for r in responses] == [200] * limit + [429]
        assert [assert_rate_headers(r)[1] for r in responses] == [4, 3, 2, 1, 0, 0]
        reset = float(responses[0].headers["x-ratelimit-reset"])
        assert reset == math.floor(reset / window) * window  # aligned on the clock
        assert responses[0].headers["x-ratelimit-reset"] == str(int(reset))  # whole: integer

        refused = responses[-1]
        assert_error(refused, 429, "rate_limit_exceeded")
        assert int(refused.headers["retry-after"]) >= 1
        # Refused requests consume nothing; POSTs are refused too and create nothing.
        more = http.post("/api/v1/jobs", json={"profile": PROFILE, "pool": "carriers:all"})
        if more.headers["x-ratelimit-reset"] == responses[0].headers["x-ratelimit-reset"]:
            assert_error(more, 429, "rate_limit_exceeded")
            assert len(sb.jobs()) == 1
        # Health needs no key and is never limited.
        assert httpx.get(f"{sb.url}/health").status_code == 200

        wait_for_clock(reset)
        again = http.get(f"/api/v1/jobs/{eval_id}")
        assert again.status_code == 200
        _, remaining, new_reset = assert_rate_headers(again)
        assert remaining <= limit - 1 and new_reset >= reset + window


def test_unknown_keys_get_401_not_429(make_sandbox) -> None:
    sb = make_sandbox(rate_limit=1, rate_window=3600.0)
    with client(sb, key="nx_test_unknown") as stranger:
        statuses = {stranger.get("/api/v1/jobs/x").status_code for _ in range(5)}
    assert statuses == {401}


def test_keys_have_separate_windows(make_sandbox) -> None:
    sb = make_sandbox(rate_limit=2, rate_window=3600.0, api_keys=[DEFAULT_API_KEY, OTHER_KEY])
    with client(sb) as first, client(sb, key=OTHER_KEY) as second:

        def burst() -> list[httpx.Response]:
            return [first.get("/api/v1/jobs/x") for _ in range(3)] + [
                second.get("/api/v1/jobs/x") for _ in range(3)
            ]

        responses = in_one_window(burst)
    assert [r.status_code for r in responses] == [404, 404, 429] * 2


def test_sub_second_windows_format_the_reset_as_decimals(make_sandbox) -> None:
    sb = make_sandbox(rate_limit=20, rate_window=0.5)
    with client(sb) as http:
        wait_for_clock(math.floor(time.time() * 2) / 2 + 0.5)
        responses = in_one_window(lambda: [http.get("/api/v1/jobs/x") for _ in range(21)])
    assert [r.status_code for r in responses] == [404] * 20 + [429]
    text = responses[0].headers["x-ratelimit-reset"]
    assert re.fullmatch(r"\d+(\.5)?", text)
    assert float(text) % 0.5 == 0
