"""The escrow flow driven: create a checkout, pay from the funded wallet, ship, confirm.

The one module that speaks the payments API, through the service layer and over
HTTP, so a change to that API is adapted here alone. Each flow has an order
reference of its own (a checkout is unique per merchant and ``order_ref``).
Every transition is timed as one; the buyer's step-up ceremony before paying
is timed beside them, not as a transition. A client's flows take its buyers in turn
(parties.py says why).
"""

from __future__ import annotations

import itertools
import secrets
from typing import Any

import httpx

from ...bootstrap import Platform
from ...client import PayWardenClient
from ...domain.escrow import ConfirmReceipt, EscrowTerms, PartyRole, Pay, Ship, State
from ...domain.money import Money
from ...services.payments import Party
from .load import Recorder, Unit
from .parties import CURRENCY, REQUEST_TIMEOUT_S, Shopper, SignedInBuyer, Unexpected, answered

PRICE = Money(25_00, CURRENCY)
TERMS = EscrowTerms(days_to_ship=5, release_after_days=14)
CARRIER = "Bench Post"


def _order_ref() -> str:
    return "bench-" + secrets.token_hex(8)


def _items() -> list[dict[str, Any]]:
    return [{"name": "Bench teapot", "quantity": 1, "unit_amount": PRICE.amount_minor}]


def service_flow(platform: Platform, shopper: Shopper) -> Unit:
    payments = platform.payments
    merchant = Party(PartyRole.MERCHANT, shopper.merchant_id)
    turns = itertools.cycle(shopper.buyers)

    def flow(rec: Recorder) -> None:
        paying = next(turns)
        buyer = Party(PartyRole.BUYER, paying.id)
        ref = _order_ref()
        made = rec.transition("checkout", lambda: payments.create_checkout(
            merchant_id=shopper.merchant_id, order_ref=ref, items=_items(), amount=PRICE,
            return_url=f"https://{shopper.domain}/thanks", terms=TERMS,
            actor=shopper.merchant_id))
        pid = made.payment_id
        rec.transition("pay", lambda: payments.apply(pid, Pay(PRICE), party=buyer,
                                                     funding=paying.wallet, method="wallet"))
        rec.transition("ship", lambda: payments.apply(pid, Ship(CARRIER, ref), party=merchant))
        done = rec.transition("confirm", lambda: payments.apply(pid, ConfirmReceipt(),
                                                                party=buyer))
        if done.escrow.state is not State.RELEASED:
            raise Unexpected(f"payment {pid} ended {done.escrow.state}, not released")

    return flow


def http_flow(base_url: str, shopper: Shopper,
              buyers: list[SignedInBuyer]) -> tuple[Unit, list[Any]]:
    """The flow over HTTP, and what to close after the run (the client's connections).

    Merchant requests are signed by the SDK (RFC 9421), never retried, so every
    failure is counted; each buyer sends its session as a bearer token.
    """
    sdk = PayWardenClient(base_url, shopper.key_id, shopper.key, timeout_s=REQUEST_TIMEOUT_S,
                          retries_max=0)
    http = httpx.Client(base_url=base_url, timeout=REQUEST_TIMEOUT_S)
    turns = itertools.cycle(buyers)

    def flow(rec: Recorder) -> None:
        buyer = next(turns)
        bearer = {"Authorization": f"Bearer {buyer.token}"}
        ref = _order_ref()
        session = rec.transition("checkout", lambda: sdk.request(
            "POST", "/v1/checkout/sessions", json={
                "order_ref": ref, "items": _items(), "amount": PRICE.amount_minor,
                "currency": PRICE.currency, "return_url": f"https://{shopper.domain}/thanks",
                "escrow": {"days_to_ship": TERMS.days_to_ship,
                           "release_after_days": TERMS.release_after_days}}))
        pid = session["payment_id"]
        evidence = rec.aside("step_up", lambda: _step_up(http, buyer, shopper, pid))
        rec.transition("pay", lambda: answered(http.post(
            f"/v1/checkout/sessions/{session['id']}/pay", headers=bearer,
            json={"method": "wallet", "evidence_id": evidence})))
        rec.transition("ship", lambda: sdk.request(
            "POST", f"/v1/payments/{pid}/shipments", json={"carrier": CARRIER, "tracking": ref}))
        done = rec.transition("confirm", lambda: answered(
            http.post(f"/v1/payments/{pid}/confirm", headers=bearer)))
        if done["state"] != str(State.RELEASED):
            raise Unexpected(f"payment {pid} ended {done['state']}, not released")

    return flow, [sdk, http]


def _step_up(http: httpx.Client, buyer: SignedInBuyer, shopper: Shopper, payment_id: str) -> str:
    """The buyer's passkey confirms exactly this order: the evidence the payment consumes."""
    bearer = {"Authorization": f"Bearer {buyer.token}"}
    options = answered(http.post("/v1/auth/step-up/options", headers=bearer, json={
        "type": "payment", "amount": PRICE.amount_minor, "currency": PRICE.currency,
        "payee": shopper.merchant_id, "reference": payment_id}))
    verified = answered(http.post("/v1/auth/step-up/verify", headers=bearer, json={
        "ceremony_id": options["ceremony_id"],
        "credential": buyer.authenticator.get(options["options"])}))
    return str(verified["evidence_id"])
