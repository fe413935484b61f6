"""A clearing node's peers, the messages it exchanged, and a hub's inter-bank transfers
(decision 0053, the hub: decision 0055).

``clearing_peers``     every party this node speaks ISO 20022 with: its BIC, role, where it
                       listens, the certificate (or public key) its signatures verify with,
                       and for a participant its settlement channel and net debit cap
``clearing_messages``  every message sent (``out``) and received (``in``): the exact bytes
                       and signature, archived before they are acted on or sent; a sender's
                       MsgId is taken once
``hub_transfers``      one row per UETR the hub reserved, forwarded, settled or rejected:
                       the identity a retry is matched by, written with the money; a
                       return (pacs.004) is a row of its own, keyed by its return UETR
``clearing_outbox``    a final status owed to a payee bank, retried until it is delivered
``clearing_certificates``  the CAs this node trusts (``ca``: a bank's hub's) and the
                       certificate its hub issued it (``own``)
``clearing_recalls``   one row per recall case (camt.056) this node requested, relayed or
                       received, its answer (camt.029), and the one message it still owes
                       a peer (decision 0061)
``clearing_notices_out``  a hub's booking on a participant's settlement account, owed to
                       it as a camt.054 notification until delivered (decision 0062)
``clearing_notices_in``   the bookings on this node's own settlement accounts that their
                       hub notified (camt.054), once each
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Column,
    Index,
    Integer,
    LargeBinary,
    PrimaryKeyConstraint,
    String,
    Table,
    Text,
    UniqueConstraint,
)

from .base import metadata

clearing_peers = Table(
    "clearing_peers",
    metadata,
    Column("bic", String(11), primary_key=True),
    Column("name", String(140), nullable=False),
    Column("role", String(16), nullable=False),  # hub | participant | correspondent
    Column("url", String(2048)),  # where its /v1/clearing/messages listens
    Column("certificate_pem", Text, nullable=False),
    Column("state", String(16), nullable=False),  # active | suspended | revoked
    Column("region", String(16), nullable=False),
    Column("channel", String(4), nullable=False),  # RTGS | MPNS
    Column("net_debit_cap", BigInteger, nullable=False),  # minor units of ``currency``
    Column("currency", String(3), nullable=False),
    Column("via", String(11)),  # the peer hub that routes to this bank of another region
    Column("created_at", BigInteger, nullable=False),
    Column("updated_at", BigInteger, nullable=False),
)

clearing_messages = Table(
    "clearing_messages",
    metadata,
    Column("id", String(40), primary_key=True),  # cm_…
    Column("direction", String(3), nullable=False),  # in | out
    Column("type", String(32), nullable=False),  # MessageType value, pacs.008.001.09
    Column("msg_id", String(35), nullable=False),
    Column("sender", String(11), nullable=False),
    Column("receiver", String(11), nullable=False),
    Column("body", LargeBinary, nullable=False),
    Column("signature", LargeBinary, nullable=False),
    Column("sha256", String(64), nullable=False),
    Column("at_ns", BigInteger, nullable=False),
    Column("answer_id", String(40)),  # the message that answered this one
    UniqueConstraint("direction", "sender", "msg_id", name="uq_clearing_messages_msg_id"),
    Index("ix_clearing_messages_at", "at_ns"),
)

hub_transfers = Table(
    "hub_transfers",
    metadata,
    Column("uetr", String(36), primary_key=True),
    Column("end_to_end_id", String(35), nullable=False),
    Column("tx_id", String(35), nullable=False),
    Column("msg_id", String(35), nullable=False),  # the pacs.008 it came in
    Column("payer", String(11), nullable=False),  # the participant it came from
    Column("payee", String(11)),  # the next hop (None: refused before it was routed)
    Column("debtor_agent", String(11), nullable=False),
    Column("creditor_agent", String(11), nullable=False),
    Column("amount", BigInteger, nullable=False),
    Column("currency", String(3), nullable=False),
    Column("channel", String(4), nullable=False),
    Column("state", String(16), nullable=False),  # reserved | forwarded | settled | rejected
    Column("reason", String(4)),  # the ISO reason of a rejection
    Column("deadline_ns", BigInteger, nullable=False),
    Column("fields_sha", String(64), nullable=False),  # what a retry must repeat (DUPL)
    Column("forward_msg_id", String(35)),  # the pacs.008 that forwarded it to ``payee``
    Column("original_uetr", String(36)),  # a return (pacs.004): the transfer it returns
    Column("created_at", BigInteger, nullable=False),
    Column("updated_at", BigInteger, nullable=False),
    Index("ix_hub_transfers_state", "state", "deadline_ns"),
    Index("ix_hub_transfers_original", "original_uetr"),
)

clearing_outbox = Table(
    "clearing_outbox",
    metadata,
    Column("uetr", String(36), nullable=False),
    Column("receiver", String(11), nullable=False),
    Column("original_msg_id", String(35), nullable=False),
    Column("end_to_end_id", String(35), nullable=False),
    Column("tx_id", String(35), nullable=False),
    Column("status", String(4), nullable=False),  # ACSC | RJCT
    Column("reason", String(4)),
    Column("original_type", String(32)),  # what the status reports on; NULL: pacs.008
    Column("state", String(16), nullable=False),  # pending | delivered
    Column("attempts", Integer, nullable=False),
    Column("next_at_ns", BigInteger, nullable=False),
    Column("created_at", BigInteger, nullable=False),
    Column("updated_at", BigInteger, nullable=False),
    PrimaryKeyConstraint("uetr", "receiver"),
    Index("ix_clearing_outbox_due", "state", "next_at_ns"),
)

clearing_certificates = Table(
    "clearing_certificates",
    metadata,
    Column("fingerprint", String(64), primary_key=True),  # SHA-256 of the DER, hex
    Column("kind", String(8), nullable=False),  # ca | own
    Column("bic", String(11), nullable=False),  # whose: the issuing hub, or this node
    Column("pem", Text, nullable=False),
    Column("created_at", BigInteger, nullable=False),
)

clearing_recalls = Table(
    "clearing_recalls",
    metadata,
    Column("case_id", String(35), primary_key=True),
    Column("original_uetr", String(36), nullable=False),  # the recalled transfer
    Column("role", String(16), nullable=False),  # requested | relayed | received
    Column("from_bic", String(11)),  # who asked this node (NULL: the bank that asked)
    Column("to_bic", String(11)),  # who this node asked (NULL: the bank that answers)
    Column("original_msg_id", String(35), nullable=False),
    Column("original_end_to_end_id", String(35), nullable=False),
    Column("amount", BigInteger, nullable=False),
    Column("currency", String(3), nullable=False),
    Column("reason", String(4), nullable=False),  # ISO cancellation reason
    Column("state", String(16), nullable=False),  # open | accepted | refused
    Column("answer_reason", String(4)),  # why refused (ISO), when it is
    Column("return_id", String(32)),  # the return that answered it (the payee bank)
    Column("owed", String(32)),  # set while a camt.056 / camt.029 is owed to a peer
    Column("attempts", Integer, nullable=False),
    Column("next_at_ns", BigInteger, nullable=False),
    Column("created_by", String(128), nullable=False),
    Column("created_at", BigInteger, nullable=False),
    Column("updated_at", BigInteger, nullable=False),
    Index("ix_clearing_recalls_original", "original_uetr"),
    Index("ix_clearing_recalls_owed", "owed", "next_at_ns"),
)

clearing_notices_out = Table(
    "clearing_notices_out",
    metadata,
    Column("receiver", String(11), nullable=False),  # whose settlement account was booked
    Column("reference", String(36), nullable=False),  # the UETR booked
    Column("amount", BigInteger, nullable=False),
    Column("currency", String(3), nullable=False),
    Column("credit", Integer, nullable=False),  # 1: the account was paid
    Column("booked_ns", BigInteger, nullable=False),
    Column("state", String(16), nullable=False),  # pending: a delivered row is deleted
    Column("attempts", Integer, nullable=False),
    Column("next_at_ns", BigInteger, nullable=False),
    Column("updated_at", BigInteger, nullable=False),
    PrimaryKeyConstraint("receiver", "reference"),
    Index("ix_clearing_notices_out_due", "state", "next_at_ns"),
)

clearing_notices_in = Table(
    "clearing_notices_in",
    metadata,
    Column("sender", String(11), nullable=False),  # the hub holding the account
    Column("reference", String(36), nullable=False),
    Column("amount", BigInteger, nullable=False),
    Column("currency", String(3), nullable=False),
    Column("credit", Integer, nullable=False),
    Column("booked_ns", BigInteger, nullable=False),
    Column("msg_id", String(35), nullable=False),  # the camt.054 that first told it
    Column("received_at", BigInteger, nullable=False),
    PrimaryKeyConstraint("sender", "reference"),
    Index("ix_clearing_notices_in_received", "received_at"),
)
