"""Electronic cheques: write (after a passkey step-up), present, stop (decision 0026).

Writing, in one transaction: the drawer's current account (theirs, open, in the
cheque's currency), the payee's IBAN (valid; when it banks here, in that currency),
the cheque's rules, the serial free, fewer than ``OUTSTANDING_MAX`` issued; the
step-up evidence's operation equal to the cheque's in every field, then consumed;
the JWS signed and stored with its audit entry and the API's answer.

Presenting judges the text in the order of :mod:`paywarden.domain.banking.cheques`.
A payable cheque moves the money through ``Movements.execute`` with the cheque
marked paid as its precondition: one transaction, or nothing. Every presentation
is recorded in ``cheque_presentations`` with its outcome.

    DomainError codes: not_found, cheque_invalid, cheque_account_not_chequing,
    cheque_currency_mismatch, cheque_serial_taken, cheque_outstanding_max,
    cheque_not_yet_due, cheque_not_stoppable, step_up_required, step_up_mismatch,
    iban_invalid, and the movement's (account_frozen, account_closed, …)
"""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

from sqlalchemy import Connection, func, insert, select, update
from sqlalchemy.exc import IntegrityError

from ...adapters.clock import Clock
from ...adapters.rail import ChequeItem
from ...adapters.store import Database
from ...adapters.store.schema import bank_accounts, cheque_presentations, cheques
from ...domain.banking.cheques import (
    IBAN_SHAPE,
    OUTSTANDING_MAX,
    SERIAL_MAX,
    BounceReason,
    Cheque,
    ChequeState,
    Judgement,
    approved_fields,
    check_dated,
    from_claims,
    judge,
    step_up_fields,
)
from ...domain.banking.cheques import stop as stop_state
from ...domain.errors import DomainError, InvariantViolation
from ...domain.identity.stepup import Operation
from ...domain.money import Money
from ...domain.timestamps import NS
from .. import audit
from ..identity import evidence
from ..identity.stepup import StepUp, approved_operation
from ..keys import Keys
from . import cheque_documents as documents
from .accounts import BankAccount, Product, State, by_iban, get_account, owned_account
from .cheque_collection import paid_if_settled
from .cheque_documents import Collector, collection_key, digest
from .cheque_views import (
    ChequeView,
    PresentationView,
    Presented,
    presentations_of,
    row_of,
    view_of,
)
from .ibans import BankCode, normalise
from .movements import Movement, MovementKind, MovementResult, Movements

LIST_LIMIT_MAX = 100
MOVEMENT_PREFIX = "cheque:"
Finish = Callable[[Connection, Any], None]


@dataclass(frozen=True)
class Draft:
    """A cheque not yet written: its serial and the operation to approve with a passkey."""

    serial: int
    step_up: dict[str, Any]


@dataclass(frozen=True)
class Terms:
    """What the drawer writes; ``serial`` from a draft."""

    account_id: str
    payee_iban: str
    payee_name: str
    amount: Money
    date: dt.date
    expires_on: dt.date
    serial: int


