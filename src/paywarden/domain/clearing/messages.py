"""The ISO 20022 messages of the clearing network, as plain values.

These are what services build and read; ``adapters/iso20022/codec.py`` turns each into
schema-valid XML and back (validated against the official XSD both ways). Only the
fields the network uses are modelled; the codec fills the schema's fixed parts.

Identifiers (ISO 20022 ``Max35Text`` unless said): ``msg_id`` is unique per sender and
message; ``uetr`` is a UUID v4 string naming one credit transfer end to end across every
hop (pacs.008's ``PmtId/UETR``); ``end_to_end_id`` is the payer's own reference.
Agents are BICs (``[A-Z]{6}[A-Z2-9][A-NP-Z0-9]([A-Z0-9]{3})?``). Times are UTC
nanoseconds since the epoch; the codec writes them as ISO date-times (milliseconds).
"""

from __future__ import annotations

import enum
import hashlib
import re
import uuid
from dataclasses import dataclass

from ..errors import DomainError
from ..money import Money

BIC_PATTERN = re.compile(r"^[A-Z]{6}[A-Z2-9][A-NP-Z0-9]([A-Z0-9]{3})?$")
ID_CHARS_MAX = 35
NAME_CHARS_MAX = 140
REMITTANCE_CHARS_MAX = 140


class MessageType(enum.StrEnum):
    PAIN_001 = "pain.001.001.10"  # a customer's payment order (one or a file)
    PACS_008 = "pacs.008.001.09"  # customer credit transfer between banks
    PACS_002 = "pacs.002.001.11"  # status report
    PACS_004 = "pacs.004.001.10"  # return of a settled transfer
    PACS_009 = "pacs.009.001.09"  # bank-to-bank transfer: liquidity, settlement
    CAMT_056 = "camt.056.001.09"  # recall request
    CAMT_029 = "camt.029.001.10"  # answer to a recall
    CAMT_053 = "camt.053.001.08"  # settlement-account statement
    CAMT_054 = "camt.054.001.08"  # one booking's notification

    @property
    def family(self) -> str:
        """``pacs.008`` of ``pacs.008.001.09``: the name used in file names and logs."""
        return self.value.rsplit(".", 2)[0]


class Status(enum.StrEnum):
    """pacs.002 transaction status (ISO ExternalPaymentTransactionStatus1Code)."""

    ACCP = "ACCP"  # accepted by the payee bank: its account checked, credit reserved
    ACSC = "ACSC"  # settled: final, every party posts
    RJCT = "RJCT"  # rejected: final, every party voids (``reason`` says why)
    PDNG = "PDNG"  # still in flight: ask again later


FINAL = frozenset({Status.ACSC, Status.RJCT})


class Reason(enum.StrEnum):
    """The ISO external status reason codes the network answers with."""

    AM04 = "AM04"  # insufficient funds: liquidity short, or over the net debit cap
    AC01 = "AC01"  # incorrect account number at the payee bank
    AC04 = "AC04"  # closed account
    AC06 = "AC06"  # blocked (frozen) account
    AM02 = "AM02"  # amount above what is allowed
    AM03 = "AM03"  # currency not processed
    AB05 = "AB05"  # timeout at the creditor agent: not accepted before the deadline
    AB08 = "AB08"  # creditor agent (a region's hub or a bank) is offline
    DUPL = "DUPL"  # duplicate: this UETR or end-to-end id was sent before
    RC01 = "RC01"  # bank identifier incorrect: no such participant
    FF01 = "FF01"  # invalid file format (schema)
    NARR = "NARR"  # narrative: see the additional information
    CUST = "CUST"  # requested by the customer: a cheque its drawer stopped
    DT01 = "DT01"  # invalid date: a cheque past its validity


class Channel(enum.StrEnum):
    """How a transfer settles (pacs.008 ``PmtTpInf/ClrChanl``, ClearingChannel2Code)."""

    RTGS = "RTGS"  # gross, at once, against the payer bank's settlement account
    NET = "MPNS"  # deferred net settlement: a position in the open window


def check_bic(bic: str) -> str:
    if not (isinstance(bic, str) and BIC_PATTERN.match(bic)):
        raise DomainError("bic_invalid", "a participant code is a BIC: 8 or 11 letters/digits")
    return bic


