"""Electronic cheques over HTTP (decision 0026): written after a passkey step-up over the
exact cheque, presented by the payee, stopped by the drawer. Every attack is a test, and
in each nothing moves."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from fastapi.testclient import TestClient
from joserfc import jws
from joserfc.jwk import KeySet
from joserfc.util import urlsafe_b64decode, urlsafe_b64encode
from schwifty import IBAN
from sqlalchemy import func, select

from paywarden.adapters.clock import FakeClock
from paywarden.adapters.store import Database
from paywarden.adapters.store.schema import bank_transfers, cheque_presentations
from paywarden.api import create_app
from paywarden.services.banking import Decision, Screen
from paywarden.services.ledger.verify import verify_ledger

from ..support.banking import balance_of, deposit, open_account, step_up
from ..support.identity import passkey_customer, sign_in
from ..support.merchants import client_for, platform_for
from ..support.platform import bearer, platform_of

DAY_S = 86_400


@pytest.fixture
def api(database: Database, clock: FakeClock, tmp_path: Path) -> Iterator[TestClient]:
    platform = platform_for(database, clock, tmp_path)
    with client_for(create_app(platform)) as client:
        client.app.state.platform = platform  # type: ignore[attr-defined]
        yield client


class Customer:
    def __init__(self, api: TestClient, name: str, money: int = 0) -> None:
        _, self.token, self.authenticator = passkey_customer(api, name)
        self.name = name
        self.account = open_account(api, self.token)
        if money:
            deposit(api, self.account["iban"], money)

    def sign_in_again(self, api: TestClient) -> None:
        r = sign_in(api, self.authenticator, self.name)
        assert r.status_code == 200, r.text
        self.token = r.json()["token"]


@pytest.fixture
def ada(api: TestClient) -> Customer:
    return Customer(api, "ada", money=50_000)


@pytest.fixture
def bob(api: TestClient) -> Customer:
    return Customer(api, "bob")


def today(api: TestClient) -> dt.date:
    return platform_of(api).cheques.today()  # type: ignore[no-any-return]


def terms(api: TestClient, drawer: Customer, payee: Customer, amount: int, *,
          date: dt.date | None = None, days: int = 30) -> dict[str, Any]:
    date = date or today(api)
    return {"account_id": drawer.account["id"], "payee_iban": payee.account["iban"],
            "payee_name": "Bob Builder", "amount": amount, "currency": "EUR",
            "date": date.isoformat(), "expires_on": (date + dt.timedelta(days=days)).isoformat()}


def write(api: TestClient, drawer: Customer, payee: Customer, amount: int,
          **options: Any) -> dict[str, Any]:
    body = terms(api, drawer, payee, amount, **options)
    r = api.post("/v1/me/cheques/drafts", headers=bearer(drawer.token), json=body)
    assert r.status_code == 200, r.text
    draft = r.json()
    evidence = step_up(api, drawer.token, drawer.authenticator, **draft["step_up"])
    r = api.post("/v1/me/cheques", headers=bearer(drawer.token),
                 json={**body, "serial": draft["serial"], "evidence_id": evidence})
    assert r.status_code == 201, r.text
    return r.json()  # type: ignore[no-any-return]


def present(api: TestClient, who: Customer, text: str, **headers: str) -> Any:
    return api.post("/v1/me/cheques/present", headers={**bearer(who.token), **headers},
                    json={"cheque": text, "account_id": who.account["id"]})


def bounced(r: Any, reason: str) -> dict[str, Any]:
    assert r.status_code == 422, r.text
    body = r.json()
    assert (body["code"], body["reason"], body["outcome"]) == ("cheque_bounced", reason,
                                                               "bounced")
    return body  # type: ignore[no-any-return]


def state_of(api: TestClient, who: Customer, cheque_id: str) -> str:
    r = api.get(f"/v1/me/cheques/{cheque_id}", headers=bearer(who.token))
    assert r.status_code == 200, r.text
    return r.json()["state"]  # type: ignore[no-any-return]


def movements(api: TestClient) -> int:
    with platform_of(api).database.engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(bank_transfers).where(
            bank_transfers.c.kind == "cheque")).scalar_one()  # type: ignore[no-any-return]


def tampered(text: str, **changes: Any) -> str:
    """The cheque with its claims changed and its original signature kept."""
    header, payload, signature = text.split(".")
    claims = json.loads(urlsafe_b64decode(payload.encode()))
    claims.update(changes)
    body = json.dumps(claims, sort_keys=True, separators=(",", ":")).encode()
    return f"{header}.{urlsafe_b64encode(body).decode()}.{signature}"


# -- the way it should go ---------------------------------------------------------------------


def test_a_cheque_written_after_a_step_up_is_paid_to_the_payee_once(
        api: TestClient, ada: Customer, bob: Customer) -> None:
    cheque = write(api, ada, bob, 12_345)
    assert cheque["state"] == "issued" and cheque["serial"] == 1 and cheque["can_stop"]
    received = api.get("/v1/me/cheques?role=received", headers=bearer(bob.token)).json()
    assert [c["id"] for c in received["data"]] == [cheque["id"]]
    assert received["data"][0]["can_present"]
    r = present(api, bob, cheque["jws"])
    assert r.status_code == 201, r.text
    assert r.json()["outcome"] == "paid" and r.json()["transfer"]["state"] == "posted"
    assert balance_of(api, bob.token, bob.account["id"]) == 12_345
    assert balance_of(api, ada.token, ada.account["id"]) == 50_000 - 12_345
    assert state_of(api, ada, cheque["id"]) == "paid"
    assert verify_ledger(platform_of(api).database) == []


def test_the_payee_checks_the_cheque_offline_against_the_published_keys(
        api: TestClient, ada: Customer, bob: Customer) -> None:
    cheque = write(api, ada, bob, 1_000)
    keys = api.get("/.well-known/jwks.json").json()
    found = jws.deserialize_compact(cheque["jws"], KeySet.import_key_set(keys),
                                    algorithms=["Ed25519"])
    claims = json.loads(found.payload)
    assert found.protected["typ"] == "paywarden-cheque+jwt"
    assert (claims["amount_minor"], claims["payee_iban"], claims["serial"]) == (
        1_000, bob.account["iban"], 1)
    assert claims["drawer_iban"] == ada.account["iban"]
    assert claims["evidence_id"].startswith("evd_")


def test_serials_follow_each_other_on_an_account(api: TestClient, clock: FakeClock,
                                                 ada: Customer, bob: Customer) -> None:
    serials = []
    for _ in range(3):
        serials.append(write(api, ada, bob, 100)["serial"])
        clock.advance(1)  # newest first: by the time written
    assert serials == [1, 2, 3]
    listed = api.get("/v1/me/cheques?limit=2", headers=bearer(ada.token)).json()
    assert [c["serial"] for c in listed["data"]] == [3, 2]
    rest = api.get(f"/v1/me/cheques?limit=2&cursor={listed['next_cursor']}",
                   headers=bearer(ada.token)).json()
    assert [c["serial"] for c in rest["data"]] == [1]


def test_a_retried_presentation_under_one_idempotency_key_pays_once(
        api: TestClient, ada: Customer, bob: Customer) -> None:
    cheque = write(api, ada, bob, 2_000)
    first = present(api, bob, cheque["jws"], **{"Idempotency-Key": "present-1"})
    again = present(api, bob, cheque["jws"], **{"Idempotency-Key": "present-1"})
    assert first.status_code == again.status_code == 201
    assert first.json() == again.json() and again.headers["Idempotent-Replayed"] == "true"
    assert balance_of(api, bob.token, bob.account["id"]) == 2_000 and movements(api) == 1


# -- writing: the passkey must have approved exactly this cheque ----------------------------


def test_a_cheque_whose_step_up_approved_another_amount_is_not_written(
        api: TestClient, ada: Customer, bob: Customer) -> None:
    body = terms(api, ada, bob, 1_000)
    draft = api.post("/v1/me/cheques/drafts", headers=bearer(ada.token), json=body).json()
    evidence = step_up(api, ada.token, ada.authenticator, **draft["step_up"])
    r = api.post("/v1/me/cheques", headers=bearer(ada.token),
                 json={**body, "amount": 9_000, "serial": draft["serial"],
                       "evidence_id": evidence})
    assert r.status_code == 403 and r.json()["code"] == "step_up_mismatch"
    r = api.post("/v1/me/cheques", headers=bearer(ada.token),
                 json={**body, "serial": draft["serial"], "evidence_id": "evd_0000000000000000"})
    assert r.status_code == 403 and r.json()["code"] == "step_up_required"
    assert api.get("/v1/me/cheques", headers=bearer(ada.token)).json()["data"] == []


def test_one_step_up_writes_one_cheque(api: TestClient, ada: Customer, bob: Customer) -> None:
    body = terms(api, ada, bob, 1_000)
    draft = api.post("/v1/me/cheques/drafts", headers=bearer(ada.token), json=body).json()
    evidence = step_up(api, ada.token, ada.authenticator, **draft["step_up"])
    sent = {**body, "serial": draft["serial"], "evidence_id": evidence}
    assert api.post("/v1/me/cheques", headers=bearer(ada.token), json=sent).status_code == 201
    r = api.post("/v1/me/cheques", headers=bearer(ada.token), json=sent)
    assert r.status_code in (403, 409) and r.json()["code"] in ("step_up_required",
                                                                "cheque_serial_taken")
    assert len(api.get("/v1/me/cheques", headers=bearer(ada.token)).json()["data"]) == 1


@pytest.mark.parametrize(("change", "code"), [
    ({"amount": 0}, "validation_failed"), ({"amount": -5}, "validation_failed"),
    ({"amount": 10.5}, "validation_failed"), ({"currency": "XXQ"}, "currency_unknown"),
    ({"payee_iban": "NL00PAYW0000000000"}, "iban_invalid"),
    ({"expires_on": "2020-01-01"}, "cheque_invalid"),
])
def test_bad_terms_are_refused_before_any_step_up(api: TestClient, ada: Customer,
                                                  bob: Customer, change: dict[str, Any],
                                                  code: str) -> None:
    r = api.post("/v1/me/cheques/drafts", headers=bearer(ada.token),
                 json={**terms(api, ada, bob, 1_000), **change})
    assert r.status_code in (400, 422), r.text
    assert r.json()["code"] == code


def test_a_cheque_is_not_drawn_on_another_customers_account(api: TestClient, ada: Customer,
                                                            bob: Customer) -> None:
    r = api.post("/v1/me/cheques/drafts", headers=bearer(bob.token),
                 json=terms(api, ada, bob, 1_000))
    assert r.status_code == 404


# -- presenting: the attacks ------------------------------------------------------------------


def test_a_cheque_presented_twice_is_paid_once_and_then_bounced_duplicate(
        api: TestClient, ada: Customer, bob: Customer) -> None:
    cheque = write(api, ada, bob, 3_000)
    assert present(api, bob, cheque["jws"]).status_code == 201
    bounced(present(api, bob, cheque["jws"]), "duplicate")
    assert balance_of(api, bob.token, bob.account["id"]) == 3_000 and movements(api) == 1


def test_a_stopped_cheque_bounces_stopped_and_moves_nothing(api: TestClient, ada: Customer,
                                                            bob: Customer) -> None:
    cheque = write(api, ada, bob, 3_000)
    r = api.post(f"/v1/me/cheques/{cheque['id']}/stop", headers=bearer(ada.token))
    assert r.status_code == 200 and r.json()["state"] == "stopped"
    body = bounced(present(api, bob, cheque["jws"]), "stopped")
    assert body["cheque"]["state"] == "stopped"
    assert balance_of(api, bob.token, bob.account["id"]) == 0 and movements(api) == 0
    assert balance_of(api, ada.token, ada.account["id"]) == 50_000


def test_a_paid_cheque_cannot_be_stopped(api: TestClient, ada: Customer, bob: Customer) -> None:
    cheque = write(api, ada, bob, 3_000)
    assert present(api, bob, cheque["jws"]).status_code == 201
    r = api.post(f"/v1/me/cheques/{cheque['id']}/stop", headers=bearer(ada.token))
    assert r.status_code == 409 and r.json()["code"] == "cheque_not_stoppable"


@pytest.mark.parametrize("change", [
    {"amount_minor": 999_999}, {"payee_iban": "NL91ABNA0417164300"},
    {"payee_name": "Mallory"}, {"date": "2025-12-01"}, {"expires_on": "2027-12-01"},
    {"serial": 42},
])
def test_a_cheque_altered_after_signing_bounces_altered_and_stays_good(
        api: TestClient, ada: Customer, bob: Customer, change: dict[str, Any]) -> None:
    cheque = write(api, ada, bob, 3_000)
    body = bounced(present(api, bob, tampered(cheque["jws"], **change)), "altered")
    assert body["cheque"] is None  # an altered text is no cheque of ours
    assert movements(api) == 0 and balance_of(api, bob.token, bob.account["id"]) == 0
    assert state_of(api, ada, cheque["id"]) == "issued"  # a tampered copy cannot spoil it
    assert present(api, bob, cheque["jws"]).status_code == 201


def test_a_cheque_signed_with_a_key_not_the_banks_bounces_altered(
        api: TestClient, ada: Customer, bob: Customer) -> None:
    cheque = write(api, ada, bob, 3_000)
    header, payload, _ = tampered(cheque["jws"], amount_minor=40_000).split(".")
    forged = Ed25519PrivateKey.generate().sign(f"{header}.{payload}".encode())
    text = f"{header}.{payload}.{urlsafe_b64encode(forged).decode()}"
    bounced(present(api, bob, text), "altered")
    bounced(present(api, bob, "not.a.cheque"), "altered")
    assert movements(api) == 0


def test_a_cheque_presented_by_someone_other_than_the_payee_bounces_and_stays_good(
        api: TestClient, ada: Customer, bob: Customer) -> None:
    carol = Customer(api, "carol")
    cheque = write(api, ada, bob, 3_000)
    body = bounced(present(api, carol, cheque["jws"]), "not_payee")
    assert body["cheque"] is None  # carol learns nothing of it
    assert balance_of(api, carol.token, carol.account["id"]) == 0 and movements(api) == 0
    assert state_of(api, ada, cheque["id"]) == "issued"
    r = api.post("/v1/me/cheques/present", headers=bearer(carol.token),
                 json={"cheque": cheque["jws"], "account_id": bob.account["id"]})
    assert r.status_code == 404  # bob's account is not carol's to credit
    assert present(api, bob, cheque["jws"]).status_code == 201
    shown = api.get(f"/v1/me/cheques/{cheque['id']}", headers=bearer(ada.token)).json()
    assert sorted(p["reason"] or "" for p in shown["presentations"]) == ["", "not_payee"]


def test_a_cheque_the_drawer_cannot_cover_bounces_and_moves_nothing(
        api: TestClient, bob: Customer) -> None:
    poor = Customer(api, "poor", money=1_000)
    cheque = write(api, poor, bob, 5_000)
    body = bounced(present(api, bob, cheque["jws"]), "insufficient_funds")
    assert body["cheque"]["state"] == "bounced"
    assert balance_of(api, bob.token, bob.account["id"]) == 0
    assert balance_of(api, poor.token, poor.account["id"]) == 1_000
    bounced(present(api, bob, cheque["jws"]), "duplicate")
    assert verify_ledger(platform_of(api).database) == []


def test_a_cheque_presented_before_its_date_is_refused_and_paid_on_its_date(
        api: TestClient, clock: FakeClock, ada: Customer, bob: Customer) -> None:
    cheque = write(api, ada, bob, 3_000, date=today(api) + dt.timedelta(days=2))
    r = present(api, bob, cheque["jws"])
    assert r.status_code == 422 and r.json()["code"] == "cheque_not_yet_due"
    assert movements(api) == 0 and state_of(api, ada, cheque["id"]) == "issued"
    clock.advance(2 * DAY_S)
    bob.sign_in_again(api)
    assert present(api, bob, cheque["jws"]).status_code == 201


def test_a_cheque_presented_after_its_expiry_is_stale_and_then_expired(
        api: TestClient, clock: FakeClock, ada: Customer, bob: Customer) -> None:
    cheque = write(api, ada, bob, 3_000, days=1)
    clock.advance(2 * DAY_S)
    bob.sign_in_again(api)
    ada.sign_in_again(api)
    body = bounced(present(api, bob, cheque["jws"]), "stale")
    assert body["cheque"]["state"] == "expired"
    bounced(present(api, bob, cheque["jws"]), "expired")
    assert movements(api) == 0 and balance_of(api, ada.token, ada.account["id"]) == 50_000


def test_another_customers_cheque_is_not_found(api: TestClient, ada: Customer,
                                               bob: Customer) -> None:
    carol = Customer(api, "carol")
    cheque = write(api, ada, bob, 3_000)
    assert api.get(f"/v1/me/cheques/{cheque['id']}", headers=bearer(carol.token)
                   ).status_code == 404
    r = api.post(f"/v1/me/cheques/{cheque['id']}/stop", headers=bearer(bob.token))
    assert r.status_code == 404  # the payee sees it, but only the drawer stops it
    assert api.get("/v1/me/cheques/chq_" + "0" * 24, headers=bearer(ada.token)
                   ).status_code == 404
    assert state_of(api, ada, cheque["id"]) == "issued"


def test_every_presentation_is_recorded(api: TestClient, ada: Customer, bob: Customer) -> None:
    cheque = write(api, ada, bob, 3_000)
    bounced(present(api, bob, tampered(cheque["jws"], serial=9)), "altered")
    present(api, bob, cheque["jws"])
    bounced(present(api, bob, cheque["jws"]), "duplicate")
    with platform_of(api).database.engine.connect() as conn:
        outcomes = conn.execute(select(cheque_presentations.c.outcome,
                                       cheque_presentations.c.reason)
                                .order_by(cheque_presentations.c.created_at)).all()
    assert sorted(tuple(o) for o in outcomes) == sorted(
        [("bounced", "altered"), ("paid", None), ("bounced", "duplicate")])


# -- cheques drawn on another bank: presented through the rail ------------------------------


def foreign_cheque(api: TestClient, payee: Customer, amount: int, *, serial: int = 1,
                   account_code: str = "0532013000") -> str:
    """A cheque of another bank, signed with that bank's key (unknown to this one)."""
    drawer = str(IBAN.generate("DE", bank_code="37040044", account_code=account_code))
    date = today(api)
    claims = {"jti": "chq_" + "e" * 24, "drawer_iban": drawer,
              "payee_iban": payee.account["iban"], "payee_name": "Bob Builder",
              "amount_minor": amount, "currency": "EUR", "date": date.isoformat(),
              "expires_on": (date + dt.timedelta(days=30)).isoformat(), "serial": serial,
              "evidence_id": "evd_" + "e" * 16}
    header = urlsafe_b64encode(b'{"alg":"Ed25519","typ":"paywarden-cheque+jwt"}').decode()
    payload = urlsafe_b64encode(json.dumps(claims).encode()).decode()
    signature = Ed25519PrivateKey.generate().sign(f"{header}.{payload}".encode())
    return f"{header}.{payload}.{urlsafe_b64encode(signature).decode()}"


