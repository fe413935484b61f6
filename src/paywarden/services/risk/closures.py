"""A checked ``rule-engine`` tree turned into nested Python closures (decision 0038).

``rule-engine`` parses and type-checks every rule, and services/risk/rules.py refuses any
node outside its allow-list; what runs in the payment path is then this module's
translation of that same tree — one closure per node, no ``eval``, no source text. Walking
``rule-engine``'s tree costs a symbol resolution with its type checks on every name, per
rule, per screening: 30 % of a screening's CPU. Here a screening coerces the features the
rules name once (:func:`bind`) and each rule is a few direct calls.

The closures keep ``rule-engine``'s semantics for the allowed nodes, to the error: numbers
are ``Decimal`` (its ``coerce_value``), ``==`` between different types is false, an ordered
comparison between different types or an arithmetic on a non-number raises, ``null <=
null`` holds, ``and``/``or`` short-circuit to a boolean, a missing feature raises only
when it is reached. tests/unit/test_risk_closures.py holds the two to the same answers
on generated expressions.
"""

from __future__ import annotations

import decimal
import operator
from collections.abc import Callable, Mapping
from typing import Any

from rule_engine import DataType, ast, errors
from rule_engine.types import coerce_value

Values = Mapping[str, Any]
Node = Callable[[Values], Any]

_ORDERED = {"ge": operator.ge, "gt": operator.gt, "le": operator.le, "lt": operator.lt}
_ARITHMETIC = {"fdiv": operator.floordiv, "tdiv": operator.truediv, "mod": operator.mod,
               "mul": operator.mul, "pow": operator.pow}


def _coerced(value: Any) -> Any:
    """``coerce_value`` for the scalars features hold, without its type lookups: an int
    becomes ``Decimal(int)``, a float ``Decimal(repr(float))``, as there."""
    kind = type(value)
    if value is None or kind is bool or kind is str:
        return value
    if kind is int:
        return decimal.Decimal(value)
    if kind is float:
        return decimal.Decimal(repr(value))
    return coerce_value(value)


def bind(features: Mapping[str, Any], names: frozenset[str]) -> dict[str, Any]:
    """The features the rules name, as ``rule-engine`` would see them (a name the
    features lack stays missing, and raises where a rule reaches it)."""
    return {n: _coerced(features[n]) for n in names if n in features}


def _numeric(value: Any) -> bool:
    return isinstance(value, (decimal.Decimal, float, int)) and not isinstance(value, bool)


def _mismatch(what: str = "") -> errors.EvaluationError:
    return errors.EvaluationError("data type mismatch" + what)


def _ordered(op: Callable[[Any, Any], Any], left: Any, right: Any) -> Any:
    if left is None and right is None:
        return op in (operator.ge, operator.le)
    if isinstance(left, tuple) and isinstance(right, tuple):
        for a, b in zip(left, right):
            if _ordered(operator.ne, a, b):
                return _ordered(op, a, b)
        if len(left) != len(right):
            return _ordered(op, len(left), len(right))
        return op in (operator.ge, operator.le)
    if type(left) is not type(right):
        raise _mismatch()
    return op(left, right)


def _symbol(node: Any, types: Mapping[str, type]) -> Node:
    name, wanted = node.name, types.get(node.name)

    def symbol(values: Values) -> Any:
        try:
            value = values[name]
        except KeyError:
            raise errors.SymbolResolutionError(name) from None
        if value is not None and wanted is not None and not isinstance(value, wanted):
            raise errors.SymbolTypeError(name, is_value=value,
                                         is_type=DataType.from_value(value),
                                         expected_type=DataType.from_type(wanted))
        return value
    return symbol


