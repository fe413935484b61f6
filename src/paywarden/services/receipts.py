"""Signed receipts: a JWS (compact) per money movement, for the buyer and for the merchant.

Anyone can check a receipt with nothing but ``/.well-known/jwks.json``::

    from joserfc import jws
    from joserfc.jwk import KeySet
    token = jws.deserialize_compact(receipt_jws, KeySet.import_key_set(jwks),
                                    algorithms=["Ed25519"])

The protected header is ``{"alg": "Ed25519", "kid": <a "receipts" key>, "typ":
"paywarden-receipt+jwt"}`` — ``Ed25519`` as RFC 9864 names it, not the
deprecated polymorphic ``EdDSA``. The keyring's Signer signs the JWS signing
input (RFC 7515 §5.1), so the private key never leaves the keyring; the JWS is
checked with ``joserfc`` (:func:`verify`, and the tests).

The claims (RFC 7519 names where one fits):

    jti          the receipt id, rct_…           sub     the payment id
    iss          the platform's public URL       iat     seconds since the epoch
    time         the same moment, RFC 3339 UTC   audience  buyer | merchant
    audit_index  the audit entry of the movement
    plus the caller's: state, currency, amount_minor (and any other *_minor amount,
    integers only), buyer_id, merchant_id, merchant_legal_name (optional), …

A receipt holds ids, amounts and states: no personal data beyond the
merchant's legal name, which is public on its certificate.
"""

from __future__ import annotations

import functools
import json
import re
import secrets
from dataclasses import dataclass
from typing import Any, cast

from joserfc import jws
from joserfc.errors import JoseError
from joserfc.jwk import KeySet
from joserfc.util import urlsafe_b64decode, urlsafe_b64encode
from sqlalchemy import Connection, insert, select

from ..adapters.store.schema import receipts
from ..domain.errors import DomainError
from ..domain.timestamps import NS, rfc3339
from .keys import Keys

ALGORITHM = "Ed25519"
TYPE = "paywarden-receipt+jwt"
PURPOSE = "receipts"
AUDIENCES = ("buyer", "merchant")
RECEIPT_PREFIX = "rct_"
REQUIRED = {"state": str, "currency": str, "amount_minor": int, "buyer_id": str,
            "merchant_id": str}
RESERVED = frozenset({"jti", "sub", "iss", "iat", "time", "audience", "audit_index",
                      "payment_id", "aud", "exp", "nbf"})
CLAIMS_BYTES_MAX = 8 * 1024
_CURRENCY = re.compile(r"[A-Z]{3}")


class ReceiptRefused(DomainError):
    """codes: receipt_claims_invalid | receipt_invalid"""


@dataclass(frozen=True)
class Receipt:
    id: str
    payment_id: str
    audience: str
    jws: str
    audit_index: int
    created_at: int

    def claims(self) -> dict[str, Any]:
        """The payload, NOT verified (this platform wrote it); others use :func:`verify`."""
        payload: dict[str, Any] = json.loads(urlsafe_b64decode(self.jws.split(".")[1].encode()))
        return payload


def _check_claims(claims: dict[str, Any]) -> None:
    for name, kind in REQUIRED.items():
        if type(claims.get(name)) is not kind:
            raise ReceiptRefused("receipt_claims_invalid",
                                 f"claim {name!r} must be a {kind.__name__}")
    if not _CURRENCY.fullmatch(claims["currency"]):
        raise ReceiptRefused("receipt_claims_invalid", "currency is an ISO 4217 code")
    for name, value in claims.items():
        if name in RESERVED:
            raise ReceiptRefused("receipt_claims_invalid", f"claim {name!r} is set by the platform")
        if name.endswith("_minor") and (type(value) is not int or value < 0):
            raise ReceiptRefused("receipt_claims_invalid",
                                 f"{name} {value!r} is not a non-negative integer of minor units")
        if isinstance(value, float):
            raise ReceiptRefused("receipt_claims_invalid", f"claim {name!r} is a float")


