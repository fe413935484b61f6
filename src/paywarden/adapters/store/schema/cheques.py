"""Electronic cheques (decision 0026) and every presentation of one.

``cheques``: one row per cheque this bank wrote (drawer account ours) or was asked
to pay through the rail (drawer at another bank: ``drawer_account_id`` NULL). The
row keeps the exact JWS the drawer was given; a presented text must equal it. A
drawer's serials are unique: one index over (drawer IBAN, serial), which also makes
a second presentation of a foreign cheque a duplicate.

``cheque_presentations``: each attempt to present, paid or bounced, with who tried
and why it bounced; ``cheque_id`` is NULL when the text named no cheque of ours.
Nothing is stored in it that the presenter did not send (the text's SHA-256 only).
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Column,
    Index,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
)

from .base import metadata

cheques = Table(
    "cheques",
    metadata,
    Column("id", String(32), primary_key=True),  # chq_…
    Column("drawer_iban", String(34), nullable=False),
    Column("serial", Integer, nullable=False),
    Column("drawer_account_id", String(32), nullable=True),  # acc_…; NULL: another bank's
    Column("drawer_user_id", String(32), nullable=True),  # usr_…; NULL: another bank's
    Column("payee_iban", String(34), nullable=False),
    Column("payee_account_id", String(32), nullable=True),  # acc_… when the payee banks here
    Column("amount", BigInteger, nullable=False),  # minor units
    Column("currency", String(3), nullable=False),
    Column("date", String(10), nullable=False),  # YYYY-MM-DD, UTC calendar
    Column("expires_on", String(10), nullable=False),
    Column("jws", Text, nullable=False),
    Column("state", String(16), nullable=False),  # issued | paid | bounced | stopped | expired
    Column("bounce_reason", String(32), nullable=True),  # when bounced or expired
    Column("presented_by", String(32), nullable=True),  # usr_… of the presentation that settled
    Column("presented_at", BigInteger, nullable=True),
    Column("transfer_id", String(64), nullable=True),  # bank_transfers.id once paid
    Column("created_at", BigInteger, nullable=False),
    Column("updated_at", BigInteger, nullable=False),
    UniqueConstraint("drawer_iban", "serial", name="uq_cheques_drawer_serial"),
    Index("ix_cheques_drawer_account", "drawer_account_id", "created_at"),
    Index("ix_cheques_payee_account", "payee_account_id", "created_at"),
)

cheque_presentations = Table(
    "cheque_presentations",
    metadata,
    Column("id", String(32), primary_key=True),  # prs_…
    Column("cheque_id", String(32), nullable=True),
    Column("presenter_user_id", String(32), nullable=False),
    Column("account_id", String(32), nullable=True),  # the account to credit, as asked
    Column("outcome", String(16), nullable=False),  # paid | bounced
    Column("reason", String(32), nullable=True),  # a bounce reason
    Column("text_sha256", String(64), nullable=False),
    Column("created_at", BigInteger, nullable=False),
    Index("ix_cheque_presentations_cheque", "cheque_id", "created_at"),
    Index("ix_cheque_presentations_presenter", "presenter_user_id", "created_at"),
)
