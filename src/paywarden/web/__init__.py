"""Web pages served by the API process: templates, static scripts, strict headers.

``router`` is included by :func:`paywarden.api.app.create_app`; pages built on
top of this package use :func:`render.render_page` and ``static/webauthn.js``.
"""

from __future__ import annotations

from . import checkout
from .pages import router

router.include_router(checkout.router)

__all__ = ["router"]
