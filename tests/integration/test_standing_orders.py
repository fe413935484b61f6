"""Standing orders and scheduled transfers: made with a step-up over the schedule, run by
the maintenance chore once per occurrence however often it runs, failures kept with
their reason, and a closed account ends the order."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from paywarden.adapters.clock import FakeClock
from paywarden.adapters.store import Database
from paywarden.domain.money import Money
from paywarden.services.banking.standing_orders import occurrence_id
from paywarden.services.banking.transfers import Order

from ..support.platform import bearer, platform_of, staff_token
from ..support.transfers import (
    COOLING_S,
    DAY_S,
    Customer,
    add_payee,
    balances,
    confirm,
    customer,
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


@pytest.fixture
def payee(api: TestClient, ada: Customer, bob: Customer) -> dict[str, Any]:
    made = add_payee(api, ada, "Bob", bob.account["iban"])
    wait(api, COOLING_S)
    return made


def order(api: TestClient, who: Customer, payee: dict[str, Any], *, amount: int = 100_00,
          frequency: str = "monthly", start_on: str = "2026-01-01",
          end_on: str | None = "2026-03-31", reference: str = "Rent",
          evidence_id: str | None = None) -> Any:
    """Preview the order, confirm its step-up, make it."""
    body = {"from_account": who.account["id"], "payee_id": payee["id"], "amount": amount,
            "currency": "EUR", "reference": reference, "frequency": frequency,
            "start_on": start_on, "end_on": end_on}
    preview = api.post("/v1/me/standing-orders/preview", headers=who.headers, json=body)
    assert preview.status_code == 200, preview.text
    op = preview.json()["step_up"]
    evidence = evidence_id or confirm(api, who, op["type"], op["amount"], op["payee"],
                                      op["reference"])
    return api.post("/v1/me/standing-orders", headers=who.headers,
                    json={**body, "evidence_id": evidence})


def run_due(api: TestClient) -> int:
    return platform_of(api).banking.standing_orders.run_due()  # type: ignore[no-any-return]


def detail(api: TestClient, who: Customer, order_id: str) -> dict[str, Any]:
    r = api.get(f"/v1/me/standing-orders/{order_id}", headers=who.headers)
    assert r.status_code == 200, r.text
    return r.json()  # type: ignore[no-any-return]


def test_a_standing_order_is_confirmed_over_its_schedule_in_words(
        api: TestClient, ada: Customer, payee: dict[str, Any]) -> None:
    body = {"from_account": ada.account["id"], "payee_id": payee["id"], "amount": 100_00,
            "currency": "EUR", "reference": "Rent", "frequency": "monthly",
            "start_on": "2026-01-31", "end_on": "2026-06-30"}
    preview = api.post("/v1/me/standing-orders/preview", headers=ada.headers, json=body).json()
    words = "monthly on day 31 from 2026-01-31 until 2026-06-30: Rent"
    assert preview["schedule"] == words
    assert preview["step_up"] == {"type": "standing_order", "amount": 100_00,
                                  "currency": "EUR", "payee": payee["iban"],
                                  "reference": words}
    r = api.post("/v1/me/standing-orders", headers=ada.headers, json=body)
    assert r.status_code == 403 and r.json()["code"] == "step_up_required"
    weekly = confirm(api, ada, "standing_order", 100_00, payee["iban"],
                     "weekly on Saturdays from 2026-01-31 until 2026-06-30: Rent")
    r = api.post("/v1/me/standing-orders", headers=ada.headers,
                 json={**body, "evidence_id": weekly})
    assert r.status_code == 403 and r.json()["code"] == "step_up_mismatch"
    made = order(api, ada, payee, start_on="2026-01-31", end_on="2026-06-30")
    assert made.status_code == 201, made.text
    assert (made.json()["state"], made.json()["next_on"]) == ("active", "2026-01-31")
    listed = api.get("/v1/me/standing-orders", headers=ada.headers).json()["data"]
    assert [o["id"] for o in listed] == [made.json()["id"]]


def test_bad_schedules_are_refused(api: TestClient, ada: Customer,
                                   payee: dict[str, Any]) -> None:
    body = {"from_account": ada.account["id"], "payee_id": payee["id"], "amount": 100_00,
            "currency": "EUR", "frequency": "monthly"}
    for start, end in (("2025-12-31", "2026-03-01"),  # in the past
                       ("2026-03-01", "2026-02-01"),  # ends before it starts
                       ("2026-01-05", "2040-01-05"),  # past the horizon
                       ("2026-02-30", "2026-03-01")):  # no such date
        r = api.post("/v1/me/standing-orders/preview", headers=ada.headers,
                     json={**body, "start_on": start, "end_on": end})
        assert r.status_code == 422 and r.json()["code"] == "schedule_invalid", (start, r.text)
    r = api.post("/v1/me/standing-orders/preview", headers=ada.headers,
                 json={**body, "amount": 0, "start_on": "2026-01-05"})
    assert r.status_code == 422


def test_running_the_chore_twice_pays_each_occurrence_once(
        api: TestClient, ada: Customer, bob: Customer, payee: dict[str, Any]) -> None:
    made = order(api, ada, payee).json()
    assert run_due(api) == 1
    assert run_due(api) == 0
    assert balances(api, bob)[0] == 100_00
    wait(api, 31 * DAY_S, ada, bob)  # 1 February
    assert run_due(api) == 1 and run_due(api) == 0
    wait(api, 28 * DAY_S, ada, bob)  # 1 March, the last
    assert run_due(api) == 1
    assert balances(api, bob)[0] == 300_00
    done = detail(api, ada, made["id"])
    assert (done["state"], done["reason"], done["next_on"]) == ("ended", "completed", None)
    assert [(r["on"], r["state"]) for r in done["runs"]] == [
        ("2026-03-01", "posted"), ("2026-02-01", "posted"), ("2026-01-01", "posted")]


def test_a_crash_between_the_money_and_the_record_never_pays_twice(
        api: TestClient, ada: Customer, bob: Customer, payee: dict[str, Any]) -> None:
    made = order(api, ada, payee).json()
    banking = platform_of(api).banking
    user = banking.accounts.get(ada.account["id"])
    assert user is not None
    mid = occurrence_id(made["id"], date(2026, 1, 1))  # the money moved, then the crash
    banking.transfers.send(Order(user.user_id, mid, ada.account["id"], payee["id"],
                                 Money(100_00, "EUR"), "Rent"), evidence_id=None)
    assert run_due(api) == 1  # the rerun finds the movement and records it
    assert balances(api, bob)[0] == 100_00
    runs = detail(api, ada, made["id"])["runs"]
    assert [(r["on"], r["movement_id"]) for r in runs] == [("2026-01-01", mid)]


def test_a_catch_up_runs_every_missed_occurrence_once(
        api: TestClient, ada: Customer, bob: Customer, payee: dict[str, Any]) -> None:
    order(api, ada, payee, frequency="weekly", amount=10_00, end_on="2026-01-31")
    wait(api, 20 * DAY_S, ada, bob)  # the 1st, 8th, 15th are due
    assert run_due(api) == 3 and run_due(api) == 0
    assert balances(api, bob)[0] == 30_00


def test_the_list_of_orders_shows_each_ones_latest_three_occurrences(
        api: TestClient, ada: Customer, bob: Customer, payee: dict[str, Any]) -> None:
    weekly = order(api, ada, payee, frequency="weekly", amount=10_00,
                   end_on="2026-01-31").json()
    quiet = order(api, ada, payee, start_on="2026-03-01", end_on="2026-05-31").json()
    wait(api, 27 * DAY_S, ada, bob)  # the 1st, 8th, 15th and 22nd are due
    assert run_due(api) == 4
    listed = {o["id"]: o for o in api.get("/v1/me/standing-orders",
                                          headers=ada.headers).json()["data"]}
    assert [r["on"] for r in listed[weekly["id"]]["runs"]] == [
        "2026-01-22", "2026-01-15", "2026-01-08"]
    assert all(r["state"] == "posted" for r in listed[weekly["id"]]["runs"])
    assert listed[quiet["id"]]["runs"] == []
    assert len(detail(api, ada, weekly["id"])["runs"]) == 4


def test_a_failed_occurrence_is_kept_with_its_reason_and_the_order_goes_on(
        api: TestClient, ada: Customer, bob: Customer, payee: dict[str, Any]) -> None:
    made = order(api, ada, payee, amount=600_00).json()
    assert run_due(api) == 1
    wait(api, 31 * DAY_S, ada, bob)
    assert run_due(api) == 1  # 400.00 left: insufficient funds
    seen = detail(api, ada, made["id"])
    assert seen["state"] == "active" and seen["next_on"] == "2026-03-01"
    assert [(r["state"], r["reason"]) for r in seen["runs"]] == [
        ("failed", "insufficient_funds"), ("posted", None)]
    assert balances(api, bob)[0] == 600_00


def test_an_occurrence_over_a_limit_fails_and_moves_nothing(
        api: TestClient, ada: Customer, bob: Customer, payee: dict[str, Any]) -> None:
    made = order(api, ada, payee, amount=200_00).json()
    api.put("/v1/me/limits/per_transfer", headers=ada.headers,
            json={"currency": "EUR", "amount": 100_00})
    assert run_due(api) == 1
    runs = detail(api, ada, made["id"])["runs"]
    assert [(r["state"], r["reason"]) for r in runs] == [
        ("failed", "limit_per_transfer_exceeded")]
    assert balances(api, bob)[0] == 0


def test_a_standing_order_whose_account_was_closed_ends_and_pays_nothing(
        api: TestClient, ada: Customer, bob: Customer, payee: dict[str, Any]) -> None:
    made = order(api, ada, payee, start_on="2026-01-10").json()
    savings = api.post("/v1/me/accounts", headers=ada.headers, json={
        "product": "savings", "currency": "EUR", "name": "Savings"}).json()
    api.post("/v1/me/transfers/own", headers=ada.headers, json={
        "from_account": ada.account["id"], "to_account": savings["id"], "amount": 1_000_00,
        "currency": "EUR"})
    support = bearer(staff_token(platform_of(api), "support"))
    r = api.post(f"/v1/staff/bank-accounts/{ada.account['id']}/close", headers=support,
                 json={"reason": "customer moved"})
    assert r.status_code == 200, r.text
    wait(api, 10 * DAY_S, ada, bob)
    assert run_due(api) == 1 and run_due(api) == 0
    ended = detail(api, ada, made["id"])
    assert (ended["state"], ended["reason"], ended["next_on"]) == (
        "ended", "account_closed", None)
    assert [(r["state"], r["reason"]) for r in ended["runs"]] == [("failed", "account_closed")]
    assert balances(api, bob)[0] == 0


def test_a_scheduled_one_off_transfer_runs_on_its_date_only(
        api: TestClient, ada: Customer, bob: Customer, payee: dict[str, Any]) -> None:
    made = order(api, ada, payee, frequency="once", start_on="2026-01-04", end_on=None,
                 reference="Deposit").json()
    assert made["schedule"] == "once on 2026-01-04: Deposit"
    assert run_due(api) == 0
    wait(api, 3 * DAY_S, ada, bob)
    assert run_due(api) == 1 and run_due(api) == 0
    assert detail(api, ada, made["id"])["state"] == "ended"
    assert balances(api, bob)[0] == 100_00


def test_cancelling_an_order_or_deleting_its_payee_stops_it(
        api: TestClient, ada: Customer, bob: Customer, payee: dict[str, Any]) -> None:
    first = order(api, ada, payee, start_on="2026-01-05").json()
    second = order(api, ada, payee, start_on="2026-01-06").json()
    r = api.delete(f"/v1/me/standing-orders/{first['id']}", headers=ada.headers)
    assert (r.json()["state"], r.json()["next_on"]) == ("cancelled", None)
    assert api.delete(f"/v1/me/payees/{payee['id']}",
                      headers=ada.headers).json()["state"] == "deleted"
    assert detail(api, ada, second["id"])["reason"] == "payee_deleted"
    wait(api, 7 * DAY_S, ada, bob)
    assert run_due(api) == 0
    assert balances(api, bob)[0] == 0
    for method in ("GET", "DELETE"):
        assert api.request(method, f"/v1/me/standing-orders/{second['id']}",
                           headers=bob.headers).status_code == 404


def test_the_maintenance_loop_runs_standing_orders(api: TestClient) -> None:
    names = [chore.name for chore in platform_of(api).chores()]
    assert "banking.standing_orders" in names
