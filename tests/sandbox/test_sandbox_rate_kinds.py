"""The four ways the sandbox can count (``rate_kind``): pure functions on a fake clock, then
each kind over loopback, and ``nexio-lab sandbox --rate-kind``."""

from __future__ import annotations

import copy
import subprocess
import sys
import time

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sandbox_support import assert_error, assert_rate_headers, client, wait_for_clock

from nexio_lab.cli._sandbox import RATE_KINDS as CLI_RATE_KINDS
from nexio_lab.sandbox import SandboxConfig
from nexio_lab.sandbox._ratelimit import (
    DEFAULT_RATE_KIND,
    RATE_KINDS,
    KeyState,
    RateRule,
    admit,
    peek,
)


def run(rule: RateRule, times: list[float], state: KeyState | None = None) -> list[tuple]:
    """(allowed, remaining, reset, retry_after) of a request at each time."""
    state = state if state is not None else KeyState()
    out = []
    for t in times:
        q = admit(rule, state, t)
        out.append((q.allowed, q.remaining, q.reset, q.retry_after))
    return out


# -- pure functions, fake clock ------------------------------------------------------------


def test_default_kind_is_the_old_behaviour_fixed_windows_on_the_clock() -> None:
    assert DEFAULT_RATE_KIND == "fixed-aligned" == SandboxConfig().rate_kind
    rule = RateRule(2, 10.0)
    assert run(rule, [13.0, 14.0, 15.0, 20.0]) == [
        (True, 1, 20.0, None),
        (True, 0, 20.0, None),
        (False, 0, 20.0, 5.0),
        (True, 1, 30.0, None),  # the boundary at 20 s, not 10 s after the first request
    ]


def test_fixed_windows_open_at_the_first_request() -> None:
    rule = RateRule(2, 10.0, "fixed")
    assert run(rule, [13.0, 14.0, 15.0, 23.0, 24.5, 26.0]) == [
        (True, 1, 23.0, None),
        (True, 0, 23.0, None),
        (False, 0, 23.0, 8.0),
        (True, 1, 33.0, None),  # the window ended at 23: this request opens the next
        (True, 0, 33.0, None),
        (False, 0, 33.0, 7.0),
    ]
    # An idle key's next window opens with its next request, not on a grid.
    assert run(rule, [100.0], KeyState(start=13.0, used=2)) == [(True, 1, 110.0, None)]


def test_sliding_log_reset_is_when_the_oldest_counted_request_expires() -> None:
    rule = RateRule(3, 10.0, "sliding")
    assert run(rule, [0.0, 1.0, 2.0, 5.0, 10.0, 10.5, 11.0]) == [
        (True, 2, 10.0, None),
        (True, 1, 10.0, None),
        (True, 0, 10.0, None),
        (False, 0, 10.0, 5.0),  # one slot frees at 10 s: that is the reset and the retry
        (True, 0, 11.0, None),  # the request at 0 expired; the one at 1 is now the oldest
        (False, 0, 11.0, 0.5),
        (True, 0, 12.0, None),
    ]


def test_token_bucket_reset_is_when_it_is_full_again() -> None:
    rule = RateRule(4, 8.0, "bucket")  # one token every 2 s
    assert run(rule, [0.0, 0.0, 0.0, 0.0, 0.0, 1.0, 2.0, 9.0]) == [
        (True, 3, 2.0, None),
        (True, 2, 4.0, None),
        (True, 1, 6.0, None),
        (True, 0, 8.0, None),
        (False, 0, 8.0, 2.0),  # the next token in 2 s, full again at 8 s
        (False, 0, 8.0, 1.0),
        (True, 0, 10.0, None),
        (True, 2, 12.0, None),  # 3.5 tokens refilled by 9 s, one spent: 2.5 -> 2 whole
    ]
    assert peek(rule, None, 5.0).remaining == 4 and peek(rule, None, 5.0).reset == 5.0


@pytest.mark.parametrize("kind", RATE_KINDS)
def test_a_429_carries_retry_after_and_the_headers(kind: str) -> None:
    rule = RateRule(1, 30.0, kind)  # type: ignore[arg-type]
    state = KeyState()
    admit(rule, state, 1000.25)
    refused = admit(rule, state, 1000.5)
    headers = refused.headers()
    assert not refused.allowed and headers["X-RateLimit-Remaining"] == "0"
    assert 1 <= int(headers["Retry-After"]) <= 30
    assert float(headers["X-RateLimit-Reset"]) >= 1000.5
    assert "Retry-After" not in admit(rule, KeyState(), 5.0).headers()


