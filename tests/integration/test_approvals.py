"""Four-eyes approvals over HTTP: a staff refund and a person's ledger transfers wait for a
second member of staff, who approves with a passkey over the command's hash; and every
way around that is refused with nothing moved (decision 0041)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, update

from paywarden.adapters.clock import FakeClock
from paywarden.adapters.store import Database
from paywarden.adapters.store.schema import approvals, audit_entries
from paywarden.api import create_app
from paywarden.domain.approvals import canonical, command_hash
from paywarden.services.ledger.accounts import AccountRef
from paywarden.services.ledger.queries import LedgerQueries

from ..support.approvals import Staff, decide, evidence, passkey_staff
from ..support.identity import passkey_customer
from ..support.merchants import client_for, platform_for
from ..support.platform import bearer, platform_of, service_token, staff_token
from .test_payments_api import certified, checkout, confirm_order, fund

AMOUNT = 5_000


@pytest.fixture
def api(database: Database, clock: FakeClock, tmp_path: Path) -> Iterator[TestClient]:
    platform = platform_for(database, clock, tmp_path)
    with client_for(create_app(platform)) as client:
        client.app.state.platform = platform  # type: ignore[attr-defined]
        yield client


def paid(api: TestClient) -> tuple[str, AccountRef]:
    """A held wallet payment of 50.00 EUR: its id and the buyer's wallet."""
    platform = platform_of(api)
    shop = certified(platform)
    who, token, authenticator = passkey_customer(api, "bob")
    wallet = AccountRef("wallet", who.id, "EUR")
    fund(platform, wallet, 20_000)
    session = checkout(api, shop)
    proof = confirm_order(api, token, authenticator, session, shop)
    r = api.post(f"/v1/checkout/sessions/{session['id']}/pay", headers=bearer(token),
                 json={"method": "wallet", "evidence_id": proof})
    assert r.status_code == 200, r.text
    return session["payment_id"], wallet


def balance(api: TestClient, ref: AccountRef) -> int:
    view = LedgerQueries(platform_of(api).database).account(
        ref.id, now_ns=platform_of(api).clock.now_ns())
    return 0 if view is None else view.balances.credits_posted - view.balances.debits_posted


def refund_request(api: TestClient, who: Staff, payment_id: str,
                   refund_id: str = "r-1") -> dict[str, Any]:
    r = api.post(f"/v1/payments/{payment_id}/refunds", headers=who.headers,
                 json={"amount": AMOUNT, "refund_id": refund_id})
    assert r.status_code == 202, r.text
    assert r.headers["location"] == f"/v1/approvals/{r.json()['approval_id']}"
    return r.json()["approval"]  # type: ignore[no-any-return]


def test_a_staff_refund_waits_for_a_second_person_who_approves_with_a_passkey(
        api: TestClient) -> None:
    payment_id, wallet = paid(api)
    ann, ben = passkey_staff(api, "ann", "risk"), passkey_staff(api, "ben", "risk")
    before = balance(api, wallet)
    asked = refund_request(api, ann, payment_id)
    assert asked["state"] == "pending" and asked["kind"] == "refund"
    assert (asked["amount"], asked["currency"]) == (AMOUNT, "EUR")
    assert asked["command_hash"] == command_hash(canonical("refund", asked["params"]))
    assert balance(api, wallet) == before  # nothing moves until the approval
    inbox = api.get("/v1/approvals?state=pending", headers=ben.headers).json()["data"]
    assert [a["id"] for a in inbox] == [asked["id"]]
    # a retried submission is the same request, not a second one
    assert refund_request(api, ann, payment_id)["id"] == asked["id"]

    r = decide(api, ann, asked)  # the submitter approving their own refund
    assert r.status_code == 403 and r.json()["code"] == "four_eyes_required", r.text
    assert balance(api, wallet) == before

    r = decide(api, ben, asked)
    assert r.status_code == 200, r.text
    done = r.json()
    assert done["state"] == "executed" and done["decided_by"] == ben.user.id
    assert done["result"]["refund_id"] == "r-1" and done["result"]["amount"] == AMOUNT
    assert balance(api, wallet) == before + AMOUNT
    assert api.get("/v1/approvals?state=pending", headers=ben.headers).json()["data"] == []
    # the same approval asked again answers its outcome; it refunds nothing more
    again = api.post(f"/v1/approvals/{asked['id']}/approve", headers=ben.headers,
                     json={"evidence_id": _evidence_of(api, asked["id"])})
    assert again.status_code == 200 and again.json()["state"] == "executed", again.text
    assert balance(api, wallet) == before + AMOUNT
    actions = _audit_actions(api, asked["id"])
    assert actions == ["approval.submit", "approval.approve", "approval.executed"]


