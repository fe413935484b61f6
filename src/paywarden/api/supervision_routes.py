"""The supervisor's reports over HTTP (services/supervision, decision 0047).

    GET /v1/supervision/reports                                   the kinds
    GET /v1/supervision/reports/{kind}?from=&to=&format=csv|pdf|json

For a principal whose every role is read-only (a supervisor) and nobody else: anyone
who can write is refused with ``supervisors_only`` (403), so no one who could change a
figure also issues the report of it. Generating a report appends an audit entry (who,
which kind, which period) and signs a tree head; this does not make the GET unsafe: it
changes nothing a report is about. ``paywarden supervision verify`` checks the file.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query
from fastapi.responses import Response

from ..bootstrap import Platform
from ..domain.identity import Access, Kind, Principal, Resource
from ..services.supervision import RENDERERS
from ..services.supervision.large_value import parse_thresholds
from ..services.supervision.service import KIND_NAMES, KINDS, Supervision
from . import problem_codes as codes
from .auth import READ_ONLY_ROLES, CurrentPrincipal
from .deps import PlatformDep
from .problems import Problem, Refusals
from .schemas.supervision import ReportKindsOut

router = APIRouter(prefix="/v1/supervision", tags=["supervision"])
refusals = Refusals(codes.Supervision)
Day = Annotated[str, Query(max_length=10, description="YYYY-MM-DD (UTC), inclusive")]


def supervision_of(platform: Platform) -> Supervision:
    return Supervision(platform.database, clock=platform.clock, keys=platform.keys,
                       tree_heads=platform.tree_heads, large_value_thresholds=parse_thresholds(
                           platform.settings.large_value_thresholds))


def supervisor(platform: Platform, principal: Principal) -> None:
    """A staff principal holding read-only roles only (the policy's supervisor)."""
    if principal.kind is not Kind.STAFF or not principal.roles \
            or not principal.roles <= READ_ONLY_ROLES:
        raise Problem(codes.Supervision.SUPERVISORS_ONLY, "only a supervisor reads reports")
    platform.guard.authorize(principal, Resource.AUDIT, Access.READ)


def day_of(value: str, name: str) -> date:
    try:
        if len(value) != 10:
            raise ValueError(value)
        return date.fromisoformat(value)
    except ValueError:
        raise Problem(codes.Supervision.REPORT_PERIOD_INVALID,
                      f"{name} is not a date YYYY-MM-DD") from None


@router.get("/reports", response_model=ReportKindsOut)
def kinds(platform: PlatformDep, principal: CurrentPrincipal) -> dict[str, Any]:
    """List the report kinds.

    The kinds of report a supervisor can generate, each with its link, and the formats
    (CSV, JSON, a signed PDF)."""
    supervisor(platform, principal)
    return {"data": [{"kind": k.name, "title": k.title, "about": k.about,
                      "href": f"/v1/supervision/reports/{k.name}"} for k in KINDS],
            "formats": sorted(RENDERERS)}


@router.get("/reports/{kind}", response_class=Response, responses={200: {
    "description": "The signed report", "content": {
        m.split(";")[0]: {} for _, m, _ in RENDERERS.values()}}})
def report(kind: Annotated[str, Path(max_length=32)], platform: PlatformDep,
           principal: CurrentPrincipal, from_: Annotated[str, Query(alias="from",
                                                                    max_length=10)],
           to: Day, format: Annotated[str, Query(max_length=8)] = "json") -> Response:
    """Generate and download a report for the UTC days ``from`` to ``to``.

    Signed (JWS by the ``documents`` key), with the audit log's signed tree head, the
    report's own audit entry and the inclusion proof of every audit entry it cites.
    Check it with ``paywarden supervision verify FILE --url <this platform>``."""
    supervisor(platform, principal)
    if kind not in KIND_NAMES:
        raise Problem(codes.Supervision.REPORT_KIND_UNKNOWN,
                      f"reports are {', '.join(KIND_NAMES)}")
    found = RENDERERS.get(format)
    if found is None:
        raise Problem(codes.Supervision.REPORT_FORMAT_INVALID,
                      f"format is one of {', '.join(sorted(RENDERERS))}")
    render, media_type, extension = found
    first, last = day_of(from_, "from"), day_of(to, "to")
    with refusals():
        sealed = supervision_of(platform).generate(kind, first, last, actor=principal.actor)
    name = f"{kind}-{first.isoformat()}-{last.isoformat()}.{extension}"
    return Response(render(sealed), media_type=media_type, headers={
        "Content-Disposition": f'attachment; filename="{name}"',
        "Cache-Control": "no-store", "X-Content-Type-Options": "nosniff"})
