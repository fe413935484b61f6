"""Webhooks: the outbox in the caller's transaction, signed deliveries that verify with
the SDK helper, back-off and giving up on the injectable clock, resend and the log."""

from __future__ import annotations

import json
import random
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from paywarden.adapters.clock import FakeClock
from paywarden.adapters.store import Database
from paywarden.adapters.store.schema import (
    audit_entries,
    webhook_deliveries,
    webhook_endpoints,
    webhook_events,
)
from paywarden.bootstrap import Platform
from paywarden.client.webhooks import WebhookVerificationFailed, verify_webhook
from paywarden.services import webhooks
from tests.support.merchants import Creds, make_merchant, platform_for
from tests.support.webhook_receiver import Receiver, webhook_receiver

NS = 1_000_000_000
PAYLOAD = {"payment_id": "pay_0123456789abcdef", "state": "held", "amount_minor": 1999,
           "currency": "EUR"}


@pytest.fixture
def platform(database: Database, clock: FakeClock, tmp_path: Path) -> Iterator[Platform]:
    made = platform_for(database, clock, tmp_path, webhook_allow_http=True,
                        webhook_allow_private_addresses=True)
    made.keys.ensure()
    yield made


@pytest.fixture
def shop(platform: Platform) -> Creds:
    return make_merchant(platform, "Shop")


@pytest.fixture
def receiver(platform: Platform, shop: Creds) -> Iterator[Receiver]:
    with webhook_receiver() as found:
        platform.webhooks.set_endpoint(merchant_id=shop.merchant_id, url=found.url,
                              actor="test")
        yield found


def _enqueue(platform: Platform, merchant_id: str, event_type: str = "payment.held") -> str:
    with platform.database.engine.begin() as conn:
        return webhooks.enqueue(conn, merchant_id=merchant_id, event_type=event_type,
                                payload=PAYLOAD, at_ns=platform.clock.now_ns(), audit_index=7)


def _event(platform: Platform, event_id: str) -> webhooks.Event:
    with platform.database.engine.connect() as conn:
        found = webhooks.get(conn, event_id)
    assert found is not None
    return found


def _deliver(platform: Platform) -> webhooks.Report:
    return platform.webhooks.deliver_due(10, rng=random.Random(5))


def _verify(platform: Platform, receiver: Receiver, index: int = -1, *,
            body: bytes | None = None, url: str | None = None) -> dict[str, object]:
    got = receiver.received[index]
    return verify_webhook(got.method, url or receiver.url, got.headers,
                          got.body if body is None else body, platform.keys.jwks(),
                          now_s=platform.clock.now_ns() / NS)


def _actions(platform: Platform, action: str) -> int:
    with platform.database.engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(audit_entries)
                                .where(audit_entries.c.action == action)).scalar_one())


def test_an_event_rolled_back_with_its_state_change_leaves_nothing(platform: Platform,
                                                                   shop: Creds) -> None:
    with pytest.raises(RuntimeError), platform.database.engine.begin() as conn:
        webhooks.enqueue(conn, merchant_id=shop.merchant_id, event_type="payment.held",
                         payload=PAYLOAD, at_ns=platform.clock.now_ns(), audit_index=1)
        raise RuntimeError("the state change failed")
    with platform.database.engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(webhook_events)).scalar_one() == 0
    event_id = _enqueue(platform, shop.merchant_id)
    assert event_id.startswith("evt_")
    event = _event(platform, event_id)
    assert event.state == webhooks.PENDING and json.loads(event.payload) == PAYLOAD
    assert event.payload == webhooks.canonical_json(PAYLOAD)