def check_id(value: str, *, what: str = "id") -> str:
    if not (isinstance(value, str) and 0 < len(value) <= ID_CHARS_MAX and value.isascii()
            and value.isprintable() and " " not in value):
        raise DomainError("message_id_invalid",
                          f"a {what} is 1 to {ID_CHARS_MAX} printable ASCII characters")
    return value


@dataclass(frozen=True)
class Header:
    """A message's group header: who sent it to whom, and when."""

    msg_id: str
    created_ns: int
    sender: str  # BIC of the instructing agent (the signer)
    receiver: str  # BIC of the instructed agent

    def __post_init__(self) -> None:
        check_id(self.msg_id, what="message id")
        check_bic(self.sender)
        check_bic(self.receiver)


@dataclass(frozen=True)
class Party:
    """A customer and their bank: name, IBAN, the bank's BIC."""

    name: str
    iban: str
    agent: str

    def __post_init__(self) -> None:
        check_bic(self.agent)
        if not 0 < len(self.name) <= NAME_CHARS_MAX:
            raise DomainError("party_name_invalid",
                              f"a name is 1 to {NAME_CHARS_MAX} characters")


@dataclass(frozen=True)
class CreditTransfer:
    """One customer credit transfer (a pacs.008 ``CdtTrfTxInf``, a pain.001 payment)."""

    uetr: str
    end_to_end_id: str
    tx_id: str
    amount: Money
    debtor: Party
    creditor: Party
    deadline_ns: int  # settle by then or it is rejected AB05 (``SttlmTmReq/RjctTm``)
    channel: Channel = Channel.RTGS
    remittance: str = ""


@dataclass(frozen=True)
class Pacs008:
    header: Header
    transfers: tuple[CreditTransfer, ...]


@dataclass(frozen=True)
class TxStatus:
    """One transaction's status in a pacs.002."""

    uetr: str
    end_to_end_id: str
    tx_id: str
    status: Status
    reason: Reason | None = None
    detail: str = ""  # AddtlInf: for people, never a secret


@dataclass(frozen=True)
class Pacs002:
    header: Header
    original_msg_id: str
    original_type: MessageType
    statuses: tuple[TxStatus, ...]


@dataclass(frozen=True)
class BankTransfer:
    """One bank-to-bank transfer (a pacs.009 ``CdtTrfTxInf``): liquidity into or out of a
    settlement account, or a window's settlement between hubs."""

    instr_id: str
    end_to_end_id: str
    uetr: str
    amount: Money
    debtor_agent: str
    creditor_agent: str


@dataclass(frozen=True)
class Pacs009:
    header: Header
    transfers: tuple[BankTransfer, ...]


@dataclass(frozen=True)
class Return:
    """A settled transfer sent back (a pacs.004 ``TxInf``)."""

    return_id: str
    original_msg_id: str
    original_uetr: str
    original_end_to_end_id: str
    amount: Money
    reason: str  # ISO return reason code, e.g. CUST (recall), AC04


# ISO ExternalReturnReason1Code values a bank may return a settled transfer for.
RETURN_REASONS = frozenset({
    "FOCR",  # following a cancellation (recall) request
    "FR01",  # fraudulent origin
    "AM05",  # duplication
    "MD06",  # refund requested by the end customer
    "CUST",  # requested by the customer
    "AC04",  # the account was closed
    "AC06",  # the account is blocked
    "MS03",  # reason not specified
})


_RETURN_ID = re.compile(r"^[0-9a-f]{12}4[0-9a-f]{3}[89ab][0-9a-f]{15}$")


def new_return_id() -> str:
    """A return's ``RtrId``: the 32 hex digits of a UUID v4 (Max35Text)."""
    return uuid.uuid4().hex


def return_id_for(seed: str) -> str:
    """The return id a command with this id always makes (a retry makes the same one)."""
    digest = hashlib.sha256(b"return\x1f" + seed.encode()).digest()
    return uuid.UUID(bytes=digest[:16], version=4).hex


def return_key(return_id: str) -> str | None:
    """The UETR a return travels under: its ``RtrId`` written as a UUID, so that a status
    report (pacs.002 ``OrgnlUETR``) can name it; None for an id that is not one."""
    return str(uuid.UUID(hex=return_id)) if _RETURN_ID.match(return_id) else None


@dataclass(frozen=True)
class Pacs004:
    header: Header
    returns: tuple[Return, ...]


