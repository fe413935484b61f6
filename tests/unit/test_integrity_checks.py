"""The integrity check's parts, each attacked: the comparison, the signature, the bytecode
and the privacy of the data (decision 0069)."""

from __future__ import annotations

import importlib.util
import json
import marshal
import os
import sys
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from paywarden.domain.integrity import Findings, compare, private_mode
from paywarden.services.integrity.hygiene import Private
from paywarden.services.integrity.manifest import (
    ManifestRefused,
    ReleaseKeyInvalid,
    load_release_key,
    new_release_key,
    parse_public_key,
    public_key_text,
    read_manifest,
    signed_manifest,
)
from paywarden.services.integrity.tree import Bytecode, hash_tree

FILES = {"a.py": "1" * 64, "web/t.html": "2" * 64}


def test_compare_names_changed_added_and_missing_files() -> None:
    found = compare(FILES, {"a.py": "9" * 64, "b.py": "3" * 64})
    assert (found.changed, found.added, found.missing) == (("a.py",), ("b.py",), ("web/t.html",))
    assert not found.ok and compare(FILES, dict(FILES)).ok
    assert found.summary() == "changed since the release: a.py (and 2 more)"


def test_findings_digest_names_the_problem_set() -> None:
    one, other = Findings(changed=("a.py",)), Findings(added=("a.py",))
    assert one.digest() == Findings(changed=("a.py",)).digest() != other.digest()
    assert len(Findings(changed=tuple(f"{i}.py" for i in range(50))).detail()["changed"]) == 20


def test_private_mode_allows_nothing_to_group_or_others() -> None:
    assert private_mode(0o40700) and private_mode(0o100600)
    assert not private_mode(0o40750) and not private_mode(0o100604)


def _manifest(tmp_path: Path, key: Ed25519PrivateKey, **changes: object) -> Path:
    body = signed_manifest(private=key, package="paywarden", version="1.0",
                           created_at="2026-12-02T00:00:00+00:00", files=FILES)
    body.update(changes)
    path = tmp_path / f"m{len(list(tmp_path.iterdir()))}.json"
    path.write_text(json.dumps(body))
    return path


def test_a_signed_manifest_reads_back() -> None:
    key = Ed25519PrivateKey.generate()
    assert parse_public_key(public_key_text(key.public_key())) is not None


def test_manifest_refusals(tmp_path: Path) -> None:
    key, other = Ed25519PrivateKey.generate(), Ed25519PrivateKey.generate()
    pinned = key.public_key()
    assert read_manifest(_manifest(tmp_path, key), pinned, package="paywarden",
                         version="1.0") == FILES
    cases = [
        (_manifest(tmp_path, other), "not signed by the pinned release key"),
        (_manifest(tmp_path, key, files={**FILES, "a.py": "0" * 64}), "not signed by"),
        (_manifest(tmp_path, key, signature=None), "is not signed"),
        (tmp_path / "absent.json", "is missing"),
    ]
    for path, words in cases:
        with pytest.raises(ManifestRefused, match=words):
            read_manifest(path, pinned, package="paywarden", version="1.0")
    with pytest.raises(ManifestRefused, match="is for paywarden 1.0, not this paywarden 2.0"):
        read_manifest(_manifest(tmp_path, key), pinned, package="paywarden", version="2.0")
    (tmp_path / "junk.json").write_text("{")
    with pytest.raises(ManifestRefused, match="unreadable"):
        read_manifest(tmp_path / "junk.json", pinned, package="paywarden", version="1.0")


@pytest.mark.parametrize("text", ["JkaZUFhG", "ed25519:not base64!", "ed25519:AAAA"])
def test_a_malformed_release_key_is_refused(text: str) -> None:
    with pytest.raises(ReleaseKeyInvalid):
        parse_public_key(text)


