"""Attacks on the risk engine's providers (decision 0035), each through the real banking
path where a banking movement can carry it: a blocklisted payee under another spelling
of its IBAN, a blocklisted e-mail in another case and phone in another format, a payee
on the sanctions list, a mule chain of three accounts, and card testing stopped by the
card BIN's breaker. Each runs on SQLite and PostgreSQL.

Covered elsewhere, referenced here: account takeover (new device, new payee, large
transfer) in test_risk_engine.py::test_an_account_takeover_new_device_new_payee_large_
transfer_is_not_allowed; one member of staff alone enabling a rule in test_risk_engine.py::
test_a_shadow_rule_is_recorded_but_never_acts_until_a_second_staff_member_enables_it and
writing a registry entry in test_registry.py::test_the_requester_cannot_approve_their_own_
request; re-running a decision in test_risk_engine.py::test_an_analyst_rerunning_a_recorded_
decision_gets_the_same_answer_under_newer_rules (and below, for a registry hit).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from paywarden.adapters.clock import FakeClock
from paywarden.adapters.store import Database
from paywarden.adapters.store.schema import bank_accounts, risk_decisions
from paywarden.domain.risk.breakers import Outcome, State
from paywarden.services.risk import Subject
from paywarden.services.risk.providers import scopes_of
from paywarden.services.risk.sanctions import SAMPLE_LIST

from ..support.platform import platform_of
from ..support.registry import entry_made
from ..support.transfers import COOLING_S, ELSEWHERE, Customer, add_payee, customer, send, wait


@pytest.fixture
def api(database: Database, clock: FakeClock, tmp_path: Path) -> Iterator[TestClient]:
    from ..support.transfers import transfer_api

    yield from transfer_api(database, clock, tmp_path, risk_deadline_ms=2_000,
                            risk_breaker_feed_batch_max=1)


@pytest.fixture
def ada(api: TestClient) -> Customer:
    return customer(api, "ada", funds=5_000_00)


def user_of(api: TestClient, who: Customer) -> str:
    with platform_of(api).database.engine.connect() as conn:
        return str(conn.execute(select(bank_accounts.c.user_id).where(
            bank_accounts.c.id == who.account["id"])).scalar_one())


def last_decision(api: TestClient, subject: str) -> Any:
    with platform_of(api).database.engine.connect() as conn:
        return conn.execute(select(risk_decisions).where(risk_decisions.c.subject == subject)
                            .order_by(risk_decisions.c.at.desc(), risk_decisions.c.id.desc())
                            ).first()._mapping  # type: ignore[union-attr]


def pay(user_id: str | None, amount: int, **fields: Any) -> Subject:
    """A card payment as the payments path will screen it."""
    return Subject(operation="payment.pay", object_id=f"pay_{amount}_{len(fields)}",
                   kind="pay", user_id=user_id, amount_minor=amount, currency="EUR",
                   **fields)


def test_a_blocklisted_payee_under_another_spelling_of_its_iban_is_held_and_reruns_alike(
        api: TestClient, ada: Customer) -> None:
    platform = platform_of(api)
    spaced = "de89 3704 0044 0532 0130 00"  # the entry as an analyst typed it
    entry_made(platform.registry, [("iban", spaced)], now_ns=platform.clock.now_ns())
    mule = add_payee(api, ada, "Max Mule", ELSEWHERE)
    wait(api, COOLING_S, ada)
    r = send(api, ada, mule, 50_00, "rent")
    assert r.status_code == 201, r.text
    assert r.json()["state"] == "held"
    made = last_decision(api, user_of(api, ada))
    assert made["decision"] == "review"
    assert "registry_hit" in json.loads(made["reasons"])
    assert '"registry_hit":true' in made["features"].replace(" ", "")
    again = platform.risk_decisions.rerun(made["id"], actor="usr_analyst")
    assert again.same, (again.recorded, again.rerun)


@pytest.mark.parametrize(("kind", "listed", "presented", "other"), [
    ("email", "mule.account@example.com", "  Mule.Account@EXAMPLE.com ", "ada@example.com"),
    ("phone", "+31 6 12345678", "06-1234 5678", "06-1234 5679"),
])
def test_a_blocklisted_email_or_phone_in_another_case_or_format_still_matches(
        api: TestClient, kind: str, listed: str, presented: str, other: str) -> None:
    platform = platform_of(api)
    entry_made(platform.registry, [(kind, listed)], now_ns=platform.clock.now_ns())
    made = platform.risk.decide(pay(None, 20_00, merchant_id="mer_shop",
                                    identifiers=((kind, presented),)))
    assert made.verdict.decision == "review"
    assert "registry_hit" in made.verdict.reasons
    clean = platform.risk.decide(pay(None, 20_00, merchant_id="mer_shop",
                                     identifiers=((kind, other),)))
    assert clean.verdict.decision == "allow", clean.verdict.reasons


def test_a_payee_named_like_a_sanctioned_person_is_held_for_review(
        api: TestClient, ada: Customer) -> None:
    platform = platform_of(api)
    platform.sanctions.load(SAMPLE_LIST, actor="cli:test")
    payee = add_payee(api, ada, "Serguei Ivanoff", ELSEWHERE)
    wait(api, COOLING_S, ada)
    r = send(api, ada, payee, 30_00, "consulting")
    assert r.status_code == 201, r.text
    assert r.json()["state"] == "held"
    made = last_decision(api, user_of(api, ada))
    assert "sanctions_hit" in json.loads(made["reasons"])


def test_a_mule_chain_of_three_accounts_is_detected_at_its_third_hop(
        api: TestClient, ada: Customer) -> None:
    bob, cid = customer(api, "bob"), customer(api, "cid")
    to_bob = add_payee(api, ada, "Bob", bob.account["iban"])
    to_cid = add_payee(api, bob, "Cid", cid.account["iban"])
    out = add_payee(api, cid, "Far Away", ELSEWHERE)
    wait(api, COOLING_S + 7_200, ada, bob, cid)  # the deposits are long past
    # amounts under the takeover rule's ratio: the chain alone must be what is caught
    assert send(api, ada, to_bob, 25_00, "loan").json()["state"] == "posted"
    wait(api, 600, bob)
    assert send(api, bob, to_cid, 24_00, "fwd").json()["state"] == "posted"
    assert last_decision(api, user_of(api, bob))["decision"] == "allow"
    wait(api, 600, cid)
    r = send(api, cid, out, 23_00, "fwd")
    assert r.json()["state"] == "held", r.text
    made = last_decision(api, user_of(api, cid))
    assert "mule_chain" in json.loads(made["reasons"])
    features = json.loads(made["features"])
    assert features["chain_depth"] == 2
    assert features["inflow_age_s"] == 600  # Bob's money reached Cid ten minutes before
    first = json.loads(last_decision(api, user_of(api, ada))["features"])
    assert first["inflow_age_s"] == 604_800  # Ada's deposit is long past: none lately


def test_card_testing_trips_the_bins_breaker_and_the_large_payment_is_declined(
        api: TestClient) -> None:
    platform = platform_of(api)
    tester = {"card_bin": "411111", "merchant_id": "mer_shop"}
    for i in range(30):  # small probes: the engine allows them, the issuer declines most
        probe = pay(None, 1_00 + i, card_fingerprint=f"{i:032x}", **tester)
        platform.risk.decide(probe)  # the feed counts the engine's own outcome
        if i % 3:
            platform.breaker_feed.count(probe, Outcome.DECLINED)
    platform.breaker_feed.flush()
    states = platform.breakers.check(scopes_of(pay(None, 1, **tester)))
    assert [s.state for s in states if s.scope == "card_bin:411111"] == [State.OPEN]
    large = platform.risk.decide(pay(None, 900_00, card_fingerprint="ab" * 16, **tester))
    assert large.verdict.decision == "decline"
    assert large.verdict.reasons == ("breaker_open",)
    other_bin = platform.risk.decide(pay(None, 900_00, card_bin="522222",
                                         merchant_id="mer_shop"))
    assert other_bin.verdict.decision == "allow"
