"""The whole API against its own OpenAPI document, by schemathesis: no operation answers a
server error, and every answer (status, content type, headers, body) is one the document
describes. Bounded: a few examples per operation and a deadline, on SQLite only (the
storage tests cover PostgreSQL).

Each operation is called with the credentials it is meant for, so that the examples reach
past authentication: merchant operations are signed (RFC 9421) with a certified merchant's
key, customer operations carry a signed-in customer's bearer token, and staff operations a
staff token of the role that may use them.
"""

from __future__ import annotations

import contextlib
import json
import secrets
from collections.abc import Generator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Flaky
from schemathesis.checks import not_a_server_error
from schemathesis.core.failures import Failure, FailureGroup
from schemathesis.core.transport import Response
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from paywarden.adapters.clock import FakeClock
from paywarden.adapters.store import open_database
from paywarden.api import create_app
from paywarden.bootstrap import Platform, build
from paywarden.services.identity.users import User
from paywarden.settings import Settings

from ..support.certify import certify
from ..support.identity import new_customer, signed_in_token
from ..support.merchants import Creds, make_merchant, now_s, signature_headers
from ..support.platform import bearer, staff_token

Case = schemathesis.Case[Any]
PUBLIC_URL = "https://pay.example"
EXAMPLES_PER_OPERATION_MAX = 30
FAILURE_CHARS_MAX = 2_000  # of each operation's report
SCENARIOS_MAX = 150
SCENARIO_STEPS_MAX = 20
PHASES = (Phase.explicit, Phase.generate, Phase.shrink)  # no example database, no replay
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance,
          response_headers_conformance, response_schema_conformance]

# Who each operation is for: the first matching (method, path prefix) wins. Anything
# left over is public (health, registry, sign-in) and is sent without credentials.
MERCHANT = "merchant"
CUSTOMER = "customer"
CALLERS: list[tuple[str, str, str]] = [
    ("", "/v1/merchants/me", MERCHANT),
    ("POST", "/v1/checkout/sessions/{session_id}/pay", CUSTOMER),
    ("POST", "/v1/checkout/sessions", MERCHANT),
    ("GET", "/v1/payments/parked", "risk"),
    ("POST", "/v1/payments/{payment_id}/disputes/decision", "risk"),
    ("POST", "/v1/payments/{payment_id}/disputes/answer", MERCHANT),
    ("POST", "/v1/payments/{payment_id}/confirm", CUSTOMER),
    ("POST", "/v1/payments/{payment_id}/disputes", CUSTOMER),
    ("", "/v1/payments", MERCHANT),
    ("", "/v1/me", CUSTOMER),
    ("", "/v1/auth/passkeys/signin", "public"),
    ("", "/v1/auth/passkeys", CUSTOMER),
    ("", "/v1/auth/step-up", CUSTOMER),
    ("", "/v1/auth/sign-out", CUSTOMER),
    ("", "/v1/evidence", "risk"),
    ("", "/v1/audit", "supervisor"),
    ("", "/v1/merchants", "merchant_admin"),
    ("", "/v1/staff/customers", "support"),
    ("", "/v1/staff", "security_admin"),
    ("", "/v1/ledgers", "operator"),
    ("", "/v1/accounts", "operator"),
    ("", "/v1/transfers", "operator"),
]


def caller_of(method: str, path: str) -> str:
    for wanted, prefix, caller in CALLERS:
        if wanted in ("", method) and (path == prefix or path.startswith(prefix + "/")):
            return caller
    return ""


class MerchantSignature(httpx.Auth):
    """Signs the request exactly as sent (target URI, body), as the merchant SDK does."""

    requires_request_body = True

    def __init__(self, creds: Creds, platform: Platform) -> None:
        self.creds, self.platform = creds, platform

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        target = request.url.raw_path.decode("ascii")
        request.headers.update(signature_headers(self.creds, request.method, target,
                                                 request.content,
                                                 created_s=now_s(self.platform)))
        if request.method == "POST" and "idempotency-key" not in request.headers:
            request.headers["Idempotency-Key"] = "idk_" + secrets.token_hex(8)
        yield request


