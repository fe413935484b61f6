"""The merchant SDK on its own: what it signs, how it retries, what it raises.

The server is an httpx.MockTransport; every request it receives is kept.
"""

from __future__ import annotations

import json
from collections.abc import Callable

import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from http_message_signatures import (
    HTTPMessageVerifier,
    MappingKeyResolver,
    algorithms,
)

from paywarden.client import (
    AuthenticationFailed,
    Conflict,
    ConnectionFailed,
    InvalidRequest,
    PayWardenClient,
    PayWardenError,
    ServerError,
)

BASE = "https://pay.example"
PROBLEM = {"Content-Type": "application/problem+json"}
Handler = Callable[[httpx.Request], httpx.Response]


class Server:
    def __init__(self, *answers: httpx.Response | Exception) -> None:
        self.answers = list(answers)
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        answer = self.answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer


def _problem(status: int, code: str, **headers: str) -> httpx.Response:
    return httpx.Response(status, json={"code": code, "detail": f"{code} happened"},
                          headers={**PROBLEM, **headers})


def _client(server: Server, key: Ed25519PrivateKey, sleeps: list[float],
            retries_max: int = 3) -> PayWardenClient:
    http = httpx.Client(transport=httpx.MockTransport(server))
    return PayWardenClient(BASE, "key_1", key, retries_max=retries_max, http_client=http,
                           sleep=sleeps.append)


@pytest.fixture
def key() -> Ed25519PrivateKey:
    return Ed25519PrivateKey.generate()


class _Message:
    def __init__(self, request: httpx.Request) -> None:
        self.method = request.method
        self.url = str(request.url)
        self.headers = dict(request.headers)


def test_every_request_is_signed_over_method_target_and_digest(key: Ed25519PrivateKey) -> None:
    server = Server(httpx.Response(201, json={"id": "key_2"}))
    assert _client(server, key, []).add_key(b"PEM", label="x") == {"id": "key_2"}
    [request] = server.requests
    verifier = HTTPMessageVerifier(signature_algorithm=algorithms.ED25519,
                                   key_resolver=MappingKeyResolver(
                                       public_keys={"key_1": key.public_key()}, private_keys={}))
    [result] = verifier.verify(_Message(request), body=request.content,
                               require_components=("@method", "@target-uri", "content-digest",
                                                   "idempotency-key"))
    assert result.parameters["alg"] == "ed25519" and result.parameters["keyid"] == "key_1"
    assert len(str(result.nonce)) >= 22
    assert json.loads(request.content) == {"public_key": "PEM", "label": "x"}


def test_a_get_is_signed_with_the_digest_of_an_empty_body(key: Ed25519PrivateKey) -> None:
    server = Server(httpx.Response(200, json={"id": "mer_1"}))
    _client(server, key, []).me()
    [request] = server.requests
    assert request.headers["content-digest"].startswith("sha-256=:47DEQpj8HBSa+/TImW+5JCeuQeR")
    assert "idempotency-key" not in request.headers


def test_a_post_is_retried_with_the_same_key_and_a_fresh_signature(
        key: Ed25519PrivateKey) -> None:
    server = Server(_problem(503, "overloaded", **{"Retry-After": "2"}),
                    httpx.ConnectError("reset"),
                    _problem(409, "idempotency_in_progress"),
                    httpx.Response(201, json={"ok": True}))
    sleeps: list[float] = []
    assert _client(server, key, sleeps).request("POST", "/v1/things", json={"a": 1}) == {
        "ok": True}
    keys = {r.headers["idempotency-key"] for r in server.requests}
    signatures = {r.headers["signature"] for r in server.requests}
    assert len(server.requests) == 4 and len(keys) == 1 and len(signatures) == 4
    assert sleeps[0] == 2.0  # Retry-After honoured
    assert all(0 <= s <= 5.0 for s in sleeps)


