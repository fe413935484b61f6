"""Executors of the risk controls that used to keep a request table each (decision 0042):
a rule's state, a credit-registry entry, a circuit breaker's manual reset.

Each ``check`` validates exactly what the feature's own request validated; each works on
plain rows, so it runs as a :meth:`~.executors.Executor.commit`, in the transaction that
marks the approval executed: the change and the approval commit together or not at all.
The feature rules stay the feature's: a back-test of the version before a rule changes
state (checked at submission and again on approval), one pending reset per breaker, the
registry's reasons, evidence references and expiry.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import Connection

from ...domain.approvals import Kind
from ...domain.errors import DomainError
from ...domain.identity import Principal
from ...domain.registry import Action
from ...domain.risk import RuleState
from ..registry import Registry
from ..risk.breakers import Breakers
from ..risk.store import RuleStore
from .engine import Approvals
from .executors import Approval, Checked, Executor


def _invalid(detail: str) -> DomainError:
    return DomainError("approval_command_invalid", detail)


def _text(params: Mapping[str, Any], key: str) -> str:
    value = params.get(key)
    if not isinstance(value, str) or not value:
        raise _invalid(f"a command names its {key} as text")
    return value


class RiskRuleChange(Executor):
    """A rule's state: params ``{"rule_id", "to_state", "version"}``, the version being
    the one the change was checked against (the change is refused once it moved on)."""

    kind = Kind.RISK_RULE_CHANGE

    def __init__(self, rules: RuleStore) -> None:
        self._rules = rules

    def check(self, params: Mapping[str, Any], submitter: Principal) -> Checked:
        rule_id = _text(params, "rule_id")
        try:
            to_state = RuleState(_text(params, "to_state"))
        except ValueError:
            raise _invalid(f"to_state is one of {', '.join(RuleState)}") from None
        version = self._rules.check_change(rule_id, to_state)
        asked = params.get("version", version)
        if asked != version:
            raise DomainError("risk_request_stale", f"the rules are at version {version}, "
                              f"not {asked}")
        return Checked({"rule_id": rule_id, "to_state": str(to_state), "version": version},
                       f"rule {rule_id} {to_state} (rules version {version})")

    def commit(self, conn: Connection, approval: Approval,
               effect: dict[str, Any] | None) -> dict[str, Any]:
        p = approval.params
        made = self._rules.change_state(conn, version=p["version"], rule_id=p["rule_id"],
                                        to_state=RuleState(p["to_state"]),
                                        actor=approval.decided_by or "", approval_id=approval.id)
        return {"rule_id": p["rule_id"], "state": p["to_state"], "version": made.version}


class RegistryEntry(Executor):
    """A credit-registry change: params ``{"action", "entry_id", "body"}``; the body holds
    digests only (the route hashes identifiers before it submits)."""

    kind = Kind.REGISTRY_ENTRY

    def __init__(self, registry: Registry) -> None:
        self._registry = registry

    def check(self, params: Mapping[str, Any], submitter: Principal) -> Checked:
        try:
            action = Action(_text(params, "action"))
        except ValueError:
            raise _invalid(f"action is one of {', '.join(Action)}") from None
        body, entry_id = params.get("body", {}), params.get("entry_id")
        if not isinstance(body, dict) or not (entry_id is None or isinstance(entry_id, str)):
            raise _invalid("a registry command has a body object and an entry_id or null")
        checked = self._registry.check_request(action, body, entry_id=entry_id)
        return Checked({"action": str(action), "entry_id": entry_id, "body": checked},
                       f"registry {action}" + (f" of {entry_id}" if entry_id else ""))

    def commit(self, conn: Connection, approval: Approval,
               effect: dict[str, Any] | None) -> dict[str, Any]:
        p = approval.params
        written = self._registry.apply(
            conn, Action(p["action"]), p["body"], entry_id=p["entry_id"],
            requested_by=approval.submitted_by, approver=approval.decided_by or "",
            approval_id=approval.id, actor=approval.decided_by or "")
        return {"action": p["action"], "entry_id": written}


class BreakerReset(Executor):
    """Close an open circuit breaker by hand: params ``{"breaker_id", "reason"}``. One
    reset waits per breaker (``breaker_reset_pending``); the engine's inbox is where."""

    kind = Kind.BREAKER_RESET

    def __init__(self, breakers: Breakers, approvals: Approvals) -> None:
        self._breakers = breakers
        self._approvals = approvals

    def check(self, params: Mapping[str, Any], submitter: Principal) -> Checked:
        breaker_id = _text(params, "breaker_id")
        reason = self._breakers.check_reset(breaker_id, params.get("reason"))
        for waiting in self._approvals.list(state="pending", kinds=[Kind.BREAKER_RESET]):
            same = waiting.submitted_by == submitter.id and waiting.params["reason"] == reason
            if waiting.params["breaker_id"] == breaker_id and not same:  # same: a retry
                raise DomainError("breaker_reset_pending", f"a reset of breaker {breaker_id} "
                                  f"awaits approval ({waiting.id})")
        return Checked({"breaker_id": breaker_id, "reason": reason},
                       f"reset breaker {breaker_id}: {reason}")

    def commit(self, conn: Connection, approval: Approval,
               effect: dict[str, Any] | None) -> dict[str, Any]:
        p = approval.params
        closed = self._breakers.reset(conn, p["breaker_id"], actor=approval.decided_by or "",
                                      requested_by=approval.submitted_by,
                                      approval_id=approval.id)
        return {"breaker_id": p["breaker_id"], "state": str(closed.state)}
