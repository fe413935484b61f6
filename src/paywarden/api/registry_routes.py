"""The credit registry over HTTP, for staff (services/registry, decision 0031).

    risk        submits a change (write), a four-eyes command that another member
                approves; reads entries and appeals
    support     tells a subject which entries hold their identifiers, with the reason
                category only, and opens their appeal (registry_subjects: write)
    supervisor  reads everything

A change is a four-eyes command of the approval engine (kind ``registry_entry``,
decision 0042): applied only when a member of staff other than its submitter approves it
with their passkey (``POST /v1/approvals/{id}/approve``; the submitter gets 403
``four_eyes_required``). The inbox is ``GET /v1/approvals?kind=registry_entry``. Identifiers are posted, never put in a URL, and
hashed at once; no response returns one.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query
from fastapi.responses import JSONResponse

from ..bootstrap import Platform
from ..domain.approvals import Kind as ApprovalKind
from ..domain.identity import Access, Kind, Principal, Resource
from ..services.registry import LIST_SIZE_MAX, Appeal, Entry, SubjectEntry
from . import problem_codes as codes
from .approval_routes import submitted
from .auth import CurrentPrincipal
from .deps import PlatformDep
from .ids import rfc3339
from .problems import Problem, Refusals
from .schemas.approvals import ApprovalOut
from .schemas.registry import (
    AppealIn,
    AppealOut,
    AppealsOut,
    IdentifierIn,
    RegistryEntryOut,
    RegistryRequestIn,
    SubjectIn,
    SubjectStatusOut,
)

router = APIRouter(prefix="/v1/staff/registry", tags=["registry"])
refusals = Refusals(codes.Registry, codes.Approvals)
EntryId = Annotated[str, Path(pattern=r"^reg_[0-9a-f]{24}$")]
NS_PER_DAY = 86_400 * 1_000_000_000


def _staff(platform: Platform, principal: Principal, resource: Resource,
           access: Access) -> None:
    if principal.kind is not Kind.STAFF:
        raise Problem(codes.Edge.FORBIDDEN, "staff only")
    platform.guard.authorize(principal, resource, access)


def _ts(ns: int | None) -> str | None:
    return None if ns is None else rfc3339(ns)


def _raw(identifiers: list[IdentifierIn]) -> list[tuple[str, str]]:
    return [(i.kind, i.value) for i in identifiers]


def entry_out(e: Entry) -> dict[str, Any]:
    return {"id": e.id, "reason": e.reason, "source": e.source, "state": e.state,
            "evidence_ref": e.evidence_ref, "requested_by": e.requested_by,
            "approved_by": e.approved_by, "created_at": rfc3339(e.created_at_ns),
            "expires_at": rfc3339(e.expires_at_ns),
            "identifiers": [{"kind": k, "digest": d} for k, d in e.identifiers]}


def subject_out(e: SubjectEntry) -> dict[str, Any]:
    return {"entry_id": e.entry_id, "reason": e.reason, "source": e.source,
            "created_at": rfc3339(e.created_at_ns), "expires_at": rfc3339(e.expires_at_ns),
            "appeal_id": e.appeal_id, "appeal_due_at": _ts(e.appeal_due_at_ns)}


def appeal_out(a: Appeal) -> dict[str, Any]:
    return {"id": a.id, "entry_id": a.entry_id, "state": a.state, "opened_by": a.opened_by,
            "opened_at": rfc3339(a.opened_at_ns), "due_at": rfc3339(a.due_at_ns)}


@router.post("/requests", status_code=202, response_model=ApprovalOut,
             summary="Submit a change to the registry for approval")
def make_request(body: RegistryRequestIn, platform: PlatformDep,
                 principal: CurrentPrincipal) -> JSONResponse:
    """Submit a change: create, change or remove an entry, or trust another institution's
    feed. 202 with the approval (kind ``registry_entry``).

    Nothing changes until a different member of staff approves it with their passkey
    (``POST /v1/approvals/{id}/approve``). A create names the subject's identifiers,
    hashed here at once (normalised first: another case or phone format still matches),
    a reason category, an evidence reference and an expiry."""
    _staff(platform, principal, Resource.REGISTRY, Access.WRITE)
    registry = platform.registry
    with refusals():
        fields: dict[str, Any] = {"reason": body.reason, "evidence_ref": body.evidence_ref,
                                  "issuer": body.issuer, "jwks": body.jwks}
        if body.identifiers:
            fields["identifiers"] = registry.digests(_raw(body.identifiers),
                                                     region=body.region)
        if body.expires_in_days is not None:
            fields["expires_at"] = platform.clock.now_ns() + body.expires_in_days * NS_PER_DAY
        made = platform.approvals.submit(principal, str(ApprovalKind.REGISTRY_ENTRY), {
            "action": body.action, "entry_id": body.entry_id, "body": fields})
    return submitted(made)


@router.get("/entries/{entry_id}", response_model=RegistryEntryOut,
            summary="One registry entry, with its evidence reference")
def get_entry(entry_id: EntryId, platform: PlatformDep,
              principal: CurrentPrincipal) -> dict[str, Any]:
    """An entry as risk staff and supervisors see it: digests, reason, evidence reference,
    who asked and who approved. Reading is audited."""
    _staff(platform, principal, Resource.REGISTRY, Access.READ)
    with refusals():
        return entry_out(platform.registry.entry(entry_id, actor=principal.actor))


@router.post("/subject-status", response_model=SubjectStatusOut,
             summary="Which entries hold a subject's identifiers")
def subject_status(body: SubjectIn, platform: PlatformDep,
                   principal: CurrentPrincipal) -> dict[str, Any]:
    """For support, to tell a subject that an entry exists and its reason category, its
    source and expiry; never the evidence. A POST, so identifiers stay out of URLs and
    logs. Audited."""
    _staff(platform, principal, Resource.REGISTRY_SUBJECTS, Access.READ)
    with refusals():
        found = platform.registry.subject_status(_raw(body.identifiers),
                                                 actor=principal.actor, region=body.region)
    return {"data": [subject_out(e) for e in found]}


@router.post("/appeals", status_code=201, response_model=AppealOut,
             summary="Open a subject's appeal against an entry")
def open_appeal(body: AppealIn, platform: PlatformDep,
                principal: CurrentPrincipal) -> dict[str, Any]:
    """An appeal is a case with a deadline (``registry_appeal_deadline_s``). The entry must
    hold one of the subject's identifiers; one open appeal per entry. Audited."""
    _staff(platform, principal, Resource.REGISTRY_SUBJECTS, Access.WRITE)
    with refusals():
        made = platform.registry.appeal(body.entry_id, _raw(body.identifiers),
                                        staff_id=principal.id, actor=principal.actor,
                                        region=body.region)
    return appeal_out(made)


@router.get("/appeals", response_model=AppealsOut, summary="Open appeals, due first")
def list_appeals(platform: PlatformDep, principal: CurrentPrincipal,
                 limit: Annotated[int, Query(ge=1, le=LIST_SIZE_MAX)] = LIST_SIZE_MAX,
                 ) -> dict[str, Any]:
    """Open appeals against registry entries, the one due soonest first (at most
    ``limit``)."""
    _staff(platform, principal, Resource.REGISTRY, Access.READ)
    return {"data": [appeal_out(a) for a in platform.registry.appeals(limit=limit)]}
