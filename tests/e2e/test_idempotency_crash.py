"""SIGKILL a real server at every step of a keyed refund and of a keyed checkout, then retry
on another server process: each request has exactly one effect, and its retries get the
answer that committed. ``paywarden verify`` and ``paywarden audit verify`` pass after.

The server kills itself at a named crash point (``PAYWARDEN_CRASH_AT``):

    idempotency.before_effect    the key claimed, the route not run
    idempotency.before_commit    the answer recorded, the transaction not committed
    idempotency.after_effect     committed, the route not returned
    idempotency.before_response  the answer stored, nothing sent
"""

from __future__ import annotations

import signal
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from paywarden.adapters.store import open_database
from paywarden.adapters.store.schema import checkout_sessions, payment_refunds
from paywarden.services.ledger.accounts import AccountRef
from paywarden.services.ledger.queries import LedgerQueries

from .keyed import (
    BUYER,
    EUR,
    ORDER,
    PRICE_MINOR,
    paid_payments,
    send,
    send_until_done,
    server_env,
)
from .server import free_port, paywarden, serving, spawn

pytestmark = pytest.mark.slow
REFUND_MINOR = 3_000
POINTS = ("idempotency.before_effect", "idempotency.before_commit",
          "idempotency.after_effect", "idempotency.before_response")
COMMITTED = frozenset({"idempotency.after_effect", "idempotency.before_response"})


def _killed_at(point: str, database_url: str, data_dir: Path, request: Any) -> None:
    """Start a server that SIGKILLs itself at ``point``; send it ``request``; see it die."""
    port = free_port()
    proc, base = spawn(server_env(database_url, data_dir, port, PAYWARDEN_CRASH_AT=point),
                       port, data_dir / f"{point}.log")
    try:
        with pytest.raises(httpx.TransportError):
            request(base)
        assert proc.wait(timeout=30) == -signal.SIGKILL
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=30)


def _session(body: dict[str, Any]) -> tuple[Any, ...]:
    """A session as answered; its URL's origin is the answering server's public URL."""
    return body["id"], body["payment_id"], body["expires_at"], body["url"].rsplit("/", 2)[-2:]


def _verify(env: dict[str, str]) -> None:
    paywarden(env, "verify")
    paywarden(env, "audit", "verify")


def test_a_refund_killed_at_any_step_and_retried_is_applied_once(
        database_url: str, tmp_path: Path) -> None:
    port = free_port()
    env = server_env(database_url, tmp_path, port)
    shop, paid = paid_payments(env, database_url, tmp_path, len(POINTS))
    refund = {"amount": REFUND_MINOR, "refund_id": "rf-1"}
    for point, pid in zip(POINTS, paid, strict=True):
        _killed_at(point, database_url, tmp_path, lambda base, pid=pid, point=point: send(
            base, shop, "POST", f"/v1/payments/{pid}/refunds", refund, key=f"key-{point}"))
        _verify(env)
    with serving(env, port, tmp_path / "server.log") as base:
        for point, pid in zip(POINTS, paid, strict=True):
            path = f"/v1/payments/{pid}/refunds"
            first = send_until_done(base, shop, path, refund, key=f"key-{point}")
            assert first.status_code == 201, (point, first.text)
            replayed = first.headers.get("idempotent-replayed") == "true"
            assert replayed == (point in COMMITTED), point
            assert first.json()["refund"]["id"] == "rf-1"
            assert (first.json()["refunded"], first.json()["held"]) == (
                REFUND_MINOR, PRICE_MINOR - REFUND_MINOR)
            again = send(base, shop, "POST", path, refund, key=f"key-{point}")
            assert again.headers["idempotent-replayed"] == "true"
            assert again.content == first.content
            by_id = send(base, shop, "POST", path, refund, key=f"other-{point}")
            assert by_id.status_code == 200 and by_id.json()["refund"] == first.json()["refund"]
            other = send(base, shop, "POST", path, {**refund, "amount": 1}, key=f"x-{point}")
            assert other.status_code == 409 and other.json()["code"] == "refund_id_reused"
            shown = send(base, shop, "GET", f"/v1/payments/{pid}")
            assert shown.json()["refunded"] == REFUND_MINOR
    database = open_database(database_url)
    try:
        with database.engine.connect() as conn:
            refunds = conn.execute(select(func.count()).select_from(payment_refunds)
                                   ).scalar_one()
        wallet = LedgerQueries(database).account(AccountRef("wallet", BUYER, EUR).id,
                                                 now_ns=0)
    finally:
        database.dispose()
    assert refunds == len(POINTS)
    assert wallet is not None
    assert wallet.balances.credits_posted - wallet.balances.debits_posted == \
        REFUND_MINOR * len(POINTS)
    _verify(env)


def test_a_checkout_killed_at_any_step_and_retried_is_created_once(
        database_url: str, tmp_path: Path) -> None:
    port = free_port()
    env = server_env(database_url, tmp_path, port)
    shop, _ = paid_payments(env, database_url, tmp_path, 0)
    points = ("idempotency.before_commit", "idempotency.after_effect")
    for point in points:
        order = {**ORDER, "order_ref": f"order-{point}"}
        _killed_at(point, database_url, tmp_path, lambda base, order=order, point=point: send(
            base, shop, "POST", "/v1/checkout/sessions", order, key=f"key-{point}"))
    with serving(env, port, tmp_path / "server.log") as base:
        for point in points:
            order = {**ORDER, "order_ref": f"order-{point}"}
            first = send_until_done(base, shop, "/v1/checkout/sessions", order,
                                    key=f"key-{point}")
            assert first.status_code == 201, (point, first.text)
            assert (first.headers.get("idempotent-replayed") == "true") == (point in COMMITTED)
            by_ref = send(base, shop, "POST", "/v1/checkout/sessions", order, key=f"o-{point}")
            assert by_ref.status_code == 200, by_ref.text
            assert _session(by_ref.json()) == _session(first.json())
            changed = send(base, shop, "POST", "/v1/checkout/sessions",
                           {**order, "return_url": "https://shop.example/other"},
                           key=f"c-{point}")
            assert changed.status_code == 409
            assert changed.json()["code"] == "checkout_order_ref_reused"
    database = open_database(database_url)
    try:
        with database.engine.connect() as conn:
            sessions = conn.execute(select(func.count()).select_from(checkout_sessions)
                                    ).scalar_one()
    finally:
        database.dispose()
    assert sessions == len(points)
    _verify(env)
