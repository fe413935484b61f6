"""The merchant's webhook API: set the endpoint (URL rules), read the delivery log page
by page, resend; signed requests only, and another merchant's events are invisible."""

from __future__ import annotations

import json
import random
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from paywarden.adapters.clock import FakeClock
from paywarden.adapters.store import Database
from paywarden.api import create_app
from paywarden.client.webhooks import verify_webhook
from paywarden.services import webhooks
from tests.support.merchants import (
    Creds,
    client_for,
    code_of,
    make_merchant,
    platform_for,
    signed,
)
from tests.support.platform import platform_of
from tests.support.webhook_receiver import webhook_receiver

ENDPOINT = "/v1/merchants/me/webhook-endpoint"
EVENTS = "/v1/merchants/me/webhook-events"


def _api(database: Database, clock: FakeClock, tmp_path: Path,
         **settings: Any) -> Iterator[TestClient]:
    platform = platform_for(database, clock, tmp_path, **settings)
    with client_for(create_app(platform)) as client:
        yield client


@pytest.fixture
def api(database: Database, clock: FakeClock, tmp_path: Path) -> Iterator[TestClient]:
    yield from _api(database, clock, tmp_path, webhook_allow_http=True,
                    webhook_allow_private_addresses=True)


@pytest.fixture
def shop(api: TestClient) -> Creds:
    return make_merchant(platform_of(api), "Shop")


def _put(api: TestClient, creds: Creds, url: str) -> Any:
    return signed(api, creds, "PUT", ENDPOINT, json.dumps({"url": url}).encode())


def _enqueue(api: TestClient, merchant_id: str, n: int) -> list[str]:
    platform = platform_of(api)
    made = []
    for i in range(n):
        with platform.database.engine.begin() as conn:
            made.append(webhooks.enqueue(conn, merchant_id=merchant_id, event_type="payment.held",
                                         payload={"payment_id": f"pay_{i:016x}"},
                                         at_ns=platform.clock.now_ns(), audit_index=i))
        platform.clock.advance(1)  # type: ignore[attr-defined]
    return made


def test_a_merchant_sets_and_reads_its_endpoint(api: TestClient, shop: Creds) -> None:
    answer = _put(api, shop, "https://shop.example/hooks")
    assert answer.status_code == 200, answer.text
    assert answer.json()["url"] == "https://shop.example/hooks"
    assert answer.json()["status"] == "active"
    assert _put(api, shop, "https://shop.example/v2/hooks").status_code == 200
    read = signed(api, shop, "GET", ENDPOINT)
    assert read.json()["url"] == "https://shop.example/v2/hooks"


def test_an_unsigned_request_is_refused(api: TestClient) -> None:
    assert api.put(ENDPOINT, json={"url": "https://shop.example/h"}).status_code == 401
    assert api.get(EVENTS).status_code == 401


@pytest.mark.parametrize(("url", "code"), [
    ("ftp://shop.example/h", "url_scheme_refused"),
    ("https://user:pw@shop.example/h", "url_invalid"),
    ("https://shop.example/h#frag", "url_invalid"),
    ("https:///nohost", "url_invalid"),
    ("https://shop.example:99999/h", "url_invalid"),
    ("https://shop .example/h", "url_invalid"),
])
def test_a_malformed_endpoint_url_is_refused(api: TestClient, shop: Creds, url: str,
                                             code: str) -> None:
    answer = _put(api, shop, url)
    assert answer.status_code == 422 and code_of(answer) == code


def test_plain_http_and_internal_addresses_are_refused_by_default(
        database: Database, clock: FakeClock, tmp_path: Path) -> None:
    for client in _api(database, clock, tmp_path):
        shop = make_merchant(platform_of(client), "Shop")
        refused = {url: code_of(_put(client, shop, url)) for url in (
            "http://shop.example/h", "https://127.0.0.1/h", "https://10.1.2.3/h",
            "https://169.254.169.254/latest", "https://[::1]/h", "https://localhost/h")}
        assert refused == {"http://shop.example/h": "url_scheme_refused",
                           **{url: "url_address_refused" for url in list(refused)[1:]}}
        assert _put(client, shop, "https://203.0.113.7/h").status_code == 422
        assert _put(client, shop, "https://shop.example/h").status_code == 200


@pytest.mark.parametrize("host", ["2130706433", "0x7f000001", "127.1", "0177.0.0.1"])
def test_a_shorthand_ipv4_endpoint_is_refused_at_registration_and_the_old_one_kept(
        api: TestClient, shop: Creds, host: str) -> None:
    assert _put(api, shop, "https://shop.example/hooks").status_code == 200
    answer = _put(api, shop, f"https://{host}/hooks")
    assert answer.status_code == 422 and code_of(answer) == "url_host_not_canonical"
    assert signed(api, shop, "GET", ENDPOINT).json()["url"] == "https://shop.example/hooks"


