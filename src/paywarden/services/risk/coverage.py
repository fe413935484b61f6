"""The engine in the movements that are not banking's own transfers: escrow pay, merchant
and staff refunds, payee additions (decision 0036). Banking's movements — card top-ups
included — go through :meth:`RiskEngine.screen`.

Each screening is a :meth:`RiskEngine.evaluate` (a payment's: its decision is written
by the transition, with the money) or :meth:`RiskEngine.decide` (a payee's) on a
:class:`Subject` named after the operation (``payment.pay``, ``payment.refund``,
``bank.payee``), so the decision is recorded, audited and listed like every other. What an answer does is the caller's
(services/payments/screening.py, services/banking/payees.py).

**An id's outcome never changes.** A pay or refund the engine refused (``engine`` = ok,
decision review or decline) is refused again, with the same reasons, when it is retried —
under the same Idempotency-Key or not — without a new screening: a second try must not
be a second chance at the rules. A fallback's refusal (engine late or down) is not kept:
the next try is screened afresh.

A pay answered ``review`` is held, not refused (decision 0039); if that pay did not run
(its transaction failed after the screening) and is tried again, the first review stands —
unless an analyst already answered its case: then the analyst's outcome is the answer
(decline refuses; release lets it run), so the pay is never held again with no case open.
"""

from __future__ import annotations

import hashlib
import json

from sqlalchemy import bindparam, select

from ...adapters.store.schema import risk_case_outcomes, risk_decisions
from ...domain.risk import Decision
from ..banking.screening import Screen as BankScreen
from ..payments.screening import ALLOWED, Operation, Screen, Screened, Verdict
from .engine import BANK_DECISION, RiskEngine
from .features import Subject
from .reads import one_of

OBJECT_ID_CHARS_MAX = 64  # risk_decisions.object_id
_REFUSED = (str(Decision.REVIEW), str(Decision.DECLINE))
# The first refusal the engine itself gave this id, with its case's outcome if answered.
_FIRST_REFUSAL = (
    select(risk_decisions.c.decision, risk_decisions.c.reasons, risk_case_outcomes.c.outcome)
    .outerjoin(risk_case_outcomes, risk_case_outcomes.c.decision_id == risk_decisions.c.id)
    .where(risk_decisions.c.object_id == bindparam("object_id"),
           risk_decisions.c.operation == bindparam("operation"),
           risk_decisions.c.engine == "ok",
           risk_decisions.c.decision.in_(one_of(_REFUSED)))
    .order_by(risk_decisions.c.at).limit(1))


def object_id(screened: Screened) -> str:
    """The payment's id for a pay; the payment and the refund_id for a refund; the payment
    and the decision for a dispute decision (a case released for one decision does not
    let another run). Hashed when together they pass the column's width."""
    suffix = (screened.refund_id if screened.operation is Operation.REFUND
              else screened.decision if screened.operation is Operation.DISPUTE_DECISION
              else None)
    if suffix is None:
        return screened.payment_id
    made = f"{screened.payment_id}:{suffix}"
    if len(made) <= OBJECT_ID_CHARS_MAX:
        return made
    digest = hashlib.sha256(suffix.encode()).hexdigest()[:24]
    return f"{screened.payment_id}:#{digest}"


def subject_of_payment(screened: Screened) -> Subject:
    """A pay is the buyer's (their velocity, devices, history, account); a refund the
    merchant's: the buyer receives it and did not ask for it; a dispute decision the staff
    member's (kind ``staff``: their own velocity and devices — an insider's signs)."""
    op = screened.operation
    if op is Operation.DISPUTE_DECISION:
        return Subject(operation=f"payment.{op}", object_id=object_id(screened), kind="staff",
                       user_id=screened.staff_id, amount_minor=screened.amount.amount_minor,
                       currency=screened.amount.currency, merchant_id=screened.merchant_id)
    return Subject(operation=f"payment.{op}", object_id=object_id(screened), kind=str(op),
                   user_id=screened.buyer_id if op is Operation.PAY else None,
                   amount_minor=screened.amount.amount_minor,
                   currency=screened.amount.currency,
                   account_id=screened.account_id if op is Operation.PAY else None,
                   merchant_id=screened.merchant_id)


class Coverage:
    def __init__(self, engine: RiskEngine) -> None:
        self._engine = engine

    def screen_payment(self, screened: Screened) -> Screen:
        subject = subject_of_payment(screened)
        first = self._refused_before(subject)
        if first is not None:
            return first
        pending = self._engine.evaluate(subject, actor=screened.actor)
        verdict = pending.recorded.verdict
        return Screen(Verdict(str(verdict.decision)), verdict.reasons, record=pending)

    def screen_payee(self, user_id: str, *, payee_id: str, iban: str, currency: str,
                     actor: str) -> BankScreen:
        """Adding a payee: who (the customer), to whom (the IBAN: velocity per payee,
        registry and sanctions providers see it), no amount."""
        done = self._engine.decide(Subject(
            operation="bank.payee", object_id=payee_id,
            kind="payee", user_id=user_id, amount_minor=0, currency=currency,
            counterparty=iban), actor=actor)
        return BankScreen(BANK_DECISION[done.verdict.decision], done.verdict.reasons)

    def _refused_before(self, subject: Subject) -> Screen | None:
        """A compiled read on the engine's own connections (services/risk/reads.py): on
        every pay, so it costs what the feature reads cost, not a pooled transaction."""
        reads = self._engine.reads
        with reads.lent():
            found = reads.rows(_FIRST_REFUSAL, {"object_id": subject.object_id,
                                                "operation": subject.operation})
        if not found:
            return None
        decision, stored_reasons, outcome = found[0]
        reasons = tuple(json.loads(stored_reasons))
        if outcome == "release":
            return ALLOWED
        if outcome == "decline":
            return Screen(Verdict.DECLINE, reasons)
        return Screen(Verdict(decision), reasons)
