"""Identifiers at the service edge: normalise (with libraries where needed), then hash.

Phone numbers become E.164 with ``phonenumbers`` (a number without ``+`` is read in
``region``, so ``020 7946 0958`` in GB is ``+442079460958``); IBANs take schwifty's
electronic form (services/banking/ibans.normalise); the other kinds are the pure rules
of domain/registry/identifiers.py.

The hash is the keyring's ``registry_index`` key over the kind and the normalised value
(adapters/crypto/blind.registry_index). That key is not the blind-index key: it may be
shared with the institutions that exchange feeds (decision 0031), and
:func:`install_shared_key` installs such a key before the first entry is hashed.
:func:`key_id` names the key without revealing it, so a feed says which key hashed it.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable
from typing import TYPE_CHECKING

import phonenumbers
from sqlalchemy import Connection, select

from ...adapters import crypto
from ...adapters.store.schema import approvals, registry_identifiers
from ...domain.approvals import Kind as ApprovalKind
from ...domain.errors import DomainError
from ...domain.registry import identifiers as rules
from ...domain.registry.identifiers import INVALID, Kind
from .. import audit
from ..banking import ibans
from ..keys import store as key_store
from ..keys.purposes import ACTIVE, REGISTRY_INDEX, SECRET_BYTES, context

if TYPE_CHECKING:
    from ..keys import Keys

KEY_ID_LABEL = b"paywarden/registry-index/key-id/v1"
KEY_ID_HEX_CHARS = 32


def normalise_phone(value: object, region: str | None) -> str:
    if not isinstance(value, str) or len(value) > rules.IDENTIFIER_CHARS_MAX:
        raise DomainError(INVALID, "the phone is not text")
    try:
        number = phonenumbers.parse(value, region)
    except phonenumbers.NumberParseException:
        raise DomainError(INVALID, "the phone is not a number (a number without + needs "
                          "a region)") from None
    if not phonenumbers.is_possible_number(number):
        raise DomainError(INVALID, "the phone is not a possible number")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def normalise_iban(value: object, region: str | None) -> str:
    try:
        return ibans.normalise(value)  # type: ignore[arg-type]
    except DomainError:
        raise DomainError(INVALID, "the iban is not an IBAN") from None


_NORMALISERS: dict[Kind, Callable[[object, str | None], str]] = {
    Kind.NATIONAL_ID: lambda v, _r: rules.normalise_national_id(v),
    Kind.EMAIL: lambda v, _r: rules.normalise_email(v),
    Kind.PHONE: normalise_phone,
    Kind.CARD_FINGERPRINT: lambda v, _r: rules.normalise_card_fingerprint(v),
    Kind.IBAN: normalise_iban,
    Kind.DEVICE_ID: lambda v, _r: rules.normalise_device_id(v),
}


def kind_of(kind: object) -> Kind:
    try:
        return Kind(str(kind))
    except ValueError:
        raise DomainError(INVALID, f"no identifier kind {str(kind)[:32]!r}; one of "
                          f"{', '.join(Kind)}") from None


def normalise(kind: Kind | str, value: object, *, region: str | None) -> str:
    return _NORMALISERS[kind_of(kind)](value, region)


def digest(keys: Keys, kind: Kind | str, value: object, *, region: str | None) -> str:
    """The keyed hash of ``value`` as a ``kind``; :data:`INVALID` if it is not one."""
    found = kind_of(kind)
    return crypto.registry_index(keys.current(REGISTRY_INDEX)[1], str(found),
                                 normalise(found, value, region=region))


def key_id(keys: Keys) -> str:
    """A public name of the hashing key: an HMAC under it of a fixed label. Two
    instances with the same id hash alike; the id tells nothing about the key."""
    secret = keys.current(REGISTRY_INDEX)[1]
    return hmac.new(secret, KEY_ID_LABEL, hashlib.sha256).hexdigest()[:KEY_ID_HEX_CHARS]


def install_shared_key(keys: Keys, conn: Connection, secret: bytes, *, now_ns: int,
                       actor: str) -> str:
    """Install the hashing key shared by the institutions of a feed as the active version
    of ``registry_index`` (the one created at start-up is retired): only while no digest
    is stored, since entries hashed under the old key would no longer match. Returns
    the key's id. The caller forgets the keyring's cached version after commit."""
    if len(secret) != SECRET_BYTES:
        raise DomainError("registry_key_invalid", f"the shared key is {SECRET_BYTES} bytes")
    stored = conn.execute(select(registry_identifiers.c.digest).limit(1)).first() or \
        conn.execute(select(approvals.c.id).where(  # a submitted entry holds digests too
            approvals.c.kind == str(ApprovalKind.REGISTRY_ENTRY)).limit(1)).first()
    if stored is not None:
        raise DomainError("registry_key_exists", "digests are stored under this instance's "
                          "key already; install the shared key before the first request")
    found = key_store.active(conn, REGISTRY_INDEX)
    if found is not None:
        key_store.retire(conn, REGISTRY_INDEX, found[0].version, now_ns=now_ns)
    number = key_store.last_version(conn, REGISTRY_INDEX) + 1
    kid = f"{REGISTRY_INDEX}.v{number}.shared"
    version = key_store.KeyVersion(purpose=REGISTRY_INDEX, version=number, kid=kid,
                                   state=ACTIVE, master_key_id=keys.master.key_id,
                                   public_key=None, created_at=now_ns, retired_at=None,
                                   destroyed_at=None, not_after=None)
    key_store.add(conn, version, keys.master.wrap(secret, context=context(REGISTRY_INDEX,
                                                                          number)))
    audit.record(conn, at_ns=now_ns, actor=actor, action="key.create", object_id=kid,
                 detail={"purpose": REGISTRY_INDEX, "version": number, "kid": kid,
                         "shared": True})
    return hmac.new(secret, KEY_ID_LABEL, hashlib.sha256).hexdigest()[:KEY_ID_HEX_CHARS]
