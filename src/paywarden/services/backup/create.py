"""``paywarden backup``: snapshot, seal, sign, write, record.

Order matters: a tree head is signed first, so the snapshot holds a signed head
that covers (nearly) everything in it; the counts and the head are read inside
the snapshot; they are bound into the GCM associated data before a byte is
encrypted; the manifest is signed once the payload's digest and tag are known;
the audit entry is written last, in the live database, once the file is durable.
"""

from __future__ import annotations

import contextlib
import secrets
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ... import __version__
from ...adapters.clock import Clock
from ...adapters.store import Database
from ...domain.timestamps import rfc3339
from ..audit.tree_heads import TreeHeads
from ..keys import Keys
from . import auditing
from .archive import header_bytes, temp_path, write_archive
from .errors import BackupError
from .manifest import Manifest, b64
from .payload import DATA_KEY_BYTES, NONCE_BYTES, seal
from .snapshot import Snapshot, postgres_snapshot, sqlite_snapshot
from .trust import b64url

SIGNING_PURPOSE = "backups"
# (phase, done, total or None): phases "snapshot" (pages), "encrypt" and "write" (bytes)
Progress = Callable[[str, int, int | None], None]


@dataclass(frozen=True)
class BackupResult:
    path: Path
    manifest: Manifest

    def as_json(self) -> dict[str, Any]:
        return {"path": str(self.path), "backup_id": self.manifest.backup_id,
                "tree_size": self.manifest.tree_size, "rows": self.manifest.rows}




def new_backup_id() -> str:
    return "bak_" + secrets.token_hex(12)


def create_backup(database: Database, out: Path, *, clock: Clock, keys: Keys,
                  tree_heads: TreeHeads, actor: str,
                  progress: Progress | None = None) -> BackupResult:
    out = out.absolute()
    if out.exists():
        raise BackupError(f"{out} exists: a backup never overwrites a file")
    if not out.parent.is_dir():
        raise BackupError(f"{out.parent} is not a directory")
    tree_heads.sign_now()
    backup_id = new_backup_id()
    data_key = secrets.token_bytes(DATA_KEY_BYTES)
    master = keys.master
    signer = keys.signer(SIGNING_PURPOSE)
    payload = temp_path(out, "payload")
    try:
        with _snapshot(database, out, progress) as snap:
            manifest = Manifest(
                backup_id=backup_id, created_at=rfc3339(clock.now_ns()),
                database=database.dialect, platform_version=__version__,
                tree_head=snap.tree_head, rows=snap.rows,
                nonce=b64(secrets.token_bytes(NONCE_BYTES)),
                wrapped_key=b64(master.wrap(data_key, context=b"backup:" + backup_id.encode())),
                master_key_id=master.key_id, signing_kid=signer.key_id,
                signing_public_key=b64url(_raw_public(signer.public_key)))
            with open(payload, "wb") as f:
                sealed = seal(snap.chunks, f, key=data_key, nonce=manifest.nonce_bytes,
                              aad=manifest.aad(), progress=_bytes(progress, "encrypt",
                                                                  snap.size_hint))
        manifest = manifest.sealed(snapshot_size=sealed.snapshot_size,
                                   payload_size=sealed.payload_size,
                                   payload_sha256=sealed.sha256, tag=sealed.tag)
        signed = manifest.canonical()
        write_archive(out, header_bytes(signed, signer.sign(signed)), payload,
                      progress=_bytes(progress, "write", sealed.payload_size))
    finally:
        payload.unlink(missing_ok=True)
    auditing.record(database, at_ns=clock.now_ns(), actor=actor,
                    action="backup.created", object_id=backup_id,
                    detail={"backup_id": backup_id, "tree_size": manifest.tree_size,
                            "sha256": manifest.payload_sha256})
    return BackupResult(path=out, manifest=manifest)


@contextlib.contextmanager
def _snapshot(database: Database, out: Path, progress: Progress | None) -> Iterator[Snapshot]:
    if database.dialect == "sqlite":
        pages = None if progress is None else (
            lambda done, total: progress("snapshot", done, total))
        with sqlite_snapshot(database, near=out, progress=pages) as snap:
            yield snap
    else:
        with postgres_snapshot(database) as snap:
            yield snap


def _bytes(progress: Progress | None, phase: str,
           total: int | None) -> Callable[[int], None] | None:
    if progress is None:
        return None
    done = 0

    def advance(n: int) -> None:
        nonlocal done
        done += n
        progress(phase, done, total)
    return advance


def _raw_public(key: Any) -> bytes:
    from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

    if isinstance(key, bytes):
        return key
    return bytes(key.public_bytes(Encoding.Raw, PublicFormat.Raw))
