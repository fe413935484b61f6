"""What the keyed-request tests against a real server share: a funded shop with paid
payments made in-process on the server's database, and signed requests sent raw (so a
test sees the status and the Idempotent-Replayed header)."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any

import httpx

from paywarden.bootstrap import Platform, build
from paywarden.client.signing import RequestSigner
from paywarden.domain.escrow import EscrowTerms, Pay
from paywarden.domain.ledger import Transfer, TransferResult
from paywarden.domain.money import Money
from paywarden.services.ledger.accounts import AccountRef, ensure, platform_account
from paywarden.services.payments import Party
from paywarden.settings import Settings

from ..support.certify import certify
from ..support.merchants import Creds, make_merchant
from .server import paywarden

EUR = "EUR"
BUYER = "usr_buyer"
PRICE_MINOR = 10_000
LEASE_S = 10  # the shortest the settings allow: a dead request's key is taken over then
RETRY_DEADLINE_S = 90
ORDER = {"items": [{"name": "Lamp", "quantity": 1, "unit_amount": PRICE_MINOR}],
         "amount": PRICE_MINOR, "currency": EUR, "return_url": "https://shop.example/done",
         "escrow": {"days_to_ship": 3, "release_after_days": 7}}


def server_env(database_url: str, data_dir: Path, port: int, **extra: str) -> dict[str, str]:
    return {**os.environ, "PAYWARDEN_DATABASE_URL": database_url,
            "PAYWARDEN_DATA_DIR": str(data_dir), "PAYWARDEN_LOG_JSON": "true",
            "PAYWARDEN_PUBLIC_URL": f"http://127.0.0.1:{port}",
            "PAYWARDEN_IDEMPOTENCY_LEASE_S": str(LEASE_S), **extra}


def paid_payments(env: dict[str, str], database_url: str, data_dir: Path,
                  count: int) -> tuple[Creds, list[str]]:
    """`paywarden init`, then a certified shop and ``count`` payments a buyer paid from a
    wallet, made through the service on the same database the servers will use."""
    paywarden(env, "init")
    platform = build(Settings(database_url=database_url, data_dir=data_dir))
    platform.start()
    try:
        platform.queries.create_ledger(EUR, now_ns=platform.clock.now_ns())
        shop = make_merchant(platform)
        certify(platform, shop.merchant_id)
        wallet = AccountRef("wallet", BUYER, EUR)
        if count:
            _fund(platform, wallet, PRICE_MINOR * count)
        paid = []
        for n in range(count):
            made = platform.payments.create_checkout(
                merchant_id=shop.merchant_id, order_ref=f"paid-{n}", items=ORDER["items"],
                amount=Money(PRICE_MINOR, EUR), return_url="https://shop.example/done",
                terms=EscrowTerms(3, 7), actor=shop.merchant_id)
            platform.payments.apply(made.payment_id, Pay(Money(PRICE_MINOR, EUR)),
                                    party=Party("buyer", BUYER), funding=wallet,
                                    method="wallet")
            paid.append(made.payment_id)
        return shop, paid
    finally:
        platform.stop()


def _fund(platform: Platform, wallet: AccountRef, amount: int) -> None:
    clearing = platform_account("bank_clearing", EUR)
    ensure(platform.engine, [wallet, clearing])
    assert platform.engine.execute([Transfer("deposit-1", clearing.id, wallet.id, amount,
                                             wallet.ledger, 1)]) == [TransferResult.OK]


def send(base: str, shop: Creds, method: str, path: str, body: dict[str, Any] | None = None,
         *, key: str | None = None) -> httpx.Response:
    """One signed request, no retries; a dead server raises httpx.TransportError."""
    content = b"" if body is None else json.dumps(body).encode()
    headers = {"Content-Type": "application/json"} if body is not None else {}
    if key is not None:
        headers["Idempotency-Key"] = key
    request = httpx.Request(method, base + path, content=content, headers=headers)
    RequestSigner(shop.key_id, shop.key).sign(request, created_s=time.time())
    with httpx.Client(timeout=60) as client:
        return client.send(request)


def send_until_done(base: str, shop: Creds, path: str, body: dict[str, Any], *,
                    key: str) -> httpx.Response:
    """Retry as a client does while its key is still held by a dead request's lease."""
    deadline = time.monotonic() + RETRY_DEADLINE_S
    while True:
        r = send(base, shop, "POST", path, body, key=key)
        if r.status_code != 409 or r.json()["code"] != "idempotency_in_progress" \
                or time.monotonic() > deadline:
            return r
        time.sleep(1)
