"""Attacks on the hub's message endpoint and on its liquidity (decisions 0053, 0055):
each refused before anything moves, on SQLite and PostgreSQL."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator

import pytest

from paywarden.adapters.clock import FakeClock
from paywarden.adapters.store import Database
from paywarden.domain.clearing import messages as m
from paywarden.domain.errors import DomainError
from paywarden.services.clearing import PeerState
from paywarden.services.ledger import LedgerEngine

from ..support.clearing import KeySigner
from ..support.clearing_net import BANK_A, BANK_B, HUB, Net, hub_net


@pytest.fixture
def net(database: Database, engine: LedgerEngine, clock: FakeClock) -> Iterator[Net]:
    with hub_net(database, clock) as the_net:
        yield the_net


def _refused(net: Net, sender: str, body: bytes, signature: bytes | None) -> str:
    with pytest.raises(DomainError) as refused:
        net.transport.receive(body, sender, signature)
    return refused.value.code


def test_a_message_signed_by_a_revoked_participant_is_refused(net: Net) -> None:
    net.peers.set_state(BANK_A, PeerState.REVOKED, actor="cli:operator")
    body, signature = net.signed(BANK_A, net.pacs008(net.transfer(10_00)))
    assert _refused(net, BANK_A, body, signature) == "message_sender_revoked"
    assert net.settlement(BANK_A) == (500_00, 0)


def test_a_suspended_participant_sends_nothing_and_is_paid_nothing(net: Net) -> None:
    net.peers.set_state(BANK_B, PeerState.SUSPENDED, actor="cli:operator")
    body, signature = net.signed(BANK_B, net.pacs008(net.transfer(1, payer=BANK_B,
                                                                   payee=BANK_A),
                                                     sender=BANK_B))
    assert _refused(net, BANK_B, body, signature) == "message_sender_suspended"
    answer, _ = net.send(BANK_A, net.pacs008(net.transfer(10_00)))
    assert (answer.statuses[0].status, answer.statuses[0].reason) == (m.Status.RJCT,
                                                                      m.Reason.AB08)


def test_an_unknown_sender_is_refused(net: Net) -> None:
    body, signature = net.signed(BANK_A, net.pacs008(net.transfer(10_00)))
    assert _refused(net, "BANKXXX2", body, signature) == "message_sender_unknown"


def test_a_signature_by_another_key_is_refused(net: Net) -> None:
    body, signature = net.signed(BANK_A, net.pacs008(net.transfer(10_00)), key=KeySigner())
    assert _refused(net, BANK_A, body, signature) == "message_signature_invalid"
    assert _refused(net, BANK_A, body, None) == "message_signature_invalid"


def test_an_altered_amount_breaks_the_signature(net: Net) -> None:
    tx = net.transfer(10_00)
    body, signature = net.signed(BANK_A, net.pacs008(tx))
    altered = body.replace(b">10.00<", b">90.00<")  # IntrBkSttlmAmt, as XML carries it
    assert altered != body
    assert _refused(net, BANK_A, altered, signature) == "message_signature_invalid"
    assert net.settlement(BANK_A) == (500_00, 0)


def test_another_participants_signature_does_not_pass_for_the_sender(net: Net) -> None:
    body, _ = net.signed(BANK_A, net.pacs008(net.transfer(10_00)))
    signature = net.keys[BANK_B].sign(BANK_B, body)
    assert _refused(net, BANK_A, body, signature) == "message_signature_invalid"


def test_a_message_naming_another_sender_than_its_signer_is_refused(net: Net) -> None:
    message = net.pacs008(net.transfer(10_00, payer=BANK_B, payee=BANK_A), sender=BANK_B)
    body = net.codec.encode(message)
    signature = net.keys[BANK_A].sign(BANK_A, body)
    assert _refused(net, BANK_A, body, signature) == "message_sender_mismatch"


@pytest.mark.parametrize("payload", [
    b'<?xml version="1.0"?><!DOCTYPE d [<!ENTITY x SYSTEM "file:///etc/passwd">]><d>&x;</d>',
    b'<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;">]><l>&lol2;</l>',
    b'<?xml version="1.0"?>\n<!doctype d SYSTEM "http://attacker.test/d.dtd"><d/>',
])
def test_an_xml_entity_or_dtd_payload_is_refused_before_it_is_parsed(
        net: Net, payload: bytes) -> None:
    signature = net.keys[BANK_A].sign(BANK_A, payload)
    assert _refused(net, BANK_A, payload, signature) == "message_unsafe_xml"


def test_a_schema_invalid_document_is_refused(net: Net) -> None:
    body = b'{"_t": "Pacs008", "header": "not a header"}'
    assert _refused(net, BANK_A, body, net.keys[BANK_A].sign(BANK_A, body)) == (
        "message_schema_invalid")


def test_a_message_older_than_the_replay_window_is_refused(net: Net) -> None:
    message = net.pacs008(net.transfer(10_00))
    net.clock.advance(301)
    body, signature = net.signed(BANK_A, message)
    assert _refused(net, BANK_A, body, signature) == "message_stale"


def test_a_message_id_reused_with_other_bytes_is_refused(net: Net) -> None:
    message = net.pacs008(net.transfer(10_00))
    net.send(BANK_A, message)
    other = dataclasses.replace(message, transfers=(net.transfer(11_00),))
    body, signature = net.signed(BANK_A, other)
    assert _refused(net, BANK_A, body, signature) == "message_duplicate"
    assert net.settlement(BANK_B) == (10_00, 0)


def test_a_message_addressed_to_another_hub_is_refused(net: Net) -> None:
    message = m.Pacs008(m.Header("M1", net.clock.now_ns(), BANK_A, "HUBBEUR1"),
                        (net.transfer(10_00),))
    body, signature = net.signed(BANK_A, message)
    assert _refused(net, BANK_A, body, signature) == "message_misaddressed"


def test_a_message_larger_than_the_bound_is_refused(net: Net) -> None:
    body = b" " * (256 * 1024 + 1)
    assert _refused(net, BANK_A, body, b"x") == "message_too_large"


def test_a_pacs009_cannot_create_liquidity_from_nothing(net: Net) -> None:
    answer, _ = net.send(BANK_B, net.liquidity(BANK_B, 1_00, debtor=HUB, creditor=BANK_B))
    assert (answer.statuses[0].status, answer.statuses[0].reason) == (m.Status.RJCT,
                                                                      m.Reason.AM04)
    answer, _ = net.send(BANK_B, net.liquidity(BANK_B, 1_00, debtor=BANK_B, creditor=BANK_B))
    assert answer.statuses[0].status is m.Status.RJCT
    answer, _ = net.send(BANK_A, net.liquidity(BANK_A, 500_01, debtor=BANK_A, creditor=HUB))
    assert answer.statuses[0].reason is m.Reason.AM04  # more than its settlement balance
    assert net.settlement(BANK_B) == (0, 0) and net.reserve(BANK_B) == (0, 0)
    net.verified()


def test_a_pacs009_cannot_move_another_participants_money(net: Net) -> None:
    for debtor, creditor in ((BANK_A, BANK_B), (BANK_A, HUB), (HUB, BANK_A)):
        answer, _ = net.send(BANK_B, net.liquidity(BANK_B, 10_00, debtor=debtor,
                                                   creditor=creditor))
        assert (answer.statuses[0].status, answer.statuses[0].reason) == (m.Status.RJCT,
                                                                          m.Reason.NARR)
    assert net.settlement(BANK_A) == (500_00, 0) and net.reserve(BANK_A) == (500_00, 0)
    assert net.settlement(BANK_B) == (0, 0)
    net.verified()


def test_a_pacs009_moves_liquidity_back_to_the_reserve_once(net: Net) -> None:
    message = net.liquidity(BANK_A, 200_00, debtor=BANK_A, creditor=HUB)
    answer, _ = net.send(BANK_A, message)
    assert answer.statuses[0].status is m.Status.ACSC
    tx = dataclasses.replace(message.transfers[0])
    again, _ = net.send(BANK_A, m.Pacs009(net.header(), (tx,)))  # same UETR, new message
    assert again.statuses[0].status is m.Status.ACSC
    assert net.settlement(BANK_A) == (300_00, 0) and net.reserve(BANK_A) == (700_00, 0)
    other = dataclasses.replace(tx, amount=m.Money(1_00, "EUR"))
    dupl, _ = net.send(BANK_A, m.Pacs009(net.header(), (other,)))
    assert dupl.statuses[0].reason is m.Reason.DUPL
    net.verified()
