"""Versioned rule sets, and the two rules that keep a rule change honest.

A rule is an expression over the features (compiled by services/risk/rules.py, in the
``rule-engine`` language, never ``eval``), the action it proposes when it matches, the
reason it gives, and its state: ``active`` rules act; ``shadow`` rules are evaluated and
recorded, never acted on.

1. **New or changed rules start in shadow.** A new version may add a rule, or change a
   rule's expression or action, only in ``shadow`` (:func:`check_successor`); so every
   change is first seen against real traffic before it can decline anyone.
2. **Enabling needs two staff members.** Moving a rule to ``active`` is a four-eyes
   command of the approval engine (kind ``risk_rule_change``, decisions 0041 and 0042).
"""

from __future__ import annotations

import enum
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from ..errors import DomainError
from .verdict import Decision

RULE_ID = re.compile(r"^[a-z][a-z0-9_]{0,47}$")
EXPRESSION_CHARS_MAX = 1_000
RULES_MAX = 200


class RuleState(enum.StrEnum):
    ACTIVE = "active"
    SHADOW = "shadow"


@dataclass(frozen=True)
class Rule:
    id: str
    expression: str
    action: Decision
    reason: str
    state: RuleState = RuleState.SHADOW

    def __post_init__(self) -> None:
        if not RULE_ID.match(self.id):
            raise DomainError("risk_rule_invalid", f"rule id {self.id!r} is not an identifier")
        if not 0 < len(self.expression) <= EXPRESSION_CHARS_MAX:
            raise DomainError("risk_rule_invalid", f"rule {self.id}: the expression is 1 to "
                              f"{EXPRESSION_CHARS_MAX} characters")
        if self.action is Decision.ALLOW:
            raise DomainError("risk_rule_invalid", f"rule {self.id}: a rule proposes "
                              "step_up, review or decline; allow is what no rule says")
        if not RULE_ID.match(self.reason):
            raise DomainError("risk_rule_invalid", f"rule {self.id}: the reason is a code")

    def public(self) -> dict[str, Any]:
        return {"id": self.id, "expression": self.expression, "action": str(self.action),
                "reason": self.reason, "state": str(self.state)}

    @classmethod
    def of(cls, data: dict[str, Any]) -> Rule:
        try:
            return cls(data["id"], data["expression"], Decision(data["action"]),
                       data["reason"], RuleState(data.get("state", "shadow")))
        except (KeyError, ValueError, TypeError) as exc:
            raise DomainError("risk_rule_invalid", f"a rule is malformed: {exc}") from None


@dataclass(frozen=True)
class RuleSet:
    version: int
    rules: tuple[Rule, ...]

    def __post_init__(self) -> None:
        if len(self.rules) > RULES_MAX:
            raise DomainError("risk_rule_invalid", f"more than {RULES_MAX} rules")
        ids = [r.id for r in self.rules]
        if len(ids) != len(set(ids)):
            raise DomainError("risk_rule_invalid", "a rule id appears twice")

    def get(self, rule_id: str) -> Rule:
        for rule in self.rules:
            if rule.id == rule_id:
                return rule
        raise DomainError("not_found", f"no rule {rule_id} in version {self.version}")

    def canonical(self) -> str:
        return json.dumps([r.public() for r in self.rules], sort_keys=True,
                          separators=(",", ":"))

    def with_state(self, rule_id: str, state: RuleState) -> RuleSet:
        """The next version, with ``rule_id`` in ``state`` and nothing else changed."""
        old = self.get(rule_id)
        rules = tuple(Rule(r.id, r.expression, r.action, r.reason, state) if r is old else r
                      for r in self.rules)
        return RuleSet(self.version + 1, rules)


def check_successor(current: RuleSet | None, rules: Sequence[Rule]) -> None:
    """Refuse a new version that adds or changes a rule straight into ``active``."""
    before = {r.id: r for r in current.rules} if current is not None else {}
    for rule in rules:
        was = before.get(rule.id)
        changed = was is None or (was.expression, was.action) != (rule.expression, rule.action)
        if rule.state is RuleState.ACTIVE and (changed or was is None
                                               or was.state is not RuleState.ACTIVE):
            raise DomainError("risk_rule_not_shadow", f"rule {rule.id} is new, changed or "
                              "inactive: it starts in shadow; enabling it needs a request "
                              "and a second staff member's approval")
