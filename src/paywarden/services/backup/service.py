"""``Backups``: :func:`.create.create_backup` and :func:`.restore.restore_backup`, wired.

The composition root (``paywarden.bootstrap``) builds one over the platform's
database, clock, keyring and tree heads, so a command asks for ``platform.backups``
and hands over only what the operator chose: the file, the actor, ``force``.
"""

from __future__ import annotations

from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from ...adapters.clock import Clock
from ...adapters.store import Database
from ..audit.tree_heads import TreeHeads
from ..keys import Keys
from .create import BackupResult, Progress, create_backup
from .restore import RestoreResult, restore_backup


class Backups:
    def __init__(self, database: Database, *, clock: Clock, keys: Keys,
                 tree_heads: TreeHeads) -> None:
        self._database = database
        self._clock = clock
        self._keys = keys
        self._tree_heads = tree_heads

    def create(self, out: Path, *, actor: str, progress: Progress | None = None) -> BackupResult:
        return create_backup(self._database, out, clock=self._clock, keys=self._keys,
                             tree_heads=self._tree_heads, actor=actor, progress=progress)

    def restore(self, file: Path, *, actor: str, force: bool = False,
                jwks: dict[str, Ed25519PublicKey] | None = None,
                progress: Progress | None = None) -> RestoreResult:
        """Into this platform's database (its master key unwraps the backup's data key)."""
        return restore_backup(self._database, file, clock=self._clock, keys=self._keys,
                              actor=actor, force=force, jwks=jwks, progress=progress)
