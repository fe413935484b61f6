"""Envelope encryption, blind indexes and the local master key (no database)."""

from __future__ import annotations

import base64
import os
import stat
import threading
from pathlib import Path

import pytest

from paywarden.adapters.crypto import (
    LocalMasterKey,
    MasterKey,
    OpenError,
    Sealed,
    SealedFormatError,
    UnwrapError,
    blind_index,
    kek_version_of,
    local_master_key,
    open_sealed,
    rewrap,
    seal,
)
from paywarden.adapters.crypto.envelope import WRAPPED_KEY_BYTES, encode_fields, record_aad

KEK = bytes(range(32))
OTHER_KEK = bytes(range(1, 33))
PLAIN = b"alice@example.org"


def _seal(**where: object) -> bytes:
    at = {"table": "users", "column": "email_sealed", "row_id": "usr_1"} | where
    return seal(PLAIN, kek=KEK, kek_version=3, **at)  # type: ignore[arg-type]


def _open(data: bytes, kek: bytes = KEK, **where: object) -> bytes:
    at = {"table": "users", "column": "email_sealed", "row_id": "usr_1"} | where
    return open_sealed(data, kek_for=lambda _v: kek, **at)  # type: ignore[arg-type]


def test_a_sealed_value_opens_in_its_own_row_and_hides_the_plaintext() -> None:
    data = _seal()
    assert PLAIN not in data
    assert _open(data) == PLAIN
    assert kek_version_of(data) == 3


def test_each_seal_uses_a_fresh_data_key_and_nonce() -> None:
    a, b = Sealed.parse(_seal()), Sealed.parse(_seal())
    assert a.wrapped_key != b.wrapped_key and a.nonce != b.nonce and a.ciphertext != b.ciphertext


@pytest.mark.parametrize("where", [{"row_id": "usr_2"}, {"column": "display_name_sealed"},
                                   {"table": "customers"}])
def test_a_value_moved_to_another_row_column_or_table_does_not_open(where: dict[str, str]) -> None:
    with pytest.raises(OpenError) as caught:
        _open(_seal(), **where)
    assert PLAIN.decode() not in str(caught.value) and KEK.hex() not in str(caught.value)


def test_the_associated_data_encoding_is_unambiguous() -> None:
    assert record_aad(table="ab", column="c", row_id="1") != record_aad(table="a", column="bc",
                                                                          row_id="1")
    assert encode_fields("a", "bc") != encode_fields("ab", "c")
    with pytest.raises(OpenError):
        open_sealed(seal(PLAIN, kek=KEK, kek_version=1, table="ab", column="c", row_id="1"),
                    kek_for=lambda _v: KEK, table="a", column="bc", row_id="1")


def test_every_tampered_byte_is_refused() -> None:
    data = _seal()
    for i in range(len(data)):
        tampered = bytearray(data)
        tampered[i] ^= 0x01
        with pytest.raises((OpenError, SealedFormatError)):
            _open(bytes(tampered))


def test_a_wrong_key_encryption_key_is_refused() -> None:
    with pytest.raises(OpenError, match="does not unwrap"):
        _open(_seal(), kek=OTHER_KEK)


def test_an_unknown_format_or_a_truncated_value_is_refused() -> None:
    data = _seal()
    with pytest.raises(SealedFormatError, match="unknown sealed format 2"):
        _open(b"\x02" + data[1:])
    with pytest.raises(SealedFormatError):
        _open(data[:20])
    with pytest.raises(SealedFormatError):
        _open(b"")


def test_the_format_is_self_describing() -> None:
    data = _seal()
    assert data[0] == 1
    assert int.from_bytes(data[1:5], "big") == 3
    assert int.from_bytes(data[5:7], "big") == WRAPPED_KEY_BYTES
    assert Sealed.parse(data).to_bytes() == data


def test_rewrap_changes_the_key_version_and_keeps_the_ciphertext() -> None:
    data = _seal()
    moved = rewrap(data, old_kek=KEK, new_kek=OTHER_KEK, new_version=4, table="users",
                   column="email_sealed")
    assert kek_version_of(moved) == 4
    assert Sealed.parse(moved).ciphertext == Sealed.parse(data).ciphertext
    assert _open(moved, kek=OTHER_KEK) == PLAIN
    with pytest.raises(OpenError):
        _open(moved, kek=KEK)


def test_a_wrapped_data_key_relabelled_with_another_version_is_refused() -> None:
    data = bytearray(_seal())
    data[1:5] = (4).to_bytes(4, "big")
    with pytest.raises(OpenError):
        _open(bytes(data))


def test_blind_indexes_are_keyed_normalised_and_per_column() -> None:
    a = blind_index(KEK, " Alice@Example.org ", table="users", column="email_index")
    assert a == blind_index(KEK, "alice@example.org", table="users", column="email_index")
    assert len(a) == 64 and int(a, 16) >= 0
    assert a != blind_index(OTHER_KEK, "alice@example.org", table="users", column="email_index")
    assert a != blind_index(KEK, "alice@example.org", table="users", column="username_index")
    assert a != blind_index(KEK, "bob@example.org", table="users", column="email_index")


def test_the_master_key_binds_its_context_and_refuses_another_master_key() -> None:
    master = LocalMasterKey(os.urandom(32))
    assert isinstance(master, MasterKey)
    blob = master.wrap(KEK, context=b"key_versions/data/1")
    assert KEK not in blob
    assert master.unwrap(blob, context=b"key_versions/data/1") == KEK
    with pytest.raises(UnwrapError):
        master.unwrap(blob, context=b"key_versions/data/2")
    with pytest.raises(UnwrapError) as caught:
        LocalMasterKey(os.urandom(32)).unwrap(blob, context=b"key_versions/data/1")
    assert KEK.hex() not in str(caught.value)


def test_the_master_key_id_names_the_key_without_revealing_it() -> None:
    secret = os.urandom(32)
    master = LocalMasterKey(secret)
    assert master.key_id == LocalMasterKey(secret).key_id != LocalMasterKey(os.urandom(32)).key_id
    assert master.key_id.startswith("mk_") and secret.hex() not in master.key_id
    assert secret.hex() not in repr(master)


def test_the_master_key_comes_from_the_environment_or_a_private_file(tmp_path: Path) -> None:
    secret = os.urandom(32)
    from_env = local_master_key(master_key=base64.b64encode(secret).decode(),
                                master_key_file=tmp_path / "unused")
    assert from_env.key_id == LocalMasterKey(secret).key_id
    assert not (tmp_path / "unused").exists()
    path = tmp_path / "keys" / "master.key"
    first = local_master_key(master_key=None, master_key_file=path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert local_master_key(master_key=None, master_key_file=path).key_id == first.key_id
    with pytest.raises(ValueError, match="32 bytes"):
        local_master_key(master_key=base64.b64encode(b"short").decode(), master_key_file=path)
    with pytest.raises(ValueError, match="base64"):
        local_master_key(master_key="not base64!", master_key_file=path)


def test_processes_creating_the_master_key_file_at_once_all_get_the_same_key(
        tmp_path: Path) -> None:
    path = tmp_path / "keys" / "master.key"
    barrier = threading.Barrier(8)
    ids: list[str] = []

    def load() -> None:
        barrier.wait()
        ids.append(local_master_key(master_key=None, master_key_file=path).key_id)

    threads = [threading.Thread(target=load) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(ids) == 8 and len(set(ids)) == 1
    assert [p.name for p in path.parent.iterdir()] == ["master.key"]
