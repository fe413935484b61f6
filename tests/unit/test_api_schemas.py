"""Request bodies live in api/schemas, one module per feature, and all of them are strict:
a route module defines no model of its own, and every body refuses unknown fields and
coerces nothing."""

from __future__ import annotations

import importlib
import inspect
import pkgutil
from types import ModuleType

import pytest
from pydantic import BaseModel, ValidationError

import paywarden.api
import paywarden.api.schemas
from paywarden.api.schemas import Strict
from paywarden.api.schemas.payments import RefundIn


def modules(package: ModuleType) -> list[ModuleType]:
    return [importlib.import_module(f"{package.__name__}.{m.name}")
            for m in pkgutil.iter_modules(package.__path__)]


def models_defined_in(module: ModuleType) -> list[type[BaseModel]]:
    return [v for v in vars(module).values() if inspect.isclass(v)
            and issubclass(v, BaseModel) and v.__module__ == module.__name__]


def test_no_route_module_defines_a_model_of_its_own() -> None:
    routes = [m for m in modules(paywarden.api) if m.__name__.endswith("_routes")]
    assert routes
    assert [(m.__name__, c.__name__) for m in routes for c in models_defined_in(m)] == []


def test_every_request_body_is_strict() -> None:
    bodies = [c for m in modules(paywarden.api.schemas) for c in models_defined_in(m)
              if c.__name__.endswith("In")]
    assert len(bodies) > 25
    assert [c.__name__ for c in bodies if not issubclass(c, Strict)] == []


def test_an_unknown_field_is_refused() -> None:
    with pytest.raises(ValidationError, match="extra_forbidden"):
        RefundIn.model_validate({"amount": 1, "refund_id": "r1", "to_account": "x"})


def test_a_string_of_digits_is_not_an_amount() -> None:
    with pytest.raises(ValidationError, match="int_type"):
        RefundIn.model_validate({"amount": "100", "refund_id": "r1"})
