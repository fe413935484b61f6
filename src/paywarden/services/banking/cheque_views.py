"""What a drawer or a payee sees of a cheque, and reading cheques back from their rows."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, RowMapping, select

from ...adapters.store.schema import cheque_presentations, cheques
from ...domain.banking.cheques import ChequeState
from ...domain.timestamps import rfc3339
from .cheque_documents import unverified
from .movements import MovementResult

PRESENTATIONS_SHOWN_MAX = 20


@dataclass(frozen=True)
class PresentationView:
    id: str
    cheque_id: str | None
    outcome: str  # paid | bounced
    reason: str | None
    account_id: str | None
    created_at_ns: int

    def public(self) -> dict[str, Any]:
        return {"id": self.id, "cheque_id": self.cheque_id, "outcome": self.outcome,
                "reason": self.reason, "account_id": self.account_id,
                "created_at": rfc3339(self.created_at_ns)}


@dataclass(frozen=True)
class ChequeView:
    """A cheque as its drawer (``role`` "drawer") or its payee ("payee") sees it."""

    id: str
    role: str
    state: ChequeState
    serial: int
    drawer_iban: str
    drawer_account_id: str | None
    payee_iban: str
    payee_name: str
    payee_account_id: str | None
    amount_minor: int
    currency: str
    date: str
    expires_on: str
    jws: str
    bounce_reason: str | None
    presented_at_ns: int | None
    transfer_id: str | None
    created_at_ns: int
    updated_at_ns: int
    presentations: tuple[PresentationView, ...] = ()

    def public(self, *, today: dt.date | None = None) -> dict[str, Any]:
        """The JSON a page needs: the fields, what the caller may do next, and the JWS."""
        issued = self.state is ChequeState.ISSUED
        due = today is None or self.date <= today.isoformat() <= self.expires_on
        return {
            "id": self.id, "role": self.role, "state": str(self.state), "serial": self.serial,
            "drawer_iban": self.drawer_iban,
            "drawer_account_id": self.drawer_account_id if self.role == "drawer" else None,
            "payee_iban": self.payee_iban, "payee_name": self.payee_name,
            "payee_account_id": self.payee_account_id if self.role == "payee" else None,
            "amount": self.amount_minor, "currency": self.currency, "date": self.date,
            "expires_on": self.expires_on, "jws": self.jws, "bounce_reason": self.bounce_reason,
            "presented_at": rfc3339(self.presented_at_ns) if self.presented_at_ns else None,
            "transfer_id": self.transfer_id, "created_at": rfc3339(self.created_at_ns),
            "updated_at": rfc3339(self.updated_at_ns),
            "can_stop": issued and self.role == "drawer",
            "can_present": issued and self.role == "payee" and due,
            "presentations": [p.public() for p in self.presentations]}


def presentation_of(row: RowMapping) -> PresentationView:
    return PresentationView(row["id"], row["cheque_id"], row["outcome"], row["reason"],
                            row["account_id"], row["created_at"])


def view_of(row: RowMapping, role: str,
            presentations: tuple[PresentationView, ...] = ()) -> ChequeView:
    found = unverified(row["jws"]) or {}
    name = found.get("payee_name")
    return ChequeView(
        id=row["id"], role=role, state=ChequeState(row["state"]), serial=row["serial"],
        drawer_iban=row["drawer_iban"], drawer_account_id=row["drawer_account_id"],
        payee_iban=row["payee_iban"], payee_name=name if isinstance(name, str) else "",
        payee_account_id=row["payee_account_id"], amount_minor=row["amount"],
        currency=row["currency"], date=row["date"], expires_on=row["expires_on"],
        jws=row["jws"], bounce_reason=row["bounce_reason"],
        presented_at_ns=row["presented_at"], transfer_id=row["transfer_id"],
        created_at_ns=row["created_at"], updated_at_ns=row["updated_at"],
        presentations=presentations)


def row_of(conn: Connection, cheque_id: str) -> RowMapping | None:
    return conn.execute(select(cheques).where(cheques.c.id == cheque_id)).mappings().first()


def presentations_of(conn: Connection, cheque_id: str) -> tuple[PresentationView, ...]:
    rows = conn.execute(select(cheque_presentations).where(
        cheque_presentations.c.cheque_id == cheque_id).order_by(
        cheque_presentations.c.created_at.desc(), cheque_presentations.c.id.desc())
        .limit(PRESENTATIONS_SHOWN_MAX)).mappings().all()
    return tuple(presentation_of(r) for r in rows)


@dataclass(frozen=True)
class Presented:
    """One presentation's outcome; ``cheque`` as the presenter may see it (None: unknown)."""

    presentation: PresentationView
    cheque: ChequeView | None
    transfer: MovementResult | None = None
