"""The public pages: the landing page at ``/`` and the merchant registry at ``/registry``.

The registry page reads the same registry as ``GET /v1/registry/merchants``, so a
buyer can check a shop's legal name and domains without a JSON viewer.
"""

from __future__ import annotations

import re

from fastapi import APIRouter, Response

from ..api.certification_routes import CertificationDep
from .render import render_page

router = APIRouter(include_in_schema=False)
REGISTRY_PAGE_SIZE_MAX = 50
MERCHANT_ID = re.compile(r"mer_[0-9a-f]{16}")


@router.get("/")
def home_page() -> Response:
    return render_page("home.html", personal=False, title="PayWarden: payments held safe")


@router.get("/registry")
def registry_page(cert: CertificationDep, after: str | None = None) -> Response:
    if after is not None and not MERCHANT_ID.fullmatch(after):
        after = None  # a page, not an API: a bad cursor shows the first page
    entries = cert.registry(after=after, limit=REGISTRY_PAGE_SIZE_MAX)
    return render_page("registry.html", personal=False, title="Merchant registry",
                       entries=entries, more=len(entries) == REGISTRY_PAGE_SIZE_MAX)
