"""Merchant certification: applying, verifying domains, staff decisions, the public registry.

    POST /v1/merchants/me/application                  signed: apply (or apply again)
    GET  /v1/merchants/me/application                  signed: the application, tokens
    POST /v1/merchants/me/domains/{domain}/verify      signed: fetch the domain's token
    POST|GET /v1/merchants/{id}/application, POST …/domains/{domain}/verify
                                                       staff, on the merchant's behalf
    POST /v1/merchants/{id}/certification/approve|reject|suspend|reinstate|revoke
                                                       staff (merchant_admin); reinstate
                                                       is a four-eyes command (0044): 202
    GET  /v1/registry/merchants[/{id}]                 public
    GET  /v1/registry/revocations                      public: JSON list and the CRL (PEM)
    GET  /v1/registry/revocations.crl                  public: the CRL, DER
    GET  /v1/registry/ca.pem                           public: the CA certificate
"""

from __future__ import annotations

from typing import Annotated

from cryptography.hazmat.primitives import serialization
from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import JSONResponse, Response

from ..bootstrap import Platform
from ..domain.identity import Access, Kind, Principal, Resource
from ..services.approvals.merchants import CERTIFICATE
from ..services.certification import (
    Application,
    BusinessDetails,
    Certificate,
    Certification,
    Domain,
    Entry,
)
from . import problem_codes as codes
from .approval_routes import submitted
from .auth import CurrentPrincipal
from .deps import PlatformDep
from .ids import rfc3339
from .problems import Problem, Refusals
from .schemas.certification import (
    ApplicationIn,
    ApplicationOut,
    CertificateOut,
    DomainOut,
    ReasonIn,
    RegistryEntryOut,
    RegistryPage,
    RevocationOut,
    RevocationsOut,
)

router = APIRouter(tags=["certification"])

MerchantId = Annotated[str, Path(pattern=r"^mer_[0-9a-f]{16}$")]
DomainName = Annotated[str, Path(max_length=253)]
PEM_TYPE = "application/x-pem-file"
CRL_TYPE = "application/pkix-crl"
REGISTRY_MAX_AGE_S = 60


def _certification(request: Request) -> Certification:
    platform: Platform = request.app.state.platform
    return platform.certification


CertificationDep = Annotated[Certification, Depends(_certification)]
_refusals = Refusals(codes.Certification)
_submit_refusals = Refusals(codes.Approvals, codes.Certification, codes.FourEyesCommands)


def _when(ns: int | None) -> str | None:
    return None if ns is None else rfc3339(ns)


def _domain_out(d: Domain) -> DomainOut:
    return DomainOut(id=d.id, domain=d.domain, token=d.token, verified_at=_when(d.verified_at),
                     checked_at=_when(d.checked_at), check_error=d.check_error)


def _application_out(a: Application) -> ApplicationOut:
    return ApplicationOut(merchant_id=a.merchant_id, status=a.status,
                          legal_name=a.details.legal_name,
                          registration_number=a.details.registration_number,
                          address=a.details.address, contact_email=a.details.contact_email,
                          domains=[_domain_out(d) for d in a.domains],
                          submitted_at=rfc3339(a.submitted_at), decided_at=_when(a.decided_at),
                          reason=a.reason)


def _certificate_out(c: Certificate) -> CertificateOut:
    return CertificateOut(serial=c.serial, status=c.status, fingerprint=c.fingerprint,
                          not_before=rfc3339(c.not_before), not_after=rfc3339(c.not_after),
                          suspended_at=_when(c.suspended_at), revoked_at=_when(c.revoked_at),
                          reason=c.reason, pem=c.pem)


def _entry_out(e: Entry) -> RegistryEntryOut:
    return RegistryEntryOut(merchant_id=e.merchant_id, legal_name=e.legal_name,
                            domains=list(e.domains), status=e.status,
                            certificate=_certificate_out(e.certificate))


def _own_merchant(principal: Principal) -> str:
    if principal.kind is not Kind.MERCHANT or principal.owner is None:
        raise Problem(codes.Edge.NOT_FOUND, "this caller acts for no merchant")
    return principal.owner


def _authorize(platform: Platform, principal: Principal, access: Access,
               merchant_id: str) -> None:
    platform.guard.authorize(principal, Resource.CERTIFICATION, access, owner=merchant_id,
                             object_id=merchant_id)


def _staff(platform: Platform, principal: Principal, merchant_id: str) -> None:
    _authorize(platform, principal, Access.MODIFY, merchant_id)
    if principal.kind is not Kind.STAFF:  # the policy grants merchants no modify; belt and braces
        raise Problem(codes.Edge.FORBIDDEN, "only staff decide on certification")


# -- applying and verifying: the merchant, or staff on its behalf ---------------------------

