"""The OpenAPI document: every operation with a summary, a description, examples and errors.

FastAPI's document is completed once, when first asked for:

- **summary and description** come from the endpoint's docstring (first line, then
  the rest), so the words live beside the code they describe;
- **tags** from the module the route lives in (``payment_routes`` → ``payments``);
- **errors**: every (status, code) of :func:`problem_catalogue.route_problems`, one
  response per status, ``application/problem+json`` with the ``Problem`` schema and
  one example per code (a reference into ``components/examples``) — FastAPI's own ``422 HTTPValidationError`` is replaced,
  since a validation error leaves as a problem too;
- **examples**: a request body or success response with a schema and no example
  gets one made from the schema (its ``examples``, formats and bounds).
"""

from __future__ import annotations

import inspect
from collections import defaultdict
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from fastapi.routing import APIRoute

from .problem_catalogue import route_problems
from .problem_codes import REGISTRY
from .problems import PROBLEM_JSON, flat_routes

DESCRIPTION = (
    "The PayWarden API. Amounts are integers in minor units with an ISO 4217 currency. "
    "Merchant backends sign requests (RFC 9421, Ed25519, with Content-Digest); staff "
    "and buyers send `Authorization: Bearer …` or the session cookie. Every error is "
    "RFC 9457 `application/problem+json` with a stable `code`; each operation lists "
    "the codes it can answer. POSTs take an `Idempotency-Key`.")
PROBLEM_SCHEMA: dict[str, Any] = {
    "type": "object", "title": "Problem", "required": ["type", "title", "status", "code"],
    "properties": {
        "type": {"type": "string", "format": "uri"},
        "title": {"type": "string"},
        "status": {"type": "integer", "minimum": 400, "maximum": 599},
        "detail": {"type": "string"},
        "code": {"type": "string", "description": "stable, machine-readable"},
        "instance": {"type": "string"},
    },
    "additionalProperties": True,
}
EXAMPLE_DEPTH_MAX = 8
STRING_EXAMPLES = {"date-time": "2026-11-30T12:00:00Z", "uri": "https://shop.example/",
                   "email": "alice@example.com", "uuid": "3f2b6c1e-8d4a-4b7e-9c2f-5a1d0e6b7c8d"}


def install(app: FastAPI) -> None:
    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = build(app)
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


def build(app: FastAPI) -> dict[str, Any]:
    doc = get_openapi(title=app.title, version=app.version, description=DESCRIPTION,
                      routes=app.routes)
    components = doc.setdefault("components", {})
    schemas = components.setdefault("schemas", {})
    schemas["Problem"] = PROBLEM_SCHEMA
    for name in ("HTTPValidationError", "ValidationError"):
        schemas.pop(name, None)
    for route in flat_routes(app):
        if not isinstance(getattr(route, "original_route", route), APIRoute) or not (
                route.include_in_schema):
            continue
        for method in sorted(route.methods - {"HEAD"}):
            operation = doc["paths"][route.path_format][method.lower()]
            _describe(operation, route)
            _errors(operation, route_problems(route, method), components)
            _examples(operation, components)
    return doc


def _describe(operation: dict[str, Any], route: APIRoute) -> None:
    doc = inspect.getdoc(route.endpoint) or ""
    summary, _, rest = doc.partition("\n")
    if summary:
        operation["summary"] = summary.strip().rstrip(".")
    operation["description"] = inspect.cleandoc(rest).strip()
    module = route.endpoint.__module__.rsplit(".", 1)[-1].removesuffix("_routes")
    operation["tags"] = [module.replace("_", " ")]


def _errors(operation: dict[str, Any], problems: frozenset[tuple[int, str]],
            components: dict[str, Any]) -> None:
    shared = components.setdefault("examples", {})
    by_status: dict[int, list[str]] = defaultdict(list)
    for status, code in sorted(problems):
        by_status[status].append(code)
    responses = operation["responses"]
    for status, codes in sorted(by_status.items()):
        responses[str(status)] = {
            "description": "Problem codes: " + ", ".join(f"`{c}`" for c in codes),
            "content": {PROBLEM_JSON: {
                "schema": {"$ref": "#/components/schemas/Problem"},
                "examples": {code: _shared_example(shared, status, code)
                             for code in codes}}}}


def _shared_example(shared: dict[str, Any], status: int, code: str) -> dict[str, str]:
    """A reference to the one example of ``code`` at ``status`` in ``components``: the
    same few hundred codes recur on every operation, and written out each time they made
    the document megabytes that a browser took many seconds to read."""
    name = f"{code}.{status}"
    shared.setdefault(name, {"value": _problem_example(status, code)})
    return {"$ref": f"#/components/examples/{name}"}


def _problem_example(status: int, code: str) -> dict[str, Any]:
    return {"type": f"https://paywarden.dev/problems/{code}",
            "title": REGISTRY[code].summary, "status": status,
            "detail": "what went wrong, and what to do", "code": code}


def _examples(operation: dict[str, Any], components: dict[str, Any]) -> None:
    contents = [operation.get("requestBody", {}).get("content", {})]
    contents += [r.get("content", {}) for s, r in operation["responses"].items()
                 if s.startswith("2")]
    for content in contents:
        for media in content.values():
            schema = media.get("schema")
            if schema and "example" not in media and "examples" not in media:
                media["example"] = example_of(schema, components)


def example_of(schema: dict[str, Any], components: dict[str, Any], depth: int = 0) -> Any:
    """A value that fits ``schema`` (a sketch: enough to read, not every constraint)."""
    if depth > EXAMPLE_DEPTH_MAX:
        return None
    if "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[-1]
        return example_of(components["schemas"][name], components, depth + 1)
    for key in ("example", "default", "const"):
        if schema.get(key) is not None:
            return schema[key]
    if schema.get("examples"):
        return schema["examples"][0]
    if schema.get("enum"):
        return schema["enum"][0]
    for key in ("anyOf", "oneOf", "allOf"):
        options = [s for s in schema.get(key, []) if s.get("type") != "null"]
        if options:
            return example_of(options[0], components, depth + 1)
    kind = schema.get("type")
    if kind == "object" or "properties" in schema:
        return {name: example_of(sub, components, depth + 1)
                for name, sub in schema.get("properties", {}).items()}
    if kind == "array":
        return [example_of(schema.get("items", {}), components, depth + 1)]
    if kind == "integer":
        return int(schema.get("minimum", schema.get("exclusiveMinimum", 0) + 1) or 1)
    if kind == "number":
        return 1.0
    if kind == "boolean":
        return True
    if kind == "string":
        return STRING_EXAMPLES.get(schema.get("format", ""), "string")
    return {}
