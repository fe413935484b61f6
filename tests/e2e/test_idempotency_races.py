"""Fifty racing copies of one request over HTTP against a real server: one effect.

- the same key and body: one refund; everyone gets its answer, or 409 in progress;
- one key, fifty different bodies: one refund; the other requests get 422;
- fifty keys, one refund_id: one refund; everyone gets the same refund.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from threading import Barrier

import httpx
import pytest

from .keyed import PRICE_MINOR, paid_payments, send, server_env
from .server import free_port, paywarden, serving

pytestmark = pytest.mark.slow
RACERS = 50


def _race(request: Callable[[int], httpx.Response]) -> list[httpx.Response]:
    start = Barrier(RACERS)

    def one(n: int) -> httpx.Response:
        start.wait(timeout=60)
        return request(n)

    with ThreadPoolExecutor(RACERS) as pool:
        return list(pool.map(one, range(RACERS)))


def test_fifty_racing_copies_of_a_keyed_refund_refund_once(database_url: str,
                                                           tmp_path: Path) -> None:
    port = free_port()
    env = server_env(database_url, tmp_path, port)
    shop, (same, varied, by_id) = paid_payments(env, database_url, tmp_path, 3)
    with serving(env, port, tmp_path / "server.log") as base:
        def refunds(pid: str) -> str:
            return f"/v1/payments/{pid}/refunds"

        body = {"amount": 1_000, "refund_id": "rf-same"}
        answers = _race(lambda n: send(base, shop, "POST", refunds(same), body, key="k-same"))
        statuses = Counter(a.status_code for a in answers)
        assert set(statuses) <= {201, 409}, [a.text for a in answers if a.status_code >= 400]
        done = [a for a in answers if a.status_code == 201]
        assert done and len({a.content for a in done}) == 1
        assert sum(a.headers.get("idempotent-replayed") != "true" for a in done) == 1
        assert {a.json()["code"] for a in answers if a.status_code == 409} <= {
            "idempotency_in_progress"}

        answers = _race(lambda n: send(base, shop, "POST", refunds(varied),
                                       {"amount": 100 + n, "refund_id": f"rf-{n}"},
                                       key="k-varied"))
        statuses = Counter(a.status_code for a in answers)
        assert statuses == {201: 1, 422: RACERS - 1}, statuses
        assert {a.json()["code"] for a in answers if a.status_code == 422} == {
            "idempotency_key_reused"}

        answers = _race(lambda n: send(base, shop, "POST", refunds(by_id),
                                       {"amount": 700, "refund_id": "rf-one"}, key=f"k-{n}"))
        statuses = Counter(a.status_code for a in answers)
        assert statuses == {201: 1, 200: RACERS - 1}, statuses
        assert len({str(a.json()["refund"]) for a in answers}) == 1

        shown = {pid: send(base, shop, "GET", f"/v1/payments/{pid}").json()
                 for pid in (same, varied, by_id)}
    assert shown[same]["refunded"] == 1_000
    winner = next(a for a in answers if a.status_code == 201)
    assert winner.json()["refunded"] == 700 and shown[by_id]["refunded"] == 700
    assert 100 <= shown[varied]["refunded"] < 100 + RACERS
    assert all(s["held"] == PRICE_MINOR - s["refunded"] for s in shown.values())
    paywarden(env, "verify")
    paywarden(env, "audit", "verify")