def test_the_wrong_people_cannot_approve(api: TestClient) -> None:
    payment_id, wallet = paid(api)
    before = balance(api, wallet)
    ann = passkey_staff(api, "ann", "risk")
    asked = refund_request(api, ann, payment_id)
    sue = passkey_staff(api, "sue", "support")  # support submits refunds; it approves none
    r = decide(api, sue, asked)
    assert r.status_code == 403 and r.json()["code"] == "approver_role_refused", r.text
    host = bearer(staff_token(platform_of(api), "risk", actor="cli:root"))
    r = api.post(f"/v1/approvals/{asked['id']}/approve", headers=host,
                 json={"evidence_id": "evd_" + "a" * 20})  # a host token has no passkey
    assert r.status_code == 403 and r.json()["code"] == "approver_passkey_required", r.text
    viewer = bearer(staff_token(platform_of(api), "supervisor"))
    assert api.get(f"/v1/approvals/{asked['id']}", headers=viewer).status_code == 200
    r = api.post(f"/v1/approvals/{asked['id']}/approve", headers=viewer,
                 json={"evidence_id": "evd_" + "a" * 20})
    assert r.status_code == 403, r.text  # a supervisor reads; it decides nothing
    assert balance(api, wallet) == before
    assert api.get(f"/v1/approvals/{asked['id']}", headers=viewer).json()["state"] == "pending"


def test_evidence_for_one_request_does_not_approve_another(api: TestClient) -> None:
    payment_id, wallet = paid(api)
    before = balance(api, wallet)
    ann, ben = passkey_staff(api, "ann", "risk"), passkey_staff(api, "ben", "risk")
    first = refund_request(api, ann, payment_id, "r-1")
    second = refund_request(api, ann, payment_id, "r-2")
    proof = evidence(api, ben, first, "approve")
    r = api.post(f"/v1/approvals/{second['id']}/approve", headers=ben.headers,
                 json={"evidence_id": proof})
    assert r.status_code == 403 and r.json()["code"] == "step_up_mismatch", r.text
    rejection = evidence(api, ben, first, "reject")  # a rejection's evidence approves nothing
    r = api.post(f"/v1/approvals/{first['id']}/approve", headers=ben.headers,
                 json={"evidence_id": rejection})
    assert r.status_code == 403 and r.json()["code"] == "step_up_mismatch", r.text
    assert balance(api, wallet) == before


def test_a_command_changed_after_its_approval_is_not_executed(
        api: TestClient, monkeypatch: pytest.MonkeyPatch) -> None:
    payment_id, wallet = paid(api)
    before = balance(api, wallet)
    platform = platform_of(api)
    ann, ben = passkey_staff(api, "ann", "risk"), passkey_staff(api, "ben", "risk")
    asked = refund_request(api, ann, payment_id)
    # the process dies between the approval's commit and the execution
    with monkeypatch.context() as m:
        m.setattr(platform.approvals, "execute", lambda approval_id: None)
        decide(api, ben, asked)
    # an insider edits the approved row: a larger refund, with a hash to match
    params = {**asked["params"], "amount": 20_000}
    text = canonical("refund", params)
    with platform.database.engine.begin() as conn:
        conn.execute(update(approvals).where(approvals.c.id == asked["id"]).values(
            command=text, command_hash=command_hash(text), amount=20_000))
    assert platform.approvals.resume() == 1
    after = api.get(f"/v1/approvals/{asked['id']}", headers=ben.headers).json()
    assert after["state"] == "failed" and after["reason"].startswith("approval_tampered")
    assert balance(api, wallet) == before


