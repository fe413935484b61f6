"""Idempotency-Key on POST: retries replay the first answer; misuse is refused."""

from __future__ import annotations

import json
import threading
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.responses import JSONResponse
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from paywarden.adapters.clock import FakeClock
from paywarden.adapters.store import Database
from paywarden.adapters.store.schema import idempotency_keys
from paywarden.api import create_app
from paywarden.api.auth import CurrentPrincipal
from paywarden.services.idempotency import Claim
from tests.support.merchants import (
    Creds,
    client_for,
    code_of,
    make_merchant,
    new_key,
    platform_for,
    platform_of,
    public_pem,
    signed,
    staff_token,
)

KEYS = "/v1/merchants/me/keys"


@dataclass
class Probe:
    """Routes that count how often they really ran."""

    runs: Counter[str] = field(default_factory=Counter)
    started: threading.Event = field(default_factory=threading.Event)
    release: threading.Event = field(default_factory=threading.Event)

    def install(self, app: FastAPI) -> None:
        @app.post("/v1/test/count")
        def count(principal: CurrentPrincipal) -> dict[str, int]:
            self.runs["count"] += 1
            return {"run": self.runs["count"]}

        @app.post("/v1/test/slow")
        def slow(principal: CurrentPrincipal) -> dict[str, bool]:
            self.runs["slow"] += 1
            self.started.set()
            assert self.release.wait(30)
            return {"done": True}

        @app.post("/v1/test/flaky")
        def flaky(principal: CurrentPrincipal) -> dict[str, int]:
            self.runs["flaky"] += 1
            if self.runs["flaky"] == 1:
                raise RuntimeError("the first attempt fails")
            return {"run": self.runs["flaky"]}

        @app.post("/v1/test/secret")
        def secret(principal: CurrentPrincipal) -> JSONResponse:
            self.runs["secret"] += 1
            return JSONResponse({"token": "pws_not_to_be_stored"},
                                headers={"Cache-Control": "no-store"})


@pytest.fixture
def probe() -> Probe:
    return Probe()


@pytest.fixture
def api(database: Database, clock: FakeClock, tmp_path: Path,
        probe: Probe) -> Iterator[TestClient]:
    platform = platform_for(database, clock, tmp_path)
    app = create_app(platform)
    probe.install(app)
    with client_for(app) as client:
        client.headers["Authorization"] = f"Bearer {staff_token(platform, 'merchant_admin')}"
        yield client


@pytest.fixture
def shop(api: TestClient) -> Creds:
    return make_merchant(platform_of(api), "Shop")


def _key_body() -> bytes:
    return json.dumps({"public_key": public_pem(new_key()).decode(), "label": "rotated"}).encode()


def _stored_keys(api: TestClient) -> int:
    with platform_of(api).database.engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(idempotency_keys)).scalar_one())


def _signed(api: TestClient, shop: Creds, path: str, body: bytes, key: str | None):
    # A merchant request carries its own signature, not the staff token.
    return signed(api, shop, "POST", path, body, idempotency_key=key,
                  headers={"Authorization": ""})


def test_the_same_key_and_body_replay_the_first_answer_and_act_once(api: TestClient,
                                                                    shop: Creds) -> None:
    body = _key_body()
    first = _signed(api, shop, KEYS, body, "add-key-1")
    second = _signed(api, shop, KEYS, body, "add-key-1")
    assert first.status_code == second.status_code == 201, first.text
    assert second.json() == first.json()
    assert "idempotent-replayed" not in first.headers
    assert second.headers["idempotent-replayed"] == "true"
    assert second.headers["content-type"] == first.headers["content-type"]
    merchant = platform_of(api).merchants.get(shop.merchant_id)
    assert merchant is not None and len(merchant.keys) == 2


def test_the_same_key_with_another_body_is_refused(api: TestClient, shop: Creds) -> None:
    assert _signed(api, shop, KEYS, _key_body(), "k").status_code == 201
    r = _signed(api, shop, KEYS, _key_body(), "k")
    assert r.status_code == 422 and code_of(r) == "idempotency_key_reused"
    merchant = platform_of(api).merchants.get(shop.merchant_id)
    assert merchant is not None and len(merchant.keys) == 2


def test_the_same_key_on_another_path_is_refused(api: TestClient, probe: Probe) -> None:
    assert api.post("/v1/test/count", headers={"Idempotency-Key": "k"}).status_code == 200
    r = api.post("/v1/test/flaky", headers={"Idempotency-Key": "k"})
    assert r.status_code == 422 and code_of(r) == "idempotency_key_reused"
    assert probe.runs["flaky"] == 0


def test_a_merchant_post_without_a_key_is_refused(api: TestClient, shop: Creds) -> None:
    r = _signed(api, shop, KEYS, _key_body(), None)
    assert r.status_code == 400 and code_of(r) == "idempotency_key_required"
    merchant = platform_of(api).merchants.get(shop.merchant_id)
    assert merchant is not None and len(merchant.keys) == 1


def test_a_staff_post_without_a_key_runs_every_time(api: TestClient, probe: Probe) -> None:
    assert api.post("/v1/test/count").json() == {"run": 1}
    assert api.post("/v1/test/count").json() == {"run": 2}
    assert _stored_keys(api) == 0


def test_a_staff_post_with_a_key_is_honoured(api: TestClient, probe: Probe) -> None:
    headers = {"Idempotency-Key": "staff-1"}
    assert api.post("/v1/test/count", headers=headers).json() == {"run": 1}
    again = api.post("/v1/test/count", headers=headers)
    assert again.json() == {"run": 1} and again.headers["idempotent-replayed"] == "true"
    assert probe.runs["count"] == 1