def _binary(node: Any, left: Node, right: Node) -> Node:
    kind = node.type
    if isinstance(node, ast.LogicExpression):
        if kind == "and":
            return lambda v: bool(left(v) and right(v))
        return lambda v: bool(left(v) or right(v))
    if isinstance(node, ast.ArithmeticComparisonExpression):
        op = _ORDERED[kind]
        return lambda v: _ordered(op, left(v), right(v))
    if isinstance(node, ast.ComparisonExpression):
        if kind == "eq":
            def eq(v: Values) -> bool:
                a, b = left(v), right(v)
                return type(a) is type(b) and a == b
            return eq

        def ne(v: Values) -> bool:
            a, b = left(v), right(v)
            return type(a) is not type(b) or a != b
        return ne
    if isinstance(node, ast.AddExpression):
        def add(v: Values) -> Any:
            a, b = left(v), right(v)
            if isinstance(a, bytes) or isinstance(b, bytes):
                raise _mismatch(" (not a bytes value)")
            if isinstance(a, str) or isinstance(b, str):
                if not (isinstance(a, str) and isinstance(b, str)):
                    raise _mismatch(" (not a string value)")
            elif not (_numeric(a) and _numeric(b)):
                raise _mismatch(" (not a numeric value)")
            return a + b
        return add
    if isinstance(node, ast.SubtractExpression):
        def sub(v: Values) -> Any:
            a, b = left(v), right(v)
            if not (_numeric(a) and _numeric(b)):
                raise _mismatch(" (not a numeric value)")
            return a - b
        return sub
    op = _ARITHMETIC[kind]  # ArithmeticExpression

    def arithmetic(v: Values) -> Any:
        a = left(v)
        if not _numeric(a):
            raise _mismatch(" (not a numeric value)")
        b = right(v)
        if not _numeric(b):
            raise _mismatch(" (not a numeric value)")
        try:
            return op(a, b)
        except ZeroDivisionError:
            raise errors.ArithmeticError("arithmetic error: division by zero") from None
        except ArithmeticError:
            raise errors.ArithmeticError("arithmetic error") from None
    return arithmetic


def compile_node(node: Any, types: Mapping[str, type]) -> Node:
    """The closure for a node of the allow-list (services/risk/rules.py ``_ALLOWED``)."""
    if isinstance(node, (ast.ArrayExpression, ast.SetExpression)):
        members = [compile_node(m, types) for m in node.value]
        made = tuple if isinstance(node, ast.ArrayExpression) else set
        return lambda v: made(m(v) for m in members)
    if isinstance(node, (ast.BooleanExpression, ast.FloatExpression, ast.StringExpression,
                         ast.NullExpression)):
        constant = node.value
        return lambda v: constant
    if isinstance(node, ast.SymbolExpression):
        return _symbol(node, types)
    if isinstance(node, ast.UnaryExpression):
        right = compile_node(node.right, types)
        if node.type == "not":
            return lambda v: not right(v)

        def minus(v: Values) -> Any:
            value = right(v)
            if not _numeric(value):
                raise _mismatch(" (not a numeric or timedelta value)")
            return -value
        return minus
    if isinstance(node, ast.TernaryExpression):
        condition = compile_node(node.condition, types)
        yes, no = compile_node(node.case_true, types), compile_node(node.case_false, types)
        return lambda v: yes(v) if condition(v) else no(v)
    if isinstance(node, ast.ContainsExpression):
        container, member = compile_node(node.container, types), compile_node(node.member, types)

        def contains(v: Values) -> bool:
            where, what = container(v), member(v)
            if isinstance(where, (str, bytes)) and type(what) is not type(where):
                raise _mismatch()
            return bool(what in where)
        return contains
    return _binary(node, compile_node(node.left, types), compile_node(node.right, types))


def symbols(node: Any) -> frozenset[str]:
    """Every feature name the tree reads."""
    if isinstance(node, ast.SymbolExpression):
        return frozenset((node.name,))
    found: set[str] = set()
    for name in ("left", "right", "condition", "case_true", "case_false", "container",
                 "member"):
        child = getattr(node, name, None)
        if isinstance(child, ast.ExpressionBase):
            found |= symbols(child)
    if isinstance(node, (ast.ArrayExpression, ast.SetExpression)):
        for member in node.value:
            found |= symbols(member)
    return frozenset(found)
