"""PostgreSQL client programs (pg_dump, pg_restore), run without a password on their
command line.

The programs are looked up on PATH, then in Debian's ``/usr/lib/postgresql/*/bin``;
one whose major version is below the server's is refused (pg_dump cannot dump a
newer server). The connection goes as a libpq conninfo string without the password;
the password goes in a passfile (mode 0600, deleted afterwards) named by
``PGPASSFILE``, so ``ps`` and the process's arguments never show it.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

from sqlalchemy.engine import make_url

from .errors import ToolMissing

DEBIAN_BINARIES = Path("/usr/lib/postgresql")
VERSION_TIMEOUT_S = 10
_VERSION = re.compile(rb"\(PostgreSQL\) (\d+)")


def find_tool(name: str, *, server_major: int) -> str:
    """The path of ``name`` whose major version is at least ``server_major``; the
    version-matched Debian binary when PATH has none that fits."""
    candidates: list[str] = []
    on_path = shutil.which(name)
    if on_path:
        candidates.append(on_path)
    exact = DEBIAN_BINARIES / str(server_major) / "bin" / name
    candidates.append(str(exact))
    if DEBIAN_BINARIES.is_dir():
        for directory in sorted(DEBIAN_BINARIES.iterdir(), key=_major_of_dir):
            candidates.append(str(directory / "bin" / name))
    seen: list[str] = []
    for candidate in candidates:
        if candidate in seen or not os.access(candidate, os.X_OK):
            continue
        seen.append(candidate)
        major = _major(candidate)
        if major is not None and major >= server_major:
            return candidate
    raise ToolMissing(f"{name} for PostgreSQL {server_major} or newer not found (looked on "
                      f"PATH and in {DEBIAN_BINARIES}/*/bin); install postgresql-client-"
                      f"{server_major}")


def _major_of_dir(directory: Path) -> int:
    return int(directory.name) if directory.name.isdigit() else 0


def _major(program: str) -> int | None:
    try:
        out = subprocess.run([program, "--version"], capture_output=True, check=False,
                             timeout=VERSION_TIMEOUT_S, stdin=subprocess.DEVNULL).stdout
    except (OSError, subprocess.TimeoutExpired):
        return None
    match = _VERSION.search(out)
    return int(match.group(1)) if match else None


def conninfo(url: str) -> tuple[str, str | None]:
    """(libpq conninfo without the password, the password) for a SQLAlchemy URL."""
    parsed = make_url(url)
    pairs: dict[str, str] = {}
    if parsed.host:
        pairs["host"] = parsed.host
    if parsed.port:
        pairs["port"] = str(parsed.port)
    if parsed.username:
        pairs["user"] = parsed.username
    if parsed.database:
        pairs["dbname"] = parsed.database
    for key, value in parsed.query.items():
        if key != "password":
            pairs[key] = value if isinstance(value, str) else value[-1]
    password = parsed.password or parsed.query.get("password")
    text = " ".join(f"{key}='{_quote(value)}'" for key, value in pairs.items())
    return text, password if isinstance(password, str) or password is None else password[-1]


def _quote(value: str) -> str:
    return value.replace("\\", "\\\\").replace("'", "\\'")


@contextlib.contextmanager
def client_env(password: str | None) -> Iterator[dict[str, str]]:
    """Environment for a libpq program: no stray PG* settings; a passfile if needed."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
    if password is None:
        yield env
        return
    fd, name = tempfile.mkstemp(prefix="paywarden-pgpass-")
    try:
        escaped = password.replace("\\", "\\\\").replace(":", "\\:")
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(f"*:*:*:*:{escaped}\n")
        os.chmod(name, 0o600)
        env["PGPASSFILE"] = name
        yield env
    finally:
        Path(name).unlink(missing_ok=True)
