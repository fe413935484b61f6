"""Denial of service, attacked through the ASGI app: rate limits, caps, load shedding."""

from __future__ import annotations

import secrets
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from typing import Any

import anyio
import anyio.to_thread
import pytest
from fastapi import Request
from fastapi.testclient import TestClient
from starlette.types import Message

from paywarden.adapters.clock import FakeClock
from paywarden.adapters.store import Database
from paywarden.api import create_app
from paywarden.api import problem_codes as codes
from paywarden.api.defences import BodyCap
from paywarden.api.problems import Problem
from paywarden.bootstrap import Platform, build
from paywarden.domain.identity import Kind, Principal
from paywarden.services.identity.tokens import issue_service_token
from paywarden.settings import Settings

Serve = Callable[..., tuple[TestClient, Platform]]
PROBLEM = "application/problem+json"
WAIT_S = 10


@pytest.fixture
def serve(database: Database, clock: FakeClock, tmp_path: Any) -> Iterator[Serve]:
    """Start the app with some settings changed; the client carries a service token."""
    with ExitStack() as stack:
        def start(*, client: tuple[str, int] = ("testclient", 50000),
                  setup: Callable[[Any], None] | None = None,
                  **overrides: Any) -> tuple[TestClient, Platform]:
            settings = Settings(database_url=database.url, data_dir=tmp_path, **overrides)
            platform = build(settings, clock=clock, database=database)
            app = create_app(platform)
            if setup is not None:
                setup(app)
            test_client = stack.enter_context(TestClient(app, client=client))
            token = issue_service_token(platform.database, platform.sessions, name="tests",
                                        ttl_s=3600, ttl_s_max=3600, actor="cli:test",
                                        now_ns=clock.now_ns()).token
            test_client.headers["Authorization"] = f"Bearer {token}"
            return test_client, platform

        yield start


def assert_rate_limited(r: Any, scope: str) -> int:
    assert r.status_code == 429, r.text
    assert r.headers["content-type"] == PROBLEM
    assert r.json()["code"] == "rate_limited" and r.json()["scope"] == scope
    retry_after = r.headers["retry-after"]
    assert retry_after.isdigit() and int(retry_after) >= 1
    return int(retry_after)


def wait_until(condition: Callable[[], bool]) -> None:
    deadline = time.monotonic() + WAIT_S
    while not condition():
        assert time.monotonic() < deadline, "the condition was never met"
        time.sleep(0.01)


# -- per address -------------------------------------------------------------------


def test_a_burst_over_the_address_limit_gets_429_and_recovers_after_the_window(
        serve: Serve) -> None:
    client, _ = serve(rate_limit_address="5/second")
    anonymous = {"Authorization": ""}
    assert [client.get("/v1/ledgers", headers=anonymous).status_code
            for _ in range(5)] == [401] * 5
    retry_after = assert_rate_limited(client.get("/v1/ledgers"), "address")
    assert retry_after == 1
    for exempt in ("/health/live", "/health/ready", "/metrics"):
        assert client.get(exempt).status_code == 200, exempt
    assert 'paywarden_rate_limited_total{scope="address"}' in client.get("/metrics").text
    time.sleep(retry_after + 0.05)
    assert client.get("/v1/ledgers").status_code == 200


@pytest.mark.parametrize("proxies", [[], ["10.0.0.0/8"]])
def test_a_spoofed_forwarded_for_from_an_untrusted_peer_does_not_evade_the_limit(
        serve: Serve, proxies: list[str]) -> None:
    client, _ = serve(rate_limit_address="3/minute", trusted_proxies=proxies,
                      client=("203.0.113.7", 40000))
    codes = [client.get("/v1/ledgers", headers={"X-Forwarded-For": f"198.51.100.{i}"}
                        ).status_code for i in range(4)]
    assert codes == [200, 200, 200, 429]


