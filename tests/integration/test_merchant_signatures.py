"""Signed merchant requests (RFC 9421 + RFC 9530): each attack is attempted and refused.

Every refusal is a 401 problem with its own ``code``; nothing is changed.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from paywarden.adapters.clock import FakeClock
from paywarden.adapters.store import Database
from paywarden.adapters.store.schema import request_nonces
from paywarden.services.merchants.nonces import CLOCK_SKEW_S_MAX
from tests.support.merchants import (
    Creds,
    MislabelledEd25519,
    api_client,
    code_of,
    make_merchant,
    new_key,
    now_s,
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


def _refused(response: object, code: str, status: int = 401) -> None:
    assert response.status_code == status, response.text
    assert code_of(response) == code  # type: ignore[arg-type]


def _key_count(api: TestClient, shop: Creds) -> int:
    merchant = platform_of(api).merchants.get(shop.merchant_id)
    assert merchant is not None
    return len(merchant.keys)


@pytest.mark.parametrize("label", ["sig", "pyhms", "merchant-1"])
def test_a_signed_get_of_me_works_with_any_label(api: TestClient, shop: Creds,
                                                 label: str) -> None:
    r = signed(api, shop, "GET", ME, label=label)
    assert r.status_code == 200, r.text
    assert r.json()["id"] == shop.merchant_id
    assert r.json()["status"] == "active" and r.json()["name"] == "Shop"
    assert [k["id"] for k in r.json()["keys"]] == [shop.key_id]


def test_the_same_signed_request_sent_twice_is_refused_as_a_replay(api: TestClient,
                                                                   shop: Creds) -> None:
    headers = signature_headers(shop, "GET", ME, created_s=now_s(platform_of(api)))
    assert api.get(ME, headers=headers).status_code == 200
    _refused(api.get(ME, headers=headers), "signature_replayed")


def test_a_replay_after_the_window_is_refused_even_once_its_nonce_is_purged(
        api: TestClient, shop: Creds, clock: FakeClock) -> None:
    headers = signature_headers(shop, "GET", ME, created_s=now_s(platform_of(api)))
    assert api.get(ME, headers=headers).status_code == 200
    clock.advance(301)
    assert platform_of(api).signatures._nonces.purge_expired() == 0  # kept for clock skew
    clock.advance(CLOCK_SKEW_S_MAX)
    assert platform_of(api).signatures._nonces.purge_expired() == 1
    _refused(api.get(ME, headers=headers), "signature_expired")


def test_a_body_altered_on_the_way_is_refused_as_a_digest_mismatch(api: TestClient,
                                                                   shop: Creds) -> None:
    body = json.dumps({"public_key": public_pem(new_key()).decode(), "label": "a"}).encode()
    altered = body.replace(b'"a"', b'"b"')
    r = signed(api, shop, "POST", f"{ME}/keys", body, send_body=altered)
    _refused(r, "digest_mismatch")
    assert _key_count(api, shop) == 1


def test_a_body_swapped_with_a_matching_new_digest_is_refused_as_an_invalid_signature(
        api: TestClient, shop: Creds) -> None:
    body = json.dumps({"public_key": public_pem(new_key()).decode()}).encode()
    other = json.dumps({"public_key": public_pem(new_key()).decode()}).encode()
    created = now_s(platform_of(api))
    headers = signature_headers(shop, "POST", f"{ME}/keys", body, created_s=created)
    headers["Content-Digest"] = signature_headers(shop, "POST", f"{ME}/keys", other,
                                                  created_s=created)["Content-Digest"]
    r = api.post(f"{ME}/keys", content=other, headers={
        **headers, "Content-Type": "application/json", "Idempotency-Key": "k1"})
    _refused(r, "signature_invalid")
    assert _key_count(api, shop) == 1


def test_a_signature_moved_to_another_path_is_refused(api: TestClient, shop: Creds) -> None:
    headers = signature_headers(shop, "GET", ME, created_s=now_s(platform_of(api)))
    _refused(api.get(f"/v1/merchants/{shop.merchant_id}", headers=headers), "signature_invalid")


def test_a_signature_moved_to_another_query_is_refused(api: TestClient, shop: Creds) -> None:
    headers = signature_headers(shop, "GET", ME, created_s=now_s(platform_of(api)))
    _refused(api.get(f"{ME}?x=1", headers=headers), "signature_invalid")


def test_a_signature_moved_to_another_method_is_refused(api: TestClient, shop: Creds) -> None:
    headers = signature_headers(shop, "POST", ME, created_s=now_s(platform_of(api)))
    _refused(api.get(ME, headers=headers), "signature_invalid")


def test_the_target_uri_is_the_public_origin_not_the_host_header(api: TestClient,
                                                                 shop: Creds) -> None:
    # Signed for the host the server was reached at, not the configured public origin.
    headers = signature_headers(shop, "GET", ME, created_s=now_s(platform_of(api)),
                                origin="http://testserver")
    _refused(api.get(ME, headers=headers), "signature_invalid")
    spoofed = signature_headers(shop, "GET", ME, created_s=now_s(platform_of(api)),
                                origin="https://evil.example")
    _refused(api.get(ME, headers={**spoofed, "Host": "evil.example"}), "signature_invalid")


def test_a_signature_created_301_seconds_ago_is_refused_as_expired(api: TestClient,
                                                                   shop: Creds) -> None:
    now = now_s(platform_of(api))
    _refused(signed(api, shop, "GET", ME, created_s=now - 301), "signature_expired")
    assert signed(api, shop, "GET", ME, created_s=now - 300).status_code == 200


def test_a_signature_created_301_seconds_ahead_is_refused_as_from_the_future(
        api: TestClient, shop: Creds) -> None:
    now = now_s(platform_of(api))
    _refused(signed(api, shop, "GET", ME, created_s=now + 301), "signature_from_future")
    assert signed(api, shop, "GET", ME, created_s=now + 300).status_code == 200


def test_a_signature_by_an_unknown_key_is_refused(api: TestClient, shop: Creds) -> None:
    stranger = Creds(shop.merchant_id, "key_" + "0" * 24, new_key())
    _refused(signed(api, stranger, "GET", ME), "key_unknown")


def test_a_known_key_id_with_another_private_key_is_refused(api: TestClient,
                                                            shop: Creds) -> None:
    forger = Creds(shop.merchant_id, shop.key_id, new_key())
    _refused(signed(api, forger, "GET", ME), "signature_invalid")


def test_a_signature_by_a_revoked_key_is_refused(api: TestClient, shop: Creds) -> None:
    platform = platform_of(api)
    platform.merchants.add_key(shop.merchant_id, new_key().public_key().public_bytes_raw(),
                               actor="cli:test")
    platform.merchants.revoke_key(shop.merchant_id, shop.key_id, actor="cli:test")
    _refused(signed(api, shop, "GET", ME), "key_revoked")


def test_a_suspended_merchant_is_refused_until_activated(api: TestClient, shop: Creds) -> None:
    platform = platform_of(api)
    platform.merchants.set_status(shop.merchant_id, "suspended", actor="cli:test")
    _refused(signed(api, shop, "GET", ME), "merchant_suspended", 403)  # signed well: 403
    platform.merchants.set_status(shop.merchant_id, "active", actor="cli:test")
    assert signed(api, shop, "GET", ME).status_code == 200


def test_a_signature_claiming_another_algorithm_is_refused(api: TestClient,
                                                           shop: Creds) -> None:
    _refused(signed(api, shop, "GET", ME, algorithm=MislabelledEd25519),
             "signature_algorithm_unsupported")


def test_a_signature_without_a_nonce_is_refused_as_malformed(api: TestClient,
                                                             shop: Creds) -> None:
    _refused(signed(api, shop, "GET", ME, nonce=None), "signature_malformed")


def test_a_short_nonce_is_refused_as_malformed(api: TestClient, shop: Creds) -> None:
    _refused(signed(api, shop, "GET", ME, nonce="1234"), "signature_malformed")


def test_a_signature_not_covering_the_digest_is_refused_as_malformed(api: TestClient,
                                                                     shop: Creds) -> None:
    r = signed(api, shop, "GET", ME, covered=("@method", "@target-uri"))
    _refused(r, "signature_malformed")


def test_a_signature_not_covering_the_target_uri_is_refused_as_malformed(
        api: TestClient, shop: Creds) -> None:
    r = signed(api, shop, "GET", ME, covered=("@method", "@path", "content-digest"))
    _refused(r, "signature_malformed")


def test_two_signatures_on_one_request_are_refused_as_malformed(api: TestClient,
                                                                shop: Creds) -> None:
    created = now_s(platform_of(api))
    one = signature_headers(shop, "GET", ME, created_s=created, label="a")
    two = signature_headers(shop, "GET", ME, created_s=created, label="b")
    headers = {"Content-Digest": one["Content-Digest"],
               "Signature-Input": f"{one['Signature-Input']}, {two['Signature-Input']}",
               "Signature": f"{one['Signature']}, {two['Signature']}"}
    _refused(api.get(ME, headers=headers), "signature_malformed")


def test_garbage_signature_headers_are_refused_as_malformed(api: TestClient) -> None:
    r = api.get(ME, headers={"Signature-Input": "sig=(((", "Signature": "sig=:AAAA:"})
    _refused(r, "signature_malformed")


def test_refusals_point_to_the_expected_signature_shape(api: TestClient, shop: Creds) -> None:
    r = signed(api, shop, "GET", ME, nonce=None)
    assert '"@target-uri"' in r.headers["accept-signature"]


def test_only_accepted_requests_take_a_nonce_row(api: TestClient, shop: Creds) -> None:
    forger = Creds(shop.merchant_id, shop.key_id, new_key())
    for _ in range(3):
        _refused(signed(api, forger, "GET", ME), "signature_invalid")
    assert signed(api, shop, "GET", ME).status_code == 200
    with platform_of(api).database.engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(request_nonces)).scalar_one() == 1
