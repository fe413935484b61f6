"""The clients of the failover benchmark: they retry through a failover, as real ones do.

Every write is sent to one of the API processes; a refused connection, a timeout, a 502,
503 or 504 or a 409 ``idempotency_in_progress`` is sent again, *under the same id or
Idempotency-Key*, to the next process, after a short pause, until it is answered or
``GIVE_UP_S`` has passed. What a client saw answered is recorded as acknowledged, with
the time its successful attempt started: the checks then look each one up in the
database, and the write downtime of a failover is the time from the kill to the first
write acknowledged that was sent after it.

- A ledger writer posts one transfer per request with a service token; ``ok`` or
  ``exists`` (the first attempt committed and its answer was lost) is acknowledged.
- An escrow buyer runs checkout, step-up, pay, ship and confirm; each transition is
  acknowledged under its payment id. Merchant requests go through the SDK (signed,
  retried with the same Idempotency-Key); the buyer's POSTs carry keys of their own.
"""

from __future__ import annotations

import itertools
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx

from ...client import PayWardenClient
from ...client.errors import PayWardenError
from ...client.signing import RequestSigner
from ..payments.flows import CARRIER, PRICE, TERMS
from ..payments.parties import Shopper, SignedInBuyer

RETRY_STATUSES = frozenset({502, 503, 504})
PAUSE_S = 0.25
GIVE_UP_S = 180.0
REQUEST_TIMEOUT_S = 15.0


class GaveUp(Exception):
    """A write was not answered within ``GIVE_UP_S``: its outcome is unknown."""


@dataclass(frozen=True)
class Ack:
    kind: str  # "transfer", or an escrow transition: "checkout", "pay", "ship", "confirm"
    key: str  # the transfer id, or the payment id
    sent_s: float  # when the answered attempt was sent (time.monotonic)
    answered_s: float


@dataclass
class Tally:
    """What every client saw, shared; appended under one lock."""

    acks: list[Ack] = field(default_factory=list)
    unknown: list[str] = field(default_factory=list)  # given up: outcome unknown
    refused: dict[str, int] = field(default_factory=dict)  # definite refusals by code
    retries: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def ack(self, kind: str, key: str, sent_s: float) -> None:
        with self.lock:
            self.acks.append(Ack(kind, key, sent_s, time.monotonic()))

    def refuse(self, code: str) -> None:
        with self.lock:
            self.refused[code] = self.refused.get(code, 0) + 1

    def retried(self) -> None:
        with self.lock:
            self.retries += 1

    def snapshot(self) -> list[Ack]:
        with self.lock:
            return list(self.acks)


class Via(httpx.BaseTransport):
    """What a load balancer does: the request keeps the public origin (its Host, which a
    merchant's signature covers) and goes to one API process on loopback."""

    def __init__(self, port: int) -> None:
        self._port = port
        self._inner = httpx.HTTPTransport()

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        request.url = request.url.copy_with(host="127.0.0.1", port=self._port)
        return self._inner.handle_request(request)

    def close(self) -> None:
        self._inner.close()


def through(origin: str, port: int, headers: dict[str, str] | None = None) -> httpx.Client:
    return httpx.Client(base_url=origin, transport=Via(port), timeout=REQUEST_TIMEOUT_S,
                        headers=headers, trust_env=False)


class Servers:
    """The API processes, taken in turn; a failed attempt moves to the next."""

    def __init__(self, origin: str, ports: list[int],
                 headers: dict[str, str] | None = None) -> None:
        self._clients = [through(origin, port, headers) for port in ports]
        self._turn = itertools.count(secrets.randbelow(len(ports)))

    def close(self) -> None:
        for client in self._clients:
            client.close()

    def send(self, tally: Tally, call: Callable[[httpx.Client], httpx.Response]
             ) -> tuple[httpx.Response, float]:
        """``call`` on a process until it is answered; the answer and when it was sent."""
        deadline = time.monotonic() + GIVE_UP_S
        while True:
            client = self._clients[next(self._turn) % len(self._clients)]
            sent = time.monotonic()
            try:
                response = call(client)
            except httpx.TransportError:
                response = None
            if response is not None and not _again(response):
                return response, sent
            if time.monotonic() > deadline:
                raise GaveUp(f"no answer within {GIVE_UP_S:.0f} s")
            tally.retried()
            time.sleep(PAUSE_S)


