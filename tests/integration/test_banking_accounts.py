"""Bank accounts and the bank's movements over HTTP: opening, IBANs, own transfers,
deposits and withdrawals through the rail, freezing and closing, exactly once."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from schwifty import IBAN
from sqlalchemy import select

from paywarden.adapters.clock import FakeClock
from paywarden.adapters.store import Database
from paywarden.adapters.store.schema import audit_entries
from paywarden.api import create_app
from paywarden.domain.money import Money
from paywarden.services.banking import Movement, MovementKind, MovementState
from paywarden.services.ledger.verify import verify_ledger

from ..support.approvals import decide, passkey_staff
from ..support.banking import balance_of, deposit, open_account
from ..support.identity import passkey_customer
from ..support.merchants import client_for, platform_for
from ..support.platform import bearer, platform_of, staff_token


@pytest.fixture
def api(database: Database, clock: FakeClock, tmp_path: Path) -> Iterator[TestClient]:
    platform = platform_for(database, clock, tmp_path)
    with client_for(create_app(platform)) as client:
        client.app.state.platform = platform  # type: ignore[attr-defined]
        yield client


def test_a_customer_opens_accounts_each_with_a_valid_iban_at_this_bank(api: TestClient) -> None:
    _, token, _ = passkey_customer(api, "ada")
    current = open_account(api, token, "current", "EUR", "Everyday")
    savings = open_account(api, token, "savings", "EUR", "Rainy day")
    wallet = open_account(api, token, "wallet", "EUR", "Wallet")
    for account in (current, savings, wallet):
        iban = IBAN(account["iban"])  # raises on a bad check digit
        assert (iban.country_code, iban.bank_code) == ("NL", "PAYW")
        assert account["booked"] == 0 and account["state"] == "open"
    listed = api.get("/v1/me/accounts", headers=bearer(token)).json()["data"]
    assert {a["id"] for a in listed} == {current["id"], savings["id"], wallet["id"]}
    r = api.post("/v1/me/accounts", headers=bearer(token),
                 json={"product": "wallet", "currency": "EUR", "name": "Second"})
    assert r.status_code == 409 and r.json()["code"] == "wallet_exists"


def test_bad_input_is_refused_and_opens_nothing(api: TestClient) -> None:
    _, token, _ = passkey_customer(api, "ada")
    for body, code in (({"product": "loan", "currency": "EUR", "name": "x"},
                        "validation_failed"),
                       ({"product": "current", "currency": "XXQ", "name": "x"},
                        "currency_unknown"),
                       ({"product": "current", "currency": "EUR", "name": "a\u202eb"},
                        "text_bidi_control")):
        r = api.post("/v1/me/accounts", headers=bearer(token), json=body)
        assert r.status_code in (400, 422), r.text
        assert r.json()["code"] == code
    assert api.get("/v1/me/accounts", headers=bearer(token)).json()["data"] == []


def test_another_customers_account_is_not_found_in_every_route(api: TestClient) -> None:
    _, ada, _ = passkey_customer(api, "ada")
    _, bob, _ = passkey_customer(api, "bob")
    theirs = open_account(api, bob)
    mine = open_account(api, ada)
    deposit(api, theirs["iban"], 10_000)
    assert api.get(f"/v1/me/accounts/{theirs['id']}", headers=bearer(ada)).status_code == 404
    r = api.post("/v1/me/transfers/own", headers=bearer(ada), json={
        "from_account": theirs["id"], "to_account": mine["id"], "amount": 100,
        "currency": "EUR"})
    assert r.status_code == 404
    assert balance_of(api, bob, theirs["id"]) == 10_000


def test_own_transfers_move_money_once_per_id(api: TestClient) -> None:
    _, token, _ = passkey_customer(api, "ada")
    current = open_account(api, token)
    savings = open_account(api, token, "savings", name="Savings")
    deposit(api, current["iban"], 50_000)
    body = {"id": "move-0001", "from_account": current["id"], "to_account": savings["id"],
            "amount": 20_000, "currency": "EUR", "reference": "save"}
    first = api.post("/v1/me/transfers/own", headers=bearer(token), json=body)
    assert first.status_code == 201, first.text
    again = api.post("/v1/me/transfers/own", headers=bearer(token), json=body)
    assert again.status_code == 200 and again.json() == first.json()
    other = api.post("/v1/me/transfers/own", headers=bearer(token),
                     json={**body, "amount": 1})
    assert other.status_code == 409
    assert other.json()["code"] == "transfer_exists_with_different_fields"
    assert balance_of(api, token, current["id"]) == 30_000
    assert balance_of(api, token, savings["id"]) == 20_000
    too_much = api.post("/v1/me/transfers/own", headers=bearer(token), json={
        **body, "id": "move-0002", "amount": 30_001})
    assert too_much.status_code == 402 and too_much.json()["code"] == "insufficient_funds"
    for amount in (0, -5, 1.5, "10"):
        r = api.post("/v1/me/transfers/own", headers=bearer(token),
                     json={**body, "id": "move-0003", "amount": amount})
        assert r.status_code == 422, (amount, r.text)
    assert balance_of(api, token, current["id"]) == 30_000


def test_a_wallet_top_up_issues_e_money_that_stays_safeguarded(api: TestClient) -> None:
    _, token, _ = passkey_customer(api, "ada")
    current = open_account(api, token)
    wallet = open_account(api, token, "wallet", name="Wallet")
    deposit(api, current["iban"], 10_000)
    r = api.post("/v1/me/transfers/own", headers=bearer(token), json={
        "from_account": current["id"], "to_account": wallet["id"], "amount": 4_000,
        "currency": "EUR"})
    assert r.status_code == 201 and r.json()["kind"] == "top_up"
    platform = platform_of(api)
    from paywarden.domain.ledger.chart import AccountKind
    from paywarden.services.ledger.accounts import platform_account

    held = platform.queries.account(platform_account(AccountKind.SAFEGUARDING, "EUR").id,
                                    now_ns=platform.clock.now_ns())
    assert held is not None
    assert held.balances.credits_posted - held.balances.debits_posted == 4_000
    api.post("/v1/me/transfers/own", headers=bearer(token), json={
        "from_account": wallet["id"], "to_account": current["id"], "amount": 1_000,
        "currency": "EUR"})
    held = platform.queries.account(held.id, now_ns=platform.clock.now_ns())
    assert held is not None
    assert held.balances.credits_posted - held.balances.debits_posted == 3_000
    assert balance_of(api, token, wallet["id"]) == 3_000


def test_a_withdrawal_is_pending_until_the_rail_answers(api: TestClient) -> None:
    _, token, _ = passkey_customer(api, "ada")
    user = platform_of(api).banking.accounts
    current = open_account(api, token)
    deposit(api, current["iban"], 10_000)
    platform = platform_of(api)
    movements = platform.banking.movements
    owner = user.get(current["id"])
    assert owner is not None
    accepted = movements.execute(Movement(
        "wd-ok", MovementKind.WITHDRAWAL, owner.user_id, current["id"], None,
        Money(3_000, "EUR"), "to my other bank", counterparty_iban="DE89370400440532013000",
        counterparty_name="Ada"))
    rejected = movements.execute(Movement(
        "wd-no", MovementKind.WITHDRAWAL, owner.user_id, current["id"], None,
        Money(2_000, "EUR"), "closed elsewhere", counterparty_iban="DE75512108001245126199",
        counterparty_name="Ada"))
    platform.banking.rail.rail.rejected.add("DE75512108001245126199")  # type: ignore[attr-defined]
    assert (accepted.state, rejected.state) == (MovementState.PENDING, MovementState.PENDING)
    account = api.get(f"/v1/me/accounts/{current['id']}", headers=bearer(token)).json()
    assert (account["booked"], account["available"]) == (10_000, 5_000)
    assert platform.banking.rail.run_due() == 2
    assert platform.banking.rail.run_due() == 0  # settled once
    account = api.get(f"/v1/me/accounts/{current['id']}", headers=bearer(token)).json()
    assert (account["booked"], account["available"]) == (7_000, 7_000)
    assert verify_ledger(platform.database) == []


def test_staff_freeze_blocks_sending_not_receiving_and_close_needs_zero(
        api: TestClient) -> None:
    _, token, _ = passkey_customer(api, "ada")
    current = open_account(api, token)
    savings = open_account(api, token, "savings", name="Savings")
    deposit(api, current["iban"], 5_000)
    support = bearer(staff_token(platform_of(api), "support"))
    url = f"/v1/staff/bank-accounts/{current['id']}"
    assert api.post(url + "/freeze", headers=support,
                    json={"reason": "suspected takeover"}).status_code == 200
    r = api.post("/v1/me/transfers/own", headers=bearer(token), json={
        "from_account": current["id"], "to_account": savings["id"], "amount": 100,
        "currency": "EUR"})
    assert r.status_code == 409 and r.json()["code"] == "account_frozen"
    deposit(api, current["iban"], 1_000)  # a frozen account still receives
    assert balance_of(api, token, current["id"]) == 6_000
    r = api.post(url + "/close", headers=support, json={"reason": "customer left"})
    assert r.status_code == 409 and r.json()["code"] == "account_not_empty"
    asked = api.post(url + "/unfreeze", headers=support, json={"reason": "customer verified"})
    assert asked.status_code == 202, asked.text  # a second person frees it (decision 0041)
    r = api.post("/v1/me/transfers/own", headers=bearer(token), json={
        "from_account": current["id"], "to_account": savings["id"], "amount": 100,
        "currency": "EUR"})
    assert r.status_code == 409 and r.json()["code"] == "account_frozen"  # not yet
    sue = passkey_staff(api, "sue", "support")  # support submits unfreezes; risk approves
    r = decide(api, sue, asked.json()["approval"])
    assert r.status_code == 403 and r.json()["code"] == "approver_role_refused", r.text
    done = decide(api, passkey_staff(api, "rita", "risk"), asked.json()["approval"])
    assert done.status_code == 200 and done.json()["state"] == "executed", done.text
    assert done.json()["result"] == {"account_id": current["id"], "state": "open"}
    api.post("/v1/me/transfers/own", headers=bearer(token), json={
        "from_account": current["id"], "to_account": savings["id"], "amount": 6_000,
        "currency": "EUR"})
    assert api.post(url + "/close", headers=support,
                    json={"reason": "customer left"}).json()["state"] == "closed"
    r = api.post("/v1/me/transfers/own", headers=bearer(token), json={
        "from_account": savings["id"], "to_account": current["id"], "amount": 1,
        "currency": "EUR"})
    assert r.status_code == 409 and r.json()["code"] == "account_closed"
    assert api.post(url + "/freeze", headers=bearer(token),
                    json={"reason": "myself"}).status_code == 403
    with platform_of(api).database.engine.connect() as conn:
        actions = list(conn.execute(select(audit_entries.c.action).where(
            audit_entries.c.object == current["id"]).order_by(audit_entries.c.seq)).scalars())
    assert actions == ["bank_account.open", "bank_account.freeze", "bank_account.unfreeze",
                       "bank_account.close"]


def test_a_deposit_is_credited_once_per_rail_id(api: TestClient) -> None:
    _, token, _ = passkey_customer(api, "ada")
    current = open_account(api, token)
    deposit(api, current["iban"], 2_500, rail_id="rail-00000001")
    deposit(api, current["iban"], 2_500, rail_id="rail-00000001")
    assert balance_of(api, token, current["id"]) == 2_500