def _apply(platform: Platform, cert: Certification, principal: Principal, merchant_id: str,
           body: ApplicationIn) -> ApplicationOut:
    _authorize(platform, principal, Access.WRITE, merchant_id)
    details = BusinessDetails(legal_name=body.legal_name,
                              registration_number=body.registration_number,
                              address=body.address, contact_email=body.contact_email)
    with _refusals():
        return _application_out(cert.apply(merchant_id, details, body.domains,
                                           actor=principal.actor))


def _read(platform: Platform, cert: Certification, principal: Principal,
          merchant_id: str) -> ApplicationOut:
    _authorize(platform, principal, Access.READ, merchant_id)
    found = cert.application(merchant_id)
    if found is None:
        raise Problem(codes.Edge.NOT_FOUND, "no application")
    return _application_out(found)


def _verify(platform: Platform, cert: Certification, principal: Principal, merchant_id: str,
            domain: str) -> DomainOut:
    _authorize(platform, principal, Access.WRITE, merchant_id)
    with _refusals():
        return _domain_out(cert.verify_domain(merchant_id, domain, actor=principal.actor))


@router.post("/v1/merchants/me/application", status_code=201, response_model=ApplicationOut)
def apply_own(body: ApplicationIn, platform: PlatformDep, cert: CertificationDep,
              principal: CurrentPrincipal) -> ApplicationOut:
    """Apply for certification.

    The merchant sends its business details and domains; the answer holds a token per domain, to
    publish at `https://DOMAIN/.well-known/paywarden-verification`.
    """
    return _apply(platform, cert, principal, _own_merchant(principal), body)


@router.get("/v1/merchants/me/application", response_model=ApplicationOut)
def read_own(platform: PlatformDep, cert: CertificationDep,
             principal: CurrentPrincipal) -> ApplicationOut:
    """Read my certification application.

    The application, its domains, their tokens and whether each is verified.
    """
    return _read(platform, cert, principal, _own_merchant(principal))


@router.post("/v1/merchants/me/domains/{domain}/verify", response_model=DomainOut)
def verify_own(domain: DomainName, platform: PlatformDep, cert: CertificationDep,
               principal: CurrentPrincipal) -> DomainOut:
    """Verify a domain.

    PayWarden fetches `https://DOMAIN/.well-known/paywarden-verification` and checks the token.
    """
    return _verify(platform, cert, principal, _own_merchant(principal), domain)


@router.post("/v1/merchants/{merchant_id}/application", status_code=201,
             response_model=ApplicationOut)
def apply_for(merchant_id: MerchantId, body: ApplicationIn, platform: PlatformDep,
              cert: CertificationDep, principal: CurrentPrincipal) -> ApplicationOut:
    """Apply for certification for a merchant.

    Staff apply on a merchant's behalf.
    """
    return _apply(platform, cert, principal, merchant_id, body)


@router.get("/v1/merchants/{merchant_id}/application", response_model=ApplicationOut)
def read_for(merchant_id: MerchantId, platform: PlatformDep, cert: CertificationDep,
             principal: CurrentPrincipal) -> ApplicationOut:
    """Read a merchant's application.

    Staff read a merchant's application.
    """
    return _read(platform, cert, principal, merchant_id)


@router.post("/v1/merchants/{merchant_id}/domains/{domain}/verify", response_model=DomainOut)
def verify_for(merchant_id: MerchantId, domain: DomainName, platform: PlatformDep,
               cert: CertificationDep, principal: CurrentPrincipal) -> DomainOut:
    """Verify a merchant's domain.

    Staff verify a domain on a merchant's behalf.
    """
    return _verify(platform, cert, principal, merchant_id, domain)


# -- staff decisions ---------------------------------------------------------------------------

_DECIDE = "/v1/merchants/{merchant_id}/certification"


@router.post(_DECIDE + "/approve", status_code=201, response_model=CertificateOut)
def approve(merchant_id: MerchantId, platform: PlatformDep, cert: CertificationDep,
            principal: CurrentPrincipal) -> CertificateOut:
    """Approve certification.

    Staff approve a verified application: an X.509 certificate is issued and the merchant enters
    the public registry.
    """
    _staff(platform, principal, merchant_id)
    with _refusals():
        return _certificate_out(cert.approve(merchant_id, actor=principal.actor))


@router.post(_DECIDE + "/reject", response_model=ApplicationOut)
def reject(merchant_id: MerchantId, body: ReasonIn, platform: PlatformDep,
           cert: CertificationDep, principal: CurrentPrincipal) -> ApplicationOut:
    """Reject an application.

    Staff reject an application, with a reason.
    """
    _staff(platform, principal, merchant_id)
    with _refusals():
        return _application_out(cert.reject(merchant_id, reason=body.reason,
                                            actor=principal.actor))


