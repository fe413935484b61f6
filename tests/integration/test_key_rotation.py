"""Rotation, rewrap and destruction of keyring versions, on SQLite and PostgreSQL."""

from __future__ import annotations

import json
import os

import pytest
from sqlalchemy import Column, Integer, LargeBinary, MetaData, String, Table, select, update

from paywarden.adapters.clock import FakeClock
from paywarden.adapters.crypto import LocalMasterKey, kek_version_of
from paywarden.adapters.store import Database
from paywarden.adapters.store.schema import audit_entries
from paywarden.adapters.store.schema.base import SEALED
from paywarden.services.keys import (
    KeyInUse,
    KeyNotUsable,
    Keys,
    RotationRefused,
    rewrap,
)

MASTER = os.urandom(32)
DAY_S = 86_400
test_meta = MetaData()
notes = Table("test_notes", test_meta, Column("id", Integer, primary_key=True),
              Column("body", LargeBinary, nullable=True, info=SEALED))
pairs = Table("test_pairs", test_meta, Column("a", String(8), primary_key=True),
              Column("b", Integer, primary_key=True), Column("secret", LargeBinary, info=SEALED))


def make_keys(database: Database, clock: FakeClock) -> Keys:
    return Keys(database, clock=clock, master=LocalMasterKey(MASTER), cryptoperiod_data_days=30,
                cryptoperiod_signing_days=10, publish_retired_days=2, cache_s=60)


@pytest.fixture
def only_test_columns(monkeypatch: pytest.MonkeyPatch) -> None:
    """The rewrap walks these tests' own tables, not the platform's (users, cards, …)."""
    monkeypatch.setattr(rewrap, "metadata", test_meta)


@pytest.fixture
def keys(database: Database, clock: FakeClock, only_test_columns: None) -> Keys:
    test_meta.create_all(database.engine)
    return make_keys(database, clock)


def write_notes(keys: Keys, n: int, *, start: int = 0) -> None:
    with keys.database.engine.begin() as conn:
        for i in range(start, start + n):
            conn.execute(notes.insert().values(id=i, body=keys.seal(
                f"note {i}".encode(), table="test_notes", column="body", row_id=i)))
        conn.execute(notes.insert().values(id=start + n, body=None))


def read_notes(keys: Keys) -> dict[int, tuple[int, bytes]]:
    with keys.database.engine.connect() as conn:
        rows = conn.execute(select(notes).where(notes.c.body.is_not(None))).all()
    return {r.id: (kek_version_of(r.body), keys.open(r.body, table="test_notes", column="body",
                                                     row_id=r.id)) for r in rows}


def key_events(database: Database) -> list[tuple[str, dict[str, object]]]:
    with database.engine.connect() as conn:
        rows = conn.execute(select(audit_entries.c.action, audit_entries.c.detail)
                            .order_by(audit_entries.c.seq))
        return [(a, json.loads(d)) for a, d in rows if a.startswith("key.")]


def test_rotation_keeps_old_records_readable_and_seals_new_ones_under_the_new_version(
        keys: Keys) -> None:
    write_notes(keys, 3)
    new = keys.rotate("data", actor="cli:alice")
    assert new.version == 2
    write_notes(keys, 2, start=10)
    versions = {i: v for i, (v, _) in read_notes(keys).items()}
    assert versions == {0: 1, 1: 1, 2: 1, 10: 2, 11: 2}
    assert read_notes(keys)[1][1] == b"note 1"
    states = {v.version: v.state for v in keys.versions("data")}
    assert states == {1: "retired", 2: "active"}


def test_a_retired_signing_key_can_no_longer_sign_but_still_verifies(keys: Keys) -> None:
    old = keys.signer("receipts")
    signature = old.sign(b"receipt")
    new = keys.rotate("receipts", actor="cli:alice")
    with pytest.raises(KeyNotUsable, match="retired"):
        old.sign(b"another receipt")
    assert keys.signer("receipts").key_id == new.kid != old.key_id
    public = keys.public_key(old.key_id)
    assert public is not None
    public.verify(signature, b"receipt")


