"""The e-money safeguarding reconciliation (services/banking/safeguarding.py): wallets
covered exactly, a surplus from escrow payments (said so), and shortfalls (against the
books, against the bank's own figure): each alerted once, and the CLI exits 1."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from typer.testing import CliRunner

from paywarden.adapters.clock import FakeClock
from paywarden.adapters.safeguarding import SimulatedSafeguardingBank
from paywarden.adapters.store import Database
from paywarden.adapters.store.schema import audit_entries, staff_alerts
from paywarden.api import create_app
from paywarden.cli import app as cli
from paywarden.domain.ledger import Transfer
from paywarden.domain.ledger.chart import AccountKind, TransferCode
from paywarden.services.ledger.accounts import AccountRef, new_account, platform_account

from ..support.banking import deposit, open_account
from ..support.identity import passkey_customer
from ..support.merchants import client_for, platform_for
from ..support.platform import bearer, platform_of


@pytest.fixture
def api(database: Database, clock: FakeClock, tmp_path: Path) -> Iterator[TestClient]:
    platform = platform_for(database, clock, tmp_path)
    with client_for(create_app(platform)) as client:
        client.app.state.platform = platform  # type: ignore[attr-defined]
        yield client


def topped_up(api: TestClient, amount: int = 4_000) -> tuple[str, dict[str, Any]]:
    """A customer whose wallet holds ``amount`` of e-money; (user id, wallet)."""
    user, token, _ = passkey_customer(api, "ada")
    current = open_account(api, token)
    wallet = open_account(api, token, "wallet", name="Wallet")
    deposit(api, current["iban"], 10_000)
    r = api.post("/v1/me/transfers/own", headers=bearer(token), json={
        "from_account": current["id"], "to_account": wallet["id"], "amount": amount,
        "currency": "EUR"})
    assert r.status_code == 201, r.text
    return user.id, wallet


def ledger_move(api: TestClient, tid: str, debit: AccountRef, credit: AccountRef,
                amount: int) -> None:
    """A raw ledger transfer, as escrow payments (or a bug) post them: no safeguarding leg."""
    engine = platform_of(api).engine
    engine.wait(engine.create_accounts([new_account(debit), new_account(credit)]))
    engine.wait(engine.submit([Transfer(tid, debit.id, credit.id, amount, debit.ledger,
                                        int(TransferCode.PAYMENT), 0)]))


def alerts(api: TestClient) -> list[Any]:
    with platform_of(api).database.engine.connect() as conn:
        return list(conn.execute(select(staff_alerts)).mappings())


def test_wallets_covered_exactly_reconcile_ok_as_an_audit_entry_with_the_figures(
        api: TestClient) -> None:
    topped_up(api)
    done = platform_of(api).safeguarding.reconcile()
    assert not done.shortfall
    assert [line.public() | {"note": None} for line in done.lines] == [{
        "currency": "EUR", "status": "ok", "wallets": 4_000, "safeguarded": 4_000,
        "bank_reported": 4_000, "difference": 0, "bank_difference": 0, "shortfall": 0,
        "surplus": 0, "break": 0, "note": None}]
    with platform_of(api).database.engine.connect() as conn:
        entry = conn.execute(select(audit_entries).where(
            audit_entries.c.action == "safeguarding.reconcile")).mappings().one()
    assert (entry["seq"], entry["outcome"]) == (done.audit_index, "ok")
    figures = json.loads(entry["detail"])["currencies"][0]
    assert (figures["wallets"], figures["safeguarded"], figures["bank_reported"]) == (
        4_000, 4_000, 4_000)
    assert alerts(api) == []


def test_an_escrow_payment_from_a_wallet_is_a_surplus_and_the_report_says_why(
        api: TestClient) -> None:
    user_id, _ = topped_up(api)
    ledger_move(api, "pay-leg-1", AccountRef(AccountKind.WALLET, user_id, "EUR"),
                platform_account(AccountKind.ESCROW, "EUR"), 1_500)
    line = platform_of(api).safeguarding.reconcile().lines[0]
    assert (line.status, line.wallets_minor, line.safeguarded_minor, line.surplus_minor) == (
        "surplus", 2_500, 4_000, 1_500)
    assert "escrow" in line.public()["note"]
    assert alerts(api) == []


def test_a_bank_reporting_less_than_the_books_is_a_shortfall_alerted_once(
        api: TestClient) -> None:
    topped_up(api)
    bank = platform_of(api).safeguarding.bank
    assert isinstance(bank, SimulatedSafeguardingBank)
    bank.short_minor["EUR"] = 500
    first = platform_of(api).safeguarding.reconcile()
    again = platform_of(api).safeguarding.reconcile()
    assert first.shortfall and again.shortfall
    assert (first.lines[0].shortfall_minor, first.lines[0].bank_reported_minor) == (500, 3_500)
    assert len(first.alerts) == 1 and again.alerts == []  # the same finding, raised once
    (alert,) = alerts(api)
    assert (alert["kind"], alert["severity"]) == ("safeguarding.shortfall", "critical")
    assert json.loads(alert["detail"])["shortfall_minor"] == 500
    bank.short_minor["EUR"] = -200  # the bank reports more than the books: a break
    broke = platform_of(api).safeguarding.reconcile()
    assert not broke.shortfall and broke.lines[0].status == "break"
    assert [a.kind for a in broke.alerts] == ["safeguarding.break"]


def test_e_money_issued_without_safeguarding_is_a_shortfall_and_the_cli_exits_1(
        api: TestClient, database_url: str, tmp_path: Path) -> None:
    user_id, _ = topped_up(api)
    env = {"PAYWARDEN_DATABASE_URL": database_url, "PAYWARDEN_DATA_DIR": str(tmp_path),
           "PAYWARDEN_LOG_JSON": "true"}
    ok = CliRunner().invoke(cli, ["banking", "safeguarding", "reconcile", "--json"], env=env)
    assert ok.exit_code == 0, ok.output
    ledger_move(api, "forged-credit", platform_account(AccountKind.BANK_CLEARING, "EUR"),
                AccountRef(AccountKind.WALLET, user_id, "EUR"), 700)
    short = CliRunner().invoke(cli, ["banking", "safeguarding", "reconcile", "--json"],
                               env=env)
    assert short.exit_code == 1, short.output
    report = json.loads(short.stdout.strip().splitlines()[-1])
    assert report["ok"] is False and report["currencies"][0]["shortfall"] == 700
    assert [a["kind"] for a in alerts(api)] == ["safeguarding.shortfall"]
    shown = CliRunner().invoke(cli, ["banking", "safeguarding", "reconcile"], env=env)
    assert shown.exit_code == 1 and "SHORTFALL" in shown.stdout
    listed = CliRunner().invoke(cli, ["alerts", "list", "--json"], env=env)
    assert listed.exit_code == 0
    assert json.loads(listed.stdout)["data"][0]["kind"] == "safeguarding.shortfall"