@router.post(_DECIDE + "/suspend", response_model=CertificateOut)
def suspend(merchant_id: MerchantId, platform: PlatformDep, cert: CertificationDep,
            principal: CurrentPrincipal) -> CertificateOut:
    """Suspend a certificate.

    The merchant leaves the active registry until reinstated.
    """
    _staff(platform, principal, merchant_id)
    with _refusals():
        return _certificate_out(cert.suspend(merchant_id, actor=principal.actor))


@router.post(_DECIDE + "/reinstate", status_code=202,
             responses={202: {"description": "The reinstatement, waiting for a second "
                              "member of staff (the body names the approval)"}})
def reinstate(merchant_id: MerchantId, platform: PlatformDep,
              principal: CurrentPrincipal) -> JSONResponse:
    """Reinstate a certificate.

    Lift a certificate's suspension: a four-eyes command (it re-opens selling, decision
    0044). 202 with the approval's id; the certificate stays suspended until another
    merchant_admin approves it."""
    _staff(platform, principal, merchant_id)
    with _submit_refusals():
        made = platform.approvals.submit(principal, "merchant_reinstatement",
                                         {"merchant_id": merchant_id, "what": CERTIFICATE})
    return submitted(made)


@router.post(_DECIDE + "/revoke", response_model=CertificateOut)
def revoke(merchant_id: MerchantId, body: ReasonIn, platform: PlatformDep,
           cert: CertificationDep, principal: CurrentPrincipal) -> CertificateOut:
    """Revoke a certificate.

    The certificate is revoked for good and appears in the CRL.
    """
    _staff(platform, principal, merchant_id)
    with _refusals():
        return _certificate_out(cert.revoke(merchant_id, reason=body.reason,
                                            actor=principal.actor))


# -- the public registry -----------------------------------------------------------------------

_PUBLIC = {"Cache-Control": f"public, max-age={REGISTRY_MAX_AGE_S}",
           "Access-Control-Allow-Origin": "*"}


@router.get("/v1/registry/merchants", response_model=RegistryPage)
def registry(cert: CertificationDep, response: Response,
             after: Annotated[str | None, Query(pattern=r"^mer_[0-9a-f]{16}$")] = None,
             limit: Annotated[int, Query(ge=1, le=100)] = 100) -> RegistryPage:
    """List the merchant registry.

    Every certified merchant: legal name, verified domains, status and certificate. Public; cursor-
    paginated with `after`.
    """
    entries = cert.registry(after=after, limit=limit)
    response.headers.update(_PUBLIC)
    return RegistryPage(data=[_entry_out(e) for e in entries],
                        next_after=entries[-1].merchant_id if len(entries) == limit else None)


@router.get("/v1/registry/merchants/{merchant_id}", response_model=RegistryEntryOut)
def registry_entry(merchant_id: MerchantId, cert: CertificationDep,
                   response: Response) -> RegistryEntryOut:
    """Read a registry entry.

    One certified merchant. Public.
    """
    found = cert.registry_entry(merchant_id)
    if found is None:
        raise Problem(codes.Edge.NOT_FOUND, "no certified merchant with this id")
    response.headers.update(_PUBLIC)
    return _entry_out(found)


@router.get("/v1/registry/revocations", response_model=RevocationsOut)
def revocations(cert: CertificationDep, response: Response) -> RevocationsOut:
    """List revoked certificates.

    Revoked and suspended certificates, and the CRL in PEM. Public.
    """
    crl = cert.crl().public_bytes(serialization.Encoding.PEM).decode()
    data = [RevocationOut(serial=c.serial, merchant_id=c.merchant_id, status=c.status,
                          reason=c.reason,
                          revoked_at=rfc3339(c.revoked_at or c.suspended_at or 0))
            for c in cert.revocations()]
    response.headers.update(_PUBLIC)
    return RevocationsOut(data=data, crl=crl)


class _CrlResponse(Response):
    media_type = CRL_TYPE


class _PemResponse(Response):
    media_type = PEM_TYPE


# The document names the media types these send, not application/json.
@router.get("/v1/registry/revocations.crl", response_class=_CrlResponse)
def crl(cert: CertificationDep) -> Response:
    """Certificate revocation list (DER).

    The CRL signed by the platform CA. Public.
    """
    return _CrlResponse(cert.crl().public_bytes(serialization.Encoding.DER), headers=_PUBLIC)


@router.get("/v1/registry/ca.pem", response_class=_PemResponse)
def ca_pem(cert: CertificationDep) -> Response:
    """The platform CA certificate.

    The CA that issues merchant certificates, in PEM. Public.
    """
    return _PemResponse(cert.ca().pem, headers=_PUBLIC)
