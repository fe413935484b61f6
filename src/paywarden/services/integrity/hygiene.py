"""Is the platform's data its own: the data folder and the keys private, the database
file this user's.

Each problem is one line that names the file, what is wrong and the command that
mends it: ``serve`` refuses to start on the first, and the integrity check that runs
while serving finds them too (a key file made world-readable by a careless copy).
"""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass
from pathlib import Path

from ...domain.integrity import private_mode


@dataclass(frozen=True)
class Private:
    """What must be private: the data folder, the key files and the database file."""

    data_dir: Path
    keys_dir: Path
    master_key: Path | None  # None: the master key comes from the environment
    database_file: Path | None  # None: not SQLite

    def problems(self) -> list[str]:
        out = [*_private(self.data_dir, "the data folder", "700"),
               *_private(self.keys_dir, "the keys folder", "700")]
        keys = sorted(p for p in self.keys_dir.iterdir() if p.is_file()) \
            if self.keys_dir.is_dir() else []
        if self.master_key is not None and self.master_key not in keys:
            keys.append(self.master_key)
        for key in keys:
            out += _private(key, "the key file", "600")
        if self.database_file is not None:
            out += _owned(self.database_file)
        return out


def _private(path: Path, what: str, mode: str) -> list[str]:
    try:
        found = path.stat()
    except FileNotFoundError:
        return []
    if private_mode(found.st_mode):
        return []
    return [(f"{what} {path} can be read by others (mode {stat.filemode(found.st_mode)}): "
            f"chmod {mode} {path}")]


def _owned(path: Path) -> list[str]:
    try:
        owner = path.stat().st_uid
    except FileNotFoundError:
        return []
    if owner == os.geteuid():
        return []
    return [(f"the database file {path} belongs to user {owner}, not to this one "
            f"({os.geteuid()}): run PayWarden as its owner, or chown it")]


def running_as_root() -> bool:
    return os.geteuid() == 0