def test_a_delivery_is_signed_and_verifies_with_the_sdk_helper(platform: Platform, shop: Creds,
                                                               receiver: Receiver) -> None:
    event_id = _enqueue(platform, shop.merchant_id)
    report = _deliver(platform)
    assert (report.attempted, report.delivered) == (1, 1)
    assert len(receiver.received) == 1
    got = receiver.received[0]
    fields = {name.lower(): value for name, value in got.headers}
    assert fields["webhook-id"] == event_id
    assert fields["webhook-timestamp"] == str(platform.clock.now_ns() // NS)
    assert 'tag="paywarden-webhook"' in fields["signature-input"]
    assert f'keyid="{platform.keys.signer("webhooks").key_id}"' in fields["signature-input"]
    event = _verify(platform, receiver)
    assert event["id"] == event_id and event["type"] == "payment.held"
    assert event["data"] == PAYLOAD and event["audit_index"] == 7
    found = _event(platform, event_id)
    assert found.state == webhooks.DELIVERED and found.attempts == 1
    assert found.deliveries[0].status_code == 200 and found.deliveries[0].error is None
    assert _actions(platform, "webhook.delivered") == 1
    assert _deliver(platform).attempted == 0  # delivered once


def test_a_webhook_altered_in_transit_fails_verification(platform: Platform, shop: Creds,
                                                          receiver: Receiver) -> None:
    _enqueue(platform, shop.merchant_id)
    _deliver(platform)
    got = receiver.received[0]
    altered = got.body.replace(b'"amount_minor":1999', b'"amount_minor":9999')
    assert altered != got.body
    with pytest.raises(WebhookVerificationFailed) as caught:
        _verify(platform, receiver, body=altered)
    assert caught.value.code == "digest_mismatch"
    with pytest.raises(WebhookVerificationFailed) as caught:  # to another endpoint
        _verify(platform, receiver, url=receiver.url + "/other")
    assert caught.value.code == "signature_invalid"
    with pytest.raises(WebhookVerificationFailed) as caught:  # a replay an hour later
        verify_webhook("POST", receiver.url, got.headers, got.body, platform.keys.jwks(),
                       now_s=platform.clock.now_ns() / NS + 3600)
    assert caught.value.code == "timestamp_stale"
    with pytest.raises(WebhookVerificationFailed) as caught:  # signed by someone else
        verify_webhook("POST", receiver.url, got.headers, got.body, {"keys": []},
                       now_s=platform.clock.now_ns() / NS)
    assert caught.value.code == "key_unknown"


def test_a_failing_endpoint_is_retried_with_back_off_until_it_answers(
        platform: Platform, shop: Creds, receiver: Receiver, clock: FakeClock) -> None:
    receiver.statuses[:] = [500, 503]
    event_id = _enqueue(platform, shop.merchant_id)
    base_ns = int(platform.settings.webhook_backoff_base_s * NS)
    delays = []
    for attempt in (1, 2):
        now = clock.now_ns()
        assert _deliver(platform).attempted == 1
        event = _event(platform, event_id)
        assert event.state == webhooks.PENDING and event.attempts == attempt
        assert event.next_attempt_at is not None
        delay = event.next_attempt_at - now
        ceiling = base_ns * 2 ** (attempt - 1)
        assert ceiling // 2 <= delay <= ceiling  # exponential, with jitter
        delays.append(delay)
        assert _deliver(platform).attempted == 0  # not yet due
        clock.advance(ns=delay)
    assert _deliver(platform).delivered == 1
    event = _event(platform, event_id)
    assert event.state == webhooks.DELIVERED and event.attempts == 3
    assert [d.status_code for d in event.deliveries] == [500, 503, 200]
    assert [d.state for d in event.deliveries] == ["pending", "pending", "delivered"]
    assert delays[1] > delays[0] // 2
    assert len({json.dumps(r.body.decode()) for r in receiver.received}) == 1  # the same event


def test_delivery_gives_up_after_the_retry_horizon(platform: Platform, shop: Creds,
                                                   receiver: Receiver,
                                                   clock: FakeClock) -> None:
    receiver.statuses[:] = [500] * 1000
    created = clock.now_ns()
    event_id = _enqueue(platform, shop.merchant_id)
    horizon_ns = platform.settings.webhook_retry_horizon_s * NS
    for _ in range(100):
        _deliver(platform)
        event = _event(platform, event_id)
        if event.state != webhooks.PENDING:
            break
        assert event.next_attempt_at is not None
        assert event.next_attempt_at <= created + horizon_ns
        clock.advance(ns=event.next_attempt_at - clock.now_ns())
    assert event.state == webhooks.FAILED and event.next_attempt_at is None
    assert 10 <= event.attempts <= 40 and len(receiver.received) == event.attempts
    assert clock.now_ns() - created > horizon_ns - platform.settings.webhook_backoff_max_s * NS
    assert _actions(platform, "webhook.failed") == 1
    assert _deliver(platform).attempted == 0


def test_a_redirect_is_not_followed_and_counts_as_a_failure(platform: Platform, shop: Creds,
                                                            receiver: Receiver) -> None:
    receiver.statuses[:] = [302]
    event_id = _enqueue(platform, shop.merchant_id)
    _deliver(platform)
    event = _event(platform, event_id)
    assert len(receiver.received) == 1 and event.state == webhooks.PENDING
    assert event.deliveries[0].status_code == 302
    assert event.deliveries[0].error == "redirect_refused"


def test_without_an_endpoint_the_attempt_is_logged_and_retried(platform: Platform,
                                                               shop: Creds) -> None:
    event_id = _enqueue(platform, shop.merchant_id)
    assert _deliver(platform).attempted == 1
    event = _event(platform, event_id)
    assert event.state == webhooks.PENDING and event.deliveries[0].error == "no_endpoint"


def test_an_unreachable_endpoint_is_logged_without_its_address(platform: Platform,
                                                               shop: Creds) -> None:
    platform.webhooks.set_endpoint(merchant_id=shop.merchant_id,
                          url="http://127.0.0.1:9/secret-token-path", actor="test")
    event_id = _enqueue(platform, shop.merchant_id)
    _deliver(platform)
    delivery = _event(platform, event_id).deliveries[0]
    assert delivery.error in {"connection_failed", "timeout"} and delivery.status_code is None


def test_a_failed_event_is_delivered_again_on_resend(platform: Platform, shop: Creds,
                                                     receiver: Receiver,
                                                     clock: FakeClock) -> None:
    receiver.statuses[:] = [500]
    event_id = _enqueue(platform, shop.merchant_id)
    _deliver(platform)
    with platform.database.engine.begin() as conn:  # as if the horizon had passed
        conn.execute(webhook_events.update().values(state=webhooks.FAILED,
                                                    next_attempt_at=None))
    clock.advance(10 * 24 * 3600)
    assert _deliver(platform).attempted == 0
    with pytest.raises(webhooks.WebhookRefused), platform.database.engine.begin() as conn:
        webhooks.resend(conn, merchant_id="mer_0000000000000000", event_id=event_id,
                        at_ns=clock.now_ns(), actor="test")
    with platform.database.engine.begin() as conn:
        resent = webhooks.resend(conn, merchant_id=shop.merchant_id, event_id=event_id,
                                 at_ns=clock.now_ns(), actor="test")
    assert resent.state == webhooks.PENDING
    assert _deliver(platform).delivered == 1
    assert _event(platform, event_id).attempts == 2
    assert _actions(platform, "webhook.resend") == 1
    _verify(platform, receiver)  # signed afresh: a fresh timestamp


def test_the_endpoint_url_is_sealed_at_rest(platform: Platform, shop: Creds) -> None:
    url = "http://127.0.0.1:8443/hooks?token=s3cr3t-value"
    platform.webhooks.set_endpoint(merchant_id=shop.merchant_id, url=url, actor="test")
    with platform.database.engine.connect() as conn:
        raw = conn.execute(select(webhook_endpoints.c.url_sealed)).scalar_one()
        assert b"s3cr3t-value" not in raw
        found = webhooks.get_endpoint(conn, platform.keys, shop.merchant_id)
    assert found is not None and found.url == url


def test_every_attempt_is_logged(platform: Platform, shop: Creds, receiver: Receiver,
                                 clock: FakeClock) -> None:
    receiver.statuses[:] = [500]
    event_id = _enqueue(platform, shop.merchant_id)
    _deliver(platform)
    clock.advance(3600)
    _deliver(platform)
    with platform.database.engine.connect() as conn:
        rows = conn.execute(select(webhook_deliveries)
                            .where(webhook_deliveries.c.event_id == event_id)
                            .order_by(webhook_deliveries.c.attempt)).all()
    assert [(r.attempt, r.status_code, r.state) for r in rows] == [
        (1, 500, "pending"), (2, 200, "delivered")]
    assert all(r.duration_ms >= 0 for r in rows)


class _Resolver:
    """getaddrinfo that answers for one name: first ``answers[0]``, then ``answers[1]``, …"""

    def __init__(self, name: str, answers: list[str]) -> None:
        self.name, self.answers, self.calls = name, answers, 0
        self.real = socket.getaddrinfo

    def __call__(self, host: Any, port: Any, *args: Any, **kwargs: Any) -> Any:
        if host != self.name:
            return self.real(host, port, *args, **kwargs)
        address = self.answers[min(self.calls, len(self.answers) - 1)]
        self.calls += 1
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (address, port))]


