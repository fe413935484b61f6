"""Which problem codes a route can answer, read from the code itself, never listed by hand.

The OpenAPI document (:mod:`paywarden.api.openapi`) documents each operation's
errors from this, so the document cannot drift from what the API answers:

- **the edge** (every route): the literal ``Problem(status, "code", …)`` of
  ``defences``, ``problems`` and ``app`` (rate limits, caps, fail-stop, 500), and
  the app-wide ``DomainError`` table of ``problems``;
- **bodies** (POST, PUT, PATCH): the literal problems of ``idempotency`` and the
  ``IdempotencyRefused("code", …, status)`` of ``services/idempotency.py``;
- **callers** (a route depending on ``auth``): ``auth``'s and ``signed``'s literal
  problems, every ``SignatureRefused("code", …)`` (answered 401 by ``signed``) and
  the policy's ``forbidden``;
- **the route**: the literal problems of its endpoint and of the module's functions
  it calls, and every code of a status table (``_STATUS = {"code": status, …}``)
  that those functions read. A code a table does not name is answered 422
  (``problems.REFUSED_STATUS``), documented as ``refused``.
"""

from __future__ import annotations

import ast
import inspect
import sys
from collections.abc import Callable, Iterable
from functools import cache
from types import ModuleType

from fastapi.routing import APIRoute

from ..services import idempotency as idempotency_service
from ..services.merchants import signatures
from . import app as app_module
from . import auth, defences, idempotency, problems, signed

Found = frozenset[tuple[int, str]]  # (status, code)
BODY_METHODS = frozenset({"POST", "PUT", "PATCH"})
REFUSED = (problems.REFUSED_STATUS, "refused")  # a domain refusal no table names


def _const(node: ast.expr) -> object:
    return node.value if isinstance(node, ast.Constant) else None


def _called(node: ast.Call) -> str:
    func = node.func
    return func.id if isinstance(func, ast.Name) else func.attr if isinstance(
        func, ast.Attribute) else ""


def _literal_problems(tree: ast.AST) -> set[tuple[int, str]]:
    """``Problem(401, "code", …)``: both arguments literal."""
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and _called(node) == "Problem" and len(node.args) >= 2:
            status, code = _const(node.args[0]), _const(node.args[1])
            if isinstance(status, int) and isinstance(code, str):
                found.add((status, code))
    return found


def _refusals(module: ModuleType, name: str, *, status: int | None) -> Found:
    """``NAME("code", …)`` in ``module``; the status is ``status``, or the third argument."""
    found = set()
    for node in ast.walk(_tree(module)):
        if isinstance(node, ast.Call) and _called(node) == name and node.args:
            code = _const(node.args[0])
            answered = status if status is not None else (
                _const(node.args[2]) if len(node.args) >= 3 else None)
            if isinstance(code, str) and isinstance(answered, int):
                found.add((answered, code))
    return frozenset(found)


@cache
def _tree(module: ModuleType) -> ast.Module:
    return ast.parse(inspect.getsource(module))


@cache
def _tables(module: ModuleType) -> dict[str, Found]:
    """Module-level ``NAME = {"code": status, …}`` (and ``NAME.update({…})``) tables."""
    tables: dict[str, set[tuple[int, str]]] = {}
    for node in _tree(module).body:
        target, value = None, None
        if isinstance(node, ast.Assign) and len(node.targets) == 1:
            target, value = node.targets[0], node.value
        elif isinstance(node, ast.Expr) and isinstance(node.value, ast.Call) and _called(
                node.value) == "update" and node.value.args:
            target, value = getattr(node.value.func, "value", None), node.value.args[0]
        if isinstance(target, ast.Name) and isinstance(value, ast.Dict):
            pairs = {(_const(v), _const(k)) for k, v in zip(value.keys, value.values,
                                                            strict=True) if k is not None}
            if pairs and all(isinstance(s, int) and 400 <= s < 600 and isinstance(c, str)
                             for s, c in pairs):
                tables.setdefault(target.id, set()).update(pairs)  # type: ignore[arg-type]
    return {name: frozenset(found) for name, found in tables.items()}


@cache
def _functions(module: ModuleType) -> dict[str, ast.AST]:
    return {n.name: n for n in _tree(module).body
            if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef)}


def _reach(module: ModuleType, name: str) -> Found:
    """The problems function ``name`` of ``module`` raises, itself or through the module's
    own functions it calls, and the tables it reads."""
    functions, tables = _functions(module), _tables(module)
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
            if used in tables:
                found |= tables[used] | {REFUSED}
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
    found = set().union(*(_literal_problems(_tree(m)) for m in (defences, problems, app_module)))
    found |= {(405, problems.HTTP_CODES[405]), REFUSED}
    return frozenset(found) | _tables(problems)["_DOMAIN_STATUS"]  # its handler is app-wide


@cache
def bodies() -> Found:
    return frozenset(_literal_problems(_tree(idempotency))) | _refusals(
        idempotency_service, "IdempotencyRefused", status=None)


@cache
def callers() -> Found:
    found = _literal_problems(_tree(auth)) | _literal_problems(_tree(signed))
    found |= {(403, "forbidden")}
    return frozenset(found) | _refusals(signatures, "SignatureRefused", status=401)


def route_problems(route: APIRoute, method: str) -> Found:
    """Every (status, code) ``method`` on ``route`` can answer."""
    found = set(edge())
    if method in BODY_METHODS:
        found |= bodies()
    if route.dependant.path_params or route.dependant.query_params or route.body_field:
        found.add((422, "validation_failed"))
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
