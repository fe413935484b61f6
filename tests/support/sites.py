"""A tiny local web site for domain verification tests: paths mapped to canned answers."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class Site:
    port: int = 0
    pages: dict[str, tuple[int, bytes, dict[str, str]]] = field(default_factory=dict)
    hosts: list[str] = field(default_factory=list)  # the Host header of every request

    def serve(self, path: str, body: bytes, status: int = 200,
              headers: dict[str, str] | None = None) -> None:
        self.pages[path] = (status, body, headers or {})


@contextmanager
def local_site() -> Iterator[Site]:
    site = Site()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            site.hosts.append(self.headers.get("Host", ""))
            status, body, headers = site.pages.get(self.path, (404, b"not found", {}))
            self.send_response(status)
            for name, value in headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    site.port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield site
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
