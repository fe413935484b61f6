"""Transactions and statements of a bank account over HTTP and from the CLI: running
balances, filters and cursors, downloads in every format that verify and reconcile with
the account's balance, and another customer's account is a 404."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from paywarden.adapters.clock import FakeClock
from paywarden.adapters.store import Database
from paywarden.api import create_app
from paywarden.cli import app as cli
from paywarden.services.banking.statements import FORMATS
from paywarden.services.banking.statements.verify import keys_from_jwks, verify

from ..support.authenticator import SoftAuthenticator
from ..support.banking import balance_of, deposit, open_account
from ..support.identity import passkey_customer, sign_in
from ..support.merchants import client_for, platform_for
from ..support.platform import bearer, platform_of

DAY_S = 86_400
PERIOD = {"from": "2026-01-01", "to": "2026-01-10"}


@pytest.fixture
def api(database: Database, clock: FakeClock, tmp_path: Path) -> Iterator[TestClient]:
    platform = platform_for(database, clock, tmp_path)
    with client_for(create_app(platform)) as client:
        client.app.state.platform = platform  # type: ignore[attr-defined]
        yield client


@pytest.fixture
def ada(api: TestClient, clock: FakeClock) -> tuple[str, dict[str, Any], dict[str, Any]]:
    """Ada's token, current and savings account after a week: two salaries, a saving."""
    _, token, authenticator = passkey_customer(api, "ada")
    current = open_account(api, token, "current", "EUR", "Everyday")
    savings = open_account(api, token, "savings", "EUR", "Rainy day")
    deposit(api, current["iban"], 100_00)
    clock.advance(2 * DAY_S)
    deposit(api, current["iban"], 50_00)
    clock.advance(2 * DAY_S)
    token = signed_in(api, authenticator, "ada")
    r = api.post("/v1/me/transfers/own", headers=bearer(token), json={
        "from_account": current["id"], "to_account": savings["id"], "amount": 30_00,
        "currency": "EUR", "reference": "put aside"})
    assert r.status_code == 201, r.text
    clock.advance(5 * DAY_S)
    return signed_in(api, authenticator, "ada"), current, savings


def signed_in(api: TestClient, authenticator: SoftAuthenticator, username: str) -> str:
    r = sign_in(api, authenticator, username)
    assert r.status_code == 200, r.text
    return r.json()["token"]  # type: ignore[no-any-return]


def test_transactions_list_entries_newest_first_with_running_balances(
        api: TestClient, ada: tuple[str, dict[str, Any], dict[str, Any]]) -> None:
    token, current, _ = ada
    r = api.get(f"/v1/me/accounts/{current['id']}/transactions", headers=bearer(token))
    assert r.status_code == 200, r.text
    items = r.json()["data"]
    assert [(i["amount"], i["balance_after"], i["state"]) for i in items] == [
        (-30_00, 120_00, "booked"), (50_00, 150_00, "booked"), (100_00, 100_00, "booked")]
    assert items[0]["reference"] == "put aside"
    assert items[2]["counterparty"] == "Employer GmbH" and items[2]["reference"] == "salary"
    assert items[0]["balance_after"] == balance_of(api, token, current["id"])


def test_transactions_filter_and_page_with_a_cursor(
        api: TestClient, ada: tuple[str, dict[str, Any], dict[str, Any]]) -> None:
    token, current, _ = ada
    url = f"/v1/me/accounts/{current['id']}/transactions"
    assert [i["amount"] for i in api.get(url, headers=bearer(token), params={
        "q": "SALARY"}).json()["data"]] == [50_00, 100_00]
    assert [i["amount"] for i in api.get(url, headers=bearer(token), params={
        "amount_min": 40_00, "amount_max": 60_00}).json()["data"]] == [50_00]
    seen, cursor = [], None
    for _ in range(5):
        body = api.get(url, headers=bearer(token), params={"limit": 2, **(
            {"cursor": cursor} if cursor else {})}).json()
        seen += [i["id"] for i in body["data"]]
        cursor = body["next_cursor"]
        if cursor is None:
            break
    assert len(seen) == 3 == len(set(seen))


@pytest.mark.parametrize("fmt", sorted(FORMATS))
def test_a_statement_downloads_verifies_and_reconciles_with_the_account(
        api: TestClient, ada: tuple[str, dict[str, Any], dict[str, Any]], fmt: str) -> None:
    token, current, _ = ada
    r = api.get(f"/v1/me/accounts/{current['id']}/statements", headers=bearer(token),
                params={**PERIOD, "format": fmt})
    assert r.status_code == 200, r.text
    module = FORMATS[fmt]
    assert r.headers["content-type"].startswith(module.MEDIA_TYPE.split(";")[0])
    assert r.headers["content-disposition"] == (
        f'attachment; filename="statement-{current["id"]}-2026-01-01-2026-01-10.'
        f'{module.EXTENSION}"')
    report = verify(r.content, keys_from_jwks(api.get("/.well-known/jwks.json").json()))
    assert report.ok, report.checks
    assert report.sealed is not None
    s = report.sealed.statement
    assert s.opening_balance_minor == 0
    assert s.opening_balance_minor + sum(e.amount_minor for e in s.entries) == (
        s.closing_balance_minor) == balance_of(api, token, current["id"])
    assert s.iban == current["iban"] and s.owner_name == "Ada"


