"""``/staff/clearing/hub``: a clearing hub's participants and net settlement windows,
for its operators (decision 0057).

One table of participants (settlement balance, what transfers in flight reserve, the
net position over the unsettled windows, the cap, the channel), one of the newest
windows, and the transfers by state. An operator (the ledger resource's ``modify``) can
close a currency's open window at once (``POST /v1/staff/clearing/windows/{currency}/
close``): its obligations become final and the next window opens; no money moves until
it settles, by the hub's cycle or on the hub's host. Passkey sessions only, as every
back-office page.
"""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from ..domain.identity import Access, Resource
from ..services.clearing.views import hub
from .render import render_page
from .staff_pages import _denied, _may, _member, _view

router = APIRouter(include_in_schema=False)
TITLE = "Clearing hub: participants and windows"


@router.get("/staff/clearing/hub")
def hub_page(request: Request) -> Response:
    member = _member(request, "/staff/clearing/hub")
    if isinstance(member, Response):
        return member
    p = member.principal
    if not _may(p, Resource.LEDGER):
        return _denied("Not for this role", "Your role does not read the hub's ledger.")
    platform = request.app.state.platform
    node = platform.clearing
    if node is None or node.hub is None:
        return render_page("staff_clearing_hub.html", title=TITLE, is_hub=False,
                           **_view(member))
    view = hub(platform.database, node.peers, node.notices)
    return render_page("staff_clearing_hub.html", title=TITLE, is_hub=True, view=view,
                       cycle_s=platform.settings.clearing_window_cycle_s,
                       may_close=_may(p, Resource.LEDGER, Access.MODIFY), **_view(member))
