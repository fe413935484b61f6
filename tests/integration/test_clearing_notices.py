"""Settlement-account notifications (camt.054, decision 0062): a hub owes each side of a
settled transfer a booking, written with the settlement, and delivers it until the
participant takes it; a participant keeps each booking once, only from its hub, only
of its own account; `clearing reconcile` names a notified booking it holds otherwise.
On SQLite and PostgreSQL."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass

import httpx
import pytest

from paywarden.adapters.clock import FakeClock
from paywarden.adapters.store import Database
from paywarden.domain.clearing import messages as m
from paywarden.domain.errors import DomainError
from paywarden.domain.money import Money
from paywarden.services.clearing import Peers, Role, Transport
from paywarden.services.clearing.notices import ENTRIES_PER_MESSAGE, Notices
from paywarden.services.clearing.reconcile import Report, compare
from paywarden.services.clearing.transport import new_msg_id
from paywarden.services.ledger import LedgerEngine
from paywarden.services.writepath import GroupWriter

from ..support.clearing import IsoCodec, KeySigner
from ..support.clearing_net import BANK_A, BANK_B, BANK_C, HUB, IBAN_B, Net, hub_net


@pytest.fixture
def net(database: Database, engine: LedgerEngine, clock: FakeClock) -> Iterator[Net]:
    with hub_net(database, clock) as the_net:
        yield the_net


def _notices(net: Net, bic: str) -> list[m.Statement]:
    return [s for s in net.banks[bic].received
            if isinstance(s, m.Statement) and s.kind == m.MessageType.CAMT_054]


def _bookings(net: Net, bic: str) -> dict[str, int]:
    return {e.reference: e.amount.amount_minor * (1 if e.credit else -1)
            for s in _notices(net, bic) for e in s.entries}


def test_a_settled_transfer_is_notified_to_both_sides_once(net: Net) -> None:
    tx = net.transfer(120_00)
    answer, _ = net.send(BANK_A, net.pacs008(tx))
    assert answer.statuses[0].status is m.Status.ACSC
    assert net.notices.pending() == 2
    assert net.notices.deliver_due() == 2
    assert _bookings(net, BANK_A) == {tx.uetr: -120_00}
    assert _bookings(net, BANK_B) == {tx.uetr: 120_00}
    (note,) = _notices(net, BANK_B)
    assert note.account == BANK_B and note.currency == "EUR"
    assert note.header.sender == HUB and note.opening_minor == note.closing_minor == 0
    assert net.notices.deliver_due() == 0 and net.notices.pending() == 0
    assert len(_notices(net, BANK_B)) == 1


def test_a_rejected_transfer_books_nothing_and_owes_no_notice(net: Net) -> None:
    net.banks[BANK_B].unknown_ibans.add(IBAN_B)
    answer, _ = net.send(BANK_A, net.pacs008(net.transfer(50_00)))
    assert answer.statuses[0].status is m.Status.RJCT
    assert net.notices.pending() == 0 and net.notices.deliver_due() == 0
    assert _notices(net, BANK_A) == [] and _notices(net, BANK_B) == []


def test_a_participant_that_is_down_is_notified_when_it_is_back(net: Net) -> None:
    tx = net.transfer(70_00)
    assert net.send(BANK_A, net.pacs008(tx))[0].statuses[0].status is m.Status.ACSC
    net.banks[BANK_B].down = True  # it accepted the transfer, then went down
    assert net.notices.deliver_due() == 1  # BANK_A's debit
    assert net.notices.pending() == 1
    net.banks[BANK_B].down = False
    assert net.notices.deliver_due() == 0  # backing off
    net.clock.advance(61)
    assert net.notices.deliver_due() == 1
    assert _bookings(net, BANK_B) == {tx.uetr: 70_00}


def test_many_bookings_go_in_messages_of_a_bounded_size(net: Net) -> None:
    net.peers.fund(BANK_C, Money(10_000_00, "EUR"), funding_id="c1", actor="cli:operator")
    net.send(BANK_C, net.liquidity(BANK_C, 10_000_00, debtor=HUB, creditor=BANK_C))
    count = ENTRIES_PER_MESSAGE + 5
    for start in range(0, count, 100):
        net.send(BANK_C, net.pacs008(*(net.transfer(1_00, payer=BANK_C)
                                       for _ in range(min(100, count - start))),
                                     sender=BANK_C))
    assert net.notices.deliver_due() == 2 * count
    assert [len(s.entries) for s in _notices(net, BANK_C)] == [ENTRIES_PER_MESSAGE, 5]
    assert sum(_bookings(net, BANK_C).values()) == -count * 1_00


# -- a participant -----------------------------------------------------------------------


@dataclass
class Participant:
    transport: Transport
    notices: Notices
    codec: IsoCodec
    keys: dict[str, KeySigner]
    clock: FakeClock

    def notify(self, *entries: m.Entry, sender: str = HUB, account: str = BANK_B) -> None:
        note = m.Statement(m.Header(new_msg_id(), self.clock.now_ns(), sender, BANK_B),
                           new_msg_id(), m.MessageType.CAMT_054, account, "EUR", 0, 0,
                           self.clock.now_ns(), self.clock.now_ns(), entries)
        body = self.codec.encode(note)
        got = self.transport.receive(body, sender, self.keys[sender].sign(sender, body))
        assert got.answer is None


@pytest.fixture
def bank(database: Database, engine: LedgerEngine, clock: FakeClock) -> Iterator[Participant]:
    """BANK_B's clearing node: its hub, and (wrongly, for the attack) a bank as a peer."""
    writer = GroupWriter(database, clock=clock).start()
    keys = {HUB: KeySigner(), BANK_B: KeySigner(), BANK_C: KeySigner()}
    peers = Peers(database, clock=clock, writer=writer)
    with httpx.Client(transport=httpx.MockTransport(lambda r: httpx.Response(204))) as http:
        transport = Transport(database, clock=clock, bic=BANK_B, codec=IsoCodec(),
                              signer=keys[BANK_B], peers=peers, http=http,
                              replay_window_s=300, body_bytes_max=256 * 1024)
        peers.register(bic=HUB, name="Hub", role=Role.HUB, url="http://hub.test",
                       region="eu", currency="EUR", public_key_pem=keys[HUB].public_pem,
                       actor="cli:operator")
        peers.register(bic=BANK_C, name="Bank C", role=Role.PARTICIPANT,
                       url="http://bankccc2.test", region="eu", currency="EUR",
                       public_key_pem=keys[BANK_C].public_pem, actor="cli:operator")
        notices = Notices(database, clock=clock, transport=transport, peers=peers)
        notices.install()
        try:
            yield Participant(transport, notices, IsoCodec(), keys, clock)
        finally:
            writer.stop()


