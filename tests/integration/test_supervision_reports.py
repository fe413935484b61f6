"""The supervisor's reports: made from real data through the services, downloaded by a
supervisor (and nobody who can write), and checked by ``paywarden supervision verify``:
every format verifies, each cited entry's proof leads to the signed tree head, and a
tampered CSV, PDF or JSON is refused."""

from __future__ import annotations

import base64
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
from paywarden.domain.audit import merkle
from paywarden.services.supervision.service import KIND_NAMES
from paywarden.services.supervision.verify import keys_from_jwks, verify

from ..support.banking import deposit, open_account
from ..support.identity import passkey_customer
from ..support.merchants import client_for, platform_for
from ..support.platform import bearer, platform_of, staff_token

PERIOD = {"from": "2025-12-31", "to": "2026-01-01"}
LARGE_MINOR = 2_000_000  # 20,000.00 EUR: over the default 10,000.00 threshold
SMALL_MINOR = 5_000


@pytest.fixture
def api(database: Database, clock: FakeClock, tmp_path: Path) -> Iterator[TestClient]:
    platform = platform_for(database, clock, tmp_path)
    with client_for(create_app(platform)) as client:
        client.app.state.platform = platform  # type: ignore[attr-defined]
        yield client


@pytest.fixture
def supervisor(api: TestClient) -> dict[str, str]:
    return bearer(staff_token(platform_of(api), "supervisor", actor="cli:regulator"))


@pytest.fixture
def movements(api: TestClient) -> dict[str, Any]:
    """One large and one small deposit, a wallet top-up, and a safeguarding run."""
    _, token, _ = passkey_customer(api, "ada")
    current = open_account(api, token)
    wallet = open_account(api, token, "wallet", name="Wallet")
    large = deposit(api, current["iban"], LARGE_MINOR)
    deposit(api, current["iban"], SMALL_MINOR)
    r = api.post("/v1/me/transfers/own", headers=bearer(token), json={
        "from_account": current["id"], "to_account": wallet["id"], "amount": 4_000,
        "currency": "EUR"})
    assert r.status_code == 201, r.text
    platform_of(api).safeguarding.reconcile()
    return {"large": large, "current": current}


def report(api: TestClient, headers: dict[str, str], kind: str, fmt: str) -> bytes:
    r = api.get(f"/v1/supervision/reports/{kind}", headers=headers,
                params={**PERIOD, "format": fmt})
    assert r.status_code == 200, r.text
    assert r.headers["content-disposition"].startswith("attachment;")
    return r.content


def jwks(api: TestClient) -> dict[str, Any]:
    return api.get("/.well-known/jwks.json").json()  # type: ignore[no-any-return]


def test_the_kinds_are_listed_for_a_supervisor(api: TestClient,
                                               supervisor: dict[str, str]) -> None:
    r = api.get("/v1/supervision/reports", headers=supervisor)
    assert r.status_code == 200, r.text
    assert [k["kind"] for k in r.json()["data"]] == list(KIND_NAMES)
    assert r.json()["formats"] == ["csv", "json", "pdf"]


@pytest.mark.parametrize("role", ["risk", "operator", "security_admin", "support"])
def test_anyone_who_can_write_is_refused_the_reports(api: TestClient, role: str) -> None:
    headers = bearer(staff_token(platform_of(api), role))
    for path in ("/v1/supervision/reports", "/v1/supervision/reports/large_value"):
        r = api.get(path, headers=headers, params=PERIOD)
        assert (r.status_code, r.json()["code"]) == (403, "supervisors_only")


def test_a_customer_is_refused_the_reports(api: TestClient) -> None:
    _, token, _ = passkey_customer(api, "eve")
    r = api.get("/v1/supervision/reports", headers=bearer(token))
    assert (r.status_code, r.json()["code"]) == (403, "supervisors_only")