def _strict(database: Database, clock: FakeClock, tmp_path: Path) -> Platform:
    made = platform_for(database, clock, tmp_path, webhook_allow_http=True,
                        webhook_timeout_s=0.5)
    made.keys.ensure()
    return made


def test_a_name_that_resolves_to_an_internal_address_is_not_posted_to(
        database: Database, clock: FakeClock, tmp_path: Path, shop: Creds,
        receiver: Receiver, monkeypatch: pytest.MonkeyPatch) -> None:
    strict = _strict(database, clock, tmp_path)
    port = int(receiver.url.split(":")[2].split("/")[0])
    monkeypatch.setattr(socket, "getaddrinfo", _Resolver("hooks.shop.example", ["127.0.0.1"]))
    strict.webhooks.set_endpoint(merchant_id=shop.merchant_id,
                          url=f"http://hooks.shop.example:{port}/hooks/paywarden", actor="test")
    event_id = _enqueue(strict, shop.merchant_id)
    _deliver(strict)
    assert receiver.received == []
    assert _event(strict, event_id).deliveries[0].error == "url_address_refused"


def test_the_connection_goes_to_the_address_that_was_checked(
        database: Database, clock: FakeClock, tmp_path: Path, shop: Creds,
        receiver: Receiver, monkeypatch: pytest.MonkeyPatch) -> None:
    """DNS rebinding: a public answer for the check, an internal one a moment later."""
    strict = _strict(database, clock, tmp_path)
    port = int(receiver.url.split(":")[2].split("/")[0])
    resolver = _Resolver("hooks.shop.example", ["93.184.215.14", "127.0.0.1"])
    monkeypatch.setattr(socket, "getaddrinfo", resolver)
    strict.webhooks.set_endpoint(merchant_id=shop.merchant_id,
                          url=f"http://hooks.shop.example:{port}/hooks/paywarden", actor="test")
    event_id = _enqueue(strict, shop.merchant_id)
    _deliver(strict)
    assert resolver.calls == 1 and receiver.received == []
    assert _event(strict, event_id).deliveries[0].error in {"connection_failed", "timeout"}


def test_the_dispatcher_thread_delivers_a_batch_and_runs_one_batch_at_a_time(
        platform: Platform, shop: Creds, receiver: Receiver) -> None:
    event_id = _enqueue(platform, shop.merchant_id)
    dispatcher = webhooks.Dispatcher(platform.webhooks.deliver_due, limit=10)
    assert dispatcher.kick() is True
    dispatcher.join(30)
    assert _event(platform, event_id).state == webhooks.DELIVERED
    assert len(receiver.received) == 1
    assert "webhooks.deliver" in [chore.name for chore in platform.chores()]
