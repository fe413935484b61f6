"""A bank's link to its hub over the transport (services/clearing/node.py): a message
sent again goes as its exact stored bytes, also when another thread of the bank
archived the same message between this one's look and its write. On SQLite and
PostgreSQL."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import httpx
import pytest

from paywarden.adapters.clock import FakeClock
from paywarden.adapters.store import Database
from paywarden.domain.clearing import messages as m
from paywarden.domain.money import Money
from paywarden.services.clearing import Peers, Role, Transport, archive
from paywarden.services.clearing.node import TransportHubLink
from paywarden.services.clearing.transport import new_msg_id
from paywarden.services.ledger import LedgerEngine
from paywarden.services.writepath import GroupWriter

from ..support.clearing import IsoCodec, KeySigner
from ..support.clearing_net import BANK_A, BANK_B, HUB, IBAN_A, IBAN_B


@pytest.fixture
def wire(database: Database, engine: LedgerEngine,
         clock: FakeClock) -> Iterator[tuple[Transport, list[bytes]]]:
    """BANK_A's transport to its hub, which answers 204 and records what it got."""
    writer = GroupWriter(database, clock=clock).start()
    peers = Peers(database, clock=clock, writer=writer)
    peers.register(bic=HUB, name="Hub", role=Role.HUB, url="http://hub.test", region="eu",
                   currency="EUR", public_key_pem=KeySigner().public_pem, actor="cli:operator")
    got: list[bytes] = []

    def hub(request: httpx.Request) -> httpx.Response:
        got.append(request.content)
        return httpx.Response(204)

    with httpx.Client(transport=httpx.MockTransport(hub)) as http:
        yield Transport(database, clock=clock, bic=BANK_A, codec=IsoCodec(), signer=KeySigner(),
                        peers=peers, http=http, replay_window_s=300,
                        body_bytes_max=256 * 1024), got
    writer.stop()


def test_a_message_archived_meanwhile_by_another_thread_goes_as_the_stored_bytes(
        wire: tuple[Transport, list[bytes]], database: Database, clock: FakeClock,
        monkeypatch: pytest.MonkeyPatch) -> None:
    transport, got = wire
    uetr = str(uuid.uuid4())
    message = m.Pacs008(m.Header(new_msg_id(), clock.now_ns(), BANK_A, HUB), (
        m.CreditTransfer(uetr, "E2E" + uetr[:8], "TX" + uetr[:8], Money(10_00, "EUR"),
                         m.Party("Ann", IBAN_A, BANK_A), m.Party("Bob", IBAN_B, BANK_B),
                         clock.now_ns() + 30 * 10**9),))
    link = TransportHubLink(database, transport, hub_bic=HUB)
    first = transport.prepare(HUB, message)  # the other thread's, archived first
    looked = link._stored
    calls = iter([None])  # this thread looked before the other archived it
    monkeypatch.setattr(link, "_stored", lambda msg: next(calls, None) or looked(msg))
    with database.engine.begin() as conn:
        archive.put(conn, first.row)
    assert link.send(message) is None
    assert got == [first.body]
    with database.engine.connect() as conn:  # archived once
        assert archive.find(conn, direction=archive.OUT, sender=BANK_A,
                            msg_id=message.header.msg_id) is not None
