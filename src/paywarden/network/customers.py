"""Bank customers of a local network, driven over HTTP as a person's browser would.

A customer signs up (`POST /v1/customers`), registers a software passkey (the same
authenticator the tests and benchmarks use), signs in with it, opens an account and
confirms each transfer with a passkey step-up. Money arrives from outside the network
through the simulated rail's inbound side, which only a machine principal may book: the
lab issues one with the node's own code (``paywarden.testing.lab``), as an operator with
the host would after two people approved it.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from typing import Any

import httpx

from ..testing.authenticator import SoftAuthenticator
from .plan import Node
from .runner import Network, NodeFailed

TIMEOUT_S = 30.0


def _client(node: Node) -> httpx.Client:
    """A client that does not read the environment for proxies: a node's commands run in
    this process (cli/in_process.py) swap ``os.environ`` while these calls run on other
    threads, and reading it then raised KeyError (seen in CI)."""
    return httpx.Client(base_url=node.url, timeout=TIMEOUT_S, trust_env=False)


EXTERNAL_IBAN = "DE89370400440532013000"  # where the lab's outside money comes from


def service_token(net: Network, node: Node) -> str:
    return net.call(node, "paywarden.testing.lab:service_token")


def origin(node: Node) -> str:
    """The origin a node serves its passkeys for (origins.py: loopback is localhost)."""
    return f"http://localhost:{node.port}"


@dataclass
class Customer:
    node: Node
    username: str
    token: str
    authenticator: SoftAuthenticator
    http: httpx.Client
    account: dict[str, Any] = field(default_factory=dict)
    payees: dict[str, dict[str, Any]] = field(default_factory=dict)  # IBAN -> payee

    def reconnect(self) -> None:
        """A fresh connection pool: after its node was killed, a kept-alive connection to
        the dead process would answer nothing."""
        self.http.close()
        self.http = _client(self.node)

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}

    def call(self, method: str, path: str, body: Any = None, *, ok: tuple[int, ...] = (
            200, 201)) -> Any:
        r = self.http.request(method, path, json=body, headers=self.headers)
        if r.status_code not in ok:
            raise NodeFailed(f"{self.node.name}: {method} {path} answered {r.status_code}: "
                             f"{r.text[:500]}")
        return r.json() if r.content else None

    def step_up(self, *, type: str, amount: int, payee: str, reference: str,
                currency: str = "EUR") -> str:
        options = self.call("POST", "/v1/auth/step-up/options", {
            "type": type, "amount": amount, "currency": currency, "payee": payee,
            "reference": reference})
        done = self.call("POST", "/v1/auth/step-up/verify", {
            "ceremony_id": options["ceremony_id"],
            "credential": self.authenticator.get(options["options"])})
        return str(done["evidence_id"])

    def add_payee(self, name: str, iban: str) -> dict[str, Any]:
        if iban not in self.payees:
            evidence = self.step_up(type="new_payee", amount=0, payee=iban, reference=name)
            self.payees[iban] = self.call("POST", "/v1/me/payees", {
                "name": name, "iban": iban, "currency": "EUR", "evidence_id": evidence})
        return self.payees[iban]

    def send(self, iban: str, amount: int, *, reference: str = "", id: str | None = None,
             name: str = "Payee") -> dict[str, Any]:
        """A transfer to ``iban``: to another bank it goes out through the network."""
        payee = self.add_payee(name, iban)
        evidence = self.step_up(type="transfer", amount=amount, payee=payee["iban"],
                                reference=reference)
        body = {"from_account": self.account["id"], "payee_id": payee["id"], "amount": amount,
                "currency": "EUR", "reference": reference, "evidence_id": evidence}
        if id is not None:
            body["id"] = id
        answer: dict[str, Any] = self.call("POST", "/v1/me/transfers", body)
        return answer

    def write_cheque(self, payee_iban: str, amount: int, *, payee_name: str = "Payee",
                     date: str, expires_on: str) -> dict[str, Any]:
        """A cheque on this customer's account, approved with a passkey step-up."""
        terms = {"account_id": self.account["id"], "payee_iban": payee_iban,
                 "payee_name": payee_name, "amount": amount, "currency": "EUR",
                 "date": date, "expires_on": expires_on}
        draft = self.call("POST", "/v1/me/cheques/drafts", terms)
        evidence = self.step_up(**draft["step_up"])
        written: dict[str, Any] = self.call("POST", "/v1/me/cheques", {
            **terms, "serial": draft["serial"], "evidence_id": evidence})
        return written

    def present_cheque(self, text: str) -> httpx.Response:
        """Present a cheque into this customer's account: the API's answer, as it is."""
        return self.http.post("/v1/me/cheques/present", headers=self.headers,
                              json={"cheque": text, "account_id": self.account["id"]})

    def cheque(self, cheque_id: str) -> dict[str, Any]:
        found: dict[str, Any] = self.call("GET", f"/v1/me/cheques/{cheque_id}")
        return found

    def send_file(self, document: bytes) -> dict[str, Any]:
        """A pain.001 payment file from this customer's account: checked, confirmed with
        one step-up over what the check answered, then sent (the same file again is a
        retry, answered with what ran)."""
        path = f"/v1/me/accounts/{self.account['id']}/payment-files"
        headers = {**self.headers, "Content-Type": "application/xml"}
        r = self.http.post(path + "/check", content=document, headers=headers)
        if r.status_code != 200:
            raise NodeFailed(f"{self.node.name}: file check answered {r.status_code}: "
                             f"{r.text[:500]}")
        cover = r.json()["step_up"]
        evidence = self.step_up(type=cover["type"], amount=cover["amount"],
                                payee=cover["payee"], reference=cover["reference"],
                                currency=cover["currency"])
        r = self.http.post(path, content=document, headers=headers,
                           params={"evidence_id": evidence})
        if r.status_code != 201:
            raise NodeFailed(f"{self.node.name}: file answered {r.status_code}: "
                             f"{r.text[:500]}")
        return r.json()  # type: ignore[no-any-return]

    def transfers(self) -> dict[str, dict[str, Any]]:
        """The newest 100 transfers, by id."""
        page = self.call("GET", "/v1/me/transfers?limit=100")
        return {t["id"]: t for t in page["data"]}

    def balance(self) -> int:
        return int(self.call("GET", f"/v1/me/accounts/{self.account['id']}")["booked"])