def _again(response: httpx.Response) -> bool:
    if response.status_code in RETRY_STATUSES:
        return True
    return response.status_code == 409 and _code(response) == "idempotency_in_progress"


def _code(response: httpx.Response) -> str:
    try:
        return str(response.json().get("code"))
    except ValueError:
        return str(response.status_code)


@dataclass(frozen=True)
class LedgerAccounts:
    ids: list[str]  # acct_… ids, no balance limits
    currency: str


def transfer_writer(origin: str, ports: list[int], token: str, accounts: LedgerAccounts,
                    tally: Tally, stop: threading.Event) -> None:
    servers = Servers(origin, ports, {"Authorization": f"Bearer {token}"})
    try:
        while not stop.is_set():
            debit, credit = _two(accounts.ids)
            transfer_id = "ha-" + secrets.token_hex(12)
            body = {"transfers": [{"id": transfer_id, "debit_account_id": debit,
                                   "credit_account_id": credit, "amount": 1,
                                   "ledger": accounts.currency, "code": 1}]}
            try:
                response, sent = servers.send(tally, lambda c, b=body: c.post(  # type: ignore[misc]
                    "/v1/transfers", json=b))
            except GaveUp:
                tally.unknown.append(transfer_id)
                continue
            result = response.json()["results"][0]["result"] if response.status_code == 200 \
                else _code(response)
            if result in ("ok", "exists"):
                tally.ack("transfer", transfer_id, sent)
            else:
                tally.refuse(result)
    finally:
        servers.close()


def escrow_buyer(origin: str, ports: list[int], shopper: Shopper, buyer: SignedInBuyer,
                 tally: Tally, stop: threading.Event) -> None:
    """Escrow flows until ``stop``: each transition acknowledged under its payment id."""
    https = [through(origin, port) for port in ports]
    sdks = [PayWardenClient(origin, shopper.key_id, shopper.key, timeout_s=REQUEST_TIMEOUT_S,
                            retries_max=0, http_client=http) for http in https]
    servers = Servers(origin, ports, {"Authorization": f"Bearer {buyer.token}"})
    try:
        while not stop.is_set():
            try:
                _flow(sdks, servers, shopper, buyer, tally)
            except (GaveUp, _Refused) as exc:
                tally.refuse(type(exc).__name__ if isinstance(exc, GaveUp) else str(exc))
    finally:
        servers.close()
        for http in https:
            http.close()


class _Refused(Exception):
    """A definite refusal (not a failover's): the flow stops, the code is counted."""


def _flow(sdks: list[PayWardenClient], servers: Servers, shopper: Shopper,
          buyer: SignedInBuyer, tally: Tally) -> None:
    ref = "ha-" + secrets.token_hex(8)
    session, sent = _merchant(sdks, tally, "POST", "/v1/checkout/sessions", {
        "order_ref": ref, "amount": PRICE.amount_minor, "currency": PRICE.currency,
        "items": [{"name": "HA teapot", "quantity": 1, "unit_amount": PRICE.amount_minor}],
        "return_url": f"https://{shopper.domain}/thanks",
        "escrow": {"days_to_ship": TERMS.days_to_ship,
                   "release_after_days": TERMS.release_after_days}})
    payment_id = session["payment_id"]
    tally.ack("checkout", payment_id, sent)
    evidence = _step_up(servers, tally, shopper, buyer, payment_id)
    paid = _buyer_post(servers, tally, f"/v1/checkout/sessions/{session['id']}/pay",
                       {"method": "wallet", "evidence_id": evidence}, "pay", payment_id)
    if paid.get("state") == "under_review":  # risk screening holds it for an analyst
        tally.refuse("under_review")
        return
    _, sent = _merchant(sdks, tally, "POST", f"/v1/payments/{payment_id}/shipments",
                        {"carrier": CARRIER, "tracking": ref})
    tally.ack("ship", payment_id, sent)
    done = _buyer_post(servers, tally, f"/v1/payments/{payment_id}/confirm", None, "confirm",
                       payment_id)
    if done.get("state") != "released":
        raise _Refused(f"confirm_left_{done.get('state')}")


