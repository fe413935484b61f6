"""Backup and restore on SQLite and PostgreSQL: under write load, tampered, from elsewhere."""

from __future__ import annotations

import base64
import json
import os
import secrets
import struct
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, inspect, text
from typer.testing import CliRunner

from paywarden.adapters.clock import FakeClock
from paywarden.adapters.store import Database, open_database
from paywarden.bootstrap import Platform, build
from paywarden.cli import app as cli
from paywarden.domain.ledger import Transfer
from paywarden.services import audit
from paywarden.services.audit.verify import verify_audit
from paywarden.services.backup import (
    BackupError,
    DigestMismatch,
    FormatInvalid,
    KeyUnwrapFailed,
    PayloadInvalid,
    RestoredDatabaseInvalid,
    SignatureInvalid,
    SignerUntrusted,
    TargetBusy,
    TargetNotEmpty,
    auditing,
    snapshot,
)
from paywarden.services.backup.archive import MAGIC, read_header
from paywarden.services.backup.manifest import parse
from paywarden.services.backup.trust import load_jwks, parse_jwks
from paywarden.services.ledger import LedgerEngine, NewAccount
from paywarden.services.ledger.verify import verify_ledger
from paywarden.settings import Settings
from tests.conftest import _drop_pg_database, _fresh_pg_database
from tests.support.sealing import assert_no_plaintext

EUR = 978
CANARY_EMAIL = "canary.backup.7f3a@example.org"
CANARY_CARD = "4111111111111111"
ACTOR = "cli:test"


def new_master() -> str:
    return base64.b64encode(os.urandom(32)).decode()


def settings_for(data_dir: Path, url: str, master: str) -> Settings:
    return Settings(data_dir=data_dir, database_url=url, master_key=master)  # type: ignore[arg-type]


@pytest.fixture
def master() -> str:
    return new_master()


@pytest.fixture
def platform(database: Database, database_url: str, clock: FakeClock, tmp_path: Path,
             master: str) -> Iterator[Platform]:
    p = build(settings_for(tmp_path / "var", database_url, master), clock=clock,
              database=database)
    yield p


@pytest.fixture
def target_url(database_url: str, tmp_path: Path) -> Iterator[str]:
    """A second, fresh database of the same kind to restore into."""
    if database_url.startswith("sqlite"):
        yield f"sqlite:///{tmp_path}/target/paywarden.db"
        return
    url, name = _fresh_pg_database()
    yield url
    _drop_pg_database(name)


def target_platform(target_url: str, tmp_path: Path, master: str,
                    clock: FakeClock) -> Platform:
    return build(settings_for(tmp_path / "target-var", target_url, master), clock=clock)


def fund(engine: LedgerEngine) -> None:
    engine.create_accounts([NewAccount(1, EUR, 1), NewAccount(2, EUR, 1),
                            NewAccount(3, EUR, 1)]).result()
    engine.execute([Transfer(f"seed-{i}", 1, 2, 100 + i, EUR, 1) for i in range(200)])


def write_canaries(database: Database, clock: FakeClock) -> None:
    with database.engine.begin() as conn:
        audit.record(conn, at_ns=clock.now_ns(), actor=ACTOR, action="test.canary",
                     object_id="canary", detail={"email": CANARY_EMAIL, "card": CANARY_CARD})


def tables(url: str) -> list[str]:
    engine = create_engine(url)
    try:
        return inspect(engine).get_table_names()
    finally:
        engine.dispose()


def untouched(url: str) -> bool:
    if url.startswith("sqlite"):
        return not Path(url.removeprefix("sqlite:///")).exists()
    return tables(url) == []


def counts(url: str) -> dict[str, int]:
    db = open_database(url)
    try:
        with db.engine.connect() as conn:
            return snapshot.count_rows(conn)
    finally:
        db.dispose()


@pytest.fixture
def backup_file(platform: Platform, engine: LedgerEngine, tmp_path: Path) -> Path:
    fund(engine)
    out = tmp_path / "one.pwb"
    platform.backups.create(out, actor=ACTOR)
    return out


# -- taken under load, restored, verified ------------------------------------------