@dataclass
class Api:
    client: TestClient
    merchant: MerchantSignature
    tokens: dict[str, str]
    platform: Platform
    customer: User

    def send(self, case: Case) -> httpx.Response:
        kwargs = case.as_transport_kwargs(base_url=PUBLIC_URL)
        if "json" in kwargs:
            content: bytes | None = json.dumps(kwargs.pop("json")).encode()
        else:
            data = kwargs.pop("data", None)
            content = data.encode() if isinstance(data, str) else data
        caller = caller_of(case.method.upper(), case.operation.path)
        headers = dict(kwargs["headers"])
        if caller == CUSTOMER:  # a session each: some examples end theirs (sign-out, password)
            headers.update(bearer(signed_in_token(self.platform, self.customer)))
        elif caller in self.tokens:
            headers.update(bearer(self.tokens[caller]))
        response: httpx.Response = self.client.request(
            case.method, kwargs["url"], params=kwargs.get("params"), content=content,
            headers=headers, cookies=kwargs.get("cookies") or None,
            auth=self.merchant if caller == MERCHANT else httpx.USE_CLIENT_DEFAULT)
        return response


@pytest.fixture
def api(tmp_path: Path) -> Iterator[Api]:
    database = open_database(f"sqlite:///{tmp_path}/paywarden.db")
    database.migrate()
    platform = build(Settings(
        database_url=database.url, data_dir=tmp_path, public_url=PUBLIC_URL,
        webauthn_rp_id="pay.example",
        # Many requests from one test address, all of them wanted.
        rate_limit_address="100000/minute", rate_limit_merchant_key="100000/minute",
        rate_limit_account="100000/minute",
        # The cheapest password hashing allowed: sign-up and sign-in are examples too.
        password_time_cost=2, password_memory_kib=19 * 1024,
    ), clock=FakeClock(), database=database)
    merchant = make_merchant(platform)
    certify(platform, merchant.merchant_id)
    tokens = {role: staff_token(platform, role)
              for role in ("operator", "risk", "support", "merchant_admin", "security_admin",
                           "supervisor")}
    with TestClient(create_app(platform), base_url=PUBLIC_URL,
                    raise_server_exceptions=False) as client:
        yield Api(client, MerchantSignature(merchant, platform), tokens, platform,
                  new_customer(platform, "alice"))
    database.dispose()


def api_schema(api: Api) -> Any:
    """The document the app serves, loaded by schemathesis."""
    return schemathesis.openapi.from_dict(api.client.get("/openapi.json").json())


def operations(api: Api) -> Iterator[Any]:
    for result in api_schema(api).get_all_operations():
        yield result.ok()


def failure_of(operation: Any, api: Api) -> str | None:
    """The first failure schemathesis finds in ``operation``, shrunk, or None."""

    @given(case=operation.as_strategy())
    @settings(max_examples=EXAMPLES_PER_OPERATION_MAX, deadline=None, derandomize=True,
              database=None, suppress_health_check=list(HealthCheck), phases=PHASES)
    def examples(case: Case) -> None:
        case.validate_response(api.send(case), checks=CHECKS)

    try:
        examples()
    except (Failure, FailureGroup) as exc:
        return f"{operation.label}: {exc}"[:FAILURE_CHARS_MAX]
    return None


def test_no_operation_answers_a_server_error_or_an_answer_its_document_does_not_describe(
        api: Api) -> None:
    found = [failure_of(operation, api) for operation in operations(api)]
    assert len(found) > 80
    failures = [f for f in found if f is not None]
    assert failures == [], "\n\n".join(failures)


def test_linked_operations_use_each_others_answers_without_a_server_error_or_a_stray_answer(
        api: Api) -> None:
    """Stateful: links that schemathesis infers from the document (an id one operation
    answers is a path parameter of another) chain the calls, reaching real objects.

    The app's state lives on between scenarios, so a scenario Hypothesis replays may meet
    other answers and draw differently (``Flaky``); that ends the run, as it does in
    schemathesis's own runner. Failures are recorded as they happen, so none is lost.
    """
    failures: list[str] = []
    steps: list[str] = []

    class Linked(api_schema(api).as_state_machine()):  # type: ignore[misc]
        def call(self, case: Case, **kwargs: Any) -> Response:
            steps.append(case.operation.label)
            return Response.from_any(api.send(case))

        def validate_response(self, response: Response, case: Case,
                              additional_checks: Any = None, **kwargs: Any) -> None:
            try:
                case.validate_response(response, checks=CHECKS)
            except (Failure, FailureGroup) as exc:
                failures.append(f"{case.operation.label}: {exc}"[:FAILURE_CHARS_MAX])

    with contextlib.suppress(Flaky):
        Linked.run(settings=settings(
            max_examples=SCENARIOS_MAX, stateful_step_count=SCENARIO_STEPS_MAX, deadline=None,
            derandomize=True, database=None, suppress_health_check=list(HealthCheck)))
    assert len(steps) >= SCENARIOS_MAX, "the run ended too soon to mean much"
    assert failures == [], "\n\n".join(sorted(set(failures)))