def test_a_release_key_file_is_private_never_replaced_and_sealed(tmp_path: Path) -> None:
    path = tmp_path / "release.pem"
    public = new_release_key(path, b"correct horse")
    assert path.stat().st_mode & 0o777 == 0o600
    assert load_release_key(path, b"correct horse").public_key() == public
    with pytest.raises(ReleaseKeyInvalid):
        load_release_key(path, b"wrong")
    with pytest.raises(FileExistsError):
        new_release_key(path, None)


def test_hash_tree_skips_bytecode_and_names_links(tmp_path: Path) -> None:
    (tmp_path / "pkg" / "__pycache__").mkdir(parents=True)
    (tmp_path / "pkg" / "m.py").write_text("x = 1\n")
    (tmp_path / "pkg" / "__pycache__" / "m.pyc").write_bytes(b"any")
    (tmp_path / "elsewhere").mkdir()
    (tmp_path / "pkg" / "linked").symlink_to(tmp_path / "elsewhere")
    found = hash_tree(tmp_path / "pkg")
    assert set(found) == {"m.py", "linked"}
    assert found["linked"] == f"symlink:{tmp_path / 'elsewhere'}"


def _pyc(source: Path, code_text: str) -> Path:
    """A pyc Python would load for ``source``: its header matches the source's time."""
    cache = source.parent / "__pycache__" / f"{source.stem}.{sys.implementation.cache_tag}.pyc"
    cache.parent.mkdir(exist_ok=True)
    stat = source.stat()
    header = importlib.util.MAGIC_NUMBER + bytes(4) + (
        int(stat.st_mtime) & 0xFFFFFFFF).to_bytes(4, "little") + (
        stat.st_size & 0xFFFFFFFF).to_bytes(4, "little")
    cache.write_bytes(header + marshal.dumps(compile(code_text, str(source), "exec",
                                                          dont_inherit=True)))
    return cache


def test_bytecode_of_its_source_passes_and_a_trojan_does_not(tmp_path: Path) -> None:
    source = tmp_path / "m.py"
    source.write_text("def pay(amount):\n    return amount\n")
    checked = Bytecode(tmp_path)
    _pyc(source, source.read_text())
    assert checked.findings() == []
    trojan = _pyc(source, "def pay(amount):\n    return amount * 2\n")
    os.utime(trojan, ns=(1, 1))  # a new stat, so it is compared again
    assert checked.findings() == [
        f"__pycache__/{trojan.name} (its code is not its source's)"]
    source.unlink()
    assert checked.findings() == [f"__pycache__/{trojan.name} (no source beside it)"]


def test_bytecode_of_another_interpreter_or_not_bytecode_is_named(tmp_path: Path) -> None:
    (tmp_path / "__pycache__").mkdir()
    (tmp_path / "__pycache__" / "m.cpython-27.pyc").write_bytes(b"x")
    (tmp_path / "__pycache__" / "notes.txt").write_text("x")
    assert [f.split(" ", 1)[1] for f in Bytecode(tmp_path).findings()] == [
        f"(not this interpreter's ({sys.implementation.cache_tag}))", "(not bytecode)"]


def test_privacy_names_each_exposed_file_with_its_fix(tmp_path: Path) -> None:
    data, keys = tmp_path / "data", tmp_path / "data" / "keys"
    keys.mkdir(parents=True, mode=0o700)
    data.chmod(0o700)
    (keys / "master.key").write_bytes(b"k")
    (keys / "master.key").chmod(0o600)
    private = Private(data_dir=data, keys_dir=keys, master_key=keys / "master.key",
                      database_file=None)
    assert private.problems() == []
    (keys / "master.key").chmod(0o644)
    data.chmod(0o750)
    assert private.problems() == [
        f"the data folder {data} can be read by others (mode drwxr-x---): chmod 700 {data}",
        (f"the key file {keys / 'master.key'} can be read by others (mode -rw-r--r--): "
        f"chmod 600 {keys / 'master.key'}")]
