"""``platform.keys``: the versioned keyring, field encryption, blind indexes, signers.

Every secret lives in ``key_versions`` wrapped by the master key; unwrapped
secrets are kept in this process's memory. The active version of each purpose is
re-read from the database at most every ``cache_s`` seconds, so a rotation made
by another process takes effect here within that window (a retired version is
not destroyed before the window has passed; see :mod:`.rotation`).

The first version of a purpose is created on first use (or by :meth:`Keys.ensure`
at start-up), in its own transaction — except when this thread already holds a
SQLite write transaction: a second one would wait for it, its own caller. Then
the version is created in the caller's unit of work, which holds the write lock
(no other process can create it meanwhile), and is not cached: if the caller
rolls back, the version goes with everything sealed or signed under it, and
nothing in memory still names it. A later read finds it committed and caches it.
"""

from __future__ import annotations

import os
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from joserfc.jwk import OKPKey
from sqlalchemy import Connection
from sqlalchemy.exc import IntegrityError

from ...adapters import crypto
from ...adapters.clock import Clock
from ...adapters.crypto import MasterKey
from ...adapters.store import Database
from .. import audit
from . import jwks as jwks_
from . import rewrap as rewrap_
from . import rotation, store
from .errors import KeyNotUsable, UnknownPurpose
from .purposes import (
    ACTIVE,
    BLIND_INDEX,
    CA,
    DATA,
    DESTROYED,
    PURPOSES,
    SECRET_BYTES,
    SIGNING,
    context,
)
from .signer import Signer
from .store import KeyVersion

NS_PER_S = 1_000_000_000
NS_PER_DAY = 86_400 * NS_PER_S
CREATE_ATTEMPTS_MAX = 10  # racing first creations (PostgreSQL): the loser re-reads the winner's
CREATE_BACKOFF_S = 0.02


@dataclass(frozen=True)
class _Active:
    version: KeyVersion
    secret: bytes
    loaded_ns: int