def test_a_backup_taken_while_transfers_are_written_restores_to_a_sound_database(
        platform: Platform, engine: LedgerEngine, clock: FakeClock, tmp_path: Path,
        target_url: str, master: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(snapshot, "SQLITE_STEP_PAGES", 2)  # many steps while writers run
    platform.keys.ensure()  # as Platform.start() does before serving
    fund(engine)
    stop = threading.Event()
    written = [0] * 4

    def writer(n: int) -> None:
        i = 0
        while not stop.is_set():
            engine.execute([Transfer(f"load-{n}-{i}-{j}", 1 + (j % 2), 2 - (j % 2), 1 + j, EUR,
                                     1) for j in range(5)])
            written[n] += 5
            i += 1

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    try:
        while sum(written) < 200:
            threading.Event().wait(0.01)
        result = platform.backups.create(tmp_path / "load.pwb", actor=ACTOR)
        before = sum(written)
        while sum(written) < before + 100:  # writes go on after the snapshot too
            threading.Event().wait(0.01)
    finally:
        stop.set()
        for t in threads:
            t.join()
    manifest = result.manifest
    assert 200 < manifest.rows["transfers"] < counts(platform.database.url)["transfers"]
    assert manifest.tree_head is not None and manifest.tree_size >= 1
    assert os.stat(result.path).st_mode & 0o777 == 0o600

    into = target_platform(target_url, tmp_path, master, clock)
    restored = into.backups.restore(result.path, actor=ACTOR)
    into.database.dispose()
    assert restored.backup_id == manifest.backup_id
    assert restored.trusted_by == "master-key"  # a fresh database has no keyring yet
    target = open_database(target_url)
    try:
        assert verify_ledger(target) == []
        with target.engine.connect() as conn:
            after = snapshot.count_rows(conn)
            head = auditing.latest_head(conn)
            assert auditing.root_at(conn, manifest.tree_size) == auditing.root_hash_of(
                manifest.tree_head)
        assert head == manifest.tree_head
    finally:
        target.dispose()
    assert {t: n for t, n in after.items() if not t.startswith("audit_")} == {
        t: n for t, n in manifest.rows.items() if not t.startswith("audit_")}
    assert after["audit_entries"] == manifest.rows["audit_entries"] + 1  # backup.restored
    target = open_database(target_url)
    assert verify_audit(target) == []
    target.dispose()


def test_the_backup_is_recorded_in_the_audit_log(platform: Platform, backup_file: Path) -> None:
    with open(backup_file, "rb") as f:
        manifest = read_header(f, file_size=backup_file.stat().st_size).manifest
    with platform.database.engine.connect() as conn:
        rows = conn.execute(text("SELECT action, object, detail FROM audit_entries "
                                 "WHERE action = 'backup.created'")).all()
    assert [(a, o) for a, o, _ in rows] == [("backup.created", manifest.backup_id)]
    assert json.loads(rows[0][2]) == {"backup_id": manifest.backup_id,
                                      "tree_size": manifest.tree_size,
                                      "sha256": manifest.payload_sha256}


def test_the_backup_file_holds_no_plaintext(platform: Platform, engine: LedgerEngine,
                                            clock: FakeClock, tmp_path: Path) -> None:
    fund(engine)
    write_canaries(platform.database, clock)
    out = tmp_path / "canary.pwb"
    platform.backups.create(out, actor=ACTOR)
    if platform.database.dialect == "sqlite":  # the search finds them where they are plain
        raw = Path(platform.database.url.removeprefix("sqlite:///"))
        with platform.database.engine.connect() as conn:
            conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
        with pytest.raises(AssertionError):
            assert_no_plaintext(raw.read_bytes(), [CANARY_EMAIL], where=raw.name)
    assert_no_plaintext(out.read_bytes(), [CANARY_EMAIL, CANARY_CARD, "CREATE TABLE", "seed-7"],
                        where="the backup file")
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".canary.pwb")]


# -- refused before anything is touched --------------------------------------------


def split(data: bytes) -> tuple[int, int]:
    """(manifest start, payload start) of a backup's bytes."""
    (length,) = struct.unpack(">I", data[10:14])
    return 14, 14 + length + 64


def rewrite(src: Path, dst: Path, data: bytes) -> Path:
    dst.write_bytes(data)
    return dst


