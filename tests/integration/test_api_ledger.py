"""The HTTP API through the ASGI app: happy paths, and bad input that changes nothing."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, text

from paywarden.adapters.clock import FakeClock
from paywarden.adapters.store import Database
from paywarden.adapters.store.schema import audit_entries
from paywarden.api import create_app
from paywarden.bootstrap import build
from paywarden.settings import Settings
from tests.support.platform import service_token, staff_token


@pytest.fixture
def api(database: Database, clock: FakeClock) -> Iterator[TestClient]:
    platform = build(Settings(database_url=database.url), clock=clock, database=database)
    token = service_token(platform)
    with TestClient(create_app(platform)) as client:
        client.headers["Authorization"] = f"Bearer {token}"
        client.app.state.platform = platform  # type: ignore[attr-defined]
        yield client


@pytest.fixture
def funded(api: TestClient) -> dict[str, str]:
    assert api.post("/v1/ledgers", json={"currency": "EUR"}).status_code == 201
    assert api.post("/v1/ledgers", json={"currency": "USD"}).status_code == 201
    ids = {}
    for name, ledger, flags in (("bank", "EUR", []),
                                ("alice", "EUR", ["debits_must_not_exceed_credits"]),
                                ("bob", "EUR", ["debits_must_not_exceed_credits"]),
                                ("usd", "USD", [])):
        r = api.post("/v1/accounts", json={"ledger": ledger, "code": 1, "flags": flags,
                                           "user_data": name})
        assert r.status_code == 201, r.text
        ids[name] = r.json()["id"]
    r = post_transfers(api, [transfer("deposit", ids["bank"], ids["alice"], 10_000)])
    assert r.json()["results"][0]["result"] == "ok"
    return ids


def transfer(tid: str, debit: str, credit: str, amount: Any, **extra: Any) -> dict[str, Any]:
    return {"id": tid, "debit_account_id": debit, "credit_account_id": credit,
            "amount": amount, "ledger": "EUR", "code": 1, **extra}


def post_transfers(api: TestClient, transfers: list[dict[str, Any]]) -> Any:
    return api.post("/v1/transfers", json={"transfers": transfers})


def snapshot(api: TestClient, ids: dict[str, str]) -> dict[str, Any]:
    return {name: api.get(f"/v1/accounts/{i}").json()["balances"] for name, i in ids.items()}


def test_a_transfer_over_http_shows_in_balances_and_history(api: TestClient,
                                                            funded: dict[str, str]) -> None:
    r = post_transfers(api, [transfer("pay-1", funded["alice"], funded["bob"], 1_999)])
    assert r.status_code == 200
    assert r.json() == {"results": [{"index": 0, "id": "pay-1", "result": "ok"}], "applied": 1}
    bob = api.get(f"/v1/accounts/{funded['bob']}").json()
    assert bob["balances"]["credits_posted"] == 1_999 and bob["ledger"] == "EUR"
    page = api.get(f"/v1/accounts/{funded['alice']}/transfers", params={"limit": 1}).json()
    assert [t["id"] for t in page["data"]] == ["pay-1"]
    rest = api.get(f"/v1/accounts/{funded['alice']}/transfers",
                   params={"cursor": page["next_cursor"]}).json()
    assert [t["id"] for t in rest["data"]] == ["deposit"] and rest["next_cursor"] is None
    assert api.get("/v1/transfers/pay-1").json()["amount"] == 1_999


def test_pending_then_post_over_http(api: TestClient, funded: dict[str, str]) -> None:
    r = post_transfers(api, [
        transfer("hold", funded["alice"], funded["bob"], 500, flags=["pending"], timeout_s=60),
        {"id": "capture", "pending_id": "hold", "flags": ["post_pending"], "amount": 300},
    ])
    assert [x["result"] for x in r.json()["results"]] == ["ok", "ok"]
    assert snapshot(api, funded)["alice"] == {"debits_pending": 0, "debits_posted": 300,
                                              "credits_pending": 0, "credits_posted": 10_000}


def test_retrying_a_batch_returns_exists_and_moves_nothing_twice(
        api: TestClient, funded: dict[str, str]) -> None:
    batch = [transfer("r-1", funded["alice"], funded["bob"], 10)]
    assert post_transfers(api, batch).json()["results"][0]["result"] == "ok"
    again = post_transfers(api, batch).json()
    assert again["results"][0]["result"] == "exists" and again["applied"] == 0
    batch[0]["amount"] = 11
    assert post_transfers(api, batch).json()["results"][0]["result"] == (
        "exists_with_different_fields")
    assert snapshot(api, funded)["bob"]["credits_posted"] == 10


# -- an id's outcome never changes: no false failure for a retry -------------------------


def results_of(r: Any) -> list[str]:
    assert r.status_code == 200, r.text
    return [x["result"] for x in r.json()["results"]]


def test_a_transfer_retried_after_the_debit_account_was_spent_is_answered_exists(
        api: TestClient, funded: dict[str, str]) -> None:
    pay = transfer("pay-1", funded["alice"], funded["bob"], 6_000)
    assert results_of(post_transfers(api, [pay])) == ["ok"]
    spend = transfer("spend", funded["alice"], funded["bob"], 4_000)
    assert results_of(post_transfers(api, [spend])) == ["ok"]
    before = snapshot(api, funded)
    assert results_of(post_transfers(api, [pay])) == ["exists"]  # not exceeds_credits
    assert snapshot(api, funded) == before


def test_a_retried_post_is_answered_exists(api: TestClient, funded: dict[str, str]) -> None:
    hold = transfer("hold", funded["alice"], funded["bob"], 500, flags=["pending"])
    capture = {"id": "capture", "pending_id": "hold", "flags": ["post_pending"]}
    assert results_of(post_transfers(api, [hold, capture])) == ["ok", "ok"]
    before = snapshot(api, funded)
    assert results_of(post_transfers(api, [capture])) == ["exists"]  # not already_posted
    assert snapshot(api, funded) == before


def test_the_same_id_with_another_amount_is_answered_exists_with_different_fields(
        api: TestClient, funded: dict[str, str]) -> None:
    assert results_of(post_transfers(api, [transfer("pay-1", funded["alice"], funded["bob"],
                                                    9_000)])) == ["ok"]
    bigger = transfer("pay-1", funded["alice"], funded["bob"], 9_999)
    assert results_of(post_transfers(api, [bigger])) == ["exists_with_different_fields"]
    assert snapshot(api, funded)["bob"]["credits_posted"] == 9_000


def test_a_failed_transfer_retried_after_funding_is_answered_id_already_failed(
        api: TestClient, funded: dict[str, str]) -> None:
    attempt = transfer("pay-2", funded["alice"], funded["bob"], 50_000)
    assert results_of(post_transfers(api, [attempt])) == ["exceeds_credits"]
    top_up = transfer("top-up", funded["bank"], funded["alice"], 100_000)
    assert results_of(post_transfers(api, [top_up])) == ["ok"]
    before = snapshot(api, funded)
    r = post_transfers(api, [attempt])
    assert results_of(r) == ["id_already_failed"] and r.json()["applied"] == 0
    assert snapshot(api, funded) == before
    assert api.get("/v1/transfers/pay-2").status_code == 404


def test_a_dead_ledger_writer_answers_503_and_readiness_goes_false(
        api: TestClient, funded: dict[str, str]) -> None:
    hold = transfer("hold", funded["alice"], funded["bob"], 5, flags=["pending"])
    assert results_of(post_transfers(api, [hold])) == ["ok"]
    platform = api.app.state.platform  # type: ignore[attr-defined]
    with platform.database.engine.begin() as conn:  # impossible state: the writer must stop
        conn.execute(text("DELETE FROM pending_transfers"))
    capture = {"id": "capture", "pending_id": "hold", "flags": ["post_pending"]}
    r = post_transfers(api, [capture])
    assert r.status_code == 503 and r.json()["code"] == "engine_stopped"
    r = post_transfers(api, [transfer("later", funded["bank"], funded["bob"], 1)])
    assert r.status_code == 503 and r.json()["code"] == "engine_stopped"
    assert api.get("/health/ready").status_code == 503


def test_a_ledger_writer_that_does_not_answer_gets_503_after_the_wait(
        api: TestClient, funded: dict[str, str]) -> None:
    engine = api.app.state.platform.engine  # type: ignore[attr-defined]
    engine._wait_s = 0.3
    gate = threading.Event()
    begin = engine._writer.begin
    engine._writer.begin = lambda: gate.wait(10) and begin()
    try:
        r = post_transfers(api, [transfer("slow", funded["bank"], funded["bob"], 1)])
        assert r.status_code == 503 and r.json()["code"] == "engine_unresponsive"
        assert "retry with the same ids" in r.json()["detail"]
    finally:
        gate.set()


BAD_AMOUNTS = [0, -1, 1.5, 10.0, "100", True, None, 2**63, 2**64 + 7, 10**30]


@pytest.mark.parametrize("amount", BAD_AMOUNTS, ids=repr)
def test_a_bad_amount_is_refused_whole_and_applies_nothing(
        api: TestClient, funded: dict[str, str], amount: Any) -> None:
    before = snapshot(api, funded)
    good = transfer("fine", funded["alice"], funded["bob"], 1)
    r = post_transfers(api, [good, transfer("bad", funded["alice"], funded["bob"], amount)])
    assert r.status_code == 422
    assert r.headers["content-type"] == "application/problem+json"
    body = r.json()
    assert body["code"] == "validation_failed" and body["status"] == 422
    assert any(e["loc"][:3] == ["body", "transfers", 1] for e in body["errors"])
    assert snapshot(api, funded) == before
    assert api.get("/v1/transfers/fine").status_code == 404


@pytest.mark.parametrize("field,value", [
    ("id", ""), ("id", "has space"), ("id", "x" * 65), ("id", 12), ("id", "!system"),
    ("debit_account_id", "acct_123"), ("debit_account_id", 5),
    ("debit_account_id", "acct_0000000000000000"), ("credit_account_id", "acct_ffffffffffffffff"),
    ("ledger", "eur"), ("ledger", "XYZ"), ("code", 0), ("code", "1"), ("flags", ["bogus"]),
    ("flags", "pending"), ("timeout_s", -1), ("user_data", "é"), ("unexpected", 1),
])
def test_malformed_fields_are_refused_with_a_problem(
        api: TestClient, funded: dict[str, str], field: str, value: Any) -> None:
    before = snapshot(api, funded)
    t = transfer("t", funded["alice"], funded["bob"], 1)
    t[field] = value
    r = post_transfers(api, [t])
    assert r.status_code == 422, r.text
    assert r.json()["code"] == "validation_failed"
    assert snapshot(api, funded) == before


def test_unknown_accounts_and_currency_mismatch_get_their_own_result_codes(
        api: TestClient, funded: dict[str, str]) -> None:
    before = snapshot(api, funded)
    r = post_transfers(api, [
        transfer("u1", funded["alice"], "acct_00000000000000aa", 1),
        transfer("u2", funded["alice"], funded["usd"], 1),
        {**transfer("u3", funded["alice"], funded["bob"], 1), "ledger": "USD"},
    ])
    assert r.status_code == 200
    assert [x["result"] for x in r.json()["results"]] == [
        "credit_account_not_found", "ledger_mismatch", "ledger_mismatch"]
    assert r.json()["applied"] == 0
    assert snapshot(api, funded) == before


def test_an_oversized_batch_is_refused_with_413(api: TestClient, funded: dict[str, str]) -> None:
    before = snapshot(api, funded)
    batch = [transfer(f"b{i}", funded["alice"], funded["bob"], 1) for i in range(8191)]
    r = post_transfers(api, batch)
    assert r.status_code == 413 and r.json()["code"] == "batch_too_large"
    assert snapshot(api, funded) == before


@pytest.mark.parametrize("body", [None, [], {}, {"transfers": []}, {"transfers": {}},
                                  {"transfers": [None]}, "transfers", 42])
def test_wrong_body_shapes_are_refused(api: TestClient, funded: dict[str, str], body: Any) -> None:
    r = api.post("/v1/transfers", json=body)
    assert r.status_code == 422 and r.json()["code"] == "validation_failed"


def test_not_json_is_refused(api: TestClient, funded: dict[str, str]) -> None:
    r = api.post("/v1/transfers", content=b"{not json", headers={"content-type":
                                                                 "application/json"})
    assert r.status_code == 422 and r.json()["code"] == "validation_failed"


def test_without_a_valid_token_nothing_is_served(api: TestClient, funded: dict[str, str]) -> None:
    for headers in ({"Authorization": ""}, {"Authorization": "Bearer pws_wrong"},
                    {"Authorization": "Basic abc"}):
        r = api.get(f"/v1/accounts/{funded['alice']}", headers=headers)
        assert r.status_code == 401 and r.json()["code"] == "unauthenticated"
        r = api.post("/v1/transfers", headers=headers,
                     json={"transfers": [transfer("sneaky", funded["alice"], funded["bob"], 1)]})
        assert r.status_code == 401
    assert api.get("/v1/transfers/sneaky").status_code == 404


def test_a_supervisor_reads_the_ledger_but_cannot_move_money(
        api: TestClient, funded: dict[str, str]) -> None:
    supervisor = {"Authorization": f"Bearer {staff_token(api.app.state.platform, 'supervisor')}"}  # type: ignore[attr-defined]
    assert api.get(f"/v1/accounts/{funded['alice']}", headers=supervisor).status_code == 200
    r = api.post("/v1/transfers", headers=supervisor,
                 json={"transfers": [transfer("by-supervisor", funded["bank"], funded["bob"], 1)]})
    assert r.status_code == 403 and r.json()["code"] == "read_only_role"  # before the route
    assert api.get("/v1/transfers/by-supervisor").status_code == 404
    r = api.post(f"/v1/accounts/{funded['bob']}/close", headers=supervisor)
    assert r.status_code == 403


def test_staff_without_the_ledger_role_are_refused_and_the_refusal_recorded(
        api: TestClient, funded: dict[str, str]) -> None:
    platform = api.app.state.platform  # type: ignore[attr-defined]
    support = {"Authorization": f"Bearer {staff_token(platform, 'support')}"}
    r = api.get(f"/v1/accounts/{funded['alice']}", headers=support)
    assert r.status_code == 403 and r.json()["code"] == "forbidden"
    with platform.database.engine.connect() as conn:
        rows = conn.execute(select(audit_entries.c.action, audit_entries.c.outcome,
                                   audit_entries.c.detail)
                            .where(audit_entries.c.action == "access.denied")).all()
    assert [(a, o) for a, o, _ in rows] == [("access.denied", "denied")]
    assert "support" in rows[0][2] and "ledger" in rows[0][2]


def test_health_readiness_metrics_and_openapi_are_served(api: TestClient,
                                                         funded: dict[str, str]) -> None:
    assert api.get("/health/live").json() == {"status": "ok"}
    assert api.get("/health/ready").json() == {"status": "ready"}
    metrics = api.get("/metrics").text
    assert 'paywarden_ledger_transfers_total{result="ok"}' in metrics
    assert "/v1/transfers" in api.get("/openapi.json").json()["paths"]


def test_balance_as_of_and_bad_as_of(api: TestClient, funded: dict[str, str],
                                     clock: FakeClock) -> None:
    clock.advance(5)
    r = api.get(f"/v1/accounts/{funded['alice']}", params={"as_of": "2026-01-01T00:00:05Z"})
    assert r.status_code == 200 and r.json()["balances"]["credits_posted"] == 10_000
    r = api.get(f"/v1/accounts/{funded['alice']}", params={"as_of": "yesterday"})
    assert r.status_code == 422
    r = api.get(f"/v1/accounts/{funded['alice']}", params={"as_of": "2020-01-01T00:00:00Z"})
    assert r.status_code == 404 and r.json()["code"] == "account_not_found"


def test_unknown_account_is_404_problem(api: TestClient, funded: dict[str, str]) -> None:
    r = api.get("/v1/accounts/acct_00000000000000ab")
    assert r.status_code == 404 and r.json()["code"] == "account_not_found"
    assert api.get("/v1/accounts/nonsense").status_code == 422
