"""A settlement account's statement (camt.053) from the hub that holds it.

A participant (a bank, or a peer hub for its correspondent account) asks for its own
account only: ``GET /v1/clearing/statement?account=BIC&from_ns=…&to_ns=…&at_ns=…``,
signed like a message over :func:`request_payload` (decision 0053), made within the
replay window. The hub answers a signed camt.053: one entry per transfer it settled
that touched the account in the period (the UETR its reference; a credit when the
account was paid), and the account's posted balance at the end of the period, so the
participant can reconcile both (``reconcile.py``). Liquidity moves (pacs.009) are in the
balance, not in the entries: the participant knows them from its own pacs.009s.
"""

from __future__ import annotations

from sqlalchemy import or_, select

from ...adapters.clock import Clock
from ...adapters.store import Database
from ...adapters.store.schema import accounts, hub_transfers
from ...domain.clearing.messages import Entry, Header, MessageType, Statement
from ...domain.errors import DomainError
from ...domain.money import Money
from .peers import Peers, Role, settlement_account
from .transport import Transport, new_msg_id

PATH = "/v1/clearing/statement"
ENTRIES_MAX = 100_000
SETTLED = "settled"


def request_payload(account: str, from_ns: int, to_ns: int, at_ns: int) -> bytes:
    return f"statement\0{account}\0{from_ns}\0{to_ns}\0{at_ns}".encode()


class Statements:
    def __init__(self, database: Database, *, clock: Clock, transport: Transport,
                 peers: Peers) -> None:
        self._database = database
        self._clock = clock
        self._transport = transport
        self._peers = peers

    # -- the hub -------------------------------------------------------------------------

    def answer(self, *, sender: str, signature: bytes | None, account: str, from_ns: int,
               to_ns: int, at_ns: int) -> tuple[bytes, bytes]:
        """The signed camt.053 of ``account`` (the sender's own) for the period."""
        peer = self._transport.check_request(
            sender, request_payload(account, from_ns, to_ns, at_ns), signature, at_ns)
        if account != sender or peer.role is Role.CORRESPONDENT:
            raise DomainError("forbidden", "a participant reads its own account only")
        if not 0 <= from_ns <= to_ns:
            raise DomainError("statement_period_invalid", "from_ns is at most to_ns")
        statement = self.statement(account, peer.currency, from_ns, to_ns)
        out = self._transport.prepare(sender, statement)
        return out.body, out.signature

    def statement(self, bic: str, currency: str, from_ns: int, to_ns: int) -> Statement:
        ref = settlement_account(bic, currency)
        with self._database.engine.connect() as conn:
            rows = conn.execute(select(hub_transfers).where(
                hub_transfers.c.state == SETTLED, hub_transfers.c.currency == currency,
                or_(hub_transfers.c.payer == bic, hub_transfers.c.payee == bic),
                hub_transfers.c.updated_at >= from_ns, hub_transfers.c.updated_at <= to_ns,
            ).order_by(hub_transfers.c.updated_at).limit(ENTRIES_MAX)).mappings().all()
            balance = conn.execute(select(
                accounts.c.credits_posted - accounts.c.debits_posted).where(
                accounts.c.id == ref.id)).scalar_one_or_none() or 0
        entries = tuple(Entry(r["uetr"], Money(r["amount"], currency), r["payee"] == bic,
                              r["updated_at"]) for r in rows)
        now = self._clock.now_ns()
        return Statement(Header(new_msg_id(), now, self._transport.bic, bic),
                         new_msg_id(), MessageType.CAMT_053, bic, currency, 0, int(balance),
                         from_ns, to_ns, entries)

    # -- a participant -------------------------------------------------------------------

    def fetch(self, hub: str, *, from_ns: int = 0, to_ns: int | None = None) -> Statement:
        """This node's statement at ``hub``, checked and archived."""
        me = self._transport.bic
        end = self._clock.now_ns() if to_ns is None else to_ns
        at = self._clock.now_ns()
        got = self._transport.fetch(hub, PATH, {
            "account": me, "from_ns": str(from_ns), "to_ns": str(end), "at_ns": str(at)},
            request_payload(me, from_ns, end, at))
        if not isinstance(got, Statement) or got.account != me:
            raise DomainError("peer_refused", f"{hub} answered with another document")
        return got
