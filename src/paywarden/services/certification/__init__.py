"""Merchant onboarding and certification.

    applications   sealed business details and the domains a merchant sells from
    verification   fetching a domain's token, with care for server-side request forgery
    authority      the platform CA: its certificate, merchant certificates, the CRL
    decisions      staff: approve, reject, suspend, reinstate, revoke
    registry       the public list of certified merchants and the revocations
    selling        check_can_sell: what the checkout asks before taking an order
    service        Certification, the use cases wired to the platform's parts
"""

from .applications import Application, BusinessDetails, Domain
from .certificates import Certificate
from .registry import Entry
from .selling import CertifiedMerchant, check_can_sell
from .service import Certification

__all__ = [
    "Application",
    "BusinessDetails",
    "Certificate",
    "Certification",
    "CertifiedMerchant",
    "Domain",
    "Entry",
    "check_can_sell",
]
