"""Rotation, cryptoperiods and destruction of key versions; every change audited.

``rotate`` retires the active version (it keeps decrypting and verifying, never
encrypts or signs again) and starts the next one, in one transaction.
``destroy`` deletes a retired version's secret: for ``data`` only once no
declared sealed column holds a record under it and it has been retired longer
than the keyring's cache window (no process can still be encrypting with it).
``blind_index`` never rotates: the indexes would all have to be recomputed from
the plaintexts, which this module does not do (a known limit).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ...domain.errors import InvariantViolation
from .. import audit
from . import rewrap as rewrap_
from . import store
from .errors import KeyInUse, KeyNotUsable, RotationRefused, UnknownPurpose
from .purposes import AGE_ROTATED, DATA, PURPOSES, RETIRED, ROTATABLE
from .store import KeyVersion

if TYPE_CHECKING:
    from .keyring import Keys


def rotate(keys: Keys, purpose: str, *, actor: str) -> KeyVersion:
    if purpose not in PURPOSES:
        raise UnknownPurpose(purpose)
    if purpose not in ROTATABLE:  # blind_index, registry_index
        raise RotationRefused(purpose, "every index under it would need recomputing; "
                                       "this key has one version")
    keys.current(purpose)  # the first version, if there is none yet
    now = keys.clock.now_ns()
    with keys.database.engine.begin() as conn:
        found = store.active(conn, purpose)
        if found is None or not store.retire(conn, purpose, found[0].version, now_ns=now):
            raise RotationRefused(purpose, "another rotation changed the active version")
        old = found[0]
        audit.record(conn, at_ns=now, actor=actor, action="key.retire", object_id=old.kid,
                     detail={"purpose": purpose, "version": old.version, "kid": old.kid})
        new, secret = keys.create(conn, purpose, now_ns=now, actor=actor, previous=old)
    keys.forget(purpose)
    keys.remember(new, secret, now_ns=now)
    return new


def due_at(keys: Keys, version: KeyVersion) -> int | None:
    """When its cryptoperiod ends: the one stored at creation or today's setting, the
    shorter; None for a purpose that never rotates by age."""
    period = keys.cryptoperiod_ns.get(version.purpose)
    if period is None:
        return None
    ends = version.created_at + period
    return ends if version.not_after is None else min(ends, version.not_after)


def is_due(keys: Keys, version: KeyVersion, *, now_ns: int) -> bool:
    """Past its cryptoperiod (:func:`due_at`)."""
    ends = due_at(keys, version)
    return ends is not None and now_ns >= ends


def rotate_due(keys: Keys, *, actor: str) -> list[KeyVersion]:
    """Rotate every active version past its cryptoperiod, but the clearing key (see
    ``AGE_ROTATED``); the new versions."""
    now = keys.clock.now_ns()
    due = [v for v in keys.versions() if v.state == "active" and v.purpose in AGE_ROTATED
           and is_due(keys, v, now_ns=now)]
    return [rotate(keys, v.purpose, actor=actor) for v in due]


def destroy(keys: Keys, kid: str, *, actor: str) -> KeyVersion:
    with keys.database.engine.connect() as conn:
        version = store.by_kid(conn, kid)
    if version is None:
        raise KeyNotUsable(kid, "unknown", "be destroyed")
    if version.state != RETIRED or version.retired_at is None:
        raise KeyNotUsable(kid, version.state, "be destroyed (only a retired key can)")
    now = keys.clock.now_ns()
    if version.purpose == DATA:
        if now - version.retired_at < keys.cache_ns:
            raise KeyNotUsable(kid, "recently retired", "be destroyed yet (another process "
                               "may still encrypt with it until its cache expires)")
        if not rewrap_.sealed_columns():
            # Nothing declared says where records are: unused cannot be proven.
            raise KeyNotUsable(kid, RETIRED, "be destroyed while no sealed column is "
                               "registered (nothing shows it unused)")
        in_use = rewrap_.first_use(keys, version.version)
        if in_use is not None:
            raise KeyInUse(kid, in_use.table, in_use.column)
    with keys.database.engine.begin() as conn:
        if not store.destroy(conn, version.purpose, version.version, now_ns=now):
            raise KeyNotUsable(kid, "no longer retired", "be destroyed")
        audit.record(conn, at_ns=now, actor=actor, action="key.destroy", object_id=kid,
                     detail={"purpose": version.purpose, "version": version.version,
                             "kid": kid})
    keys.forget(version.purpose, version.version)
    with keys.database.engine.connect() as conn:
        after = store.by_kid(conn, kid)
    if after is None:
        raise InvariantViolation(f"key {kid} vanished while being destroyed")
    return after
