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
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        data = path.read_bytes()
        if len(data) != SECRET_BYTES:
            raise ValueError(f"secret file {path} is damaged: expected {SECRET_BYTES} bytes") from None
        return data
    data = secrets.token_bytes(SECRET_BYTES)
    with os.fdopen(fd, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())
    return data
