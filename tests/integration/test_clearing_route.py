"""``POST /v1/clearing/messages`` through the ASGI app: the signed answer and its headers,
a retry flagged, refusals as problem+json (decision 0053), on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient

from paywarden.adapters.clock import FakeClock
from paywarden.adapters.store import Database
from paywarden.api import create_app
from paywarden.domain.clearing import messages as m
from paywarden.domain.money import Money
from paywarden.services.clearing import Role
from paywarden.services.clearing.node import ClearingNode, build_hub
from paywarden.services.clearing.transport import (
    REPLAY_HEADER,
    SENDER_HEADER,
    SIGNATURE_HEADER,
    decode_signature,
    encode_signature,
)

from ..support.clearing import FakeBank, IsoCodec, KeySigner, router
from ..support.merchants import client_for, platform_for
from ..support.platform import platform_of

HUB, BANK_A, BANK_B = "HUBAEUR1", "BANKAAA2", "BANKBBB2"
PATH = "/v1/clearing/messages"


@pytest.fixture
def hub_api(database: Database, clock: FakeClock,
            tmp_path: Path) -> Iterator[tuple[TestClient, dict[str, KeySigner]]]:
    keys = {bic: KeySigner() for bic in (HUB, BANK_A, BANK_B)}
    bank_b = FakeBank(BANK_B, HUB, keys[HUB].public_pem, signer=keys[BANK_B])
    with client_for(create_app(platform_for(database, clock, tmp_path))) as client:
        platform = platform_of(client)
        platform.queries.create_ledger("EUR", now_ns=clock.now_ns())
        node: ClearingNode = build_hub(
            database, clock=clock, writer=platform.payments.writer, bic=HUB, codec=IsoCodec(),
            signer=keys[HUB], replay_window_s=300, body_bytes_max=64 * 1024,
            send_timeout_s=1.0, http=httpx.Client(transport=router({BANK_B: bank_b})))
        platform.clearing = node
        for bic in (BANK_A, BANK_B):
            node.peers.register(bic=bic, name="Bank", role=Role.PARTICIPANT,
                                url=f"http://{bic.lower()}.test", region="eu", currency="EUR",
                                public_key_pem=keys[bic].public_pem, actor="cli:operator")
        node.peers.fund(BANK_A, Money(100_00, "EUR"), funding_id="f1", actor="cli:operator")
        yield client, keys


def _post(client: TestClient, keys: dict[str, KeySigner], message: m.Message,
          sender: str = BANK_A) -> httpx.Response:
    body = IsoCodec().encode(message)
    return client.post(PATH, content=body, headers={
        "Content-Type": "application/xml", SENDER_HEADER: sender,
        SIGNATURE_HEADER: encode_signature(keys[sender].sign(sender, body))})


def test_a_signed_message_is_answered_with_the_hubs_signed_answer(
        hub_api: tuple[TestClient, dict[str, KeySigner]], clock: FakeClock) -> None:
    client, keys = hub_api
    header = m.Header("M1", clock.now_ns(), BANK_A, HUB)
    liquidity = m.Pacs009(header, (m.BankTransfer("I1", "E1", "5b1d0b52-0c1f-4d5e-9a7b-"
                                                  "0d6f0a1b2c3d", Money(60_00, "EUR"), HUB,
                                                  BANK_A),))
    r = _post(client, keys, liquidity)
    assert r.status_code == 200, r.text
    assert r.headers[SENDER_HEADER] == HUB and r.headers[REPLAY_HEADER] == "0"
    signature = decode_signature(r.headers[SIGNATURE_HEADER])
    assert signature is not None
    assert keys[HUB].verify(keys[HUB].public_pem, HUB, r.content, signature)
    answer = IsoCodec().decode(r.content)
    assert isinstance(answer, m.Pacs002) and answer.statuses[0].status is m.Status.ACSC
    again = _post(client, keys, liquidity)
    assert again.headers[REPLAY_HEADER] == "1" and again.content == r.content


def test_a_refused_message_is_answered_with_a_problem(
        hub_api: tuple[TestClient, dict[str, KeySigner]], clock: FakeClock) -> None:
    client, keys = hub_api
    body = b'<!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]><x>&e;</x>'
    r = client.post(PATH, content=body, headers={
        SENDER_HEADER: BANK_A, SIGNATURE_HEADER: encode_signature(keys[BANK_A].sign(BANK_A,
                                                                                    body))})
    assert (r.status_code, r.json()["code"]) == (400, "message_unsafe_xml")
    message = m.Pacs009(m.Header("M2", clock.now_ns(), BANK_A, HUB), (m.BankTransfer(
        "I1", "E1", "6f1c2b4e-8d2a-4c1e-9b3f-2a7d5e9c1f00", Money(1_00, "EUR"), HUB,
        BANK_A),))
    forged = _post(client, {BANK_A: KeySigner()}, message)
    assert (forged.status_code, forged.json()["code"]) == (401, "message_signature_invalid")
    unsigned = client.post(PATH, content=IsoCodec().encode(message),
                           headers={SENDER_HEADER: BANK_A})
    assert unsigned.json()["code"] == "message_signature_invalid"


def test_a_node_without_a_clearing_role_takes_no_messages(
        database: Database, clock: FakeClock, tmp_path: Path) -> None:
    with client_for(create_app(platform_for(database, clock, tmp_path))) as client:
        r = client.post(PATH, content=b"<x/>", headers={SENDER_HEADER: BANK_A})
    assert (r.status_code, r.json()["code"]) == (404, "not_found")
