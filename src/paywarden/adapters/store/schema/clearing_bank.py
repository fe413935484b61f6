"""A participant bank's side of the clearing network (decisions 0053, 0056).

``bank_clearing_batches``: each pacs.008 this bank sent its hub, as the message value
(JSON, not XML: the codec turns it into the same bytes every time), stored *before* it
is sent so a crash re-sends the same MsgId and UETRs.

``bank_clearing_out``: one row per outgoing movement handed to the network, tying it
to its UETR and the message that carries it; ``state`` sent → settled | rejected, as
the hub (the decider's answer) says. A pending movement without a row is not sent yet.

``bank_clearing_in``: one row per incoming transaction (UETR): accepted (a pending
credit, ``movement_id``), then settled or rejected when the decider's pacs.002 comes;
or rejected at once (no movement). ``fields_sha`` tells a retry from a DUPL.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, Index, String, Table, Text

from .base import metadata

bank_clearing_batches = Table(
    "bank_clearing_batches",
    metadata,
    Column("msg_id", String(35), primary_key=True),
    Column("receiver", String(11), nullable=False),  # the hub's BIC
    Column("document", Text, nullable=False),  # the Pacs008 value as canonical JSON
    Column("created_at", BigInteger, nullable=False),
)

bank_clearing_out = Table(
    "bank_clearing_out",
    metadata,
    Column("movement_id", String(64), primary_key=True),  # bank_transfers.id
    Column("uetr", String(36), nullable=False, unique=True),
    Column("end_to_end_id", String(35), nullable=False),
    Column("msg_id", String(35), nullable=False),  # bank_clearing_batches.msg_id
    Column("state", String(16), nullable=False),  # sent | settled | rejected
    Column("reason", String(64)),  # the ISO reason code when rejected
    Column("deadline_ns", BigInteger, nullable=False),
    Column("original_uetr", String(36)),  # a return we sent: the transfer it returns
    Column("created_at", BigInteger, nullable=False),
    Column("updated_at", BigInteger, nullable=False),
    Index("ix_bank_clearing_out_state", "state", "msg_id"),
    Index("ix_bank_clearing_out_original", "original_uetr"),
)

bank_clearing_in = Table(
    "bank_clearing_in",
    metadata,
    Column("uetr", String(36), primary_key=True),
    Column("movement_id", String(64)),  # the pending credit; NULL when rejected at once
    Column("end_to_end_id", String(35)),
    Column("tx_id", String(35)),
    Column("msg_id", String(35)),  # the pacs.008 that carried it
    Column("fields_sha", String(64)),  # NULL: learned from a final status before the pacs.008
    Column("state", String(16), nullable=False),  # accepted | settled | rejected
    Column("reason", String(64)),
    Column("original_uetr", String(36)),  # a return to us: our transfer it returns
    Column("created_at", BigInteger, nullable=False),
    Column("updated_at", BigInteger, nullable=False),
    Index("ix_bank_clearing_in_original", "original_uetr"),
)
