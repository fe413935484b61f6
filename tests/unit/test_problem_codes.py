"""One registry of problem codes (api/problem_codes.py, decision 0022): every code the
code base raises is registered, each once, with one status; services know no HTTP."""

from __future__ import annotations

import ast
import importlib
import inspect
import pkgutil
from collections import defaultdict
from pathlib import Path

import pytest

import paywarden
from paywarden.api import problem_codes
from paywarden.api.problem_codes import FEATURES, REGISTRY, ProblemCode
from paywarden.api.problems import Problem, Refusals
from paywarden.api.text import TEXT_CODES
from paywarden.domain.errors import DomainError
from paywarden.domain.ledger.results import AccountResult
from paywarden.services.ledger import EngineStopped, EngineUnresponsive

SRC = Path(paywarden.__file__).parent
NOT_SERVER = ("client", "benchmarks")  # the SDK and the benchmarks raise no problem
CODE_HELPERS = frozenset({"_refuse"})  # domain/escrow/machine.py: EscrowError(code, …)


def _modules() -> list[str]:
    return [m.name for m in pkgutil.walk_packages([str(SRC)], "paywarden.")
            if m.name.split(".")[1] not in NOT_SERVER and not m.name.endswith("__main__")]


def _refusal_classes() -> dict[str, bool]:
    """Every DomainError class by name; True when its first argument is the code (it keeps
    DomainError's signature), False when its own ``__init__`` chooses the code."""
    for name in _modules():
        importlib.import_module(name)
    found: dict[str, bool] = {}
    todo: list[type[DomainError]] = [DomainError]
    while todo:
        cls = todo.pop()
        parameters = list(inspect.signature(cls.__init__).parameters)  # self, then …
        found[cls.__name__] = parameters[1:2] == ["code"]
        todo.extend(cls.__subclasses__())
    return found


