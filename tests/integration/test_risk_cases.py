"""The analysts' queue: every movement held for review is a case, grouped per customer with
an SLA timer; release posts the held money and decline voids it, each once, audited, and
the customer is told in plain words; only the risk role answers, customers and merchants
read nothing; analysts' labels are stored, audited and exported for the retrain."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from paywarden.adapters.clock import FakeClock
from paywarden.adapters.store import Database
from paywarden.adapters.store.schema import audit_entries, bank_transfers, risk_labels
from paywarden.services.risk.labels import EXPORT_COLUMNS
from paywarden.services.risk_model.features import FEATURES

from ..support.merchants import code_of, make_merchant, signed
from ..support.platform import bearer, platform_of, staff_token
from ..support.transfers import (
    COOLING_S,
    Customer,
    add_payee,
    balances,
    customer,
    send,
    transfer_api,
    wait,
)

SLA_S = 600
HELD = 2  # 12 transfers in a minute: the last two are held (velocity_customer)


@pytest.fixture
def api(database: Database, clock: FakeClock, tmp_path: Path) -> Iterator[TestClient]:
    yield from transfer_api(database, clock, tmp_path,
                            risk_case_sla_s=SLA_S)


@pytest.fixture
def ada(api: TestClient) -> Customer:
    return customer(api, "ada", funds=5_000_00)


@pytest.fixture
def bob(api: TestClient) -> Customer:
    return customer(api, "bob")


@pytest.fixture
def analyst(api: TestClient) -> dict[str, str]:
    return bearer(staff_token(platform_of(api), "risk"))


@pytest.fixture
def held(api: TestClient, ada: Customer, bob: Customer) -> list[dict[str, Any]]:
    """Ada's last two of twelve quick transfers to Bob, held for review (3.00 EUR each)."""
    payee = add_payee(api, ada, "Bob", bob.account["iban"])
    wait(api, COOLING_S + 60, ada)  # adding the payee was screened too: out of the hour
    answers = [send(api, ada, payee, 3_00, f"t{i}").json() for i in range(12)]
    out = [a for a in answers if a["state"] == "held"]
    assert len(out) == HELD, answers
    return out


def queue(api: TestClient, headers: dict[str, str]) -> list[dict[str, Any]]:
    r = api.get("/v1/risk/cases", headers=headers)
    assert r.status_code == 200, r.text
    return list(r.json()["data"])


def case_of(api: TestClient, headers: dict[str, str], movement_id: str) -> dict[str, Any]:
    for group in queue(api, headers):
        for case in group["cases"]:
            if case["object_id"] == movement_id:
                return dict(case)
    raise AssertionError(f"no open case for {movement_id}")


def state_of(api: TestClient, movement_id: str) -> str:
    with platform_of(api).database.engine.connect() as conn:
        return str(conn.execute(select(bank_transfers.c.state).where(
            bank_transfers.c.id == movement_id)).scalar_one())


def notices(api: TestClient, who: Customer) -> list[dict[str, Any]]:
    r = api.get("/v1/me/notifications", headers=who.headers)
    assert r.status_code == 200, r.text
    body = r.json()
    return list(body["data"] if isinstance(body, dict) else body)


def actions(api: TestClient, object_id: str) -> list[tuple[str, str]]:
    with platform_of(api).database.engine.connect() as conn:
        return [(r[0], r[1]) for r in conn.execute(select(
            audit_entries.c.action, audit_entries.c.actor).where(
            audit_entries.c.object == object_id).order_by(audit_entries.c.seq))]


def test_held_movements_are_open_cases_grouped_per_customer_with_an_sla_timer(
        api: TestClient, ada: Customer, held: list[dict[str, Any]],
        analyst: dict[str, str]) -> None:
    groups = queue(api, analyst)
    assert len(groups) == 1 and groups[0]["kind"] == "customer"
    cases = groups[0]["cases"]
    assert sorted(c["object_id"] for c in cases) == sorted(m["id"] for m in held)
    assert all(c["decision"] == "review" and "velocity_customer" in c["reasons"]
               for c in cases)
    assert not cases[0]["sla"]["overdue"] and 0 < cases[0]["sla"]["left_s"] <= SLA_S
    platform_of(api).clock.advance(SLA_S + 1)  # type: ignore[attr-defined]
    late = queue(api, analyst)[0]
    assert late["overdue"] == HELD and all(c["sla"]["overdue"] for c in late["cases"])