def sign_up(node: Node, *, username: str | None = None) -> Customer:
    """A new customer of ``node`` with a passkey, signed in, with a current account."""
    http = _client(node)
    name = username or "lab-" + secrets.token_hex(4)
    r = http.post("/v1/customers", json={"username": name, "display_name": name.title()})
    if r.status_code != 201:
        raise NodeFailed(f"{node.name}: sign-up answered {r.status_code}: {r.text[:500]}")
    enrolment = {"Authorization": f"Bearer {r.json()['enrolment_token']}"}
    authenticator = SoftAuthenticator(rp_id="localhost", origin=origin(node))
    options = http.post("/v1/auth/passkeys/register/options", headers=enrolment).json()
    r = http.post("/v1/auth/passkeys/register/verify", headers=enrolment, json={
        "ceremony_id": options["ceremony_id"],
        "credential": authenticator.create(options["options"])})
    if r.status_code != 201:
        raise NodeFailed(f"{node.name}: passkey answered {r.status_code}: {r.text[:500]}")
    options = http.post("/v1/auth/passkeys/signin/options", json={"username": name}).json()
    r = http.post("/v1/auth/passkeys/signin/verify", json={
        "ceremony_id": options["ceremony_id"],
        "credential": authenticator.get(options["options"])})
    if r.status_code != 200:
        raise NodeFailed(f"{node.name}: sign-in answered {r.status_code}: {r.text[:500]}")
    who = Customer(node, name, r.json()["token"], authenticator, http)
    who.account = who.call("POST", "/v1/me/accounts", {
        "product": "current", "currency": "EUR", "name": "Everyday"})
    return who


def deposit(node: Node, token: str, iban: str, amount: int) -> dict[str, Any]:
    """Money from outside the network into ``iban`` (the rail's inbound side)."""
    with _client(node) as http:
        r = http.post("/v1/staff/rail/deposits",
                      headers={"Authorization": f"Bearer {token}"}, json={
                          "rail_id": "lab-" + secrets.token_hex(8), "iban": iban,
                          "amount": amount, "currency": "EUR", "debtor_iban": EXTERNAL_IBAN,
                          "debtor_name": "Outside GmbH", "reference": "funding"})
    if r.status_code not in (200, 201):
        raise NodeFailed(f"{node.name}: deposit answered {r.status_code}: {r.text[:500]}")
    return r.json()  # type: ignore[no-any-return]


def funded(net: Network, node: Node, amount: int) -> Customer:
    """A new customer of ``node`` with ``amount`` deposited from outside."""
    who = sign_up(node)
    deposit(node, service_token(net, node), who.account["iban"], amount)
    return who
