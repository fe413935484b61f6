"""Step-up evidence, checked again from the stored row alone.

Nothing here reads the registered credentials: the row carries the COSE public
key as it was when the operation was approved, so the proof still holds after
the passkey is revoked, and an auditor needs no other table. Each check is
named; the evidence holds only if every one passes:

    operation       the stored operation is canonical JSON of the known fields
    user            the operation names the user the evidence belongs to
    client_data     clientDataJSON parses
    type            it says "webauthn.get"
    origin          its origin is the stored origin (and the expected one, if given)
    challenge       its challenge is derived from the stored operation
    rp_id           the stored rp id is the expected one, if given
    rp_id_hash      authenticatorData's rpIdHash is SHA-256 of the stored rp id
    user_present    the UP flag is set
    user_verified   the UV flag is set
    signature       the signature over authenticatorData || SHA-256(clientDataJSON)
                    verifies with the stored public key
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from cryptography.exceptions import InvalidSignature
from sqlalchemy import Connection, RowMapping, select
from webauthn.helpers import (
    decode_credential_public_key,
    decoded_public_key_to_cryptography,
    parse_authenticator_data,
    parse_client_data_json,
    verify_signature,
)
from webauthn.helpers.exceptions import WebAuthnException
from webauthn.helpers.structs import AuthenticatorData, ClientDataType, CollectedClientData

from ...adapters.store.schema import step_up_evidence
from ...domain.errors import DomainError
from ...domain.identity.stepup import Operation, derive_challenge, parse_operation
from ..ledger.currencies import currency


@dataclass(frozen=True)
class EvidenceRecord:
    id: str
    user_id: str
    operation: str
    credential_id: str
    public_key: bytes
    client_data_json: bytes
    authenticator_data: bytes
    signature: bytes
    rp_id: str
    origin: str
    created_at: int
    consumed_at: int | None


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool
    detail: str


@dataclass(frozen=True)
class EvidenceReport:
    record: EvidenceRecord
    operation: Operation | None
    checks: tuple[Check, ...] = field(default_factory=tuple)

    @property
    def ok(self) -> bool:
        return all(c.ok for c in self.checks)

    @property
    def failed(self) -> list[str]:
        return [c.name for c in self.checks if not c.ok]


def load(conn: Connection, evidence_id: str) -> EvidenceRecord | None:
    if not isinstance(evidence_id, str) or len(evidence_id) > 32:
        return None
    row = conn.execute(select(step_up_evidence).where(
        step_up_evidence.c.id == evidence_id)).mappings().first()
    return None if row is None else record_of(row)


def record_of(row: RowMapping) -> EvidenceRecord:
    return EvidenceRecord(
        id=row["id"], user_id=row["user_id"], operation=row["operation"],
        credential_id=row["credential_id"], public_key=bytes(row["public_key"]),
        client_data_json=bytes(row["client_data_json"]),
        authenticator_data=bytes(row["authenticator_data"]), signature=bytes(row["signature"]),
        rp_id=row["rp_id"], origin=row["origin"], created_at=row["created_at"],
        consumed_at=row["consumed_at"])


def verify_record(record: EvidenceRecord, *, expected_origin: str | None = None,
                  expected_rp_id: str | None = None) -> EvidenceReport:
    checks: list[Check] = []

    def check(name: str, ok: bool, good: str, bad: str) -> None:
        checks.append(Check(name, ok, good if ok else bad))

    operation = _attempt(lambda: parse_operation(record.operation))
    check("operation", isinstance(operation, Operation), "canonical",
          f"not a canonical operation ({_why(operation)})")
    op = operation if isinstance(operation, Operation) else None
    check("user", op is not None and op.user == record.user_id, record.user_id,
          "the operation does not name the evidence's user")
    client = _attempt(lambda: parse_client_data_json(record.client_data_json))
    cd = client if isinstance(client, CollectedClientData) else None
    check("client_data", cd is not None, "parsed", f"unparseable ({_why(client)})")
    check("type", cd is not None and cd.type == ClientDataType.WEBAUTHN_GET, "webauthn.get",
          f"type is {cd.type if cd else None!r}")
    origin_ok = cd is not None and cd.origin == record.origin \
        and (expected_origin is None or record.origin == expected_origin)
    check("origin", origin_ok, record.origin,
          f"signed origin {cd.origin if cd else None!r}, stored {record.origin!r}, "
          f"expected {expected_origin!r}")
    expected = derive_challenge(record.operation.encode("utf-8"))
    check("challenge", cd is not None and op is not None and cd.challenge == expected,
          "derived from the operation", "the signed challenge is not the operation's")
    check("rp_id", expected_rp_id is None or record.rp_id == expected_rp_id, record.rp_id,
          f"stored rp id {record.rp_id!r}, expected {expected_rp_id!r}")
    parsed = _attempt(lambda: parse_authenticator_data(record.authenticator_data))
    ad = parsed if isinstance(parsed, AuthenticatorData) else None
    rp_hash = hashlib.sha256(record.rp_id.encode("utf-8")).digest()
    check("rp_id_hash", ad is not None and ad.rp_id_hash == rp_hash, "matches",
          "authenticatorData is for another relying party" if ad else "unparseable")
    check("user_present", ad is not None and ad.flags.up, "set", "not set")
    check("user_verified", ad is not None and ad.flags.uv, "set", "not set")
    signature = _signature_check(record)
    check("signature", signature is None, "verifies", signature or "")
    return EvidenceReport(record=record, operation=op, checks=tuple(checks))


def _signature_check(record: EvidenceRecord) -> str | None:
    """None if the signature verifies; otherwise why not."""
    signed = record.authenticator_data + hashlib.sha256(record.client_data_json).digest()
    try:
        decoded = decode_credential_public_key(record.public_key)
        key = decoded_public_key_to_cryptography(decoded)
        verify_signature(public_key=key, signature_alg=decoded.alg, signature=record.signature,
                         data=signed)
    except InvalidSignature:
        return "does not verify with the stored public key"
    except (WebAuthnException, ValueError, TypeError, KeyError) as exc:
        return f"cannot be checked ({type(exc).__name__})"
    return None


def _attempt(parse: Callable[[], object]) -> object:
    try:
        return parse()
    except (DomainError, WebAuthnException, ValueError, TypeError, KeyError) as exc:
        return exc


def _why(result: object) -> str:
    if isinstance(result, DomainError):
        return result.detail
    return type(result).__name__


def approved(op: Operation) -> dict[str, Any]:
    """What the customer approved, for display: the amount also in major units."""
    try:
        exponent = currency(op.currency).exponent
        shown = str(Decimal(op.amount).scaleb(-exponent))
    except DomainError:
        shown = f"{op.amount} minor units"
    return {"type": op.type, "amount": op.amount, "amount_display": f"{shown} {op.currency}",
            "currency": op.currency, "payee": op.payee, "reference": op.reference,
            "user": op.user, "nonce": op.nonce}
