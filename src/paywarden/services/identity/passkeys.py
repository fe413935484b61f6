"""Passkeys: registering them, listing and revoking them, and signing in with one.

Registration needs a signed-in user, or the holder of an enrolment session (a
session with no roles whose methods include ``enrolment``, issued by sign-up).
Sign-in needs nothing but the assertion. Both ceremonies check the response
against the relying party id and origin from settings, with user verification
required; see :mod:`.assertions`.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from typing import Any

import structlog
from sqlalchemy import Connection, insert, select, update
from webauthn import (
    generate_authentication_options,
    generate_registration_options,
    verify_registration_response,
)
from webauthn.helpers import base64url_to_bytes, bytes_to_base64url, options_to_json_dict
from webauthn.helpers.cose import COSEAlgorithmIdentifier
from webauthn.helpers.exceptions import WebAuthnException
from webauthn.helpers.structs import (
    AttestationConveyancePreference,
    AuthenticatorSelectionCriteria,
    AuthenticatorTransport,
    PublicKeyCredentialDescriptor,
    ResidentKeyRequirement,
    UserVerificationRequirement,
)

from ...adapters.clock import Clock
from ...adapters.store import Database
from ...adapters.store.schema import webauthn_credentials
from ...domain.errors import DomainError
from ...domain.identity import Principal
from .. import audit
from ..sealed import FieldKeys
from .assertions import (
    SIGN_COUNT_REGRESSED,
    PasskeyRefused,
    RelyingParty,
    advance,
    check_assertion,
    live_credential,
    parse_assertion,
)
from .ceremonies import CHALLENGE_BYTES, Purpose, open_ceremony, take_ceremony
from .notices import notify
from .sessions import NewSession, Sessions
from .signin import RequestMeta, complete_sign_in
from .users import User, find_by_username, get_user

log = structlog.get_logger(__name__)

ALGORITHMS = [COSEAlgorithmIdentifier.EDDSA, COSEAlgorithmIdentifier.ECDSA_SHA_256,
              COSEAlgorithmIdentifier.RSASSA_PKCS1_v1_5_SHA_256]
NAME_CHARS_MAX = 64
PASSKEYS_PER_USER_MAX = 20
ENROLMENT = "enrolment"
# Sessions that are not a full sign-in: sign-up's, and a password awaiting its second factor.
PARTIAL_METHODS = frozenset({ENROLMENT, "first_factor"})
DECOY_CREDENTIAL_BYTES = 32


@dataclass(frozen=True)
class PasskeyInfo:
    id: str
    name: str
    aaguid: str
    transports: tuple[str, ...]
    backed_up: bool
    created_at: int
    last_used_at: int | None


@dataclass(frozen=True)
class Options:
    ceremony_id: str
    options: dict[str, Any]  # as py_webauthn's options_to_json_dict gives them


def subject(conn: Connection, principal: Principal, *, keys: FieldKeys,
            enrolment_ok: bool) -> User:
    """The user acting on their own factors: a session holder, signed in or enrolling."""
    enrolling = ENROLMENT in principal.auth_methods and not principal.roles
    signed_in = bool(principal.roles) and not principal.auth_methods & PARTIAL_METHODS
    user = get_user(conn, principal.id, keys=keys) if principal.session_id else None
    if user is None or user.status != "active" or user.owner != principal.owner \
            or not (signed_in or (enrolling and enrolment_ok)):
        raise DomainError("forbidden", "only a signed-in user manages their own passkeys")
    return user


class Passkeys:
    def __init__(self, database: Database, *, clock: Clock, keys: FieldKeys,
                 sessions: Sessions, rp: RelyingParty) -> None:
        self._database = database
        self._clock = clock
        self._keys = keys
        self._sessions = sessions
        self.rp = rp

    @property
    def keys(self) -> FieldKeys:
        return self._keys

    # Registration

    def registration_options(self, principal: Principal) -> Options:
        now = self._clock.now_ns()
        challenge = secrets.token_bytes(CHALLENGE_BYTES)
        with self._database.engine.begin() as conn:
            user = subject(conn, principal, keys=self._keys, enrolment_ok=True)
            existing = live_rows(conn, user.id)
            if len(existing) >= PASSKEYS_PER_USER_MAX:
                raise DomainError("passkeys_too_many",
                                  f"at most {PASSKEYS_PER_USER_MAX} passkeys per user")
            options = generate_registration_options(
                rp_id=self.rp.rp_id, rp_name=self.rp.rp_name, user_name=user.username,
                user_id=user.id.encode(), user_display_name=user.display_name or user.username,
                challenge=challenge, timeout=self.rp.timeout_s * 1000,
                attestation=AttestationConveyancePreference.NONE,
                authenticator_selection=AuthenticatorSelectionCriteria(
                    resident_key=ResidentKeyRequirement.PREFERRED,
                    user_verification=UserVerificationRequirement.REQUIRED),
                exclude_credentials=[descriptor(r["id"], r["transports"]) for r in existing],
                supported_pub_key_algs=ALGORITHMS)
            ceremony_id = open_ceremony(conn, purpose=Purpose.REGISTER, user_id=user.id,
                                        challenge=challenge, now_ns=now,
                                        timeout_s=self.rp.timeout_s)
        return Options(ceremony_id, options_to_json_dict(options))

    def register(self, principal: Principal, ceremony_id: str, credential: Any, *,
                 name: str = "passkey") -> PasskeyInfo:
        now = self._clock.now_ns()
        label = _label(name)
        with self._database.engine.begin() as conn:
            user = subject(conn, principal, keys=self._keys, enrolment_ok=True)
            ceremony = take_ceremony(conn, ceremony_id, purposes={Purpose.REGISTER}, now_ns=now)
        try:
            if ceremony is None or ceremony.user_id != user.id:
                raise PasskeyRefused("unknown, used, expired or someone else's ceremony")
            if not isinstance(credential, dict):
                raise PasskeyRefused("the credential is not a JSON object")
            try:
                verified = verify_registration_response(
                    credential=credential, expected_challenge=ceremony.challenge,
                    expected_rp_id=self.rp.rp_id, expected_origin=self.rp.origin,
                    require_user_presence=True, require_user_verification=True,
                    supported_pub_key_algs=ALGORITHMS)
            except (WebAuthnException, ValueError, TypeError, KeyError) as exc:
                raise PasskeyRefused(str(exc) or type(exc).__name__) from None
            row: dict[str, Any] = {
                "id": bytes_to_base64url(verified.credential_id), "user_id": user.id,
                "public_key": verified.credential_public_key, "sign_count": verified.sign_count,
                "transports": _transports(credential), "aaguid": verified.aaguid,
                "backed_up": int(verified.credential_backed_up), "name": label,
                "created_at": now, "last_used_at": None, "revoked_at": None,
            }  # fmt: skip
            with self._database.engine.begin() as conn:
                if conn.execute(select(webauthn_credentials.c.id).where(
                        webauthn_credentials.c.id == row["id"])).first() is not None:
                    raise PasskeyRefused("credential id already registered")
                conn.execute(insert(webauthn_credentials).values(**row))
                notify(conn, user.id, "factor_changed", keys=self._keys, now_ns=now,
                       subject="A passkey was added to your account",
                       body=f"The passkey '{label}' can now sign in to your account. If you "
                            "did not add it, revoke it and your sessions at once.")
                audit.record(conn, at_ns=now, actor=principal.actor, action="passkey.register",
                             object_id=row["id"][:128],
                             detail={"user": user.id, "aaguid": row["aaguid"],
                                     "backed_up": bool(row["backed_up"])})
        except PasskeyRefused as exc:
            self.refused(principal.actor, "passkey.register", exc, user_id=user.id)
            raise
        return _info(row)

    # Listing and revoking

    def list_for(self, principal: Principal) -> list[PasskeyInfo]:
        with self._database.engine.connect() as conn:
            user = subject(conn, principal, keys=self._keys, enrolment_ok=False)
            return [_info(r) for r in live_rows(conn, user.id)]

    def revoke(self, principal: Principal, credential_id: str) -> None:
        now = self._clock.now_ns()
        with self._database.engine.begin() as conn:
            user = subject(conn, principal, keys=self._keys, enrolment_ok=False)
            revoked = conn.execute(update(webauthn_credentials).where(
                webauthn_credentials.c.id == credential_id,
                webauthn_credentials.c.user_id == user.id,
                webauthn_credentials.c.revoked_at.is_(None)).values(revoked_at=now)).rowcount
            if revoked != 1:
                raise DomainError("not_found", "no such passkey")
            notify(conn, user.id, "factor_changed", keys=self._keys, now_ns=now,
                   subject="A passkey was removed from your account",
                   body="One of your passkeys was revoked and can no longer sign in. If you "
                        "did not do this, sign in and review your factors and sessions.")
            audit.record(conn, at_ns=now, actor=principal.actor, action="passkey.revoke",
                         object_id=credential_id[:128], detail={"user": user.id})

    def rename(self, principal: Principal, credential_id: str, name: str) -> PasskeyInfo:
        """Give a passkey a name its owner recognises it by ("work laptop", "phone")."""
        label = _label(name)
        with self._database.engine.begin() as conn:
            user = subject(conn, principal, keys=self._keys, enrolment_ok=False)
            mine = (webauthn_credentials.c.id == credential_id,
                    webauthn_credentials.c.user_id == user.id,
                    webauthn_credentials.c.revoked_at.is_(None))
            if conn.execute(update(webauthn_credentials).where(*mine).values(
                    name=label)).rowcount != 1:
                raise DomainError("not_found", "no such passkey")
            audit.record(conn, at_ns=self._clock.now_ns(), actor=principal.actor,
                         action="passkey.rename", object_id=credential_id[:128],
                         detail={"user": user.id})
            row = conn.execute(select(webauthn_credentials).where(*mine)).mappings().one()
        return _info(row)

    # Sign-in

    def sign_in_options(self, username: str | None, *, decoy_key: bytes) -> Options:
        """Options for a named user, or for any discoverable passkey when no name is given.

        An unknown username gets options of the same shape, listing decoy
        credential ids derived from the name, so the answer does not say
        whether the account exists.
        """
        now = self._clock.now_ns()
        challenge = secrets.token_bytes(CHALLENGE_BYTES)
        purpose, user_id, allow = Purpose.SIGN_IN, None, []
        with self._database.engine.begin() as conn:
            if username is not None:
                user = find_by_username(conn, username, keys=self._keys)
                rows = live_rows(conn, user.id) if user is not None else []
                if user is None or not rows:
                    purpose = Purpose.SIGN_IN_VOID
                    allow = [_decoy(decoy_key, username)]
                else:
                    user_id = user.id
                    allow = [descriptor(r["id"], r["transports"]) for r in rows]
            ceremony_id = open_ceremony(conn, purpose=purpose, user_id=user_id,
                                        challenge=challenge, now_ns=now,
                                        timeout_s=self.rp.timeout_s)
        options = generate_authentication_options(
            rp_id=self.rp.rp_id, challenge=challenge, timeout=self.rp.timeout_s * 1000,
            allow_credentials=allow, user_verification=UserVerificationRequirement.REQUIRED)
        return Options(ceremony_id, options_to_json_dict(options))

    def sign_in(self, ceremony_id: str, credential: Any, *, meta: RequestMeta,
                origin_key: bytes) -> tuple[NewSession, User]:
        now = self._clock.now_ns()
        with self._database.engine.begin() as conn:
            ceremony = take_ceremony(conn, ceremony_id, purposes={Purpose.SIGN_IN}, now_ns=now)
        user_id: str | None = None
        try:
            if ceremony is None:
                raise PasskeyRefused("unknown, used or expired ceremony")
            parsed = parse_assertion(credential)
            with self._database.engine.begin() as conn:
                stored = live_credential(conn, parsed.id)
                user_id = stored.user_id
                if ceremony.user_id is not None and ceremony.user_id != stored.user_id:
                    raise PasskeyRefused("the credential is not the named user's")
                verified = check_assertion(parsed, challenge=ceremony.challenge, stored=stored,
                                           rp=self.rp)
                advance(conn, stored, verified, now_ns=now)
                user = get_user(conn, stored.user_id, keys=self._keys)
                if user is None:
                    raise PasskeyRefused("the credential's user is gone")
                new = complete_sign_in(conn, self._sessions, user,
                                       methods=frozenset({"passkey"}), meta=meta,
                                       origin_key=origin_key, now_ns=now)
        except PasskeyRefused as exc:
            self.refused("anonymous", "passkey.sign_in", exc, user_id=user_id)
            raise
        return new, user

    def refused(self, actor: str, action: str, exc: PasskeyRefused, *,
                user_id: str | None) -> None:
        """Record a refusal; a copied authenticator is also told to its owner."""
        now = self._clock.now_ns()
        log.warning("passkey_refused", action=action, reason=exc.reason, user=user_id)
        with self._database.engine.begin() as conn:
            audit.record(conn, at_ns=now, actor=actor, action=action,
                         object_id=user_id or "unknown", outcome="refused",
                         detail={"reason": exc.reason})
            if exc.reason == SIGN_COUNT_REGRESSED and user_id is not None:
                notify(conn, user_id, "passkey_cloned", keys=self._keys, now_ns=now,
                       subject="One of your passkeys may have been copied",
                       body="A passkey of yours was used with a counter lower than before, "
                            "which happens when its key has been copied. The attempt was "
                            "refused. Revoke that passkey and register a new one.")


def live_rows(conn: Connection, user_id: str) -> list[Any]:
    return list(conn.execute(select(webauthn_credentials).where(
        webauthn_credentials.c.user_id == user_id, webauthn_credentials.c.revoked_at.is_(None),
    ).order_by(webauthn_credentials.c.created_at)).mappings().all())


def _label(name: str) -> str:
    label = name.strip()[:NAME_CHARS_MAX] or "passkey"
    if not label.isprintable():
        raise DomainError("name_invalid", "a passkey name is printable text")
    return label


def _info(row: Any) -> PasskeyInfo:
    return PasskeyInfo(id=row["id"], name=row["name"], aaguid=row["aaguid"],
                       transports=tuple(t for t in row["transports"].split(",") if t),
                       backed_up=bool(row["backed_up"]), created_at=row["created_at"],
                       last_used_at=row["last_used_at"])


def _transports(credential: dict[str, Any]) -> str:
    response = credential.get("response")
    given = response.get("transports") if isinstance(response, dict) else None
    known = {t.value for t in AuthenticatorTransport}
    found = sorted({t for t in given if isinstance(t, str) and t in known}) if isinstance(given, list) else []
    return ",".join(found)[:128]


def descriptor(credential_id: str, transports: str) -> PublicKeyCredentialDescriptor:
    kinds = [AuthenticatorTransport(t) for t in transports.split(",") if t]
    return PublicKeyCredentialDescriptor(id=base64url_to_bytes(credential_id),
                                         transports=kinds or None)


def _decoy(key: bytes, username: str) -> PublicKeyCredentialDescriptor:
    digest = hmac.new(key, b"passkey-decoy\x00" + username.casefold().encode(),
                      hashlib.sha256).digest()
    return PublicKeyCredentialDescriptor(id=digest[:DECOY_CREDENTIAL_BYTES],
                                         transports=[AuthenticatorTransport.INTERNAL])
