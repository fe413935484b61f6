"""The OpenAPI document is complete and true: every operation has a summary, a description
and an example; every error it documents is problem+json; real error answers are
among those documented for their operation; and a 405 says which methods are allowed."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from paywarden.adapters.clock import FakeClock
from paywarden.adapters.store import Database
from paywarden.api import create_app

from ..support.merchants import client_for, platform_for
from ..support.platform import bearer, staff_token

PROBLEM_JSON = "application/problem+json"
MERCHANT = "mer_" + "0" * 16


@pytest.fixture
def api(database: Database, clock: FakeClock, tmp_path: Path) -> Iterator[TestClient]:
    platform = platform_for(database, clock, tmp_path)
    with client_for(create_app(platform)) as client:
        client.headers["X-Staff"] = staff_token(platform, "merchant_admin")
        yield client


def operations(doc: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    for path, item in doc["paths"].items():
        for method, operation in item.items():
            yield method.upper(), path, operation


def has_example(operation: dict[str, Any]) -> bool:
    contents = [operation.get("requestBody", {}).get("content", {})]
    contents += [r.get("content", {}) for r in operation["responses"].values()]
    return any("example" in media or media.get("examples")
               for content in contents for media in content.values())


def test_every_operation_has_a_summary_a_description_and_an_example(api: TestClient) -> None:
    doc = api.get("/openapi.json").json()
    found = list(operations(doc))
    assert len(found) > 80
    lacking = [(m, p) for m, p, op in found
               if not op.get("summary") or not op.get("description") or not has_example(op)]
    assert lacking == []


def test_every_documented_error_is_problem_json_with_its_codes(api: TestClient) -> None:
    doc = api.get("/openapi.json").json()
    assert "HTTPValidationError" not in doc["components"]["schemas"]
    for method, path, operation in operations(doc):
        errors = {s: r for s, r in operation["responses"].items() if s[0] in "45"}
        assert {"401", "429", "500"} <= errors.keys() or path.startswith(
            ("/health", "/.well-known", "/v1/registry", "/v1/audit", "/v1/customers",
             "/v1/auth")), (method, path)
        for status, response in errors.items():
            assert list(response["content"]) == [PROBLEM_JSON], (method, path, status)
            examples = response["content"][PROBLEM_JSON]["examples"]
            shared = doc["components"]["examples"]
            values = [shared[e["$ref"].removeprefix("#/components/examples/")]["value"]
                      for e in examples.values()]
            assert [v["code"] for v in values] == list(examples), (method, path, status)
            assert all(v["status"] == int(status) for v in values), (method, path, status)


def documented(doc: dict[str, Any], method: str, url: str) -> dict[str, set[str]]:
    """The codes, by status, the document lists for the operation ``url`` reaches."""
    for path, item in doc["paths"].items():
        pattern = "^" + re.sub(r"\\{[^}]+\\}", "[^/]+", re.escape(path)) + "$"
        if re.match(pattern, url.split("?")[0]) and method.lower() in item:
            return {s: set(r["content"][PROBLEM_JSON]["examples"])
                    for s, r in item[method.lower()]["responses"].items() if s[0] in "45"}
    raise AssertionError(f"{method} {url} is not in the document")


# Real requests that fail, each for another reason.
SAMPLES: list[tuple[str, str, dict[str, Any]]] = [
    ("GET", "/v1/me", {}),                                              # no credentials
    ("GET", "/v1/me", {"headers": {"Authorization": "Bearer nope"}}),
    ("GET", "/v1/me", {"headers": {"Authorization": "Basic eA=="}}),
    ("GET", "/v1/payments/not-a-payment-id", {"staff": True}),         # validation
    ("GET", f"/v1/merchants/{MERCHANT}", {"staff": True}),              # not found
    ("POST", f"/v1/merchants/{MERCHANT}/certification/approve", {"staff": True}),
    ("GET", f"/v1/registry/merchants/{MERCHANT}", {}),
    ("POST", "/v1/customers", {"json": {}}),
    ("POST", "/v1/customers", {"content": b"{" + b" " * 2_000_000 + b"}",
                               "headers": {"Content-Type": "application/json"}}),
    ("POST", "/v1/auth/password", {"json": {"username": "nobody", "password": "x" * 12}}),
    ("GET", "/v1/audit/entries?start=5&end=1", {}),
    ("POST", "/v1/ledgers", {"json": {"currency": "EUR"}}),             # no credentials
    ("GET", "/v1/accounts/acct_nope", {"staff": True}),
]


@pytest.mark.parametrize(("method", "url", "options"), SAMPLES,
                         ids=[f"{m} {u}" for m, u, _ in SAMPLES])
def test_a_real_error_answer_is_one_its_operation_documents(
        api: TestClient, method: str, url: str, options: dict[str, Any]) -> None:
    options = dict(options)
    headers = dict(options.pop("headers", {}))
    if options.pop("staff", False):
        headers.update(bearer(api.headers["X-Staff"]))
    answer = api.request(method, url, headers=headers, **options)
    assert answer.status_code >= 400
    assert answer.headers["content-type"] == PROBLEM_JSON
    body = answer.json()
    assert body["status"] == answer.status_code
    codes = documented(api.get("/openapi.json").json(), method, url)
    assert body["code"] in codes.get(str(answer.status_code), set()), (body, codes)


def test_no_operation_documents_a_code_under_two_statuses(api: TestClient) -> None:
    doc = api.get("/openapi.json").json()
    for method, path, _ in operations(doc):
        by_code: dict[str, set[str]] = {}
        for status, codes in documented(doc, method, path).items():
            for code in codes:
                by_code.setdefault(code, set()).add(status)
        assert {c: s for c, s in by_code.items() if len(s) > 1} == {}, (method, path)


def test_step_up_required_is_documented_as_403_where_a_buyer_pays(api: TestClient) -> None:
    """Decision 0022: the buyer is signed in, so a missing confirmation is 403, not 401."""
    doc = api.get("/openapi.json").json()
    pay = documented(doc, "POST", "/v1/checkout/sessions/cs_" + "0" * 24 + "/pay")
    assert {"step_up_required", "step_up_mismatch"} <= pay["403"]
    assert "step_up_required" not in pay.get("401", set())


def test_a_405_names_every_method_the_path_answers(api: TestClient) -> None:
    answer = api.put("/v1/me/cards")  # GET and POST are two routes of this path
    assert answer.status_code == 405
    assert answer.headers["content-type"] == PROBLEM_JSON
    assert answer.json()["code"] == "method_not_allowed"
    assert answer.headers["allow"] == "GET, POST"
    assert api.delete("/docs").headers["allow"] == "GET"
    assert api.post("/v1/registry/merchants").headers["allow"] == "GET"
