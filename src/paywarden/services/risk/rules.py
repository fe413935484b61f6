"""Rules compiled in the ``rule-engine`` expression language, and only its harmless part.

An expression may name features, compare them, do arithmetic and logic, test membership
in a literal list, and choose with ``?:``. It may not call a function (``$abs(x)``), reach
an attribute or an item (``amount.to_str``, ``x[0]``), name a built-in symbol (``$now``),
match a regular expression (``=~``: a catastrophic pattern is a denial of service), or
loop (comprehensions). These are refused **at load**, by walking the parsed expression
against an allow-list of node types, and every symbol must be a feature the engine's
providers declare, with its type: a typo is refused at load, not ignored in production.
"""

from __future__ import annotations

import decimal
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import rule_engine
from rule_engine import ast

from ...domain.errors import DomainError
from ...domain.risk import Decision, Features, Proposal, Rule, RuleSet, RuleState
from .closures import Node, bind, compile_node, symbols

_ALLOWED = (
    ast.LogicExpression, ast.UnaryExpression, ast.ComparisonExpression,
    ast.ArithmeticComparisonExpression, ast.ArithmeticExpression, ast.AddExpression,
    ast.SubtractExpression, ast.TernaryExpression, ast.ContainsExpression,
    ast.ArrayExpression, ast.SetExpression, ast.BooleanExpression, ast.FloatExpression,
    ast.StringExpression, ast.NullExpression, ast.SymbolExpression,
)
_CHILDREN = ("left", "right", "condition", "case_true", "case_false", "container", "member",
             "expression", "value")
_TYPES = {"number": rule_engine.DataType.FLOAT, "boolean": rule_engine.DataType.BOOLEAN,
          "string": rule_engine.DataType.STRING}
# The Python type of each kind once coerced as rule-engine coerces it (numbers: Decimal).
_PYTHON = {"number": decimal.Decimal, "boolean": bool, "string": str}


def _children(node: Any) -> Iterator[Any]:
    for name in _CHILDREN:
        child = getattr(node, name, None)
        if isinstance(child, ast.ExpressionBase):
            yield child
        elif isinstance(child, tuple):
            yield from (c for c in child if isinstance(c, ast.ExpressionBase))


def _check(node: Any, rule_id: str) -> None:
    if type(node) not in _ALLOWED:
        raise DomainError("risk_rule_invalid", f"rule {rule_id}: {type(node).__name__} is "
                          "not allowed (no calls, attributes, items, regexes or loops)")
    if isinstance(node, ast.SymbolExpression) and node.scope is not None:
        raise DomainError("risk_rule_invalid", f"rule {rule_id}: built-in ${node.name} is "
                          "not allowed")
    for child in _children(node):
        _check(child, rule_id)


@dataclass(frozen=True)
class Compiled:
    """A rule as parsed and checked by rule-engine (``matcher``, the reference) and as it
    runs (``test``: services/risk/closures.py's translation of the same tree)."""

    rule: Rule
    matcher: rule_engine.Rule
    test: Node
    names: frozenset[str]


def compile_rule(rule: Rule, catalogue: Mapping[str, str]) -> Compiled:
    """``rule`` parsed against the features in ``catalogue`` (name → number | boolean |
    string), or ``risk_rule_invalid``."""
    context = rule_engine.Context(
        type_resolver=rule_engine.type_resolver_from_dict(
            {name: _TYPES[kind] for name, kind in catalogue.items()}),
        default_timezone="UTC")
    try:
        matcher = rule_engine.Rule(rule.expression, context=context)
    except rule_engine.errors.EngineError as exc:
        raise DomainError("risk_rule_invalid", f"rule {rule.id}: "
                          f"{type(exc).__name__}: {exc}"[:300]) from None
    tree = matcher.statement.expression
    _check(tree, rule.id)
    types = {name: _PYTHON[kind] for name, kind in catalogue.items()}
    return Compiled(rule, matcher, compile_node(tree, types), symbols(tree))


