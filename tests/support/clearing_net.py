"""A hub with two participant banks, on a real database, for the hub's tests: the payer
bank's messages go straight into the hub's transport; the payee banks answer over a mock
HTTP transport (tests/support/clearing.py)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

import httpx
from sqlalchemy import select

from paywarden.adapters.clock import FakeClock
from paywarden.adapters.store import Database
from paywarden.adapters.store.schema import accounts
from paywarden.domain.clearing import messages as m
from paywarden.domain.money import Money
from paywarden.services.clearing import Hub, NetPositions, Peers, Received, Role, Transport
from paywarden.services.clearing.hub_recalls import HubRecalls
from paywarden.services.clearing.notices import Notices
from paywarden.services.clearing.peers import reserve_account, settlement_account
from paywarden.services.clearing.recall_cases import Cases
from paywarden.services.clearing.transport import new_msg_id
from paywarden.services.ledger.accounts import AccountRef
from paywarden.services.ledger.verify import verify_ledger
from paywarden.services.writepath import GroupWriter

from .clearing import FakeBank, IsoCodec, KeySigner, router

HUB = "HUBAEUR1"
BANK_A = "BANKAAA2"
BANK_B = "BANKBBB2"
BANK_C = "BANKCCC2"
IBAN_A = "DE89370400440532013000"
IBAN_B = "FR1420041010050500013M02606"
DEADLINE_S = 30


@dataclass
class Net:
    database: Database
    clock: FakeClock
    hub: Hub
    transport: Transport
    peers: Peers
    codec: IsoCodec
    keys: dict[str, KeySigner]
    banks: dict[str, FakeBank]
    cases: Cases
    notices: Notices
    sent: list[bytes] = field(default_factory=list)

    def signed(self, sender: str, message: m.Message,
               key: KeySigner | None = None) -> tuple[bytes, bytes]:
        body = self.codec.encode(message)
        return body, (key or self.keys[sender]).sign(sender, body)

    def send(self, sender: str, message: m.Message) -> tuple[m.Pacs002, Received]:
        body, signature = self.signed(sender, message)
        return self.receive(sender, body, signature)

    def receive(self, sender: str, body: bytes,
                signature: bytes) -> tuple[m.Pacs002, Received]:
        got = self.transport.receive(body, sender, signature)
        assert got.answer is not None and got.signature is not None
        assert self.keys[HUB].verify(self.keys[HUB].public_pem, HUB, got.answer, got.signature)
        answer = self.codec.decode(got.answer)
        assert isinstance(answer, m.Pacs002)
        return answer, got

    def exchange(self, sender: str, message: m.Message) -> m.Message | None:
        """Any message from ``sender`` into the hub; its answer (None: HTTP 204)."""
        body, signature = self.signed(sender, message)
        got = self.transport.receive(body, sender, signature)
        return None if got.answer is None else self.codec.decode(got.answer)

    def header(self, sender: str = BANK_A) -> m.Header:
        return m.Header(new_msg_id(), self.clock.now_ns(), sender, HUB)

    def transfer(self, amount_minor: int, *, payee: str = BANK_B, iban: str = IBAN_B,
                 uetr: str | None = None, deadline_s: int = DEADLINE_S,
                 payer: str = BANK_A) -> m.CreditTransfer:
        uetr = uetr or str(uuid.uuid4())
        return m.CreditTransfer(uetr, "E2E" + uetr[:8], "TX" + uetr[:8],
                                Money(amount_minor, "EUR"), m.Party("Ann Payer", IBAN_A, payer),
                                m.Party("Bob Payee", iban, payee),
                                self.clock.now_ns() + deadline_s * 1_000_000_000)

    def pacs008(self, *transfers: m.CreditTransfer, sender: str = BANK_A) -> m.Pacs008:
        return m.Pacs008(self.header(sender), transfers)

    def liquidity(self, sender: str, amount_minor: int, *, debtor: str,
                  creditor: str) -> m.Pacs009:
        uetr = str(uuid.uuid4())
        return m.Pacs009(self.header(sender), (m.BankTransfer(
            "I" + uetr[:8], "E" + uetr[:8], uetr, Money(amount_minor, "EUR"), debtor,
            creditor),))

    def balance(self, ref: AccountRef) -> tuple[int, int]:
        """(posted credits - posted debits, pending debits) of a ledger account."""
        with self.database.engine.connect() as conn:
            row = conn.execute(select(accounts).where(accounts.c.id == ref.id)).first()
        if row is None:
            return 0, 0
        r = row._mapping
        return r["credits_posted"] - r["debits_posted"], r["debits_pending"]

    def settlement(self, bic: str) -> tuple[int, int]:
        return self.balance(settlement_account(bic, "EUR"))

    def reserve(self, bic: str) -> tuple[int, int]:
        return self.balance(reserve_account(bic, "EUR"))

    def verified(self) -> None:
        assert verify_ledger(self.database) == []


@contextmanager
def hub_net(database: Database, clock: FakeClock,
            positions: NetPositions | None = None) -> Iterator[Net]:
    """Three participant banks of one hub; bank A funded 1,000.00 EUR and 500.00 of it moved
    into its settlement account by its own pacs.009. (The database needs its EUR ledger:
    the ``engine`` fixture makes it.)"""
    writer = GroupWriter(database, clock=clock).start()
    codec = IsoCodec()
    keys = {bic: KeySigner() for bic in (HUB, BANK_A, BANK_B, BANK_C)}
    banks = {bic: FakeBank(bic, HUB, keys[HUB].public_pem, signer=keys[bic], clock=clock)
             for bic in (BANK_A, BANK_B, BANK_C)}
    http = httpx.Client(transport=router(banks))
    peers = Peers(database, clock=clock, writer=writer)
    transport = Transport(database, clock=clock, bic=HUB, codec=codec, signer=keys[HUB],
                          peers=peers, http=http, replay_window_s=300,
                          body_bytes_max=256 * 1024)
    hub = Hub(database, clock=clock, writer=writer, transport=transport, peers=peers,
              net=positions)
    hub.install()
    cases = Cases(database, clock=clock, transport=transport)
    HubRecalls(database, clock=clock, peers=peers, cases=cases).install(transport)
    notices = Notices(database, clock=clock, transport=transport, peers=peers)
    notices.install()
    for bic in (BANK_A, BANK_B, BANK_C):
        peers.register(bic=bic, name=f"Bank {bic[4]}", role=Role.PARTICIPANT,
                       url=f"http://{bic.lower()}.test", region="eu", currency="EUR",
                       public_key_pem=keys[bic].public_pem, actor="cli:operator")
    peers.fund(BANK_A, Money(1_000_00, "EUR"), funding_id="a1", actor="cli:operator")
    the_net = Net(database, clock, hub, transport, peers, codec, keys, banks, cases, notices)
    answer, _ = the_net.send(BANK_A, the_net.liquidity(BANK_A, 500_00, debtor=HUB,
                                                       creditor=BANK_A))
    assert answer.statuses[0].status is m.Status.ACSC
    try:
        yield the_net
    finally:
        http.close()
        writer.stop()