def test_a_case_shows_its_evidence_the_held_movement_and_the_customers_history(
        api: TestClient, ada: Customer, bob: Customer, held: list[dict[str, Any]],
        analyst: dict[str, str]) -> None:
    case = case_of(api, analyst, held[0]["id"])
    r = api.get(f"/v1/risk/cases/{case['id']}", headers=analyst)
    assert r.status_code == 200, r.text
    got = r.json()
    assert got["features"]["velocity_customer_1m"] >= 10
    assert got["held"]["amount"] == 3_00 and got["held"]["state"] == "held"
    assert got["held"]["counterparty_iban"] == bob.account["iban"]
    # the payee's addition and the twelve transfers
    assert len(got["history"]) == 13 and got["outcome"] is None
    assert "risk.case_read" in [a for a, _ in actions(api, case["id"])]


def test_release_posts_the_held_money_once_and_the_customer_is_told(
        api: TestClient, ada: Customer, bob: Customer, held: list[dict[str, Any]],
        analyst: dict[str, str]) -> None:
    bob_before = balances(api, bob)[0]
    case = case_of(api, analyst, held[0]["id"])
    r = api.post(f"/v1/risk/cases/{case['id']}/release", headers=analyst,
                 json={"reason": "customer confirmed by phone"})
    assert r.status_code == 200, r.text
    assert r.json()["created"] and r.json()["result"] == "posted"
    assert state_of(api, held[0]["id"]) == "posted"
    assert balances(api, bob)[0] == bob_before + 3_00
    again = api.post(f"/v1/risk/cases/{case['id']}/decline", headers=analyst,
                     json={"reason": "changed my mind"})
    assert again.status_code == 200 and again.json()["outcome"] == "release"
    assert not again.json()["created"] and again.json()["reason"] == "customer confirmed by phone"
    assert state_of(api, held[0]["id"]) == "posted" and balances(api, bob)[0] == bob_before + 3_00
    told = [n for n in notices(api, ada) if n["kind"] == "review_release"]
    assert len(told) == 1 and "3.00 EUR" in told[0]["body"]
    assert [a for a, _ in actions(api, case["id"]) if a.startswith("risk.case_")
            and a != "risk.case_read"] == ["risk.case_release", "risk.case_done"]
    assert held[0]["id"] not in [c["object_id"] for g in queue(api, analyst)
                                 for c in g["cases"]]


def test_decline_voids_the_held_money_and_tells_the_customer_in_plain_words(
        api: TestClient, ada: Customer, bob: Customer, held: list[dict[str, Any]],
        analyst: dict[str, str]) -> None:
    booked, available = balances(api, ada)
    case = case_of(api, analyst, held[1]["id"])
    r = api.post(f"/v1/risk/cases/{case['id']}/decline", headers=analyst,
                 json={"reason": "mule pattern, internal note"})
    assert r.status_code == 200 and r.json()["result"] == "voided", r.text
    assert state_of(api, held[1]["id"]) == "voided"
    assert balances(api, ada) == (booked, available + 3_00)
    told = [n for n in notices(api, ada) if n["kind"] == "review_decline"]
    assert len(told) == 1
    assert "stopped" in told[0]["subject"] and "3.00 EUR" in told[0]["body"]
    assert "mule" not in told[0]["body"]  # the analyst's note is not the customer's


def test_two_answers_to_one_case_leave_one_outcome_and_one_message(
        api: TestClient, ada: Customer, held: list[dict[str, Any]],
        analyst: dict[str, str]) -> None:
    cases = platform_of(api).risk_cases
    case = case_of(api, analyst, held[0]["id"])
    first = cases.decline(case["id"], reason="first", actor="staff:a")
    second = cases.release(case["id"], reason="second", actor="staff:b")
    assert (first.outcome, first.created) == ("decline", True)
    assert (second.outcome, second.created, second.actor) == ("decline", False, "staff:a")
    assert state_of(api, held[0]["id"]) == "voided"
    assert len([n for n in notices(api, ada) if n["kind"].startswith("review_")]) == 1


def test_an_outcome_claimed_but_not_carried_out_is_finished_by_the_next_answer(
        api: TestClient, ada: Customer, held: list[dict[str, Any]],
        analyst: dict[str, str]) -> None:
    """A crash between the claim and the settlement: the next call carries the first out."""
    cases = platform_of(api).risk_cases
    case = case_of(api, analyst, held[0]["id"])
    real = cases.resolvers["bank."]

    class Crash:
        def resolve(self, object_id: str, *, release: bool, reason: str, actor: str) -> str:
            raise OSError("the process died here")

    cases.resolvers["bank."] = Crash()
    with pytest.raises(OSError):
        cases.release(case["id"], reason="first", actor="staff:a")
    assert state_of(api, held[0]["id"]) == "held"
    cases.resolvers["bank."] = real
    done = cases.decline(case["id"], reason="second", actor="staff:b")
    assert (done.outcome, done.result, done.actor) == ("release", "posted", "staff:a")
    assert state_of(api, held[0]["id"]) == "posted"


