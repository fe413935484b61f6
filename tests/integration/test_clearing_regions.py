"""A transfer to another region goes to its hub, which decides; this hub follows and never
voids after forwarding, so the other region's outage leaves it reserved, not split, and
new transfers to that region are refused AB08 while it does not answer (decision 0053)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import select

from paywarden.adapters.clock import FakeClock
from paywarden.adapters.store import Database
from paywarden.adapters.store.schema import hub_transfers
from paywarden.domain.clearing import messages as m
from paywarden.services.clearing import Role
from paywarden.services.ledger import LedgerEngine

from ..support.clearing import FakeBank, KeySigner
from ..support.clearing_net import BANK_A, HUB, Net, hub_net

HUB_B = "HUBBEUR1"
BANK_D = "BANKDDD2"  # a bank of region B


@pytest.fixture
def net(database: Database, engine: LedgerEngine, clock: FakeClock) -> Iterator[Net]:
    with hub_net(database, clock) as the_net:
        key = KeySigner()
        the_net.keys[HUB_B] = key
        the_net.banks[HUB_B] = FakeBank(HUB_B, HUB, the_net.keys[HUB].public_pem, signer=key,
                                        clock=clock, answers=m.Status.ACSC)
        the_net.peers.register(bic=HUB_B, name="Hub B", role=Role.HUB,
                               url=f"http://{HUB_B.lower()}.test", region="b",
                               currency="EUR", public_key_pem=key.public_pem,
                               actor="cli:operator")
        the_net.peers.register(bic=BANK_D, name="Bank D", role=Role.CORRESPONDENT, url=None,
                               region="b", currency="EUR", public_key_pem=key.public_pem,
                               via=HUB_B, actor="cli:operator")
        yield the_net


def _state(net: Net, uetr: str) -> str:
    with net.database.engine.connect() as conn:
        return str(conn.execute(select(hub_transfers.c.state)
                                .where(hub_transfers.c.uetr == uetr)).scalar_one())


def test_a_cross_region_transfer_settles_when_the_other_hub_settles_it(net: Net) -> None:
    tx = net.transfer(25_00, payee=BANK_D)
    answer, _ = net.send(BANK_A, net.pacs008(tx))
    assert answer.statuses[0].status is m.Status.ACSC
    assert net.settlement(BANK_A) == (475_00, 0) and net.settlement(HUB_B) == (25_00, 0)
    forwarded = net.banks[HUB_B].received[0]
    assert isinstance(forwarded, m.Pacs008) and forwarded.header.receiver == HUB_B
    assert net.hub.deliver_notifications() == 0  # hub B tells its bank, not this hub
    net.verified()


def test_an_outage_of_the_other_region_leaves_the_transfer_reserved_until_it_answers(
        net: Net) -> None:
    net.banks[HUB_B].down = True
    tx = net.transfer(25_00, payee=BANK_D, deadline_s=10)
    answer, _ = net.send(BANK_A, net.pacs008(tx))
    assert answer.statuses[0].status is m.Status.PDNG
    assert _state(net, tx.uetr) == "forwarded"
    refused, _ = net.send(BANK_A, net.pacs008(net.transfer(1_00, payee=BANK_D)))
    assert (refused.statuses[0].status, refused.statuses[0].reason) == (m.Status.RJCT,
                                                                        m.Reason.AB08)
    net.clock.advance(30)  # past the deadline: hub B decides, not this hub
    assert net.hub.expire_due() == 0
    assert _state(net, tx.uetr) == "forwarded"
    assert net.settlement(BANK_A) == (500_00, 25_00)
    net.banks[HUB_B].down = False
    net.hub.follow_forwarded()
    assert _state(net, tx.uetr) == "settled"
    assert net.settlement(BANK_A) == (475_00, 0) and net.settlement(HUB_B) == (25_00, 0)
    resent = net.banks[HUB_B].received
    assert len(resent) == 1 and isinstance(resent[0], m.Pacs008)  # the stored bytes, once
    net.verified()


def test_the_other_hubs_rejection_is_followed(net: Net) -> None:
    net.banks[HUB_B].answers = m.Status.PDNG
    tx = net.transfer(25_00, payee=BANK_D)
    net.send(BANK_A, net.pacs008(tx))
    assert _state(net, tx.uetr) == "forwarded"
    net.banks[HUB_B].answers = m.Status.ACSC
    net.banks[HUB_B].unknown_ibans.add(tx.creditor.iban)
    net.hub.follow_forwarded()
    assert _state(net, tx.uetr) == "rejected"
    assert net.settlement(BANK_A) == (500_00, 0) and net.settlement(HUB_B) == (0, 0)
    net.verified()
