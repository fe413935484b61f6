"""Signed receipts: a JWS with alg "Ed25519" (RFC 9864) that anyone verifies with joserfc
and nothing but the published JWKS; an altered amount does not verify."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from joserfc import jws
from joserfc.errors import BadSignatureError
from joserfc.jwk import KeySet
from joserfc.util import urlsafe_b64decode, urlsafe_b64encode
from sqlalchemy import func, select

from paywarden.adapters.clock import FakeClock
from paywarden.adapters.store import Database
from paywarden.adapters.store.schema import receipts as receipts_table
from paywarden.bootstrap import Platform
from paywarden.services import receipts
from tests.support.merchants import api_client
from tests.support.platform import platform_of

PAYMENT = "pay_0123456789abcdef"
CLAIMS = {"state": "released", "currency": "EUR", "amount_minor": 1999, "fee_minor": 59,
          "buyer_id": "usr_0123456789abcdef", "merchant_id": "mer_0123456789abcdef",
          "merchant_legal_name": "Shop GmbH"}


@pytest.fixture
def api(database: Database, clock: FakeClock, tmp_path: Path) -> Iterator[TestClient]:
    with api_client(database, clock, tmp_path) as client:
        yield client


def _issue(platform: Platform, audience: str = "buyer",
           claims: dict[str, Any] | None = None) -> receipts.Receipt:
    with platform.database.engine.begin() as conn:
        return receipts.issue(conn, platform.keys, payment_id=PAYMENT, audience=audience,
                              claims=CLAIMS if claims is None else claims,
                              at_ns=platform.clock.now_ns(), audit_index=42,
                              issuer="https://pay.example")


def _published(api: TestClient) -> Any:
    answer = api.get("/.well-known/jwks.json")
    assert answer.status_code == 200
    return json.loads(answer.text)


def test_a_receipt_verifies_with_joserfc_against_the_published_jwks_only(
        api: TestClient) -> None:
    platform = platform_of(api)
    receipt = _issue(platform)
    assert receipt.id.startswith("rct_")
    token = jws.deserialize_compact(receipt.jws, KeySet.import_key_set(_published(api)),
                                    algorithms=["Ed25519"])
    assert token.protected == {"alg": "Ed25519", "kid": platform.keys.signer("receipts").key_id,
                               "typ": "paywarden-receipt+jwt"}
    claims = json.loads(token.payload)
    assert {k: claims[k] for k in CLAIMS} == CLAIMS
    assert claims["sub"] == claims["payment_id"] == PAYMENT and claims["jti"] == receipt.id
    assert claims["audience"] == "buyer" and claims["audit_index"] == 42
    assert claims["iat"] == platform.clock.now_ns() // 10**9
    assert claims["time"].endswith("Z") and claims["iss"] == "https://pay.example"
    assert receipts.verify(receipt.jws, _published(api)) == claims


def _with_payload(token: str, change: dict[str, Any]) -> str:
    header, payload, signature = token.split(".")
    claims = json.loads(urlsafe_b64decode(payload.encode()))
    claims.update(change)
    encoded = urlsafe_b64encode(json.dumps(claims, separators=(",", ":")).encode()).decode()
    return f"{header}.{encoded}.{signature}"


def test_a_receipt_with_an_altered_amount_does_not_verify(api: TestClient) -> None:
    receipt = _issue(platform_of(api))
    forged = _with_payload(receipt.jws, {"amount_minor": 199_900})
    with pytest.raises(BadSignatureError):
        jws.deserialize_compact(forged, KeySet.import_key_set(_published(api)),
                                algorithms=["Ed25519"])
    with pytest.raises(receipts.ReceiptRefused) as caught:
        receipts.verify(forged, _published(api))
    assert caught.value.code == "receipt_invalid"


def test_a_receipt_relabelled_eddsa_or_checked_against_other_keys_is_refused(
        api: TestClient) -> None:
    receipt = _issue(platform_of(api))
    header, payload, signature = receipt.jws.split(".")
    relabelled = urlsafe_b64encode(json.dumps(
        {**json.loads(urlsafe_b64decode(header.encode())), "alg": "EdDSA"}).encode()).decode()
    with pytest.raises(receipts.ReceiptRefused):
        receipts.verify(f"{relabelled}.{payload}.{signature}", _published(api))
    with pytest.raises(receipts.ReceiptRefused):
        receipts.verify(receipt.jws, {"keys": []})


def test_receipts_are_listed_per_payment_and_roll_back_with_their_movement(
        api: TestClient) -> None:
    platform = platform_of(api)
    with pytest.raises(RuntimeError), platform.database.engine.begin() as conn:
        receipts.issue(conn, platform.keys, payment_id=PAYMENT, audience="buyer", claims=CLAIMS,
                       at_ns=platform.clock.now_ns(), audit_index=1)
        raise RuntimeError("the movement failed")
    with platform.database.engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(receipts_table)).scalar_one() == 0
    buyer, merchant = _issue(platform, "buyer"), _issue(platform, "merchant")
    with platform.database.engine.connect() as conn:
        listed = receipts.list_for_payment(conn, PAYMENT)
        assert receipts.list_for_payment(conn, "pay_ffffffffffffffff") == []
    assert {r.id for r in listed} == {buyer.id, merchant.id}
    assert {r.audience for r in listed} == {"buyer", "merchant"}
    assert listed[0].claims()["payment_id"] == PAYMENT


@pytest.mark.parametrize(("change", "audience"), [
    ({"amount_minor": 19.99}, "buyer"),
    ({"amount_minor": -1}, "buyer"),
    ({"fee_minor": "59"}, "buyer"),
    ({"currency": "eur"}, "buyer"),
    ({"state": None}, "buyer"),
    ({"iat": 0}, "buyer"),
    ({}, "staff"),
])
def test_claims_that_are_not_plain_amounts_ids_and_states_are_refused(
        api: TestClient, change: dict[str, Any], audience: str) -> None:
    with pytest.raises(receipts.ReceiptRefused) as caught:
        _issue(platform_of(api), audience, {**CLAIMS, **change})
    assert caught.value.code == "receipt_claims_invalid"
