"""Merchant certification end to end: apply, verify domains over HTTP, approve, the
certificate and its CA, suspension and revocation in the registry and the CRL, and the
checks the checkout relies on."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.x509.oid import NameOID
from fastapi.testclient import TestClient
from sqlalchemy import select

from paywarden.adapters.clock import FakeClock
from paywarden.adapters.store import Database
from paywarden.adapters.store.schema import audit_entries, merchant_applications, merchants
from paywarden.api import create_app
from paywarden.domain.errors import DomainError
from paywarden.services.certification import check_can_sell
from tests.support.approvals import decide, maker_and_checker
from tests.support.merchants import (
    Creds,
    client_for,
    code_of,
    make_merchant,
    new_key,
    platform_for,
    public_pem,
    signed,
)
from tests.support.platform import platform_of, staff_token
from tests.support.sites import Site, local_site

WELL_KNOWN = "/.well-known/paywarden-verification"
DETAILS = {"legal_name": "Fine Goods Ltd", "registration_number": "HRB 12345",
           "address": "1 Market Street, Springfield", "contact_email": "owner@fine.example"}


@pytest.fixture
def site() -> Iterator[Site]:
    with local_site() as found:
        yield found


@pytest.fixture
def api(database: Database, clock: FakeClock, tmp_path: Path, site: Site) -> Iterator[TestClient]:
    platform = platform_for(database, clock, tmp_path, domain_verification_scheme="http",
                            domain_verification_port=site.port,
                            domain_verification_allow_private=True)
    with client_for(create_app(platform)) as client:
        yield client


@pytest.fixture
def shop(api: TestClient) -> Creds:
    return make_merchant(platform_of(api), "Shop")


def _staff(api: TestClient, role: str = "merchant_admin") -> dict[str, str]:
    return {"Authorization": f"Bearer {staff_token(platform_of(api), role)}",
            "Idempotency-Key": os.urandom(8).hex()}


def _apply(api: TestClient, shop: Creds, domains: list[str] | None = None) -> dict[str, Any]:
    body = json.dumps({**DETAILS, "domains": domains or ["localhost"]}).encode()
    response = signed(api, shop, "POST", "/v1/merchants/me/application", body)
    assert response.status_code == 201, response.text
    return response.json()  # type: ignore[no-any-return]


def _verify(api: TestClient, shop: Creds, domain: str = "localhost") -> Any:
    return signed(api, shop, "POST", f"/v1/merchants/me/domains/{domain}/verify")


def _certify(api: TestClient, shop: Creds, site: Site) -> dict[str, Any]:
    application = _apply(api, shop)
    site.serve(WELL_KNOWN, application["domains"][0]["token"].encode() + b"\n")
    assert _verify(api, shop).status_code == 200
    approved = api.post(f"/v1/merchants/{shop.merchant_id}/certification/approve",
                        headers=_staff(api))
    assert approved.status_code == 201, approved.text
    return approved.json()  # type: ignore[no-any-return]


def _actions(api: TestClient) -> list[str]:
    with platform_of(api).database.engine.connect() as conn:
        return [r.action for r in conn.execute(select(audit_entries.c.action)
                                               .order_by(audit_entries.c.seq))]


def test_a_merchant_applies_verifies_its_domain_and_is_certified(
        api: TestClient, shop: Creds, site: Site) -> None:
    application = _apply(api, shop)
    assert application["status"] == "submitted"
    assert application["legal_name"] == DETAILS["legal_name"]
    [domain] = application["domains"]
    assert domain["domain"] == "localhost" and domain["verified_at"] is None
    assert domain["token"].startswith("pwv_")
    site.serve(WELL_KNOWN, domain["token"].encode())
    verified = _verify(api, shop)
    assert verified.status_code == 200, verified.text
    assert verified.json()["verified_at"] is not None
    assert site.hosts[-1] == f"localhost:{site.port}"

    issued = _certify_approve(api, shop)
    ca = x509.load_pem_x509_certificate(api.get("/v1/registry/ca.pem").content)
    cert = x509.load_pem_x509_certificate(issued["pem"].encode())
    cert.verify_directly_issued_by(ca)
    assert ca.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    assert cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca is False
    raw = cert.public_key().public_bytes(serialization.Encoding.Raw,
                                         serialization.PublicFormat.Raw)
    assert raw == shop.key.public_key().public_bytes(serialization.Encoding.Raw,
                                                     serialization.PublicFormat.Raw)
    san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert san.get_values_for_type(x509.DNSName) == ["localhost"]
    assert san.get_values_for_type(x509.UniformResourceIdentifier) == [
        f"urn:paywarden:merchant:{shop.merchant_id}"]
    subject = cert.subject
    assert subject.get_attributes_for_oid(NameOID.ORGANIZATION_NAME)[0].value == \
        DETAILS["legal_name"]
    assert subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value == shop.merchant_id
    assert format(cert.serial_number, "x") == issued["serial"]

    entry = api.get(f"/v1/registry/merchants/{shop.merchant_id}").json()
    assert entry["status"] == "active" and entry["domains"] == ["localhost"]
    assert entry["legal_name"] == DETAILS["legal_name"]
    assert entry["certificate"]["fingerprint"] == issued["fingerprint"]
    listed = api.get("/v1/registry/merchants").json()["data"]
    assert [e["merchant_id"] for e in listed] == [shop.merchant_id]
    assert "registration_number" not in entry and "contact_email" not in json.dumps(listed)

    sells = platform_of(api).certification.check_can_sell(shop.merchant_id,
                           f"http://localhost:{site.port}/thanks?order=1")
    assert sells.legal_name == DETAILS["legal_name"] and sells.domains == ("localhost",)
    actions = _actions(api)
    for action in ("certification.apply", "certification.domain.verify",
                   "certification.ca.create", "certification.approve"):
        assert action in actions


def _certify_approve(api: TestClient, shop: Creds) -> dict[str, Any]:
    approved = api.post(f"/v1/merchants/{shop.merchant_id}/certification/approve",
                        headers=_staff(api))
    assert approved.status_code == 201, approved.text
    return approved.json()  # type: ignore[no-any-return]


def test_business_details_are_sealed_at_rest(api: TestClient, shop: Creds) -> None:
    _apply(api, shop)
    with platform_of(api).database.engine.connect() as conn:
        row = conn.execute(select(merchant_applications)).mappings().one()
    stored = b"".join(v if isinstance(v, bytes) else str(v).encode() for v in row.values())
    for value in DETAILS.values():
        assert value.encode() not in stored
    own = signed(api, shop, "GET", "/v1/merchants/me/application").json()
    assert own["contact_email"] == DETAILS["contact_email"]


def test_a_wrong_token_is_refused_and_the_domain_stays_unverified(
        api: TestClient, shop: Creds, site: Site) -> None:
    _apply(api, shop)
    site.serve(WELL_KNOWN, b"pwv_not-the-token")
    refused = _verify(api, shop)
    assert refused.status_code == 422 and code_of(refused) == "domain_token_mismatch"
    application = signed(api, shop, "GET", "/v1/merchants/me/application").json()
    assert application["domains"][0]["verified_at"] is None
    assert application["domains"][0]["check_error"] == "domain_token_mismatch"
    blocked = api.post(f"/v1/merchants/{shop.merchant_id}/certification/approve",
                       headers=_staff(api))
    assert blocked.status_code == 409 and code_of(blocked) == "domains_not_verified"


def test_a_redirect_or_an_oversized_answer_is_refused(api: TestClient, shop: Creds,
                                                     site: Site) -> None:
    _apply(api, shop)
    site.serve(WELL_KNOWN, b"", status=302, headers={"Location": "http://169.254.169.254/"})
    assert code_of(_verify(api, shop)) == "domain_redirect_refused"
    site.serve(WELL_KNOWN, b"x" * 5_000)
    assert code_of(_verify(api, shop)) == "domain_body_too_large"
    site.serve(WELL_KNOWN, b"gone", status=404)
    assert code_of(_verify(api, shop)) == "domain_unreachable"


def test_approval_needs_every_domain_verified(api: TestClient, shop: Creds, site: Site) -> None:
    application = _apply(api, shop, ["localhost", "127.0.0.1"])
    token = next(d["token"] for d in application["domains"] if d["domain"] == "localhost")
    site.serve(WELL_KNOWN, token.encode())
    assert _verify(api, shop).status_code == 200
    refused = api.post(f"/v1/merchants/{shop.merchant_id}/certification/approve",
                       headers=_staff(api))
    assert refused.status_code == 409 and code_of(refused) == "domains_not_verified"
    assert api.get(f"/v1/registry/merchants/{shop.merchant_id}").status_code == 404
    with pytest.raises(DomainError) as caught:
        platform_of(api).certification.check_can_sell(shop.merchant_id, "http://localhost/")
    assert caught.value.code == "merchant_not_certified"


def test_suspension_and_revocation_are_published_and_stop_the_merchant(
        api: TestClient, shop: Creds, site: Site) -> None:
    issued = _certify(api, shop, site)
    platform = platform_of(api)
    suspended = api.post(f"/v1/merchants/{shop.merchant_id}/certification/suspend",
                         headers=_staff(api))
    assert suspended.status_code == 200 and suspended.json()["status"] == "suspended"
    assert api.get(f"/v1/registry/merchants/{shop.merchant_id}").json()["status"] == \
        "suspended"
    with pytest.raises(DomainError) as caught:
        platform.certification.check_can_sell(shop.merchant_id, "http://localhost/")
    assert caught.value.code == "merchant_suspended"
    revocations = api.get("/v1/registry/revocations").json()
    assert [(r["serial"], r["status"]) for r in revocations["data"]] == [
        (issued["serial"], "suspended")]
    crl = x509.load_pem_x509_crl(revocations["crl"].encode())
    entry = crl.get_revoked_certificate_by_serial_number(int(issued["serial"], 16))
    assert entry is not None
    assert entry.extensions.get_extension_for_class(x509.CRLReason).value.reason == \
        x509.ReasonFlags.certificate_hold

    maker, checker = maker_and_checker(api, "merchant_admin")
    asked = api.post(f"/v1/merchants/{shop.merchant_id}/certification/reinstate",
                     headers=maker.headers)
    assert asked.status_code == 202, asked.text  # a four-eyes command (decision 0044)
    with pytest.raises(DomainError):
        platform.certification.check_can_sell(shop.merchant_id, "http://localhost/")
    own = decide(api, maker, asked.json()["approval"])
    assert own.status_code == 403 and own.json()["code"] == "four_eyes_required"
    reinstated = decide(api, checker, asked.json()["approval"])
    assert reinstated.status_code == 200 and reinstated.json()["state"] == "executed"
    assert reinstated.json()["result"]["certificate"] == "active"
    assert platform.certification.check_can_sell(shop.merchant_id).serial == issued["serial"]

    revoked = api.post(f"/v1/merchants/{shop.merchant_id}/certification/revoke",
                       json={"reason": "key_compromise"}, headers=_staff(api))
    assert revoked.status_code == 200 and revoked.json()["status"] == "revoked"
    assert api.get(f"/v1/registry/merchants/{shop.merchant_id}").json()["status"] == "revoked"
    der = api.get("/v1/registry/revocations.crl")
    assert der.headers["content-type"] == "application/pkix-crl"
    crl = x509.load_der_x509_crl(der.content)
    ca = x509.load_pem_x509_certificate(api.get("/v1/registry/ca.pem").content)
    assert crl.is_signature_valid(ca.public_key())  # type: ignore[arg-type]
    entry = crl.get_revoked_certificate_by_serial_number(int(issued["serial"], 16))
    assert entry is not None
    assert entry.extensions.get_extension_for_class(x509.CRLReason).value.reason == \
        x509.ReasonFlags.key_compromise
    with pytest.raises(DomainError) as caught:
        platform.certification.check_can_sell(shop.merchant_id, "http://localhost/")
    assert caught.value.code == "merchant_revoked"
    with platform.database.engine.connect() as conn:
        assert conn.execute(select(merchants.c.status).where(
            merchants.c.id == shop.merchant_id)).scalar_one() == "revoked"
    again = api.post(f"/v1/merchants/{shop.merchant_id}/certification/revoke",
                     json={"reason": "key_compromise"}, headers=_staff(api))
    assert again.status_code == 409
    for action in ("certification.suspend", "certification.reinstate", "certification.revoke"):
        assert action in _actions(api)


def test_a_return_url_off_the_verified_domains_is_refused(api: TestClient, shop: Creds,
                                                         site: Site) -> None:
    _certify(api, shop, site)
    platform = platform_of(api)
    for url in ("http://evil.example/", "http://localhost.evil.example/",
                "http://evil.example@localhost/", "ftp://localhost/", "javascript:alert(1)",
                "http://sub.localhost/"):
        with pytest.raises(DomainError) as caught:
            platform.certification.check_can_sell(shop.merchant_id, url)
        assert caught.value.code == "return_url_off_domain", url
    with platform.database.engine.connect() as conn:  # verified over https: https only
        with pytest.raises(DomainError) as caught:
            check_can_sell(conn, shop.merchant_id, "http://localhost/", allow_private=True)
        assert caught.value.code == "return_url_off_domain"
        assert check_can_sell(conn, shop.merchant_id, "https://LOCALHOST./back",
                              allow_private=True).domains == ("localhost",)


def test_an_expired_certificate_no_longer_sells(api: TestClient, shop: Creds,
                                               site: Site) -> None:
    _certify(api, shop, site)
    platform = platform_of(api)
    platform.clock.advance(366 * 86_400)  # type: ignore[attr-defined]
    with pytest.raises(DomainError) as caught:
        platform.certification.check_can_sell(shop.merchant_id, "http://localhost/")
    assert caught.value.code == "merchant_not_certified"


def test_only_merchant_admins_decide(api: TestClient, shop: Creds, site: Site) -> None:
    _apply(api, shop)
    path = f"/v1/merchants/{shop.merchant_id}/certification/approve"
    assert signed(api, shop, "POST", path).status_code in (403, 404)
    for role in ("support", "operator", "supervisor"):
        assert api.post(path, headers=_staff(api, role)).status_code == 403, role
    other = make_merchant(platform_of(api), "Other")
    assert signed(api, other, "GET",
                  f"/v1/merchants/{shop.merchant_id}/application").status_code == 404
    assert "access.denied" in _actions(api)


def test_a_certified_merchant_cannot_apply_again_until_revoked(
        api: TestClient, shop: Creds, site: Site) -> None:
    _certify(api, shop, site)
    body = json.dumps({**DETAILS, "domains": ["localhost"]}).encode()
    refused = api.post(f"/v1/merchants/{shop.merchant_id}/application", content=body,
                       headers={**_staff(api), "Content-Type": "application/json"})
    assert refused.status_code == 409 and code_of(refused) == "already_certified"


def test_by_default_private_addresses_are_refused_before_any_request(
        database: Database, clock: FakeClock, tmp_path: Path, site: Site,
        monkeypatch: pytest.MonkeyPatch) -> None:
    platform = platform_for(database, clock, tmp_path, domain_verification_scheme="http",
                            domain_verification_port=site.port)
    with client_for(create_app(platform)) as api:
        shop = make_merchant(platform, "Shop")
        for domain in ("localhost", "127.0.0.1", "10.0.0.1"):
            body = json.dumps({**DETAILS, "domains": [domain]}).encode()
            refused = signed(api, shop, "POST", "/v1/merchants/me/application", body)
            assert code_of(refused) == "domain_invalid", domain
        application = _apply(api, shop, ["shop.example"])
        site.serve(WELL_KNOWN, application["domains"][0]["token"].encode())

        def resolves_privately(host: str, port: int, *args: Any, **kwargs: Any) -> Any:
            import socket
            return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("93.184.215.14", port)),
                    (socket.AF_INET, socket.SOCK_STREAM, 6, "", ("127.0.0.1", port))]

        monkeypatch.setattr("socket.getaddrinfo", resolves_privately)
        refused = _verify(api, shop, "shop.example")
        assert refused.status_code == 422 and code_of(refused) == "domain_address_refused"
        assert site.hosts == []


def test_the_cli_applies_attests_certifies_and_revokes(database_url: str,
                                                      tmp_path: Path) -> None:
    import subprocess
    import sys

    env = {**os.environ, "PAYWARDEN_DATABASE_URL": database_url,
           "PAYWARDEN_DATA_DIR": str(tmp_path)}

    def run(*args: str) -> Any:
        done = subprocess.run([sys.executable, "-m", "paywarden", *args], env=env,
                              check=False, capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, done.stderr
        return json.loads(done.stdout) if done.stdout.strip() else None

    run("init")
    pem = tmp_path / "shop.pem"
    pem.write_bytes(public_pem(new_key()))
    merchant_id = run("merchants", "create", "--name", "Shop", "--public-key", str(pem),
                      "--json")["merchant_id"]
    applied = run("merchants", "certification", "apply", merchant_id, "--legal-name",
                  "Fine Goods Ltd", "--registration-number", "HRB 1", "--address", "1 Road",
                  "--contact-email", "a@fine.example", "--domain", "fine.example")
    assert applied["domains"][0]["token"].startswith("pwv_")
    assert run("merchants", "certification", "verify", merchant_id, "fine.example",
               "--attest")["verified"] is True
    issued = run("merchants", "certify", merchant_id)
    assert issued["status"] == "active"
    revoked = run("merchants", "certification", "revoke", merchant_id, "--reason",
                  "cessation_of_operation")
    assert revoked["status"] == "revoked" and revoked["serial"] == issued["serial"]


def test_sealed_details_survive_a_data_key_rotation_and_rewrap(api: TestClient,
                                                              shop: Creds) -> None:
    _apply(api, shop)
    keys = platform_of(api).keys
    old = keys.current("data")[0]
    keys.rotate("data", actor="cli:test")
    assert keys.rewrap("merchant_applications", actor="cli:test").moved == 4  # one row
    keys.rewrap(actor="cli:test")  # the rest (stored idempotent answers)
    platform_of(api).clock.advance(keys.cache_ns / 1e9 + 1)  # type: ignore[attr-defined]
    keys.destroy(old.kid, actor="cli:test")
    own = signed(api, shop, "GET", "/v1/merchants/me/application").json()
    assert own["legal_name"] == DETAILS["legal_name"]


def test_two_staff_approving_at_once_issue_one_certificate(api: TestClient, shop: Creds,
                                                          site: Site) -> None:
    from concurrent.futures import ThreadPoolExecutor

    application = _apply(api, shop)
    site.serve(WELL_KNOWN, application["domains"][0]["token"].encode())
    assert _verify(api, shop).status_code == 200
    platform = platform_of(api)
    service = platform.certification
    service.ca()

    def approve(actor: str) -> str:
        try:
            return service.approve(shop.merchant_id, actor=actor).serial
        except DomainError as exc:
            return exc.code

    with ThreadPoolExecutor(4) as pool:
        outcomes = list(pool.map(approve, [f"usr_staff{i}" for i in range(4)]))
    assert outcomes.count("application_not_pending") == 3, outcomes
    with platform.database.engine.connect() as conn:
        from paywarden.adapters.store.schema import merchant_certificates
        assert conn.execute(select(merchant_certificates.c.serial)).scalars().all() == [
            o for o in outcomes if o != "application_not_pending"]
