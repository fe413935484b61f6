"""The customer portal's shell: one navigation for every signed-in page, and how a page joins it.

Every portal page renders through :func:`portal_page`, which extends ``portal.html``
(the section navigation beside the page, a row of links on a phone) and passes the
reader's locale for amounts and dates. The navigation is :data:`SECTIONS`, in the order
it is shown; a section is shown only once the app serves ``GET`` on its ``href``, so the
banking sections (accounts, transfers, payees, cheques, statements) appear by
themselves when their pages are added — a new page needs a route at its section's
``href`` and ``portal_page(request, …, section="<key>")``, nothing else.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse
from fastapi.routing import APIRoute

from ..api.problems import flat_routes
from ..services.identity.users import User
from .money import negotiate
from .render import render_page


@dataclass(frozen=True)
class Section:
    key: str  # what a page passes as section=…
    label: str
    href: str


SECTIONS = (
    Section("overview", "Overview", "/account"),
    Section("accounts", "Accounts", "/bank"),
    Section("transfers", "Transfers", "/bank/transfers"),
    Section("payees", "Payees", "/bank/payees"),
    Section("cheques", "Cheques", "/bank/cheques"),
    Section("statements", "Statements", "/bank/statements"),
    Section("payments", "Payments", "/account/payments"),
    Section("security", "Security", "/account/security"),
)
_KEYS = frozenset(s.key for s in SECTIONS)


def live_sections(app: FastAPI) -> tuple[Section, ...]:
    """The sections whose page the app serves (worked out once per app)."""
    known: tuple[Section, ...] | None = getattr(app.state, "portal_sections", None)
    if known is None:
        served = {getattr(route, "path", None) for route in flat_routes(app)
                  if isinstance(getattr(route, "original_route", route), APIRoute)
                  and "GET" in route.methods}
        known = tuple(s for s in SECTIONS if s.href in served)
        app.state.portal_sections = known
    return known


def portal_page(request: Request, template: str, *, section: str, title: str, user: User,
                **context: Any) -> HTMLResponse:
    """``template`` (which extends ``portal.html``) for the signed-in ``user``, personal."""
    if section not in _KEYS:
        raise ValueError(f"no portal section {section!r}: add it to SECTIONS")
    return render_page(template, personal=True, title=title, user=user, section=section,
                       sections=live_sections(request.app),
                       locale=negotiate(request.headers.get("accept-language")), **context)
