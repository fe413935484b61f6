"""Before a command touches anything: settings that parse, and a store that is there.

Every command reaches its settings and its database through ``common`` (which
calls this module), so a bad setting ends in two lines, the problem and the
setting to change, and exit 2, with nothing created: no data folder, no SQLite
file, no master key. What is checked, in order:

    settings     a PAYWARDEN_* value that does not parse or is refused (settings.py)
    data folder  PAYWARDEN_DATA_DIR, or the SQLite file's folder, is a file
    database     not reachable (PostgreSQL), not a database, not made yet or not
                 initialised (unless the command makes it: init, run, restore)
    master key   the keyring holds keys sealed under a master key file that is missing
"""

from __future__ import annotations

from pathlib import Path

from pydantic import ValidationError
from sqlalchemy.engine import make_url

from ..adapters.store.probe import StoreUnreachable, probe_database, sqlite_path
from ..settings import Settings

PROBE_TIMEOUT_S = 5.0
EXIT_UNUSABLE = 2


class Unusable(Exception):
    """The command cannot run as configured: ``problem`` and ``fix``, one line each."""

    def __init__(self, problem: str, fix: str) -> None:
        super().__init__(problem)
        self.problem = problem
        self.fix = fix


def redact(url: str) -> str:
    return make_url(url).render_as_string(hide_password=True)


def load_settings() -> Settings:
    try:
        return Settings()
    except ValidationError as exc:
        raise _unusable_settings(exc) from None


def _unusable_settings(exc: ValidationError) -> Unusable:
    """Names the setting, never its value (it may be a password or the master key)."""
    errors = exc.errors(include_url=False, include_input=False)
    names = [f"PAYWARDEN_{str(e['loc'][0]).upper()}" for e in errors if e["loc"]]
    first = errors[0]
    message = str(first["msg"]).removeprefix("Value error, ")
    name = names[0] if names else "a PAYWARDEN_ setting"
    return Unusable(f"{name} is not usable: {message}",
                    f"change {', '.join(dict.fromkeys(names)) or name} and run the command again")


def check_store(settings: Settings, *, create: bool, keys: bool = True) -> None:
    """Raise :class:`Unusable` unless the command can open this store (``create``: or make
    it) and, with ``keys``, unseal what it holds; looks without writing."""
    setting = "PAYWARDEN_DATABASE_URL" if settings.database_url else "PAYWARDEN_DATA_DIR"
    _check_folder(settings.data_dir.resolve(), "PAYWARDEN_DATA_DIR")
    path = sqlite_path(settings.database)
    if path is not None:
        _check_folder(path.parent, setting)
    where = str(path) if path is not None else redact(settings.database)
    try:
        found = probe_database(settings.database, timeout_s=PROBE_TIMEOUT_S)
    except StoreUnreachable as exc:
        raise Unusable(f"cannot open the database at {where}: {exc.reason}",
                       f"start the database, or set {setting} to one that is reachable"
                       ) from None
    if not found.exists and not create:
        raise Unusable(f"no PayWarden database at {where}",
                       f"run `paywarden init` (or `make run`) to make one, or set {setting} "
                       "to where yours is")
    if found.exists and not found.migrated and not create:
        raise Unusable(f"the database at {where} is not initialised",
                       "run `paywarden init` first")
    if keys and found.keys and settings.master_key is None and not settings.master_key_path.exists():
        raise Unusable(f"the master key file {settings.master_key_path} is missing, and the "
                       f"keyring's {found.keys} keys are sealed under it",
                       "put it back, or set PAYWARDEN_MASTER_KEY_FILE (or "
                       "PAYWARDEN_MASTER_KEY) to it")


def _check_folder(folder: Path, setting: str) -> None:
    """The folder, or its nearest existing parent, must be a folder (it is made later)."""
    for candidate in (folder, *folder.parents):
        if candidate.exists():
            if not candidate.is_dir():
                raise Unusable(f"{candidate} is a file, not a folder",
                               f"set {setting} to a folder (it is made if missing)")
            return


def check_replication(settings: Settings, *, accept_async_loss: bool) -> list[str]:
    """On PostgreSQL, raise :class:`Unusable` if a failover of its cluster could lose
    acknowledged commits (adapters/store/replication.py), unless ``accept_async_loss``;
    then the reasons are returned for the caller to say on every start."""
    if make_url(settings.database).get_backend_name() != "postgresql":
        return []
    from sqlalchemy import create_engine

    from ..adapters.store.replication import ReplicationUnknown, read

    engine = create_engine(settings.database, pool_size=1,
                           connect_args={"connect_timeout": int(PROBE_TIMEOUT_S)})
    try:
        replication = read(engine, settings.patroni)
    except ReplicationUnknown as exc:
        raise Unusable(f"cannot tell whether the PostgreSQL cluster is safe for money: {exc}",
                       "start Patroni, or correct PAYWARDEN_PATRONI_URLS") from None
    finally:
        engine.dispose()
    if replication.safe or accept_async_loss:
        return replication.unsafe
    raise Unusable("the PostgreSQL cluster could lose acknowledged payments on failover: "
                   + "; ".join(replication.unsafe),
                   "make replication synchronous and strict (docs/ha.md), or serve with "
                   "--accept-async-loss (PAYWARDEN_ACCEPT_ASYNC_LOSS=true) knowing that")
