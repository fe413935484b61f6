"""Payees: the people and firms a customer pays, by IBAN, here or at another bank.

A payee is added with a passkey step-up over its details (the operation ``new_payee``:
amount 0, the currency the customer pays in, payee = the IBAN, reference = the name),
so a trojan in the browser cannot add its own account unseen: the authenticator shows
what it signs. Then it cools off for ``cooling_off_s``: until then all transfers to it
together stay within ``cooling_amount_max`` (checked in the movement's transaction:
:mod:`.transfers`). The customer is notified of every new payee.

Before adding, confirmation of payee (:mod:`.cop`) says whether the name fits the IBAN,
and the risk screening answers (:class:`~.screening.PayeeScreening`): a decline refuses
the payee; a review adds it (there is no money to hold yet: what is sent to it is
screened again, and the same reasons hold the money for an analyst); a step-up is the
one given.
Deleting a payee cancels its standing orders in the same transaction; its row stays
(``deleted_at``) so the history that names it stays readable.
"""

from __future__ import annotations

import enum
import secrets
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, bindparam, insert, select, update

from ...adapters.clock import Clock
from ...adapters.store import Database
from ...adapters.store.schema import bank_payees, standing_orders
from ...domain.errors import DomainError
from .. import audit
from ..identity.notices import notify
from ..identity.stepup import StepUp
from ..identity.users import get_user
from ..sealed import FieldKeys
from .accounts import by_iban
from .confirm import Expected, confirm
from .cop import Answer, Confirmation, compare
from .ibans import BankCode, normalise
from .screening import AllowAllPayees, Decision, PayeeScreening

NAME_CHARS_MAX = 70  # a SEPA creditor name
PAYEES_MAX = 200  # live payees per customer


class PayeeState(enum.StrEnum):
    COOLING = "cooling"  # receives at most the cooling amount in all
    ACTIVE = "active"
    DELETED = "deleted"


@dataclass(frozen=True)
class Payee:
    id: str  # pye_…
    user_id: str
    name: str
    iban: str
    cop: Answer
    cooling_until_ns: int
    created_at_ns: int
    deleted_at_ns: int | None

    def state(self, now_ns: int) -> PayeeState:
        if self.deleted_at_ns is not None:
            return PayeeState.DELETED
        return PayeeState.COOLING if now_ns < self.cooling_until_ns else PayeeState.ACTIVE


def _from_row(row: Any) -> Payee:
    r = row._mapping
    return Payee(r["id"], r["user_id"], r["name"], r["iban"], Answer(r["cop"]),
                 r["cooling_until"], r["created_at"], r["deleted_at"])


_PAYEE = select(bank_payees).where(bank_payees.c.id == bindparam("pid"))  # built once


def live_payee(conn: Connection, user_id: str, payee_id: str) -> Payee:
    """The user's payee, not deleted; ``not_found`` alike for a missing, deleted or
    another customer's payee (a 404, never a 403)."""
    row = conn.execute(_PAYEE, {"pid": payee_id}).first() \
        if isinstance(payee_id, str) else None
    if row is None or row._mapping["user_id"] != user_id or row._mapping["deleted_at"] \
            is not None:
        raise DomainError("not_found", "no such payee")
    return _from_row(row)


def check_name(name: str) -> str:
    if not isinstance(name, str) or not 1 <= len(name.strip()) <= NAME_CHARS_MAX \
            or not name.isprintable():
        raise DomainError("payee_name_invalid",
                          f"a payee's name is 1 to {NAME_CHARS_MAX} printable characters")
    return " ".join(name.split())


