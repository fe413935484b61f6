"""The executor of key destruction: a retired key version's secret deleted for good
(decision 0044).

Destruction cannot be undone: whatever the version sealed becomes unreadable and a
signature under it unverifiable by the platform. One security administrator submits
it (``paywarden keys destroy``), another approves it with a passkey.

It runs as an :meth:`~.executors.Executor.effect`: the keyring deletes the secret in
transactions of its own and drops it from its cache. Executed again after a crash, a
version already destroyed answers as done, never as a refusal.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ...domain.approvals import Kind
from ...domain.errors import DomainError
from ...domain.identity import Principal
from ..keys import Keys, store
from ..keys.purposes import DESTROYED, RETIRED
from ..keys.store import KeyVersion
from .executors import Approval, Checked, Executor
from .merchants import both

KID_CHARS_MAX = 64


class KeyDestruction(Executor):
    """Params ``{"kid"}``: the retired version to destroy."""

    kind = Kind.KEY_DESTRUCTION

    def __init__(self, keys: Keys) -> None:
        self._keys = keys

    def check(self, params: Mapping[str, Any], submitter: Principal) -> Checked:
        kid = params.get("kid")
        if not isinstance(kid, str) or not 0 < len(kid) <= KID_CHARS_MAX:
            raise DomainError("approval_command_invalid", "a key destruction names a kid")
        version = self._version(kid)
        if version is None:
            raise DomainError("not_found", f"no key version {kid}")
        if version.state != RETIRED:
            raise DomainError("key_not_usable", f"key {kid} is {version.state}: only a "
                              "retired version can be destroyed")
        return Checked({"kid": kid}, f"destroy retired {version.purpose} key version "
                       f"{version.version} ({kid})")

    def effect(self, approval: Approval) -> dict[str, Any]:
        kid = approval.params["kid"]
        found = self._version(kid)
        if found is not None and found.state == DESTROYED:
            return {"kid": kid, "state": DESTROYED}  # a crash came after the deletion
        done = self._keys.destroy(kid, actor=both(approval))
        return {"kid": done.kid, "state": done.state}

    def _version(self, kid: str) -> KeyVersion | None:
        with self._keys.database.engine.connect() as conn:
            return store.by_kid(conn, kid)
