"""Who takes part: per client, a certified merchant with its signing key and a buyer with a
funded wallet (set up through the services, as an operator would); over HTTP the buyer
then registers a passkey and signs in with it, as a browser would.
"""

from __future__ import annotations

import contextlib
import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from ...adapters.store import open_database
from ...bootstrap import Platform, build
from ...domain.identity import Kind
from ...domain.ledger import Transfer, TransferResult
from ...domain.ledger.chart import AccountKind
from ...services.certification import BusinessDetails
from ...services.identity.users import create_user
from ...services.ledger.accounts import AccountRef, ensure, platform_account
from ...settings import Settings
from ...testing.authenticator import SoftAuthenticator

ACTOR = "cli:bench"
CURRENCY = "EUR"
WALLET_MINOR = 10**12  # never the reason a flow fails, however long the run
REQUEST_TIMEOUT_S = 60.0


@dataclass(frozen=True)
class Shopper:
    """One client's parties: the merchant it sells as and the buyer it pays as."""

    merchant_id: str
    key_id: str
    key: Ed25519PrivateKey
    domain: str
    buyer_id: str
    buyer_username: str
    wallet: AccountRef


@contextlib.contextmanager
def operator_platform(url: str, data_dir: Path, public_url: str, rp_id: str
                      ) -> Iterator[Platform]:
    """The platform in this process, its schema made, to set the parties up as an
    operator would before the server starts; stopped and closed after the block."""
    data_dir.mkdir(parents=True, exist_ok=True, mode=0o700)  # as `paywarden init` makes it
    data_dir.chmod(0o700)
    database = open_database(url)
    database.migrate()
    platform = build(Settings(database_url=url, data_dir=data_dir, public_url=public_url,
                              webauthn_rp_id=rp_id), database=database)
    platform.start()
    try:
        yield platform
    finally:
        platform.stop()
        database.dispose()


def make_shoppers(platform: Platform, count: int) -> list[Shopper]:
    """``count`` merchants (certified, each on a domain of its own) and funded buyers."""
    if platform.queries.ledger_by_currency(CURRENCY) is None:
        platform.queries.create_ledger(CURRENCY, now_ns=platform.clock.now_ns())
    run = secrets.token_hex(4)
    shoppers = [_shopper(platform, f"{run}-{i}") for i in range(count)]
    clearing = platform_account(AccountKind.BANK_CLEARING, CURRENCY)
    ensure(platform.engine, [clearing, *(s.wallet for s in shoppers)])
    deposits = [Transfer(f"bench-deposit-{s.buyer_id}", clearing.id, s.wallet.id, WALLET_MINOR,
                         s.wallet.ledger, 1) for s in shoppers]
    results = platform.engine.execute(deposits)
    if any(r is not TransferResult.OK for r in results):
        raise RuntimeError(f"the buyers' deposits failed: {sorted({str(r) for r in results})}")
    return shoppers


def _shopper(platform: Platform, tag: str) -> Shopper:
    key = Ed25519PrivateKey.generate()
    raw = key.public_key().public_bytes(serialization.Encoding.Raw,
                                        serialization.PublicFormat.Raw)
    made = platform.merchants.create(name=f"Bench Shop {tag}", public_key=raw, actor=ACTOR)
    domain = f"shop-{tag}.bench.example"
    certification = platform.certification
    certification.apply(made.merchant.id, BusinessDetails(
        legal_name=f"Bench Shop {tag} Ltd", registration_number=f"BENCH-{tag}",
        address="1 Bench Street", contact_email=f"owner@{domain}"), [domain], actor=ACTOR)
    certification.attest_domain(made.merchant.id, domain, actor=ACTOR)
    certification.approve(made.merchant.id, actor=ACTOR)
    username = f"bench-buyer-{tag}"
    with platform.database.engine.begin() as conn:
        buyer = create_user(conn, keys=platform.keys, kind=Kind.CUSTOMER, username=username,
                            display_name="Bench Buyer", roles=frozenset({"customer"}),
                            now_ns=platform.clock.now_ns())
    return Shopper(made.merchant.id, made.key_id, key, domain, buyer.id, username,
                   AccountRef(AccountKind.WALLET, buyer.id, CURRENCY))


def enrolment_token(platform: Platform, shopper: Shopper) -> str:
    """A session as sign-up issues it: good only for registering a first passkey."""
    with platform.database.engine.begin() as conn:
        return platform.sessions.start(conn, kind=Kind.CUSTOMER, user_id=shopper.buyer_id,
                                       owner=shopper.buyer_id, roles=frozenset(),
                                       auth_methods=frozenset({"enrolment"})).token


@dataclass(frozen=True)
class SignedInBuyer:
    token: str
    authenticator: SoftAuthenticator


def passkey_sign_in(base_url: str, rp_id: str, shopper: Shopper,
                    enrolment: str) -> SignedInBuyer:
    """Register a passkey with the enrolment session, then sign in with it (over HTTP)."""
    authenticator = SoftAuthenticator(rp_id=rp_id, origin=base_url)
    with httpx.Client(base_url=base_url, timeout=REQUEST_TIMEOUT_S) as http:
        auth = {"Authorization": f"Bearer {enrolment}"}
        options = answered(http.post("/v1/auth/passkeys/register/options", headers=auth))
        answered(http.post("/v1/auth/passkeys/register/verify", headers=auth, json={
            "ceremony_id": options["ceremony_id"],
            "credential": authenticator.create(options["options"])}))
        options = answered(http.post("/v1/auth/passkeys/signin/options",
                                     json={"username": shopper.buyer_username}))
        signed_in = answered(http.post("/v1/auth/passkeys/signin/verify", json={
            "ceremony_id": options["ceremony_id"],
            "credential": authenticator.get(options["options"])}))
    return SignedInBuyer(signed_in["token"], authenticator)


class Unexpected(Exception):
    """An answer other than the flow expects: a measured error, not a crash."""


def answered(response: httpx.Response) -> dict[str, Any]:
    """The JSON of a successful answer; any other answer raises :class:`Unexpected`."""
    if response.status_code >= 300:
        raise Unexpected(f"{response.request.method} {response.request.url.path}: "
                         f"{response.status_code} {_code(response)}")
    return response.json()  # type: ignore[no-any-return]


def _code(response: httpx.Response) -> str:
    """The problem's ``code``, else the start of the body."""
    try:
        return str(response.json()["code"])
    except (ValueError, KeyError, TypeError):
        return response.text[:120]