class Payees:
    def __init__(self, database: Database, *, clock: Clock, keys: FieldKeys, bank: BankCode,
                 step_up: StepUp, cooling_off_s: int, cooling_amount_max: int) -> None:
        self._database = database
        self._clock = clock
        self._keys = keys
        self._step_up = step_up
        self.bank = bank
        self.cooling_off_s = cooling_off_s
        self.cooling_amount_max = cooling_amount_max
        self.screening: PayeeScreening = AllowAllPayees()  # the risk engine, at bootstrap

    def check(self, name: str, iban: str) -> tuple[str, str, Confirmation]:
        """Confirmation of payee for a typed name and IBAN: (the IBAN in electronic form,
        the name as it will be kept, the answer)."""
        name, iban = check_name(name), normalise(iban)
        with self._database.engine.connect() as conn:
            return iban, name, self._confirm(conn, name, iban)

    def _confirm(self, conn: Connection, name: str, iban: str) -> Confirmation:
        if not self.bank.owns(iban):
            return Confirmation(Answer.UNAVAILABLE)
        account = by_iban(conn, iban)
        holder = None if account is None else get_user(conn, account.user_id, keys=self._keys)
        return compare(name, None if holder is None else holder.display_name)

    def add(self, user_id: str, *, name: str, iban: str, currency: str, evidence_id: str,
            actor: str) -> tuple[Payee, Confirmation]:
        """A new payee, confirmed by ``evidence_id`` (a ``new_payee`` step-up), cooling."""
        name, iban = check_name(name), normalise(iban)
        now = self._clock.now_ns()
        payee = Payee("pye_" + secrets.token_hex(12), user_id, name, iban, Answer.NO_MATCH,
                      now + self.cooling_off_s * 1_000_000_000, now, None)
        screen = self.screening.screen_payee(user_id, payee_id=payee.id, iban=iban,
                                             currency=currency, actor=actor)
        if screen.decision is Decision.DECLINE:
            raise DomainError("payee_declined", "this payee was not added: "
                              + (", ".join(screen.reasons) or str(screen.decision)))
        with self._database.engine.begin() as conn:
            live = list(conn.execute(select(bank_payees.c.iban).where(
                bank_payees.c.user_id == user_id, bank_payees.c.deleted_at.is_(None))).scalars())
            if iban in live:
                raise DomainError("payee_exists", "you already have a payee with that IBAN")
            if len(live) >= PAYEES_MAX:
                raise DomainError("payees_too_many", f"at most {PAYEES_MAX} payees; delete "
                                  "one you no longer pay")
            confirm(conn, self._step_up, user_id, evidence_id,
                    Expected("new_payee", 0, currency, iban, name))
            confirmation = self._confirm(conn, name, iban)
            payee = Payee(**{**payee.__dict__, "cop": confirmation.answer})
            conn.execute(insert(bank_payees).values(
                id=payee.id, user_id=user_id, name=name, iban=iban, cop=str(payee.cop),
                evidence_id=evidence_id, cooling_until=payee.cooling_until_ns, created_at=now,
                deleted_at=None))
            notify(conn, user_id, "payee_added", keys=self._keys, now_ns=now,
                   subject="A new payee was added to your bank account",
                   body=f"'{name}' ({iban[:4]}…{iban[-4:]}) can now be paid from your "
                        "accounts. If you did not add this payee, delete it and call us on "
                        "the number on our website: we never ask you to add a payee.")
            audit.record(conn, at_ns=now, actor=actor, action="payee.add", object_id=payee.id,
                         detail={"user": user_id, "cop": str(payee.cop),
                                 "evidence": evidence_id})
        return payee, confirmation

    def list_for(self, user_id: str) -> list[Payee]:
        with self._database.engine.connect() as conn:
            rows = conn.execute(select(bank_payees).where(
                bank_payees.c.user_id == user_id, bank_payees.c.deleted_at.is_(None))
                .order_by(bank_payees.c.created_at, bank_payees.c.id).limit(PAYEES_MAX))
            return [_from_row(r) for r in rows]

    def get_for(self, user_id: str, payee_id: str) -> Payee:
        with self._database.engine.connect() as conn:
            return live_payee(conn, user_id, payee_id)

    def delete(self, user_id: str, payee_id: str, *, actor: str) -> tuple[Payee, int]:
        """Delete a payee and cancel its standing orders; (the payee, orders cancelled)."""
        now = self._clock.now_ns()
        with self._database.engine.begin() as conn:
            payee = live_payee(conn, user_id, payee_id)
            conn.execute(update(bank_payees).where(bank_payees.c.id == payee.id)
                         .values(deleted_at=now))
            cancelled = conn.execute(update(standing_orders).where(
                standing_orders.c.payee_id == payee.id, standing_orders.c.state == "active",
            ).values(state="cancelled", reason="payee_deleted", next_on=None,
                     updated_at=now)).rowcount
            audit.record(conn, at_ns=now, actor=actor, action="payee.delete",
                         object_id=payee.id, detail={"user": user_id,
                                                     "standing_orders_cancelled": cancelled})
        return Payee(**{**payee.__dict__, "deleted_at_ns": now}), cancelled

