"""The domain imports only the standard library and other domain modules."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest

import paywarden.domain

DOMAIN_DIR = Path(paywarden.domain.__file__).parent
DOMAIN_PACKAGE = "paywarden.domain"
MODULES = sorted(DOMAIN_DIR.rglob("*.py"))


def module_name(path: Path) -> str:
    parts = list(path.relative_to(DOMAIN_DIR).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join([DOMAIN_PACKAGE, *parts])


def is_package(path: Path) -> bool:
    return path.name == "__init__.py"


def imported_modules(path: Path) -> list[tuple[int, str]]:
    """Every module ``path`` imports, as absolute names, with the line of the import."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    here = module_name(path).split(".")
    package = here if is_package(path) else here[:-1]
    found: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.extend((node.lineno, alias.name) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level == 0:
                found.append((node.lineno, node.module or ""))
                continue
            base = package[: len(package) - (node.level - 1)]
            if node.module:
                found.append((node.lineno, ".".join([*base, node.module])))
            else:
                found.extend((node.lineno, ".".join([*base, a.name])) for a in node.names)
        elif isinstance(node, ast.Call) and _is_dynamic_import(node.func) and node.args:
            target = node.args[0]
            if isinstance(target, ast.Constant) and isinstance(target.value, str):
                found.append((node.lineno, target.value))
    return found


def _is_dynamic_import(func: ast.expr) -> bool:
    if isinstance(func, ast.Name):
        return func.id in ("__import__", "import_module")
    return isinstance(func, ast.Attribute) and func.attr == "import_module"


# Libraries that only compute (no I/O, no clock, no randomness) and define a standard.
PURE_LIBRARIES = {"rfc8785"}  # RFC 8785 canonical JSON for audit leaves


def allowed(name: str) -> bool:
    top = name.split(".")[0]
    return (
        top == "__future__"
        or top in PURE_LIBRARIES
        or top in sys.stdlib_module_names
        or name == DOMAIN_PACKAGE
        or name.startswith(DOMAIN_PACKAGE + ".")
    )


def test_the_domain_has_modules_to_check() -> None:
    assert DOMAIN_DIR.joinpath("ledger", "book.py") in MODULES


@pytest.mark.parametrize("path", MODULES, ids=lambda p: module_name(p))
def test_domain_module_imports_only_the_standard_library_and_the_domain(path: Path) -> None:
    outside = [f"line {line}: {name}" for line, name in imported_modules(path) if not allowed(name)]
    assert outside == [], f"{module_name(path)} imports from outside the domain: {outside}"


def test_the_check_tells_the_domain_and_the_standard_library_from_the_rest() -> None:
    assert allowed("paywarden.domain.errors")
    assert not allowed("paywarden.adapters.store")
    assert not allowed("sqlalchemy")
    assert allowed("dataclasses")
    book = DOMAIN_DIR / "ledger" / "book.py"
    names = {name for _, name in imported_modules(book)}
    assert {"paywarden.domain.errors", "paywarden.domain.ledger.model"} <= names
