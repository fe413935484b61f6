"""Executors of merchant commands: a suspended merchant reinstated, a key added by staff
(decision 0044).

Both change plain rows, so both run as a :meth:`~.executors.Executor.commit`, in the
transaction that marks the approval executed: the change and the approval's state
commit together, exactly once, and nothing is left half done by a crash.

The audit records of the change itself (``merchant.activate``,
``certification.reinstate``, ``merchant.key.add``) name both people as the actor,
``<submitter>+<approver>``, like a staff refund's party.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping
from typing import Any

from sqlalchemy import Connection, select

from ...adapters.clock import Clock
from ...adapters.store import Database
from ...adapters.store.schema import merchant_keys, merchants
from ...domain.approvals import Kind
from ...domain.errors import DomainError
from ...domain.identity import Principal
from .. import audit
from ..certification import certificates
from ..certification.decisions import move
from ..merchants.keys import PUBLIC_KEY_BYTES, check_label, insert_key
from ..merchants.merchants import ACTIVE, SUSPENDED, set_status
from .executors import Approval, Checked, Executor

# What a reinstatement re-opens: the merchant's own status (POST …/activate), or its
# certificate, which also re-activates the merchant (POST …/certification/reinstate).
STATUS, CERTIFICATE = "status", "certificate"
MERCHANT_ID_CHARS_MAX = 32


def _invalid(detail: str) -> DomainError:
    return DomainError("approval_command_invalid", detail)


def _merchant_id(params: Mapping[str, Any]) -> str:
    merchant_id = params.get("merchant_id")
    if not isinstance(merchant_id, str) or not merchant_id.startswith("mer_") \
            or len(merchant_id) > MERCHANT_ID_CHARS_MAX:
        raise _invalid("a merchant command names a merchant_id (mer_…)")
    return merchant_id


def both(approval: Approval) -> str:
    """The actor of an approved change: whoever submitted it and whoever approved it."""
    return f"{approval.submitted_by}+{approval.decided_by}"


class MerchantReinstatement(Executor):
    """A suspended merchant sells again: params ``{"merchant_id", "what"}``, ``what`` being
    ``status`` (the merchant's suspension) or ``certificate`` (its certificate's)."""

    kind = Kind.MERCHANT_REINSTATEMENT

    def __init__(self, database: Database, *, clock: Clock) -> None:
        self._database = database
        self._clock = clock

    def check(self, params: Mapping[str, Any], submitter: Principal) -> Checked:
        merchant_id, what = _merchant_id(params), params.get("what")
        if what not in (STATUS, CERTIFICATE):
            raise _invalid(f"a reinstatement re-opens the merchant's {STATUS} or its "
                           f"{CERTIFICATE}")
        with self._database.engine.connect() as conn:
            self._suspended(conn, merchant_id, what)
        noun = "merchant" if what == STATUS else "certificate of merchant"
        return Checked({"merchant_id": merchant_id, "what": what},
                       f"reinstate the suspended {noun} {merchant_id}")

    def commit(self, conn: Connection, approval: Approval,
               effect: dict[str, Any] | None) -> dict[str, Any]:
        merchant_id, what = approval.params["merchant_id"], approval.params["what"]
        now = self._clock.now_ns()
        if what == STATUS:
            set_status(conn, merchant_id, ACTIVE, actor=both(approval), now_ns=now)
            return {"merchant_id": merchant_id, "status": ACTIVE}
        done = move(conn, merchant_id=merchant_id, to=certificates.ACTIVE, reason=None, now_ns=now,
                    actor=both(approval))
        return {"merchant_id": merchant_id, "serial": done.serial, "certificate": done.status}

    @staticmethod
    def _suspended(conn: Connection, merchant_id: str, what: str) -> None:
        """Refuse at submission what could not run: nothing to reinstate."""
        status = conn.execute(select(merchants.c.status).where(
            merchants.c.id == merchant_id)).scalar()
        if status is None:
            raise DomainError("not_found", f"no merchant {merchant_id}")
        if what == STATUS and status != SUSPENDED:
            raise DomainError("merchant_status_unchanged", f"merchant {merchant_id} is "
                              f"{status}, not suspended")
        if what == CERTIFICATE:
            found = certificates.latest(conn, merchant_id)
            if found is None or found.status != certificates.SUSPENDED:
                raise DomainError("certificate_not_suspended", f"merchant {merchant_id} "
                                  "holds no suspended certificate")


class MerchantKey(Executor):
    """Staff add a key that signs as the merchant: params ``{"merchant_id", "public_key"
    (the 32 raw bytes, base64url without padding), "label"}``."""

    kind = Kind.MERCHANT_KEY

    def __init__(self, database: Database, *, clock: Clock) -> None:
        self._database = database
        self._clock = clock

    def check(self, params: Mapping[str, Any], submitter: Principal) -> Checked:
        merchant_id = _merchant_id(params)
        raw = public_key_bytes(params.get("public_key"))
        label = params.get("label", "")
        if not isinstance(label, str):
            raise _invalid("a key's label is text")
        label = check_label(label)
        with self._database.engine.connect() as conn:
            if conn.execute(select(merchants.c.id).where(
                    merchants.c.id == merchant_id)).first() is None:
                raise DomainError("not_found", f"no merchant {merchant_id}")
            if conn.execute(select(merchant_keys.c.id).where(
                    merchant_keys.c.public_key == raw)).first() is not None:
                raise DomainError("public_key_registered", "this public key is already "
                                  "registered; generate a new key pair")
        encoded = b64url(raw)
        return Checked({"merchant_id": merchant_id, "public_key": encoded, "label": label},
                       f"add signing key {encoded[:12]}… to merchant {merchant_id}")

    def commit(self, conn: Connection, approval: Approval,
               effect: dict[str, Any] | None) -> dict[str, Any]:
        p = approval.params
        now = self._clock.now_ns()
        key = insert_key(conn, merchant_id=p["merchant_id"],
                         public_key=public_key_bytes(p["public_key"]), label=p["label"],
                         now_ns=now)
        audit.record(conn, at_ns=now, actor=both(approval), action="merchant.key.add",
                     object_id=key.id, detail={"merchant_id": p["merchant_id"],
                                               "approval": approval.id},
                     after={"id": key.id, "merchant_id": p["merchant_id"], "revoked_at": None})
        return {"merchant_id": p["merchant_id"], "key_id": key.id}


def b64url(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def public_key_bytes(value: object) -> bytes:
    """The raw Ed25519 public key a command carries as base64url text."""
    if not isinstance(value, str) or len(value) > 64:
        raise _invalid("public_key is the 32-byte Ed25519 key, base64url")
    try:
        raw = base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))
    except (binascii.Error, ValueError):
        raise _invalid("public_key is the 32-byte Ed25519 key, base64url") from None
    if len(raw) != PUBLIC_KEY_BYTES or b64url(raw) != value:
        raise _invalid("public_key is the 32-byte Ed25519 key, base64url")
    return raw
