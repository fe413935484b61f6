"""The cheque document: a compact JWS the platform signs with its ``cheques`` key (0026).

A payee checks a cheque with nothing but ``/.well-known/jwks.json``::

    from joserfc import jws
    from joserfc.jwk import KeySet
    token = jws.deserialize_compact(cheque_jws, KeySet.import_key_set(jwks),
                                    algorithms=["Ed25519"])

The protected header is ``{"alg": "Ed25519", "kid": <a "cheques" key>, "typ":
"paywarden-cheque+jwt"}``; the claims are the cheque's (``domain.banking.cheques.claims``)
plus ``iss`` and ``iat``. The keyring's Signer signs the JWS signing input, so the
private key never leaves the keyring. The bank verifies against every version of
its ``cheques`` key, retired or destroyed ones too: a cheque outlives a rotation.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any, Protocol, cast

from joserfc import jws
from joserfc.errors import JoseError
from joserfc.jwk import KeySet
from joserfc.util import urlsafe_b64decode, urlsafe_b64encode
from sqlalchemy import Connection

from ...adapters.rail import ChequeItem, RailAnswer
from ...domain.banking.cheques import JWS_TYPE, Cheque, claims, from_claims
from ...domain.errors import DomainError, PayWardenError
from ...domain.timestamps import NS
from ..keys import Keys
from ..keys import jwks as jwks_
from ..keys import store as key_store
from ..keys.purposes import CHEQUES

ALGORITHM = "Ed25519"
TEXT_CHARS_MAX = 4096  # a cheque is ~900 characters; more is not a cheque


class NotACheque(PayWardenError):
    """The text is not a cheque this bank signed, or it was changed after signing: the
    service bounces it as ``altered``; no caller sees this error itself."""


def _b64(data: bytes) -> str:
    return urlsafe_b64encode(data).decode("ascii")


def _json(value: dict[str, Any]) -> bytes:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False,
                      allow_nan=False).encode("utf-8")


def sign(keys: Keys, cheque: Cheque, *, at_ns: int, issuer: str) -> str:
    """The cheque as a compact JWS under the active ``cheques`` key."""
    signer = keys.signer(CHEQUES)
    header = _json({"alg": ALGORITHM, "kid": signer.key_id, "typ": JWS_TYPE})
    body = _json({**claims(cheque), "iss": issuer, "iat": at_ns // NS})
    signing_input = f"{_b64(header)}.{_b64(body)}"
    return f"{signing_input}.{_b64(signer.sign(signing_input.encode('ascii')))}"


def unverified(text: str) -> dict[str, Any] | None:
    """The payload's claims, NOT verified: to say which cheque a bad text names, or to read
    another bank's cheque before its bank is asked. None if there is no JSON object."""
    parts = text.split(".") if isinstance(text, str) and len(text) <= TEXT_CHARS_MAX else []
    if len(parts) != 3:
        return None
    try:
        found = json.loads(urlsafe_b64decode(parts[1].encode("ascii")))
    except (ValueError, UnicodeError):
        return None
    return found if isinstance(found, dict) else None


def verify(conn: Connection, text: str) -> Cheque:
    """The cheque ``text`` is, if it verifies against one of this bank's ``cheques`` keys;
    :class:`NotACheque` if it does not, or its header or claims are not a cheque's."""
    if not isinstance(text, str) or len(text) > TEXT_CHARS_MAX or text.count(".") != 2:
        raise NotACheque("the text is not a compact JWS")
    try:
        header = json.loads(urlsafe_b64decode(text.split(".")[0].encode("ascii")))
    except (ValueError, UnicodeError):
        raise NotACheque("the JWS header is unreadable") from None
    kid = header.get("kid") if isinstance(header, dict) else None
    version = key_store.by_kid(conn, kid) if isinstance(kid, str) and len(kid) <= 64 else None
    if version is None or version.purpose != CHEQUES or version.public_key is None:
        raise NotACheque("the cheque is not signed with a cheque key of this bank")
    key_set = KeySet.import_key_set(cast(Any, {"keys": [jwks_.jwk(version)]}))
    try:
        found = jws.deserialize_compact(text, key_set, algorithms=[ALGORITHM])
        payload = json.loads(found.payload)
    except (JoseError, ValueError, TypeError):
        raise NotACheque("the signature does not verify: the cheque was changed") from None
    if found.protected.get("typ") != JWS_TYPE:
        raise NotACheque("the JWS is not a cheque")
    try:
        return from_claims(payload)
    except DomainError as exc:
        raise NotACheque(f"the claims are not a cheque's: {exc.detail}") from None


class Collector(Protocol):
    """Who presents a cheque of another bank: the simulated rail, or the clearing
    network (services/clearing/bank/cheques.py)."""

    def present_cheque(self, item: ChequeItem) -> RailAnswer: ...


def collection_key(drawer_iban: str, serial: int) -> str:
    """A cheque of another bank's collection id: the same cheque, the same id (its
    presentment's end-to-end id in the clearing network is made of it, decision 0064)."""
    return hashlib.sha256(f"{drawer_iban}|{serial}".encode()).hexdigest()[:32]


def digest(text: str) -> str:
    data = text.encode("utf-8", "surrogatepass") if isinstance(text, str) else b""
    return hashlib.sha256(data).hexdigest()
