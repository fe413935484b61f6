"""Web pages served by the API process: templates, static scripts, strict headers.

``router`` is included by :func:`paywarden.api.app.create_app`; pages built on
top of this package use :func:`render.render_page` and ``static/webauthn.js``.
"""

from __future__ import annotations

from . import (
    bank_pages,
    checkout,
    cheque_pages,
    dashboard_pages,
    docs,
    guides,
    home,
    merchant_pages,
    payments,
    risk_pages,
    security,
    staff_clearing,
    staff_clearing_hub,
    staff_pages,
    staff_queues,
)
from .pages import router

router.include_router(checkout.router)
router.include_router(bank_pages.router)
router.include_router(cheque_pages.router)
router.include_router(security.router)
router.include_router(risk_pages.router)
router.include_router(staff_pages.router)
router.include_router(staff_queues.router)
router.include_router(staff_clearing.router)
router.include_router(staff_clearing_hub.router)
router.include_router(merchant_pages.router)
router.include_router(dashboard_pages.router)
router.include_router(payments.router)
router.include_router(home.router)
router.include_router(guides.router)  # before docs: /docs/merchant-quickstart
router.include_router(docs.router)

__all__ = ["router"]