class Keys:
    def __init__(self, database: Database, *, clock: Clock, master: MasterKey,
                 cryptoperiod_data_days: int, cryptoperiod_signing_days: int,
                 publish_retired_days: int, cache_s: int) -> None:
        self.database = database
        self.clock = clock
        self._master = master
        self.cryptoperiod_ns = {DATA: cryptoperiod_data_days * NS_PER_DAY,
                                **{p: cryptoperiod_signing_days * NS_PER_DAY for p in SIGNING}}
        self.publish_retired_ns = publish_retired_days * NS_PER_DAY
        self.cache_ns = cache_s * NS_PER_S
        self._lock = threading.RLock()
        self._active: dict[str, _Active] = {}
        self._secrets: dict[tuple[str, int], bytes] = {}
        self._signers: dict[tuple[str, int], Signer] = {}
        self._public: dict[str, Ed25519PublicKey] = {}
        self.rewrap_cursor = rewrap_.Cursor()

    def __repr__(self) -> str:
        return f"Keys(master={self._master.key_id!r})"

    @property
    def master(self) -> MasterKey:
        return self._master

    # -- field encryption ------------------------------------------------------------

    def seal(self, plaintext: bytes, *, table: str, column: str, row_id: str | int) -> bytes:
        version, kek = self.current(DATA)
        return crypto.seal(plaintext, kek=kek, kek_version=version.version, table=table,
                           column=column, row_id=row_id)

    def open(self, sealed: bytes, *, table: str, column: str, row_id: str | int) -> bytes:
        return crypto.open_sealed(sealed, kek_for=lambda v: self.secret(DATA, v, use="decrypt"),
                                  table=table, column=column, row_id=row_id)

    def blind_index(self, value: str, *, table: str, column: str) -> str:
        return crypto.blind_index(self.current(BLIND_INDEX)[1], value, table=table,
                                  column=column)

    # -- signing ------------------------------------------------------------------------

    def signer(self, purpose: str) -> Signer:
        if purpose not in SIGNING:
            raise UnknownPurpose(purpose)
        version, secret, committed = self._current(purpose)
        key = (purpose, version.version)
        with self._lock:
            found = self._signers.get(key)
        if found is not None:
            return found
        private = Ed25519PrivateKey.from_private_bytes(secret)

        def check_active() -> None:
            if self.current(purpose)[0].version != version.version:
                raise KeyNotUsable(version.kid, "retired", "sign")

        made = Signer(purpose=purpose, version=version.version, key_id=version.kid,
                      public_key=private.public_key(), _private=private,
                      _check_active=check_active)
        if not committed:
            return made
        with self._lock:
            return self._signers.setdefault(key, made)

    def private_key(self, purpose: str) -> tuple[str, Ed25519PrivateKey]:
        """The active CA key (kid, private key): X.509 signing needs the key object itself.

        Only for the certificate authority (services/certification/authority.py);
        every other purpose signs through :meth:`signer`.
        """
        if purpose != CA:
            raise UnknownPurpose(purpose)
        signer = self.signer(purpose)
        return signer.key_id, signer._private

    def public_key(self, key_id: str) -> Ed25519PublicKey | None:
        """The public key of a signing key, current, retired or destroyed; None if unknown."""
        with self._lock:
            found = self._public.get(key_id)
        if found is not None:
            return found
        with self.database.engine.connect() as conn:
            version = store.by_kid(conn, key_id)
        if version is None or version.public_key is None:
            return None
        key = Ed25519PublicKey.from_public_bytes(version.public_key)
        with self._lock:
            return self._public.setdefault(key_id, key)

    def jwks(self) -> dict[str, Any]:
        """``{"keys": [...]}``: active and recently retired public keys, never the CA's."""
        return jwks_.jwks(self.versions(), now_ns=self.clock.now_ns(),
                          publish_retired_ns=self.publish_retired_ns)

    # -- the keyring ----------------------------------------------------------------------

    def versions(self, purpose: str | None = None) -> list[KeyVersion]:
        with self.database.engine.connect() as conn:
            return store.versions(conn, purpose)

    def ensure(self, purposes: frozenset[str] | set[str] = PURPOSES) -> None:
        """Create the first version of each purpose that has none (idempotent)."""
        for purpose in sorted(purposes):
            self.current(purpose)

    def rotate(self, purpose: str, *, actor: str) -> KeyVersion:
        return rotation.rotate(self, purpose, actor=actor)

    def rotate_due(self, *, actor: str = audit.SYSTEM) -> list[KeyVersion]:
        return rotation.rotate_due(self, actor=actor)

    def destroy(self, key_id: str, *, actor: str) -> KeyVersion:
        return rotation.destroy(self, key_id, actor=actor)

    def rewrap(self, table: str | None = None, column: str | None = None, *,
               batch_size: int = rewrap_.BATCH_SIZE_DEFAULT, actor: str = audit.SYSTEM,
               progress: Callable[[int, int], None] | None = None) -> rewrap_.RewrapReport:
        return rewrap_.rewrap(self, table, column, batch_size=batch_size, actor=actor,
                              progress=progress)

    def rewrap_step(self, limit: int = rewrap_.BATCH_SIZE_DEFAULT) -> int:
        """One bounded slice of the background rewrap; returns the records moved."""
        return rewrap_.step(self, limit=limit)

    # -- secrets and the cache (used by rotation and rewrap) -----------------------------

    def current(self, purpose: str) -> tuple[KeyVersion, bytes]:
        """The active version of ``purpose`` and its secret, created on first use."""
        version, secret, _ = self._current(purpose)
        return version, secret

    def _current(self, purpose: str) -> tuple[KeyVersion, bytes, bool]:
        """:meth:`current`, and whether that version is committed (else: not cached)."""
        if purpose not in PURPOSES:
            raise UnknownPurpose(purpose)
        now = self.clock.now_ns()
        with self._lock:
            hit = self._active.get(purpose)
            if hit is not None and now - hit.loaded_ns < self.cache_ns:
                return hit.version, hit.secret, True
        version, secret, committed = self._load_or_create(purpose)
        if committed:
            self.remember(version, secret, now_ns=now)
        return version, secret, committed

    def remember(self, version: KeyVersion, secret: bytes, *, now_ns: int) -> None:
        with self._lock:
            self._active[version.purpose] = _Active(version, secret, now_ns)
            self._secrets[(version.purpose, version.version)] = secret

    def forget(self, purpose: str, version: int | None = None) -> None:
        with self._lock:
            self._active.pop(purpose, None)
            if version is not None:
                self._secrets.pop((purpose, version), None)
                self._signers.pop((purpose, version), None)

    def secret(self, purpose: str, version: int, *, use: str) -> bytes:
        """The secret of any version that still has one (active or retired)."""
        with self._lock:
            found = self._secrets.get((purpose, version))
        if found is not None:
            return found
        with self.database.engine.connect() as conn:
            row = store.one(conn, purpose, version)
        committed = row is not None
        holder = None if committed else self.database.write_transaction()
        if holder is not None:  # made earlier in the caller's unit of work?
            row = store.one(holder, purpose, version)
        if row is None:
            raise KeyNotUsable(f"{purpose} version {version}", "unknown", use)
        key_version, wrapped = row
        if wrapped is None or key_version.state == DESTROYED:
            raise KeyNotUsable(key_version.kid, DESTROYED, use)
        secret = self.unwrap(key_version, wrapped)
        if committed:
            with self._lock:
                self._secrets[(purpose, version)] = secret
        return secret

    def unwrap(self, version: KeyVersion, wrapped: bytes) -> bytes:
        return self._master.unwrap(wrapped, context=context(version.purpose, version.version))

    def _load_or_create(self, purpose: str) -> tuple[KeyVersion, bytes, bool]:
        """The active version (and whether it is committed), created if there is none."""
        for attempt in range(CREATE_ATTEMPTS_MAX):
            with self.database.engine.connect() as conn:
                found = store.active(conn, purpose)
            if found is not None:
                return found[0], self.unwrap(*found), True
            holder = self.database.write_transaction()
            if holder is not None:
                return (*self._in_callers_transaction(holder, purpose), False)
            try:
                with self.database.engine.begin() as conn:
                    return (*self.create(conn, purpose, now_ns=self.clock.now_ns(),
                                         actor=audit.SYSTEM), True)
            except IntegrityError:
                # Another process created it (unique version / one active per purpose).
                if attempt == CREATE_ATTEMPTS_MAX - 1:
                    raise
                time.sleep(CREATE_BACKOFF_S * (attempt + 1))
        raise AssertionError("unreachable")  # pragma: no cover

    def _in_callers_transaction(self, conn: Connection, purpose: str) -> tuple[KeyVersion, bytes]:
        """The version the caller's transaction made earlier, or a new one in it."""
        found = store.active(conn, purpose)
        if found is not None:
            return found[0], self.unwrap(*found)
        return self.create(conn, purpose, now_ns=self.clock.now_ns(), actor=audit.SYSTEM)

    def create(self, conn: Connection, purpose: str, *, now_ns: int, actor: str,
               previous: KeyVersion | None = None) -> tuple[KeyVersion, bytes]:
        """Insert the next version of ``purpose`` as active, audited, on ``conn``."""
        number = store.last_version(conn, purpose) + 1
        public: bytes | None = None
        if purpose in SIGNING:
            private = Ed25519PrivateKey.generate()
            secret = private.private_bytes_raw()
            public = private.public_key().public_bytes_raw()
            kid = OKPKey.import_key(private.public_key()).thumbprint()
        else:
            secret = os.urandom(SECRET_BYTES)
            kid = f"{purpose}.v{number}.{secrets.token_hex(4)}"
        period = self.cryptoperiod_ns.get(purpose)
        version = KeyVersion(purpose=purpose, version=number, kid=kid, state=ACTIVE,
                             master_key_id=self._master.key_id, public_key=public,
                             created_at=now_ns, retired_at=None, destroyed_at=None,
                             not_after=None if period is None else now_ns + period)
        store.add(conn, version, self._master.wrap(secret, context=context(purpose, number)))
        detail: dict[str, Any] = {"purpose": purpose, "version": number, "kid": kid}
        if previous is not None:
            detail |= {"previous_kid": previous.kid, "previous_version": previous.version}
        audit.record(conn, at_ns=now_ns, actor=actor,
                     action="key.rotate" if previous else "key.create", object_id=kid,
                     detail=detail)
        return version, secret
