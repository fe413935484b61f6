"""Why a backup or a restore was refused: one named error per reason.

::

    BackupError                      every refusal; ``code`` is stable, ``str()`` is for people
    ├── ToolMissing                  pg_dump / pg_restore not found for the server's version
    ├── SnapshotFailed               the database could not be snapshotted (pg_dump failed, ...)
    ├── FormatInvalid                "backup format invalid": magic, version, layout, truncation
    ├── SignatureInvalid             "backup signature invalid"
    ├── SignerUntrusted              the signing key is not one this restore may trust
    ├── KeyUnwrapFailed              this platform's master key does not unwrap the data key
    ├── DigestMismatch               "payload digest mismatch" (SHA-256 of the ciphertext)
    ├── PayloadInvalid               "payload authentication failed" (GCM tag) or bad size
    ├── TargetNotEmpty               the target database holds data and --force was not given
    ├── TargetBusy                   the SQLite target is open in another process
    ├── RestoredDatabaseInvalid      "restored database fails verify: ..." (nothing kept)
    └── PitrError                    a base backup or a point-in-time restore failed (pitr.py)

Messages name files, ids and checks; never a key, a password or a row's data.
"""

from __future__ import annotations


class BackupError(Exception):
    code = "backup_error"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class ToolMissing(BackupError):
    code = "tool_missing"


class SnapshotFailed(BackupError):
    code = "snapshot_failed"


class FormatInvalid(BackupError):
    code = "format_invalid"

    def __init__(self, detail: str) -> None:
        super().__init__(f"backup format invalid: {detail}")


class SignatureInvalid(BackupError):
    code = "signature_invalid"

    def __init__(self, detail: str) -> None:
        super().__init__(f"backup signature invalid: {detail}")


class SignerUntrusted(BackupError):
    code = "signer_untrusted"


class KeyUnwrapFailed(BackupError):
    code = "key_unwrap_failed"


class DigestMismatch(BackupError):
    code = "digest_mismatch"

    def __init__(self, detail: str) -> None:
        super().__init__(f"payload digest mismatch: {detail}")


class PayloadInvalid(BackupError):
    code = "payload_invalid"

    def __init__(self, detail: str) -> None:
        super().__init__(f"payload authentication failed: {detail}")


class TargetNotEmpty(BackupError):
    code = "target_not_empty"


class TargetBusy(BackupError):
    code = "target_busy"


class RestoredDatabaseInvalid(BackupError):
    code = "restored_database_invalid"

    def __init__(self, problems: list[str]) -> None:
        shown = "; ".join(problems[:10]) + (f"; and {len(problems) - 10} more"
                                            if len(problems) > 10 else "")
        super().__init__(f"restored database fails verify: {shown}")
        self.problems = problems


class PitrError(BackupError):
    code = "pitr_failed"
