"""Deny by default: every route and every CLI command that writes is named here, with why
one person may or may not do it alone, and each is checked (issue 13; decision 0041).

A new write route or command fails :func:`test_every_write_route_is_classified` (or its
CLI twin) until someone decides which gate it sits behind. Fineract's worst
maker-checker bugs were paths that bypassed the checker; this table is where such a path
would have to be written down, in review, with a reason.

The gates:

- ``APPROVAL``  a four-eyes command: one person's request answers 202 and changes nothing
               until another person approves it (services/approvals);
- ``ENGINE``    the approval engine's own routes;
- ``MACHINE``   a machine principal (``service`` token) only: every person is refused;
- ``OWN``       a customer or a merchant on their own objects (their own passkey or key
               signs it); staff are refused;
- ``SELF``      anyone on their own sign-in, factors and sessions;
- ``PUBLIC``    before sign-in: sign-up and the sign-in ceremonies;
- ``NARROWS``   one member of staff may: it only removes access or stops money;
- ``NO_STATE``  moves no money and widens no access (a reading, a check, a label);
- ``HOST``      (commands only) the host's own operation: set-up, serving, recovery.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from enum import StrEnum
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from paywarden.adapters.clock import FakeClock
from paywarden.adapters.store import Database
from paywarden.api import create_app
from paywarden.domain.identity import STAFF_ROLES

from ..support.merchants import client_for, platform_for
from ..support.platform import bearer, platform_of, staff_token


class Gate(StrEnum):
    APPROVAL = "approval"
    ENGINE = "engine"
    MACHINE = "machine"
    OWN = "own"
    SELF = "self"
    PUBLIC = "public"
    NARROWS = "narrows"
    NO_STATE = "no_state"
    HOST = "host"


A, E, MA, O, S, P, N, NS = (Gate.APPROVAL, Gate.ENGINE, Gate.MACHINE, Gate.OWN, Gate.SELF,
                            Gate.PUBLIC, Gate.NARROWS, Gate.NO_STATE)

# (method, path) → (gate, why). The why is for the reviewer: what makes this gate right.
ROUTES: dict[tuple[str, str], tuple[Gate, str]] = {
    # checkout and escrow
    ("POST", "/v1/checkout/sessions"): (O, "a merchant's signed request for its own order"),
    ("POST", "/v1/checkout/sessions/{session_id}/pay"): (O, "the buyer's passkey signs the order"),
    ("POST", "/v1/payments/{payment_id}/confirm"): (O, "the buyer confirms their own receipt"),
    ("POST", "/v1/payments/{payment_id}/disputes"): (O, "the buyer opens a dispute"),
    ("POST", "/v1/payments/{payment_id}/shipments"): (O, "the merchant ships its order"),
    ("POST", "/v1/payments/{payment_id}/refunds"): (
        A, ("a merchant refunds its own sale; staff: kind refund, any amount; a merchant "
            "user at or over its merchant's refund_approval_min: kind merchant_refund")),
    ("POST", "/v1/payments/{payment_id}/cancel"): (O, "the merchant cancels before shipping"),
    ("POST", "/v1/payments/{payment_id}/disputes/answer"): (O, "the merchant's answer"),
    ("POST", "/v1/payments/{payment_id}/disputes/decision"): (
        A, "kind dispute_decision at or over PAYWARDEN_DISPUTE_APPROVAL_MIN (0: every one)"),
    ("POST", "/v1/me/cards"): (O, "a customer's own card, sealed"),
    # the raw ledger
    ("POST", "/v1/ledgers"): (NS, "a ledger per currency holds no money"),
    ("POST", "/v1/accounts"): (NS, "a new account is empty"),
    ("POST", "/v1/accounts/{account_id}/close"): (N, "a closed account takes no more"),
    ("POST", "/v1/transfers"): (A, ("a person's manual transfers: kind ledger_transfers; a "
                                   "machine principal posts within its own limits")),
    # merchants and certification
    ("POST", "/v1/merchants/me/keys"): (O, "a merchant's own key, signed by its current one"),
    ("POST", "/v1/merchants/me/keys/{key_id}/revoke"): (O, "a merchant revokes its own key"),
    ("POST", "/v1/merchants"): (
        NS, ("a new merchant has no money and sells nothing until certified; its first key "
            "is its own (decision 0044)")),
    ("POST", "/v1/merchants/{merchant_id}/keys"): (
        A, "kind merchant_key: a key staff add would let staff sign as the merchant"),
    ("POST", "/v1/merchants/{merchant_id}/keys/{key_id}/revoke"): (N, "removes a key"),
    ("POST", "/v1/merchants/{merchant_id}/suspend"): (N, "stops a merchant selling"),
    ("POST", "/v1/merchants/{merchant_id}/activate"): (A, "kind merchant_reinstatement"),
    ("POST", "/v1/merchants/me/application"): (O, "a merchant applies for itself"),
    ("POST", "/v1/merchants/me/domains/{domain}/verify"): (O, "a merchant proves its domain"),
    ("POST", "/v1/merchants/{merchant_id}/application"): (NS, "an application grants nothing"),
    ("POST", "/v1/merchants/{merchant_id}/domains/{domain}/verify"): (
        NS, "fetches the domain's token; proves, grants nothing"),
    ("POST", "/v1/merchants/{merchant_id}/certification/approve"): (
        NS, "issues a certificate over a verified domain; revocable, in the public registry"),
    ("POST", "/v1/merchants/{merchant_id}/certification/reject"): (N, "refuses an application"),
    ("POST", "/v1/merchants/{merchant_id}/certification/suspend"): (N, "stops selling"),
    ("POST", "/v1/merchants/{merchant_id}/certification/reinstate"): (
        A, "kind merchant_reinstatement"),
    ("POST", "/v1/merchants/{merchant_id}/certification/revoke"): (N, "revokes a certificate"),
    ("PUT", "/v1/merchants/me/webhook-endpoint"): (O, "a merchant's own endpoint"),
    # a merchant's people (decision 0051)
    ("POST", "/v1/merchants/me/users/invitations"): (
        O, ("a merchant owner invites to its own merchant; the link is one-time, and the "
            "invitee's refunds over the threshold still need a second owner")),
    ("POST", "/v1/merchants/me/users/{user_id}/disable"): (
        O, "an owner disables one of its own merchant's people: it only removes access"),
    ("PUT", "/v1/merchants/me/settings"): (
        O, ("the owner's own four-eyes threshold: the owner holds the merchant's keys, "
            "which refund alone anyway; recorded with the value before")),
    ("POST", "/v1/merchant-invitations/accept"): (
        P, "the one-time invitation token (stored hashed, a day) is the proof"),
    ("POST", "/v1/merchants/me/webhook-events/{event_id}/resend"): (O, "its own deliveries"),
    ("POST", "/v1/merchants/me/webhook-events/test"): (O, "a test event to its own endpoint"),
    # sign-in, sessions and factors
    ("DELETE", "/v1/me/sessions/{session_id}"): (S, "ends one's own session"),
    ("POST", "/v1/me/sessions/revoke-others"): (S, "ends one's other sessions"),
    ("POST", "/v1/auth/sign-out"): (S, "ends this session"),
    ("DELETE", "/v1/staff/users/{user_id}/sessions/{session_id}"): (N, "ends a session"),
    ("POST", "/v1/staff/users/{user_id}/sessions/revoke-all"): (N, "ends every session"),
    ("POST", "/v1/staff/users/{user_id}/roles"): (
        A, "a grant is kind role_grant; a revoke only narrows and is done at once"),
    ("POST", "/v1/staff/users/{user_id}/deactivate"): (
        N, "a leaver: status disabled, every session and token revoked"),
    ("POST", "/v1/auth/passkeys/register/options"): (S, "one's own passkey"),
    ("POST", "/v1/auth/passkeys/register/verify"): (S, "one's own passkey"),
    ("DELETE", "/v1/auth/passkeys/{credential_id}"): (S, "one's own passkey"),
    ("PATCH", "/v1/auth/passkeys/{credential_id}"): (S, "one's own passkey's name"),
    ("POST", "/v1/auth/passkeys/signin/options"): (P, "a sign-in ceremony"),
    ("POST", "/v1/auth/passkeys/signin/verify"): (P, "a sign-in ceremony"),
    ("POST", "/v1/auth/step-up/options"): (S, "one's own confirmation"),
    ("POST", "/v1/auth/step-up/verify"): (S, "one's own confirmation"),
    ("POST", "/v1/auth/password"): (P, "a sign-in"),
    ("POST", "/v1/auth/password/second-factor"): (P, "a sign-in's second step"),
    ("POST", "/v1/auth/reset"): (P, "finishing a reset with its one-time token"),
    ("POST", "/v1/customers"): (P, "sign-up"),
    ("POST", "/v1/clearing/messages"): (
        P, "no user: a known, active peer's signature over the exact bytes is the proof"),
    ("PUT", "/v1/me/password"): (S, "one's own password"),
    ("POST", "/v1/me/totp"): (S, "one's own second factor"),
    ("POST", "/v1/me/totp/confirm"): (S, "one's own second factor"),
    ("POST", "/v1/me/totp/remove"): (S, "one's own second factor"),
    ("POST", "/v1/me/recovery-codes"): (S, "one's own recovery codes"),
    ("PUT", "/v1/me/phrase"): (S, "one's own anti-phishing phrase"),
    ("POST", "/v1/staff/customers/{customer_id}/reset"): (
        NS, ("starts a reset the customer finishes from their own e-mail: no access is "
            "granted to staff")),
    ("POST", "/v1/staff/customers/{customer_id}/reveal"): (
        NS, ("one masked field shown to the asker, with a reason, recorded and counted by "
            "insider analytics; no access changes")),
    # online banking
    ("POST", "/v1/me/accounts"): (O, "a customer opens their own account"),
    ("POST", "/v1/me/transfers/own"): (O, "between a customer's own accounts"),
    ("POST", "/v1/me/wallet/top-ups"): (O, "the customer's passkey signs it"),
    ("POST", "/v1/staff/bank-accounts/{account_id}/freeze"): (N, "stops an account sending"),
    ("POST", "/v1/staff/bank-accounts/{account_id}/unfreeze"): (
        A, "kind account_unfreeze: freezing stops money at once; freeing it takes two"),
    ("POST", "/v1/staff/bank-accounts/{account_id}/close"): (N, "an account takes no more"),
    ("POST", "/v1/staff/rail/deposits"): (MA, ("the rail's inbound credits: a person alone "
                                                 "would mint money")),
    ("POST", "/v1/staff/customers/{customer_id}/limits/{kind}"): (
        A, "kind limit_override: above the bank's maximum, without the raise delay"),
    ("POST", "/v1/me/cheques/drafts"): (O, "the drawer's own cheque"),
    ("POST", "/v1/me/cheques"): (O, "the drawer's passkey signs the cheque"),
    ("POST", "/v1/me/cheques/present"): (O, "the payee presents a signed cheque"),
    ("POST", "/v1/me/cheques/{cheque_id}/stop"): (O, "the drawer stops their cheque"),
    ("POST", "/v1/me/payees/check"): (O, "confirmation of payee: a reading"),
    ("POST", "/v1/me/payees"): (O, "the customer's passkey signs the new payee"),
    ("DELETE", "/v1/me/payees/{payee_id}"): (O, "the customer's own payee"),
    ("POST", "/v1/me/transfers"): (O, "the customer's passkey signs the transfer"),
    ("POST", "/v1/me/accounts/{account_id}/payment-files/check"): (O, "a reading of a file"),
    ("POST", "/v1/me/accounts/{account_id}/payment-files"): (
        O, "the customer's passkey signs the whole file"),
    ("PUT", "/v1/me/limits/{kind}"): (O, ("the customer's own limit; a raise waits and needs "
                                         "their passkey")),
    ("POST", "/v1/me/standing-orders/preview"): (O, "a preview"),
    ("POST", "/v1/me/standing-orders"): (O, "the customer's passkey signs it"),
    ("DELETE", "/v1/me/standing-orders/{order_id}"): (O, "the customer's own order"),
    # risk, registry, alerts
    ("POST", "/v1/staff/alerts/{alert_id}/acknowledge"): (NS, "marks an alert seen"),
    ("POST", "/v1/staff/breakers/{breaker_id}/reset-requests"): (A, "kind breaker_reset"),
    ("POST", "/v1/staff/registry/requests"): (A, "kind registry_entry"),
    ("POST", "/v1/staff/registry/subject-status"): (NS, "a subject's status: a reading"),
    ("POST", "/v1/staff/registry/appeals"): (NS, "records a subject's appeal"),
    ("POST", "/v1/risk/decisions/{decision_id}/rerun"): (NS, "re-runs a decision on paper"),
    ("POST", "/v1/risk/rules/{version}/backtest"): (NS, "a back-test changes no rule"),
    ("POST", "/v1/risk/cases/{case_id}/release"): (
        NS, ("the customer's own signed move, released by an analyst who is not its subject "
            "(risk_case_own): two people already")),
    ("POST", "/v1/risk/cases/{case_id}/decline"): (N, "a held move is returned"),
    ("POST", "/v1/risk/decisions/{decision_id}/label"): (NS, "a training label"),
    # recalls (decision 0061): asking and refusing move no money; a yes is clearing_return
    ("POST", "/v1/staff/clearing/recalls"): (N, "asks another bank; moves no money"),
    ("POST", "/v1/staff/clearing/recalls/{case_id}/refuse"): (N, "answers no; moves no money"),
    ("POST", "/v1/staff/clearing/windows/{currency}/close"): (NS, (
        "freezes a net window's obligations and opens the next; moves no money")),
    # the approval engine
    ("POST", "/v1/approvals"): (E, "submits"),
    ("POST", "/v1/approvals/{approval_id}/approve"): (E, "another person, with a passkey"),
    ("POST", "/v1/approvals/{approval_id}/reject"): (E, "another person, with a passkey"),
    ("POST", "/v1/approvals/{approval_id}/withdraw"): (N, "the submitter takes it back"),
}

UNSAFE = ("POST", "PUT", "PATCH", "DELETE")
PLACEHOLDER = re.compile(r"\{[^}]+\}")


@pytest.fixture
def api(database: Database, clock: FakeClock, tmp_path: Path) -> Iterator[TestClient]:
    platform = platform_for(database, clock, tmp_path)
    with client_for(create_app(platform)) as client:
        client.app.state.platform = platform  # type: ignore[attr-defined]
        yield client


def write_routes(client: TestClient) -> set[tuple[str, str]]:
    document: dict[str, Any] = client.get("/openapi.json").json()
    return {(method.upper(), path) for path, ops in document["paths"].items()
            for method in ops if method.upper() in UNSAFE}


def concrete(path: str) -> str:
    """A path with every parameter filled by a well-formed id that names nothing."""
    return PLACEHOLDER.sub("x0000000000000000000000", path)


def test_every_write_route_is_classified(api: TestClient) -> None:
    routes = write_routes(api)
    assert len(routes) > 80  # the scan sees the API, not an empty corner of it
    assert sorted(routes - set(ROUTES)) == [], "classify these routes"
    assert sorted(set(ROUTES) - routes) == [], "these rows name no route"
    assert all(why.strip() for _, why in ROUTES.values())


def test_a_supervisor_is_refused_every_write_route_before_it_runs(api: TestClient) -> None:
    supervisor = bearer(staff_token(platform_of(api), "supervisor"))
    answered = {}
    for method, path in sorted(ROUTES):
        gate = ROUTES[(method, path)][0]
        if gate in (Gate.SELF, Gate.PUBLIC):
            continue
        r = api.request(method, concrete(path), headers=supervisor, json={})
        answered[(method, path)] = (r.status_code, r.json().get("code"))
    assert {k: v for k, v in answered.items() if v != (403, "read_only_role")} == {}


@pytest.mark.parametrize("role", sorted(STAFF_ROLES - {"supervisor"}))
def test_staff_cannot_act_as_a_customer_or_a_merchant_or_a_machine(
        api: TestClient, role: str) -> None:
    token = bearer(staff_token(platform_of(api), role))
    for (method, path), (gate, _) in sorted(ROUTES.items()):
        if gate not in (Gate.OWN, Gate.MACHINE):
            continue
        r = api.request(method, concrete(path), headers=token, json={})
        assert r.status_code in (400, 401, 403, 404, 422), (method, path, r.status_code, r.text)


# What one person's request must leave as it was: money, and who may do what.
GUARDED = ("transfers", "pending_transfers", "payment_refunds", "payments", "users",
           "merchant_keys", "merchants", "merchant_certificates", "registry_entries",
           "risk_rule_sets", "risk_breakers", "key_versions", "bank_limits", "bank_accounts")


def guarded_state(api: TestClient) -> dict[str, list[tuple[Any, ...]]]:
    from sqlalchemy import select

    from paywarden.adapters.store.schema import metadata

    with platform_of(api).database.engine.connect() as conn:
        return {name: sorted(map(tuple, conn.execute(select(metadata.tables[name]))),
                             key=repr) for name in GUARDED}


def _refund(api: TestClient, headers: dict[str, str]) -> tuple[str, str, dict[str, Any]]:
    from .test_approvals import paid

    payment_id, _ = paid(api)
    return "POST", f"/v1/payments/{payment_id}/refunds", {"amount": 1_000, "refund_id": "r-9"}


def _role_grant(api: TestClient, headers: dict[str, str]) -> tuple[str, str, dict[str, Any]]:
    from ..support.approvals import passkey_staff

    sue = passkey_staff(api, "sue-joiner", "support")
    return "POST", f"/v1/staff/users/{sue.user.id}/roles", {"action": "grant",
                                                          "role": "merchant_admin"}


def _dispute(api: TestClient, headers: dict[str, str]) -> tuple[str, str, dict[str, Any]]:
    from .test_payments_api import certified, disputed

    payment_id, _, _ = disputed(api, certified(platform_of(api), "Disputed"), "dora")
    return "POST", f"/v1/payments/{payment_id}/disputes/decision", {"resolution": "refund"}


def _registry(api: TestClient, headers: dict[str, str]) -> tuple[str, str, dict[str, Any]]:
    return "POST", "/v1/staff/registry/requests", {
        "action": "create", "identifiers": [{"kind": "email", "value": "mule@example.com"}],
        "reason": "money_mule", "evidence_ref": "case:1", "expires_in_days": 30}


def _breaker(api: TestClient, headers: dict[str, str]) -> tuple[str, str, dict[str, Any]]:
    from .test_breakers_api import tripped

    return "POST", f"/v1/staff/breakers/{tripped(api)}/reset-requests", {
        "reason": "the issuer's outage is over"}


def _reactivation(api: TestClient, headers: dict[str, str]) -> tuple[str, str, dict[str, Any]]:
    from ..support.merchants import make_merchant

    shop = make_merchant(platform_of(api), "Paused")
    assert api.post(f"/v1/merchants/{shop.merchant_id}/suspend", headers=headers
                    ).status_code == 200
    return "POST", f"/v1/merchants/{shop.merchant_id}/activate", {}


def _reinstatement(api: TestClient, headers: dict[str, str]
                   ) -> tuple[str, str, dict[str, Any]]:
    from ..support.certify import certify
    from ..support.merchants import make_merchant

    shop = make_merchant(platform_of(api), "Held")
    certify(platform_of(api), shop.merchant_id)
    assert api.post(f"/v1/merchants/{shop.merchant_id}/certification/suspend",
                    headers=headers).status_code == 200
    return "POST", f"/v1/merchants/{shop.merchant_id}/certification/reinstate", {}


def _merchant_key(api: TestClient, headers: dict[str, str]) -> tuple[str, str, dict[str, Any]]:
    from ..support.merchants import make_merchant, new_key, public_pem

    shop = make_merchant(platform_of(api), "Keyed")
    return "POST", f"/v1/merchants/{shop.merchant_id}/keys", {
        "public_key": public_pem(new_key()).decode()}


def _limit_override(api: TestClient, headers: dict[str, str]
                    ) -> tuple[str, str, dict[str, Any]]:
    from ..support.identity import passkey_customer

    bob, _, _ = passkey_customer(api, "bob-limits")
    return "POST", f"/v1/staff/customers/{bob.id}/limits/per_day", {
        "currency": "EUR", "amount": 10**9, "reason": "moving house"}


def _unfreeze(api: TestClient, headers: dict[str, str]) -> tuple[str, str, dict[str, Any]]:
    from ..support.banking import open_account
    from ..support.identity import passkey_customer

    _, token, _ = passkey_customer(api, "fran-frozen")
    account = open_account(api, token)
    url = f"/v1/staff/bank-accounts/{account['id']}"
    assert api.post(url + "/freeze", headers=headers, json={"reason": "takeover"}
                    ).status_code == 200
    return "POST", url + "/unfreeze", {"reason": "customer verified"}


def _transfers(api: TestClient, headers: dict[str, str]) -> tuple[str, str, dict[str, Any]]:
    from ..support.platform import service_token

    machine = bearer(service_token(platform_of(api)))
    api.post("/v1/ledgers", headers=machine, json={"currency": "EUR"})
    ids = [api.post("/v1/accounts", headers=machine, json={"ledger": "EUR", "code": 1})
           .json()["id"] for _ in range(2)]
    return "POST", "/v1/transfers", {"transfers": [{
        "id": "t-9", "debit_account_id": ids[0], "credit_account_id": ids[1], "amount": 900,
        "ledger": "EUR", "code": 1}]}


# For each APPROVAL route: the role of the one person who tries it alone, and how to make
# a request that would do something real.
ALONE = {
    ("POST", "/v1/payments/{payment_id}/refunds"): ("risk", _refund),
    ("POST", "/v1/transfers"): ("operator", _transfers),
    ("POST", "/v1/staff/users/{user_id}/roles"): ("security_admin", _role_grant),
    ("POST", "/v1/payments/{payment_id}/disputes/decision"): ("risk", _dispute),
    ("POST", "/v1/staff/registry/requests"): ("risk", _registry),
    ("POST", "/v1/staff/breakers/{breaker_id}/reset-requests"): ("risk", _breaker),
    ("POST", "/v1/merchants/{merchant_id}/activate"): ("merchant_admin", _reactivation),
    ("POST", "/v1/merchants/{merchant_id}/certification/reinstate"): (
        "merchant_admin", _reinstatement),
    ("POST", "/v1/merchants/{merchant_id}/keys"): ("merchant_admin", _merchant_key),
    ("POST", "/v1/staff/customers/{customer_id}/limits/{kind}"): ("support", _limit_override),
    ("POST", "/v1/staff/bank-accounts/{account_id}/unfreeze"): ("support", _unfreeze),
}


def test_every_four_eyes_route_is_tried_by_one_person_and_moves_nothing(
        api: TestClient) -> None:
    from ..support.approvals import passkey_staff

    gated = {route for route, (gate, _) in ROUTES.items() if gate is Gate.APPROVAL}
    assert sorted(gated - set(ALONE)) == [], "say how one person would try these"
    for n, (route, (role, setup)) in enumerate(sorted(ALONE.items())):
        person = passkey_staff(api, f"alone-{n}", role)
        method, path, body = setup(api, person.headers)
        before = guarded_state(api)
        r = api.request(method, path, headers=person.headers, json=body)
        assert r.status_code == 202 and r.json()["approval"]["state"] == "pending", (route, r.text)
        assert guarded_state(api) == before, route
        r = api.post(f"/v1/approvals/{r.json()['approval_id']}/approve",
                     headers=person.headers, json={"evidence_id": "evd_" + "a" * 20})
        assert r.status_code == 403 and r.json()["code"] == "four_eyes_required", r.text
        assert guarded_state(api) == before, route


H = Gate.HOST
# Every CLI command (run on the server host, by someone with a shell there) → gate, why.
COMMANDS: dict[str, tuple[Gate, str]] = {
    "alerts list": (NS, "a reading"),
    "audit verify": (NS, "a check"),
    "audit watch": (NS, "a witness's check"),
    "backup": (NS, "an encrypted, signed copy; restores nothing"),
    "restore": (H, ("disaster recovery on the host: refuses a tampered or unsound backup, and "
                   "the audit log's signed heads show any rewound history to witnesses")),
    "banking interest run": (NS, "a job computing what the rates say, once per day"),
    "banking safeguarding reconcile": (NS, "a reconciliation: reads and reports"),
    "banking statement": (NS, "a reading"),
    "banking verify-statement": (NS, "a check"),
    "bench ledger": (NS, "a benchmark on a scratch database"),
    "bench payments": (NS, "a benchmark on a scratch database"),
    "demo": (H, "a demo ledger on a fresh database"),
    "clearing windows": (NS, "a reading"),
    "clearing identity": (NS, "shows this node's BIC and public key"),
    "clearing participants add": (H, ("a hub certifies a bank's key and opens its accounts at "
                                     "zero; moves no money; audited")),
    "clearing participants route": (H, "a route to another region's bank; moves no money"),
    "clearing participants list": (NS, "a reading"),
    "clearing participants suspend": (N, "refuses a participant's messages"),
    "clearing participants revoke": (N, "refuses a participant's messages for good"),
    "clearing participants reinstate": (H, ("takes a suspended participant's messages again; "
                                           "audited")),
    "clearing trust": (H, "a bank keeps its hub's CA and certificate, checked; audited"),
    "clearing fund": (A, ("kind clearing_funding: the hub's issue of central-bank reserves; "
                         "another operator or risk approves (decision 0060)")),
    "clearing return": (A, "kind clearing_return: a member of risk approves (decision 0060)"),
    "clearing liquidity": (NS, ("a participant's own pacs.009 between its own reserve and "
                               "settlement accounts, which the hub checks")),
    "clearing recall": (H, ("asks another bank for our transfer back (camt.056); moves no "
                            "money: a yes comes back as that bank's four-eyes return")),
    "clearing recalls": (NS, "a reading"),
    "clearing recall-refuse": (H, "answers another bank's recall no; moves no money"),
    "clearing recall-accept": (A, ("kind clearing_return with the case: a member of risk "
                                   "approves (decision 0061)")),
    "clearing positions": (NS, "a reading"),
    "clearing notices": (NS, "a reading"),
    "clearing payments": (NS, "a reading"),
    "clearing export": (NS, "writes the archived messages out"),
    "clearing reconcile": (NS, "a reconciliation: reads and reports"),
    "clearing window close": (NS, "freezes a net window's positions; moves no money"),
    "clearing window settle": (H, ("a hub's own settlement: posts, once, the obligations its "
                                  "committed transfers fixed; nobody chooses an amount or a "
                                  "party; audited (decision 0057)")),
    "evidence verify": (NS, "a check"),
    "init": (H, "creates or upgrades the database"),
    "run": (H, "installs and serves"),
    "serve": (H, "serves"),
    "supervision verify": (NS, "a check of a report file against the published keys"),
    "verify": (NS, "a check"),
    "keys destroy": (A, "kind key_destruction: a second security admin approves"),
    "keys list": (NS, "a reading"),
    "keys rewrap": (NS, ("re-encrypts under the current key; --destroy submits a "
                        "key_destruction for approval")),
    "keys rotate": (NS, "a new key version; the old one still opens what it sealed"),
    "keys rotate-due": (NS, "rotation on schedule"),
    "network status": (NS, "a reading of each hub's positions"),
    "network up": (H, "starts local nodes on loopback, each its own data directory"),
    "ha up": (H, "starts a local PostgreSQL cluster on loopback for development"),
    "ha status": (NS, "a reading of Patroni's members"),
    "ha down": (H, "stops the local cluster; --purge removes its data"),
    "release keygen": (NS, "makes a release key file; touches no platform data"),
    "release manifest": (NS, "hashes the installed package and signs it with the release key"),
    "integrity verify": (NS, "a check"),
    "merchants activate": (A, "kind merchant_reinstatement"),
    "merchants certification apply": (NS, "an application grants nothing"),
    "merchants certification reinstate": (A, "kind merchant_reinstatement"),
    "merchants certification reject": (N, "refuses an application"),
    "merchants certification revoke": (N, "revokes a certificate"),
    "merchants certification suspend": (N, "stops selling"),
    "merchants certification verify": (NS, "proves a domain, grants nothing"),
    "merchants certify": (NS, "a certificate over a verified domain; revocable, public"),
    "merchants create": (NS, ("a new merchant has no money and sells nothing until "
                             "certified; its first key is its own (decision 0044)")),
    "merchants keys add": (A, "kind merchant_key"),
    "merchants users invite": (H, ("a merchant's first owner only, like the merchant itself "
                                  "(decision 0044); refused once it has an active owner, "
                                  "whose owners invite the rest (decision 0051)")),
    "merchants keys revoke": (N, "removes a key"),
    "merchants show": (NS, "a reading"),
    "merchants suspend": (N, "stops a merchant selling"),
    "notifications send": (NS, "delivers queued notifications"),
    "payments parked": (NS, "a reading"),
    "registry feed export": (NS, "a signed export"),
    "registry feed import": (NS, "entries from a trusted source's signed feed"),
    "registry key id": (NS, "a reading"),
    "registry key install": (NS, "the shared hashing key: digests only"),
    "risk labels export": (NS, "a reading"),
    "risk model retrain": (NS, ("writes a model file; the server loads only one signed by "
                               "the release key")),
    "risk model train": (NS, "writes a model file; signed models only are loaded"),
    "risk model verify": (NS, "a check"),
    "risk rules backtest": (NS, "a back-test changes no rule"),
    "risk sanctions load": (NS, "a new list, its SHA-256 recorded; screening only widens"),
    "risk sanctions screen": (NS, "a reading"),
    "staff create": (A, ("a new member has no role until a role_grant is approved; only the "
                        "very first security admin is made alone, once, with an alert")),
    "staff deactivate": (N, "a leaver: status disabled, every session and token revoked"),
    "staff access-review": (NS, "a reading"),
    "tokens service": (A, "kind service_credential: a second security admin approves"),
    "tokens fetch": (NS, ("redeems, once and to its submitter, a credential two people "
                         "approved")),
    "tokens issue": (H, "a host token: it can submit commands, never approve one (no passkey)"),
    "tokens revoke": (N, "revokes a token"),
}


def cli_commands() -> set[str]:
    from typer.main import get_command

    from paywarden.cli import app

    found: set[str] = set()

    def walk(command: Any, prefix: list[str]) -> None:
        subcommands = getattr(command, "commands", None)
        if subcommands:
            for name, sub in subcommands.items():
                walk(sub, [*prefix, name])
        else:
            found.add(" ".join(prefix))

    walk(get_command(app), [])
    return found


def test_every_cli_command_is_classified() -> None:
    commands = cli_commands()
    assert len(commands) > 40
    assert sorted(commands - set(COMMANDS)) == [], "classify these commands"
    assert sorted(set(COMMANDS) - commands) == [], "these rows name no command"
