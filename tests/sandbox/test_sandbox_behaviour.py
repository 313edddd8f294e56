"""Timing, determinism, profile sensitivity, failure and error injection."""

from __future__ import annotations

import time
from collections import Counter

import httpx
from sandbox_support import (
    PROFILE,
    assert_error,
    assert_rate_headers,
    client,
    submit,
    wait_for_clock,
)


def _result(http: httpx.Client, eval_id: str) -> dict:
    job = http.get(f"/api/v1/jobs/{eval_id}").json()
    assert job["status"] == "completed", job
    return {k: v for k, v in job.items() if k not in ("eval_id", "audit")}


def test_status_moves_queued_processing_completed_with_the_clock(make_sandbox) -> None:
    sb = make_sandbox(speed=20, rate_limit=100_000)
    with client(sb) as http:
        eval_id = submit(http, pool="carriers:tier1")
        job = sb.jobs()[0]
        duration = job.ready_at - job.created_at
        assert 15 / 20 <= duration <= 60 / 20
        assert abs((job.queued_until - job.created_at) - 0.1 * duration) < 1e-6
        seen = []
        while True:
            before = time.time()
            status = http.get(f"/api/v1/jobs/{eval_id}").json()["status"]
            after = time.time()
            # Whatever the scheduling, the status agrees with the clock around the request.
            allowed = {_status_at(job, before), _status_at(job, after)}
            assert status in allowed, (status, allowed)
            if not seen or seen[-1] != status:
                seen.append(status)
            if status == "completed":
                break
            time.sleep(0.01)  # poll pacing, not synchronisation
    assert seen == ["queued", "processing", "completed"][-len(seen) :]
    assert "processing" in seen  # the processing phase lasts >= 0.6 s at this speed


def _status_at(job, t: float) -> str:
    if t >= job.ready_at:
        return job.outcome
    return "queued" if t < job.queued_until else "processing"


def test_speed_divides_durations_of_the_same_input(make_sandbox) -> None:
    slow, fast = make_sandbox(speed=1), make_sandbox(speed=100)
    durations = []
    for sb in (slow, fast):
        with client(sb) as http:
            eval_id = submit(http)
            job = sb.jobs()[0]
            durations.append(job.ready_at - job.created_at)
            if sb is fast:
                before = time.time()
                status = http.get(f"/api/v1/jobs/{eval_id}").json()["status"]
                assert status in {_status_at(job, before), _status_at(job, time.time())}
                wait_for_clock(job.ready_at)
                assert http.get(f"/api/v1/jobs/{eval_id}").json()["status"] == "completed"
            else:
                assert http.get(f"/api/v1/jobs/{eval_id}").json()["status"] == "queued"
    assert 15 <= durations[0] <= 60
    assert abs(durations[0] / durations[1] - 100) < 1e-3  # timestamps are ~1e-7 s exact


def test_same_seed_same_results_other_seed_other_results(make_sandbox) -> None:
    a, b, c = (make_sandbox(speed=1e9, seed=s) for s in (7, 7, 8))
    results = []
    for sb in (a, b, c):
        with client(sb) as http:
            results.append([_result(http, submit(http, pool=p)) for p in ("carriers:all",
                            "providers:network")])  # fmt: skip
    assert results[0] == results[1]
    assert results[0] != results[2]
    names = [[x["name"] for x in r[0]["candidates"]] for r in results]
    assert names[0] == names[1] and names[0] != names[2]


def test_state_line_and_revenue_change_the_outcome(make_sandbox) -> None:
    sb = make_sandbox(speed=1e9, rate_limit=100_000)
    variants = {
        "base": PROFILE,
        "state": {**PROFILE, "state": "WY"},
        "line": {**PROFILE, "line": "cyber"},
        "revenue": {**PROFILE, "revenue": 900_000_000},
        "entity": {**PROFILE, "entity": "other-co"},
    }
    with client(sb) as http:
        out = {k: _result(http, submit(http, v)) for k, v in variants.items()}
    base = out["base"]
    for factor in ("state", "line", "revenue"):
        assert out[factor]["filtered"] != base["filtered"], factor
        top = [c["name"] for c in out[factor]["candidates"][:10]]
        assert top != [c["name"] for c in base["candidates"][:10]], factor
    # The entity name alone does not change eligibility (only small per-entity nuances).
    assert out["entity"]["filtered"] == base["filtered"]
    assert "WY" in out["state"]["candidates"][0]["reasoning"]
    assert "cyber" in out["line"]["candidates"][0]["reasoning"]