def resigned(data: bytes, signer: object, **changes: object) -> bytes:
    """The backup with its manifest changed and signed again by ``signer``."""
    import dataclasses

    from paywarden.services.backup.archive import header_bytes
    from paywarden.services.backup.trust import b64url

    start, payload = split(data)
    manifest = parse(data[start:payload - 64])
    public = signer.public_key.public_bytes_raw()  # type: ignore[attr-defined]
    manifest = dataclasses.replace(manifest, signing_kid=signer.key_id,  # type: ignore[attr-defined]
                                   signing_public_key=b64url(public), **changes)
    signed = manifest.canonical()
    return header_bytes(signed, signer.sign(signed)) + data[payload:]  # type: ignore[attr-defined]


def refused(target_url: str, tmp_path: Path, master: str, clock: FakeClock, file: Path,
            error: type[BackupError], **options: object) -> str:
    target = target_platform(target_url, tmp_path, master, clock)
    try:
        with pytest.raises(error) as caught:
            target.backups.restore(file, actor=ACTOR, **options)  # type: ignore[arg-type]
    finally:
        target.database.dispose()
    assert untouched(target_url)
    return str(caught.value)


def test_a_flipped_ciphertext_byte_is_a_digest_mismatch(
        backup_file: Path, tmp_path: Path, target_url: str, master: str,
        clock: FakeClock) -> None:
    data = bytearray(backup_file.read_bytes())
    data[split(bytes(data))[1] + 40] ^= 0x01
    bad = rewrite(backup_file, tmp_path / "bad.pwb", bytes(data))
    message = refused(target_url, tmp_path, master, clock, bad, DigestMismatch)
    assert message.startswith("payload digest mismatch")


def test_a_changed_row_count_breaks_the_signature(
        backup_file: Path, tmp_path: Path, target_url: str, master: str,
        clock: FakeClock) -> None:
    data = backup_file.read_bytes()
    assert data.count(b'"transfers":200') == 1
    bad = rewrite(backup_file, tmp_path / "bad.pwb",
                  data.replace(b'"transfers":200', b'"transfers":201'))
    message = refused(target_url, tmp_path, master, clock, bad, SignatureInvalid)
    assert message.startswith("backup signature invalid")


def test_a_flipped_signature_byte_is_refused(
        backup_file: Path, tmp_path: Path, target_url: str, master: str,
        clock: FakeClock) -> None:
    data = bytearray(backup_file.read_bytes())
    data[split(bytes(data))[1] - 10] ^= 0x80
    bad = rewrite(backup_file, tmp_path / "bad.pwb", bytes(data))
    refused(target_url, tmp_path, master, clock, bad, SignatureInvalid)


@pytest.mark.parametrize("cut", ["header", "payload", "extra"])
def test_a_truncated_or_extended_file_is_refused(
        backup_file: Path, tmp_path: Path, target_url: str, master: str,
        clock: FakeClock, cut: str) -> None:
    data = backup_file.read_bytes()
    start, _ = split(data)
    changed = {"header": data[:start + 20], "payload": data[:-1], "extra": data + b"\0"}[cut]
    bad = rewrite(backup_file, tmp_path / "bad.pwb", changed)
    assert "backup format invalid" in refused(target_url, tmp_path, master, clock, bad,
                                              FormatInvalid)


def test_a_file_of_another_kind_is_refused(tmp_path: Path, target_url: str, master: str,
                                           clock: FakeClock) -> None:
    bad = rewrite(tmp_path, tmp_path / "bad.pwb", b"SQLite format 3\0" + bytes(200))
    assert "wrong magic" in refused(target_url, tmp_path, master, clock, bad, FormatInvalid)


def test_a_backup_of_another_platform_is_refused(
        backup_file: Path, tmp_path: Path, target_url: str, clock: FakeClock) -> None:
    # Same file, but the restoring platform has another master key: its data key won't unwrap.
    message = refused(target_url, tmp_path, new_master(), clock, backup_file, KeyUnwrapFailed)
    assert "does not unwrap" in message


