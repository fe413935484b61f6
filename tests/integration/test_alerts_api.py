"""Staff alerts over HTTP (api/alert_routes.py): staff roles that may read them do, a
customer or a role without the grant is refused and reads nothing, an alert is
acknowledged once, every read and acknowledgement is audited, and an alert's detail
holds ids and figures only."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from paywarden.adapters.clock import FakeClock
from paywarden.adapters.store import Database
from paywarden.adapters.store.schema import audit_entries
from paywarden.api import create_app
from paywarden.domain.errors import DomainError
from paywarden.services.alerts import Alert, Alerts, Severity

from ..support.identity import passkey_customer
from ..support.merchants import client_for, platform_for
from ..support.platform import bearer, platform_of, staff_token


@pytest.fixture
def api(database: Database, clock: FakeClock, tmp_path: Path) -> Iterator[TestClient]:
    platform = platform_for(database, clock, tmp_path)
    with client_for(create_app(platform)) as client:
        client.app.state.platform = platform  # type: ignore[attr-defined]
        yield client


def raised(api: TestClient, n: int = 1) -> list[Alert]:
    made = []
    for i in range(n):
        alert = platform_of(api).alerts.raise_(
            kind="safeguarding.shortfall", severity=Severity.CRITICAL,
            subject=f"EUR e-money short by {100 + i} minor units",
            detail={"currency": "EUR", "shortfall_minor": 100 + i}, dedupe_key=f"test:{i}")
        assert alert is not None
        made.append(alert)
        platform_of(api).clock.advance(1)  # type: ignore[attr-defined]
    return made


def actions(api: TestClient) -> list[str]:
    with platform_of(api).database.engine.connect() as conn:
        return list(conn.execute(select(audit_entries.c.action).where(
            audit_entries.c.action.like("alert.%")).order_by(audit_entries.c.seq)).scalars())


def test_a_customer_or_a_staff_role_without_the_grant_reads_and_acknowledges_nothing(
        api: TestClient) -> None:
    (alert,) = raised(api)
    _, customer, _ = passkey_customer(api, "ada")
    admin = staff_token(platform_of(api), "merchant_admin")
    support = staff_token(platform_of(api), "support")
    ack = f"/v1/staff/alerts/{alert.id}/acknowledge"
    for token in (customer, admin):
        r = api.get("/v1/staff/alerts", headers=bearer(token))
        assert r.status_code == 403 and r.json()["code"] == "forbidden", r.text
        assert "shortfall" not in r.text
        assert api.post(ack, headers=bearer(token)).status_code == 403
    assert api.get("/v1/staff/alerts").status_code == 401
    assert api.post(ack, headers=bearer(support)).status_code == 403  # support reads only
    r = api.get("/v1/staff/alerts", headers=bearer(support))
    assert r.status_code == 200 and r.json()["data"][0]["acknowledged_by"] is None
    assert actions(api) == ["alert.raise", "alert.list"]


def test_an_alert_is_acknowledged_once_and_the_record_keeps_who(api: TestClient) -> None:
    (alert,) = raised(api)
    operator = staff_token(platform_of(api), "operator")
    risk = staff_token(platform_of(api), "risk")
    url = f"/v1/staff/alerts/{alert.id}/acknowledge"
    first = api.post(url, headers=bearer(operator))
    assert first.status_code == 200, first.text
    assert first.json()["acknowledged_at"] is not None
    again = api.post(url, headers=bearer(risk))
    assert again.status_code == 409 and again.json()["code"] == "alert_already_acknowledged"
    shown = api.get("/v1/staff/alerts", headers=bearer(risk)).json()["data"][0]
    assert shown["acknowledged_by"] == first.json()["acknowledged_by"]
    assert api.get("/v1/staff/alerts?open=true", headers=bearer(risk)).json()["data"] == []
    missing = api.post("/v1/staff/alerts/alr_" + "0" * 24 + "/acknowledge",
                       headers=bearer(operator))
    assert missing.status_code == 404
    assert api.post("/v1/staff/alerts/nonsense/acknowledge",
                    headers=bearer(operator)).status_code == 422
    assert actions(api) == ["alert.raise", "alert.acknowledge", "alert.list", "alert.list"]


def test_alerts_are_paged_newest_first_and_a_forged_cursor_is_refused(api: TestClient) -> None:
    made = raised(api, 3)
    supervisor = bearer(staff_token(platform_of(api), "supervisor"))
    page = api.get("/v1/staff/alerts?limit=2", headers=supervisor).json()
    assert [a["id"] for a in page["data"]] == [made[2].id, made[1].id]
    rest = api.get(f"/v1/staff/alerts?limit=2&before={page['next_cursor']}",
                   headers=supervisor).json()
    assert [a["id"] for a in rest["data"]] == [made[0].id] and rest["next_cursor"] is None
    r = api.get("/v1/staff/alerts?before=1' OR 1=1", headers=supervisor)
    assert r.status_code == 400 and r.json()["code"] == "cursor_invalid"


def test_an_alert_holds_ids_and_figures_only_and_is_raised_once_per_key(
        api: TestClient) -> None:
    alerts = platform_of(api).alerts
    for detail in ({"customer": {"name": "Ada Lovelace"}}, {"note": "x" * 65},
                   {"Bad Key": 1}, {f"k{i}": i for i in range(33)}):
        with pytest.raises(DomainError) as refused:
            alerts.raise_(kind="test.kind", severity=Severity.INFO, subject="s", detail=detail)
        assert refused.value.code == "alert_invalid"
    with pytest.raises(DomainError):
        alerts.raise_(kind="Not A Kind", severity=Severity.INFO, subject="s", detail={})
    assert alerts.raise_(kind="test.kind", severity=Severity.INFO, subject="once",
                         detail={}, dedupe_key="k") is not None
    assert alerts.raise_(kind="test.kind", severity=Severity.INFO, subject="once",
                         detail={}, dedupe_key="k") is None


def test_a_new_alert_is_mailed_when_a_mailer_is_set_and_a_failed_mail_loses_nothing(
        database: Database, clock: FakeClock) -> None:
    sent: list[Alert] = []
    Alerts(database, clock=clock, mailer=sent.append).raise_(
        kind="test.kind", severity=Severity.WARNING, subject="mailed", detail={"n": 1})
    assert [a.subject for a in sent] == ["mailed"]

    def broken(_alert: Alert) -> None:
        raise ConnectionRefusedError("no relay")

    kept = Alerts(database, clock=clock, mailer=broken).raise_(
        kind="test.kind", severity=Severity.WARNING, subject="kept", detail={})
    assert kept is not None
    page, _ = Alerts(database, clock=clock).page(actor="test")
    assert {a.subject for a in page} == {"mailed", "kept"}
