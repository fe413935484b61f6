"""A transfer on channel MPNS takes a position in the net window instead of settlement
money (the windows are built beside the hub: a fake stands in for them here; the hub
calls it inside its own units, with their batch)."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest

from paywarden.adapters.clock import FakeClock
from paywarden.adapters.store import Database
from paywarden.domain.clearing import messages as m
from paywarden.services.ledger import LedgerEngine

from ..support.clearing_net import BANK_A, IBAN_B, Net, hub_net


@dataclass
class Positions:
    cap: int
    held: dict[str, int] = field(default_factory=dict)
    committed: list[str] = field(default_factory=list)
    released: list[str] = field(default_factory=list)

    def reserve(self, batch: Any, uetr: str, payer: str, payee: str, amount: int,
                currency: str) -> bool:
        if uetr in self.held:
            return True
        if sum(self.held.values()) + amount > self.cap:
            return False
        self.held[uetr] = amount
        return True

    def commit(self, batch: Any, uetr: str) -> None:
        self.committed.append(uetr)

    def release(self, batch: Any, uetr: str) -> None:
        self.released.append(uetr)
        self.held.pop(uetr, None)

    def check_withdrawal(self, batch: Any, bic: str, currency: str, amount: int) -> None:
        return None


@pytest.fixture
def positions() -> Positions:
    return Positions(cap=100_00)


@pytest.fixture
def net(database: Database, engine: LedgerEngine, clock: FakeClock,
        positions: Positions) -> Iterator[Net]:
    with hub_net(database, clock, positions) as the_net:
        yield the_net


def _net(net: Net, amount_minor: int) -> m.CreditTransfer:
    return dataclasses.replace(net.transfer(amount_minor), channel=m.Channel.NET)


def test_a_net_transfer_takes_a_position_and_moves_no_settlement_money(
        net: Net, positions: Positions) -> None:
    tx = _net(net, 60_00)
    answer, _ = net.send(BANK_A, net.pacs008(tx))
    assert answer.statuses[0].status is m.Status.ACSC
    assert positions.committed == [tx.uetr]
    assert net.settlement(BANK_A) == (500_00, 0)
    net.verified()


def test_a_net_transfer_over_the_cap_is_answered_am04(net: Net, positions: Positions) -> None:
    answer, _ = net.send(BANK_A, net.pacs008(_net(net, 100_01)))
    assert (answer.statuses[0].status, answer.statuses[0].reason) == (m.Status.RJCT,
                                                                      m.Reason.AM04)
    assert positions.held == {}


def test_a_rejected_net_transfer_releases_its_position(net: Net, positions: Positions) -> None:
    net.banks["BANKBBB2"].unknown_ibans.add(IBAN_B)
    tx = _net(net, 10_00)
    net.send(BANK_A, net.pacs008(tx))
    assert positions.released == [tx.uetr] and positions.held == {}