def _strings(node: ast.expr) -> set[str]:
    """The code string(s) an argument can be: a literal, or either side of ``a if c else b``."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return {node.value}
    if isinstance(node, ast.IfExp):
        return _strings(node.body) | _strings(node.orelse)
    return set()


def _called(node: ast.Call) -> str:
    func = node.func
    return func.id if isinstance(func, ast.Name) else func.attr if isinstance(
        func, ast.Attribute) else ""


def _is_super_init(node: ast.Call) -> bool:
    func = node.func
    return (isinstance(func, ast.Attribute) and func.attr == "__init__"
            and isinstance(func.value, ast.Call) and _called(func.value) == "super")


def raised_codes() -> dict[str, set[str]]:
    """Every literal code the server's source raises, with where: ``DomainError("code", …)``
    and its subclasses (and the escrow machine's ``_refuse``), and, inside a DomainError
    class, the code it passes to ``super().__init__`` or sets as ``code = …``."""
    classes = _refusal_classes()
    found: dict[str, set[str]] = defaultdict(set)
    for path in SRC.rglob("*.py"):
        where = str(path.relative_to(SRC))
        if where.split("/")[0] in NOT_SERVER:
            continue
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and node.args and (
                    classes.get(_called(node)) or _called(node) in CODE_HELPERS):
                for code in _strings(node.args[0]):
                    found[code].add(where)
            if not (isinstance(node, ast.ClassDef) and node.name in classes):
                continue
            for inner in ast.walk(node):
                if isinstance(inner, ast.Call) and inner.args and _is_super_init(inner):
                    codes = _strings(inner.args[0])
                elif (isinstance(inner, ast.Assign) and len(inner.targets) == 1
                        and getattr(inner.targets[0], "id", "") == "code"):
                    codes = _strings(inner.value)
                else:
                    continue
                for code in codes:
                    found[code].add(where)
    return found


def named_members() -> set[str]:
    """Every code the server names by its member: ``Feature.CODE``, ``codes.Feature.CODE``."""
    features = {feature.__name__: feature for feature in FEATURES}
    found = set()
    for path in SRC.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Attribute):
                owner = node.value
                name = owner.attr if isinstance(owner, ast.Attribute) else getattr(owner, "id", "")
                member = features[name].__members__.get(node.attr) if name in features else None
                if member is not None:
                    found.add(member.value)
    return found


def made_at_run_time() -> set[str]:
    """Codes built from a value: refused accounts (api/ledger_routes.py), text rules, and
    the ledger engine's stop, answered from its ``code`` (api/problems.py)."""
    from paywarden.api.ledger_routes import _ACCOUNT_CREATED_STATUS, _account_code
    accounts = {_account_code(r) for r in AccountResult if r not in _ACCOUNT_CREATED_STATUS}
    return accounts | TEXT_CODES | {EngineStopped.code, EngineUnresponsive.code}


def test_every_code_the_server_raises_is_registered() -> None:
    raised = raised_codes()
    assert len(raised) > 120  # the scan sees the code base, not an empty corner of it
    assert {c: sorted(w) for c, w in raised.items() if c not in REGISTRY} == {}


def test_codes_made_at_run_time_are_registered() -> None:
    assert made_at_run_time() - REGISTRY.keys() == set()


def test_every_registered_code_is_answered_somewhere() -> None:
    """No dead entry: each code is raised by its string, named by its member, or made."""
    answered = raised_codes().keys() | named_members() | made_at_run_time()
    assert sorted(REGISTRY.keys() - answered) == []


def test_no_code_is_defined_twice() -> None:
    """Not in two enums, nor twice in one (an Enum would make the second an alias)."""
    statuses: dict[str, set[tuple[str, int]]] = defaultdict(set)
    for feature in FEATURES:
        for name, member in feature.__members__.items():
            statuses[member.value].add((f"{feature.__name__}.{name}", member.status))
    assert {code: s for code, s in statuses.items() if len(s) > 1} == {}
    assert len(REGISTRY) == sum(len(feature.__members__) for feature in FEATURES)


def test_every_enum_of_the_module_is_a_feature_of_the_registry() -> None:
    enums = {value for value in vars(problem_codes).values() if isinstance(value, type)
             and issubclass(value, ProblemCode) and value is not ProblemCode}
    assert enums == set(FEATURES)


def test_every_code_has_an_error_status_and_a_title() -> None:
    for member in REGISTRY.values():
        assert 400 <= member.status < 600 and member.summary, member
        assert member.value.isascii() and member.value.islower(), member


@pytest.mark.parametrize("code", ["step_up_required", "step_up_mismatch"])
def test_a_missing_or_mismatched_step_up_is_403_not_401(code: str) -> None:
    """The buyer is signed in: a 401 would tell a client to drop a good session."""
    assert REGISTRY[code].status == 403


def test_a_problem_takes_its_status_and_title_from_the_registry() -> None:
    problem = Problem(problem_codes.Merchants.KEY_LAST_ACTIVE, "keep one key")
    assert (problem.status, problem.code, problem.title) == (
        409, "key_last_active", "The merchant's last active key")
    assert Problem("key_last_active", "a code string from a service").status == 409


def test_refusals_answer_a_domain_error_with_its_registered_status() -> None:
    refusals = Refusals(problem_codes.Payments)
    with pytest.raises(Problem) as caught, refusals():
        raise DomainError("refund_id_reused", "refund r1 was for another amount")
    assert (caught.value.status, caught.value.code) == (409, "refund_id_reused")


def test_domain_and_services_import_nothing_of_the_api() -> None:
    """They name a code by its string; the status is the API's business."""
    leaks = []
    for layer in ("domain", "services"):
        for path in (SRC / layer).rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text())):
                if isinstance(node, ast.ImportFrom) and "api" in (node.module or "").split("."):
                    leaks.append(str(path.relative_to(SRC)))
    assert leaks == []


def test_every_unavailable_answer_says_when_to_ask_again() -> None:
    from paywarden.api.problems import RETRY_AFTER_S, Problem

    assert Problem("payments_busy", "backed up").headers == {"Retry-After": str(RETRY_AFTER_S)}
    assert Problem("engine_overloaded", "x", headers={"Retry-After": "5"}).headers == {
        "Retry-After": "5"}  # its own kept
    assert "Retry-After" not in Problem("payment_file_invalid", "bad").headers