def test_bad_kind_format_and_period_are_refused(api: TestClient,
                                                supervisor: dict[str, str]) -> None:
    base = "/v1/supervision/reports"
    cases = [(f"{base}/nope", PERIOD, 404, "report_kind_unknown"),
             (f"{base}/large_value", {**PERIOD, "format": "xls"}, 400, "report_format_invalid"),
             (f"{base}/large_value", {"from": "2026-01-05", "to": "2026-01-01"}, 400,
              "report_period_invalid"),
             (f"{base}/large_value", {"from": "2026-01-01", "to": "2099-01-01"}, 400,
              "report_period_invalid"),
             (f"{base}/large_value", {"from": "1-1-2026", "to": "2026-01-01"}, 400,
              "report_period_invalid")]
    for path, params, status, code in cases:
        r = api.get(path, headers=supervisor, params=params)
        assert (r.status_code, r.json()["code"]) == (status, code), path


def test_the_large_value_report_lists_the_large_deposit_and_cites_its_audit_entry(
        api: TestClient, supervisor: dict[str, str], movements: dict[str, Any]) -> None:
    body = json.loads(report(api, supervisor, "large_value", "json"))
    rows = [dict(zip(body["report"]["columns"], r, strict=True))
            for r in body["report"]["rows"]]
    assert [(r["currency"], r["amount_minor"], r["to_kind"]) for r in rows] == [
        ("EUR", str(LARGE_MINOR), "current")]
    assert rows[0]["audit_leaf"] != ""
    outcome = verify(json.dumps(body, sort_keys=True, separators=(",", ":"),
                                ensure_ascii=False).encode() + b"\n", keys_from_jwks(jwks(api)))
    assert outcome.ok, outcome.as_json()


def test_a_cited_entry_proof_verifies_against_the_signed_tree_head(
        api: TestClient, supervisor: dict[str, str], movements: dict[str, Any]) -> None:
    data = report(api, supervisor, "large_value", "json")
    outcome = verify(data, keys_from_jwks(jwks(api)))
    assert outcome.ok and outcome.sealed is not None
    sealed = outcome.sealed
    head = sealed.proof.tree_head
    [(obj, index)] = sealed.report.citations()
    [cited] = sealed.cited
    assert cited.leaf_index == index and json.loads(cited.leaf)["object"] == obj
    assert merkle.verify_inclusion(merkle.leaf_hash(cited.leaf), index, head.tree_size,
                                   cited.inclusion, head.root_hash)
    with platform_of(api).database.engine.connect() as conn:
        from paywarden.adapters.store import audit_log as log
        sql = log.driver(conn)
        assert log.entries(sql, index, index)[0][1] == cited.leaf
        assert log.root(sql, head.tree_size) == head.root_hash


def test_the_safeguarding_report_shows_the_figures_of_the_days_reconciliation(
        api: TestClient, supervisor: dict[str, str], movements: dict[str, Any]) -> None:
    body = json.loads(report(api, supervisor, "safeguarding", "json"))
    rows = [dict(zip(body["report"]["columns"], r, strict=True))
            for r in body["report"]["rows"]]
    assert [(r["day"], r["currency"], r["wallets_minor"], r["safeguarded_minor"],
             r["status"], r["object"]) for r in rows] == [
        ("2026-01-01", "EUR", "4000", "4000", "ok", "safeguarding:2026-01-01")]
    summary = dict(body["report"]["summary"])
    assert summary["days_without_reconciliation"] == "1"


@pytest.mark.parametrize("kind", KIND_NAMES)
@pytest.mark.parametrize("fmt", ["csv", "pdf", "json"])
def test_every_report_in_every_format_verifies(
        api: TestClient, supervisor: dict[str, str], movements: dict[str, Any], kind: str,
        fmt: str) -> None:
    outcome = verify(report(api, supervisor, kind, fmt), keys_from_jwks(jwks(api)))
    assert outcome.ok, outcome.as_json()
    assert outcome.format == fmt


def test_generating_a_report_is_an_audit_entry_naming_who_which_and_when(
        api: TestClient, supervisor: dict[str, str]) -> None:
    outcome = verify(report(api, supervisor, "merchants", "json"), keys_from_jwks(jwks(api)))
    assert outcome.sealed is not None
    leaf = json.loads(outcome.sealed.proof.leaf)
    assert leaf["actor"].startswith("cli:regulator")
    assert (leaf["action"], leaf["detail"]["kind"], leaf["detail"]["from"],
            leaf["detail"]["to"]) == ("supervision.report_generated", "merchants",
                                      "2025-12-31", "2026-01-01")