def test_a_duplicate_arriving_while_the_first_runs_is_refused_with_409(
        api: TestClient, probe: Probe) -> None:
    headers = {"Idempotency-Key": "slow-1"}
    with ThreadPoolExecutor(1) as pool:
        first = pool.submit(api.post, "/v1/test/slow", headers=headers)
        assert probe.started.wait(30)
        duplicate = api.post("/v1/test/slow", headers=headers)
        probe.release.set()
        assert first.result(timeout=30).status_code == 200
    assert duplicate.status_code == 409 and code_of(duplicate) == "idempotency_in_progress"
    assert duplicate.headers["retry-after"] == "1"
    after = api.post("/v1/test/slow", headers=headers)
    assert after.status_code == 200 and after.headers["idempotent-replayed"] == "true"
    assert probe.runs["slow"] == 1


def test_a_claim_left_running_by_a_dead_request_is_taken_over_after_its_lease(
        api: TestClient, probe: Probe, clock: FakeClock) -> None:
    store = platform_of(api).idempotency
    first = store.claim("staff:ghost", "k", "0" * 64)  # its process then died
    clock.advance(platform_of(api).settings.idempotency_lease_s + 1)
    second = store.claim("staff:ghost", "k", "0" * 64)
    assert isinstance(first, Claim) and isinstance(second, Claim)
    assert second.claimed_at > first.claimed_at


def test_a_server_failure_releases_the_key_so_a_retry_runs(api: TestClient,
                                                           probe: Probe) -> None:
    headers = {"Idempotency-Key": "flaky-1"}
    assert api.post("/v1/test/flaky", headers=headers).status_code == 500
    assert _stored_keys(api) == 0
    retry = api.post("/v1/test/flaky", headers=headers)
    assert retry.status_code == 200 and retry.json() == {"run": 2}
    assert "idempotent-replayed" not in retry.headers


def test_a_client_error_is_stored_and_replayed(api: TestClient, shop: Creds) -> None:
    path = f"{KEYS}/key_{'0' * 24}/revoke"
    first = _signed(api, shop, path, b"", "revoke-1")
    second = _signed(api, shop, path, b"", "revoke-1")
    assert first.status_code == second.status_code == 404
    assert second.headers["idempotent-replayed"] == "true" and second.json() == first.json()


def test_a_no_store_answer_is_not_kept(api: TestClient, probe: Probe) -> None:
    headers = {"Idempotency-Key": "secret-1"}
    assert api.post("/v1/test/secret", headers=headers).status_code == 200
    assert _stored_keys(api) == 0
    assert api.post("/v1/test/secret", headers=headers).status_code == 200
    assert probe.runs["secret"] == 2


def test_keys_belong_to_their_principal(api: TestClient) -> None:
    platform = platform_of(api)
    one, two = make_merchant(platform, "One"), make_merchant(platform, "Two")
    body = _key_body()
    assert _signed(api, one, KEYS, body, "shared").status_code == 201
    other = _signed(api, two, KEYS, _key_body(), "shared")
    assert other.status_code == 201 and "idempotent-replayed" not in other.headers


def test_a_key_is_purged_after_its_ttl(api: TestClient, shop: Creds, probe: Probe,
                                       clock: FakeClock) -> None:
    # Signed requests: a staff token would not outlive the day.
    assert _signed(api, shop, "/v1/test/count", b"", "old").json() == {"run": 1}
    clock.advance(24 * 3600 - 1)
    assert platform_of(api).idempotency.purge_expired() == 0
    replay = _signed(api, shop, "/v1/test/count", b"", "old")
    assert replay.headers["idempotent-replayed"] == "true"
    clock.advance(2)
    assert platform_of(api).idempotency.purge_expired() == 1
    assert _stored_keys(api) == 0
    assert _signed(api, shop, "/v1/test/flaky", b"", "old").status_code == 500  # a new request


def test_an_expired_key_is_not_replayed_even_before_the_purge(api: TestClient, shop: Creds,
                                                              probe: Probe,
                                                              clock: FakeClock) -> None:
    assert _signed(api, shop, "/v1/test/count", b"", "old").json() == {"run": 1}
    clock.advance(24 * 3600 + 1)
    assert _signed(api, shop, "/v1/test/count", b"", "old").json() == {"run": 2}


@pytest.mark.parametrize("key", ["", "x" * 256, "clé", "tab\there"])
def test_a_malformed_key_is_refused(api: TestClient, probe: Probe, key: str) -> None:
    r = api.post("/v1/test/count", headers={"Idempotency-Key": key.encode()})
    assert r.status_code == 400 and code_of(r) == "idempotency_key_invalid"
    assert probe.runs["count"] == 0


def test_an_unauthenticated_post_is_left_to_the_route(api: TestClient) -> None:
    r = api.post(KEYS, content=_key_body(), headers={"Authorization": "",
                                                     "Idempotency-Key": "k"})
    assert r.status_code == 401 and code_of(r) == "unauthenticated"
    assert _stored_keys(api) == 0


def test_a_merchant_post_over_its_key_rate_limit_is_refused_and_not_run(
        database: Database, clock: FakeClock, tmp_path: Path, probe: Probe) -> None:
    platform = platform_for(database, clock, tmp_path, rate_limit_merchant_key="2/minute")
    app = create_app(platform)
    probe.install(app)
    with client_for(app) as api:
        shop = make_merchant(platform, "Shop")
        answers = [_signed(api, shop, "/v1/test/count", b"", f"k{n}") for n in range(3)]
    assert [a.status_code for a in answers] == [200, 200, 429]
    assert code_of(answers[2]) == "rate_limited" and probe.runs["count"] == 2
