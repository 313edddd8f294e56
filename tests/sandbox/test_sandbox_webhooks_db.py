"""Webhook delivery to a local receiver, and jobs surviving a restart with ``db``."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from sandbox_support import PROFILE, client, submit, wait_until

from nexio_lab.sandbox import run


class Receiver:
    """A webhook receiver on loopback that fails its first ``failures`` deliveries."""

    def __init__(self, failures: int = 0) -> None:
        self.failures = failures
        self.deliveries: list[tuple[dict, dict]] = []
        self.received = threading.Condition()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                with receiver.received:
                    receiver.deliveries.append((json.loads(body), dict(self.headers)))
                    fail = len(receiver.deliveries) <= receiver.failures
                    receiver.received.notify_all()
                self.send_response(500 if fail else 204)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/hooks/nexio"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def wait_for(self, count: int, timeout: float = 10.0) -> list[tuple[dict, dict]]:
        with self.received:
            assert self.received.wait_for(lambda: len(self.deliveries) >= count, timeout)
            return list(self.deliveries)

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver()
    yield r
    r.close()


def test_webhook_gets_the_final_body_once_done(make_sandbox, receiver: Receiver) -> None:
    sb = make_sandbox(speed=1000)
    with client(sb) as http:
        eval_id = submit(http, webhook_url=receiver.url)
        (delivery,) = receiver.wait_for(1)
        body, headers = delivery
        assert body == http.get(f"/api/v1/jobs/{eval_id}").json()
    assert body["eval_id"] == eval_id and body["status"] == "completed"
    assert headers["Content-Type"] == "application/json"
    assert headers["X-Nexio-Eval-Id"] == eval_id
    wait_until(lambda: sb.stats()["webhooks_delivered"] == 1, what="delivery counted")
    assert sb.jobs()[0].webhook_url == receiver.url


def test_failed_deliveries_are_retried_and_dedupable_by_eval_id(make_sandbox) -> None:
    receiver = Receiver(failures=2)
    try:
        sb = make_sandbox(speed=1e9, failure_rate=1.0)
        with client(sb) as http:
            eval_id = submit(http, webhook_url=receiver.url)
        deliveries = receiver.wait_for(3)
        wait_until(lambda: sb.stats()["webhooks_delivered"] == 1, what="delivery counted")
    finally:
        receiver.close()
    assert len(deliveries) == 3
    assert {d[0]["eval_id"] for d in deliveries} == {eval_id}  # the same body, resent
    assert deliveries[0][0] == deliveries[-1][0]
    assert deliveries[-1][0]["status"] == "failed" and "error" in deliveries[-1][0]
    assert [d[1]["X-Nexio-Delivery-Attempt"] for d in deliveries] == ["1", "2", "3"]
    stats = sb.stats()
    assert (stats["webhook_attempts"], stats["webhooks_failed"]) == (3, 0)


def test_jobs_survive_a_restart_with_db(tmp_path) -> None:
    db = tmp_path / "jobs.sqlite"
    with run(speed=1e9, db=db, failure_rate=0.5, seed=2) as first, client(first) as http:
        ids = [submit(http, {**PROFILE, "entity": f"co-{i}"}) for i in range(6)]
        bodies = {i: http.get(f"/api/v1/jobs/{i}").json() for i in ids}
        slow_id = http.post("/api/v1/jobs", json={"profile": PROFILE, "pool": "carriers:tier1"})
    slow_id = slow_id.json()["eval_id"]
    assert db.exists()
    # A different seed and speed: old jobs keep theirs, they are facts now.
    with run(speed=1, db=db, seed=9) as second, client(second) as http:
        assert {i: http.get(f"/api/v1/jobs/{i}").json() for i in ids} == bodies
        assert http.get(f"/api/v1/jobs/{slow_id}").json()["status"] in ("completed", "failed")
        assert {j.eval_id for j in second.jobs()} == {*ids, slow_id}
        new = submit(http)
        assert http.get(f"/api/v1/jobs/{new}").json()["status"] == "queued"
        assert "failed" in {b["status"] for b in bodies.values()}
    with run(db=db) as third:
        assert len(third.jobs()) == 8


def test_without_db_jobs_are_forgotten(make_sandbox) -> None:
    first = make_sandbox(speed=1e9)
    with client(first) as http:
        eval_id = submit(http)
    first.stop()
    second = make_sandbox(speed=1e9)
    with client(second) as http:
        assert http.get(f"/api/v1/jobs/{eval_id}").status_code == 404