def test_a_tampered_csv_is_refused(api: TestClient, supervisor: dict[str, str],
                                   movements: dict[str, Any]) -> None:
    data = report(api, supervisor, "large_value", "csv")
    forged = data.replace(str(LARGE_MINOR).encode(), b"1000000", 1)
    assert forged != data
    outcome = verify(forged, keys_from_jwks(jwks(api)))
    assert not outcome.ok and outcome.failed == ["content"]


def test_a_tampered_pdf_is_refused(api: TestClient, supervisor: dict[str, str],
                                   movements: dict[str, Any]) -> None:
    data = report(api, supervisor, "large_value", "pdf")
    good = verify(data, keys_from_jwks(jwks(api)))
    assert good.ok and good.sealed is not None
    # A PDF showing another amount, with the genuine seal attached.
    from paywarden.services.supervision import pdf
    from paywarden.services.supervision.report import Report
    r = good.sealed.report
    rows = tuple((*row[:3], "999", *row[4:]) for row in r.rows)
    changed = type(good.sealed)(Report(**{**r.__dict__, "rows": rows}), good.sealed.proof,
                                good.sealed.cited, good.sealed.jws)
    outcome = verify(pdf.render(changed), keys_from_jwks(jwks(api)))
    assert not outcome.ok and "content" in outcome.failed


def test_a_tampered_json_seal_is_refused(api: TestClient, supervisor: dict[str, str],
                                         movements: dict[str, Any]) -> None:
    body = json.loads(report(api, supervisor, "large_value", "json"))
    header, payload, signature = body["seal"].split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    claims["report"]["rows"][0][3] = "1"
    forged_payload = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    body["seal"] = f"{header}.{forged_payload}.{signature}"
    body["report"] = claims["report"]
    data = json.dumps(body, sort_keys=True, separators=(",", ":")).encode() + b"\n"
    outcome = verify(data, keys_from_jwks(jwks(api)))
    assert not outcome.ok and "signature" in outcome.failed


def test_a_citation_pointing_at_another_entry_is_refused(
        api: TestClient, supervisor: dict[str, str], movements: dict[str, Any]) -> None:
    good = verify(report(api, supervisor, "large_value", "json"), keys_from_jwks(jwks(api)))
    assert good.sealed is not None
    from paywarden.services.supervision.verify import _citations
    sealed = good.sealed
    r = sealed.report
    moved = tuple((*row[:-1], str(int(row[-1]) - 1)) for row in r.rows)
    from paywarden.services.supervision.report import Report
    forged = type(sealed)(Report(**{**r.__dict__, "rows": moved}), sealed.proof, sealed.cited,
                          sealed.jws)
    ok, detail = _citations(forged)
    assert not ok and "no proof" in detail


def test_the_cli_verifies_a_report_and_refuses_a_tampered_one(
        api: TestClient, supervisor: dict[str, str], movements: dict[str, Any],
        tmp_path: Path) -> None:
    keys = tmp_path / "jwks.json"
    keys.write_text(json.dumps(jwks(api)))
    good = tmp_path / "report.csv"
    good.write_bytes(report(api, supervisor, "large_value", "csv"))
    result = CliRunner().invoke(cli, ["supervision", "verify", str(good), "--jwks", str(keys),
                                      "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["verified"] is True
    bad = tmp_path / "bad.csv"
    bad.write_bytes(good.read_bytes().replace(b"current", b"savings", 1))
    result = CliRunner().invoke(cli, ["supervision", "verify", str(bad), "--jwks", str(keys)])
    assert result.exit_code == 1 and "NOT VERIFIED" in result.stdout


def test_a_supervisor_cannot_write(api: TestClient, supervisor: dict[str, str]) -> None:
    r = api.post("/v1/staff/rail/deposits", headers=supervisor, json={})
    assert (r.status_code, r.json()["code"]) == (403, "read_only_role")