def _entry(amount_minor: int, *, credit: bool = True, uetr: str | None = None) -> m.Entry:
    return m.Entry(uetr or str(uuid.uuid4()), Money(amount_minor, "EUR"), credit, 1)


def test_a_participant_keeps_each_notified_booking_once(bank: Participant) -> None:
    first, second = _entry(10_00), _entry(20_00, credit=False)
    bank.notify(first)
    bank.notify(first, second)  # a repeat after the hub's crash, with a new booking
    got = {n["reference"]: (n["amount"], n["credit"]) for n in bank.notices.received()}
    assert got == {first.reference: (10_00, True), second.reference: (20_00, False)}


def test_a_notice_from_anyone_but_a_hub_or_of_another_account_is_refused(
        bank: Participant) -> None:
    with pytest.raises(DomainError) as by_bank:
        bank.notify(_entry(1_000_00), sender=BANK_C)
    assert by_bank.value.code == "forbidden"
    with pytest.raises(DomainError) as other:
        bank.notify(_entry(1_000_00), account=BANK_C)
    assert other.value.code == "forbidden"
    assert bank.notices.received() == []


def test_reconcile_names_a_notified_booking_held_otherwise_or_unknown() -> None:
    settled, pending, unknown, wrong = (str(uuid.uuid4()) for _ in range(4))
    ours = {settled: 10_00, wrong: -5_00}
    report = Report(BANK_B)
    compare(report, HUB, ours, {pending}, dict(ours), set())  # the statement agrees
    compare(report, HUB, ours, {pending},
            {settled: 10_00, pending: 3_00, unknown: 7_00, wrong: -6_00}, set(),
            source="camt.054")
    assert report.checked == 2 and report.counterparties == [HUB]
    assert report.in_flight == [pending]
    assert sorted((d["uetr"], d["ours"], d["theirs"], d["source"])
                  for d in report.differences) == sorted(
        [(unknown, None, 7_00, "camt.054"), (wrong, -5_00, -6_00, "camt.054")])
