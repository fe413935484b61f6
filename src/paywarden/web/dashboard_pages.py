"""The back office dashboard page and its charts (decision 0050).

``/staff/dashboard`` shows each chart as an ``<img>`` of ``/staff/charts/{name}.svg``,
a table of the same figures beside it for anyone who cannot see the chart, and the queue
depths as numbers linked to their queues. Both are for a member of staff signed in with a
passkey (the same gate as every back office page) who holds a staff role.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response

from ..api.dashboard_routes import may_read
from ..services.dashboard import DECISIONS, HOURS_DEFAULT, HOURS_MAX, Dashboard, Hour, Snapshot
from . import charts
from .charts import hour_label
from .render import page_headers, render_page
from .staff_pages import Member, _denied, _member, _view

router = APIRouter(include_in_schema=False)
Hours = Annotated[int, Query(ge=1, le=HOURS_MAX)]
QUEUE_LINKS = {  # where each queue is worked; None: no page of its own yet
    "pending_approvals": ("Approvals waiting for a second person", "/staff/approvals"),
    "open_risk_cases": ("Risk cases waiting for an analyst", "/risk"),
    "webhooks_waiting": ("Webhook deliveries waiting", None),
    "parked_payments": ("Payments parked (a timer event refused)", None),
    "open_alerts": ("Alerts nobody has acknowledged", None),
}


def _reader(request: Request, path: str) -> Member | Response:
    member = _member(request, path)
    if isinstance(member, Response) or may_read(member.principal):
        return member
    return _denied("Not for this role", "The dashboard is for members of staff with a role.")


def _snapshot(request: Request, hours: int) -> Snapshot:
    platform = request.app.state.platform
    return Dashboard(platform.database, clock=platform.clock).snapshot(hours=hours)


def _percent(rate: float | None) -> str:
    return "–" if rate is None else f"{rate * 100:.1f} %"


def _row(hour: Hour) -> dict[str, Any]:
    return {"label": hour_label(hour.start_ns), "h": hour,
            "volume": sorted(hour.volume.items()),
            "decline": _percent(hour.decline_rate), "dispute": _percent(hour.dispute_rate),
            "refund": _percent(hour.refund_rate)}


@router.get("/staff/dashboard")
def dashboard_page(request: Request, hours: Hours = HOURS_DEFAULT) -> Response:
    member = _reader(request, "/staff/dashboard")
    if isinstance(member, Response):
        return member
    snapshot = _snapshot(request, hours)
    queues = [{"name": q.name, "depth": q.depth, "at_least": q.at_least,
               "label": QUEUE_LINKS[q.name][0], "href": QUEUE_LINKS[q.name][1]}
              for q in snapshot.queues]
    return render_page("staff_dashboard.html", title="Dashboard", hours=hours,
                       charts={name: title for name, (title, _) in charts.CHARTS.items()},
                       rows=[_row(h) for h in snapshot.hours], queues=queues,
                       decisions=DECISIONS, **_view(member))


@router.get("/staff/charts/{name}.svg")
def chart_svg(request: Request, name: str, hours: Hours = HOURS_DEFAULT) -> Response:
    member = _reader(request, f"/staff/charts/{name}.svg")
    if isinstance(member, Response):
        return member
    found = charts.CHARTS.get(name)
    if found is None:
        return Response("no such chart", status_code=404, media_type="text/plain",
                        headers=page_headers(personal=True))
    drawn = charts.render(found[1](_snapshot(request, hours)))
    headers = {**page_headers(personal=True), "Content-Security-Policy": drawn.csp}
    return Response(drawn.svg, media_type="image/svg+xml", headers=headers)
