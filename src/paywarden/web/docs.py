"""The API reference at ``/docs``: Swagger UI from a Python package, never from a CDN.

The page works with no network: Swagger UI's script and stylesheet come from the
``fastapi-offline`` package's ``static/`` folder (read once, served by us), and
our own ``static/docs.js`` starts it (no inline script). The page's CSP is the
pages' strict one, widened only by ``data:`` images (Swagger UI draws its icons
as data-URI SVGs in its stylesheet); each asset's tag carries its SRI hash, so a
changed file is refused by the browser, not run.
"""

from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass
from functools import cache
from importlib import resources

from fastapi import APIRouter, Response

from .render import CSP, page_headers, render_page

router = APIRouter(include_in_schema=False)
ASSETS_PACKAGE = "fastapi_offline"
ASSET_TYPES = {"swagger-ui-bundle.js": "text/javascript; charset=utf-8",
               "swagger-ui.css": "text/css; charset=utf-8"}
DOCS_CSP = CSP.replace("img-src 'self'", "img-src 'self' data:")


@dataclass(frozen=True)
class Asset:
    body: bytes
    media_type: str
    integrity: str  # SRI: "sha384-…"


@cache
def asset(name: str) -> Asset:
    """One of Swagger UI's files, read from its package once."""
    body = (resources.files(ASSETS_PACKAGE) / "static" / name).read_bytes()
    digest = base64.b64encode(hashlib.sha384(body).digest()).decode()
    return Asset(body, ASSET_TYPES[name], f"sha384-{digest}")


def _headers() -> dict[str, str]:
    return {**page_headers(personal=False), "Content-Security-Policy": DOCS_CSP}


@router.get("/docs")
def docs_page() -> Response:
    response = render_page("docs.html", personal=False, title="PayWarden API reference", wide=True,
                           script=asset("swagger-ui-bundle.js").integrity,
                           style=asset("swagger-ui.css").integrity)
    response.headers.update(_headers())
    return response


@router.get("/docs/assets/{name}")
def docs_asset(name: str) -> Response:
    if name not in ASSET_TYPES:
        return Response("not found", status_code=404, media_type="text/plain",
                        headers=_headers())
    found = asset(name)
    return Response(found.body, media_type=found.media_type, headers=_headers())