def test_missing_fields_make_a_generic_less_confident_assessment(make_sandbox) -> None:
    sb = make_sandbox(speed=1e9)
    with client(sb) as http:
        full = _result(http, submit(http, PROFILE))
        bare = _result(http, submit(http, {"entity": "acme-manufacturing"}))
    assert bare["filtered"] == 0 < full["filtered"]  # nothing to filter on
    confidence = Counter(c["confidence"] for c in bare["candidates"])
    assert set(confidence) == {"LOW"}
    assert "no revenue given" in bare["candidates"][0]["reasoning"]


def test_failure_rate_fails_that_share_of_evaluations(make_sandbox) -> None:
    sb = make_sandbox(speed=1e9, seed=3, failure_rate=0.3, rate_limit=100_000)
    n = 200
    with client(sb) as http:
        ids = [submit(http, {**PROFILE, "entity": f"company-{i}"}) for i in range(n)]
        jobs = [http.get(f"/api/v1/jobs/{i}").json() for i in ids]
    failed = [j for j in jobs if j["status"] == "failed"]
    assert {j["status"] for j in jobs} == {"completed", "failed"}
    assert 0.2 * n <= len(failed) <= 0.4 * n  # binomial(200, 0.3): +-3.1 sd
    for job in failed:
        assert job["error"]["code"] == "evaluation_failed" and job["error"]["message"]
        assert job["pool_size"] == 1847 and "filtered" in job and "candidates" not in job
    # Resubmitting a failed input rolls again (attempts are independent draws).
    retried = [j["eval_id"] for j in failed[:20]]
    records = {r.eval_id: r for r in sb.jobs()}
    with client(sb) as http:
        again = [http.post("/api/v1/jobs", json={"profile": records[e].profile,
                 "pool": "carriers:all"}).json()["eval_id"] for e in retried]  # fmt: skip
        statuses = {http.get(f"/api/v1/jobs/{e}").json()["status"] for e in again}
    assert "completed" in statuses


def test_error_rate_injects_500_and_503_without_side_effects(make_sandbox) -> None:
    sb = make_sandbox(speed=1e9, seed=5, error_rate=0.25, rate_limit=100_000)
    n = 300
    with client(sb) as http:
        responses = [
            http.post("/api/v1/jobs", json={"profile": {**PROFILE, "entity": f"c{i}"},
                      "pool": "carriers:all"})
            for i in range(n)
        ]  # fmt: skip
        health = [httpx.get(f"{sb.url}/health").status_code for _ in range(20)]
    injected = [r for r in responses if r.status_code >= 500]
    accepted = [r for r in responses if r.status_code == 202]
    assert len(injected) + len(accepted) == n
    assert 0.15 * n <= len(injected) <= 0.35 * n
    assert {r.status_code for r in injected} == {500, 503}
    for r in injected:
        code = "internal_error" if r.status_code == 500 else "service_unavailable"
        assert_error(r, r.status_code, code)
        assert_rate_headers(r)
    assert health == [200] * 20  # /health is never injected
    # No side effect: exactly the accepted POSTs created jobs, and only they were counted.
    assert sorted(j.eval_id for j in sb.jobs()) == sorted(r.json()["eval_id"] for r in accepted)
    remaining = [int(r.headers["x-ratelimit-remaining"]) for r in accepted]
    if len({r.headers["x-ratelimit-reset"] for r in responses}) == 1:
        assert remaining == list(range(100_000 - 1, 100_000 - 1 - len(accepted), -1))
    assert sb.stats()["injected_errors"] == len(injected)