def test_another_customers_account_is_not_found_for_transactions_and_statements(
        api: TestClient, ada: tuple[str, dict[str, Any], dict[str, Any]]) -> None:
    _, current, _ = ada
    _, bob, _ = passkey_customer(api, "bob")
    for path, params in (("transactions", {}), ("statements", {**PERIOD, "format": "csv"})):
        r = api.get(f"/v1/me/accounts/{current['id']}/{path}", headers=bearer(bob),
                    params=params)
        assert r.status_code == 404, r.text
        assert r.json()["code"] == "not_found"
        assert r.headers["content-type"].startswith("application/problem+json")


@pytest.mark.parametrize(("params", "code"), [
    ({"from": "2026-13-01", "to": "2026-01-10"}, "statement_period_invalid"),
    ({"from": "01/01/2026", "to": "2026-01-10"}, "statement_period_invalid"),
    ({"from": "2026-01-10", "to": "2026-01-01"}, "statement_period_invalid"),
    ({"from": "2026-01-01", "to": "2027-12-31"}, "statement_period_invalid"),
    ({"from": "2020-01-01", "to": "2026-01-01"}, "statement_period_invalid"),
    ({**PERIOD, "format": "xlsx"}, "statement_format_invalid"),
    ({"to": "2026-01-10"}, "validation_failed"),
])
def test_bad_dates_and_formats_are_problems_with_a_stable_code(
        api: TestClient, ada: tuple[str, dict[str, Any], dict[str, Any]],
        params: dict[str, str], code: str) -> None:
    token, current, _ = ada
    r = api.get(f"/v1/me/accounts/{current['id']}/statements", headers=bearer(token),
                params=params)
    assert r.status_code in (400, 422), r.text
    assert r.json()["code"] == code


@pytest.mark.parametrize(("params", "code"), [
    ({"from": "yesterday"}, "history_filter_invalid"),
    ({"from": "2026-01-10", "to": "2026-01-01"}, "history_filter_invalid"),
    ({"amount_min": 5, "amount_max": 4}, "history_filter_invalid"),
    ({"cursor": "h1.forged"}, "cursor_invalid"),
    ({"amount_min": -1}, "validation_failed"),
])
def test_bad_transaction_filters_are_problems_with_a_stable_code(
        api: TestClient, ada: tuple[str, dict[str, Any], dict[str, Any]],
        params: dict[str, Any], code: str) -> None:
    token, current, _ = ada
    r = api.get(f"/v1/me/accounts/{current['id']}/transactions", headers=bearer(token),
                params=params)
    assert r.status_code in (400, 422), r.text
    assert r.json()["code"] == code


def test_the_cli_writes_a_statement_that_verify_statement_accepts(
        api: TestClient, ada: tuple[str, dict[str, Any], dict[str, Any]],
        tmp_path: Path) -> None:
    _, current, _ = ada
    settings = platform_of(api).settings
    env = {"PAYWARDEN_DATABASE_URL": settings.database, "PAYWARDEN_DATA_DIR": str(tmp_path),
           "PAYWARDEN_PUBLIC_URL": settings.public_url, "PAYWARDEN_LOG_JSON": "true"}
    out = tmp_path / "jan.csv"
    result = CliRunner().invoke(cli, ["banking", "statement", current["id"], "--from",
                                      "2026-01-01", "--to", "2026-01-10", "--format", "csv",
                                      "--out", str(out)], env=env)
    assert result.exit_code == 0, result.output
    assert out.read_bytes().startswith(b"type,booked_at,entry_id")
    result = CliRunner().invoke(cli, ["banking", "statement", current["id"], "--from",
                                      "2026-01-01", "--to", "2026-01-10", "--format", "camt053"],
                                env=env)
    assert result.exit_code == 0, result.output
    assert result.stdout_bytes.startswith(b"<?xml")
    result = CliRunner().invoke(cli, ["banking", "verify-statement", str(out), "--json"],
                                env=env)
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["verified"] is True
    result = CliRunner().invoke(cli, ["banking", "statement", current["id"], "--from",
                                      "2026-01-01", "--to", "2026-01-10", "--format", "doc"],
                                env=env)
    assert result.exit_code == 2
