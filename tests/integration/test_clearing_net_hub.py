"""Deferred net settlement through the hub, on the real net windows (decisions 0055,
0057): a transfer on channel MPNS takes a position under the payer's cap and moves no
settlement money until its window settles; the cap counts every unsettled window."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator

import pytest
from sqlalchemy import update

from paywarden.adapters.clock import FakeClock
from paywarden.adapters.store import Database
from paywarden.adapters.store.schema import clearing_peers
from paywarden.domain.clearing import messages as m
from paywarden.services.clearing.peers import Peers
from paywarden.services.clearing.windows import NetWindows
from paywarden.services.ledger import LedgerEngine
from paywarden.services.writepath import GroupWriter

from ..support.clearing_net import BANK_A, BANK_B, HUB, Net, hub_net

CAP = 100_00


@pytest.fixture
def positions(database: Database, engine: LedgerEngine,
              clock: FakeClock) -> Iterator[NetWindows]:
    writer = GroupWriter(database, clock=clock).start()
    try:
        peers = Peers(database, clock=clock, writer=writer)
        yield NetWindows(database, writer=writer, clock=clock,
                         caps=lambda bic: p.net_debit_cap if (p := peers.get(bic)) else 0)
    finally:
        writer.stop()


@pytest.fixture
def net(database: Database, clock: FakeClock, positions: NetWindows) -> Iterator[Net]:
    with hub_net(database, clock, positions) as the_net:
        with database.engine.begin() as conn:  # the cap bank A was registered with
            conn.execute(update(clearing_peers).where(clearing_peers.c.bic == BANK_A)
                         .values(net_debit_cap=CAP))
        yield the_net


def _send(net: Net, amount_minor: int) -> m.TxStatus:
    tx = dataclasses.replace(net.transfer(amount_minor), channel=m.Channel.NET)
    answer, _ = net.send(BANK_A, net.pacs008(tx))
    return answer.statuses[0]


def test_a_net_transfer_moves_settlement_money_only_when_its_window_settles(
        net: Net, positions: NetWindows) -> None:
    assert _send(net, 60_00).status is m.Status.ACSC
    assert net.settlement(BANK_A) == (500_00, 0) and net.settlement(BANK_B) == (0, 0)
    window = positions.close("EUR", actor="cli:operator")
    positions.settle(window.id, actor="cli:operator")
    assert net.settlement(BANK_A) == (440_00, 0) and net.settlement(BANK_B) == (60_00, 0)
    net.verified()


def test_a_net_transfer_past_the_cap_is_answered_am04(net: Net) -> None:
    status = _send(net, CAP + 1)
    assert (status.status, status.reason) == (m.Status.RJCT, m.Reason.AM04)
    assert net.settlement(BANK_A) == (500_00, 0)


def test_a_closed_window_not_yet_settled_still_counts_against_the_cap(
        net: Net, positions: NetWindows) -> None:
    assert _send(net, 60_00).status is m.Status.ACSC
    first = positions.close("EUR", actor="cli:operator")
    refused = _send(net, 50_00)  # 60 owed in the closed window + 50 > the cap of 100
    assert (refused.status, refused.reason) == (m.Status.RJCT, m.Reason.AM04)
    positions.settle(first.id, actor="cli:operator")
    assert _send(net, 50_00).status is m.Status.ACSC
    net.verified()


def test_the_settlement_cycle_closes_and_settles_a_window_once_it_is_due(
        net: Net, positions: NetWindows) -> None:
    windows = positions
    assert windows.cycle(60) == 0  # nothing committed: an empty window stays open
    assert _send(net, 60_00).status is m.Status.ACSC
    assert windows.cycle(60) == 0  # not due yet
    assert net.settlement(BANK_B) == (0, 0)
    net.clock.advance(61)
    assert windows.cycle(60) == 1
    assert net.settlement(BANK_A) == (440_00, 0) and net.settlement(BANK_B) == (60_00, 0)
    assert windows.cycle(60) == 0  # settled once
    assert _send(net, 10_00).status is m.Status.ACSC
    by_hand = windows.close("EUR", actor="cli:operator")  # closed by hand: settled next
    assert windows.cycle(60) == 1
    assert [v.state for v in windows.windows() if v.id == by_hand.id] == ["settled"]
    assert net.settlement(BANK_B) == (70_00, 0)
    net.verified()


def test_liquidity_out_must_leave_the_net_positions_covered(
        net: Net, positions: NetWindows) -> None:
    """A bank that owes 60.00 net cannot take out more than leaves 60.00 behind; the
    same pacs.009 again is answered as the first time, whatever the balance is now."""
    assert _send(net, 60_00).status is m.Status.ACSC
    too_much = net.liquidity(BANK_A, 440_01, debtor=BANK_A, creditor=HUB)
    answer, _ = net.send(BANK_A, too_much)
    assert (answer.statuses[0].status, answer.statuses[0].reason) == (m.Status.RJCT,
                                                                      m.Reason.AM04)
    assert net.settlement(BANK_A) == (500_00, 0)
    enough = net.liquidity(BANK_A, 440_00, debtor=BANK_A, creditor=HUB)
    assert net.send(BANK_A, enough)[0].statuses[0].status is m.Status.ACSC
    assert net.settlement(BANK_A) == (60_00, 0)
    again = dataclasses.replace(enough, header=net.header())  # a retry under a new MsgId
    assert net.send(BANK_A, again)[0].statuses[0].status is m.Status.ACSC
    assert net.settlement(BANK_A) == (60_00, 0)
    window = positions.close("EUR", actor="cli:operator")
    positions.settle(window.id, actor="cli:operator")  # the 60.00 is there to settle
    assert net.settlement(BANK_A) == (0, 0) and net.settlement(BANK_B) == (60_00, 0)
    net.verified()
