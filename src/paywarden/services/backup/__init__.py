"""Backup and restore: consistent online snapshots, encrypted, signed, verified on restore.

``snapshot`` (SQLite backup API, pg_dump on an exported snapshot), ``payload``
(gzip + AES-256-GCM streams), ``manifest`` (what a backup holds, canonical JSON),
``archive`` (the file layout, durable writes), ``trust`` (whose signature counts),
``checks`` (what a restored database must pass), ``create`` and ``restore`` (the
two commands), ``service`` (:class:`Backups`, the two wired to the platform's parts),
``errors`` (one named error per refusal).
"""

from .create import BackupResult, create_backup
from .errors import (
    BackupError,
    DigestMismatch,
    FormatInvalid,
    KeyUnwrapFailed,
    PayloadInvalid,
    RestoredDatabaseInvalid,
    SignatureInvalid,
    SignerUntrusted,
    SnapshotFailed,
    TargetBusy,
    TargetNotEmpty,
    ToolMissing,
)
from .restore import RestoreResult, restore_backup
from .service import Backups
from .trust import load_jwks

__all__ = [
    "BackupError",
    "BackupResult",
    "Backups",
    "DigestMismatch",
    "FormatInvalid",
    "KeyUnwrapFailed",
    "PayloadInvalid",
    "RestoreResult",
    "RestoredDatabaseInvalid",
    "SignatureInvalid",
    "SignerUntrusted",
    "SnapshotFailed",
    "TargetBusy",
    "TargetNotEmpty",
    "ToolMissing",
    "create_backup",
    "load_jwks",
    "restore_backup",
]
