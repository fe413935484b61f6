"""The staff's queues and the supervisor portal (decision 0049):

- ``/staff/disputes``: payments in dispute for risk staff, each with the buyer's reason and
  the merchant's answer, and **Decide** (release, refund or split): a ``fetch`` to
  ``POST /v1/payments/{id}/disputes/decision``, which is four-eyes (decision 0042), so the
  page says the decision waits for a second person and links the approvals inbox;
- ``/staff/certification``: applications waiting, approved and rejected for
  merchant_admin, with their domains' verification; approve, reject, suspend and revoke
  at once, reinstate as a four-eyes command (decision 0044);
- ``/supervision``: the supervisor's reports for a period, each downloadable as CSV, PDF and
  JSON from ``GET /v1/supervision/reports/{kind}``, and the one command that checks a
  downloaded report against the audit log.

Passkey sessions only, as every back-office page (``staff_pages._member``); the same access
policy as the API decides what each page shows, and the API decides again on every action.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any, Literal
from urllib.parse import urlencode

from fastapi import APIRouter, Request, Response

from ..api.auth import READ_ONLY_ROLES
from ..api.staff_queue_routes import disputes_queue
from ..domain.identity import Access, Principal, Resource
from ..services.certification.authority import REVOCATION_REASONS
from ..services.supervision import RENDERERS
from ..services.supervision.service import KINDS, PERIOD_DAYS_MAX
from .render import render_page
from .staff_pages import _denied, _may, _member, _view

router = APIRouter(include_in_schema=False)
CertTab = Literal["submitted", "approved", "rejected"]
PERIOD_DAYS_DEFAULT = 30  # the supervisor portal's period until one is picked
# A rejection is a code (services/certification/decisions.check_reason): the page offers
# these; the API takes any 1 to 32 of a-z, 0-9, _.
REJECTION_REASONS = ("domain_not_verified", "details_not_matching", "registration_invalid",
                     "prohibited_business", "incomplete")
FORMATS = tuple(f for f in ("csv", "pdf", "json") if f in RENDERERS)


def is_supervisor(principal: Principal) -> bool:
    """Every role read-only: who the supervision API serves (api/supervision_routes)."""
    return bool(principal.roles) and principal.roles <= READ_ONLY_ROLES


@router.get("/staff/disputes")
def disputes_page(request: Request) -> Response:
    member = _member(request, "/staff/disputes")
    if isinstance(member, Response):
        return member
    p = member.principal
    if not _may(p, Resource.PAYMENTS):
        return _denied("Not for this role", "Your role does not read payments or disputes.")
    rows = disputes_queue(request.app.state.platform)
    return render_page("staff_disputes.html", title="Disputes", rows=rows,
                       may_decide=_may(p, Resource.PAYMENTS, Access.MODIFY), **_view(member))


@router.get("/staff/certification")
def certification_page(request: Request, tab: CertTab = "submitted") -> Response:
    member = _member(request, "/staff/certification")
    if isinstance(member, Response):
        return member
    p = member.principal
    if not _may(p, Resource.CERTIFICATION):
        return _denied("Not for this role", "Certification is decided by merchant admins: "
                       "your role cannot open it.")
    rows = request.app.state.platform.certification.queued(status=tab)
    return render_page("staff_certification.html", title="Merchant certification", tab=tab,
                       rows=rows, may_decide=_may(p, Resource.CERTIFICATION, Access.MODIFY),
                       rejection_reasons=REJECTION_REASONS,
                       revocation_reasons=sorted(REVOCATION_REASONS), **_view(member))


def _period(request: Request, first: str | None, last: str | None) -> tuple[date, date, str]:
    """The period asked for, or the last ``PERIOD_DAYS_DEFAULT`` days; and what was wrong
    with the one asked for, in words ("" if nothing)."""
    now_s = request.app.state.platform.clock.now_ns() // 1_000_000_000
    today = datetime.fromtimestamp(now_s, UTC).date()
    default = (today - timedelta(days=PERIOD_DAYS_DEFAULT - 1), today)
    if first is None and last is None:
        return (*default, "")
    try:
        picked = (date.fromisoformat(first or ""), date.fromisoformat(last or ""))
    except ValueError:
        return (*default, "Pick both days of the period.")
    if picked[1] < picked[0] or picked[1] > today \
            or (picked[1] - picked[0]).days + 1 > PERIOD_DAYS_MAX:
        return (*default, (f"A period runs from a day to a later one, ends today at the "
                           f"latest and is at most {PERIOD_DAYS_MAX} days."))
    return (*picked, "")


@router.get("/supervision")
def supervision_page(request: Request) -> Response:
    member = _member(request, "/supervision")
    if isinstance(member, Response):
        return member
    if not is_supervisor(member.principal):
        return _denied("For supervisors", "The supervision portal is for supervisors only: "
                       "no one who can change a figure also issues the report of it.")
    asked = request.query_params
    first, last, problem = _period(request, asked.get("from"), asked.get("to"))
    period = {"from": first.isoformat(), "to": last.isoformat()}
    reports: list[dict[str, Any]] = [{"kind": k, "links": [
        (f, f"/v1/supervision/reports/{k.name}?" + urlencode({**period, "format": f}))
        for f in FORMATS]} for k in KINDS]
    public_url = request.app.state.platform.settings.public_url
    return render_page("supervision.html", title="Supervision", reports=reports,
                       period=period, problem=problem, days_max=PERIOD_DAYS_MAX,
                       verify_command=f"paywarden supervision verify FILE --url {public_url}",
                       **_view(member))