def test_behind_a_trusted_proxy_each_client_is_limited_by_its_own_address(
        serve: Serve) -> None:
    client, _ = serve(rate_limit_address="3/minute", trusted_proxies=["10.0.0.0/8"],
                      client=("10.0.0.2", 40000))

    def via(forwarded: str) -> Any:
        return client.get("/v1/ledgers", headers={"X-Forwarded-For": forwarded})

    assert [via("198.51.100.1").status_code for _ in range(3)] == [200] * 3
    assert_rate_limited(via("198.51.100.1"), "address")
    assert_rate_limited(via("6.6.6.6, 198.51.100.1"), "address")  # a prefix of its own
    assert via("198.51.100.2").status_code == 200
    rotating = [via(f"2001:db8:1:2::{i:x}").status_code for i in range(1, 5)]
    assert rotating == [200, 200, 200, 429]  # one /64, one client


# -- per merchant key ----------------------------------------------------------------


def fake_signatures(app: Any) -> None:
    """Stands in for the RFC 9421 verifier: 'good' verifies, anything else is refused."""

    async def verify(request: Request) -> Principal:
        if request.headers["signature"] != "good":
            raise Problem(codes.Signatures.SIGNATURE_INVALID, "the signature does not verify")
        return Principal(kind=Kind.MERCHANT, id="mer_1", roles=frozenset({"merchant"}),
                         owner="mer_1", key_id=request.headers["x-key"])

    app.state.verify_signature = verify


def test_the_merchant_key_limit_counts_only_verified_requests(serve: Serve) -> None:
    client, _ = serve(rate_limit_merchant_key="2/minute", setup=fake_signatures)

    def signed(signature: str, key: str) -> Any:
        return client.get("/v1/me", headers={"Authorization": "", "Signature": signature,
                                             "Signature-Input": "sig=()", "X-Key": key})

    # Forgeries naming a merchant's key must not use up that merchant's allowance.
    assert [signed("forged", "key_a").status_code for _ in range(5)] == [401] * 5
    ok = [signed("good", "key_a") for _ in range(2)]
    assert [r.status_code for r in ok] == [200, 200] and ok[0].json()["key_id"] == "key_a"
    assert_rate_limited(signed("good", "key_a"), "merchant_key")
    assert signed("good", "key_b").status_code == 200


# -- per account ---------------------------------------------------------------------


def test_transfers_debiting_an_account_over_its_limit_are_refused_whole(serve: Serve) -> None:
    client, _ = serve(rate_limit_account="2/minute")
    assert client.post("/v1/ledgers", json={"currency": "EUR"}).status_code == 201
    ids = {name: client.post("/v1/accounts", json={"ledger": "EUR", "code": 1}).json()["id"]
           for name in ("bank", "alice", "bob")}

    def pay(tid: str, debit: str, credit: str) -> dict[str, Any]:
        return {"id": tid, "debit_account_id": ids[debit], "credit_account_id": ids[credit],
                "amount": 100, "ledger": "EUR", "code": 1}

    def submit(*transfers: dict[str, Any]) -> Any:
        return client.post("/v1/transfers", json={"transfers": list(transfers)})

    assert submit(pay("t1", "alice", "bob")).status_code == 200
    assert submit(pay("t2", "alice", "bob"), pay("t3", "alice", "bank")).status_code == 200
    assert_rate_limited(submit(pay("t4", "bob", "bank"), pay("t5", "alice", "bob")), "account")
    assert client.get("/v1/transfers/t4").status_code == 404  # nothing of it applied
    assert client.get("/v1/transfers/t5").status_code == 404
    assert submit(pay("t6", "bank", "alice")).status_code == 200


def test_the_account_limit_is_callable_by_other_services(serve: Serve) -> None:
    _, platform = serve(rate_limit_account="1/minute")
    assert platform.rate_limits.hit("account", "usr_sign_in_target") is None
    wait = platform.rate_limits.hit("account", "usr_sign_in_target")
    assert wait is not None and 1 <= wait <= 60


