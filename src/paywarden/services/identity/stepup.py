"""Step-up: a fresh passkey assertion over the exact operation, kept as evidence.

1. ``options``: the customer's operation gets a server nonce and their user id,
   is written canonically (:mod:`paywarden.domain.identity.stepup`) and stored
   with the ceremony; the challenge is derived from it, not random.
2. ``verify``: the assertion must be over that derived challenge, by one of the
   user's passkeys, with the same strict checks as sign-in. What was signed is
   stored as ``step_up_evidence`` (``evd_…``), enough to check it again later
   from that row alone (:mod:`.evidence`).
3. ``require``: the code that executes the operation presents the evidence id;
   it is accepted once, fresh, for exactly that operation and that user.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, insert, select, update
from webauthn import generate_authentication_options
from webauthn.helpers import options_to_json_dict, parse_client_data_json
from webauthn.helpers.structs import UserVerificationRequirement

from ...adapters.clock import Clock
from ...adapters.store import Database
from ...adapters.store.schema import step_up_evidence
from ...domain.errors import DomainError
from ...domain.identity import Principal
from ...domain.identity.stepup import (
    Operation,
    canonical,
    challenge_for,
    derive_challenge,
    needs_step_up,
    parse_operation,
)
from .. import audit
from .assertions import PasskeyRefused, advance, check_assertion, live_credential, parse_assertion
from .ceremonies import Purpose, open_ceremony, take_ceremony
from .passkeys import Passkeys, descriptor, live_rows, subject
from .sessions import NS, new_id

NONCE_BYTES = 24  # 32 base64url characters


@dataclass(frozen=True)
class StepUpOptions:
    ceremony_id: str
    operation: Operation
    options: dict[str, Any]


@dataclass(frozen=True)
class Approval:
    evidence_id: str
    operation: Operation


def require_step_up(conn: Connection, user: str, operation: Operation, evidence_id: str, *,
                    now_ns: int, fresh_s: int) -> None:
    """Accept ``evidence_id`` for executing ``operation`` by ``user`` (a ``usr_…`` id), once.

    Refused with ``step_up_required`` when there is no such evidence of this
    user, or it is stale or already used; with ``step_up_mismatch`` when the
    approved operation differs from this one in any byte.
    """
    row = conn.execute(select(step_up_evidence).where(
        step_up_evidence.c.id == evidence_id)).mappings().first() \
        if isinstance(evidence_id, str) and len(evidence_id) <= 32 else None
    if row is None or row["user_id"] != user:
        raise DomainError("step_up_required", "confirm this operation with your passkey")
    if operation.user != user or canonical(operation).decode("utf-8") != row["operation"]:
        raise DomainError("step_up_mismatch",
                          "the operation differs from the one confirmed with the passkey")
    if now_ns - row["created_at"] > fresh_s * NS or row["consumed_at"] is not None:
        raise DomainError("step_up_required", "the confirmation is stale or already used; "
                          "confirm this operation again")
    used = conn.execute(update(step_up_evidence).where(
        step_up_evidence.c.id == evidence_id, step_up_evidence.c.consumed_at.is_(None),
    ).values(consumed_at=now_ns)).rowcount
    if used != 1:
        raise DomainError("step_up_required", "the confirmation was already used")


def approved_operation(conn: Connection, user: str, evidence_id: str) -> Operation:
    """The operation ``user``'s step-up evidence approved (not yet consumed: see
    :func:`require_step_up`); ``step_up_required`` if there is no such evidence."""
    row = conn.execute(select(step_up_evidence.c.operation).where(
        step_up_evidence.c.id == evidence_id, step_up_evidence.c.user_id == user)).first() \
        if isinstance(evidence_id, str) and len(evidence_id) <= 32 else None
    if row is None:
        raise DomainError("step_up_required", "confirm this operation with your passkey")
    return parse_operation(row.operation)


class StepUp:
    def __init__(self, database: Database, *, clock: Clock, passkeys: Passkeys,
                 amount_min: int) -> None:
        self._database = database
        self._clock = clock
        self._passkeys = passkeys
        self.amount_min = amount_min

    def needed(self, operation: Operation) -> bool:
        return needs_step_up(operation, self.amount_min)

    def options(self, principal: Principal, *, type: str, amount: int, currency: str,
                payee: str, reference: str) -> StepUpOptions:
        now = self._clock.now_ns()
        rp = self._passkeys.rp
        with self._database.engine.begin() as conn:
            user = subject(conn, principal, keys=self._passkeys.keys, enrolment_ok=False)
            operation = Operation(type=type, amount=amount, currency=currency, payee=payee,
                                  reference=reference, user=user.id,
                                  nonce=secrets.token_urlsafe(NONCE_BYTES))
            rows = live_rows(conn, user.id)
            if not rows:
                raise DomainError("passkey_required", "register a passkey to confirm operations")
            challenge = challenge_for(operation)
            ceremony_id = open_ceremony(conn, purpose=Purpose.STEP_UP, user_id=user.id,
                                        challenge=challenge, now_ns=now, timeout_s=rp.timeout_s,
                                        operation=canonical(operation).decode("utf-8"))
        options = generate_authentication_options(
            rp_id=rp.rp_id, challenge=challenge, timeout=rp.timeout_s * 1000,
            allow_credentials=[descriptor(r["id"], r["transports"]) for r in rows],
            user_verification=UserVerificationRequirement.REQUIRED)
        return StepUpOptions(ceremony_id, operation, options_to_json_dict(options))

    def verify(self, principal: Principal, ceremony_id: str, credential: Any) -> Approval:
        now = self._clock.now_ns()
        rp = self._passkeys.rp
        with self._database.engine.begin() as conn:
            user = subject(conn, principal, keys=self._passkeys.keys, enrolment_ok=False)
            ceremony = take_ceremony(conn, ceremony_id, purposes={Purpose.STEP_UP}, now_ns=now)
        try:
            if ceremony is None or ceremony.user_id != user.id or ceremony.operation is None:
                raise PasskeyRefused("unknown, used, expired or someone else's ceremony")
            operation = parse_operation(ceremony.operation)
            expected = derive_challenge(ceremony.operation.encode("utf-8"))
            if expected != ceremony.challenge:
                raise PasskeyRefused("the stored challenge is not derived from the operation")
            parsed = parse_assertion(credential)
            with self._database.engine.begin() as conn:
                stored = live_credential(conn, parsed.id)
                if stored.user_id != user.id:
                    raise PasskeyRefused("the credential is not the user's")
                verified = check_assertion(parsed, challenge=expected, stored=stored, rp=rp)
                client_data = parse_client_data_json(parsed.response.client_data_json)
                if client_data.challenge != expected:  # checked by py_webauthn; kept explicit
                    raise PasskeyRefused("the signed challenge is not the operation's")
                advance(conn, stored, verified, now_ns=now)
                evidence_id = new_id("evd_")
                conn.execute(insert(step_up_evidence).values(
                    id=evidence_id, user_id=user.id, operation=ceremony.operation,
                    credential_id=stored.id, public_key=stored.public_key,
                    client_data_json=bytes(parsed.response.client_data_json),
                    authenticator_data=bytes(parsed.response.authenticator_data),
                    signature=bytes(parsed.response.signature), rp_id=rp.rp_id,
                    origin=client_data.origin, created_at=now, consumed_at=None))
                audit.record(conn, at_ns=now, actor=principal.actor, action="step_up.approve",
                             object_id=evidence_id,
                             detail={"type": operation.type, "amount": operation.amount,
                                     "currency": operation.currency,
                                     "credential": stored.id[:64]})
        except PasskeyRefused as exc:
            self._passkeys.refused(principal.actor, "step_up.verify", exc, user_id=user.id)
            raise
        return Approval(evidence_id, operation)

    def require(self, conn: Connection, user: str, operation: Operation,
                evidence_id: str) -> None:
        """:func:`require_step_up` with this platform's clock and freshness window."""
        require_step_up(conn, user, operation, evidence_id, now_ns=self._clock.now_ns(),
                        fresh_s=self._passkeys.rp.timeout_s)
