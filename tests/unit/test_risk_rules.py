"""Risk rules: worst wins, shadow rules never act, a rule that tries to call, reach or loop
is refused at load, and a rule change starts in shadow and needs a second staff member."""

from __future__ import annotations

import pytest

from paywarden.domain.errors import DomainError
from paywarden.domain.risk import (
    Decision,
    Features,
    Proposal,
    Rule,
    RuleSet,
    RuleState,
    Thresholds,
    check_successor,
    combine,
)
from paywarden.services.risk import compile_rule, compile_set

CATALOGUE = {"amount_minor": "number", "new_device": "boolean", "kind": "string"}
FEATURES = Features({"amount_minor": 500, "new_device": True, "kind": "internal"})


def rule(expression: str, action: Decision = Decision.REVIEW,
         state: RuleState = RuleState.ACTIVE, rule_id: str = "r") -> Rule:
    return Rule(rule_id, expression, action, "because", state)


def test_the_worst_proposal_wins_and_keeps_only_the_reasons_at_its_level() -> None:
    verdict = combine([Proposal(Decision.STEP_UP, "a"), Proposal(Decision.REVIEW, "b"),
                       Proposal(Decision.REVIEW, "c")], score=0.99, thresholds=Thresholds(),
                      rules_version=3, model_version="m1")
    assert verdict.decision is Decision.DECLINE
    assert verdict.reasons == ("score>=0.97",)
    assert combine([], score=None, thresholds=Thresholds(), rules_version=1,
                   model_version=None).decision is Decision.ALLOW


@pytest.mark.parametrize("expression", [
    "$abs(amount_minor) > 1",  # a function call
    "kind.to_str == 'x'",  # an attribute
    "kind[0] == 'i'",  # an item
    "kind =~ 'i.*'",  # a regular expression
    "$now != null",  # a built-in symbol
    "[x for x in [1, 2] if x > 1] != []",  # a loop
    "unknown_feature > 1",  # not a declared feature
    "amount_minor > 'text'",  # a type error
    "__import__('os')",  # not even an expression of the language
])
def test_a_rule_that_calls_reaches_loops_or_names_no_feature_is_refused_at_load(
        expression: str) -> None:
    with pytest.raises(DomainError) as refused:
        compile_rule(rule(expression), CATALOGUE)
    assert refused.value.code == "risk_rule_invalid"


def test_a_plain_comparison_over_features_compiles_and_matches() -> None:
    compiled = compile_rule(rule("new_device and amount_minor >= 500 and kind in "
                                 "['internal', 'external']"), CATALOGUE)
    assert compiled.matcher.matches(FEATURES)


def test_shadow_rules_match_and_are_named_but_never_propose() -> None:
    rules = RuleSet(1, (rule("amount_minor > 0", Decision.DECLINE, RuleState.SHADOW, "s"),
                        rule("amount_minor > 1000", Decision.REVIEW, rule_id="a")))
    proposals, shadow = compile_set(rules, CATALOGUE).evaluate(FEATURES)
    assert (proposals, shadow) == ([], ["s"])


def test_a_new_or_changed_rule_cannot_start_active() -> None:
    current = RuleSet(1, (rule("amount_minor > 10", rule_id="a"),))
    with pytest.raises(DomainError, match="starts in shadow"):
        check_successor(current, [*current.rules, rule("amount_minor > 1", rule_id="b")])
    with pytest.raises(DomainError, match="starts in shadow"):
        check_successor(current, [rule("amount_minor > 0", rule_id="a")])
    check_successor(current, [*current.rules,
                              rule("amount_minor > 1", state=RuleState.SHADOW, rule_id="b")])


def test_features_are_frozen_and_read_back_from_their_canonical_form() -> None:
    features = Features({"b": 1.23456789, "a": True, "c": None})
    assert features.canonical() == '{"a":true,"b":1.234568,"c":null}'
    assert Features.parse(features.canonical()) == features
    with pytest.raises(DomainError):
        Features({"Bad Name": 1})
    with pytest.raises(DomainError):
        Features({"x": float("nan")})
