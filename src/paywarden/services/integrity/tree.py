"""The installed package's files as they are on disk: their SHA-256, and their bytecode.

Every file but ``__pycache__`` is hashed. A ``.pyc`` cannot be in the manifest (its
header holds the source's time of installation), yet Python runs it in place of its
source when the header matches: a planted one is a trojan the hashes would miss. So
each one is read as Python would and its code compared with the code its source
compiles to (code objects compare by their instructions, constants and names); one
that is not its source's, or has no source, is a finding. A ``.pyc`` is compared
again only when its size or time changes (:class:`Bytecode`).
"""

from __future__ import annotations

import hashlib
import importlib.util
import marshal
import os
import sys
from dataclasses import dataclass, field
from pathlib import Path

CACHE_DIR = "__pycache__"
HEADER_BYTES = 16  # magic, flags, then mtime+size or the source's hash (PEP 552)
OPTIMIZE_LEVELS = {"": 0, "opt-1": 1, "opt-2": 2}


def hash_tree(root: Path) -> dict[str, str]:
    """Every file under ``root`` outside ``__pycache__``: relative path → SHA-256 (hex).

    A symbolic link is named by where it points, never followed: a release has none,
    and a linked folder would be importable yet never walked.
    """
    found: dict[str, str] = {}
    for folder, dirs, files in os.walk(root):
        dirs[:] = sorted(d for d in dirs if d != CACHE_DIR)
        for name in [d for d in dirs if Path(folder, d).is_symlink()] + files:
            path = Path(folder, name)
            if path.is_symlink():
                found[path.relative_to(root).as_posix()] = f"symlink:{os.readlink(path)}"
                continue
            digest = hashlib.sha256()
            with path.open("rb") as f:
                for block in iter(lambda: f.read(1 << 16), b""):
                    digest.update(block)
            found[path.relative_to(root).as_posix()] = digest.hexdigest()
    return found


@dataclass
class Bytecode:
    """Compares each ``.pyc`` under a root with its source; compares again only when the
    ``.pyc`` or its source changed since (their size, time and inode)."""

    root: Path
    _seen: dict[Path, tuple[object, str | None]] = field(default_factory=dict)

    def findings(self) -> list[str]:
        """Relative paths of the ``.pyc`` files that are not their source's, with why."""
        bad: list[str] = []
        present: set[Path] = set()
        for path in sorted(self.root.rglob(f"{CACHE_DIR}/*")):
            present.add(path)
            key = (_identity(path), _identity(_source(path)))
            seen = self._seen.get(path)
            if seen is None or seen[0] != key:
                seen = (key, _problem(path))
                self._seen[path] = seen
            if seen[1] is not None:
                bad.append(f"{path.relative_to(self.root).as_posix()} ({seen[1]})")
        for gone in self._seen.keys() - present:
            del self._seen[gone]
        return bad


def _identity(path: Path) -> tuple[int, int, int] | None:
    try:
        found = path.stat()
    except FileNotFoundError:
        return None
    return found.st_size, found.st_mtime_ns, found.st_ino


def _source(path: Path) -> Path:
    """Where the source of ``__pycache__/name.tag[.opt-N].pyc`` is: beside the folder."""
    return path.parent.parent / f"{path.name.split('.', 1)[0]}.py"


def _problem(path: Path) -> str | None:
    """Why Python must not run ``path``; None when it is its source's bytecode."""
    if path.is_dir() or path.suffix != ".pyc":
        return "not bytecode"
    parts = path.name.removesuffix(".pyc").split(".")
    tag = sys.implementation.cache_tag
    if len(parts) not in (2, 3) or parts[1] != tag or (
            len(parts) == 3 and parts[2] not in OPTIMIZE_LEVELS):
        return f"not this interpreter's ({tag})"
    source = _source(path)
    if not source.is_file():
        return "no source beside it"
    data = path.read_bytes()
    if data[:4] != importlib.util.MAGIC_NUMBER or len(data) < HEADER_BYTES:
        return "not bytecode of this interpreter"
    try:
        code = marshal.loads(data[HEADER_BYTES:])
        fresh = compile(source.read_bytes(), str(source), "exec", dont_inherit=True,
                        optimize=OPTIMIZE_LEVELS[parts[2] if len(parts) == 3 else ""])
    except (ValueError, EOFError, TypeError, SyntaxError):
        return "unreadable"
    return None if code == fresh else "its code is not its source's"
