"""Checking a passkey assertion strictly, for sign-in and for step-up alike.

Every assertion is checked by py_webauthn against our relying party id and
origin (from settings, never from the request), with user verification
required and the signature counter required to grow unless the authenticator
keeps none (both zero). Anything else is :class:`PasskeyRefused`.

    DomainError
    └── PasskeyRefused   code ``passkey_refused``; ``reason`` says why, for the log only
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, RowMapping, select, update
from webauthn import verify_authentication_response
from webauthn.authentication.verify_authentication_response import VerifiedAuthentication
from webauthn.helpers import parse_authentication_credential_json
from webauthn.helpers.exceptions import WebAuthnException
from webauthn.helpers.structs import AuthenticationCredential

from ...adapters.store.schema import webauthn_credentials
from ...domain.errors import DomainError

CREDENTIAL_ID_CHARS_MAX = 1024
SIGN_COUNT_REGRESSED = "sign_count_regressed"


class PasskeyRefused(DomainError):
    """A registration or assertion that is not accepted. The detail says nothing more."""

    def __init__(self, reason: str) -> None:
        super().__init__("passkey_refused", "the passkey response was not accepted")
        self.reason = reason[:200]


@dataclass(frozen=True)
class RelyingParty:
    """Who we are to authenticators: from settings, never from a request."""

    rp_id: str
    rp_name: str
    origin: str
    timeout_s: int


@dataclass(frozen=True)
class StoredCredential:
    id: str  # base64url
    user_id: str
    public_key: bytes  # COSE
    sign_count: int
    backed_up: bool
    revoked_at: int | None


def parse_assertion(credential: Any) -> AuthenticationCredential:
    if not isinstance(credential, dict):
        raise PasskeyRefused("the credential is not a JSON object")
    try:
        parsed = parse_authentication_credential_json(credential)
    except (WebAuthnException, ValueError, TypeError) as exc:
        raise PasskeyRefused(f"malformed assertion: {type(exc).__name__}") from None
    if len(parsed.id) > CREDENTIAL_ID_CHARS_MAX:
        raise PasskeyRefused("credential id too long")
    return parsed


def credential_of(row: RowMapping) -> StoredCredential:
    return StoredCredential(id=row["id"], user_id=row["user_id"],
                            public_key=bytes(row["public_key"]), sign_count=row["sign_count"],
                            backed_up=bool(row["backed_up"]), revoked_at=row["revoked_at"])


def live_credential(conn: Connection, credential_id: str) -> StoredCredential:
    row = conn.execute(select(webauthn_credentials).where(
        webauthn_credentials.c.id == credential_id)).mappings().first()
    if row is None or row["revoked_at"] is not None:
        raise PasskeyRefused("unknown or revoked credential")
    return credential_of(row)


def check_assertion(parsed: AuthenticationCredential, *, challenge: bytes,
                    stored: StoredCredential, rp: RelyingParty) -> VerifiedAuthentication:
    """The verified assertion, or :class:`PasskeyRefused`.

    A counter that went backwards on an otherwise genuine assertion means the
    key was copied: it is refused with reason ``sign_count_regressed`` so the
    caller can warn the user.
    """
    if parsed.response.user_handle is not None \
            and parsed.response.user_handle != stored.user_id.encode():
        raise PasskeyRefused("user handle does not match the credential")
    try:
        return _verify(parsed, challenge, stored, rp, stored.sign_count)
    except WebAuthnException as exc:
        if stored.sign_count > 0:
            try:
                _verify(parsed, challenge, stored, rp, 0)
            except WebAuthnException:
                pass
            else:
                raise PasskeyRefused(SIGN_COUNT_REGRESSED) from None
        raise PasskeyRefused(str(exc)) from None


def _verify(parsed: AuthenticationCredential, challenge: bytes, stored: StoredCredential,
            rp: RelyingParty, sign_count: int) -> VerifiedAuthentication:
    return verify_authentication_response(
        credential=parsed, expected_challenge=challenge, expected_rp_id=rp.rp_id,
        expected_origin=rp.origin, credential_public_key=stored.public_key,
        credential_current_sign_count=sign_count, require_user_verification=True)


def advance(conn: Connection, stored: StoredCredential, verified: VerifiedAuthentication, *,
            now_ns: int) -> None:
    """Store the new counter; refused if a concurrent use moved it meanwhile."""
    moved = conn.execute(update(webauthn_credentials).where(
        webauthn_credentials.c.id == stored.id,
        webauthn_credentials.c.sign_count == stored.sign_count,
        webauthn_credentials.c.revoked_at.is_(None),
    ).values(sign_count=verified.new_sign_count, last_used_at=now_ns,
             backed_up=int(verified.credential_backed_up))).rowcount
    if moved != 1:
        raise PasskeyRefused("the credential was used or revoked concurrently")
