"""Personal data and TOTP secrets sealed per row, on SQLite and PostgreSQL: moved values are
refused, lookups go through the blind index, old plaintext rows are sealed at start-up."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic import command
from sqlalchemy import select, text, update

from paywarden.adapters.clock import FakeClock
from paywarden.adapters.crypto import OpenError
from paywarden.adapters.store import Database, open_database
from paywarden.adapters.store.database import _alembic_config
from paywarden.adapters.store.schema import (
    audit_entries,
    cards,
    metadata,
    notifications,
    sealing_backlog,
    sessions,
    totp_factors,
    users,
)
from paywarden.bootstrap import Platform, build
from paywarden.domain.cards import CardError
from paywarden.domain.errors import DomainError
from paywarden.domain.identity import Kind
from paywarden.services.cards import CardNotFound
from paywarden.services.identity import otp, totp
from paywarden.services.identity.notifications import list_for
from paywarden.services.identity.users import create_user, find_by_username, get_user
from paywarden.services.keys import sealed_columns
from paywarden.services.sealed import SEALED_COLUMNS, seal_legacy
from paywarden.settings import Settings


def settings_for(database: Database, data_dir: Path) -> Settings:
    return Settings(database_url=database.url, data_dir=data_dir, password_time_cost=2,
                    password_memory_kib=19 * 1024)


CARD = "4111 1111 1111 1111"


@pytest.fixture
def platform(database: Database, clock: FakeClock, tmp_path: Path) -> Iterator[Platform]:
    p = build(settings_for(database, tmp_path / "var"), clock=clock, database=database)
    p.keys.ensure({"data", "blind_index"})
    yield p


def new_user(platform: Platform, username: str, **extra: str) -> str:
    with platform.database.engine.begin() as conn:
        return create_user(conn, keys=platform.keys, kind=Kind.CUSTOMER, username=username,
                           display_name=extra.pop("display_name", username.title()),
                           roles=frozenset({"customer"}), now_ns=platform.clock.now_ns(),
                           **extra).id


def user_row(platform: Platform, user_id: str) -> dict[str, object]:
    with platform.database.engine.connect() as conn:
        return dict(conn.execute(select(users).where(users.c.id == user_id)).mappings().one())


DECLARED = {  # what the tables declared sealed when the keyring's rewrap began walking them
    ("cards", "holder_name_sealed", ("id",)), ("cards", "number_sealed", ("id",)),
    ("idempotency_keys", "response_body_sealed", ("principal", "key")),
    ("merchant_applications", "address_sealed", ("merchant_id",)),
    ("merchant_applications", "contact_email_sealed", ("merchant_id",)),
    ("merchant_applications", "legal_name_sealed", ("merchant_id",)),
    ("merchant_applications", "registration_number_sealed", ("merchant_id",)),
    ("merchant_invitations", "email_sealed", ("id",)),  # the invitee's address (0051)
    ("notifications", "body_sealed", ("id",)), ("notifications", "subject_sealed", ("id",)),
    ("payments", "escrow", ("id",)),
    ("sessions", "address_sealed", ("id",)), ("sessions", "label_sealed", ("id",)),
    ("sessions", "user_agent_sealed", ("id",)), ("totp_factors", "secret_sealed", ("user_id",)),
    ("users", "anti_phishing_phrase_sealed", ("id",)), ("users", "display_name_sealed", ("id",)),
    ("users", "email_sealed", ("id",)), ("users", "username_sealed", ("id",)),
    ("webhook_endpoints", "url_sealed", ("merchant_id",)),
}


def test_every_sealed_column_is_declared_on_its_table_and_walked_by_the_rewrap() -> None:
    walked = {(c.table, c.column, c.key) for c in sealed_columns()}
    assert walked == DECLARED
    assert {(c.table, c.column, c.key) for c in SEALED_COLUMNS} == walked


def test_every_column_named_sealed_is_declared_sealed() -> None:
    named = {(t.name, c.name) for t in metadata.tables.values() for c in t.columns
             if c.name.endswith("_sealed")}
    assert named <= {(table, column) for table, column, _ in DECLARED}


def test_a_user_row_holds_no_personal_data_in_clear(platform: Platform) -> None:
    alice = new_user(platform, "Alice", email="alice@example.org", display_name="Alice Liddell")
    row = user_row(platform, alice)
    stored = repr(row).encode()
    for clear in (b"alice@example.org", b"alice liddell", b"alice"):
        assert clear not in stored.lower()
    assert len(str(row["username_index"])) == 64 and row["username_index"] != "alice"
    with platform.database.engine.connect() as conn:
        user = get_user(conn, alice, keys=platform.keys)
    assert user is not None
    assert (user.username, user.display_name, user.email) == (
        "alice", "Alice Liddell", "alice@example.org")
    assert "alice@example.org" not in repr(user)


@pytest.mark.parametrize("column", ["email_sealed", "display_name_sealed", "username_sealed"])
def test_a_sealed_value_copied_to_another_row_is_refused(platform: Platform,
                                                          column: str) -> None:
    alice = new_user(platform, "alice", email="alice@example.org")
    bob = new_user(platform, "bob", email="bob@example.org")
    with platform.database.engine.begin() as conn:
        conn.execute(update(users).where(users.c.id == bob).values(
            {column: user_row(platform, alice)[column]}))
    with platform.database.engine.connect() as conn:
        with pytest.raises(OpenError) as caught:
            get_user(conn, bob, keys=platform.keys)
        assert get_user(conn, alice, keys=platform.keys) is not None
    assert caught.value.table == "users" and caught.value.column == column
    assert "moved" in str(caught.value) and "alice" not in str(caught.value)


def test_a_sealed_value_moved_to_another_column_of_its_row_is_refused(
        platform: Platform) -> None:
    alice = new_user(platform, "alice", email="alice@example.org")
    with platform.database.engine.begin() as conn:
        conn.execute(update(users).where(users.c.id == alice).values(
            email_sealed=user_row(platform, alice)["display_name_sealed"]))
        with pytest.raises(OpenError):
            get_user(conn, alice, keys=platform.keys)


def test_a_session_address_moved_to_another_session_is_refused(platform: Platform) -> None:
    alice = new_user(platform, "alice")
    with platform.database.engine.begin() as conn:
        one = platform.sessions.start(conn, kind=Kind.CUSTOMER, user_id=alice, owner=alice,
                                      roles=frozenset({"customer"}),
                                      auth_methods=frozenset({"passkey"}),
                                      address="198.51.100.7", user_agent="Firefox/140")
        two = platform.sessions.start(conn, kind=Kind.CUSTOMER, user_id=alice, owner=alice,
                                      roles=frozenset({"customer"}),
                                      auth_methods=frozenset({"passkey"}),
                                      address="203.0.113.9", user_agent="Safari/18")
        moved = conn.execute(select(sessions.c.address_sealed).where(
            sessions.c.id == one.session.id)).scalar_one()
        conn.execute(update(sessions).where(sessions.c.id == two.session.id)
                     .values(address_sealed=moved))
    assert platform.sessions.get(one.session.id).address == "198.51.100.7"  # type: ignore[union-attr]
    with pytest.raises(OpenError):
        platform.sessions.authenticate(two.token)


def test_lookups_by_username_go_through_the_blind_index(platform: Platform) -> None:
    alice = new_user(platform, "Alice")
    with platform.database.engine.connect() as conn:
        for spelling in ("alice", "ALICE", " Alice ", "ａｌｉｃｅ"):  # NFKC, case-folded
            found = find_by_username(conn, spelling, keys=platform.keys)
            assert found is not None and found.id == alice
        assert find_by_username(conn, "alicia", keys=platform.keys) is None
    with pytest.raises(DomainError) as caught:
        new_user(platform, "ALICE")
    assert caught.value.code == "username_taken"


def test_totp_works_with_its_secret_sealed(platform: Platform) -> None:
    alice = new_user(platform, "alice")
    now = platform.clock.now_ns()
    with platform.database.engine.begin() as conn:
        enrolment = totp.enrol(conn, alice, keys=platform.keys, account="alice",
                               issuer="PayWarden", now_ns=now)
        sealed = conn.execute(select(totp_factors.c.secret_sealed)).scalar_one()
        assert enrolment.secret.encode() not in bytes(sealed)
        code = otp.code_at(enrolment.secret, otp.step_at(now))
        assert totp.confirm(conn, alice, code, keys=platform.keys, now_ns=now)
        assert not totp.use_code(conn, alice, code, keys=platform.keys, now_ns=now)  # used once
        later = now + otp.INTERVAL_S * 10**9
        assert totp.use_code(conn, alice, otp.code_at(enrolment.secret, otp.step_at(later)),
                             keys=platform.keys, now_ns=later)


def test_a_totp_secret_moved_to_another_user_does_not_open(platform: Platform) -> None:
    alice, bob = new_user(platform, "alice"), new_user(platform, "bob")
    now = platform.clock.now_ns()
    with platform.database.engine.begin() as conn:
        mine = totp.enrol(conn, alice, keys=platform.keys, account="a", issuer="P", now_ns=now)
        totp.enrol(conn, bob, keys=platform.keys, account="b", issuer="P", now_ns=now)
        stolen = conn.execute(select(totp_factors.c.secret_sealed).where(
            totp_factors.c.user_id == alice)).scalar_one()
        conn.execute(update(totp_factors).where(totp_factors.c.user_id == bob)
                     .values(secret_sealed=stolen))
        with pytest.raises(OpenError):
            totp.confirm(conn, bob, otp.code_at(mine.secret, otp.step_at(now)),
                         keys=platform.keys, now_ns=now)


# -- the card vault -----------------------------------------------------------------------


def test_a_stored_card_shows_only_its_token_brand_last_four_and_expiry(
        platform: Platform) -> None:
    card = platform.cards.store(CARD, 12, 2030, "Ada Lovelace", "usr_ada")
    assert card.token.startswith("card_") and (card.brand, card.last4, card.exp) == (
        "visa", "1111", "12/2030")
    assert platform.cards.get(card.token) == card
    assert "4111111111111111" not in repr(card)
    with platform.database.engine.connect() as conn:
        row = dict(conn.execute(select(cards)).mappings().one())
        detail = conn.execute(select(audit_entries.c.detail).where(
            audit_entries.c.action == "card.store")).scalar_one()
    assert b"4111111111111111" not in repr(row).encode() and b"Ada" not in repr(row).encode()
    assert json.loads(detail) == {"token": card.token, "brand": "visa", "last4": "1111"}
    shown = platform.cards.reveal_for_issuer(card.token)
    assert shown.number.reveal() == "4111111111111111" and shown.holder_name == "Ada Lovelace"
    assert "4111111111111111" not in repr(shown)


def test_the_same_card_stored_twice_by_one_owner_keeps_its_token(platform: Platform) -> None:
    first = platform.cards.store(CARD, 12, 2030, "Ada", "usr_ada")
    again = platform.cards.store("4111-1111-1111-1111", 12, 2030, "Ada", "usr_ada")
    reissued = platform.cards.store(CARD, 6, 2032, "Ada", "usr_ada")
    other = platform.cards.store(CARD, 12, 2030, "Bob", "usr_bob")
    assert first.token == again.token == reissued.token != other.token
    assert platform.cards.get(first.token).exp == "06/2032"
    assert platform.cards.reveal_for_issuer(first.token).number.reveal() == "4111111111111111"
    with platform.database.engine.connect() as conn:
        prints = conn.execute(select(cards.c.fingerprint)).scalars().all()
    assert len(prints) == 2 and len(set(prints)) == 2


def test_bad_cards_are_refused_with_a_stable_code(platform: Platform) -> None:
    for pan, exp, code in [("4111 1111 1111 1112", (12, 2030), "card_checksum_invalid"),
                           (CARD, (12, 2025), "card_expired"),
                           ("9999 9999 9999 9995", (12, 2030), "card_brand_unknown")]:
        with pytest.raises(CardError) as caught:
            platform.cards.store(pan, *exp, "Ada", "usr_ada")
        assert caught.value.code == code and pan.replace(" ", "") not in str(caught.value)
    with platform.database.engine.connect() as conn:
        assert conn.execute(select(cards.c.id)).first() is None
    with pytest.raises(CardNotFound):
        platform.cards.get("card_nope")


def test_a_card_number_moved_to_another_card_is_refused(platform: Platform) -> None:
    one = platform.cards.store(CARD, 12, 2030, "Ada", "usr_ada")
    two = platform.cards.store("5555 5555 5555 4444", 12, 2030, "Ada", "usr_ada")
    with platform.database.engine.begin() as conn:
        moved = conn.execute(select(cards.c.number_sealed).where(
            cards.c.id == one.token)).scalar_one()
        conn.execute(update(cards).where(cards.c.id == two.token).values(number_sealed=moved))
    with pytest.raises(OpenError):
        platform.cards.reveal_for_issuer(two.token)


# -- rows written before sealing ------------------------------------------------------------


@pytest.fixture
def legacy_database(database_url: str) -> Iterator[Database]:
    """A database at revision 0004 (before sealing) holding plaintext rows."""
    db = open_database(database_url)
    with db.engine.begin() as conn:
        config = _alembic_config(db.url)
        config.attributes["connection"] = conn
        command.upgrade(config, "0004")
    with db.engine.begin() as conn:
        conn.execute(text(
            "INSERT INTO users (id, kind, username, display_name, email, roles, status, "
            "anti_phishing_phrase, failed_signins, created_at) VALUES "
            "('usr_old', 'customer', 'oldtimer', 'Old Timer', 'old.timer@example.test', "
            "'customer', 'active', 'blue heron', 0, 1)"))
        conn.execute(text("INSERT INTO totp_factors (user_id, secret, created_at, confirmed_at) "
                          "VALUES ('usr_old', 'JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP', 1, 1)"))
        conn.execute(text(
            "INSERT INTO sessions (id, token_sha256, user_id, owner, kind, roles, auth_methods,"
            " label, user_agent, address, created_at, last_seen_at, idle_expires_at, "
            "absolute_expires_at) VALUES ('ses_old', 'f00d', 'usr_old', 'usr_old', 'customer',"
            " 'customer', 'passkey', 'oldtimer', 'Lynx/2.9', '192.0.2.44', 1, 1, 2, 2)"))
        conn.execute(text(
            "INSERT INTO notifications (id, user_id, kind, subject, body, created_at) VALUES "
            "('ntf_old', 'usr_old', 'locked', 'Locked out', 'Dear Old Timer', 1)"))
        conn.execute(text(
            "INSERT INTO idempotency_keys (principal, key, request_sha256, state, status_code,"
            " response_headers, response_body, created_at, expires_at) VALUES "
            "('usr_old', 'k-1', 'ab', 'done', 200, '[]', :body, 1, 9000000000000000000)"),
            {"body": b'{"email":"old.timer@example.test"}'})
    db.migrate()
    yield db
    db.dispose()


def test_seal_legacy_seals_old_plaintext_rows(legacy_database: Database, clock: FakeClock,
                                              tmp_path: Path) -> None:
    db = legacy_database
    with db.engine.connect() as conn:
        assert conn.execute(select(sealing_backlog.c.table_name)).all() != []
        assert conn.execute(select(users.c.username_index)).scalar_one() == "legacy:usr_old"
    platform = build(settings_for(db, tmp_path / "var"), clock=clock, database=db)
    assert seal_legacy(db, platform.keys) == 11
    assert seal_legacy(db, platform.keys) == 0  # idempotent
    with db.engine.connect() as conn:
        assert conn.execute(select(sealing_backlog.c.table_name)).first() is None
        user = find_by_username(conn, "OldTimer", keys=platform.keys)
        assert user is not None and user.id == "usr_old"
        assert (user.display_name, user.email, user.anti_phishing_phrase) == (
            "Old Timer", "old.timer@example.test", "blue heron")
        code = otp.code_at("JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP", otp.step_at(clock.now_ns()))
        assert totp.use_code(conn, "usr_old", code, keys=platform.keys, now_ns=clock.now_ns())
    info = platform.sessions.get("ses_old")
    assert info is not None and (info.label, info.user_agent, info.address) == (
        "oldtimer", "Lynx/2.9", "192.0.2.44")
    notes = list_for(db, "usr_old", keys=platform.keys, limit=10)
    assert [(n.subject, n.body) for n in notes] == [("Locked out", "Dear Old Timer")]
    stored = platform.idempotency.claim("usr_old", "k-1", "ab")
    assert stored is not None and stored.body == b'{"email":"old.timer@example.test"}'
    if db.dialect == "sqlite":
        path = Path(db.url.removeprefix("sqlite:///"))
        db.dispose()  # the last connection checkpoints the WAL into the file
        for part in (path, path.with_name(path.name + "-wal")):
            if part.exists():
                data = part.read_bytes()
                for clear in (b"old.timer@example.test", b"Old Timer", b"Lynx/2.9",
                              b"JBSWY3DPEHPK3PXP", b"blue heron", b"Dear Old Timer"):
                    assert clear not in data, f"{clear!r} left in {part.name}"


def test_a_value_sealed_since_the_migration_is_not_overwritten(
        legacy_database: Database, clock: FakeClock, tmp_path: Path) -> None:
    db = legacy_database
    platform = build(settings_for(db, tmp_path / "var"), clock=clock, database=db)
    sealed = platform.keys.seal(b"new phrase", table="users",
                                column="anti_phishing_phrase_sealed", row_id="usr_old")
    with db.engine.begin() as conn:
        conn.execute(update(users).where(users.c.id == "usr_old")
                     .values(anti_phishing_phrase_sealed=sealed))
    seal_legacy(db, platform.keys)
    with db.engine.connect() as conn:
        user = get_user(conn, "usr_old", keys=platform.keys)
        left = conn.execute(select(notifications.c.id)).scalars().all()
    assert user is not None and user.anti_phishing_phrase == "new phrase"
    assert left == ["ntf_old"]
