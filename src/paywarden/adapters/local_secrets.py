"""Server-side secret keys kept as files in the data directory (0600).

Issue 4 moves these behind the keyring; until then each is 32 random bytes,
created on first use and never logged.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

SECRET_BYTES = 32


def load_or_create(path: Path) -> bytes:
    """The 32 bytes in ``path``; created (0600, random) when missing. The new file is
    written and synced under a temporary name, then linked into place, so a process
    racing this one reads either nothing or the whole key, never a short file."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)  # serve refuses a looser one
    if not path.exists():
        _create(path)
    data = path.read_bytes()
    if len(data) != SECRET_BYTES:
        raise ValueError(f"secret file {path} is damaged: expected {SECRET_BYTES} bytes")
    return data


def _create(path: Path) -> None:
    temporary = path.with_name(f".{path.name}.{secrets.token_hex(8)}.tmp")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(secrets.token_bytes(SECRET_BYTES))
            f.flush()
            os.fsync(f.fileno())
        try:
            os.link(temporary, path)  # fails if another process got there first: use theirs
        except FileExistsError:
            pass
    finally:
        temporary.unlink(missing_ok=True)
