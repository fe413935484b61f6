"""``paywarden merchants certification …`` and ``paywarden merchants certify``: on the server host.

    certification apply MER_ID --legal-name … --domain D [--domain D2]   prints the tokens
    certification verify MER_ID DOMAIN [--attest]   fetch the token; --attest: checked by hand
    certify MER_ID                                  approve: issue the certificate
    certification reject|suspend|reinstate|revoke MER_ID [--reason CODE]

Every command is recorded in the audit log as ``cli:<login>``.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Annotated, Any

import typer

from .common import operator_actor, submit_for_approval
from .merchants import _run, merchants_app

if TYPE_CHECKING:
    from ..bootstrap import Platform
    from ..services.certification import Certificate, Certification

certification_app = typer.Typer(help="Merchant certification: applications, domains, "
                                "certificates.", no_args_is_help=True)
merchants_app.add_typer(certification_app, name="certification")
MerchantArg = Annotated[str, typer.Argument(help="mer_…")]
Reason = Annotated[str, typer.Option(help="a code: a-z, 0-9, _")]


def _service(platform: Platform) -> Certification:
    return platform.certification


def _certificate(c: Certificate) -> dict[str, Any]:
    return {"merchant_id": c.merchant_id, "serial": c.serial, "status": c.status,
            "fingerprint": c.fingerprint, "reason": c.reason}


@certification_app.command("apply")
def apply(merchant_id: MerchantArg,
          legal_name: Annotated[str, typer.Option(help="≤ 64 characters")],
          registration_number: Annotated[str, typer.Option()],
          address: Annotated[str, typer.Option()],
          contact_email: Annotated[str, typer.Option()],
          domain: Annotated[list[str], typer.Option(help="repeat for each domain")]) -> None:
    """Apply on a merchant's behalf; prints each domain's verification token as JSON."""
    from ..services.certification import BusinessDetails

    details = BusinessDetails(legal_name=legal_name, registration_number=registration_number,
                              address=address, contact_email=contact_email)
    application = _run(lambda p: _service(p).apply(merchant_id, details, domain,
                                                   actor=operator_actor()))
    print(json.dumps({"merchant_id": merchant_id, "status": application.status,
                      "domains": [{"domain": d.domain, "token": d.token}
                                  for d in application.domains]}))


@certification_app.command("verify")
def verify(merchant_id: MerchantArg, domain: Annotated[str, typer.Argument()],
           attest: Annotated[bool, typer.Option(
               help="mark verified without fetching: you checked it some other way")] = False
           ) -> None:
    """Fetch the domain's token (or attest it), and mark the domain verified."""
    def run(p: Platform) -> Any:
        service = _service(p)
        if attest:
            return service.attest_domain(merchant_id, domain, actor=operator_actor())
        return service.verify_domain(merchant_id, domain, actor=operator_actor())

    found = _run(run)
    print(json.dumps({"domain": found.domain, "verified": found.verified}))


@merchants_app.command("certify")
def certify(merchant_id: MerchantArg) -> None:
    """Approve a merchant's application: the platform CA issues its certificate."""
    issued = _run(lambda p: _service(p).approve(merchant_id, actor=operator_actor()))
    print(json.dumps(_certificate(issued)))


@certification_app.command("reject")
def reject(merchant_id: MerchantArg, reason: Reason) -> None:
    """Reject a pending application."""
    _run(lambda p: _service(p).reject(merchant_id, reason=reason, actor=operator_actor()))
    print(json.dumps({"merchant_id": merchant_id, "status": "rejected"}))


@certification_app.command("suspend")
def suspend(merchant_id: MerchantArg) -> None:
    """Suspend the certificate (on hold in the CRL) and the merchant."""
    print(json.dumps(_certificate(_run(lambda p: _service(p).suspend(
        merchant_id, actor=operator_actor())))))


@certification_app.command("reinstate")
def reinstate(merchant_id: MerchantArg) -> None:
    """Submit lifting a suspension for approval (four eyes); prints the approval id."""
    submit_for_approval("merchant_admin", "merchant_reinstatement",
                        {"merchant_id": merchant_id, "what": "certificate"})


@certification_app.command("revoke")
def revoke(merchant_id: MerchantArg, reason: Reason = "unspecified") -> None:
    """Revoke the certificate for good (key_compromise, cessation_of_operation, …)."""
    print(json.dumps(_certificate(_run(lambda p: _service(p).revoke(
        merchant_id, reason=reason, actor=operator_actor())))))
