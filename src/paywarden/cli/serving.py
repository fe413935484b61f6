"""Serving: where (the origin and the address), the port and the file claimed first, then
uvicorn.

``serve`` and ``run`` claim what they need before they write anything: the
listening socket (a busy port is refused before a demo or a token is made) and,
on SQLite, the file's serving lock (a second server on one file is refused).
uvicorn is then handed the bound socket, so no other process can take the port
in between.
"""

from __future__ import annotations

import logging
import socket
from dataclasses import dataclass
from typing import Any

import typer

from ..adapters.store.probe import sqlite_path
from ..adapters.store.serving_lock import AlreadyServed, ServingLock
from ..origins import origin_for, rp_id_for
from ..settings import Settings
from .common import err, open_platform
from .preflight import Unusable

REQUEST_LINE_BYTES_MAX = 8 * 1024
BACKLOG = 2048


def served_at(settings: Settings, *, host: str | None, port: int | None) -> Settings:
    """Settings for serving on ``host:port``: the public origin is ``PAYWARDEN_PUBLIC_URL``
    or, when it is not set, derived from where we listen (``origins.py``); listening on a
    non-loopback address without it raises :class:`~paywarden.origins.OriginError`."""
    update: dict[str, Any] = {"host": host or settings.host, "port": port or settings.port}
    if "public_url" not in settings.model_fields_set:
        update["public_url"] = origin_for(update["host"], update["port"])
    if "webauthn_rp_id" not in settings.model_fields_set:
        update["webauthn_rp_id"] = rp_id_for(update.get("public_url", settings.public_url))
    return settings.model_copy(update=update)


@dataclass
class Claimed:
    """What a server holds before it writes: its listening socket and its file's lock."""

    sock: socket.socket
    lock: ServingLock | None

    def release(self) -> None:
        self.sock.close()
        if self.lock is not None:
            self.lock.release()


def claim(settings: Settings) -> Claimed:
    """Bind the port, then lock the SQLite file; :class:`Unusable` if either is taken."""
    sock = _listen(settings.host, settings.port)
    try:
        return Claimed(sock, _lock(settings))
    except BaseException:
        sock.close()
        raise


def _listen(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # The protocol must be named: asyncio sets TCP_NODELAY on an accepted connection only
    # when its socket says IPPROTO_TCP (base_events._set_nodelay), and uvicorn's own bind
    # gets that from getaddrinfo. With proto 0, every small answer waited for the client's
    # delayed ACK (about 40 ms): /health/live fell from 1,200 to 175 requests/s.
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as uvicorn binds
    try:
        sock.bind((host.strip("[]"), port))
    except OSError as exc:
        sock.close()
        raise Unusable(f"cannot listen on {host}:{port}: {exc.strerror or exc} (is PayWarden "
                       "or another server already running there?)",
                       "stop it, or choose another port: --port or PAYWARDEN_PORT") from None
    sock.set_inheritable(True)
    return sock


def _lock(settings: Settings) -> ServingLock | None:
    path = sqlite_path(settings.database)
    if path is None:
        return None
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        return ServingLock.take(path)
    except AlreadyServed as exc:
        raise Unusable(f"another PayWarden server (pid {exc.pid}) is serving {exc.path}",
                       "stop it first, or give this one its own PAYWARDEN_DATA_DIR") from None


def serve_claimed(settings: Settings, claimed: Claimed) -> None:
    """Serve on the claimed socket until stopped. Exits 70 on a broken invariant."""
    import uvicorn

    from ..api import create_app
    from ..services.failstop import EXIT_CODE

    platform = open_platform(settings)
    server = uvicorn.Server(uvicorn.Config(
        create_app(platform), host=settings.host, port=settings.port, log_config=None,
        server_header=False, **_edge_limits(settings)))

    def stop_server() -> None:
        server.should_exit = True  # uvicorn's own graceful stop, as on SIGTERM

    platform.failstop.arm(stop_server=stop_server)
    platform.integrity.arm()  # checked again now, then every integrity_interval_s
    platform.start_background()
    # uvicorn names the address it binds; with a socket handed in it says nothing, so the
    # line is ours, and names the origin clients must use.
    logging.getLogger("uvicorn.error").info(
        "PayWarden running on %s (listening on %s:%d; press CTRL+C to quit)",
        settings.public_url, settings.host, settings.port)
    try:
        server.run(sockets=[claimed.sock])
    except KeyboardInterrupt:  # Ctrl+C, re-raised by uvicorn once it has shut down
        pass
    finally:
        claimed.release()
    if platform.failstop.failed:
        platform.failstop.stopped()
        raise typer.Exit(EXIT_CODE)
    if not server.started:
        err.print("[red]the server did not start; its log says why[/red]")
        raise typer.Exit(3)  # as uvicorn.run: the server did not start


def _edge_limits(settings: Settings) -> dict[str, Any]:
    """What uvicorn may hold before the app sees a request (the app checks again, finer).

    h11 refuses (400) a request head larger than the header cap plus a request
    line, before buffering more; the app's own cap answers 431 below that.
    """
    return {
        "http": "h11",  # the parser these limits apply to
        "h11_max_incomplete_event_size": settings.request_header_bytes_max
        + REQUEST_LINE_BYTES_MAX,
        "limit_concurrency": settings.connections_max,  # beyond: 503 from uvicorn itself
        "timeout_keep_alive": 5,
        "backlog": BACKLOG,
    }
