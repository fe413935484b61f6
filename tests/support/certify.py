"""A certified merchant for tests: applied, its domain attested by staff, approved."""

from __future__ import annotations

from paywarden.bootstrap import Platform
from paywarden.services.certification import BusinessDetails


def certify(platform: Platform, merchant_id: str, *, domain: str = "shop.example",
            legal_name: str = "Shop Example Ltd") -> None:
    service = platform.certification
    service.apply(merchant_id, BusinessDetails(
        legal_name=legal_name, registration_number="HRB 4711", address="1 Shop Street",
        contact_email="owner@shop.example"), [domain], actor="cli:test")
    service.attest_domain(merchant_id, domain, actor="cli:test")
    service.approve(merchant_id, actor="cli:test")
