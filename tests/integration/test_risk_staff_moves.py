"""A staff member's dispute decision moves the money a dispute holds, and most bank fraud is
internal: it is screened as a staff move (kind ``staff``, the staff member as the subject).
Held for review, it is refused until a second person — a risk analyst, not the staff member
themselves — releases the case; tried again, it then runs once. A four-eyes decision (over
the threshold) held so waits as an approval, and runs when the case is released."""

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
from paywarden.adapters.store.schema import risk_decisions
from paywarden.bootstrap import Platform
from paywarden.domain.risk import Decision, Rule, RuleState
from paywarden.services.ledger.accounts import AccountRef

from ..support.approvals import decide, maker_and_checker
from ..support.platform import bearer, platform_of, staff_token
from ..support.risk_rules import rule_enabled
from ..support.transfers import transfer_api
from .test_payments_api import balance, certified, disputed


@pytest.fixture
def api(database: Database, clock: FakeClock, tmp_path: Path) -> Iterator[TestClient]:
    """Decisions under the four-eyes threshold: one person's, screened (decision 0040);
    those over it are tested in test_dispute_approvals.py."""
    yield from transfer_api(database, clock, tmp_path, dispute_approval_min=10**12)


def staff_decisions(platform: Platform) -> list[Any]:
    with platform.database.engine.connect() as conn:
        return list(conn.execute(select(risk_decisions).where(
            risk_decisions.c.operation == "payment.dispute_decision")
            .order_by(risk_decisions.c.at)).mappings())


def hold_staff_moves(platform: Platform) -> None:
    """A rule holding every staff move for review, enabled as rules are: shadow, back-test,
    and a second staff member's approval."""
    rules = platform.risk.rules
    rules.publish([*rules.current().rules, Rule(
        "staff_all", 'kind == "staff" and amount_minor >= 1', Decision.REVIEW, "staff_all",
        RuleState.SHADOW)], actor="ann")
    rule_enabled(platform, "staff_all")
    platform.clock.advance(10)  # type: ignore[attr-defined]  # past the rules' cache


DECIDE = {"resolution": "refund"}


def held_refund(api: TestClient, buyer: str) -> tuple[Platform, str, AccountRef,
                                                      dict[str, str]]:
    """A disputed payment whose refund an insider decided while every staff move is held:
    refused, and nothing moved. The platform, payment, buyer's wallet, insider's headers."""
    platform = platform_of(api)
    pid, wallet, _ = disputed(api, certified(platform), buyer)
    hold_staff_moves(platform)
    insider = bearer(staff_token(platform, "risk", actor="cli:insider"))
    r = api.post(f"/v1/payments/{pid}/disputes/decision", headers=insider, json=DECIDE)
    assert r.status_code == 409 and r.json()["code"] == "dispute_decision_held", r.text
    assert "staff_all" in r.json()["detail"]
    assert balance(platform, wallet) == 15_000  # nothing moved: still held by the dispute
    return platform, pid, wallet, insider


def test_a_dispute_decision_is_screened_as_the_staff_members_move(api: TestClient) -> None:
    platform = platform_of(api)
    shop = certified(platform)
    pid, wallet, _ = disputed(api, shop, "bob")
    risk = bearer(staff_token(platform, "risk"))
    r = api.post(f"/v1/payments/{pid}/disputes/decision", headers=risk,
                 json={"resolution": "refund"})
    assert r.status_code == 200 and r.json()["state"] == "refunded", r.text
    assert balance(platform, wallet) == 20_000
    [made] = staff_decisions(platform)
    features = json.loads(made["features"])
    assert (made["decision"], made["object_id"]) == ("allow", f"{pid}:refund")
    assert features["kind"] == "staff" and features["amount_minor"] == 5_000
    assert made["subject"] == "cli:test"  # the staff member (the token's), not the shop


