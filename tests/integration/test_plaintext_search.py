"""A test customer's e-mail and a test card number, put through the real paths, are never
found in plain: not in the raw SQLite file or its WAL, not in any PostgreSQL table, not in
any log line. And the search is shown to work: a canary written unsealed is found."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Column, LargeBinary, MetaData, String, Table, inspect, text

from paywarden.adapters.clock import FakeClock
from paywarden.adapters.store import Database
from paywarden.services.identity.notices import notify

from ..support.passwords import (
    PASSWORD,
    code_now,
    next_step,
    password_api,
    password_sign_in,
    sign_up,
)
from ..support.platform import bearer, platform_of
from ..support.sealing import assert_no_plaintext, find_plaintext

EMAIL = "plain.canary.4711@example.test"
CARD = "4111111111111111"
CARD_SPACED = "4111 1111 1111 1111"
NAME = "Canary Fortyseven"
AGENT = "CanaryBrowser/47.11"
PHRASE = "canary heron 4711"
SCRATCH_CANARY = "scratch.canary.0815@example.test"


@pytest.fixture
def api(database: Database, clock: FakeClock, tmp_path: Path) -> Iterator[TestClient]:
    with password_api(database, clock, tmp_path / "var") as client:
        yield client


def live_the_canary_customers_life(api: TestClient) -> tuple[list[str], str]:
    """Sign-up, TOTP, sign-in, phrase, notifications, a stored card; returns the needles."""
    r = sign_up(api, "canary4711", display_name=NAME, email=EMAIL)
    assert r.status_code == 201, r.text
    user_id, enrolment = r.json()["customer_id"], r.json()["enrolment_token"]
    # An idempotent POST whose stored response holds the TOTP secret and the username.
    r = api.post("/v1/me/totp", headers={**bearer(enrolment), "Idempotency-Key": "totp-1"})
    assert r.status_code == 201, r.text
    secret = r.json()["secret"]
    r = api.post("/v1/me/totp/confirm", headers=bearer(enrolment),
                 json={"code": code_now(api, secret)})
    assert r.status_code == 200, r.text
    next_step(api)
    r = password_sign_in(api, "canary4711", totp=code_now(api, secret))
    assert r.status_code == 200, r.text
    token = r.json()["token"]
    r = api.put("/v1/me/phrase", headers={**bearer(token), "User-Agent": AGENT},
                json={"phrase": PHRASE})
    assert r.status_code == 204, r.text
    next_step(api)
    r = api.post("/v1/auth/password", headers={"User-Agent": AGENT},
                 json={"username": "canary4711", "password": PASSWORD,
                       "totp": code_now(api, secret)})
    assert r.status_code == 200, r.text
    platform = platform_of(api)
    with platform.database.engine.begin() as conn:  # a notice that echoes the address
        notify(conn, user_id, "email_changed", keys=platform.keys,
               subject=f"Mail now goes to {EMAIL}", body=f"Hello {NAME}, card {CARD_SPACED}",
               now_ns=platform.clock.now_ns())
    r = api.get("/v1/me/notifications", headers=bearer(token))
    assert r.status_code == 200 and EMAIL in r.text  # readable through the API
    card = platform.cards.store(CARD_SPACED, 12, 2030, NAME, user_id)
    assert platform.cards.reveal_for_issuer(card.token).number.reveal() == CARD
    return [EMAIL, CARD, CARD_SPACED, NAME, AGENT, PHRASE, secret, "canary4711"], token


def database_bytes(database: Database) -> dict[str, bytes]:
    """Where the stored bytes can be read: the SQLite file and its WAL, or every
    PostgreSQL table's rows as text (bytea shows as hex: the search covers hex too)."""
    if database.dialect == "sqlite":
        path = Path(database.url.removeprefix("sqlite:///"))
        parts = [path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")]
        return {p.name: p.read_bytes() for p in parts if p.exists()}
    found: dict[str, bytes] = {}
    with database.engine.connect() as conn:
        for table in inspect(conn).get_table_names():
            rows = conn.execute(text(f'SELECT t::text FROM "{table}" t')).scalars().all()
            found[table] = "\n".join(rows).encode()
    return found


def searched(needles: list[str]) -> list[str]:
    """The needles, and on PostgreSQL their hex form as a bytea shows it."""
    return [*needles, *(n.encode().hex() for n in needles)]


def test_the_canary_customer_is_never_in_plain_in_the_database_or_the_logs(
        api: TestClient, caplog: pytest.LogCaptureFixture,
        capsys: pytest.CaptureFixture[str]) -> None:
    caplog.set_level(logging.DEBUG)
    needles, _ = live_the_canary_customers_life(api)
    database = platform_of(api).database
    for where, data in database_bytes(database).items():
        assert_no_plaintext(data, searched(needles), where=where)
    out = capsys.readouterr()
    logs = f"{caplog.text}\n{out.out}\n{out.err}".encode()
    assert_no_plaintext(logs, needles, where="the logs")


def test_the_search_finds_a_canary_written_unsealed(api: TestClient) -> None:
    live_the_canary_customers_life(api)
    database = platform_of(api).database
    scratch = Table("scratch_canary", MetaData(), Column("id", String(8), primary_key=True),
                    Column("note", String(64)), Column("blob", LargeBinary))
    scratch.create(database.engine)
    with database.engine.begin() as conn:
        conn.execute(scratch.insert().values(id="1", note=SCRATCH_CANARY, blob=CARD.encode()))
    everything = b"\n".join(database_bytes(database).values())
    assert find_plaintext(everything, searched([SCRATCH_CANARY])) != []
    assert find_plaintext(everything, searched([CARD])) != []  # in the blob (hex on PostgreSQL)
    with pytest.raises(AssertionError):
        assert_no_plaintext(everything, searched([SCRATCH_CANARY]), where="the database")
    assert find_plaintext(b"a log line naming " + EMAIL.encode(), [EMAIL]) == [EMAIL]
    assert find_plaintext(f"card {CARD_SPACED} used".encode(), [CARD]) == [CARD]
    assert find_plaintext(CARD.encode("utf-16-le"), [CARD]) == [CARD]