def test_another_process_stops_using_a_retired_version_within_the_cache_window(
        database: Database, clock: FakeClock, keys: Keys) -> None:
    other = make_keys(database, clock)
    other_signer = other.signer("webhooks")
    other.seal(b"x", table="test_notes", column="body", row_id=1)
    keys.rotate("webhooks", actor="cli:alice")
    keys.rotate("data", actor="cli:alice")
    clock.advance(61)
    with pytest.raises(KeyNotUsable):
        other_signer.sign(b"late")
    assert kek_version_of(other.seal(b"x", table="test_notes", column="body", row_id=1)) == 2


def test_rewrap_moves_old_records_without_touching_their_ciphertext(keys: Keys) -> None:
    write_notes(keys, 7)
    with keys.database.engine.connect() as conn:
        before = {r.id: bytes(r.body)[-30:] for r in conn.execute(select(notes))
                  if r.body is not None}
    keys.rotate("data", actor="cli:alice")
    seen: list[tuple[int, int]] = []
    report = keys.rewrap(batch_size=3, actor="cli:alice",
                         progress=lambda done, total: seen.append((done, total)))
    assert (report.scanned, report.moved) == (7, 7)
    assert seen[-1] == (7, 7) and seen[:2] == [(3, 7), (6, 7)]
    assert {i: v for i, (v, _) in read_notes(keys).items()} == {i: 2 for i in range(7)}
    assert read_notes(keys)[6][1] == b"note 6"
    with keys.database.engine.connect() as conn:
        after = {r.id: bytes(r.body)[-30:] for r in conn.execute(select(notes))
                 if r.body is not None}
    assert after == before
    rewraps = [d for a, d in key_events(keys.database) if a == "key.rewrap"]
    assert sum(int(d["records"]) for d in rewraps) == 7  # type: ignore[call-overload]
    assert keys.rewrap(actor="cli:alice").moved == 0


def test_rewrap_walks_tables_with_composite_keys(keys: Keys) -> None:
    with keys.database.engine.begin() as conn:
        for a, b in [("x", 1), ("x", 2), ("y", 1)]:
            row = json.dumps([a, str(b)])
            conn.execute(pairs.insert().values(a=a, b=b, secret=keys.seal(
                b"s", table="test_pairs", column="secret", row_id=row)))
    keys.rotate("data", actor="cli:alice")
    assert keys.rewrap("test_pairs", batch_size=2, actor="cli:alice").moved == 3
    with keys.database.engine.connect() as conn:
        assert {kek_version_of(r.secret) for r in conn.execute(select(pairs))} == {2}


def test_a_retired_data_version_is_destroyed_only_once_no_record_uses_it(keys: Keys) -> None:
    write_notes(keys, 2)
    old = keys.current("data")[0]
    keys.rotate("data", actor="cli:alice")
    keys.clock.advance(61)  # type: ignore[attr-defined]
    with pytest.raises(KeyInUse):
        keys.destroy(old.kid, actor="cli:alice")
    keys.rewrap(actor="cli:alice")
    destroyed = keys.destroy(old.kid, actor="cli:alice")
    assert destroyed.state == "destroyed" and destroyed.destroyed_at is not None
    assert read_notes(keys)[0][1] == b"note 0"
    with keys.database.engine.begin() as conn:  # a stray copy sealed under the old version
        stale = conn.execute(select(notes.c.body).where(notes.c.id == 0)).scalar_one()
    assert kek_version_of(stale) == 2
    with pytest.raises(KeyNotUsable):
        keys.destroy(keys.current("data")[0].kid, actor="cli:alice")  # active


