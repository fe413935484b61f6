"""Risk decisions over HTTP: a subject's decisions, and re-running one.

Staff only, by the access policy's ``risk`` resource: reading needs ``read`` (risk,
supervisor), re-running ``modify`` (risk). A customer or a merchant is refused (403)
before anything is read. Reading and re-running are audited.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query

from ..bootstrap import Platform
from ..domain.identity import Access, Kind, Principal, Resource
from . import problem_codes as codes
from .auth import CurrentPrincipal
from .deps import PlatformDep
from .ids import rfc3339
from .problems import Problem, Refusals
from .schemas.risk import BacktestOut, DecisionsOut, RerunOut

router = APIRouter(prefix="/v1", tags=["risk"])
DecisionId = Annotated[str, Path(pattern=r"^rsk_[0-9a-f]{24}$")]
refusals = Refusals(codes.Risk)


def _staff(platform: Platform, principal: Principal, access: Access) -> None:
    if principal.kind is not Kind.STAFF:
        raise Problem(codes.Edge.FORBIDDEN, "staff only")
    platform.guard.authorize(principal, Resource.RISK, access)


@router.get("/risk/decisions", response_model=DecisionsOut)
def decisions(platform: PlatformDep, principal: CurrentPrincipal,
              subject: Annotated[str, Query(min_length=1, max_length=32,
                                            pattern=r"^[A-Za-z0-9_]+$")]) -> dict[str, Any]:
    """A subject's (a customer's ``usr_…``) risk decisions, newest first (at most 200).

    Each: the operation screened, the decision, the score, the reasons, and the rule set
    and model versions that decided. Reading is audited."""
    _staff(platform, principal, Access.READ)
    with refusals():
        rows = platform.risk_decisions.for_subject(subject, actor=principal.actor)
    return {"data": [{**r, "at": rfc3339(r["at"])} for r in rows]}


@router.post("/risk/decisions/{decision_id}/rerun", response_model=RerunOut)
def rerun(decision_id: DecisionId, platform: PlatformDep,
          principal: CurrentPrincipal) -> dict[str, Any]:
    """Re-run a recorded decision from its recorded features and rule set version.

    ``same`` says whether the answer equals the recorded one. Audited."""
    _staff(platform, principal, Access.MODIFY)
    with refusals():
        done = platform.risk_decisions.rerun(decision_id, actor=principal.actor)
    return {"id": done.id, "same": done.same, "recorded": done.recorded, "rerun": done.rerun}


@router.post("/risk/rules/{version}/backtest", response_model=BacktestOut)
def backtest(version: Annotated[int, Path(ge=1, le=2**31 - 1)], platform: PlatformDep,
             principal: CurrentPrincipal,
             days: Annotated[int, Query(ge=1, le=90)] = 30) -> dict[str, Any]:
    """Back-test a rule set version over the last ``days`` days of recorded decisions.

    Every rule of the version, shadow or active, runs as if active on the features
    recorded with each decision; per rule: how many it matches, by the decision recorded,
    and which verdicts it would have changed. Stored and audited: enabling a rule needs
    a back-test of the version its request was made against."""
    _staff(platform, principal, Access.MODIFY)
    with refusals():
        done = platform.risk_backtests.run(version, days=days, actor=principal.actor)
    body = done.public()
    return {**body, "since": rfc3339(body["since"]), "at": rfc3339(body["at"])}