# ISO ExternalCancellationReason1Code values a payer's bank may recall a transfer for.
RECALL_REASONS = frozenset({
    "DUPL",  # paid twice
    "FRAD",  # fraudulent origin (the payer was deceived, or was not the payer)
    "TECH",  # a technical problem made the payment
    "CUST",  # asked by the customer
    "AC03",  # the wrong creditor account
    "AM09",  # the wrong amount
})
# ISO ExternalPaymentCancellationRejection1Code values a recall may be refused for.
RECALL_REFUSALS = frozenset({
    "CUST",  # the payee (the customer) does not agree
    "LEGL",  # a legal reason
    "AGNT",  # the payee's bank decided so
    "NOAS",  # no answer from the payee
    "AC04",  # the account is closed
    "AM04",  # the money is no longer there
    "ARDT",  # already returned
    "NOOR",  # no such original transaction (here, or not settled, or not the asker's)
})
_CASE_ID = re.compile(r"^[0-9a-f]{32}$")


def new_case_id() -> str:
    """A recall's case id: 32 hex digits (Max35Text), unique at every node it passes."""
    return uuid.uuid4().hex


def is_case_id(value: str) -> bool:
    return isinstance(value, str) and _CASE_ID.match(value) is not None


@dataclass(frozen=True)
class Recall:
    """A request to cancel a settled transfer (a camt.056 ``Undrlyg/TxInf``)."""

    case_id: str
    original_msg_id: str
    original_uetr: str
    original_end_to_end_id: str
    amount: Money
    reason: str  # ISO cancellation reason code: DUPL, FRAD, TECH, CUST


@dataclass(frozen=True)
class Camt056:
    header: Header  # Assgnmt: assigner = sender, assignee = receiver
    recalls: tuple[Recall, ...]


@dataclass(frozen=True)
class RecallAnswer:
    case_id: str
    original_uetr: str
    accepted: bool  # CNCL (a pacs.004 follows) or RJCR
    reason: str = ""  # when refused: ISO code such as NOAS, CUST, LEGL


@dataclass(frozen=True)
class Camt029:
    header: Header
    answers: tuple[RecallAnswer, ...]


@dataclass(frozen=True)
class Entry:
    """One booking on a settlement account (camt.053 / camt.054 ``Ntry``)."""

    reference: str  # the UETR, window id or instruction id booked
    amount: Money
    credit: bool
    booked_ns: int
    info: str = ""


@dataclass(frozen=True)
class Statement:
    """A settlement account's statement (camt.053) or notification (camt.054)."""

    header: Header
    statement_id: str
    kind: MessageType  # CAMT_053 (a statement) or CAMT_054 (a notification)
    account: str  # the participant's BIC: its settlement account at the hub
    currency: str
    opening_minor: int  # camt.054 leaves both balances 0 and carries the entries only
    closing_minor: int
    from_ns: int
    to_ns: int
    entries: tuple[Entry, ...]


@dataclass(frozen=True)
class Pain001:
    """A customer's payment order to its own bank: one or many payments from one account.

    Between clearing nodes it is a cheque's presentment (decision 0064): the payee's bank
    delivers the drawer's signed order to the drawer's bank through the hubs, one hop at
    a time. ``sender`` (``InitgPty/Id/OrgId/AnyBIC``) and ``receiver`` (``FwdgAgt``) name
    the hop, ``cheque`` the drawer's signed cheque (``SplmtryData``) of its one payment."""

    msg_id: str
    created_ns: int
    initiator: str  # the customer's name
    debtor: Party
    payments: tuple[CreditTransfer, ...]  # their debtor is ``debtor``; uetr chosen by the bank
    sender: str = ""  # between nodes: the BIC of this hop's sender
    receiver: str = ""  # between nodes: the BIC of this hop's receiver
    cheque: str = ""  # a presentment: the cheque, as the payee holds it

    def __post_init__(self) -> None:
        if bool(self.sender) != bool(self.receiver):
            raise DomainError("message_header_invalid", "a hop names its sender and receiver")
        if self.sender:
            check_bic(self.sender)
            check_bic(self.receiver)
        if self.cheque and len(self.payments) != 1:
            raise DomainError("cheque_presentment_invalid", "a presentment is one payment")


Message = (Pacs008 | Pacs002 | Pacs009 | Pacs004 | Camt056 | Camt029 | Statement | Pain001)


@dataclass(frozen=True)
class Envelope:
    """A message as it travels: the exact bytes, who signed them and the signature."""

    body: bytes
    sender: str
    signature: bytes
