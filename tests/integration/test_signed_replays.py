"""Signed requests through the API when nonces are claimed in batches: a replay is refused
by another platform on the same database and after a restart; a revocation made elsewhere
takes effect at once; a nonce that cannot be recorded refuses the request (503)."""

from __future__ import annotations

import json
import threading
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text

from paywarden.adapters.clock import FakeClock
from paywarden.adapters.store import Database, open_database
from paywarden.api import create_app
from tests.support.merchants import (
    Creds,
    api_client,
    client_for,
    code_of,
    make_merchant,
    new_key,
    now_s,
    platform_for,
    platform_of,
    public_pem,
    signature_headers,
    signed,
)

ME = "/v1/merchants/me"


@pytest.fixture
def api(database: Database, clock: FakeClock, tmp_path: Path) -> Iterator[TestClient]:
    with api_client(database, clock, tmp_path) as client:
        yield client


@pytest.fixture
def shop(api: TestClient) -> Creds:
    return make_merchant(platform_of(api), "Shop")


@contextmanager
def _another_platform(database: Database, clock: FakeClock,
                      tmp_path: Path) -> Iterator[TestClient]:
    """A second platform on the same database and keys, through its own connections."""
    own = open_database(database.url)
    try:
        with client_for(create_app(platform_for(own, clock, tmp_path))) as client:
            yield client
    finally:
        own.dispose()


def test_a_request_accepted_by_one_platform_is_a_replay_for_another_on_the_same_database(
        api: TestClient, shop: Creds, database: Database, clock: FakeClock,
        tmp_path: Path) -> None:
    headers = signature_headers(shop, "GET", ME, created_s=now_s(platform_of(api)))
    assert api.get(ME, headers=headers).status_code == 200
    with _another_platform(database, clock, tmp_path) as other:
        refused = other.get(ME, headers=headers)
        assert refused.status_code == 401 and code_of(refused) == "signature_replayed"
        assert signed(other, shop, "GET", ME).status_code == 200


def test_a_request_accepted_before_a_restart_is_a_replay_after_it(
        database: Database, clock: FakeClock, tmp_path: Path) -> None:
    with api_client(database, clock, tmp_path) as before:
        shop = make_merchant(platform_of(before))
        headers = signature_headers(shop, "GET", ME, created_s=now_s(platform_of(before)))
        assert before.get(ME, headers=headers).status_code == 200
    with _another_platform(database, clock, tmp_path) as after:
        refused = after.get(ME, headers=headers)
        assert refused.status_code == 401 and code_of(refused) == "signature_replayed"


def test_a_key_revoked_on_another_platform_is_refused_at_once_though_this_one_knows_it(
        api: TestClient, shop: Creds, database: Database, clock: FakeClock,
        tmp_path: Path) -> None:
    assert signed(api, shop, "GET", ME).status_code == 200  # the key is now known here
    with _another_platform(database, clock, tmp_path) as other:
        platform = platform_of(other)
        platform.merchants.add_key(shop.merchant_id, new_key().public_key().public_bytes_raw(),
                                   actor="cli:test")
        platform.merchants.revoke_key(shop.merchant_id, shop.key_id, actor="cli:test")
    refused = signed(api, shop, "GET", ME)
    assert refused.status_code == 401 and code_of(refused) == "key_revoked"


def test_a_merchant_suspended_on_another_platform_is_refused_at_once(
        api: TestClient, shop: Creds, database: Database, clock: FakeClock,
        tmp_path: Path) -> None:
    assert signed(api, shop, "GET", ME).status_code == 200
    with _another_platform(database, clock, tmp_path) as other:
        platform_of(other).merchants.set_status(shop.merchant_id, "suspended", actor="cli:test")
        refused = signed(api, shop, "GET", ME)
        assert refused.status_code == 403 and code_of(refused) == "merchant_suspended"
        platform_of(other).merchants.set_status(shop.merchant_id, "active", actor="cli:test")
    assert signed(api, shop, "GET", ME).status_code == 200


def test_a_request_whose_nonce_cannot_be_recorded_is_refused_and_changes_nothing(
        api: TestClient, shop: Creds, database: Database) -> None:
    with database.engine.begin() as conn:
        conn.execute(text("ALTER TABLE request_nonces RENAME TO request_nonces_away"))
    r = signed(api, shop, "GET", ME)
    assert r.status_code == 503 and code_of(r) == "replay_check_unavailable"
    assert r.headers["retry-after"] == "1"
    body = json.dumps({"public_key": public_pem(new_key()).decode()}).encode()
    r = signed(api, shop, "POST", f"{ME}/keys", body)
    assert r.status_code == 503 and code_of(r) == "replay_check_unavailable"
    merchant = platform_of(api).merchants.get(shop.merchant_id)
    assert merchant is not None and len(merchant.keys) == 1
    with database.engine.begin() as conn:
        conn.execute(text("ALTER TABLE request_nonces_away RENAME TO request_nonces"))
    assert signed(api, shop, "POST", f"{ME}/keys", body).status_code == 201


def test_one_signed_request_sent_many_times_at_once_is_accepted_once(
        api: TestClient, shop: Creds) -> None:
    headers = signature_headers(shop, "GET", ME, created_s=now_s(platform_of(api)))
    statuses: Counter[tuple[int, str]] = Counter()
    lock = threading.Lock()

    def send() -> None:
        r = api.get(ME, headers=headers)
        outcome = (r.status_code, "" if r.status_code == 200 else code_of(r))
        with lock:
            statuses[outcome] += 1

    threads = [threading.Thread(target=send) for _ in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert statuses == {(200, ""): 1, (401, "signature_replayed"): 15}
