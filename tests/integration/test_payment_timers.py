"""Payment timers never stall: a refused timer event parks its payment with a reason staff
can list (API and CLI), moves its timer by a bounded back-off, and lets every other due
timer fire; once the refusal is lifted the parked payments fire and are unparked."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from typer.testing import CliRunner

from paywarden.adapters.clock import FakeClock
from paywarden.adapters.store import Database
from paywarden.adapters.store.schema import audit_entries, payments
from paywarden.api import create_app
from paywarden.bootstrap import Platform
from paywarden.cli import app as cli_app
from paywarden.domain.escrow import NS_PER_DAY, EscrowTerms, Pay, Ship, State
from paywarden.domain.money import Money
from paywarden.services.audit.verify import verify_audit
from paywarden.services.ledger.accounts import AccountRef
from paywarden.services.ledger.verify import verify_ledger
from paywarden.services.payments import Party
from paywarden.services.payments.screening import AllowAll
from paywarden.services.payments.timers import (
    TIMER_BACKOFF_S_BASE,
    TIMER_BACKOFF_S_MAX,
    backoff_ns,
)

from ..support.certify import certify
from ..support.merchants import client_for, make_merchant, platform_for
from ..support.platform import bearer, staff_token
from .test_payments_api import balance, fund

PARKED = 150
EUR = "EUR"
NS = 1_000_000_000
BUYER = "usr_buyer"


@pytest.fixture
def api(database: Database, clock: FakeClock, tmp_path: Path) -> Iterator[TestClient]:
    platform = platform_for(database, clock, tmp_path, payment_fee_bps=100)
    with client_for(create_app(platform)) as client:
        platform.queries.create_ledger(EUR, now_ns=clock.now_ns())
        yield client


def _platform(api: TestClient) -> Platform:
    return api.app.state.platform  # type: ignore[attr-defined,no-any-return]


def shipped_payment(platform: Platform, merchant_id: str, n: int) -> str:
    made = platform.payments.create_checkout(
        merchant_id=merchant_id, order_ref=f"order-{n}",
        items=[{"name": "Cup", "quantity": 1, "unit_amount": 100}], amount=Money(100, EUR),
        return_url="https://shop.example/done", terms=EscrowTerms(3, 7), actor=merchant_id)
    wallet = AccountRef("wallet", BUYER, EUR)
    platform.payments.apply(made.payment_id, Pay(Money(100, EUR)), party=Party("buyer", BUYER),
                            funding=wallet, method="wallet")
    platform.payments.apply(made.payment_id, Ship("DHL", f"JD{n}"),
                            party=Party("merchant", merchant_id))
    return made.payment_id


def parked_rows(platform: Platform) -> list[tuple[str, str, int]]:
    with platform.database.engine.connect() as conn:
        return [(r.id, r.parked_reason, r.timer_attempts) for r in conn.execute(
            select(payments).where(payments.c.parked_at.is_not(None)))]


def audited(platform: Platform, action: str) -> int:
    with platform.database.engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(audit_entries).where(
            audit_entries.c.action == action)).scalar_one())


def test_the_back_off_doubles_from_a_minute_and_is_bounded() -> None:
    assert backoff_ns(1) == TIMER_BACKOFF_S_BASE * NS
    assert backoff_ns(2) == 2 * TIMER_BACKOFF_S_BASE * NS
    assert backoff_ns(10**6) == TIMER_BACKOFF_S_MAX * NS


def test_150_parked_payments_do_not_stop_an_ordinary_due_payment(
        api: TestClient, clock: FakeClock, tmp_path: Path, database: Database,
        monkeypatch: pytest.MonkeyPatch) -> None:
    platform = _platform(api)
    # 151 payments by one buyer in a minute is what velocity rules stop; the timers are
    # under test here, not the screening (tests/integration/test_risk_coverage.py)
    platform.payments.screening = AllowAll()
    suspended, ordinary = make_merchant(platform, "Gone"), make_merchant(platform, "Fine")
    certify(platform, suspended.merchant_id)
    fund(platform, AccountRef("wallet", BUYER, EUR), 100 * (PARKED + 1))
    stuck = [shipped_payment(platform, suspended.merchant_id, n) for n in range(PARKED)]
    clock.advance(60)  # the ordinary payment's release comes last in timer order
    fine = shipped_payment(platform, ordinary.merchant_id, PARKED)
    platform.merchants.set_status(suspended.merchant_id, "suspended", actor="cli:test")
    clock.advance(ns=7 * NS_PER_DAY + NS)

    assert platform.payments.run_due() == 1
    view = platform.payments.get(fine)
    assert view is not None and view.escrow.state is State.RELEASED
    assert sorted(parked_rows(platform)) == sorted((p, "merchant_suspended", 1) for p in stuck)
    assert audited(platform, "payment.parked") == PARKED

    # Due again after the back-off: refused again, moved further, not audited again.
    clock.advance(TIMER_BACKOFF_S_BASE + 1)
    assert platform.payments.run_due() == 0
    assert {a for _, _, a in parked_rows(platform)} == {2}
    assert audited(platform, "payment.parked") == PARKED
    assert platform.payments.run_due() == 0  # nothing due until the next back-off

    # Staff see them: over the API (paged) and on the CLI.
    staff = bearer(staff_token(platform, "operator"))
    first = api.get("/v1/payments/parked?limit=100", headers=staff)
    assert first.status_code == 200, first.text
    rest = api.get(f"/v1/payments/parked?limit=100&cursor={first.json()['next_cursor']}",
                   headers=staff)
    listed = first.json()["data"] + rest.json()["data"]
    assert rest.json()["next_cursor"] is None
    assert sorted(p["id"] for p in listed) == sorted(stuck)
    assert {(p["reason"], p["attempts"], p["state"]) for p in listed} == {
        ("merchant_suspended", 2, "shipped")}
    monkeypatch.setenv("PAYWARDEN_DATABASE_URL", database.url)
    monkeypatch.setenv("PAYWARDEN_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("PAYWARDEN_LOG_JSON", "true")
    shown = CliRunner().invoke(cli_app, ["payments", "parked", "--json", "--limit", "500"])
    assert shown.exit_code == 0, shown.output
    rows = json.loads(shown.stdout.strip().splitlines()[-1])["data"]
    assert sorted(r["id"] for r in rows) == sorted(stuck)
    assert {r["amount"] for r in rows} == {100}  # machines get integer minor units
    people = CliRunner().invoke(cli_app, ["payments", "parked", "--limit", "500"])
    assert people.exit_code == 0, people.output
    assert people.stdout.count(" 1.00 EUR ") == PARKED  # people get the amount as money

    # Reinstated: they fire at their next turn and are unparked.
    platform.merchants.set_status(suspended.merchant_id, "active", actor="cli:test")
    clock.advance(2 * TIMER_BACKOFF_S_BASE + 1)
    assert platform.payments.run_due() == PARKED
    assert parked_rows(platform) == []
    assert balance(platform, AccountRef("merchant", suspended.merchant_id, EUR)) == 99 * PARKED
    assert verify_ledger(platform.database) == [] and verify_audit(platform.database) == []


def test_only_staff_list_parked_payments(api: TestClient) -> None:
    platform = _platform(api)
    shop = make_merchant(platform)
    from ..support.merchants import signed

    assert signed(api, shop, "GET", "/v1/payments/parked").status_code == 404
    r = api.get("/v1/payments/parked", headers=bearer(staff_token(platform,
                                                                  "merchant_admin")))
    assert r.status_code == 403
    r = api.get("/v1/payments/parked", headers=bearer(staff_token(platform, "supervisor")))
    assert r.status_code == 200 and r.json() == {"data": [], "next_cursor": None}