@dataclass(frozen=True)
class CompiledSet:
    version: int
    rules: tuple[Compiled, ...]
    names: frozenset[str] = field(init=False)
    # rule-engine evaluates in the decimal context of the thread that made its Context;
    # the closures run in the same one, whichever thread screens.
    _decimals: decimal.Context = field(init=False, repr=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "names", frozenset().union(*(c.names for c in self.rules)))
        object.__setattr__(self, "_decimals", decimal.Context())

    def bound(self, features: Features) -> dict[str, Any]:
        """The features the rules read, coerced once for every rule."""
        return bind(features, self.names)

    def matches(self, compiled: Compiled, values: Mapping[str, Any]) -> bool:
        """One rule on :meth:`bound` values; rule-engine's errors when it cannot be
        evaluated (a missing feature, a type mismatch, a division by zero)."""
        with decimal.localcontext(self._decimals):
            return bool(compiled.test(values))

    def evaluate(self, features: Features) -> tuple[list[Proposal], list[str]]:
        """The active rules' proposals and the ids of the shadow rules that matched."""
        proposals: list[Proposal] = []
        shadow: list[str] = []
        values = self.bound(features)
        with decimal.localcontext(self._decimals):
            hits = [bool(c.test(values)) for c in self.rules]
        for c, hit in zip(self.rules, hits):
            if not hit:
                continue
            if c.rule.state is RuleState.ACTIVE:
                proposals.append(Proposal(c.rule.action, c.rule.reason))
            else:
                shadow.append(c.rule.id)
        return proposals, shadow


def compile_set(rule_set: RuleSet, catalogue: Mapping[str, str]) -> CompiledSet:
    return CompiledSet(rule_set.version,
                       tuple(compile_rule(r, catalogue) for r in rule_set.rules))


def _r(rule_id: str, expression: str, action: Decision, reason: str) -> Rule:
    return Rule(rule_id, expression, action, reason, RuleState.ACTIVE)


DAY_S = 86_400
# The shipped first version, reviewed with the code: active from the start (a published
# change to it goes through shadow and a second staff member, services/risk/store.py).
# Money that stays the customer's (between their own accounts, into their wallet) is
# screened and recorded, and counts towards velocity, but no built-in rule stops it: it
# has no step-up to give, and moving one's own money often is not a sign of fraud.
STAFF_MOVES_24H_MAX = 30  # a staff member's screened moves in a day before a second look
THEIRS = "theirs"  # Basics' feature: kind is neither own nor top_up (one symbol, not two)
BUILT_IN: Sequence[Rule] = (
    _r("velocity_customer", f"{THEIRS} and velocity_customer_1m >= 10", Decision.REVIEW,
       "velocity_customer"),
    _r("velocity_payee", f"{THEIRS} and velocity_payee_1h >= 10", Decision.REVIEW,
       "velocity_payee"),
    _r("takeover", f"{THEIRS} and new_device and payee_age_s < {DAY_S} "
       "and amount_ratio_90d >= 3", Decision.REVIEW, "takeover_pattern"),
    _r("large_on_new_device", f"{THEIRS} and new_device and amount_ratio_90d >= 5",
       Decision.STEP_UP, "large_on_new_device"),
    _r("cooling_payee_large", f"{THEIRS} and payee_cooling and amount_ratio_90d >= 2",
       Decision.STEP_UP, "cooling_payee_large"),
    _r("new_account_large", f"{THEIRS} and account_age_s < {DAY_S} "
       "and amount_minor >= 100000", Decision.STEP_UP, "new_account_large"),
    # The providers of services/risk/providers (decision 0035): a registry or sanctions
    # hit is a reason for an analyst, never a decline by itself; an open breaker's action
    # is the breaker policy's (decision 0032).
    _r("registry_hit", f"{THEIRS} and registry_hit", Decision.REVIEW, "registry_hit"),
    _r("sanctions_hit", f"{THEIRS} and sanctions_hit", Decision.REVIEW, "sanctions_hit"),
    _r("breaker_review", f'{THEIRS} and breaker_action == "review"', Decision.REVIEW,
       "breaker_open"),
    _r("breaker_decline", f'{THEIRS} and breaker_action == "decline"', Decision.DECLINE,
       "breaker_open"),
    _r("mule_chain", f"{THEIRS} and chain_depth >= 2", Decision.REVIEW, "mule_chain"),
    _r("shared_device", f"{THEIRS} and device_customers >= 5 and not payee_known",
       Decision.STEP_UP, "shared_device"),
    _r("merchant_disputes", f"{THEIRS} and merchant_payments_30d >= 50 "
       "and merchant_dispute_rate_30d >= 0.05", Decision.REVIEW, "merchant_disputes"),
    # A staff member's moves (dispute decisions) are the subject's velocity: an unusual
    # day's worth waits for a second person (decision 0040).
    _r("staff_volume", f'kind == "staff" and velocity_customer_24h >= {STAFF_MOVES_24H_MAX}',
       Decision.REVIEW, "staff_move_volume"),
)