def _merchant(sdks: list[PayWardenClient], tally: Tally, method: str, path: str,
              body: dict[str, Any]) -> tuple[dict[str, Any], float]:
    """A signed merchant request under one Idempotency-Key, to each process in turn (the
    SDK signs each attempt anew: a signature's nonce is good once)."""
    key = "idk_ha_" + secrets.token_hex(12)
    deadline = time.monotonic() + GIVE_UP_S
    for turn in itertools.count():
        sdk = sdks[turn % len(sdks)]
        sent = time.monotonic()
        try:
            return sdk.request(method, path, json=body, idempotency_key=key), sent
        except PayWardenError as exc:
            if exc.status not in RETRY_STATUSES and exc.code not in (
                    "idempotency_in_progress", "connection_failed"):
                raise _Refused(exc.code) from exc
        if time.monotonic() > deadline:
            raise GaveUp(f"{path}: no answer within {GIVE_UP_S:.0f} s")
        tally.retried()
        time.sleep(PAUSE_S)
    raise AssertionError("unreachable")


def _buyer_post(servers: Servers, tally: Tally, path: str, body: dict[str, Any] | None,
                kind: str, payment_id: str) -> dict[str, Any]:
    key = {"Idempotency-Key": "idk_ha_" + secrets.token_hex(12)}
    response, sent = servers.send(tally, lambda c: c.post(path, json=body, headers=key))
    if response.status_code >= 300:
        raise _Refused(f"{kind}:{_code(response)}")
    tally.ack(kind, payment_id, sent)
    answer: dict[str, Any] = response.json()
    return answer


def _step_up(servers: Servers, tally: Tally, shopper: Shopper, buyer: SignedInBuyer,
             payment_id: str) -> str:
    """The buyer's passkey over this order; a ceremony cut by a failover starts again."""
    options_body = {"type": "payment", "amount": PRICE.amount_minor, "currency": PRICE.currency,
                    "payee": shopper.merchant_id, "reference": payment_id}
    deadline = time.monotonic() + GIVE_UP_S
    while True:
        options, _ = servers.send(tally, lambda c: c.post("/v1/auth/step-up/options",
                                                          json=options_body))
        if options.status_code >= 300:
            raise _Refused(f"step_up_options:{_code(options)}")
        made = options.json()
        verified, _ = servers.send(tally, lambda c, m=made: c.post(  # type: ignore[misc]
            "/v1/auth/step-up/verify", json={
                "ceremony_id": m["ceremony_id"],
                "credential": buyer.authenticator.get(m["options"])}))
        if verified.status_code < 300:
            return str(verified.json()["evidence_id"])
        if time.monotonic() > deadline:
            raise GaveUp("step-up: no evidence")
        tally.retried()  # the ceremony's challenge was spent by an attempt cut short


def replayed_elsewhere(origin: str, ports: list[int], shopper: Shopper) -> dict[str, Any]:
    """One signed request sent to the first process, then the very same bytes to the
    second: the second must refuse it (the nonce is claimed in the shared database)."""
    signer = RequestSigner(shopper.key_id, shopper.key)
    request = httpx.Request("GET", f"{origin}/v1/merchants/me",
                            headers={"Accept": "application/json"})
    signer.sign(request, created_s=time.time())
    answers = []
    for port in ports[:2]:
        with through(origin, port) as http:
            response = http.send(request)
            answers.append({"status": response.status_code,
                            "code": _code(response) if response.status_code >= 400 else None})
    return {"first": answers[0], "replayed": answers[1],
            "refused": answers[0]["status"] == 200 and answers[1]["status"] == 401}


def _two(ids: list[str]) -> tuple[str, str]:
    first = secrets.randbelow(len(ids))
    second = (first + 1 + secrets.randbelow(len(ids) - 1)) % len(ids)
    return ids[first], ids[second]