# -- header and body caps --------------------------------------------------------------


def test_headers_over_the_cap_are_refused_with_431(serve: Serve) -> None:
    client, _ = serve(request_header_bytes_max=4096)
    big = client.get("/v1/ledgers", headers={"X-Pad": "a" * 4096})
    assert big.status_code == 431 and big.json()["code"] == "headers_too_large"
    assert big.headers["connection"] == "close"
    split = client.get("/v1/ledgers", headers={f"X-Pad-{i}": "a" * 300 for i in range(14)})
    assert split.status_code == 431  # many small headers add up
    assert client.get("/v1/ledgers", headers={"X-Pad": "a" * 2048}).status_code == 200


def test_a_chunked_body_over_the_cap_is_refused_with_413(serve: Serve) -> None:
    client, _ = serve(request_body_bytes_max=64 * 1024)

    def chunks(count: int, chunk: bytes) -> Iterator[bytes]:
        for _ in range(count):
            yield chunk

    big = client.post("/v1/ledgers", content=chunks(10, b" " * 16 * 1024),
                      headers={"Content-Type": "application/json"})
    assert big.status_code == 413 and big.json()["code"] == "body_too_large"
    small = client.post("/v1/ledgers", content=chunks(1, b'{"currency": "EUR"}'),
                        headers={"Content-Type": "application/json"})
    assert small.status_code == 201, small.text  # chunked is accepted within the cap
    declared = client.post("/v1/ledgers", content=b"{}", headers={
        "Content-Length": str(64 * 1024 + 1), "Content-Type": "application/json"})
    assert declared.status_code == 413


def test_a_chunked_body_is_refused_as_soon_as_it_passes_the_cap() -> None:
    """An endless chunked body: only the cap can end this request."""
    chunk_bytes, cap = 1024, 10 * 1024
    pulled = 0
    sent: list[Message] = []
    reached_app = False

    async def receive() -> Message:
        nonlocal pulled
        pulled += 1
        return {"type": "http.request", "body": b"x" * chunk_bytes, "more_body": True}

    async def send(message: Message) -> None:
        sent.append(message)

    async def app(scope: Any, receive: Any, send: Any) -> None:
        nonlocal reached_app
        reached_app = True

    scope = {"type": "http", "method": "POST", "path": "/v1/transfers", "root_path": "",
             "query_string": b"", "scheme": "http", "server": ("127.0.0.1", 8000),
             "headers": [(b"transfer-encoding", b"chunked")]}
    anyio.run(BodyCap(app, bytes_max=cap), scope, receive, send)
    assert sent[0]["type"] == "http.response.start" and sent[0]["status"] == 413
    assert pulled == cap // chunk_bytes + 1 and not reached_app


def test_a_post_without_a_length_or_chunks_is_refused_with_411(serve: Serve) -> None:
    client, _ = serve()
    request = client.build_request("POST", "/v1/ledgers")
    request.headers.pop("content-length", None)
    r = client.send(request)
    assert r.status_code == 411 and r.json()["code"] == "length_required"


# -- load shedding ----------------------------------------------------------------------


def test_the_in_flight_cap_sheds_with_503_and_health_still_answers(serve: Serve) -> None:
    gate = threading.Event()

    def slow_route(app: Any) -> None:
        async def slow() -> dict[str, str]:
            await anyio.to_thread.run_sync(gate.wait)
            return {"slow": "done"}

        app.add_api_route("/v1/test/slow", slow)

    client, _ = serve(requests_in_flight_max=2, setup=slow_route)
    in_flight = client.app.state.in_flight  # type: ignore[attr-defined]
    codes: list[int] = []
    threads = [threading.Thread(target=lambda: codes.append(
        client.get("/v1/test/slow").status_code)) for _ in range(2)]
    for t in threads:
        t.start()
    try:
        wait_until(lambda: in_flight.count == 2)
        shed = client.get("/v1/ledgers")
        assert shed.status_code == 503 and shed.json()["code"] == "overloaded"
        assert shed.headers["retry-after"] == "1"
        assert client.get("/health/live").status_code == 200
        assert 'paywarden_shed_total{reason="in_flight"}' in client.get("/metrics").text
    finally:
        gate.set()
        for t in threads:
            t.join(WAIT_S)
    assert codes == [200, 200]
    assert in_flight.count == 0 and client.get("/v1/ledgers").status_code == 200


