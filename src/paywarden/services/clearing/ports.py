"""What the clearing services need from parts built elsewhere, as small protocols.

The ISO 20022 codec (``adapters/iso20022/codec.py``), the signatures of decision 0053
(``adapters/iso20022/signatures.py``), the participants' CA and the net windows
(``services/clearing/windows.py``) are built beside this; the services here see only
these protocols, so their tests run with small fakes and the composition root hands
in the real parts.
"""

from __future__ import annotations

from typing import Protocol

from ...domain.clearing.messages import Header, Message, Pain001
from ..writepath import Batch


class Codec(Protocol):
    """ISO 20022 XML to message values and back, validated against the schemas both ways.

    ``decode`` refuses with a DomainError: ``message_unsafe_xml`` (a DTD or an entity),
    ``message_schema_invalid`` (anything the schema or the values refuse)."""

    def encode(self, message: Message) -> bytes: ...
    def decode(self, body: bytes) -> Message: ...


class Signer(Protocol):
    """This node's clearing key, and the check of a peer's signature."""

    def sign(self, sender: str, body: bytes) -> bytes:
        """Sign ``body`` as ``sender`` (this node's BIC) over the bytes of decision 0053
        (``adapters/iso20022/signatures.signed_bytes``)."""
    def verify(self, certificate_pem: str, sender: str, body: bytes, signature: bytes) -> bool:
        """True when ``signature`` is ``sender``'s over ``body``, by the key the peer's
        certificate (or public key) binds; False for anything else, never an exception."""


class ParticipantCA(Protocol):
    """The hub's CA, extended to banks (``services/certification/participants.py``)."""

    def issue(self, *, bic: str, name: str, public_key_pem: str) -> str:
        """A certificate (PEM) binding ``public_key_pem`` to the participant ``bic``."""


class NetPositions(Protocol):
    """The net windows' positions (``services/clearing/windows.py``): a transfer on
    channel MPNS takes a position under the payer's net debit cap instead of moving
    settlement money at once. Called inside the hub's own unit of work, so a position
    is taken, committed or released in the transaction that writes the transfer's row,
    or not at all (decision 0057). Each call is idempotent by UETR."""

    def reserve(self, batch: Batch, uetr: str, payer: str, payee: str, amount: int,
                currency: str) -> bool:
        """False: the payer would pass its net debit cap (answered AM04)."""
    def commit(self, batch: Batch, uetr: str) -> None: ...
    def release(self, batch: Batch, uetr: str) -> None: ...
    def check_withdrawal(self, batch: Batch, bic: str, currency: str, amount: int) -> None:
        """Raises ``net_exposure_uncovered`` when liquidity leaving the settlement account
        would leave less than the participant's net exposure."""


class Handler(Protocol):
    """Acts on one received message of a type; returns the answer to sign and send back,
    or None. Called again for a retry whose answer was not final, so it must be
    idempotent (by UETR, by instruction id)."""

    def __call__(self, message: Message, sender: str, /) -> Message | None: ...


def header_of(message: Message) -> Header:
    """The group header every message carries (a pain.001, a customer's order to its own
    bank, makes one from its own fields: its hop between nodes, else the debtor's bank on
    both ends)."""
    if isinstance(message, Pain001) and message.sender:
        return Header(message.msg_id, message.created_ns, message.sender, message.receiver)
    if isinstance(message, Pain001):
        return Header(message.msg_id, message.created_ns, message.debtor.agent,
                      message.debtor.agent)
    return message.header