times = st.lists(st.floats(0, 60, allow_nan=False).map(lambda t: round(t, 2)), max_size=60).map(
    sorted
)


@settings(max_examples=150, deadline=None)
@given(kind=st.sampled_from(RATE_KINDS), limit=st.integers(1, 6), times=times)
def test_remaining_is_what_a_burst_would_get_and_refusals_count_nothing(
    kind: str, limit: int, times: list[float]
) -> None:
    rule = RateRule(limit, 5.0, kind)  # type: ignore[arg-type]
    state = KeyState()
    shadow = KeyState()  # the same requests, minus every refused one
    for t in times:
        quota = admit(rule, state, t)
        if quota.allowed:
            assert admit(rule, shadow, t).allowed
        # Remaining promises exactly the requests a burst at this instant would get.
        burst, probe = 0, copy.deepcopy(state)
        while admit(rule, probe, t).allowed:
            burst += 1
        assert burst == peek(rule, state, t).remaining == quota.remaining
        assert quota.reset >= t
        # The counts of the refused-nothing twin are the same: a 429 consumed nothing.
        assert peek(rule, shadow, t) == peek(rule, state, t)


@settings(max_examples=150, deadline=None)
@given(kind=st.sampled_from(RATE_KINDS), limit=st.integers(1, 6), times=times)
def test_no_kind_admits_more_than_it_promises(kind: str, limit: int, times: list[float]) -> None:
    window = 5.0
    rule = RateRule(limit, window, kind)  # type: ignore[arg-type]
    state = KeyState()
    admitted = [t for t in times if admit(rule, state, t).allowed]
    for i, start in enumerate(admitted):
        in_window = sum(1 for t in admitted[i:] if t < start + window)
        # A sliding log never has more than `limit` in any window; fixed windows may hold
        # two windows' worth across a boundary, and a full bucket adds a window's refill.
        cap = limit if kind == "sliding" else 2 * limit
        assert in_window <= cap


@settings(max_examples=100, deadline=None)
@given(kind=st.sampled_from(RATE_KINDS), limit=st.integers(1, 6), times=times)
def test_at_the_reset_the_budget_is_back(kind: str, limit: int, times: list[float]) -> None:
    rule = RateRule(limit, 5.0, kind)  # type: ignore[arg-type]
    state = KeyState()
    for t in times:
        admit(rule, state, t)
    if not times:
        return
    now = times[-1]
    quota = peek(rule, state, now)
    later = peek(rule, state, quota.reset + 1e-6)  # just after it: no float rounding
    if kind == "sliding":
        assert later.remaining >= min(limit, quota.remaining + 1)  # the oldest expired
    else:
        assert later.remaining == limit  # a new window, or a full bucket


def test_the_cli_offers_the_same_kinds() -> None:
    assert set(CLI_RATE_KINDS) == set(RATE_KINDS) and CLI_RATE_KINDS[0] == DEFAULT_RATE_KIND


def test_an_unknown_kind_is_refused_by_name() -> None:
    with pytest.raises(ValueError, match="rate_kind must be one of"):
        SandboxConfig(rate_kind="leaky")  # type: ignore[arg-type]


# -- over loopback -----------------------------------------------------------------------


