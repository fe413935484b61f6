"""The executor of a dispute decision over the four-eyes threshold (decision 0042).

A decision moves everything a dispute holds, to the buyer, the merchant or both, so from
``PAYWARDEN_DISPUTE_APPROVAL_MIN`` minor units held (0: every decision) one risk member
submits it and another approves. It commits through the payments' own write path, so it
is an :meth:`~.executors.Executor.effect`; the escrow machine refuses a second
``DecideDispute`` (``dispute_already_decided``), and the effect answers such a refusal
with the decision already stored when it is this command's (a retry after a crash, or a
race with itself): the money moves once and the outcome never changes.

The decision is still screened as a staff move (decision 0040), with both people as the
subject (neither of whom may answer its case). ``review`` leaves the approval ``held``:
when an analyst releases the case, the approved command runs as it is (the released case
lets it through the screening); when the analyst declines it, the approval ends
``failed``. Nobody decides or approves it a second time (:func:`held_decisions`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from ...adapters.clock import Clock
from ...domain.approvals import Kind
from ...domain.errors import DomainError, InvariantViolation
from ...domain.escrow import DecideDispute, PartyRole, Resolution, transition
from ...domain.identity import Principal
from ...domain.money import Money
from ..ledger.currencies import amount_words
from ..payments import Party, Payments, PaymentView
from .engine import Approvals
from .executors import Approval, Checked, Executor


def held_decisions(approvals: Approvals) -> Callable[[str, bool, str], str]:
    """What answers a risk case holding a staff dispute decision (object id
    ``pay_…:<decision>``): the payment's held decision approvals run, or fail. Given to the
    payments' case resolver (services/risk/resolvers.py)."""

    def answer(payment_id: str, release: bool, actor: str) -> str:
        done = approvals.answer_held(Kind.DISPUTE_DECISION,
                                     lambda a: a.params.get("payment_id") == payment_id,
                                     release=release, actor=actor)
        return ",".join(f"{a.id}:{a.state}" for a in done)

    return answer


def decision_event(resolution: str, refund: int | None, release: int | None,
                   currency: str) -> DecideDispute:
    """The escrow event of a decision as a command stores it (integers, minor units)."""
    if resolution == Resolution.SPLIT:
        return DecideDispute.split(refund=Money(refund or 0, currency),
                                   release=Money(release or 0, currency))
    if resolution == Resolution.RELEASE:
        return DecideDispute.release()
    if resolution == Resolution.REFUND:
        return DecideDispute.refund()
    raise DomainError("approval_command_invalid", "resolution is release, refund or split")


class DisputeDecision(Executor):
    """params ``{"payment_id", "resolution", "refund", "release"}`` (the two amounts for a
    split only, else null)."""

    kind = Kind.DISPUTE_DECISION
    hold_codes = frozenset({"dispute_decision_held"})

    def __init__(self, payments: Payments, *, clock: Clock) -> None:
        self._payments = payments
        self._clock = clock

    def check(self, params: Mapping[str, Any], submitter: Principal) -> Checked:
        payment_id, resolution = params.get("payment_id"), params.get("resolution")
        refund, release = params.get("refund"), params.get("release")
        if not isinstance(payment_id, str) or not isinstance(resolution, str) or any(
                v is not None and type(v) is not int for v in (refund, release)):
            raise DomainError("approval_command_invalid", "a decision names a payment_id, a "
                              "resolution and, for a split, integer refund and release")
        view = self._view(payment_id)
        currency = view.escrow.currency
        if resolution != Resolution.SPLIT:
            refund = release = None
        # The machine's own refusals now (not disputed, a split that does not add up), so
        # no one approves a decision that cannot run.
        transition(view.escrow, decision_event(resolution, refund, release, currency),
                   now_ns=self._clock.now_ns())
        held = view.escrow.held_minor
        return Checked({"payment_id": payment_id, "resolution": resolution, "refund": refund,
                        "release": release},
                       f"Decide the dispute on {payment_id}: {resolution} of "
                       f"{amount_words(held, currency)} held", amount=held, currency=currency,
                       subject=view.buyer_id)

    def effect(self, approval: Approval) -> dict[str, Any]:
        p = approval.params
        event = decision_event(p["resolution"], p["refund"], p["release"], approval.currency)
        party = Party(PartyRole.STAFF, f"{approval.submitted_by}+{approval.decided_by}")
        try:
            view = self._payments.apply(p["payment_id"], event, party=party)
        except DomainError as exc:
            if exc.code != "dispute_already_decided":
                raise
            view = self._view(p["payment_id"])
            if not _decided_so(view, p, since_ns=approval.decided_at or 0):
                raise
        return _outcome(view)

    def _view(self, payment_id: str) -> PaymentView:
        view = self._payments.get(payment_id)
        if view is None:
            raise DomainError("not_found", f"no payment {payment_id}")
        return view


def _decided_so(view: PaymentView, p: Mapping[str, Any], *, since_ns: int) -> bool:
    """Was the payment's dispute decided as this command says, since it was approved?"""
    dispute = view.escrow.dispute
    decision = None if dispute is None else dispute.decision
    if decision is None or str(decision.resolution) != p["resolution"] \
            or decision.decided_at_ns < since_ns:
        return False
    return p["resolution"] != Resolution.SPLIT or (
        decision.refund_minor, decision.release_gross_minor) == (p["refund"], p["release"])


def _outcome(view: PaymentView) -> dict[str, Any]:
    dispute = view.escrow.dispute
    decision = None if dispute is None else dispute.decision
    if decision is None:
        raise InvariantViolation(f"the dispute on {view.id} is not decided after its decision")
    return {"payment_id": view.id, "resolution": str(decision.resolution),
            "refund": decision.refund_minor, "release": decision.release_gross_minor,
            "state": str(view.escrow.state)}
