"""Returns (pacs.004) at the hub (decision 0060): two-phase back along the returned
transfer's path, only by the party it was paid to, at most its amount, once; on SQLite
and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import select

from paywarden.adapters.clock import FakeClock
from paywarden.adapters.store import Database
from paywarden.adapters.store.schema import clearing_outbox, hub_transfers
from paywarden.domain.clearing import messages as m
from paywarden.domain.money import Money
from paywarden.services.ledger import LedgerEngine

from ..support.clearing_net import BANK_A, BANK_B, BANK_C, HUB, Net, hub_net

ACSC, RJCT, PDNG = m.Status.ACSC, m.Status.RJCT, m.Status.PDNG


@pytest.fixture
def net(database: Database, engine: LedgerEngine, clock: FakeClock) -> Iterator[Net]:
    with hub_net(database, clock) as the_net:
        yield the_net


def settled(net: Net, amount_minor: int) -> m.CreditTransfer:
    """A transfer A → B of ``amount_minor``, settled."""
    tx = net.transfer(amount_minor)
    answer, _ = net.send(BANK_A, net.pacs008(tx))
    assert answer.statuses[0].status is ACSC
    return tx


def a_return(tx: m.CreditTransfer, amount_minor: int | None = None, *,
             return_id: str | None = None, reason: str = "FR01") -> m.Return:
    return m.Return(return_id or m.new_return_id(), "MSG-ORIGINAL", tx.uetr, tx.end_to_end_id,
                    Money(tx.amount.amount_minor if amount_minor is None else amount_minor,
                          "EUR"), reason)


def pacs004(net: Net, *returns: m.Return, sender: str = BANK_B) -> m.Pacs004:
    return m.Pacs004(net.header(sender), returns)


def test_a_return_goes_back_to_the_payer_bank_and_settles_gross(net: Net) -> None:
    tx = settled(net, 40_00)
    assert net.settlement(BANK_A) == (460_00, 0) and net.settlement(BANK_B) == (40_00, 0)
    back = a_return(tx)
    answer, _ = net.send(BANK_B, pacs004(net, back))
    assert answer.original_type is m.MessageType.PACS_004
    status = answer.statuses[0]
    assert (status.uetr, status.tx_id, status.status) == (m.return_key(back.return_id),
                                                          back.return_id, ACSC)
    assert net.settlement(BANK_A) == (500_00, 0) and net.settlement(BANK_B) == (0, 0)
    forwarded = net.banks[BANK_A].received[-1]
    assert isinstance(forwarded, m.Pacs004) and forwarded.returns == (back,)
    with net.database.engine.connect() as conn:
        row = conn.execute(select(hub_transfers).where(
            hub_transfers.c.uetr == status.uetr)).mappings().one()
        owed = conn.execute(select(clearing_outbox).where(
            clearing_outbox.c.uetr == status.uetr)).mappings().one()
    assert (row["state"], row["payer"], row["payee"], row["original_uetr"]) == (
        "settled", BANK_B, BANK_A, tx.uetr)
    assert (owed["receiver"], owed["original_type"]) == (BANK_A, "pacs.004.001.10")
    assert net.hub.deliver_notifications() == 2  # the transfer's ACSC to B, the return's to A
    report = net.banks[BANK_A].received[-1]
    assert isinstance(report, m.Pacs002) and report.original_type is m.MessageType.PACS_004
    assert report.statuses[0].status is ACSC
    net.verified()


def test_a_partial_return_moves_only_its_amount_and_the_retry_is_answered_alike(
        net: Net) -> None:
    tx = settled(net, 40_00)
    back = a_return(tx, 15_00)
    first, _ = net.send(BANK_B, pacs004(net, back))
    again, _ = net.send(BANK_B, pacs004(net, back))  # the same return, a new message
    assert first.statuses[0].status is ACSC and again.statuses[0].status is ACSC
    assert net.settlement(BANK_A) == (475_00, 0) and net.settlement(BANK_B) == (25_00, 0)
    net.verified()


def test_only_the_bank_paid_returns_only_what_it_was_paid_once(net: Net) -> None:
    tx = settled(net, 40_00)
    cases = [
        (BANK_C, a_return(tx), m.Reason.RC01),  # C was never paid it
        (BANK_B, a_return(tx, 40_01), m.Reason.AM02),  # more than the transfer
        (BANK_B, m.Return(m.new_return_id(), "M", tx.uetr, tx.end_to_end_id,
                          Money(10_00, "USD"), "FR01"), m.Reason.AM03),
        (BANK_B, a_return(net.transfer(10_00)), m.Reason.NARR),  # never came through here
        (BANK_B, a_return(tx, return_id="not-a-uuid-at-all"), m.Reason.NARR),
    ]
    for sender, back, reason in cases:
        answer, _ = net.send(sender, pacs004(net, back, sender=sender))
        assert (answer.statuses[0].status, answer.statuses[0].reason) == (RJCT, reason), back
    assert net.settlement(BANK_A) == (460_00, 0) and net.settlement(BANK_B) == (40_00, 0)
    done, _ = net.send(BANK_B, pacs004(net, a_return(tx, 10_00)))
    second, _ = net.send(BANK_B, pacs004(net, a_return(tx, 10_00)))  # another return id
    assert done.statuses[0].status is ACSC
    assert (second.statuses[0].status, second.statuses[0].reason) == (RJCT, m.Reason.DUPL)
    assert net.settlement(BANK_A) == (470_00, 0)
    net.verified()


def test_a_return_of_a_transfer_not_settled_is_refused(net: Net) -> None:
    net.banks[BANK_B].answers = PDNG  # the payee bank has not accepted it yet
    tx = net.transfer(40_00)
    answer, _ = net.send(BANK_A, net.pacs008(tx))
    assert answer.statuses[0].status is PDNG
    refused, _ = net.send(BANK_B, pacs004(net, a_return(tx)))
    assert (refused.statuses[0].status, refused.statuses[0].reason) == (RJCT, m.Reason.NARR)


def test_a_return_the_payer_bank_does_not_take_in_time_is_voided_and_can_be_made_again(
        net: Net, clock: FakeClock) -> None:
    tx = settled(net, 40_00)
    net.banks[BANK_A].down = True
    first = a_return(tx)
    answer, _ = net.send(BANK_B, pacs004(net, first))
    assert answer.statuses[0].status is PDNG  # reserved: B's settlement money is held
    assert net.settlement(BANK_B) == (40_00, 40_00)
    clock.advance(31)
    assert net.hub.expire_due() == 1
    assert net.settlement(BANK_B) == (40_00, 0)
    again, _ = net.send(BANK_B, pacs004(net, first))
    assert (again.statuses[0].status, again.statuses[0].reason) == (RJCT, m.Reason.AB05)
    net.banks[BANK_A].down = False
    retried, _ = net.send(BANK_B, pacs004(net, a_return(tx)))  # a new return id
    assert retried.statuses[0].status is ACSC
    assert net.settlement(BANK_A) == (500_00, 0) and net.settlement(BANK_B) == (0, 0)
    net.verified()


def test_a_returning_bank_short_of_liquidity_is_answered_am04(net: Net) -> None:
    tx = settled(net, 40_00)
    spend = net.transfer(30_00, payer=BANK_B, payee=BANK_C)  # B pays most of it on
    paid, _ = net.send(BANK_B, net.pacs008(spend, sender=BANK_B))
    assert paid.statuses[0].status is ACSC
    answer, _ = net.send(BANK_B, pacs004(net, a_return(tx)))
    assert (answer.statuses[0].status, answer.statuses[0].reason) == (RJCT, m.Reason.AM04)
    assert net.settlement(BANK_A) == (460_00, 0)
    net.verified()
    assert HUB  # the hub answered every one of these itself