def test_a_manifest_resigned_by_another_platforms_key_fails_the_tag(
        backup_file: Path, tmp_path: Path, target_url: str, master: str,
        clock: FakeClock) -> None:
    other = build(settings_for(tmp_path / "other", f"sqlite:///{tmp_path}/other.db",
                               new_master()), clock=clock)
    other.database.migrate()
    signer = other.keys.signer("backups")
    bad = rewrite(backup_file, tmp_path / "bad.pwb", resigned(
        backup_file.read_bytes(), signer, rows={**_rows(backup_file), "transfers": 1}))
    # Its signature is valid under the key it carries, but that key vouches for nothing:
    assert "payload authentication failed" in refused(target_url, tmp_path, master, clock,
                                                      bad, PayloadInvalid)
    # and an operator who names the JWKS to trust gets a clear refusal instead.
    jwks_file = tmp_path / "jwks.json"
    jwks_file.write_text(json.dumps({"keys": []}))
    refused(target_url, tmp_path, master, clock, bad, SignerUntrusted,
            jwks=load_jwks(str(jwks_file)))
    other.database.dispose()


def test_an_altered_payload_resigned_with_the_platforms_own_key_fails_the_tag(
        platform: Platform, backup_file: Path, tmp_path: Path, target_url: str, master: str,
        clock: FakeClock) -> None:
    """A thief of the signing key alone still cannot forge the payload."""
    import hashlib

    data = bytearray(backup_file.read_bytes())
    payload = split(bytes(data))[1]
    data[payload + 40] ^= 0x01
    digest = hashlib.sha256(bytes(data[payload:])).hexdigest()
    bad = rewrite(backup_file, tmp_path / "bad.pwb", resigned(
        bytes(data), platform.keys.signer("backups"), payload_sha256=digest))
    refused(target_url, tmp_path, master, clock, bad, PayloadInvalid)


def _rows(file: Path) -> dict[str, int]:
    with open(file, "rb") as f:
        return read_header(f, file_size=file.stat().st_size).manifest.rows


def test_a_database_that_fails_verify_is_not_restored(
        platform: Platform, engine: LedgerEngine, tmp_path: Path, target_url: str,
        master: str, clock: FakeClock) -> None:
    fund(engine)
    with platform.database.engine.begin() as conn:  # an insider's edit, before the backup
        conn.execute(text("UPDATE transfers SET amount = amount + 1 WHERE id = 'seed-7'"))
    out = tmp_path / "rotten.pwb"
    platform.backups.create(out, actor=ACTOR)
    message = refused(target_url, tmp_path, master, clock, out, RestoredDatabaseInvalid)
    assert message.startswith("restored database fails verify: ledger")


def test_a_database_whose_audit_log_was_rewritten_is_not_restored(
        platform: Platform, engine: LedgerEngine, tmp_path: Path, target_url: str,
        master: str, clock: FakeClock) -> None:
    fund(engine)
    with platform.database.engine.begin() as conn:  # an insider past the append-only triggers
        if platform.database.dialect == "sqlite":
            for (name,) in conn.execute(text("SELECT name FROM sqlite_master WHERE type = "
                                             "'trigger' AND tbl_name = 'audit_entries'")).all():
                conn.execute(text(f'DROP TRIGGER "{name}"'))
        else:
            conn.execute(text("ALTER TABLE audit_entries DISABLE TRIGGER USER"))
        conn.execute(text("UPDATE audit_entries SET actor = 'cli:nobody' WHERE seq = "
                          "(SELECT min(seq) FROM audit_entries)"))
    out = tmp_path / "rewritten.pwb"
    platform.backups.create(out, actor=ACTOR)
    message = refused(target_url, tmp_path, master, clock, out, RestoredDatabaseInvalid)
    assert message.startswith("restored database fails verify: audit")


def test_a_database_holding_data_is_replaced_only_with_force(
        platform: Platform, engine: LedgerEngine, backup_file: Path, tmp_path: Path,
        master: str, clock: FakeClock, database_url: str) -> None:
    again = build(settings_for(tmp_path / "var", database_url, master), clock=clock)
    with pytest.raises(TargetNotEmpty):
        again.backups.restore(backup_file, actor=ACTOR)
    if platform.database.dialect == "sqlite":  # the running engine holds the file open
        with pytest.raises(TargetBusy):
            again.backups.restore(backup_file, actor=ACTOR, force=True)
    engine.stop()
    platform.database.dispose()
    result = again.backups.restore(backup_file, actor=ACTOR, force=True)
    assert result.trusted_by == "keyring"  # the live database's keyring knows its own key
    if platform.database.dialect == "sqlite":
        assert result.previous is not None and result.previous.name.endswith(".pre-restore")
        assert result.previous.stat().st_size > 0
    again.database.dispose()
    after = open_database(database_url)
    assert verify_ledger(after) == []
    after.dispose()


