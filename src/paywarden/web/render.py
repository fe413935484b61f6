"""Rendering pages safely: Jinja2 with autoescape, strict headers, static files.

Every page goes out with a Content-Security-Policy that allows scripts and styles
from this origin only (no inline script or style, no ``eval``), may not be framed,
sends no referrer, and is never cached when it is personal. Values reach scripts
through ``data-*`` attributes, escaped like any other text, never inline script.
"""

from __future__ import annotations

from importlib import resources
from typing import Any

from fastapi import Request, Response
from fastapi.responses import HTMLResponse
from jinja2 import (
    Environment,
    FileSystemLoader,
    StrictUndefined,
    pass_context,
    select_autoescape,
)
from jinja2.runtime import Context

from ..api.auth import SESSION_COOKIE
from ..domain.identity import Principal
from .money import DEFAULT_LOCALE, format_moment, format_money

PACKAGE = resources.files("paywarden.web")
CSP = ("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "
       "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
BASE_HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cross-Origin-Resource-Policy": "same-origin",
    "Permissions-Policy": "publickey-credentials-create=(self), "
                          "publickey-credentials-get=(self), camera=(), microphone=(), "
                          "geolocation=(), payment=()",
}
PERSONAL_CACHE = "no-store"
PUBLIC_CACHE = "no-cache"  # revalidate: a stale page could load a stale script
STATIC_TYPES = {".js": "text/javascript; charset=utf-8", ".css": "text/css; charset=utf-8"}

_templates = Environment(
    loader=FileSystemLoader(str(PACKAGE / "templates")),
    autoescape=select_autoescape(default=True, default_for_string=True),
    undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True)


@pass_context
def _money(context: Context, amount_minor: int, code: str) -> str:
    """``{{ amount | money(currency) }}``: in the page's ``locale`` (English by default)."""
    return format_money(amount_minor, code, context.get("locale", DEFAULT_LOCALE))


@pass_context
def _moment(context: Context, at_ns: int) -> str:
    """``{{ created_at_ns | moment }}``: a date and time in UTC."""
    return format_moment(at_ns, context.get("locale", DEFAULT_LOCALE))


_templates.filters["money"] = _money
_templates.filters["moment"] = _moment


def page_headers(*, personal: bool) -> dict[str, str]:
    """The headers every page (and static file) carries."""
    return {**BASE_HEADERS, "Cache-Control": PERSONAL_CACHE if personal else PUBLIC_CACHE}


def render_page(name: str, *, personal: bool = True, status_code: int = 200,
                **context: Any) -> HTMLResponse:
    """``templates/NAME`` rendered with ``context`` (autoescaped) and the strict headers.

    ``personal`` (the default) pages are ``Cache-Control: no-store``.
    """
    html = _templates.get_template(name).render(page=name, **context)
    return HTMLResponse(html, status_code=status_code, headers=page_headers(personal=personal))


def page_principal(request: Request) -> Principal | None:
    """Who the session cookie speaks for, if anyone (pages read with GET: no Origin check)."""
    token = request.cookies.get(SESSION_COOKIE)
    if not token:
        return None
    principal: Principal | None = request.app.state.platform.sessions.authenticate(token)
    return principal


def static_file(name: str) -> Response | None:
    """``static/NAME`` if it is one of ours (a plain name with a known suffix), else None."""
    suffix = name[name.rfind("."):] if "." in name else ""
    if suffix not in STATIC_TYPES or "/" in name or "\\" in name or name.startswith("."):
        return None
    path = PACKAGE / "static" / name
    if not path.is_file():
        return None
    return Response(path.read_bytes(), media_type=STATIC_TYPES[suffix],
                    headers=page_headers(personal=False))
