"""The risk engine inside every banking movement: an account takeover is interrupted,
velocity is reviewed, shadow rules never act, each movement kind has its fallback when
the engine fails or is late, every decision is a row and an audit leaf, and an analyst
re-running a decision gets the same answer."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any, ClassVar

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import insert, select, update

from paywarden.adapters.clock import FakeClock
from paywarden.adapters.store import Database
from paywarden.adapters.store.schema import (
    audit_entries,
    bank_accounts,
    risk_decisions,
    sign_in_origins,
)
from paywarden.domain.audit.leaves import state_digest
from paywarden.domain.errors import DomainError
from paywarden.domain.risk import Decision, Rule, RuleState, Value
from paywarden.services.risk import FALLBACKS, Context, Subject
from paywarden.services.risk.engine import digested

from ..support.platform import bearer, platform_of, staff_token
from ..support.risk_rules import rule_enabled
from ..support.transfers import (
    COOLING_S,
    ELSEWHERE,
    Customer,
    add_payee,
    customer,
    send,
    transfer_api,
    wait,
)


@pytest.fixture
def api(database: Database, clock: FakeClock, tmp_path: Path) -> Iterator[TestClient]:
    yield from transfer_api(database, clock, tmp_path)  # the suite's deadline (conftest)


@pytest.fixture
def ada(api: TestClient) -> Customer:
    return customer(api, "ada", funds=5_000_00)


@pytest.fixture
def bob(api: TestClient) -> Customer:
    return customer(api, "bob")


def user_of(api: TestClient, who: Customer) -> str:
    with platform_of(api).database.engine.connect() as conn:
        return str(conn.execute(select(bank_accounts.c.user_id).where(
            bank_accounts.c.id == who.account["id"])).scalar_one())


def decisions(api: TestClient, user_id: str) -> list[Any]:
    with platform_of(api).database.engine.connect() as conn:
        return list(conn.execute(select(risk_decisions).where(
            risk_decisions.c.subject == user_id).order_by(risk_decisions.c.at,
                                                          risk_decisions.c.id)).all())


def new_device(api: TestClient, user_id: str) -> None:
    """A sign-in from a device never seen before (the attacker's), now the latest."""
    now = platform_of(api).clock.now_ns()
    mine = (sign_in_origins.c.user_id == user_id, sign_in_origins.c.digest == "f" * 64)
    with platform_of(api).database.engine.begin() as conn:
        if conn.execute(update(sign_in_origins).where(*mine).values(
                last_seen_at=now + 1)).rowcount == 0:
            conn.execute(insert(sign_in_origins).values(user_id=user_id, kind="device",
                                                        digest="f" * 64, first_seen_at=now,
                                                        last_seen_at=now + 1))


def test_an_account_takeover_new_device_new_payee_large_transfer_is_not_allowed(
        api: TestClient, ada: Customer, bob: Customer) -> None:
    payee = add_payee(api, ada, "Bob", bob.account["iban"])
    wait(api, COOLING_S, ada)
    for i in range(3):  # the customer's own habit: small transfers
        assert send(api, ada, payee, 20_00, f"lunch {i}").status_code == 201
        wait(api, 600, ada)
    user_id = user_of(api, ada)
    new_device(api, user_id)
    mule = add_payee(api, ada, "Mule", ELSEWHERE)
    wait(api, COOLING_S)
    new_device(api, user_id)
    r = send(api, ada, mule, 2_000_00, "invoice")
    assert r.status_code in (201, 403), r.text
    if r.status_code == 201:
        assert r.json()["state"] == "held"
    else:
        assert r.json()["code"] == "step_up_required"
    last = decisions(api, user_id)[-1]._mapping
    assert last["decision"] in ("step_up", "review")
    assert "takeover_pattern" in json.loads(last["reasons"])


def test_many_transfers_in_a_minute_go_to_review(api: TestClient, ada: Customer,
                                                 bob: Customer) -> None:
    payee = add_payee(api, ada, "Bob", bob.account["iban"])
    wait(api, COOLING_S + 60, ada)  # adding the payee was screened too: out of the hour
    states = [send(api, ada, payee, 1_00, f"t{i}").json()["state"] for i in range(12)]
    assert states[:10] == ["posted"] * 10
    assert states[10:] == ["held", "held"]
    reviewed = [json.loads(d._mapping["reasons"]) for d in decisions(api, user_of(api, ada))
                if d._mapping["decision"] == "review"]
    assert len(reviewed) == 2 and all("velocity_customer" in r for r in reviewed)


def test_a_shadow_rule_is_recorded_but_never_acts_until_a_second_staff_member_enables_it(
        api: TestClient, ada: Customer, bob: Customer) -> None:
    risk = platform_of(api).risk
    rules = risk.rules.current()
    wild = Rule("decline_all", "amount_minor > 0", Decision.DECLINE, "wild", RuleState.SHADOW)
    with pytest.raises(DomainError) as refused:
        risk.rules.publish([*rules.rules, Rule(wild.id, wild.expression, wild.action,
                                               wild.reason, RuleState.ACTIVE)], actor="ann")
    assert refused.value.code == "risk_rule_not_shadow"
    risk.rules.publish([*rules.rules, wild], actor="ann")
    payee = add_payee(api, ada, "Bob", bob.account["iban"])
    wait(api, COOLING_S, ada)
    assert send(api, ada, payee, 5_00, "one").json()["state"] == "posted"
    last = decisions(api, user_of(api, ada))[-1]._mapping
    assert last["decision"] == "allow"
    assert json.loads(last["detail"])["shadow"] == ["decline_all"]

    rule_enabled(platform_of(api), "decline_all")  # four eyes: test_risk_coverage.py
    platform_of(api).clock.advance(10)  # past the rule cache
    r = send(api, ada, payee, 5_00, "two")
    assert r.status_code == 422 and r.json()["code"] == "movement_declined", r.text


class Boom:
    provides: ClassVar[Mapping[str, str]] = {}

    def compute(self, ctx: Context) -> Mapping[str, Value]:
        raise RuntimeError("the feature store is down")


class Slow:
    provides: ClassVar[Mapping[str, str]] = {}

    def compute(self, ctx: Context) -> Mapping[str, Value]:
        time.sleep(0.8)
        return {}


@pytest.mark.parametrize("kind", sorted(FALLBACKS))
@pytest.mark.parametrize(("provider", "engine"), [(Boom(), "error"), (Slow(), "timeout")])
def test_each_movement_kind_falls_back_as_written_when_the_engine_fails_or_is_late(
        database: Database, clock: FakeClock, tmp_path: Path, kind: str, provider: Any,
        engine: str) -> None:
    from ..support.merchants import platform_for

    platform = platform_for(database, clock, tmp_path, risk_deadline_ms=300)
    platform.payments.writer.start()  # the write path the decision is recorded through
    try:
        platform.risk.rules.compiled()  # the first version written and compiled: warm
        platform.risk.providers.append(provider)
        done = platform.risk.decide(Subject(f"bank.{kind}", f"mov-{kind}", kind,
                                            "usr_x", 10_00, "EUR"))
        assert (done.verdict.decision, done.engine) == (FALLBACKS[kind], engine)
        assert done.verdict.reasons == (f"risk_engine_{engine}",)
    finally:
        platform.payments.writer.stop()
        platform.risk.close()


def test_a_failing_engine_holds_a_transfer_to_someone_else_and_lets_an_own_transfer_run(
        api: TestClient, ada: Customer, bob: Customer) -> None:
    from ..support.banking import open_account

    savings = open_account(api, ada.token, product="savings")
    payee = add_payee(api, ada, "Bob", bob.account["iban"])
    wait(api, COOLING_S, ada)
    platform_of(api).risk.providers.append(Boom())
    assert send(api, ada, payee, 5_00).json()["state"] == "held"
    r = api.post("/v1/me/transfers/own", headers=ada.headers, json={
        "from_account": ada.account["id"], "to_account": savings["id"], "amount": 5_00,
        "currency": "EUR"})
    assert r.status_code == 201 and r.json()["state"] == "posted", r.text


def test_every_decision_is_an_audit_leaf_whose_digest_covers_the_row(
        api: TestClient, ada: Customer, bob: Customer) -> None:
    payee = add_payee(api, ada, "Bob", bob.account["iban"])
    wait(api, COOLING_S, ada)
    send(api, ada, payee, 5_00)
    row = decisions(api, user_of(api, ada))[-1]._mapping
    with platform_of(api).database.engine.connect() as conn:
        leaf = conn.execute(select(audit_entries).where(
            audit_entries.c.action == "risk.decision",
            audit_entries.c.object == row["id"])).one()._mapping
    assert json.loads(leaf["leaf"])["after"] == state_digest(digested(row))


def test_the_decisions_api_answers_risk_and_supervisor_in_its_stable_shape_and_refuses_others(
        api: TestClient, ada: Customer, bob: Customer) -> None:
    payee = add_payee(api, ada, "Bob", bob.account["iban"])
    wait(api, COOLING_S, ada)
    send(api, ada, payee, 5_00)
    user_id = user_of(api, ada)
    url = f"/v1/risk/decisions?subject={user_id}"
    for role in ("risk", "supervisor"):
        r = api.get(url, headers=bearer(staff_token(platform_of(api), role)))
        assert r.status_code == 200, r.text
        added, item = sorted(r.json()["data"], key=lambda i: i["at"])  # the payee, then
        assert added["operation"] == "bank.payee"  # the transfer: both screened
        assert set(r.json()) == {"data"}
        assert set(item) == {"id", "at", "operation", "decision", "score", "reasons",
                             "rules_version", "model_version"}
        assert (item["operation"], item["decision"], item["reasons"]) == (
            "bank.internal", "allow", [])
    assert api.get(url, headers=ada.headers).status_code == 403
    for role in ("support", "operator"):
        assert api.get(url, headers=bearer(staff_token(platform_of(api), role))
                       ).status_code == 403
    assert api.get(url).status_code == 401
    rerun = f"/v1/risk/decisions/{item['id']}/rerun"
    assert api.post(rerun, headers=ada.headers).status_code == 403
    assert api.post(rerun, headers=bearer(staff_token(platform_of(api), "supervisor"))
                    ).status_code == 403
    missing = "/v1/risk/decisions/rsk_" + "0" * 24 + "/rerun"
    assert api.post(missing, headers=bearer(staff_token(platform_of(api), "risk"))
                    ).status_code == 404


def test_an_analyst_rerunning_a_recorded_decision_gets_the_same_answer_under_newer_rules(
        api: TestClient, ada: Customer, bob: Customer) -> None:
    payee = add_payee(api, ada, "Bob", bob.account["iban"])
    wait(api, COOLING_S, ada)
    states = [send(api, ada, payee, 1_00, f"t{i}").json()["state"] for i in range(11)]
    assert states[-1] == "held"
    risk = platform_of(api).risk
    risk.rules.publish([*risk.rules.current().rules, Rule(
        "shadow_any", "amount_minor > 0", Decision.DECLINE, "any", RuleState.SHADOW)],
        actor="ann")
    analyst = bearer(staff_token(platform_of(api), "risk"))
    for row in decisions(api, user_of(api, ada)):
        r = api.post(f"/v1/risk/decisions/{row._mapping['id']}/rerun", headers=analyst)
        assert r.status_code == 200, r.text
        assert r.json()["same"] is True
        assert r.json()["rerun"]["decision"] in ("allow", "review")