def _b64(data: bytes) -> str:
    return urlsafe_b64encode(data).decode("ascii")


@functools.lru_cache(maxsize=64)
def _header(key_id: str) -> str:
    """The protected header of a receipt signed by ``key_id``, encoded (one per key)."""
    return _b64(_json({"alg": ALGORITHM, "kid": key_id, "typ": TYPE}))


def _json(value: dict[str, Any]) -> bytes:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False,
                      allow_nan=False).encode()




def issue(conn: Connection, keys: Keys, *, payment_id: str, audience: str,
          claims: dict[str, Any], at_ns: int, audit_index: int,
          issuer: str | None = None) -> Receipt:
    """Sign and store one receipt, in the caller's transaction."""
    receipt = sign(keys, payment_id=payment_id, audience=audience, claims=claims, at_ns=at_ns,
                   audit_index=audit_index, issuer=issuer)
    conn.execute(INSERT, row(receipt))
    return receipt


def sign(keys: Keys, *, payment_id: str, audience: str, claims: dict[str, Any], at_ns: int,
         audit_index: int, issuer: str | None = None) -> Receipt:
    """A signed receipt, not yet stored (a group commit stores a batch's with one insert)."""
    if audience not in AUDIENCES:
        raise ReceiptRefused("receipt_claims_invalid", f"audience {audience!r} is not one of "
                             f"{', '.join(AUDIENCES)}")
    _check_claims(claims)
    receipt_id = RECEIPT_PREFIX + secrets.token_hex(12)
    payload = {**claims, "jti": receipt_id, "sub": payment_id, "payment_id": payment_id,
               "audience": audience, "iat": at_ns // NS, "time": rfc3339(at_ns),
               "audit_index": audit_index}
    if issuer is not None:
        payload["iss"] = issuer
    body = _json(payload)
    if len(body) > CLAIMS_BYTES_MAX:
        raise ReceiptRefused("receipt_claims_invalid", f"the claims exceed {CLAIMS_BYTES_MAX} bytes")
    signer = keys.signer(PURPOSE)
    signing_input = f"{_header(signer.key_id)}.{_b64(body)}"
    token = f"{signing_input}.{_b64(signer.sign(signing_input.encode('ascii')))}"
    return Receipt(id=receipt_id, payment_id=payment_id, audience=audience, jws=token,
                   audit_index=audit_index, created_at=at_ns)


def row(receipt: Receipt) -> dict[str, Any]:
    return {"id": receipt.id, "payment_id": receipt.payment_id, "audience": receipt.audience,
            "jws": receipt.jws, "audit_index": receipt.audit_index,
            "created_at": receipt.created_at}


INSERT = insert(receipts)


def list_for_payment(conn: Connection, payment_id: str) -> list[Receipt]:
    rows = conn.execute(select(receipts).where(receipts.c.payment_id == payment_id)
                        .order_by(receipts.c.audit_index, receipts.c.created_at,
                                  receipts.c.id)).all()
    return [Receipt(id=r.id, payment_id=r.payment_id, audience=r.audience, jws=r.jws,
                    audit_index=r.audit_index, created_at=r.created_at) for r in rows]


def verify(token: str, jwks: dict[str, Any]) -> dict[str, Any]:
    """The claims of a receipt that verifies against ``jwks``; :class:`ReceiptRefused` else."""
    try:
        found = jws.deserialize_compact(token, KeySet.import_key_set(cast(Any, jwks)),
                                        algorithms=[ALGORITHM])
        header = found.protected
        claims = json.loads(found.payload)
    except (JoseError, ValueError, TypeError):
        raise ReceiptRefused("receipt_invalid", "the receipt does not verify against these "
                             "keys") from None
    if header.get("typ") != TYPE or not isinstance(claims, dict):
        raise ReceiptRefused("receipt_invalid", "this is not a PayWarden receipt")
    return claims
