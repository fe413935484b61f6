"""Enforcing the access policy: every refusal is logged and recorded with who, what, why."""

from __future__ import annotations

import structlog

from ..adapters.clock import Clock
from ..adapters.store import Database
from ..domain.errors import DomainError
from ..domain.identity import Access, Principal, Resource, decide
from . import audit

log = structlog.get_logger(__name__)


class AccessDenied(DomainError):
    """Refused by the policy. ``status`` is 403, or 404 to hide another's object."""

    def __init__(self, status: int, detail: str) -> None:
        super().__init__("not_found" if status == 404 else "forbidden", detail)
        self.status = status


class Guard:
    def __init__(self, database: Database, *, clock: Clock) -> None:
        self._database = database
        self._clock = clock

    def authorize(self, principal: Principal, resource: Resource, access: Access, *,
                  owner: str | None = None, object_id: str = "") -> None:
        """Return if allowed; otherwise record the refusal and raise :class:`AccessDenied`."""
        decision = decide(principal, resource, access, owner=owner)
        if decision.allowed:
            return
        what = f"{access.name.lower()} {resource}" + (f" {object_id}" if object_id else "")
        log.warning("access_denied", actor=principal.actor, kind=principal.kind.value,
                    what=what, why=decision.reason)
        with self._database.engine.begin() as conn:
            audit.record(conn, at_ns=self._clock.now_ns(), actor=principal.actor,
                         action="access.denied", object_id=object_id or str(resource),
                         outcome="denied",
                         detail={"resource": str(resource), "access": access.name.lower(),
                                 "reason": decision.reason})
        if decision.status == 404:
            raise AccessDenied(404, "no such object")
        raise AccessDenied(403, f"not allowed: {what}")
