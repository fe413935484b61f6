"""The payload stream and the manifest, without a database."""

from __future__ import annotations

import io
import os

import pytest

from paywarden.services.backup.errors import DigestMismatch, FormatInvalid, PayloadInvalid
from paywarden.services.backup.manifest import Manifest, b64, parse
from paywarden.services.backup.payload import open_payload, seal

KEY, NONCE, AAD = os.urandom(32), os.urandom(12), b"aad"


def sealed(data: bytes) -> tuple[bytes, dict[str, object]]:
    out = io.BytesIO()
    s = seal((data[i:i + 1000] for i in range(0, len(data), 1000)), out, key=KEY,
             nonce=NONCE, aad=AAD)
    return out.getvalue(), {"size": s.payload_size, "tag": s.tag, "sha256": s.sha256,
                            "snapshot_size": s.snapshot_size}


def opened(cipher: bytes, **over: object) -> bytes:
    out = io.BytesIO()
    args = {"key": KEY, "nonce": NONCE, "aad": AAD, **over}
    open_payload(io.BytesIO(cipher), out, **args)  # type: ignore[arg-type]
    return out.getvalue()


def test_a_payload_round_trips_in_chunks() -> None:
    data = os.urandom(50_000) + bytes(3_000_000)
    cipher, meta = sealed(data)
    assert len(cipher) < len(data) and bytes(3_000_000)[:64] not in cipher
    assert opened(cipher, **meta) == data


def test_other_associated_data_fails_the_tag() -> None:
    cipher, meta = sealed(b"x" * 1000)
    with pytest.raises(PayloadInvalid):
        opened(cipher, **{**meta, "aad": b"other"})


def test_a_flipped_byte_is_a_digest_mismatch_before_the_tag() -> None:
    cipher, meta = sealed(b"x" * 1000)
    with pytest.raises(DigestMismatch):
        opened(bytes([cipher[0] ^ 1]) + cipher[1:], **meta)


def test_a_payload_larger_than_declared_is_refused() -> None:
    cipher, meta = sealed(bytes(1_000_000))
    with pytest.raises(PayloadInvalid, match="exceeds"):
        opened(cipher, **{**meta, "snapshot_size": 1000})


def manifest() -> Manifest:
    return Manifest(backup_id="bak_" + "ab" * 12, created_at="2026-01-01T00:00:00.000000000Z",
                    database="sqlite", platform_version="0.1.0", tree_head=None,
                    rows={"transfers": 3}, nonce=b64(NONCE), wrapped_key=b64(b"w"),
                    master_key_id="mk_1", signing_kid="k", signing_public_key="AA",
                    payload_sha256="0" * 64, tag=b64(bytes(16)))


def test_the_manifest_parses_only_in_canonical_form() -> None:
    m = manifest()
    assert parse(m.canonical()) == m
    with pytest.raises(FormatInvalid, match="canonical"):
        parse(m.canonical().replace(b",", b", ", 1))
    with pytest.raises(FormatInvalid, match="fields differ"):
        parse(m.canonical().replace(b'"tag"', b'"tax"'))


def test_the_associated_data_leaves_out_only_the_stream_fields() -> None:
    m = manifest()
    assert m.aad() == m.sealed(snapshot_size=9, payload_size=9, payload_sha256="1" * 64,
                               tag=bytes(16)).aad()
    import dataclasses

    assert m.aad() != dataclasses.replace(m, rows={"transfers": 4}).aad()
    assert m.aad() != dataclasses.replace(m, signing_kid="other").aad()


def test_the_database_password_goes_to_a_passfile_never_to_the_command_line(
        monkeypatch: pytest.MonkeyPatch) -> None:
    from pathlib import Path

    from paywarden.services.backup import pgtools

    info, password = pgtools.conninfo(
        "postgresql+psycopg://pw:s3cr%3At@db.example:5433/pay?sslmode=require")
    assert "s3cr" not in info and password == "s3cr:t"
    assert info == "host='db.example' port='5433' user='pw' dbname='pay' sslmode='require'"
    monkeypatch.setenv("PGPASSWORD", "stray")
    with pgtools.client_env(password) as env:
        passfile = Path(env["PGPASSFILE"])
        assert "PGPASSWORD" not in env
        assert passfile.stat().st_mode & 0o777 == 0o600
        assert passfile.read_text() == "*:*:*:*:s3cr\\:t\n"
    assert not passfile.exists()


def test_a_missing_pg_dump_is_a_named_error(monkeypatch: pytest.MonkeyPatch,
                                            tmp_path: object) -> None:
    from pathlib import Path

    from paywarden.services.backup import pgtools
    from paywarden.services.backup.errors import ToolMissing

    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.setattr(pgtools, "DEBIAN_BINARIES", Path(str(tmp_path)) / "none")
    with pytest.raises(ToolMissing, match="pg_dump for PostgreSQL 15 or newer not found"):
        pgtools.find_tool("pg_dump", server_major=15)