def test_a_customer_and_a_merchant_read_no_case_and_answer_none(
        api: TestClient, ada: Customer, held: list[dict[str, Any]],
        analyst: dict[str, str]) -> None:
    case = case_of(api, analyst, held[0]["id"])
    for method, path in (("GET", "/v1/risk/cases"), ("GET", f"/v1/risk/cases/{case['id']}"),
                         ("POST", f"/v1/risk/cases/{case['id']}/release")):
        r = api.request(method, path, headers=ada.headers,
                        json={"reason": "mine"} if method == "POST" else None)
        assert r.status_code == 403 and code_of(r) == "forbidden", r.text
    shop = make_merchant(platform_of(api))
    body = json.dumps({"reason": "mine"}).encode()
    r = signed(api, shop, "POST", f"/v1/risk/cases/{case['id']}/release", body)
    assert r.status_code == 403 and code_of(r) == "forbidden", r.text
    r = signed(api, shop, "GET", "/v1/risk/cases")
    assert r.status_code == 403, r.text
    assert state_of(api, held[0]["id"]) == "held"


def test_a_supervisor_reads_the_queue_but_cannot_answer_or_label(
        api: TestClient, held: list[dict[str, Any]], analyst: dict[str, str]) -> None:
    supervisor = bearer(staff_token(platform_of(api), "supervisor"))
    support = bearer(staff_token(platform_of(api), "support"))
    case = case_of(api, supervisor, held[0]["id"])
    assert api.get("/v1/risk/cases", headers=support).status_code == 403
    for who in (supervisor, support):
        for path, body in ((f"/v1/risk/cases/{case['id']}/release", {"reason": "x"}),
                           (f"/v1/risk/cases/{case['id']}/decline", {"reason": "x"}),
                           (f"/v1/risk/decisions/{case['id']}/label", {"label": "fraud"})):
            r = api.post(path, headers=who, json=body)
            assert r.status_code == 403, r.text
    assert state_of(api, held[0]["id"]) == "held"


def test_refusals_are_problems_with_stable_codes(
        api: TestClient, held: list[dict[str, Any]], analyst: dict[str, str]) -> None:
    case = case_of(api, analyst, held[0]["id"])
    missing = "rsk_" + "0" * 24
    r = api.post(f"/v1/risk/cases/{missing}/release", headers=analyst, json={"reason": "x"})
    assert r.status_code == 404 and code_of(r) == "risk_case_not_found"
    r = api.post(f"/v1/risk/cases/{case['id']}/release", headers=analyst, json={"reason": ""})
    assert r.status_code == 422
    r = api.post(f"/v1/risk/decisions/{case['id']}/label", headers=analyst,
                 json={"label": "maybe"})
    assert r.status_code == 422
    allowed = next(c for g in [api.get("/v1/risk/decisions", headers=analyst, params={
        "subject": queue(api, analyst)[0]["subject"]}).json()["data"]] for c in g
        if c["decision"] == "allow")
    r = api.get(f"/v1/risk/cases/{allowed['id']}", headers=analyst)
    assert r.status_code == 404 and code_of(r) == "risk_case_not_found"


def test_labels_are_stored_audited_and_exported_with_the_recorded_features(
        api: TestClient, held: list[dict[str, Any]], analyst: dict[str, str]) -> None:
    case = case_of(api, analyst, held[0]["id"])
    r = api.post(f"/v1/risk/decisions/{case['id']}/label", headers=analyst,
                 json={"label": "fraud"})
    assert r.status_code == 200 and r.json()["changed_from"] is None, r.text
    r = api.post(f"/v1/risk/decisions/{case['id']}/label", headers=analyst,
                 json={"label": "false_positive"})
    assert r.json()["changed_from"] == "fraud"
    with platform_of(api).database.engine.connect() as conn:
        assert conn.execute(select(risk_labels.c.label)).scalars().all() == ["false_positive"]
    assert [a for a, _ in actions(api, case["id"])].count("risk.decision_label") == 2
    out = io.StringIO()
    assert platform_of(api).risk_labels.export(out, actor="cli:test") == 1
    rows = list(csv.DictReader(io.StringIO(out.getvalue())))
    assert tuple(rows[0]) == EXPORT_COLUMNS and len(FEATURES) == 36
    row = rows[0]
    assert row["decision_id"] == case["id"] and row["label"] == "false_positive"
    assert float(row["velocity_customer_1h"]) >= 10 and row["op_transfer"] == "1.0"
    assert row["customer_refunds_30d"] == ""  # never computed: missing, not zero
    assert 0.0 <= float(row["hour_vs_habit_h"]) <= 12.0  # computed since decision 0038
