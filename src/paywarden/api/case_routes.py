"""The analysts' queue over HTTP: open review cases, one case, release, decline, labels.

Staff only, by the access policy's ``risk`` resource: reading needs ``read`` (risk,
supervisor), answering and labelling ``modify`` (risk). A customer or a merchant is refused
(403) before anything is read. Every call is audited by the service.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path

from ..domain.identity import Access
from . import problem_codes as codes
from .auth import CurrentPrincipal
from .deps import PlatformDep
from .ids import rfc3339
from .problems import Refusals
from .risk_routes import _staff
from .schemas.cases import (
    CaseDetailOut,
    LabelIn,
    LabelOut,
    OutcomeIn,
    OutcomeOut,
    QueueOut,
)

router = APIRouter(prefix="/v1", tags=["risk"])
CaseId = Annotated[str, Path(pattern=r"^rsk_[0-9a-f]{24}$")]
refusals = Refusals(codes.RiskCases)


def _sla(sla: dict[str, Any]) -> dict[str, Any]:
    return {**sla, "opened_at": rfc3339(sla["opened_at"]), "due_at": rfc3339(sla["due_at"])}


def _case(case: dict[str, Any]) -> dict[str, Any]:
    return {**case, "at": rfc3339(case["at"]), "sla": _sla(case["sla"])}


@router.get("/risk/cases", response_model=QueueOut)
def queue(platform: PlatformDep, principal: CurrentPrincipal) -> dict[str, Any]:
    """The open review cases, grouped per customer or merchant, oldest first.

    Each case: the decision (operation, reasons, versions) and its SLA timer (due at,
    overdue). At most the 500 oldest open cases. Reading is audited."""
    _staff(platform, principal, Access.READ)
    groups = platform.risk_cases.queue(actor=principal.actor)
    return {"data": [{**g, "cases": [_case(c) for c in g["cases"]]} for g in groups]}


@router.get("/risk/cases/{case_id}", response_model=CaseDetailOut)
def case(case_id: CaseId, platform: PlatformDep, principal: CurrentPrincipal
         ) -> dict[str, Any]:
    """One case with its evidence.

    The decision's recorded features, reasons, rule set and model versions; the held
    movement (amount, accounts, counterparty); the subject's decision history; the SLA; the
    outcome and label if any. Reading is audited."""
    _staff(platform, principal, Access.READ)
    with refusals():
        found = platform.risk_cases.case(case_id, actor=principal.actor)
    outcome = found["outcome"]
    label = found["label"]
    return {**_case(found),
            "history": [{**h, "at": rfc3339(h["at"])} for h in found["history"]],
            "outcome": None if outcome is None else {**outcome, "at": rfc3339(outcome["at"])},
            "label": None if label is None else {**label, "at": rfc3339(label["at"])}}


def _answer(case_id: str, body: OutcomeIn, platform: Any, principal: Any, outcome: str
            ) -> dict[str, Any]:
    _staff(platform, principal, Access.MODIFY)
    with refusals():
        done = platform.risk_cases.answer(case_id, outcome=outcome, reason=body.reason,
                                          actor=principal.actor)
    out = done.public()
    return {**out, "at": rfc3339(out["at"])}


@router.post("/risk/cases/{case_id}/release", response_model=OutcomeOut)
def release(case_id: CaseId, body: OutcomeIn, platform: PlatformDep,
            principal: CurrentPrincipal) -> dict[str, Any]:
    """Release a case: the held money goes on (posts, or on to the rail).

    Once: a second answer (release or decline) gets the first, with ``created`` false.
    The customer is told in plain words. Audited with the reason."""
    return _answer(case_id, body, platform, principal, "release")


@router.post("/risk/cases/{case_id}/decline", response_model=OutcomeOut)
def decline(case_id: CaseId, body: OutcomeIn, platform: PlatformDep,
            principal: CurrentPrincipal) -> dict[str, Any]:
    """Decline a case: the held money is voided, back to the customer.

    Once: a second answer gets the first, with ``created`` false. The customer is told in
    plain words (never the reason given here: that is an internal note). Audited."""
    return _answer(case_id, body, platform, principal, "decline")


@router.post("/risk/decisions/{decision_id}/label", response_model=LabelOut)
def label(decision_id: CaseId, body: LabelIn, platform: PlatformDep,
          principal: CurrentPrincipal) -> dict[str, Any]:
    """Label a decision fraud or false_positive (analyst feedback for the retrain).

    Any decision, not only a case; labelling again replaces the label. Audited."""
    _staff(platform, principal, Access.MODIFY)
    with refusals():
        done = platform.risk_labels.label(decision_id, body.label, actor=principal.actor)
    return {"decision_id": done.decision_id, "label": done.label, "by": done.by,
            "at": rfc3339(done.at_ns), "changed_from": done.changed_from}