def test_a_data_version_is_not_destroyed_when_no_sealed_column_is_declared(
        database: Database, clock: FakeClock, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(rewrap, "metadata", MetaData())  # no table declares a sealed column
    keys = make_keys(database, clock)
    keys.seal(b"x", table="t", column="c", row_id=1)
    old = keys.current("data")[0]
    keys.rotate("data", actor="cli:alice")
    clock.advance(61)
    with pytest.raises(KeyNotUsable, match="no sealed column"):
        keys.destroy(old.kid, actor="cli:alice")


def test_a_freshly_retired_data_version_is_not_destroyed_inside_the_cache_window(
        keys: Keys) -> None:
    keys.seal(b"x", table="t", column="c", row_id=1)
    old = keys.current("data")[0]
    keys.rotate("data", actor="cli:alice")
    with pytest.raises(KeyNotUsable, match="recently retired"):
        keys.destroy(old.kid, actor="cli:alice")


def test_a_destroyed_version_refuses_to_open_what_it_still_wrapped(keys: Keys) -> None:
    write_notes(keys, 1)
    with keys.database.engine.connect() as conn:
        copy = bytes(conn.execute(select(notes.c.body).where(notes.c.id == 0)).scalar_one())
    old = keys.current("data")[0]
    keys.rotate("data", actor="cli:alice")
    keys.rewrap(actor="cli:alice")
    keys.clock.advance(61)  # type: ignore[attr-defined]
    keys.destroy(old.kid, actor="cli:alice")
    with pytest.raises(KeyNotUsable, match="destroyed"):
        make_keys(keys.database, keys.clock).open(  # type: ignore[arg-type]
            copy, table="test_notes", column="body", row_id=0)


def test_the_background_rewrap_moves_records_in_slices_then_destroys_the_old_version(
        keys: Keys) -> None:
    write_notes(keys, 5)
    keys.rotate("data", actor="cli:alice")
    keys.clock.advance(61)  # type: ignore[attr-defined]
    moved = [keys.rewrap_step(2) for _ in range(6)]
    assert sum(moved) == 5
    for _ in range(4):  # a full pass that moves nothing
        keys.rewrap_step(2)
    assert {v.version: v.state for v in keys.versions("data")} == {1: "destroyed", 2: "active"}
    assert {v for v, _ in read_notes(keys).values()} == {2}


def test_blind_index_does_not_rotate(keys: Keys) -> None:
    keys.blind_index("a", table="t", column="c")
    with pytest.raises(RotationRefused):
        keys.rotate("blind_index", actor="cli:alice")


def test_rotate_due_rotates_what_is_past_its_cryptoperiod(keys: Keys, clock: FakeClock) -> None:
    keys.ensure()
    assert keys.rotate_due() == []
    clock.advance(10 * DAY_S)
    rotated = sorted(v.purpose for v in keys.rotate_due())
    assert rotated == ["backups", "ca", "cheques", "documents", "receipts", "registry",
                       "tree_heads", "webhooks"]  # not clearing: its hub certifies a new one
    clock.advance(20 * DAY_S)  # data's 30 days are up; the signing keys' second 10 as well
    assert sorted(v.purpose for v in keys.rotate_due()) == sorted([*rotated, "data"])
    assert keys.rotate_due() == []
    active = {v.purpose: v.version for v in keys.versions() if v.state == "active"}
    assert active["blind_index"] == 1 and active["clearing"] == 1


def test_the_jwks_keeps_a_retired_key_for_its_publication_window(keys: Keys,
                                                                 clock: FakeClock) -> None:
    old = keys.signer("tree_heads").key_id
    new = keys.rotate("tree_heads", actor="cli:alice").kid
    assert {k["kid"] for k in keys.jwks()["keys"]} >= {old, new}
    clock.advance(2 * DAY_S + 1)
    kids = {k["kid"] for k in keys.jwks()["keys"]}
    assert new in kids and old not in kids
    assert keys.public_key(old) is not None


def test_every_key_change_is_audited_with_ids_only(keys: Keys) -> None:
    write_notes(keys, 1)
    old = keys.current("data")[0]
    keys.rotate("data", actor="cli:alice")
    keys.rewrap(actor="cli:alice")
    keys.clock.advance(61)  # type: ignore[attr-defined]
    keys.destroy(old.kid, actor="cli:alice")
    events = key_events(keys.database)
    assert [a for a, _ in events] == ["key.create", "key.retire", "key.rotate", "key.rewrap",
                                      "key.destroy"]
    allowed = {"purpose", "version", "kid", "previous_kid", "previous_version", "table",
               "column", "records"}
    assert all(set(d) <= allowed for _, d in events)


def test_a_concurrent_change_of_a_record_is_not_overwritten_by_the_rewrap(keys: Keys) -> None:
    write_notes(keys, 1)
    keys.rotate("data", actor="cli:alice")
    fresh = keys.seal(b"changed", table="test_notes", column="body", row_id=0)
    with keys.database.engine.begin() as conn:
        conn.execute(update(notes).where(notes.c.id == 0).values(body=fresh))
    assert keys.rewrap(actor="cli:alice").moved == 0
    assert read_notes(keys)[0][1] == b"changed"


def test_the_registry_hashing_key_does_not_rotate(keys: Keys) -> None:
    keys.current("registry_index")
    with pytest.raises(RotationRefused):
        keys.rotate("registry_index", actor="cli:alice")