def test_a_held_decision_runs_only_after_another_person_releases_its_case(
        api: TestClient) -> None:
    platform, pid, wallet, insider = held_refund(api, "cid")
    again = api.post(f"/v1/payments/{pid}/disputes/decision", headers=insider, json=DECIDE)
    assert again.json()["code"] == "dispute_decision_held"  # the first answer stands
    [case] = [d for d in staff_decisions(platform) if d["decision"] == "review"]
    shown = api.get(f"/v1/risk/cases/{case['id']}", headers=bearer(staff_token(
        platform, "risk", actor="cli:analyst"))).json()
    assert (shown["held"]["id"], shown["held"]["decision"]) == (pid, "refund")

    own = api.post(f"/v1/risk/cases/{case['id']}/release", headers=insider,
                   json={"reason": "mine, fine"})
    assert own.status_code == 403 and own.json()["code"] == "risk_case_own", own.text
    analyst = bearer(staff_token(platform, "risk", actor="cli:analyst"))
    r = api.post(f"/v1/risk/cases/{case['id']}/release", headers=analyst,
                 json={"reason": "the buyer's photos show the damage"})
    assert r.status_code == 200 and r.json()["outcome"] == "release", r.text
    assert balance(platform, wallet) == 15_000  # a release lets the decision run; not itself

    other = api.post(f"/v1/payments/{pid}/disputes/decision", headers=insider,
                     json={"resolution": "release"})  # not the decision the case released
    assert other.json()["code"] == "dispute_decision_held", other.text
    r = api.post(f"/v1/payments/{pid}/disputes/decision", headers=insider, json=DECIDE)
    assert r.status_code == 200 and r.json()["state"] == "refunded", r.text
    assert balance(platform, wallet) == 20_000


def test_a_declined_case_keeps_the_decision_refused(api: TestClient) -> None:
    platform, pid, wallet, insider = held_refund(api, "dee")
    [case] = [d for d in staff_decisions(platform) if d["decision"] == "review"]
    analyst = bearer(staff_token(platform, "risk", actor="cli:analyst"))
    assert api.post(f"/v1/risk/cases/{case['id']}/decline", headers=analyst,
                    json={"reason": "no evidence"}).status_code == 200
    r = api.post(f"/v1/payments/{pid}/disputes/decision", headers=insider, json=DECIDE)
    assert r.status_code == 422 and r.json()["code"] == "dispute_decision_declined", r.text
    assert balance(platform, wallet) == 15_000


@pytest.fixture
def four_eyes_api(database: Database, clock: FakeClock, tmp_path: Path
                  ) -> Iterator[TestClient]:
    """Every decision a four-eyes command (the default threshold, 0)."""
    yield from transfer_api(database, clock, tmp_path)


@pytest.mark.parametrize("answer", ["release", "decline"])
def test_an_approved_decision_held_by_screening_waits_for_an_analyst_and_is_not_made_again(
        four_eyes_api: TestClient, answer: str) -> None:
    api = four_eyes_api
    platform = platform_of(api)
    pid, wallet, _ = disputed(api, certified(platform), "eve")
    hold_staff_moves(platform)
    ann, ben = maker_and_checker(api)
    r = api.post(f"/v1/payments/{pid}/disputes/decision", headers=ann.headers, json=DECIDE)
    assert r.status_code == 202, r.text
    held = decide(api, ben, r.json()["approval"]).json()
    assert held["state"] == "held" and held["reason"].startswith("dispute_decision_held")
    assert balance(platform, wallet) == 15_000
    [case] = [d for d in staff_decisions(platform) if d["decision"] == "review"]
    assert case["subject"] == f"{ann.user.id}+{ben.user.id}"
    for who in (ann, ben):  # neither of the two answers the case about their own move
        own = api.post(f"/v1/risk/cases/{case['id']}/{answer}", headers=who.headers,
                       json={"reason": "fine"})
        assert own.status_code == 403 and own.json()["code"] == "risk_case_own", own.text
    analyst = bearer(staff_token(platform, "risk", actor="cli:analyst"))
    r = api.post(f"/v1/risk/cases/{case['id']}/{answer}", headers=analyst,
                 json={"reason": "checked the buyer's photos"})
    assert r.status_code == 200, r.text
    after = api.get(f"/v1/approvals/{held['id']}", headers=ben.headers).json()
    if answer == "release":  # the approved decision runs as it was approved: nobody redoes it
        assert after["state"] == "executed" and after["result"]["state"] == "refunded", after
        assert balance(platform, wallet) == 20_000
    else:
        assert after["state"] == "failed" and "declined" in after["reason"], after
        assert balance(platform, wallet) == 15_000
    again = api.post(f"/v1/risk/cases/{case['id']}/{answer}", headers=analyst,
                     json={"reason": "again"})
    assert api.get(f"/v1/approvals/{held['id']}", headers=ben.headers).json() == after
    assert again.status_code in (200, 409), again.text
