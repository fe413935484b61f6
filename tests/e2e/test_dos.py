"""Denial of service against a real `paywarden serve` process, over real TCP."""

from __future__ import annotations

import json
import math
import os
import socket
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

from .server import free_port, paywarden, serving

BODY_BYTES_MAX = 64 * 1024
HEADER_BYTES_MAX = 16 * 1024
HEAD_SLACK_BYTES = 8 * 1024  # the request line allowance in cli/platform.py
BURST = 200
RATE_COUNT, RATE_WINDOW_S = 20, 2
RATE = f"{RATE_COUNT}/{RATE_WINDOW_S} seconds"


@pytest.fixture
def server(database_url: str, tmp_path: Path) -> Iterator[tuple[str, str]]:
    env = {**os.environ, "PAYWARDEN_DATABASE_URL": database_url,
           "PAYWARDEN_DATA_DIR": str(tmp_path), "PAYWARDEN_LOG_JSON": "true",
           "PAYWARDEN_RATE_LIMIT_ADDRESS": RATE,
           "PAYWARDEN_REQUEST_BODY_BYTES_MAX": str(BODY_BYTES_MAX),
           "PAYWARDEN_REQUEST_HEADER_BYTES_MAX": str(HEADER_BYTES_MAX)}
    paywarden(env, "init")
    token = json.loads(paywarden(env, "tokens", "issue", "--role", "operator", "--json")
                       .stdout)["token"]
    with serving(env, free_port(), tmp_path / "server.log") as base:
        yield base, token
    assert token not in (tmp_path / "server.log").read_text(), "the token reached a log"


def test_a_burst_is_rate_limited_while_the_server_stays_healthy(
        server: tuple[str, str]) -> None:
    base, token = server
    auth = {"Authorization": f"Bearer {token}"}
    health: list[int] = []
    bursting = threading.Event()
    bursting.set()

    def probe() -> None:
        with httpx.Client(base_url=base, timeout=10) as client:
            while bursting.is_set():
                health.append(client.get("/health/live").status_code)
                time.sleep(0.02)

    prober = threading.Thread(target=probe)
    prober.start()
    try:
        with httpx.Client(base_url=base, headers=auth, timeout=30) as client, \
                ThreadPoolExecutor(8) as pool:
            started = time.monotonic()
            answers = list(pool.map(lambda _: client.get("/v1/ledgers"), range(BURST)))
            windows = math.ceil((time.monotonic() - started) / RATE_WINDOW_S) + 1
    finally:
        bursting.clear()
        prober.join(30)
    codes = [r.status_code for r in answers]
    assert set(codes) <= {200, 429}, codes
    assert 0 < codes.count(200) <= RATE_COUNT * windows  # a window's worth per window
    limited = next(r for r in answers if r.status_code == 429)
    assert limited.json()["code"] == "rate_limited"
    retry_after = int(limited.headers["retry-after"])
    assert 1 <= retry_after <= 2
    assert health and set(health) == {200}
    time.sleep(retry_after + 0.1)
    assert httpx.get(f"{base}/v1/ledgers", headers=auth, timeout=10).status_code == 200


def _raw(base: str) -> socket.socket:
    host, port = base.removeprefix("http://").split(":")
    sock = socket.create_connection((host, int(port)), timeout=10)
    return sock


def _status_line(sock: socket.socket) -> str:
    data = b""
    while b"\r\n" not in data:
        chunk = sock.recv(4096)
        if not chunk:
            break
        data += chunk
    return data.split(b"\r\n", 1)[0].decode()


def test_an_endless_chunked_body_is_refused_once_it_passes_the_cap(
        server: tuple[str, str]) -> None:
    base, token = server
    with _raw(base) as sock:
        sock.sendall(("POST /v1/ledgers HTTP/1.1\r\nHost: pay.test\r\n"
                      f"Authorization: Bearer {token}\r\nContent-Type: application/json\r\n"
                      "Transfer-Encoding: chunked\r\n\r\n").encode())
        chunk = 16 * 1024
        for _ in range(BODY_BYTES_MAX // chunk):
            sock.sendall(f"{chunk:x}\r\n".encode() + b" " * chunk + b"\r\n")
        sock.sendall(b"1\r\n \r\n")  # one byte over the cap; the body never ends
        assert _status_line(sock) == "HTTP/1.1 413 Request Entity Too Large"
    assert httpx.get(f"{base}/health/live", timeout=10).status_code == 200


def test_oversized_headers_are_refused_by_the_app_and_an_endless_head_by_the_server(
        server: tuple[str, str]) -> None:
    base, _ = server
    over = httpx.get(f"{base}/v1/ledgers", headers={"X-Pad": "a" * HEADER_BYTES_MAX},
                     timeout=10)
    assert over.status_code == 431 and over.json()["code"] == "headers_too_large"
    # A head that never ends: the server must stop buffering it, not wait for the end.
    with _raw(base) as sock:
        head = b"GET /v1/ledgers HTTP/1.1\r\nHost: pay.test\r\n" + b"".join(
            f"X-Pad-{i}: ".encode() + b"a" * 1000 + b"\r\n"
            for i in range((HEADER_BYTES_MAX + HEAD_SLACK_BYTES) // 1000 + 2))
        sock.sendall(head)  # all at once, then silence: the blank line never comes
        assert _status_line(sock) == "HTTP/1.1 400 Bad Request"
    assert httpx.get(f"{base}/health/live", timeout=10).status_code == 200
