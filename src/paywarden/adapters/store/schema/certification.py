"""Merchant certification: applications, domains, the platform CA and the certificates it issues.

The business details a merchant applies with are sealed per row (AAD
``merchant_applications``/column/merchant id) and registered for rewrap in
services/certification/applications.py. A certificate's ``legal_name`` is kept
in clear: the certificate itself (subject O) and the public registry publish it
once issued; before approval the name exists only sealed.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Column,
    ForeignKey,
    LargeBinary,
    String,
    Table,
    Text,
    UniqueConstraint,
)

from .base import SEALED, metadata

merchant_applications = Table(
    "merchant_applications",
    metadata,
    Column("merchant_id", String(32), ForeignKey("merchants.id"), primary_key=True),
    Column("status", String(16), nullable=False),  # submitted | approved | rejected
    Column("legal_name_sealed", LargeBinary, info=SEALED, nullable=False),
    Column("registration_number_sealed", LargeBinary, info=SEALED, nullable=False),
    Column("address_sealed", LargeBinary, info=SEALED, nullable=False),
    Column("contact_email_sealed", LargeBinary, info=SEALED, nullable=False),
    Column("submitted_at", BigInteger, nullable=False),
    Column("decided_at", BigInteger),
    Column("decided_by", String(128)),
    Column("reason", String(32)),  # a rejection's code, never free text
)

merchant_domains = Table(
    "merchant_domains",
    metadata,
    Column("id", String(32), primary_key=True),  # dom_…
    Column("merchant_id", String(32), ForeignKey("merchants.id"), nullable=False, index=True),
    Column("domain", String(253), nullable=False),
    Column("token", String(64), nullable=False),  # published by the merchant at its domain
    Column("created_at", BigInteger, nullable=False),
    Column("checked_at", BigInteger),
    Column("check_error", String(32)),  # the last failed check's code
    Column("verified_at", BigInteger),
    UniqueConstraint("merchant_id", "domain", name="uq_merchant_domains_merchant_domain"),
)

ca_certificates = Table(
    "ca_certificates",
    metadata,
    Column("key_id", String(64), primary_key=True),  # the keyring kid of the "ca" key
    Column("serial", String(40), nullable=False, unique=True),
    Column("pem", Text, nullable=False),
    Column("created_at", BigInteger, nullable=False),
    Column("not_after", BigInteger, nullable=False),
)

merchant_certificates = Table(
    "merchant_certificates",
    metadata,
    Column("serial", String(40), primary_key=True),  # hex
    Column("merchant_id", String(32), ForeignKey("merchants.id"), nullable=False, index=True),
    Column("merchant_key_id", String(64), nullable=False),
    Column("ca_key_id", String(64), ForeignKey("ca_certificates.key_id"), nullable=False),
    Column("legal_name", String(200), nullable=False),  # public: it is in the certificate
    Column("pem", Text, nullable=False),
    Column("fingerprint", String(64), nullable=False),  # SHA-256 of the DER, hex
    Column("not_before", BigInteger, nullable=False),
    Column("not_after", BigInteger, nullable=False),
    Column("status", String(16), nullable=False),  # active | suspended | revoked
    Column("suspended_at", BigInteger),
    Column("revoked_at", BigInteger),
    Column("reason", String(32)),  # the suspension's or revocation's RFC 5280 reason
)
