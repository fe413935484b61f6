"""Who is who: users and their factors, sessions, sign-in history, notifications.

Times are integer nanoseconds since the Unix epoch, like the ledger's.
Secrets are never stored in a form that can be used to sign in: passwords as
Argon2id hashes, session tokens and recovery codes as digests. Personal data and
TOTP seeds are sealed: ``*_sealed`` columns hold AES-256-GCM envelopes bound to
their table, column and row (services/sealed.py); exact-match lookups go through
keyed blind indexes (``*_index``). A sealed column that must have a value is NULL
only for a row written before migration 0005 whose plaintext still waits in
``sealing_backlog`` for the start-up step that seals it.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Column,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Table,
    Text,
)

from .base import SEALED, metadata

users = Table(
    "users",
    metadata,
    Column("id", String(32), primary_key=True),  # usr_…
    Column("kind", String(16), nullable=False),  # customer | staff | merchant
    Column("merchant_id", String(32), ForeignKey("merchants.id")),  # merchant users only
    # Blind index of the NFKC, case-folded username: every exact-match lookup uses it.
    Column("username_index", String(64), nullable=False, unique=True),
    Column("username_sealed", LargeBinary, info=SEALED),
    Column("display_name_sealed", LargeBinary, info=SEALED),
    Column("email_sealed", LargeBinary, info=SEALED),  # for notifications only, never a sign-in factor
    Column("roles", String(256), nullable=False),  # comma-separated role names
    Column("status", String(16), nullable=False),  # active | disabled
    Column("anti_phishing_phrase_sealed", LargeBinary, info=SEALED),
    Column("password_hash", String(256)),
    Column("password_changed_at", BigInteger),
    Column("failed_signins", Integer, nullable=False),
    Column("last_failed_at", BigInteger),
    Column("locked_until", BigInteger),
    Column("reset_requested_at", BigInteger),  # a reset started by support, not finished
    Column("created_at", BigInteger, nullable=False),
)

webauthn_credentials = Table(
    "webauthn_credentials",
    metadata,
    Column("id", String(1024), primary_key=True),  # credential id, base64url
    Column("user_id", String(32), ForeignKey("users.id"), nullable=False, index=True),
    Column("public_key", LargeBinary, nullable=False),  # COSE key
    Column("sign_count", BigInteger, nullable=False),
    Column("transports", String(128), nullable=False),
    Column("aaguid", String(36), nullable=False),
    Column("backed_up", Integer, nullable=False),
    Column("name", String(64), nullable=False),
    Column("created_at", BigInteger, nullable=False),
    Column("last_used_at", BigInteger),
    Column("revoked_at", BigInteger),
)

totp_factors = Table(
    "totp_factors",
    metadata,
    Column("user_id", String(32), ForeignKey("users.id"), primary_key=True),
    Column("secret_sealed", LargeBinary, info=SEALED),
    Column("last_step", BigInteger),  # the last accepted time step: each code works once
    Column("created_at", BigInteger, nullable=False),
    Column("confirmed_at", BigInteger),
)

recovery_codes = Table(
    "recovery_codes",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("user_id", String(32), ForeignKey("users.id"), nullable=False, index=True),
    Column("code_hash", String(256), nullable=False),
    Column("created_at", BigInteger, nullable=False),
    Column("used_at", BigInteger),
)

# A session is also how an API client or a CLI-issued staff token is known:
# `user_id` is null for a token issued on the server host to a role.
sessions = Table(
    "sessions",
    metadata,
    Column("id", String(32), primary_key=True),  # ses_…
    Column("token_sha256", String(64), nullable=False, unique=True),
    Column("user_id", String(32), ForeignKey("users.id"), index=True),
    Column("owner", String(32)),  # customer: the user; merchant user: the merchant; staff: null
    Column("kind", String(16), nullable=False),  # customer | staff | merchant
    Column("roles", String(256), nullable=False),
    Column("auth_methods", String(64), nullable=False),  # passkey | password+totp | cli …
    Column("label_sealed", LargeBinary, info=SEALED),  # the username, or the actor of a CLI token
    Column("user_agent_sealed", LargeBinary, info=SEALED),
    Column("address_sealed", LargeBinary, info=SEALED),
    Column("created_at", BigInteger, nullable=False),
    Column("last_seen_at", BigInteger, nullable=False),
    Column("idle_expires_at", BigInteger, nullable=False),
    Column("absolute_expires_at", BigInteger, nullable=False),
    Column("revoked_at", BigInteger),
    Column("amount_max", BigInteger),  # a machine principal's largest transfer (minor units)
)

# Devices and addresses a user has signed in from (as keyed digests), so that a
# sign-in from a new one raises a notification.
sign_in_origins = Table(
    "sign_in_origins",
    metadata,
    Column("user_id", String(32), ForeignKey("users.id"), primary_key=True),
    Column("kind", String(8), primary_key=True),  # device | address
    Column("digest", String(64), primary_key=True),
    Column("first_seen_at", BigInteger, nullable=False),
    Column("last_seen_at", BigInteger, nullable=False),
    Index("ix_sign_in_origins_digest", "kind", "digest"),  # customers per device (risk)
)

notifications = Table(
    "notifications",
    metadata,
    Column("id", String(32), primary_key=True),  # ntf_…
    Column("user_id", String(32), ForeignKey("users.id"), nullable=False),
    Column("kind", String(32), nullable=False),  # new_device | factor_changed | locked | …
    Column("subject_sealed", LargeBinary, info=SEALED),
    Column("body_sealed", LargeBinary, info=SEALED),
    Column("created_at", BigInteger, nullable=False),
    Column("sent_at", BigInteger),
    Column("read_at", BigInteger),
    Index("ix_notifications_user_created", "user_id", "created_at"),
)

# A challenge handed out for a WebAuthn ceremony; used once, within its life.
webauthn_challenges = Table(
    "webauthn_challenges",
    metadata,
    Column("id", String(32), primary_key=True),  # chl_…
    Column("user_id", String(32), ForeignKey("users.id")),
    Column("purpose", String(16), nullable=False),  # register | sign_in | step_up
    Column("challenge", LargeBinary, nullable=False),
    Column("operation", Text),  # step-up: the canonical JSON the challenge is derived from
    Column("created_at", BigInteger, nullable=False),
    Column("expires_at", BigInteger, nullable=False),
    Column("used_at", BigInteger),
)

# What a customer's authenticator signed for a sensitive operation: enough to
# prove it again later from this row alone.
step_up_evidence = Table(
    "step_up_evidence",
    metadata,
    Column("id", String(32), primary_key=True),  # evd_…
    Column("user_id", String(32), ForeignKey("users.id"), nullable=False, index=True),
    Column("operation", Text, nullable=False),  # canonical JSON
    Column("credential_id", String(1024), nullable=False),
    Column("public_key", LargeBinary, nullable=False),  # COSE key, as it was then
    Column("client_data_json", LargeBinary, nullable=False),
    Column("authenticator_data", LargeBinary, nullable=False),
    Column("signature", LargeBinary, nullable=False),
    Column("rp_id", String(253), nullable=False),
    Column("origin", String(512), nullable=False),
    Column("created_at", BigInteger, nullable=False),
    Column("consumed_at", BigInteger),  # when the operation it approved was executed
)
