"""The parties a clearing node speaks with, and a participant's accounts on the hub.

A hub's operator registers each participant bank (its BIC, its key or certificate, where
it listens, its settlement channel and net debit cap); registering opens its reserve and
settlement accounts on the hub's ledger (central-bank money, domain/ledger/chart.py).
Suspending stops new traffic from and to it; revoking refuses its signatures for good.
Funding a reserve account issues central-bank money: the operator's act, recorded in
the audit log (not yet behind four-eyes: decision 0055).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Any

from sqlalchemy import insert, select, update

from ...adapters.clock import Clock
from ...adapters.store import Database
from ...adapters.store.schema import clearing_peers, ledgers
from ...domain.clearing.messages import Channel, check_bic
from ...domain.errors import DomainError
from ...domain.ledger import Transfer, TransferResult
from ...domain.ledger.chart import AccountKind, TransferCode
from ...domain.money import Money
from .. import audit
from ..ledger.accounts import AccountRef, new_account, platform_account
from ..writepath import Batch, GroupWriter, LedgerRefused, Records
from .ports import ParticipantCA

REGION_CHARS_MAX = 16
URL_CHARS_MAX = 2048


class Role(enum.StrEnum):
    HUB = "hub"  # a peer hub of another region (or, on a bank, its own hub)
    PARTICIPANT = "participant"  # a bank of this hub's region
    CORRESPONDENT = "correspondent"  # a bank of another region, reached ``via`` its hub


class PeerState(enum.StrEnum):
    ACTIVE = "active"
    SUSPENDED = "suspended"
    REVOKED = "revoked"


@dataclass(frozen=True)
class Peer:
    bic: str
    name: str
    role: Role
    url: str | None
    certificate_pem: str
    state: PeerState
    region: str
    channel: Channel
    net_debit_cap: int
    currency: str
    via: str | None

    @property
    def active(self) -> bool:
        return self.state is PeerState.ACTIVE


def reserve_account(bic: str, currency: str) -> AccountRef:
    return AccountRef(AccountKind.CLEARING_RESERVE, bic, currency)


def settlement_account(bic: str, currency: str) -> AccountRef:
    return AccountRef(AccountKind.CLEARING_SETTLEMENT, bic, currency)


def _peer(r: Any) -> Peer:
    m = r._mapping
    return Peer(m["bic"], m["name"], Role(m["role"]), m["url"], m["certificate_pem"],
                PeerState(m["state"]), m["region"], Channel(m["channel"]), m["net_debit_cap"],
                m["currency"], m["via"])


class Peers:
    def __init__(self, database: Database, *, clock: Clock, writer: GroupWriter,
                 ca: ParticipantCA | None = None) -> None:
        self._database = database
        self._clock = clock
        self._writer = writer
        self._ca = ca

    def get(self, bic: str) -> Peer | None:
        with self._database.engine.connect() as conn:
            found = conn.execute(select(clearing_peers).where(clearing_peers.c.bic == bic)).first()
        return None if found is None else _peer(found)

    def list(self) -> list[Peer]:
        with self._database.engine.connect() as conn:
            rows = conn.execute(select(clearing_peers).order_by(clearing_peers.c.role,
                                                                clearing_peers.c.bic)).all()
        return [_peer(r) for r in rows]

    def register(self, *, bic: str, name: str, role: Role, url: str | None, region: str,
                 currency: str, certificate_pem: str | None = None,
                 public_key_pem: str | None = None, channel: Channel = Channel.RTGS,
                 net_debit_cap: int = 0, via: str | None = None, actor: str) -> Peer:
        """Add a peer; a participant's key is certified by the hub's CA when it gives a
        public key, and its reserve and settlement accounts are opened."""
        check_bic(bic)
        if via is not None:
            check_bic(via)
        if not 0 < len(region) <= REGION_CHARS_MAX or not region.isascii():
            raise DomainError("peer_invalid", f"a region is 1 to {REGION_CHARS_MAX} characters")
        if url is not None and (len(url) > URL_CHARS_MAX or not url.startswith(
                ("https://", "http://"))):
            raise DomainError("peer_invalid", "a peer's url is an http(s) URL")
        if net_debit_cap < 0:
            raise DomainError("peer_invalid", "a net debit cap is not negative")
        Money(0, currency)  # checks the code
        with self._database.engine.connect() as conn:
            if conn.execute(select(ledgers.c.id).where(ledgers.c.currency == currency)).first() \
                    is None:
                raise DomainError("ledger_not_found", f"no ledger holds {currency}")
        if certificate_pem is None and role is Role.CORRESPONDENT:
            certificate_pem = ""  # never sends here itself: its region's hub does
        if certificate_pem is None:
            if public_key_pem is None:
                raise DomainError("peer_invalid", "a peer needs a certificate or a public key")
            certificate_pem = (self._ca.issue(bic=bic, name=name, public_key_pem=public_key_pem)
                               if self._ca is not None else public_key_pem)
        now = self._clock.now_ns()
        values = {"bic": bic, "name": name, "role": str(role), "url": url,
                  "certificate_pem": certificate_pem, "state": str(PeerState.ACTIVE),
                  "region": region, "channel": str(channel), "net_debit_cap": net_debit_cap,
                  "currency": currency, "via": via, "created_at": now, "updated_at": now}
        if self.get(bic) is not None:
            raise DomainError("peer_exists", f"peer {bic} is registered already")
        accounts = ([new_account(reserve_account(bic, currency)),
                     new_account(settlement_account(bic, currency))]
                    if role is not Role.CORRESPONDENT else [])
        event = audit.entry(at_ns=now, actor=actor, action="clearing.peer_registered",
                            object_id=bic, detail={"role": str(role), "region": region,
                                                   "channel": str(channel),
                                                   "net_debit_cap": net_debit_cap})

        def write(batch: Batch) -> None:
            batch.later(insert(clearing_peers), values)
            batch.audit(event)

        self._writer.execute(Records(write, accounts=tuple(accounts)))
        peer = self.get(bic)
        if peer is None:
            raise DomainError("not_found", f"no peer {bic}")
        return peer

    def set_state(self, bic: str, state: PeerState, *, actor: str) -> Peer:
        """Suspend, reinstate or revoke a peer; a revoked peer stays revoked."""
        peer = self.get(bic)
        if peer is None:
            raise DomainError("not_found", f"no peer {bic}")
        if peer.state is PeerState.REVOKED and state is not PeerState.REVOKED:
            raise DomainError("peer_revoked", f"peer {bic} is revoked for good")
        now = self._clock.now_ns()
        event = audit.entry(at_ns=now, actor=actor, action=f"clearing.peer_{state}",
                            object_id=bic, detail={"was": str(peer.state)})
        statement = update(clearing_peers).where(clearing_peers.c.bic == bic).values(
            state=str(state), updated_at=now)

        def write(batch: Batch) -> None:
            batch.conn.execute(statement)
            batch.audit(event)

        self._writer.execute(Records(write))
        return Peer(**{**peer.__dict__, "state": state})

    def fund(self, bic: str, amount: Money, *, funding_id: str, actor: str) -> None:
        """Credit a participant's reserves with central-bank money (the operator's issue).
        ``funding_id`` names the act: the same id again moves nothing more."""
        peer = self.get(bic)
        if peer is None or peer.role is Role.CORRESPONDENT:
            raise DomainError("not_found", f"no participant {bic}")
        if amount.currency != peer.currency or amount.amount_minor <= 0:
            raise DomainError("money_amount_invalid",
                              f"funding is a positive amount in {peer.currency}")
        source = platform_account(AccountKind.CENTRAL_BANK, amount.currency)
        target = reserve_account(bic, amount.currency)
        transfer = Transfer(f"fund.{funding_id}", source.id, target.id, amount.amount_minor,
                            target.ledger, int(TransferCode.CLEARING_FUNDING))
        event = audit.entry(at_ns=self._clock.now_ns(), actor=actor,
                            action="clearing.reserve_funded", object_id=bic,
                            detail={"amount": amount.amount_minor, "currency": amount.currency,
                                    "funding_id": funding_id})
        self._writer.execute(_Funding((transfer,), (new_account(source), new_account(target)),
                                      event))


@dataclass
class _Funding:
    chain: tuple[Transfer, ...]
    accounts: tuple[Any, ...]
    event: Any
    savepoint: bool = False

    def run(self, batch: Batch) -> None:
        try:
            batch.post(self.chain)
        except LedgerRefused as refused:
            if refused.results != [TransferResult.EXISTS]:
                raise
            return  # funded already under this id
        batch.audit(self.event)

    def result(self) -> None:
        return None
