"""Transfers to other parties: confirmation of payee, payees confirmed with a step-up and
cooling off, transfers within limits, the interrupt hook — and every attack on them
moves nothing."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from paywarden.adapters.clock import FakeClock
from paywarden.adapters.store import Database
from paywarden.adapters.store.schema import bank_payees
from paywarden.services.banking import Decision, Screen
from paywarden.services.banking.movements import Movement
from paywarden.services.ledger.verify import verify_ledger

from ..support.platform import bearer, platform_of, staff_token
from ..support.transfers import (
    COOLING_S,
    DAY_S,
    ELSEWHERE,
    Customer,
    add_payee,
    balances,
    confirm,
    customer,
    send,
    transfer_api,
    wait,
)


@pytest.fixture
def api(database: Database, clock: FakeClock, tmp_path: Path) -> Iterator[TestClient]:
    yield from transfer_api(database, clock, tmp_path)


@pytest.fixture
def ada(api: TestClient) -> Customer:
    return customer(api, "ada", funds=1_000_00)


@pytest.fixture
def bob(api: TestClient) -> Customer:
    return customer(api, "bob")


def cooled(api: TestClient, who: Customer, name: str, iban: str) -> dict[str, Any]:
    """A payee past its cooling-off."""
    payee = add_payee(api, who, name, iban)
    wait(api, COOLING_S)
    return payee


def check(api: TestClient, who: Customer, name: str, iban: str) -> Any:
    return api.post("/v1/me/payees/check", headers=who.headers,
                    json={"name": name, "iban": iban})


def test_confirmation_of_payee_answers_match_close_match_no_match_and_unavailable(
        api: TestClient, ada: Customer, bob: Customer) -> None:
    iban = bob.account["iban"]
    match = check(api, ada, "bob", iban).json()
    assert (match["result"], match["holder_name"]) == ("match", None)
    assert match["step_up"] == {"type": "new_payee", "amount": 0, "currency": None,
                                "payee": iban, "reference": "bob"}
    assert "never ask you to add a payee" in match["tip"]
    close = check(api, ada, "Bobb", iban).json()
    assert (close["result"], close["holder_name"]) == ("close_match", "Bob")
    other = check(api, ada, "Carol Smith", iban).json()
    assert (other["result"], other["holder_name"]) == ("no_match", None)
    spaced = " ".join(iban[i:i + 4] for i in range(0, len(iban), 4)).lower()
    assert check(api, ada, "Bob", spaced).json()["iban"] == iban
    elsewhere = check(api, ada, "Bob", ELSEWHERE).json()
    assert (elsewhere["result"], elsewhere["bank"]) == ("unavailable", "other")
    bank = platform_of(api).banking.accounts.bank
    nobody = bank.new_iban()  # ours, but no account: no_match, not "does not exist"
    assert check(api, ada, "Bob", nobody).json()["result"] == "no_match"
    r = check(api, ada, "Bob", "NL00PAYW0000000000")
    assert r.status_code == 422 and r.json()["code"] == "iban_invalid"


def test_a_payee_is_added_with_a_step_up_over_its_details_then_cools_off(
        api: TestClient, ada: Customer, bob: Customer) -> None:
    iban = bob.account["iban"]
    payee = add_payee(api, ada, "Bob", iban)
    assert (payee["state"], payee["cop"], payee["bank"]) == ("cooling", "match", "paywarden")
    assert payee["cooling_off_until"] == "2026-01-01T01:00:00.000000000Z"
    assert "cooling-off" in payee["tip"] and "never ask you" in payee["tip"]
    listed = api.get("/v1/me/payees", headers=ada.headers).json()["data"]
    assert [p["id"] for p in listed] == [payee["id"]]
    notes = api.get("/v1/me/notifications", headers=ada.headers).json()["data"]
    assert any(n["kind"] == "payee_added" for n in notes)
    wait(api, COOLING_S)
    assert api.get(f"/v1/me/payees/{payee['id']}",
                   headers=ada.headers).json()["state"] == "active"
    again = api.post("/v1/me/payees", headers=ada.headers, json={
        "name": "Bob", "iban": iban, "currency": "EUR",
        "evidence_id": confirm(api, ada, "new_payee", 0, iban, "Bob")})
    assert again.status_code == 409 and again.json()["code"] == "payee_exists"


def test_a_payee_with_a_forged_altered_or_replayed_step_up_is_not_added(
        api: TestClient, ada: Customer, bob: Customer) -> None:
    iban = bob.account["iban"]
    body = {"name": "Bob", "iban": iban, "currency": "EUR"}
    forged = api.post("/v1/me/payees", headers=ada.headers,
                      json={**body, "evidence_id": "evd_0000000000000000"})
    assert forged.status_code == 403 and forged.json()["code"] == "step_up_required"
    for name, payee in (("Mallory", iban), ("Bob", ELSEWHERE)):  # the trojan's edit
        evidence = confirm(api, ada, "new_payee", 0, payee, name)
        altered = api.post("/v1/me/payees", headers=ada.headers,
                           json={**body, "evidence_id": evidence})
        assert altered.status_code == 403 and altered.json()["code"] == "step_up_mismatch"
    theirs = confirm(api, bob, "new_payee", 0, iban, "Bob")
    r = api.post("/v1/me/payees", headers=ada.headers, json={**body, "evidence_id": theirs})
    assert r.status_code == 403 and r.json()["code"] == "step_up_required"
    payee = add_payee(api, ada, "Bob", iban)
    api.delete(f"/v1/me/payees/{payee['id']}", headers=ada.headers)
    with platform_of(api).database.engine.connect() as conn:
        used = conn.execute(select(bank_payees.c.evidence_id)).scalar_one()
    replayed = api.post("/v1/me/payees", headers=ada.headers, json={**body, "evidence_id": used})
    assert replayed.status_code == 403 and replayed.json()["code"] == "step_up_required"
    assert api.get("/v1/me/payees", headers=ada.headers).json()["data"] == []


def test_a_transfer_to_a_payee_here_posts_at_once_and_once_per_id(
        api: TestClient, ada: Customer, bob: Customer) -> None:
    payee = cooled(api, ada, "Bob", bob.account["iban"])
    evidence = confirm(api, ada, "transfer", 200_00, payee["iban"], "dinner")
    first = send(api, ada, payee, 200_00, "dinner", evidence_id=evidence, id="pay-bob-0001")
    assert first.status_code == 201, first.text
    assert (first.json()["kind"], first.json()["state"]) == ("internal", "posted")
    again = send(api, ada, payee, 200_00, "dinner", evidence_id=evidence, id="pay-bob-0001")
    assert again.status_code == 200 and again.json() == first.json()
    assert balances(api, ada) == (800_00, 800_00)
    assert balances(api, bob) == (200_00, 200_00)
    mine = api.get("/v1/me/transfers", headers=ada.headers).json()["data"]
    assert (mine[0]["direction"], mine[0]["counterparty_iban"]) == ("out", payee["iban"])
    theirs = api.get("/v1/me/transfers", headers=bob.headers).json()["data"]
    assert [(t["direction"], t["amount"]) for t in theirs] == [("in", 200_00)]


def test_the_transfer_history_is_paginated_by_cursor(
        api: TestClient, ada: Customer, bob: Customer) -> None:
    payee = cooled(api, ada, "Bob", bob.account["iban"])
    for n in range(3):
        assert send(api, ada, payee, 10_00 + n).status_code == 201
        platform_of(api).clock.advance(1)  # type: ignore[attr-defined]
    seen: list[int] = []
    cursor = None
    while True:
        query = "?limit=2" + (f"&cursor={cursor}" if cursor else "")
        page = api.get("/v1/me/transfers" + query, headers=ada.headers).json()
        seen += [t["amount"] for t in page["data"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == [10_02, 10_01, 10_00, 1_000_00]  # newest first, the deposit last


def test_a_transfer_to_another_bank_is_pending_until_the_rail_answers(
        api: TestClient, ada: Customer) -> None:
    payee = cooled(api, ada, "Ada at her old bank", ELSEWHERE)
    r = send(api, ada, payee, 300_00, "moving my savings")
    assert r.status_code == 201, r.text
    assert (r.json()["kind"], r.json()["state"]) == ("external", "pending")
    assert balances(api, ada) == (1_000_00, 700_00)
    assert platform_of(api).banking.rail.run_due() == 1
    assert balances(api, ada) == (700_00, 700_00)
    assert verify_ledger(platform_of(api).database) == []


def test_a_cooling_payee_receives_only_the_small_amount_in_all(
        api: TestClient, ada: Customer, bob: Customer) -> None:
    payee = add_payee(api, ada, "Bob", bob.account["iban"])
    assert send(api, ada, payee, 30_00).status_code == 201
    r = send(api, ada, payee, 30_00)  # 60.00 in all: over the 50.00 a cooling payee gets
    assert r.status_code == 409 and r.json()["code"] == "payee_cooling_off"
    assert balances(api, bob)[0] == 30_00
    wait(api, COOLING_S)
    assert send(api, ada, payee, 30_00).status_code == 201


def test_a_transfer_with_a_forged_altered_or_replayed_step_up_moves_nothing(
        api: TestClient, ada: Customer, bob: Customer) -> None:
    payee = cooled(api, ada, "Bob", bob.account["iban"])
    other = cooled(api, ada, "Elsewhere", ELSEWHERE)
    r = send(api, ada, payee, 100_00, evidence_id="evd_0000000000000000")
    assert r.status_code == 403 and r.json()["code"] == "step_up_required"
    for amount, iban, reference in ((10_00, payee["iban"], ""),  # another amount
                                    (100_00, other["iban"], ""),  # another payee
                                    (100_00, payee["iban"], "rent")):  # another reference
        evidence = confirm(api, ada, "transfer", amount, iban, reference)
        r = send(api, ada, payee, 100_00, evidence_id=evidence)
        assert r.status_code == 403 and r.json()["code"] == "step_up_mismatch", r.text
    evidence = confirm(api, ada, "top_up", 100_00, payee["iban"], "")  # another operation
    assert send(api, ada, payee, 100_00, evidence_id=evidence).json()["code"] == \
        "step_up_mismatch"
    evidence = confirm(api, ada, "transfer", 100_00, payee["iban"], "")
    assert send(api, ada, payee, 100_00, evidence_id=evidence).status_code == 201
    replayed = send(api, ada, payee, 100_00, evidence_id=evidence, id="another-id-01")
    assert replayed.status_code == 403 and replayed.json()["code"] == "step_up_required"
    theirs = confirm(api, bob, "transfer", 100_00, payee["iban"], "")
    assert send(api, ada, payee, 100_00, evidence_id=theirs).json()["code"] == \
        "step_up_required"
    assert balances(api, ada) == (900_00, 900_00)


def test_a_transfer_over_each_limit_moves_nothing(
        api: TestClient, ada: Customer, bob: Customer) -> None:
    for kind, amount in (("per_transfer", 100_00), ("per_day", 150_00),
                         ("per_payee", 120_00)):
        r = api.put(f"/v1/me/limits/{kind}", headers=ada.headers,
                    json={"currency": "EUR", "amount": amount})  # lowering: no step-up
        assert r.status_code == 200 and r.json()["amount"] == amount, r.text
    payee = cooled(api, ada, "Bob", bob.account["iban"])
    second = cooled(api, ada, "Elsewhere", ELSEWHERE)
    r = send(api, ada, payee, 100_01)
    assert r.status_code == 422 and r.json()["code"] == "limit_per_transfer_exceeded"
    assert send(api, ada, payee, 100_00).status_code == 201
    r = send(api, ada, payee, 30_00)  # 130.00 to one payee in 24 hours
    assert r.status_code == 422 and r.json()["code"] == "limit_per_payee_exceeded"
    r = send(api, ada, second, 60_00)  # 160.00 in 24 hours
    assert r.status_code == 422 and r.json()["code"] == "limit_per_day_exceeded"
    assert balances(api, ada) == (900_00, 900_00)
    assert send(api, ada, second, 50_00).status_code == 201  # exactly the day's limit
    wait(api, DAY_S - 60, ada)  # the first transfers are 24 h old in a minute
    assert send(api, ada, second, 1_00).json()["code"] == "limit_per_day_exceeded"
    wait(api, 61, ada)
    assert send(api, ada, second, 60_00).status_code == 201  # a rolling 24 hours later


def test_a_voided_transfer_no_longer_counts_against_the_day(
        api: TestClient, ada: Customer) -> None:
    api.put("/v1/me/limits/per_day", headers=ada.headers,
            json={"currency": "EUR", "amount": 100_00})
    payee = cooled(api, ada, "Elsewhere", ELSEWHERE)
    assert send(api, ada, payee, 100_00).status_code == 201
    assert send(api, ada, payee, 1_00).json()["code"] == "limit_per_day_exceeded"
    platform_of(api).banking.rail.rail.rejected.add(ELSEWHERE)  # type: ignore[attr-defined]
    platform_of(api).banking.rail.run_due()
    assert send(api, ada, payee, 1_00).status_code == 201


def test_a_raised_limit_is_not_in_force_before_the_delay(
        api: TestClient, ada: Customer, bob: Customer) -> None:
    url = "/v1/me/limits/per_transfer"
    api.put(url, headers=ada.headers, json={"currency": "EUR", "amount": 100_00})
    r = api.put(url, headers=ada.headers, json={"currency": "EUR", "amount": 500_00})
    assert r.status_code == 403 and r.json()["code"] == "step_up_required"
    wrong = confirm(api, ada, "limit_change", 900_00, "per_transfer", "")
    r = api.put(url, headers=ada.headers,
                json={"currency": "EUR", "amount": 500_00, "evidence_id": wrong})
    assert r.status_code == 403 and r.json()["code"] == "step_up_mismatch"
    evidence = confirm(api, ada, "limit_change", 500_00, "per_transfer", "")
    r = api.put(url, headers=ada.headers,
                json={"currency": "EUR", "amount": 500_00, "evidence_id": evidence})
    assert r.status_code == 200, r.text
    raised = r.json()
    assert (raised["amount"], raised["pending_amount"]) == (100_00, 500_00)
    assert raised["pending_from"] == "2026-01-01T01:00:00.000000000Z" and "delay" in raised["tip"]
    notes = api.get("/v1/me/notifications", headers=ada.headers).json()["data"]
    assert any(n["kind"] == "limit_raised" for n in notes)
    payee = cooled(api, ada, "Bob", bob.account["iban"])  # the clock is now a day on
    limits = api.get("/v1/me/limits", headers=ada.headers).json()["data"]
    assert {(x["kind"], x["amount"], x["pending_amount"]) for x in limits} >= {
        ("per_transfer", 500_00, None)}
    assert send(api, ada, payee, 200_00).status_code == 201


def test_a_raise_waits_its_delay_so_a_transfer_before_it_is_refused(
        api: TestClient, ada: Customer, bob: Customer) -> None:
    payee = cooled(api, ada, "Bob", bob.account["iban"])
    url = "/v1/me/limits/per_transfer"
    api.put(url, headers=ada.headers, json={"currency": "EUR", "amount": 100_00})
    evidence = confirm(api, ada, "limit_change", 500_00, "per_transfer", "")
    api.put(url, headers=ada.headers,
            json={"currency": "EUR", "amount": 500_00, "evidence_id": evidence})
    wait(api, COOLING_S - 60)
    r = send(api, ada, payee, 200_00)
    assert r.status_code == 422 and r.json()["code"] == "limit_per_transfer_exceeded"
    r = api.put(url, headers=ada.headers, json={"currency": "EUR", "amount": 10_000_01,
                                                "evidence_id": evidence})
    assert r.status_code == 422 and r.json()["code"] == "limit_above_bank_max"
    lowered = api.put(url, headers=ada.headers, json={"currency": "EUR", "amount": 100_00})
    assert lowered.json()["pending_amount"] is None  # a lowering cancels the waiting raise
    wait(api, 120)
    assert send(api, ada, payee, 200_00).json()["code"] == "limit_per_transfer_exceeded"


def test_a_transfer_from_a_frozen_account_moves_nothing(
        api: TestClient, ada: Customer, bob: Customer) -> None:
    payee = cooled(api, ada, "Bob", bob.account["iban"])
    support = bearer(staff_token(platform_of(api), "support"))
    api.post(f"/v1/staff/bank-accounts/{ada.account['id']}/freeze", headers=support,
             json={"reason": "suspected takeover"})
    r = send(api, ada, payee, 10_00)
    assert r.status_code == 409 and r.json()["code"] == "account_frozen"
    assert balances(api, ada) == (1_000_00, 1_000_00)


def test_another_customers_payee_or_account_is_not_found(
        api: TestClient, ada: Customer, bob: Customer) -> None:
    bobs_payee = cooled(api, bob, "Ada", ada.account["iban"])
    mine = add_payee(api, ada, "Bob", bob.account["iban"])
    r = send(api, ada, bobs_payee, 10_00)
    assert r.status_code == 404 and r.json()["code"] == "not_found"
    r = send(api, ada, mine, 10_00, from_account=bob.account["id"])
    assert r.status_code == 404
    for method in ("GET", "DELETE"):
        assert api.request(method, f"/v1/me/payees/{bobs_payee['id']}",
                           headers=ada.headers).status_code == 404
    assert api.get(f"/v1/me/payees/{bobs_payee['id']}", headers=bob.headers).status_code == 200
    assert balances(api, ada)[0] == 1_000_00


def test_bad_amounts_and_currencies_are_refused_and_move_nothing(
        api: TestClient, ada: Customer, bob: Customer) -> None:
    payee = cooled(api, ada, "Bob", bob.account["iban"])
    evidence = confirm(api, ada, "transfer", 10_00, payee["iban"], "")
    for amount in (0, -5, 1.5, "10", 10**16):
        r = send(api, ada, payee, amount, evidence_id=evidence)  # type: ignore[arg-type]
        assert r.status_code == 422 and r.json()["code"] == "validation_failed", amount
    r = send(api, ada, payee, 10_00, evidence_id=evidence, currency="XXQ")
    assert r.status_code == 422 and r.json()["code"] == "currency_unknown"
    usd = confirm(api, ada, "transfer", 10_00, payee["iban"], "", currency="USD")
    r = send(api, ada, payee, 10_00, evidence_id=usd, currency="USD")
    assert r.status_code == 422 and r.json()["code"] == "currency_mismatch"
    assert balances(api, ada)[0] == 1_000_00
    assert send(api, ada, payee, 10_00, evidence_id=evidence).status_code == 201  # unused


class Holds:
    def __init__(self, decision: Decision) -> None:
        self.decision = decision
        self.seen: list[Movement] = []

    def screen(self, movement: Movement, *, earlier: Any = ()) -> Screen:
        self.seen.append(movement)
        return Screen(self.decision, ("new_device",))


def test_the_interrupt_hook_holds_a_transfer_until_it_is_released_or_voided(
        api: TestClient, ada: Customer, bob: Customer) -> None:
    payee = cooled(api, ada, "Bob", bob.account["iban"])
    banking = platform_of(api).banking
    banking.movements.screening = hook = Holds(Decision.HOLD)
    held = send(api, ada, payee, 200_00).json()
    voided = send(api, ada, payee, 100_00).json()
    assert (held["state"], held["reason"]) == ("held", "review:new_device")
    assert [m.amount.amount_minor for m in hook.seen] == [200_00, 100_00]
    assert balances(api, ada) == (1_000_00, 700_00)  # reserved, not yet booked
    assert balances(api, bob) == (0, 0)
    assert banking.movements.settle(held["id"], post=True).state == "posted"
    assert banking.movements.settle(voided["id"], post=False).state == "voided"
    assert balances(api, ada) == (800_00, 800_00)
    assert balances(api, bob) == (200_00, 200_00)
    assert verify_ledger(platform_of(api).database) == []


def test_the_interrupt_hook_can_decline_and_then_nothing_moves(
        api: TestClient, ada: Customer, bob: Customer) -> None:
    payee = cooled(api, ada, "Bob", bob.account["iban"])
    platform_of(api).banking.movements.screening = Holds(Decision.DECLINE)
    evidence = confirm(api, ada, "transfer", 50_00, payee["iban"], "")
    r = send(api, ada, payee, 50_00, evidence_id=evidence)
    assert r.status_code == 422 and r.json()["code"] == "movement_declined"
    assert balances(api, ada) == (1_000_00, 1_000_00)
    assert api.get("/v1/me/transfers", headers=ada.headers).json()["data"][0]["kind"] == \
        "deposit"