def test_a_rejected_withdrawn_or_expired_request_moves_nothing(api: TestClient) -> None:
    payment_id, wallet = paid(api)
    before = balance(api, wallet)
    ann, ben = passkey_staff(api, "ann", "risk"), passkey_staff(api, "ben", "risk")
    rejected = refund_request(api, ann, payment_id, "r-1")
    r = decide(api, ben, rejected, "reject", reason="the buyer has the goods")
    assert r.status_code == 200 and r.json()["state"] == "rejected", r.text
    assert r.json()["reason"] == "the buyer has the goods"
    r = decide(api, ben, rejected)
    assert r.status_code == 409 and r.json()["code"] == "approval_not_pending", r.text

    withdrawn = refund_request(api, ann, payment_id, "r-2")
    r = api.post(f"/v1/approvals/{withdrawn['id']}/withdraw", headers=ben.headers,
                 json={"reason": "not mine to take back"})
    assert r.status_code == 403 and r.json()["code"] == "approval_not_yours", r.text
    r = api.post(f"/v1/approvals/{withdrawn['id']}/withdraw", headers=ann.headers,
                 json={"reason": "submitted twice"})
    assert r.status_code == 200 and r.json()["state"] == "withdrawn", r.text

    platform_of(api).approvals.ttl_s = 600  # inside a signed-in session's idle time
    late = refund_request(api, ann, payment_id, "r-3")
    platform_of(api).clock.advance(600)  # type: ignore[attr-defined]
    proof = evidence(api, ben, late, "approve")
    r = api.post(f"/v1/approvals/{late['id']}/approve", headers=ben.headers,
                 json={"evidence_id": proof})
    assert r.status_code == 409 and r.json()["code"] == "approval_expired", r.text
    listed = api.get("/v1/approvals?state=expired", headers=ben.headers).json()["data"]
    assert [a["id"] for a in listed] == [late["id"]]
    assert platform_of(api).approvals.expire() == 1
    assert balance(api, wallet) == before


def test_a_persons_ledger_transfers_wait_and_a_service_posts_directly(api: TestClient) -> None:
    platform = platform_of(api)
    service = bearer(service_token(platform))
    api.post("/v1/ledgers", headers=service, json={"currency": "EUR"})  # 201, or 409 if there
    accounts = []
    for code in (1, 2):
        r = api.post("/v1/accounts", headers=service, json={"ledger": "EUR", "code": code})
        assert r.status_code == 201, r.text
        accounts.append(r.json()["id"])
    move = {"id": "t-1", "debit_account_id": accounts[0], "credit_account_id": accounts[1],
            "amount": 700, "ledger": "EUR", "code": 1}
    olga, otto = passkey_staff(api, "olga", "operator"), passkey_staff(api, "otto", "operator")
    r = api.post("/v1/transfers", headers=olga.headers, json={"transfers": [move]})
    assert r.status_code == 202, r.text
    asked = r.json()["approval"]
    assert (asked["kind"], asked["amount"], asked["currency"]) == ("ledger_transfers", 700, "EUR")
    assert api.get("/v1/transfers/t-1", headers=service).status_code == 404
    r = decide(api, otto, asked)
    assert r.status_code == 200 and r.json()["state"] == "executed", r.text
    assert r.json()["result"]["results"] == [{"id": "t-1", "result": "ok"}]
    assert api.get("/v1/transfers/t-1", headers=service).json()["amount"] == 700
    # a machine principal posts directly, and its retry answers `exists`
    r = api.post("/v1/transfers", headers=service, json={"transfers": [{**move, "id": "t-2"}]})
    assert r.status_code == 200 and r.json()["results"][0]["result"] == "ok", r.text
    r = api.post("/v1/transfers", headers=service, json={"transfers": [move]})
    assert r.json()["results"][0]["result"] == "exists", r.text
    assert platform.approvals.list(state="pending") == []


def _evidence_of(api: TestClient, approval_id: str) -> str:
    with platform_of(api).database.engine.connect() as conn:
        return str(conn.execute(approvals.select().where(
            approvals.c.id == approval_id)).mappings().one()["evidence_id"])


def _audit_actions(api: TestClient, object_id: str) -> list[str]:
    with platform_of(api).database.engine.connect() as conn:
        return list(conn.execute(select(audit_entries.c.action).where(
            audit_entries.c.object == object_id).order_by(audit_entries.c.seq)).scalars())
