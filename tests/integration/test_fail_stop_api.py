"""Crash, don't limp, through the API: a broken invariant answers 503 (not 500), fails
readiness and liveness, and every later request but health is refused; a SQLite file
removed under the process is noticed at the next commit, which is not acknowledged."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi import Request
from fastapi.testclient import TestClient
from starlette.types import ASGIApp, Receive, Scope, Send

from paywarden.adapters.clock import FakeClock
from paywarden.adapters.store import Database, open_database
from paywarden.api import create_app
from paywarden.bootstrap import Platform, build
from paywarden.domain.errors import InvariantViolation
from paywarden.settings import Settings
from tests.support.logs import failstop_logs
from tests.support.platform import bearer, staff_token


def _client(platform: Platform) -> Iterator[TestClient]:
    app = create_app(platform)

    @app.post("/v1/test/broken")
    def broken(request: Request) -> None:
        raise InvariantViolation("a payment's legs do not balance")

    with TestClient(app, raise_server_exceptions=False) as client:
        client.headers.update(bearer(staff_token(platform, "operator")))
        yield client


@pytest.fixture
def api(database: Database, clock: FakeClock, tmp_path: Path) -> Iterator[TestClient]:
    platform = build(Settings(database_url=database.url, data_dir=tmp_path), clock=clock,
                     database=database)
    yield from _client(platform)


def _assert_failed(api: TestClient) -> None:
    for path in ("/health/ready", "/health/live"):
        r = api.get(path)
        assert r.status_code == 503 and r.json()["code"] == "process_failed", path
    r = api.post("/v1/ledgers", json={"currency": "EUR"})
    assert r.status_code == 503 and r.json()["code"] == "process_failed"
    assert api.get("/v1/ledgers").status_code == 503
    assert api.get("/metrics").status_code == 200


def test_a_broken_invariant_in_a_route_fails_the_process_with_503(api: TestClient) -> None:
    assert api.get("/health/ready").status_code == 200
    with failstop_logs() as logs:
        r = api.post("/v1/test/broken")
    assert r.status_code == 503 and r.json()["code"] == "process_failed"
    assert r.headers["Retry-After"] == "1"
    critical = [e for e in logs if e["log_level"] == "critical"]
    assert critical and "/v1/test/broken" in critical[0]["reason"]
    assert isinstance(critical[0]["exc_info"][1], InvariantViolation)
    _assert_failed(api)


class _BrokenMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"] == "/v1/test/broken-outside":
            raise InvariantViolation("a middleware saw a broken state")
        await self.app(scope, receive, send)


def test_a_broken_invariant_outside_the_routes_also_fails_the_process(
        database: Database, clock: FakeClock, tmp_path: Path) -> None:
    platform = build(Settings(database_url=database.url, data_dir=tmp_path), clock=clock,
                     database=database)
    app = create_app(platform)
    app.add_middleware(_BrokenMiddleware)
    with TestClient(app, raise_server_exceptions=False) as api, failstop_logs():
        r = api.post("/v1/test/broken-outside")
        assert r.status_code == 503 and r.json()["code"] == "process_failed"
        assert platform.failstop.failed
        assert api.get("/health/ready").status_code == 503


@pytest.fixture
def sqlite_api(tmp_path: Path, clock: FakeClock) -> Iterator[tuple[TestClient, Path]]:
    path = tmp_path / "db" / "paywarden.db"
    database = open_database(f"sqlite:///{path}")
    database.migrate()
    platform = build(Settings(database_url=database.url, data_dir=tmp_path), clock=clock,
                     database=database)
    for client in _client(platform):
        yield client, path
    database.dispose()


def test_a_write_after_the_sqlite_file_was_removed_is_not_acknowledged(
        sqlite_api: tuple[TestClient, Path]) -> None:
    api, path = sqlite_api
    assert api.post("/v1/ledgers", json={"currency": "EUR"}).status_code == 201
    os.unlink(path)
    with failstop_logs() as logs:
        r = api.post("/v1/ledgers", json={"currency": "USD"})
    assert r.status_code == 503 and r.json()["code"] == "process_failed"  # never 2xx
    assert any(e["log_level"] == "critical" and "removed" in e["reason"] for e in logs)
    _assert_failed(api)
    assert not path.exists()  # no empty database was made in its place


def test_readiness_notices_a_replaced_sqlite_file_before_any_write(
        sqlite_api: tuple[TestClient, Path]) -> None:
    api, path = sqlite_api
    assert api.get("/health/ready").status_code == 200
    os.replace(_copy_of(path), path)  # e.g. an old copy put back by hand
    with failstop_logs():
        assert api.get("/health/ready").status_code == 503
    _assert_failed(api)


def _copy_of(path: Path) -> Path:
    copy = path.with_name("copy.db")
    copy.write_bytes(path.read_bytes())
    return copy