def test_the_manifest_is_canonical_json_after_the_magic(backup_file: Path) -> None:
    data = backup_file.read_bytes()
    start, payload = split(data)
    assert data[:8] == MAGIC
    manifest = json.loads(data[start:payload - 64])
    assert manifest["rows"]["transfers"] == 200
    assert manifest["payload_size"] == len(data) - payload
    assert manifest["tree_head"]["tree_size"] == manifest_tree_size(backup_file)


def manifest_tree_size(file: Path) -> int:
    with open(file, "rb") as f:
        return read_header(f, file_size=file.stat().st_size).manifest.tree_size


# -- the commands --------------------------------------------------------------------


def test_backup_and_restore_commands_with_json_and_a_trusted_jwks(
        platform: Platform, engine: LedgerEngine, tmp_path: Path, target_url: str,
        database_url: str, master: str) -> None:
    fund(engine)
    env = {"PAYWARDEN_DATA_DIR": str(tmp_path / "var"), "PAYWARDEN_DATABASE_URL": database_url,
           "PAYWARDEN_MASTER_KEY": master, "PAYWARDEN_LOG_LEVEL": "warning"}
    out = tmp_path / "cli.pwb"
    made = CliRunner().invoke(cli, ["backup", str(out), "--json"], env=env)
    assert made.exit_code == 0, made.output
    body = json.loads(made.stdout.strip().splitlines()[-1])
    assert set(body) == {"path", "backup_id", "tree_size", "rows"}
    assert body["rows"]["transfers"] == 200 and Path(body["path"]) == out

    jwks = tmp_path / "jwks.json"
    jwks.write_text(json.dumps(platform.keys.jwks()))
    assert parse_jwks(jwks.read_bytes(), "jwks")  # the backups key is published
    target_env = {**env, "PAYWARDEN_DATA_DIR": str(tmp_path / "target-var"),
                  "PAYWARDEN_DATABASE_URL": target_url}
    done = CliRunner().invoke(cli, ["restore", str(out), "--trust-jwks", str(jwks), "--json"],
                              env=target_env)
    assert done.exit_code == 0, done.output
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["ok"] is True and result["backup_id"] == body["backup_id"]
    assert result["trusted_by"] == "jwks"

    again = CliRunner().invoke(cli, ["restore", str(out), "--json"], env=target_env)
    assert again.exit_code == 1
    assert json.loads(again.stdout.strip().splitlines()[-1])["error"] == "target_not_empty"

    (tmp_path / "cut.pwb").write_bytes(out.read_bytes()[:-5])
    cut = CliRunner().invoke(cli, ["restore", str(tmp_path / "cut.pwb")], env=target_env)
    assert cut.exit_code == 1 and "backup format invalid" in cut.output
    assert secrets.compare_digest(out.read_bytes()[:8], MAGIC)


def test_restore_checks_name_a_count_or_a_tree_head_that_differs(
        platform: Platform, backup_file: Path) -> None:
    import dataclasses

    from paywarden.services.backup.checks import check_restored

    with open(backup_file, "rb") as f:
        manifest = read_header(f, file_size=backup_file.stat().st_size).manifest
    assert manifest.tree_head is not None
    # the live database has one more entry now (backup.created), so compare a copy of that
    with platform.database.engine.connect() as conn:
        live_rows, live_head = snapshot.read_state(conn)
    now = dataclasses.replace(manifest, rows=live_rows, tree_head=live_head)
    assert check_restored(platform.database, now) == []
    fewer = dataclasses.replace(now, rows={**live_rows, "transfers": 199})
    assert check_restored(platform.database, fewer) == ["rows transfers: restored 200, manifest 199"]
    forged = {**now.tree_head, "root_hash": base64.b64encode(bytes(32)).decode()}  # type: ignore[dict-item]
    problems = check_restored(platform.database, dataclasses.replace(now, tree_head=forged))
    assert [p.split(":")[0] for p in problems] == ["tree head", "tree head"]
