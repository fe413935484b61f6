"""The rules run as closures (services/risk/closures.py), and must answer exactly as
rule-engine does on the same tree: the same value, or an error where it errs — on every
built-in rule and on generated expressions over numbers, booleans, strings and nulls."""

from __future__ import annotations

import decimal
from typing import Any

import rule_engine
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from paywarden.domain.errors import DomainError
from paywarden.domain.risk import Decision, Rule, RuleState
from paywarden.services.risk import compile_rule
from paywarden.services.risk.closures import bind
from paywarden.services.risk.rules import BUILT_IN

CATALOGUE = {"n1": "number", "n2": "number", "b1": "boolean", "s1": "string"}
NUMBER_LITERALS = st.sampled_from(["0", "1", "2", "3", "-1", "0.5", "2.25", "100000", "1e3"])
ATOMS = st.one_of(
    st.sampled_from(["n1", "n2", "b1", "s1", "true", "false", "null", "'a'", "''", "'ab'"]),
    NUMBER_LITERALS,
    st.sampled_from(["[1, 2]", "[n1, 3]", "['a', s1]", "{1, 2}", "[]"]))


def _combine(children: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    binary = st.sampled_from(["and", "or", "==", "!=", "<", "<=", ">", ">=", "+", "-", "*",
                              "/", "//", "%", "**", "in"])
    return st.one_of(
        st.tuples(children, binary, children).map(lambda t: f"({t[0]} {t[1]} {t[2]})"),
        children.map(lambda c: f"(not {c})"),
        children.map(lambda c: f"(-{c})"),
        st.tuples(children, children, children).map(lambda t: f"({t[0]} ? {t[1]} : {t[2]})"))


EXPRESSIONS = st.recursive(ATOMS, _combine, max_leaves=8)
NUMBERS = st.one_of(st.none(), st.integers(-5, 100_000), st.sampled_from([0.5, 2.25, 1e3, -0.0]))
FEATURES = st.fixed_dictionaries(
    {"n1": NUMBERS, "b1": st.one_of(st.none(), st.booleans()),
     "s1": st.one_of(st.none(), st.sampled_from(["", "a", "ab", "b"]))},
    optional={"n2": NUMBERS})  # sometimes missing: an error only where it is reached


def _outcome(call: Any) -> tuple[str, Any]:
    try:
        return "value", call()
    except Exception as exc:  # noqa: BLE001 - the kind of failure is what is compared
        return "error", isinstance(exc, rule_engine.errors.EngineError)


def _same(expression: str, features: dict[str, Any]) -> None:
    try:
        compiled = compile_rule(Rule("g", expression, Decision.REVIEW, "g", RuleState.ACTIVE),
                                CATALOGUE)
    except DomainError:
        assume(False)  # rule-engine refuses it at load: nothing runs
        return
    reference = _outcome(lambda: compiled.matcher.evaluate(features))
    with decimal.localcontext(decimal.Context()):
        ours = _outcome(lambda: compiled.test(bind(features, compiled.names)))
    if reference == ("error", False):
        # rule-engine leaks Python's own error on a few type mismatches (``'a' + null``
        # is a TypeError; ``null + 'a'`` its EvaluationError): ours is always its
        # EvaluationError, which the backtest counts as unevaluable instead of failing.
        assert ours == ("error", True), (expression, features)
        return
    assert ours == reference, (expression, features)


def test_where_rule_engine_leaks_a_type_error_ours_is_its_evaluation_error() -> None:
    compiled = compile_rule(Rule("g", "('a' + s1)", Decision.REVIEW, "g", RuleState.ACTIVE),
                            CATALOGUE)
    assert _outcome(lambda: compiled.matcher.evaluate({"s1": None})) == ("error", False)
    _same("('a' + s1)", {"s1": None, "n1": 0, "b1": False})


@settings(max_examples=1500, deadline=None, suppress_health_check=[HealthCheck.filter_too_much])
@given(EXPRESSIONS, FEATURES)
def test_generated_expressions_answer_as_rule_engine_does(expression: str,
                                                          features: dict[str, Any]) -> None:
    _same(expression, features)


def _built_in_features() -> st.SearchStrategy[dict[str, Any]]:
    numbers = st.one_of(st.integers(0, 10**7), st.floats(0, 10, allow_nan=False))
    return st.fixed_dictionaries({
        "theirs": st.booleans(), "velocity_customer_1m": numbers,
        "velocity_payee_1h": numbers, "new_device": st.booleans(), "payee_age_s": numbers,
        "amount_ratio_90d": numbers, "payee_cooling": st.booleans(),
        "account_age_s": numbers, "amount_minor": numbers, "registry_hit": st.booleans(),
        "sanctions_hit": st.booleans(),
        "breaker_action": st.sampled_from(["none", "review", "decline"]),
        "chain_depth": numbers, "device_customers": numbers, "payee_known": st.booleans(),
        "merchant_payments_30d": numbers,
        "merchant_dispute_rate_30d": st.floats(0, 1, allow_nan=False),
        "kind": st.sampled_from(["internal", "staff", "pay", "own"]),
        "velocity_customer_24h": numbers})


BUILT_IN_CATALOGUE = {
    "theirs": "boolean", "velocity_customer_1m": "number", "velocity_payee_1h": "number",
    "new_device": "boolean", "payee_age_s": "number", "amount_ratio_90d": "number",
    "payee_cooling": "boolean", "account_age_s": "number", "amount_minor": "number",
    "registry_hit": "boolean", "sanctions_hit": "boolean", "breaker_action": "string",
    "chain_depth": "number", "device_customers": "number", "payee_known": "boolean",
    "merchant_payments_30d": "number", "merchant_dispute_rate_30d": "number",
    "kind": "string", "velocity_customer_24h": "number"}


@settings(max_examples=400, deadline=None)
@given(_built_in_features())
def test_every_built_in_rule_answers_as_rule_engine_does(features: dict[str, Any]) -> None:
    for built_in in BUILT_IN:
        compiled = compile_rule(built_in, BUILT_IN_CATALOGUE)
        assert compiled.names <= BUILT_IN_CATALOGUE.keys()
        expected = compiled.matcher.matches(features)
        assert bool(compiled.test(bind(features, compiled.names))) is expected, built_in.id


def test_a_feature_of_the_wrong_type_is_an_error_in_both() -> None:
    compiled = compile_rule(Rule("t", "n1 > 1", Decision.REVIEW, "t", RuleState.ACTIVE),
                            CATALOGUE)
    values = {"n1": "text"}
    assert _outcome(lambda: compiled.matcher.evaluate(values)) == ("error", True)
    assert _outcome(lambda: compiled.test(bind(values, compiled.names))) == ("error", True)
