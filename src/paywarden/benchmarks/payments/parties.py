"""Who takes part: per client, a certified merchant with its signing key and a pool of buyers
with funded wallets (set up through the services, as an operator would); over HTTP each
buyer then registers a passkey and signs in with it, as a browser would.

A client's flows take its buyers in turn. A real payment day is many buyers paying a few
times each; one buyer paying hundreds of times a minute is what the risk engine's velocity
rule holds for review (``velocity_customer``: 10 pays in a minute, services/risk/rules.py),
and the benchmark measures the path of allowed payments. :func:`buyers_needed` sizes the
pool so that no buyer pays more than :data:`PAYS_PER_BUYER_MINUTE` times in a minute.
"""

from __future__ import annotations

import contextlib
import math
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
PAYS_PER_BUYER_MINUTE = 5  # half the velocity rule's 10: a pool's turn never trips it


def buyers_needed(*, seconds: float, warmup_flows: int, flows_s_max: float) -> int:
    """Buyers per client so that, at up to ``flows_s_max`` flows a second per client,
    none pays more than :data:`PAYS_PER_BUYER_MINUTE` times within a minute."""
    flows_in_a_minute = min(seconds, 60.0) * flows_s_max + warmup_flows
    return max(2, math.ceil(flows_in_a_minute / PAYS_PER_BUYER_MINUTE))


@dataclass(frozen=True)
class Buyer:
    id: str
    username: str
    wallet: AccountRef


@dataclass(frozen=True)
class Shopper:
    """One client's parties: the merchant it sells as and the buyers it pays as, in turn."""

    merchant_id: str
    key_id: str
    key: Ed25519PrivateKey
    domain: str
    buyers: tuple[Buyer, ...]


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


def make_shoppers(platform: Platform, count: int, *, buyers_each: int) -> list[Shopper]:
    """``count`` merchants (certified, each on a domain of its own), each with
    ``buyers_each`` buyers whose wallets are funded."""
    if platform.queries.ledger_by_currency(CURRENCY) is None:
        platform.queries.create_ledger(CURRENCY, now_ns=platform.clock.now_ns())
    run = secrets.token_hex(4)
    shoppers = [_shopper(platform, f"{run}-{i}", buyers_each) for i in range(count)]
    wallets = [b.wallet for s in shoppers for b in s.buyers]
    clearing = platform_account(AccountKind.BANK_CLEARING, CURRENCY)
    ensure(platform.engine, [clearing, *wallets])
    deposits = [Transfer(f"bench-deposit-{w.owner}", clearing.id, w.id, WALLET_MINOR,
                         w.ledger, 1) for w in wallets]
    results = platform.engine.execute(deposits)
    if any(r is not TransferResult.OK for r in results):
        raise RuntimeError(f"the buyers' deposits failed: {sorted({str(r) for r in results})}")
    return shoppers


def _shopper(platform: Platform, tag: str, buyers: int) -> Shopper:
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
    made_buyers = []
    with platform.database.engine.begin() as conn:
        for n in range(buyers):
            username = f"bench-buyer-{tag}-{n}"
            user = create_user(conn, keys=platform.keys, kind=Kind.CUSTOMER, username=username,
                               display_name="Bench Buyer", roles=frozenset({"customer"}),
                               now_ns=platform.clock.now_ns())
            made_buyers.append(Buyer(user.id, username,
                                     AccountRef(AccountKind.WALLET, user.id, CURRENCY)))
    return Shopper(made.merchant.id, made.key_id, key, domain, tuple(made_buyers))


def enrolment_token(platform: Platform, buyer: Buyer) -> str:
    """A session as sign-up issues it: good only for registering a first passkey."""
    with platform.database.engine.begin() as conn:
        return platform.sessions.start(conn, kind=Kind.CUSTOMER, user_id=buyer.id,
                                       owner=buyer.id, roles=frozenset(),
                                       auth_methods=frozenset({"enrolment"})).token


@dataclass(frozen=True)
class SignedInBuyer:
    token: str
    authenticator: SoftAuthenticator


def passkey_sign_in(base_url: str, rp_id: str, buyer: Buyer,
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
                                     json={"username": buyer.username}))
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