def test_the_delivery_log_is_cursor_paginated_newest_first(api: TestClient,
                                                           shop: Creds) -> None:
    made = _enqueue(api, shop.merchant_id, 5)
    seen: list[str] = []
    cursor = None
    for _ in range(5):
        path = f"{EVENTS}?limit=2" + (f"&cursor={cursor}" if cursor else "")
        page = signed(api, shop, "GET", path).json()
        seen += [event["id"] for event in page["data"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == list(reversed(made))
    first = signed(api, shop, "GET", f"{EVENTS}?limit=1").json()["data"][0]
    assert first["state"] == "pending" and first["attempts"] == 0
    assert first["data"] == {"payment_id": "pay_0000000000000004"}
    assert first["deliveries"] == []


def test_resend_delivers_again_and_shows_in_the_log(api: TestClient, shop: Creds) -> None:
    platform = platform_of(api)
    with webhook_receiver() as receiver:
        assert _put(api, shop, receiver.url).status_code == 200
        (event_id,) = _enqueue(api, shop.merchant_id, 1)
        platform.webhooks.deliver_due(10, rng=random.Random(1))
        answer = signed(api, shop, "POST", f"{EVENTS}/{event_id}/resend")
        assert answer.status_code == 202, answer.text
        assert answer.json()["state"] == "pending"
        platform.webhooks.deliver_due(10, rng=random.Random(1))
        assert len(receiver.received) == 2
    event = signed(api, shop, "GET", EVENTS).json()["data"][0]
    assert event["state"] == "delivered" and event["attempts"] == 2
    assert [d["status_code"] for d in event["deliveries"]] == [200, 200]


def test_another_merchants_event_is_invisible(api: TestClient, shop: Creds) -> None:
    other = make_merchant(platform_of(api), "Other")
    (event_id,) = _enqueue(api, other.merchant_id, 1)
    assert signed(api, shop, "GET", EVENTS).json()["data"] == []
    answer = signed(api, shop, "POST", f"{EVENTS}/{event_id}/resend")
    assert answer.status_code == 404 and code_of(answer) == "not_found"
    missing = signed(api, shop, "POST", f"{EVENTS}/evt_{'0' * 24}/resend")
    assert missing.status_code == 404


def test_a_test_event_is_delivered_signed_like_any_other_and_shows_in_the_log(
        api: TestClient, shop: Creds) -> None:
    platform = platform_of(api)
    with webhook_receiver() as receiver:
        assert _put(api, shop, receiver.url).status_code == 200
        answer = signed(api, shop, "POST", f"{EVENTS}/test")
        assert answer.status_code == 202, answer.text
        queued = answer.json()
        assert queued["type"] == "test.ping" and queued["state"] == "pending"
        assert queued["data"] == {"merchant_id": shop.merchant_id, "test": True}
        assert queued["audit_index"] is not None
        platform.webhooks.deliver_due(10, rng=random.Random(1))
        (got,) = receiver.received
        event = verify_webhook(got.method, receiver.url, got.headers, got.body,
                               platform.keys.jwks(), now_s=platform.clock.now_ns() / 1e9)
    assert event["id"] == queued["id"] and event["type"] == "test.ping"
    assert event["data"]["test"] is True
    logged = signed(api, shop, "GET", EVENTS).json()["data"][0]
    assert logged["id"] == queued["id"] and logged["state"] == "delivered"
    assert [d["status_code"] for d in logged["deliveries"]] == [200]


def test_a_test_event_without_an_endpoint_is_refused_and_queues_nothing(
        api: TestClient, shop: Creds) -> None:
    answer = signed(api, shop, "POST", f"{EVENTS}/test")
    assert answer.status_code == 422 and code_of(answer) == "no_endpoint"
    assert signed(api, shop, "GET", EVENTS).json()["data"] == []


def test_a_test_event_goes_only_to_the_callers_own_endpoint(api: TestClient,
                                                             shop: Creds) -> None:
    other = make_merchant(platform_of(api), "Other")
    with webhook_receiver() as receiver:
        assert _put(api, other, receiver.url).status_code == 200
        answer = signed(api, shop, "POST", f"{EVENTS}/test")
        assert answer.status_code == 422 and code_of(answer) == "no_endpoint"
        platform_of(api).webhooks.deliver_due(10, rng=random.Random(1))
        assert receiver.received == []
    assert signed(api, other, "GET", EVENTS).json()["data"] == []