def test_retries_stop_at_the_limit_and_raise_the_last_answer(key: Ed25519PrivateKey) -> None:
    server = Server(*[_problem(503, "overloaded") for _ in range(3)])
    sleeps: list[float] = []
    with pytest.raises(ServerError) as failed:
        _client(server, key, sleeps, retries_max=2).me()
    assert failed.value.code == "overloaded" and failed.value.status == 503
    assert len(server.requests) == 3 and len(sleeps) == 2


def test_a_connection_that_never_comes_raises_connection_failed(key: Ed25519PrivateKey) -> None:
    server = Server(*[httpx.ConnectError("refused") for _ in range(2)])
    with pytest.raises(ConnectionFailed) as failed:
        _client(server, key, [], retries_max=1).me()
    assert failed.value.code == "connection_failed" and isinstance(failed.value, PayWardenError)


def test_a_long_retry_after_is_capped(key: Ed25519PrivateKey) -> None:
    server = Server(_problem(429, "rate_limited", **{"Retry-After": "86400"}),
                    httpx.Response(200, json={}))
    sleeps: list[float] = []
    _client(server, key, sleeps).me()
    assert sleeps == [60.0]


@pytest.mark.parametrize(("status", "code", "error"), [
    (401, "signature_expired", AuthenticationFailed),
    (409, "key_last_active", Conflict),
    (422, "idempotency_key_reused", InvalidRequest),
])
def test_refusals_that_a_retry_cannot_fix_are_raised_at_once(
        key: Ed25519PrivateKey, status: int, code: str, error: type[PayWardenError]) -> None:
    server = Server(_problem(status, code))
    with pytest.raises(error) as refused:
        _client(server, key, []).request("POST", "/v1/things", json={})
    assert refused.value.code == code and refused.value.status == status
    assert len(server.requests) == 1


def test_a_private_key_in_pem_is_accepted(key: Ed25519PrivateKey) -> None:
    from cryptography.hazmat.primitives import serialization

    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                            serialization.NoEncryption())
    server = Server(httpx.Response(200, json={"id": "mer_1"}))
    http = httpx.Client(transport=httpx.MockTransport(server))
    assert PayWardenClient(BASE, "key_1", pem, http_client=http).me() == {"id": "mer_1"}


def test_a_refund_names_its_refund_id_and_a_reused_one_raises_conflict(
        key: Ed25519PrivateKey) -> None:
    first = {"id": "pay_1", "refund": {"id": "rf-1", "amount": 300}}
    server = Server(httpx.Response(201, json=first),
                    _problem(409, "refund_id_reused"))
    with _client(server, key, []) as client:
        assert client.refund("pay_1", amount=300, refund_id="rf-1") == first
        with pytest.raises(Conflict) as reused:
            client.refund("pay_1", amount=301, refund_id="rf-1")
    assert reused.value.code == "refund_id_reused"
    sent = [json.loads(r.content) for r in server.requests]
    assert sent == [{"amount": 300, "refund_id": "rf-1"}, {"amount": 301, "refund_id": "rf-1"}]
    assert all(r.url.path == "/v1/payments/pay_1/refunds" for r in server.requests)
    assert server.requests[0].headers["idempotency-key"] != \
        server.requests[1].headers["idempotency-key"]


def test_a_checkout_names_its_order_ref(key: Ed25519PrivateKey) -> None:
    server = Server(httpx.Response(201, json={"id": "cs_1"}))
    with _client(server, key, []) as client:
        client.create_checkout(order_ref="A-1", items=[{"name": "Lamp", "quantity": 1,
                                                        "unit_amount": 500}],
                               amount=500, currency="EUR",
                               return_url="https://shop.example/done", days_to_ship=3,
                               release_after_days=7)
    assert json.loads(server.requests[0].content) == {
        "order_ref": "A-1", "items": [{"name": "Lamp", "quantity": 1, "unit_amount": 500}],
        "amount": 500, "currency": "EUR", "return_url": "https://shop.example/done",
        "escrow": {"days_to_ship": 3, "release_after_days": 7}}