def test_a_saturated_ledger_queue_sheds_transfers_with_503_and_retry_after(
        serve: Serve, monkeypatch: pytest.MonkeyPatch) -> None:
    client, platform = serve(ledger_queue_depth_max=1)
    assert client.post("/v1/ledgers", json={"currency": "EUR"}).status_code == 201
    a, b = (client.post("/v1/accounts", json={"ledger": "EUR", "code": 1}).json()["id"]
            for _ in range(2))
    engine = platform.engine
    stalled, release = threading.Event(), threading.Event()
    apply_batch = engine._run_transfers

    def stall(*args: Any) -> None:  # the writer is stuck, as on a hung disk
        stalled.set()
        release.wait(WAIT_S)
        apply_batch(*args)

    monkeypatch.setattr(engine, "_run_transfers", stall)

    def submit(tid: str) -> Any:
        return client.post("/v1/transfers", json={"transfers": [{
            "id": tid, "debit_account_id": a, "credit_account_id": b, "amount": 1,
            "ledger": "EUR", "code": 1}]})

    codes: list[int] = []
    first = threading.Thread(target=lambda: codes.append(submit("q1").status_code))
    first.start()
    second = threading.Thread(target=lambda: codes.append(submit("q2").status_code))
    try:
        wait_until(stalled.is_set)
        second.start()
        wait_until(lambda: engine.queue_depth == 1)
        shed = submit("q3")
        assert shed.status_code == 503 and shed.json()["code"] == "engine_overloaded"
        assert shed.headers["retry-after"].isdigit()
    finally:
        release.set()
        first.join(WAIT_S)
        if second.is_alive() or second.ident is not None:
            second.join(WAIT_S)
    assert codes == [200, 200]
    assert client.get("/v1/transfers/q3").status_code == 404


# -- shared across processes ------------------------------------------------------------


def test_with_redis_the_count_is_shared_by_every_api_process(redis_url: str) -> None:
    from paywarden.services.ratelimit import RateLimits

    key = f"203.0.113.{secrets.randbelow(250)}-{secrets.token_hex(4)}"
    other_process = subprocess.run([sys.executable, "-c", (
        "import sys\nfrom paywarden.services.ratelimit import RateLimits\n"
        "rl = RateLimits(storage_uri=sys.argv[1], limits={'address': '3/minute', "
        "'merchant_key': '3/minute', 'account': '3/minute'})\n"
        "print([rl.hit('address', sys.argv[2]) for _ in range(3)])"), redis_url, key],
        capture_output=True, text=True, timeout=60, check=False)
    assert other_process.stdout.strip() == "[None, None, None]", other_process.stderr
    here = RateLimits(storage_uri=redis_url, limits={"address": "3/minute",
                                                     "merchant_key": "3/minute",
                                                     "account": "3/minute"})
    assert here.shared
    wait = here.hit("address", key)
    assert wait is not None and 1 <= wait <= 60


def test_with_redis_the_app_refuses_a_burst_from_one_address(serve: Serve,
                                                             redis_url: str) -> None:
    address = f"10.{secrets.randbelow(256)}.{secrets.randbelow(256)}.{secrets.randbelow(256)}"
    client, platform = serve(rate_limit_address="3/minute", redis_url=redis_url,
                             client=(address, 40000))
    assert platform.rate_limits.shared
    assert [client.get("/v1/ledgers").status_code for _ in range(3)] == [200] * 3
    assert_rate_limited(client.get("/v1/ledgers"), "address")
