"""The keyring on SQLite and PostgreSQL: first use, sealing, signing, JWKS, audit."""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Iterator

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from sqlalchemy import func, select

from paywarden.adapters.clock import FakeClock
from paywarden.adapters.crypto import LocalMasterKey, OpenError, UnwrapError
from paywarden.adapters.store import Database
from paywarden.adapters.store.schema import audit_entries, key_versions
from paywarden.services.keys import Keys, UnknownPurpose

MASTER = os.urandom(32)


def make_keys(database: Database, clock: FakeClock, master: bytes = MASTER) -> Keys:
    return Keys(database, clock=clock, master=LocalMasterKey(master), cryptoperiod_data_days=365,
                cryptoperiod_signing_days=180, publish_retired_days=30, cache_s=60)


@pytest.fixture
def keys(database: Database, clock: FakeClock) -> Iterator[Keys]:
    yield make_keys(database, clock)


def audit_actions(database: Database) -> list[tuple[str, str, dict[str, object]]]:
    log = audit_entries
    with database.engine.connect() as conn:
        rows = conn.execute(select(log.c.action, log.c.object, log.c.detail)
                            .order_by(log.c.seq))
        return [(a, o, json.loads(d)) for a, o, d in rows if a.startswith("key.")]


def test_a_sealed_value_opens_only_in_its_row(keys: Keys) -> None:
    sealed = keys.seal(b"alice@example.org", table="users", column="email_sealed", row_id="u1")
    assert keys.open(sealed, table="users", column="email_sealed", row_id="u1") == \
        b"alice@example.org"
    with pytest.raises(OpenError):
        keys.open(sealed, table="users", column="email_sealed", row_id="u2")


def test_another_process_with_the_same_master_key_opens_what_this_one_sealed(
        database: Database, clock: FakeClock, keys: Keys) -> None:
    sealed = keys.seal(b"x", table="t", column="c", row_id=1)
    index = keys.blind_index("Alice", table="t", column="i")
    other = make_keys(database, clock)
    assert other.open(sealed, table="t", column="c", row_id=1) == b"x"
    assert other.blind_index("alice", table="t", column="i") == index


def test_a_wrong_master_key_cannot_unwrap_the_keyring(database: Database, clock: FakeClock,
                                                      keys: Keys) -> None:
    sealed = keys.seal(b"x", table="t", column="c", row_id=1)
    with pytest.raises(UnwrapError):
        make_keys(database, clock, master=os.urandom(32)).open(sealed, table="t", column="c",
                                                               row_id=1)


def test_the_database_holds_wrapped_secrets_only(database: Database, keys: Keys) -> None:
    keys.seal(b"x", table="t", column="c", row_id=1)
    secret = keys.current("data")[1]
    with database.engine.connect() as conn:
        row = conn.execute(select(key_versions)).one()
    assert secret not in bytes(row.wrapped_secret)
    assert row.purpose == "data" and row.version == 1 and row.state == "active"
    assert row.master_key_id == keys.master.key_id


def test_a_signer_signs_under_its_key_id_and_the_public_key_verifies(keys: Keys) -> None:
    signer = keys.signer("tree_heads")
    signature = signer.sign(b"head")
    assert len(signature) == 64
    public = keys.public_key(signer.key_id)
    assert isinstance(public, Ed25519PublicKey)
    public.verify(signature, b"head")
    assert keys.public_key("no-such-kid") is None
    assert keys.signer("tree_heads").key_id == signer.key_id
    assert keys.signer("receipts").key_id != signer.key_id
    assert "private" not in repr(signer).lower() or "_private" not in repr(signer)


def test_data_and_blind_index_are_not_signing_purposes(keys: Keys) -> None:
    for purpose in ("data", "blind_index", "nonsense"):
        with pytest.raises(UnknownPurpose):
            keys.signer(purpose)


def test_the_jwks_has_the_published_signing_keys_and_never_a_private_part(keys: Keys) -> None:
    kids = {p: keys.signer(p).key_id for p in ("tree_heads", "receipts", "webhooks",
                                                "backups", "cheques", "documents", "ca")}
    keys.seal(b"x", table="t", column="c", row_id=1)
    document = keys.jwks()
    published = {k["kid"]: k for k in document["keys"]}
    assert set(published) == {kids[p] for p in ("tree_heads", "receipts", "webhooks", "backups",
                                                "cheques", "documents")}
    for jwk in published.values():
        assert jwk.keys() == {"kty", "crv", "x", "kid", "use", "alg"}
        assert (jwk["kty"], jwk["crv"], jwk["use"], jwk["alg"]) == ("OKP", "Ed25519", "sig",
                                                                    "Ed25519")
    assert '"d"' not in json.dumps(document)


def test_key_creation_is_audited_with_ids_only(database: Database, keys: Keys) -> None:
    keys.seal(b"x", table="t", column="c", row_id=1)
    kid = keys.signer("receipts").key_id
    events = audit_actions(database)
    assert [(a, d["purpose"]) for a, _o, d in events] == [("key.create", "data"),
                                                          ("key.create", "receipts")]
    assert events[1][1] == kid and set(events[1][2]) == {"purpose", "version", "kid"}


def test_two_processes_starting_at_once_create_one_first_version(database: Database,
                                                                 clock: FakeClock) -> None:
    racers = [make_keys(database, clock) for _ in range(4)]
    barrier = threading.Barrier(len(racers))
    kids: list[str] = []
    errors: list[BaseException] = []

    def first_use(k: Keys) -> None:
        try:
            barrier.wait()
            kids.append(k.signer("tree_heads").key_id)
        except BaseException as exc:  # noqa: BLE001 - reported by the assertion below
            errors.append(exc)

    threads = [threading.Thread(target=first_use, args=(k,)) for k in racers]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert len(set(kids)) == 1
    with database.engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(key_versions)).scalar_one() == 1
    assert len(audit_actions(database)) == 1


def test_ensure_creates_every_purpose_once(database: Database, keys: Keys) -> None:
    keys.ensure()
    keys.ensure()
    assert sorted(v.purpose for v in keys.versions()) == sorted(
        ["backups", "blind_index", "ca", "cheques", "clearing", "data", "documents", "receipts",
         "registry", "registry_index", "tree_heads",
         "webhooks"])
