"""A hub's reserve funding is four-eyes (decision 0060): an operator submits it, nothing is
issued until another operator approves with a passkey; run again, it issues nothing more;
on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from paywarden.adapters.clock import FakeClock
from paywarden.adapters.store import Database
from paywarden.adapters.store.schema import accounts
from paywarden.api import create_app
from paywarden.services.approvals.clearing_funding import ClearingFunding
from paywarden.services.clearing import Role
from paywarden.services.clearing.node import build_hub
from paywarden.services.clearing.peers import reserve_account
from paywarden.services.ledger.verify import verify_ledger

from ..support.approvals import decide, maker_and_checker
from ..support.clearing import IsoCodec, KeySigner
from ..support.merchants import client_for, platform_for
from ..support.platform import platform_of

HUB, BANK_A = "HUBAEUR1", "BANKAAA2"


@pytest.fixture
def hub_api(database: Database, clock: FakeClock, tmp_path: Path) -> Iterator[TestClient]:
    with client_for(create_app(platform_for(database, clock, tmp_path))) as client:
        platform = platform_of(client)
        platform.queries.create_ledger("EUR", now_ns=clock.now_ns())
        node = build_hub(database, clock=clock, writer=platform.payments.writer, bic=HUB,
                         codec=IsoCodec(), signer=KeySigner(), replay_window_s=300,
                         body_bytes_max=64 * 1024, send_timeout_s=1.0)
        node.peers.register(bic=BANK_A, name="Bank A", role=Role.PARTICIPANT,
                            url="http://bank-a.test", region="eu", currency="EUR",
                            public_key_pem=KeySigner().public_pem, actor="cli:operator")
        client.app.state.funding = ClearingFunding(node.peers)  # type: ignore[attr-defined]
        platform.approvals.register(client.app.state.funding)  # type: ignore[attr-defined]
        yield client


def reserves(client: TestClient) -> int:
    with platform_of(client).database.engine.connect() as conn:
        row = conn.execute(select(accounts.c.credits_posted).where(
            accounts.c.id == reserve_account(BANK_A, "EUR").id)).first()
    return int(row[0]) if row else 0


def test_reserves_are_issued_only_on_a_second_persons_approval_and_once(
        hub_api: TestClient) -> None:
    maker, checker = maker_and_checker(hub_api, "operator")
    r = hub_api.post("/v1/approvals", headers=maker.headers, json={
        "kind": "clearing_funding",
        "params": {"bic": BANK_A, "amount": 500_00, "currency": "EUR", "funding_id": "q4"}})
    assert r.status_code == 202, r.text
    approval = r.json()["approval"]
    assert (approval["amount"], approval["summary"]) == (
        500_00, "Fund BANKAAA2's reserves with 500.00 EUR of central-bank money")
    assert reserves(hub_api) == 0  # one person's word issues nothing
    assert decide(hub_api, maker, approval).status_code == 403
    done = decide(hub_api, checker, approval)
    assert done.status_code == 200 and done.json()["state"] == "executed", done.text
    assert reserves(hub_api) == 500_00
    again = hub_api.post("/v1/approvals", headers=maker.headers, json={
        "kind": "clearing_funding",
        "params": {"bic": BANK_A, "amount": 500_00, "currency": "EUR", "funding_id": "q4"}})
    assert again.json()["approval"]["id"] == approval["id"]  # the same command: answered
    platform = platform_of(hub_api)
    executed = platform.approvals.get(approval["id"])
    hub_api.app.state.funding.effect(executed)  # the engine's re-run after a crash
    assert reserves(hub_api) == 500_00  # the same funding id issues nothing more
    assert verify_ledger(platform_of(hub_api).database) == []


@pytest.mark.parametrize(("params", "code"), [
    ({"bic": "NOBANKX1", "amount": 1_00}, "not_found"),
    ({"bic": BANK_A, "amount": 0}, "money_amount_invalid"),
    ({"bic": BANK_A, "amount": 1_00, "currency": "USD"}, "money_amount_invalid"),
    ({"bic": BANK_A, "amount": 1_00, "funding_id": "no spaces"}, "approval_command_invalid"),
])
def test_a_funding_that_could_not_run_is_refused_at_submission(
        hub_api: TestClient, params: dict[str, object], code: str) -> None:
    maker, _ = maker_and_checker(hub_api, "operator")
    r = hub_api.post("/v1/approvals", headers=maker.headers,
                     json={"kind": "clearing_funding", "params": params})
    assert r.status_code in (404, 422) and r.json()["code"] == code, r.text