def rail_cheques(api: TestClient) -> list[Any]:
    return platform_of(api).banking.rail.rail.cheques  # type: ignore[no-any-return]


def test_a_cheque_drawn_on_another_bank_is_paid_through_the_rail_once(
        api: TestClient, bob: Customer) -> None:
    text = foreign_cheque(api, bob, 7_000)
    r = present(api, bob, text)
    assert r.status_code == 201, r.text
    assert r.json()["cheque"]["state"] == "paid" and r.json()["cheque"]["role"] == "payee"
    assert balance_of(api, bob.token, bob.account["id"]) == 7_000
    bounced(present(api, bob, text), "duplicate")
    assert balance_of(api, bob.token, bob.account["id"]) == 7_000
    assert len(rail_cheques(api)) == 1 and movements(api) == 1
    assert verify_ledger(platform_of(api).database) == []


def test_a_cheque_the_other_bank_bounces_moves_nothing(api: TestClient, bob: Customer) -> None:
    text = foreign_cheque(api, bob, 7_000, account_code="9990000001")
    body = bounced(present(api, bob, text), "insufficient_funds")
    assert body["cheque"]["state"] == "bounced"
    assert balance_of(api, bob.token, bob.account["id"]) == 0 and movements(api) == 0
    bounced(present(api, bob, text), "duplicate")
    assert len(rail_cheques(api)) == 1


def test_another_banks_cheque_presented_by_someone_else_never_reaches_the_rail(
        api: TestClient, bob: Customer) -> None:
    carol = Customer(api, "carol")
    bounced(present(api, carol, foreign_cheque(api, bob, 7_000)), "not_payee")
    assert rail_cheques(api) == [] and movements(api) == 0


class Declines:
    def screen(self, movement: Any, *, earlier: Any = ()) -> Screen:
        return Screen(Decision.DECLINE, ("test",))


def test_a_cheque_the_screening_declines_is_not_paid_and_stays_issued(
        api: TestClient, ada: Customer, bob: Customer) -> None:
    cheque = write(api, ada, bob, 3_000)
    platform_of(api).banking.movements.screening = Declines()
    r = present(api, bob, cheque["jws"])
    assert r.status_code == 422 and r.json()["code"] == "movement_declined"
    assert state_of(api, ada, cheque["id"]) == "issued" and movements(api) == 0
