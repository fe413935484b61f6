"""Which problem codes a route can answer, read from the code itself, never listed by hand.

The OpenAPI document (:mod:`paywarden.api.openapi`) documents each operation's
errors from this, so the document cannot drift from what the API answers. Every
status comes from the registry (:mod:`paywarden.api.problem_codes`):

- **the edge** (every route): the ``Problem(Feature.CODE, …)`` of ``defences``,
  ``problems``, ``app`` and ``health`` (rate limits, caps, fail-stop, 500), the
  policy's ``forbidden`` and ``not_found``, and every code of the features the
  app-wide handler answers (``problems.APP_WIDE``);
- **bodies** (POST, PUT, PATCH): the problems of ``idempotency`` and
  ``json_bodies``, and every ``Idempotency`` code;
- **input** (a route with parameters or a body): ``validation_failed`` and the
  ``Text`` codes;
- **callers** (a route depending on ``auth``): ``auth``'s and ``signed``'s problems,
  every ``Signatures`` code and the policy's ``forbidden``;
- **the route**: the problems of its endpoint and of the module's functions it
  calls, and every code of the features of each ``Refusals`` they use
  (``with _refusals():``, ``_refusals = Refusals(Feature, …)``).
"""

from __future__ import annotations

import ast
import inspect
import sys
from collections.abc import Callable, Iterable
from functools import cache
from types import ModuleType

from fastapi.routing import APIRoute

from . import app as app_module
from . import auth, defences, health, idempotency, json_bodies, problems, signed
from .problem_codes import FEATURES, Edge, Idempotency, ProblemCode, Signatures, Text

Found = frozenset[tuple[int, str]]  # (status, code)
BODY_METHODS = frozenset({"POST", "PUT", "PATCH"})
_BY_NAME = {feature.__name__: feature for feature in FEATURES}


def _called(node: ast.Call) -> str:
    func = node.func
    return func.id if isinstance(func, ast.Name) else func.attr if isinstance(
        func, ast.Attribute) else ""


def _member(node: ast.expr) -> ProblemCode | None:
    """``Feature.CODE`` or ``codes.Feature.CODE``: the registry member it names."""
    if not isinstance(node, ast.Attribute):
        return None
    owner = node.value.attr if isinstance(node.value, ast.Attribute) else getattr(
        node.value, "id", "")
    feature = _BY_NAME.get(owner)
    return None if feature is None else feature.__members__.get(node.attr)


def _members(*members: ProblemCode) -> Found:
    return frozenset((member.status, member.value) for member in members)


def _codes(*features: type[ProblemCode]) -> Found:
    return _members(*(member for feature in features for member in feature))


def _literal_problems(tree: ast.AST) -> set[tuple[int, str]]:
    """``Problem(Feature.CODE, …)``; a status given outright (a framework refusal) is not
    the code's, so it is left to its own line of the catalogue."""
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and _called(node) == "Problem" and node.args and not any(
                k.arg == "status" for k in node.keywords):
            member = _member(node.args[0])
            if member is not None:
                found.add((member.status, member.value))
    return found


@cache
def _tree(module: ModuleType) -> ast.Module:
    return ast.parse(inspect.getsource(module))


@cache
def _refusals(module: ModuleType) -> dict[str, Found]:
    """The module's ``Refusals`` objects, by name, with the codes of their features."""
    return {name: _codes(*value.features) for name, value in vars(module).items()
            if isinstance(value, problems.Refusals)}


@cache
def _functions(module: ModuleType) -> dict[str, ast.AST]:
    return {n.name: n for n in _tree(module).body
            if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef)}


def _reach(module: ModuleType, name: str) -> Found:
    """The problems function ``name`` of ``module`` raises, itself or through the module's
    own functions it calls, and the codes of the refusals it uses."""
    functions, refusals = _functions(module), _refusals(module)
    found: set[tuple[int, str]] = set()
    seen: set[str] = set()
    todo = [name]
    while todo:
        current = todo.pop()
        if current in seen or current not in functions:
            continue
        seen.add(current)
        node = functions[current]
        found |= _literal_problems(node)
        for used in {n.id for n in ast.walk(node) if isinstance(n, ast.Name)}:
            found |= refusals.get(used, frozenset())
            todo.append(used)
    return frozenset(found)


def _module_of(call: Callable[..., object]) -> ModuleType | None:
    return sys.modules.get(getattr(call, "__module__", ""))


def _dependencies(route: APIRoute) -> Iterable[Callable[..., object]]:
    todo = list(route.dependant.dependencies)
    while todo:
        dependant = todo.pop()
        todo.extend(dependant.dependencies)
        if dependant.call is not None:
            yield dependant.call


@cache
def edge() -> Found:
    """What any route may answer before or around its own work."""
    found = set().union(*(_literal_problems(_tree(m))
                          for m in (defences, problems, app_module, health)))
    found |= _members(Edge.METHOD_NOT_ALLOWED, Edge.NOT_FOUND, Edge.FORBIDDEN)
    return frozenset(found) | _codes(*problems.APP_WIDE.features)


@cache
def bodies() -> Found:
    found = _literal_problems(_tree(idempotency)) | _literal_problems(_tree(json_bodies))
    return frozenset(found) | _codes(Idempotency)


@cache
def callers() -> Found:
    found = _literal_problems(_tree(auth)) | _literal_problems(_tree(signed))
    found |= _members(Edge.FORBIDDEN)
    return frozenset(found) | _codes(Signatures)


def route_problems(route: APIRoute, method: str) -> Found:
    """Every (status, code) ``method`` on ``route`` can answer."""
    found = set(edge())
    if method in BODY_METHODS:
        found |= bodies()
    if route.dependant.path_params or route.dependant.query_params or route.body_field:
        found |= _members(Edge.VALIDATION_FAILED) | _codes(Text)
    for call in _dependencies(route):
        module = _module_of(call)
        if module is auth:
            found |= callers()
        elif module is not None and module.__name__.startswith("paywarden."):
            found |= _reach(module, getattr(call, "__name__", ""))
    module = _module_of(route.endpoint)
    if module is not None:
        found |= _reach(module, route.endpoint.__name__)
    return frozenset(found)