@pytest.mark.parametrize("kind", RATE_KINDS)
def test_each_kind_over_loopback_burst_then_429(make_sandbox, kind: str) -> None:
    limit, window = 3, 3600.0
    sb = make_sandbox(rate_limit=limit, rate_window=window, rate_kind=kind)
    with client(sb) as http:
        before = time.time()
        responses = [http.get("/api/v1/jobs/eval_none") for _ in range(limit + 1)]
        after = time.time()
    assert [r.status_code for r in responses] == [404] * limit + [429]
    headers = [assert_rate_headers(r) for r in responses]
    assert [h[1] for h in headers] == [2, 1, 0, 0]
    refused = responses[-1]
    assert_error(refused, 429, "rate_limit_exceeded")
    retry_after = int(refused.headers["retry-after"])
    resets = [h[2] for h in headers]
    if kind == "fixed-aligned":
        assert len(set(resets)) == 1 and resets[0] % window == 0
        assert retry_after <= window
    elif kind in ("fixed", "sliding"):
        # Both: one window from the first request (which opened the window / is the oldest).
        assert len(set(resets)) == 1
        assert before + window - 1e-3 <= resets[0] <= after + window
        assert window - 60 <= retry_after <= window
    else:  # bucket: each request pushes "full again" one token's time further
        per_token = window / limit
        for spent, reset in enumerate(resets[:limit], start=1):
            # full again `spent` tokens after the first request (the refill since is counted)
            assert before + spent * per_token - 1e-3 <= reset <= after + spent * per_token
        assert per_token - 60 <= retry_after <= per_token  # the next token, not the full bucket
    stats = sb.stats()
    assert before <= stats["first_request_at"] <= stats["last_request_at"] <= after
    assert stats["by_status"] == {"404": limit, "429": 1}


def test_fixed_and_sliding_differ_after_a_window_over_loopback(make_sandbox) -> None:
    """Two requests half a window apart, then one just after the first expired: a fixed
    window (opened by the first request) is fresh again; the sliding log still counts the
    second request, so it says one fewer and resets when that one expires."""
    limit, window = 2, 2.0
    seen = {}
    for kind in ("fixed", "sliding"):
        sb = make_sandbox(rate_limit=limit, rate_window=window, rate_kind=kind)
        with client(sb) as http:
            first = http.get("/api/v1/jobs/x")
            opened = float(first.headers["x-ratelimit-reset"]) - window
            wait_for_clock(opened + window / 2)
            second = http.get("/api/v1/jobs/x")
            wait_for_clock(opened + window + 0.05)
            third_sent = time.time()
            third = http.get("/api/v1/jobs/x")
        seen[kind] = [assert_rate_headers(r)[1:] for r in (first, second, third)]
        assert [r.status_code for r in (first, second, third)] == [404, 404, 404]
        seen[kind].append((opened, third_sent))
    assert [r for r, _ in seen["fixed"][:3]] == [1, 0, 1]
    assert [r for r, _ in seen["sliding"][:3]] == [1, 0, 0]
    # fixed: a new window opened by the third request
    opened, third_sent = seen["fixed"][3]
    assert seen["fixed"][2][1] >= third_sent + window - 1e-3
    # sliding: the second request (sent between the first and the third) is now the oldest
    opened, third_sent = seen["sliding"][3]
    assert opened + window < seen["sliding"][2][1] < third_sent + window


def test_the_last_evaluation_ready_time_is_reported(make_sandbox) -> None:
    sb = make_sandbox(speed=1000.0)
    assert sb.stats()["last_ready_at"] is None
    with client(sb) as http:
        for entity in ("a", "b", "c"):
            http.post("/api/v1/jobs", json={"profile": {"entity": entity}, "pool": "carriers:all"})
    assert sb.stats()["last_ready_at"] == max(job.ready_at for job in sb.jobs())
    sb.reset_stats()
    assert sb.stats()["last_ready_at"] is None


def test_cli_rate_kind_option_serves_that_kind() -> None:
    script = [sys.executable, "-m", "nexio_lab.cli", "sandbox", "--port", "0"]
    process = subprocess.Popen(
        [*script, "--rate-kind", "bucket", "--rate-limit", "4", "--rate-window", "400"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        assert process.stdout is not None
        url = None
        for line in process.stdout:
            if "serving at" in line:
                url = line.split("serving at ")[1].split()[0]
                break
        assert url is not None
        key = {"X-API-Key": SandboxConfig().api_keys[0]}
        resets = [
            float(httpx.get(f"{url}/api/v1/jobs/x", headers=key).headers["x-ratelimit-reset"])
            for _ in range(2)
        ]
        # A bucket's "full again" moves one token's time (100 s) per request.
        assert resets[1] - resets[0] == pytest.approx(100.0, abs=5.0)
    finally:
        process.terminate()
        process.wait(timeout=20)
    bad = subprocess.run(
        [*script, "--rate-kind", "leaky"], capture_output=True, text=True, timeout=60
    )
    assert bad.returncode == 2 and "--rate-kind" in bad.stderr
