"""An in-process hub for the participant bank's tests: it answers each pacs.008 as told,
remembers what it was sent, and builds the pacs.008 and pacs.002 a hub would forward."""

from __future__ import annotations

import secrets
import uuid
from dataclasses import dataclass, field

from paywarden.domain.clearing.messages import (
    Channel,
    CreditTransfer,
    Header,
    Message,
    MessageType,
    Pacs002,
    Pacs004,
    Pacs008,
    Party,
    Reason,
    Status,
    TxStatus,
    return_key,
)
from paywarden.domain.money import Money
from paywarden.services.clearing.bank_ports import HubUnreachable

HUB = "PAYHNL2A"  # the bank's hub
BANK = "PAYWNL2A"  # the bank under test (bank code PAYW, as the test platform's IBANs)
OTHER = "OTHRDEFF"  # another participant
ELSEWHERE_BIC = "COBADEFFXXX"  # the bank of tests/support/transfers.ELSEWHERE, by schwifty


@dataclass
class FakeHub:
    """A hub that answers every transaction ``default``, or as ``answers`` says by UETR."""

    default: tuple[Status, Reason | None] = (Status.ACSC, None)
    answers: dict[str, tuple[Status, Reason | None]] = field(default_factory=dict)
    sent: list[Message] = field(default_factory=list)
    down: bool = False

    def send(self, message: Message) -> Message | None:
        if self.down:
            raise HubUnreachable("connection refused")
        self.sent.append(message)
        header = Header("hub" + secrets.token_hex(8), message.header.created_ns, HUB,
                        message.header.sender)
        if isinstance(message, Pacs004):  # returns: answered by their return UETR
            keys = [(return_key(r.return_id) or "", r) for r in message.returns]
            return Pacs002(header, message.header.msg_id, MessageType.PACS_004, tuple(
                TxStatus(k, r.original_end_to_end_id, r.return_id,
                         *self.answers.get(k, self.default)) for k, r in keys))
        assert isinstance(message, Pacs008)
        return Pacs002(header, message.header.msg_id, MessageType.PACS_008, tuple(
            TxStatus(t.uetr, t.end_to_end_id, t.tx_id, *self.answers.get(t.uetr, self.default))
            for t in message.transfers))

    def uetrs(self) -> list[list[str]]:
        """The UETRs of each message sent, in order."""
        return [[t.uetr for t in m.transfers] for m in self.sent if isinstance(m, Pacs008)]


def credit(iban: str, amount: int, *, currency: str = "EUR", deadline_ns: int,
           uetr: str | None = None, agent: str = BANK) -> CreditTransfer:
    """One transaction from a customer of OTHER to ``iban`` at ``agent``."""
    uetr = uetr or str(uuid.uuid4())
    return CreditTransfer(uetr, "e2e-" + uetr[:8], uetr.replace("-", ""),
                          Money(amount, currency),
                          Party("Grace Hopper", "DE89370400440532013000", OTHER),
                          Party("Payee", iban, agent), deadline_ns, Channel.RTGS, "invoice 7")


def forwarded(*transfers: CreditTransfer, now_ns: int, msg_id: str | None = None) -> Pacs008:
    """The pacs.008 the hub forwards to BANK."""
    return Pacs008(Header(msg_id or "fwd" + secrets.token_hex(8), now_ns, HUB, BANK),
                   transfers)


def final(*items: tuple[str, Status, Reason | None], now_ns: int,
          reports_on: MessageType = MessageType.PACS_008) -> Pacs002:
    """The decider's pacs.002 to BANK: (uetr, status, reason) per transaction."""
    return Pacs002(Header("dec" + secrets.token_hex(8), now_ns, HUB, BANK), "fwd-any",
                   reports_on, tuple(TxStatus(u, "e2e-" + u[:8], u.replace("-", ""),
                                                        s, r) for u, s, r in items))
