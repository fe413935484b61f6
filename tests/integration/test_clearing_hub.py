"""The hub's RTGS two-phase transfer (decisions 0053, 0055): reserve, forward, decide,
answer, notify — and every refusal on the way, on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import func, select

from paywarden.adapters.clock import FakeClock
from paywarden.adapters.store import Database
from paywarden.adapters.store.schema import hub_transfers, transfers
from paywarden.domain.clearing import messages as m
from paywarden.services.ledger import LedgerEngine

from ..support.clearing_net import BANK_A, BANK_B, HUB, IBAN_B, Net, hub_net

ACSC, RJCT, PDNG = m.Status.ACSC, m.Status.RJCT, m.Status.PDNG


@pytest.fixture
def net(database: Database, engine: LedgerEngine, clock: FakeClock) -> Iterator[Net]:
    with hub_net(database, clock) as the_net:
        yield the_net


def _state(net: Net, uetr: str) -> tuple[str, str | None]:
    with net.database.engine.connect() as conn:
        row = conn.execute(select(hub_transfers.c.state, hub_transfers.c.reason)
                           .where(hub_transfers.c.uetr == uetr)).one()
    return row[0], row[1]


def _ledger_transfers(net: Net, prefix: str) -> int:
    with net.database.engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(transfers)
                            .where(transfers.c.id.like(prefix + "%"))).scalar_one()


def test_a_transfer_is_reserved_forwarded_accepted_and_settled_gross(net: Net) -> None:
    tx = net.transfer(120_00)
    answer, got = net.send(BANK_A, net.pacs008(tx))
    assert [s.status for s in answer.statuses] == [ACSC]
    assert not got.replay
    assert net.settlement(BANK_A) == (380_00, 0)
    assert net.settlement(BANK_B) == (120_00, 0)
    assert _state(net, tx.uetr) == ("settled", None)
    forwarded = net.banks[BANK_B].received
    assert len(forwarded) == 1 and isinstance(forwarded[0], m.Pacs008)
    assert forwarded[0].header.sender == HUB and forwarded[0].transfers == (tx,)
    assert net.hub.deliver_notifications() == 1
    final = net.banks[BANK_B].received[-1]
    assert isinstance(final, m.Pacs002) and final.statuses[0].status is ACSC
    assert final.original_msg_id == forwarded[0].header.msg_id
    assert net.hub.deliver_notifications() == 0  # delivered once
    net.verified()


def test_a_payee_bank_rejecting_the_account_voids_the_reserve(net: Net) -> None:
    net.banks[BANK_B].unknown_ibans.add(IBAN_B)
    tx = net.transfer(50_00)
    answer, _ = net.send(BANK_A, net.pacs008(tx))
    assert (answer.statuses[0].status, answer.statuses[0].reason) == (RJCT, m.Reason.AC01)
    assert net.settlement(BANK_A) == (500_00, 0)
    assert net.settlement(BANK_B) == (0, 0)
    assert _state(net, tx.uetr) == ("rejected", "AC01")
    net.hub.deliver_notifications()
    final = net.banks[BANK_B].received[-1]
    assert isinstance(final, m.Pacs002) and final.statuses[0].reason is m.Reason.AC01
    net.verified()


def test_a_payer_short_of_liquidity_is_answered_am04_and_nothing_is_reserved(net: Net) -> None:
    tx = net.transfer(500_01)
    answer, _ = net.send(BANK_A, net.pacs008(tx))
    assert (answer.statuses[0].status, answer.statuses[0].reason) == (RJCT, m.Reason.AM04)
    assert net.settlement(BANK_A) == (500_00, 0)
    assert net.banks[BANK_B].received == []
    assert _ledger_transfers(net, "hub.") == 0
    net.verified()


def test_no_answer_by_the_deadline_voids_the_reserve_ab05(net: Net) -> None:
    net.banks[BANK_B].down = True
    tx = net.transfer(70_00, deadline_s=10)
    answer, _ = net.send(BANK_A, net.pacs008(tx))
    assert answer.statuses[0].status is PDNG
    assert net.settlement(BANK_A) == (500_00, 70_00)  # reserved: pending
    assert net.hub.expire_due() == 0  # not yet
    net.clock.advance(11)
    assert net.hub.expire_due() == 1
    assert _state(net, tx.uetr) == ("rejected", "AB05")
    assert net.settlement(BANK_A) == (500_00, 0)
    assert net.hub.deliver_notifications() == 0  # the bank is still down: retried later
    net.banks[BANK_B].down = False
    net.clock.advance(60)
    assert net.hub.deliver_notifications() == 1
    final = net.banks[BANK_B].received[-1]
    assert isinstance(final, m.Pacs002) and final.statuses[0].reason is m.Reason.AB05
    net.verified()


def test_an_acceptance_after_the_deadline_voids_ab05(net: Net) -> None:
    net.banks[BANK_B].late_ns = 20 * 1_000_000_000
    tx = net.transfer(10_00, deadline_s=10)
    answer, _ = net.send(BANK_A, net.pacs008(tx))
    assert (answer.statuses[0].status, answer.statuses[0].reason) == (RJCT, m.Reason.AB05)
    assert net.settlement(BANK_B) == (0, 0)
    net.verified()


def test_the_same_bytes_again_get_the_same_answer_and_move_nothing_twice(net: Net) -> None:
    body, signature = net.signed(BANK_A, net.pacs008(net.transfer(30_00)))
    first, got = net.receive(BANK_A, body, signature)
    again, got_again = net.receive(BANK_A, body, signature)
    assert got_again.replay and got_again.answer == got.answer
    assert again == first
    assert net.settlement(BANK_A) == (470_00, 0)
    assert len(net.banks[BANK_B].received) == 1
    assert _ledger_transfers(net, "hub.") == 2  # the pending transfer and its post
    net.verified()


def test_a_retry_of_a_pending_message_gets_the_final_status_once_the_payee_answers(
        net: Net) -> None:
    net.banks[BANK_B].down = True
    body, signature = net.signed(BANK_A, net.pacs008(net.transfer(30_00)))
    first, _ = net.receive(BANK_A, body, signature)
    assert first.statuses[0].status is PDNG
    net.banks[BANK_B].down = False
    again, got = net.receive(BANK_A, body, signature)
    assert got.replay and again.statuses[0].status is ACSC
    assert net.settlement(BANK_B) == (30_00, 0)
    net.verified()


def test_the_same_uetr_with_other_fields_is_answered_dupl(net: Net) -> None:
    tx = net.transfer(40_00)
    net.send(BANK_A, net.pacs008(tx))
    other = net.transfer(41_00, uetr=tx.uetr)
    answer, _ = net.send(BANK_A, net.pacs008(other))
    assert (answer.statuses[0].status, answer.statuses[0].reason) == (RJCT, m.Reason.DUPL)
    assert _state(net, tx.uetr) == ("settled", None)
    assert net.settlement(BANK_B) == (40_00, 0)
    same, _ = net.send(BANK_A, net.pacs008(tx))  # the same fields in a new message
    assert same.statuses[0].status is ACSC
    assert net.settlement(BANK_B) == (40_00, 0)
    net.verified()


def test_a_participant_cannot_send_another_banks_customer_transfer(net: Net) -> None:
    tx = net.transfer(10_00, payer=BANK_B, payee=BANK_A)  # debtor agent B, sent by A
    answer, _ = net.send(BANK_A, net.pacs008(tx))
    assert (answer.statuses[0].status, answer.statuses[0].reason) == (RJCT, m.Reason.RC01)
    assert net.settlement(BANK_A) == (500_00, 0)


def test_a_transfer_to_an_unknown_bank_is_refused_rc01(net: Net) -> None:
    tx = net.transfer(10_00, payee="BANKZZZ2")
    answer, _ = net.send(BANK_A, net.pacs008(tx))
    assert (answer.statuses[0].status, answer.statuses[0].reason) == (RJCT, m.Reason.RC01)