def today_of(now_ns: int) -> dt.date:
    return dt.datetime.fromtimestamp(now_ns // NS, tz=dt.UTC).date()


class Cheques:
    def __init__(self, database: Database, *, clock: Clock, keys: Keys, step_up: StepUp,
                 movements: Movements, rail: Collector, bank: BankCode, issuer: str,
                 rp_id: str) -> None:
        self._database = database
        self._clock = clock
        self._keys = keys
        self._step_up = step_up
        self._movements = movements
        self._bank = bank
        self._rail = rail
        self._issuer = issuer
        self._rp_id = rp_id

    def collect_through(self, collector: Collector) -> None:
        """Present other banks' cheques through ``collector`` from now on (a bank of the
        clearing network: its hub, instead of the simulated rail)."""
        self._rail = collector

    # -- writing ---------------------------------------------------------------------------

    def draft(self, user_id: str, terms: Terms) -> Draft:
        """The next free serial (when ``terms.serial`` is 0) and the step-up to approve."""
        with self._database.engine.connect() as conn:
            drawer, payee_iban = self._check_parties(conn, user_id, terms)
            serial = terms.serial or self._next_serial(conn, drawer.iban)
            cheque = self._cheque("chq_" + "0" * 24, drawer, terms, payee_iban, serial,
                                  "evd_" + "0" * 16)
        check_dated(cheque, today_of(self._clock.now_ns()))
        return Draft(serial, approved_fields(cheque))

    def write(self, user_id: str, terms: Terms, evidence_id: str, *, actor: str,
              finish: Finish | None = None) -> ChequeView:
        now = self._clock.now_ns()
        try:
            with self._database.engine.begin() as conn:
                drawer, payee_iban = self._check_parties(conn, user_id, terms)
                cheque = self._cheque("chq_" + secrets.token_hex(12), drawer, terms, payee_iban,
                                      terms.serial, evidence_id)
                check_dated(cheque, today_of(now))
                self._check_book(conn, drawer, terms.serial)
                self._consume(conn, user_id, cheque)
                view = self._insert(conn, cheque, drawer, now=now, actor=actor)
                if finish is not None:
                    finish(conn, view)
                return view
        except IntegrityError:  # a racing write took the serial
            raise DomainError("cheque_serial_taken", f"serial {terms.serial} is already "
                              "used on this account; ask for a new draft") from None

    def _check_parties(self, conn: Connection, user_id: str,
                       terms: Terms) -> tuple[BankAccount, str]:
        drawer = owned_account(conn, user_id, terms.account_id)
        if drawer.product is not Product.CURRENT:
            raise DomainError("cheque_account_not_chequing", "cheques are drawn on a current "
                              "account")
        if drawer.state is not State.OPEN:
            raise DomainError("account_frozen" if drawer.state is State.FROZEN
                              else "account_closed", f"the account is {drawer.state}")
        if drawer.currency != terms.amount.currency:
            raise DomainError("cheque_currency_mismatch", f"the account holds "
                              f"{drawer.currency}, not {terms.amount.currency}")
        payee_iban = normalise(terms.payee_iban)
        payee = by_iban(conn, payee_iban)
        if payee is not None and payee.currency != drawer.currency:
            raise DomainError("cheque_currency_mismatch", "the payee's account holds "
                              f"{payee.currency}, not {drawer.currency}")
        return drawer, payee_iban

    def _cheque(self, cheque_id: str, drawer: BankAccount, terms: Terms, payee_iban: str,
                serial: int, evidence_id: str) -> Cheque:
        return Cheque(id=cheque_id, drawer_iban=drawer.iban, payee_iban=payee_iban,
                      payee_name=terms.payee_name, amount_minor=terms.amount.amount_minor,
                      currency=terms.amount.currency, date=terms.date,
                      expires_on=terms.expires_on, serial=serial, evidence_id=evidence_id)

    def _next_serial(self, conn: Connection, drawer_iban: str) -> int:
        last = conn.execute(select(func.max(cheques.c.serial)).where(
            cheques.c.drawer_iban == drawer_iban)).scalar_one()
        if last is not None and last >= SERIAL_MAX:
            raise DomainError("cheque_serial_taken", "this account has used every serial")
        return (last or 0) + 1

    def _check_book(self, conn: Connection, drawer: BankAccount, serial: int) -> None:
        taken = conn.execute(select(cheques.c.id).where(
            cheques.c.drawer_iban == drawer.iban, cheques.c.serial == serial)).first()
        if taken is not None:
            raise DomainError("cheque_serial_taken", f"serial {serial} is already used on this "
                              "account; ask for a new draft")
        outstanding = conn.execute(select(func.count()).select_from(cheques).where(
            cheques.c.drawer_account_id == drawer.id,
            cheques.c.state == str(ChequeState.ISSUED))).scalar_one()
        if outstanding >= OUTSTANDING_MAX:
            raise DomainError("cheque_outstanding_max", f"an account has at most "
                              f"{OUTSTANDING_MAX} cheques outstanding; stop one or wait")

    def _consume(self, conn: Connection, user_id: str, cheque: Cheque) -> None:
        """The drawer's passkey approved exactly this cheque: accept the evidence, once."""
        operation = approved_operation(conn, user_id, cheque.evidence_id)
        if _fields(operation) != approved_fields(cheque):
            raise DomainError("step_up_mismatch", "the passkey confirmed another cheque "
                              "than this one")
        self._step_up.require(conn, user_id, operation, cheque.evidence_id)

    def _insert(self, conn: Connection, cheque: Cheque, drawer: BankAccount, *, now: int,
                actor: str) -> ChequeView:
        text = documents.sign(self._keys, cheque, at_ns=now, issuer=self._issuer)
        payee = by_iban(conn, cheque.payee_iban)
        conn.execute(insert(cheques).values(
            id=cheque.id, drawer_iban=cheque.drawer_iban, serial=cheque.serial,
            drawer_account_id=drawer.id, drawer_user_id=drawer.user_id,
            payee_iban=cheque.payee_iban, payee_account_id=payee.id if payee else None,
            amount=cheque.amount_minor, currency=cheque.currency,
            date=cheque.date.isoformat(), expires_on=cheque.expires_on.isoformat(), jws=text,
            state=str(ChequeState.ISSUED), created_at=now, updated_at=now))
        audit.record(conn, at_ns=now, actor=actor, action="cheque.write", object_id=cheque.id,
                     detail={"account": drawer.id, "serial": cheque.serial,
                             "amount": cheque.amount_minor, "currency": cheque.currency,
                             "evidence": cheque.evidence_id})
        row = row_of(conn, cheque.id)
        if row is None:
            raise InvariantViolation(f"cheque {cheque.id} vanished inside its own transaction")
        return view_of(row, "drawer")

    # -- stopping and reading ----------------------------------------------------------------

    def stop(self, user_id: str, cheque_id: str, *, actor: str,
             finish: Finish | None = None) -> ChequeView:
        now = self._clock.now_ns()
        with self._database.engine.begin() as conn:
            row = row_of(conn, cheque_id)
            if row is None or row["drawer_user_id"] != user_id:
                raise DomainError("not_found", "no such cheque")
            stop_state(ChequeState(row["state"]))
            done = conn.execute(update(cheques).where(
                cheques.c.id == cheque_id, cheques.c.state == str(ChequeState.ISSUED),
            ).values(state=str(ChequeState.STOPPED), updated_at=now)).rowcount
            if done != 1:
                raise DomainError("cheque_not_stoppable", "the cheque was presented meanwhile")
            audit.record(conn, at_ns=now, actor=actor, action="cheque.stop", object_id=cheque_id,
                         detail={"serial": row["serial"]})
            view = view_of(row_of(conn, cheque_id), "drawer",  # type: ignore[arg-type]
                           presentations_of(conn, cheque_id))
            if finish is not None:
                finish(conn, view)
            return view

    def get_for(self, user_id: str, cheque_id: str) -> ChequeView:
        """The cheque if ``user_id`` drew it or holds its payee account; else ``not_found``."""
        with self._database.engine.connect() as conn:
            row = row_of(conn, cheque_id) if isinstance(cheque_id, str) else None
            role = _role(conn, row, user_id) if row is not None else None
            if row is None or role is None:
                raise DomainError("not_found", "no such cheque")
            return view_of(row, role, presentations_of(conn, cheque_id))

    def list_for(self, user_id: str, *, role: str, limit: int,
                 before: tuple[int, str] | None = None) -> list[ChequeView]:
        """Cheques written (``role`` "drawer") or received ("payee"), newest first."""
        limit = max(1, min(limit, LIST_LIMIT_MAX))
        with self._database.engine.connect() as conn:
            if role == "drawer":
                where = cheques.c.drawer_user_id == user_id
            else:
                mine = select(bank_accounts.c.id).where(bank_accounts.c.user_id == user_id)
                where = cheques.c.payee_account_id.in_(mine)
            query = select(cheques).where(where)
            if before is not None:
                at, last = before
                query = query.where((cheques.c.created_at < at) | (
                    (cheques.c.created_at == at) & (cheques.c.id < last)))
            rows = conn.execute(query.order_by(cheques.c.created_at.desc(), cheques.c.id.desc())
                                .limit(limit)).mappings().all()
        return [view_of(r, role) for r in rows]

    def today(self) -> dt.date:
        return today_of(self._clock.now_ns())

    # -- presenting ------------------------------------------------------------------------

    def present(self, user_id: str, text: str, *, account_id: str | None, actor: str,
                finish: Finish | None = None) -> Presented:
        """Pay the cheque ``text`` into the presenter's account, or bounce it (recorded)."""
        with self._database.engine.connect() as conn:
            credit = owned_account(conn, user_id, account_id) if account_id else None
            found = documents.unverified(text) or {}
            drawer = found.get("drawer_iban")
            foreign = isinstance(drawer, str) and IBAN_SHAPE.fullmatch(drawer) is not None \
                and not self._bank.owns(drawer)
            try:
                if foreign:
                    return self._present_foreign(conn, user_id, text, found, credit,
                                                 actor=actor, finish=finish)
                cheque, row = self.genuine(conn, text)
            except documents.NotACheque:
                return self._bounce(user_id, text, None, credit, Judgement.bounce(
                    BounceReason.ALTERED), actor=actor, finish=finish)
            except DomainError as exc:
                if exc.code != "cheque_changed":
                    raise
                return self.present(user_id, text, account_id=account_id, actor=actor,
                                    finish=finish)  # presented meanwhile: a duplicate now
            if credit is None:
                credit = by_iban(conn, cheque.payee_iban)
                credit = credit if credit is not None and credit.user_id == user_id else None
        is_payee = credit is not None and credit.iban == cheque.payee_iban
        judgement = judge(cheque, ChequeState(row["state"]), presenter_is_payee=is_payee,
                          today=self.today())
        if not judgement.pay or credit is None:
            return self._bounce(user_id, text, cheque, credit, judgement, actor=actor,
                                finish=finish)
        try:
            return self._pay(user_id, text, cheque, row, credit, actor=actor, finish=finish)
        except DomainError as exc:
            if exc.code == "insufficient_funds":
                return self._bounce(user_id, text, cheque, credit, Judgement.bounce(
                    BounceReason.INSUFFICIENT_FUNDS, ChequeState.BOUNCED), actor=actor,
                    finish=finish)
            if exc.code == "cheque_changed":  # stopped or paid meanwhile: judge it again
                return self.present(user_id, text, account_id=credit.id, actor=actor,
                                    finish=finish)
            raise

    def _present_foreign(self, conn: Connection, user_id: str, text: str,
                         found: dict[str, Any], credit: BankAccount | None, *, actor: str,
                         finish: Finish | None) -> Presented:
        """A cheque drawn on another bank: judged here as far as we can (the payee, the
        dates, not paid here before), then presented through the rail, whose answer —
        paid, collecting (the clearing network: its money comes as a transfer, decision
        0064), or a bounce reason — is the drawer's bank's."""
        try:
            cheque = from_claims(found)
        except DomainError:
            return self._bounce(user_id, text, None, credit, Judgement.bounce(
                BounceReason.ALTERED), actor=actor, finish=finish)
        if credit is None:
            credit = by_iban(conn, cheque.payee_iban)
            credit = credit if credit is not None and credit.user_id == user_id else None
        seen = conn.execute(select(cheques.c.id, cheques.c.state).where(
            cheques.c.drawer_iban == cheque.drawer_iban,
            cheques.c.serial == cheque.serial)).first()
        judgement = judge(cheque, ChequeState(seen.state if seen else ChequeState.ISSUED),
                          presenter_is_payee=credit is not None
                          and credit.iban == cheque.payee_iban, today=self.today())
        if not judgement.pay or credit is None:
            return self._bounce(user_id, text, None, credit, judgement, actor=actor,
                                finish=finish)
        key = collection_key(cheque.drawer_iban, cheque.serial)
        answer = self._rail.present_cheque(ChequeItem(
            key, text, cheque.drawer_iban, cheque.serial, cheque.payee_iban,
            cheque.amount_minor, cheque.currency, cheque.payee_name))
        # one row per cheque of another bank; a collecting one (issued) is presented again
        row_id = seen.id if seen is not None else "chq_" + key[:24]

        def record(conn: Connection, state: ChequeState, reason: str | None,
                   transfer_id: str | None) -> None:
            now = self._clock.now_ns()
            values = {"state": str(state), "bounce_reason": reason, "presented_by": user_id,
                          "presented_at": now, "transfer_id": transfer_id, "updated_at": now}
            try:
                with conn.begin_nested():
                    if seen is not None:
                        changed = conn.execute(update(cheques).where(
                            cheques.c.id == row_id,
                            cheques.c.state == str(ChequeState.ISSUED)).values(**values))
                        if changed.rowcount != 1:
                            raise DomainError("cheque_changed", "presented meanwhile")
                        return
                    conn.execute(insert(cheques).values(
                        id=row_id, drawer_iban=cheque.drawer_iban, serial=cheque.serial,
                        payee_iban=cheque.payee_iban, payee_account_id=credit.id,
                        amount=cheque.amount_minor, currency=cheque.currency,
                        date=cheque.date.isoformat(), expires_on=cheque.expires_on.isoformat(),
                        jws=text, created_at=now, **values))
            except IntegrityError:
                raise DomainError("cheque_changed", "presented meanwhile") from None

        if not answer.accepted:
            reason = answer.reason if answer.reason in set(BounceReason) else "altered"
            state = ChequeState.STOPPED if reason == "stopped" else ChequeState.BOUNCED
            return self._bounce(user_id, text, replace(cheque, id=row_id), credit,
                                Judgement.bounce(BounceReason(reason)), actor=actor,
                                finish=finish, before=lambda tx: record(tx, state, reason, None))
        if answer.collecting:
            return self._collecting(user_id, text, row_id, credit, answer.collecting,
                                    finish=finish,
                                    record=lambda tx: record(tx, ChequeState.ISSUED, None,
                                                             answer.collecting))
        return self._pay(user_id, text, cheque, None, credit, actor=actor, finish=finish,
                         movement_id=MOVEMENT_PREFIX + key, row_id=row_id,
                         mark=lambda tx: record(tx, ChequeState.PAID, None,
                                                MOVEMENT_PREFIX + key))

    def _collecting(self, user_id: str, text: str, row_id: str, credit: BankAccount,
                    end_to_end_id: str, *, finish: Finish | None,
                    record: Callable[[Connection], None]) -> Presented:
        """Another bank accepted its cheque: the money comes as a transfer from it, and
        the row, issued until then, turns paid when that transfer settles here (or now,
        when it settled already)."""
        now = self._clock.now_ns()
        presentation_id = "prs_" + secrets.token_hex(12)
        with self._database.engine.begin() as conn:
            record(conn)
            paid_if_settled(conn, row_id, end_to_end_id, now)
            conn.execute(insert(cheque_presentations).values(
                id=presentation_id, cheque_id=row_id, presenter_user_id=user_id,
                account_id=credit.id, outcome="collecting", reason=None,
                text_sha256=digest(text), created_at=now))
            view = view_of(row_of(conn, row_id), "payee",  # type: ignore[arg-type]
                           presentations_of(conn, row_id))
            done = Presented(PresentationView(presentation_id, row_id, "collecting", None,
                                              credit.id, now), view)
            if finish is not None:
                finish(conn, done)
        return done

    def genuine(self, conn: Connection, text: str) -> tuple[Cheque, Any]:
        """The cheque and its row, if ``text`` is exactly what this bank issued and the
        drawer's passkey evidence still proves it; :class:`NotACheque` otherwise."""
        cheque = documents.verify(conn, text)
        row = row_of(conn, cheque.id)
        if row is None or row["jws"] != text or row["drawer_iban"] != cheque.drawer_iban:
            raise documents.NotACheque("not the text this bank issued")
        record = evidence.load(conn, cheque.evidence_id)
        if record is None or record.user_id != row["drawer_user_id"]:
            raise documents.NotACheque("no passkey evidence of the drawer")
        report = evidence.verify_record(record, expected_rp_id=self._rp_id)
        if (not report.ok or report.operation is None
                or _fields(report.operation) != approved_fields(cheque)):
            raise documents.NotACheque("the drawer's passkey evidence does not prove it")
        return cheque, row

    def _pay(self, user_id: str, text: str, cheque: Cheque, row: Any, credit: BankAccount, *,
             actor: str, finish: Finish | None, movement_id: str | None = None,
             row_id: str | None = None,
             mark: Callable[[Connection], None] | None = None) -> Presented:
        """Move the money; ``row`` None: a cheque of another bank, its money from the
        clearing account, its row written by ``mark``."""
        movement_id = movement_id or MOVEMENT_PREFIX + cheque.id
        row_id = row_id or cheque.id
        presentation_id = "prs_" + secrets.token_hex(12)
        outcome: dict[str, Presented] = {}

        def mark_paid(conn: Connection) -> None:
            now = self._clock.now_ns()
            if mark is not None:
                mark(conn)
            elif conn.execute(update(cheques).where(
                    cheques.c.id == cheque.id, cheques.c.state == str(ChequeState.ISSUED),
            ).values(state=str(ChequeState.PAID), presented_by=user_id, presented_at=now,
                     transfer_id=movement_id, updated_at=now)).rowcount != 1:
                raise DomainError("cheque_changed", "the cheque changed while presented")
            conn.execute(insert(cheque_presentations).values(
                id=presentation_id, cheque_id=row_id, presenter_user_id=user_id,
                account_id=credit.id, outcome="paid", reason=None,
                text_sha256=digest(text), created_at=now))

        def answer(conn: Connection, result: MovementResult) -> None:
            if not result.created:  # paid by a presentation that raced this one
                raise DomainError("cheque_changed", f"cheque {cheque.id} was paid already")
            view = view_of(row_of(conn, row_id), "payee",  # type: ignore[arg-type]
                           presentations_of(conn, row_id))
            done = Presented(PresentationView(presentation_id, row_id, "paid", None,
                                              credit.id, view.updated_at_ns), view, result)
            outcome["done"] = done
            if finish is not None:
                finish(conn, done)

        result = self._movements.execute(Movement(
            id=movement_id, kind=MovementKind.CHEQUE,
            user_id=row["drawer_user_id"] if row is not None else user_id,
            from_account=row["drawer_account_id"] if row is not None else None,
            to_account=credit.id, amount=Money(cheque.amount_minor, cheque.currency),
            reference=f"cheque {cheque.serial}",
            counterparty_iban=cheque.payee_iban if row is not None else cheque.drawer_iban,
            counterparty_name=cheque.payee_name if row is not None else None),
            precondition=mark_paid, finish=answer,
            stepped_up=True, actor=actor)
        if "done" not in outcome:
            raise InvariantViolation(f"movement {result.id} ran without its answer")
        return outcome["done"]

    def _bounce(self, user_id: str, text: str, cheque: Cheque | None,
                credit: BankAccount | None, judgement: Judgement, *, actor: str,
                finish: Finish | None,
                before: Callable[[Connection], None] | None = None) -> Presented:
        now = self._clock.now_ns()
        reason = judgement.reason or BounceReason.ALTERED
        with self._database.engine.begin() as conn:
            if before is not None:
                before(conn)
            row = row_of(conn, cheque.id) if cheque is not None else None
            if row is not None and judgement.state is not None:
                conn.execute(update(cheques).where(
                    cheques.c.id == row["id"], cheques.c.state == str(ChequeState.ISSUED),
                ).values(state=str(judgement.state), bounce_reason=str(reason),
                         presented_by=user_id, presented_at=now, updated_at=now))
            presentation = PresentationView("prs_" + secrets.token_hex(12),
                                            row["id"] if row is not None else None, "bounced",
                                            str(reason), credit.id if credit else None, now)
            conn.execute(insert(cheque_presentations).values(
                id=presentation.id, cheque_id=presentation.cheque_id,
                presenter_user_id=user_id, account_id=presentation.account_id,
                outcome="bounced", reason=str(reason), text_sha256=digest(text),
                created_at=now))
            audit.record(conn, at_ns=now, actor=actor, action="cheque.bounce",
                         object_id=presentation.cheque_id or presentation.id,
                         detail={"reason": str(reason), "presentation": presentation.id})
            role = _role(conn, row_of(conn, row["id"]), user_id) if row is not None else None
            shown = view_of(row_of(conn, row["id"]), role,  # type: ignore[arg-type]
                            presentations_of(conn, row["id"])) \
                if row is not None and role is not None else None
            done = Presented(presentation, shown)
            if finish is not None:
                finish(conn, done)
            return done


def _fields(operation: Operation) -> dict[str, Any]:
    return {"type": operation.type, "amount": operation.amount, "currency": operation.currency,
            "payee": operation.payee, "reference": operation.reference}


def _role(conn: Connection, row: Any, user_id: str) -> str | None:
    if row is None:
        return None
    if row["drawer_user_id"] == user_id:
        return "drawer"
    payee = get_account(conn, row["payee_account_id"]) if row["payee_account_id"] else None
    return "payee" if payee is not None and payee.user_id == user_id else None


__all__ = ["Cheques", "Draft", "Presented", "Terms", "step_up_fields"]
