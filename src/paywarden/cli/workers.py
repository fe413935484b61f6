"""``paywarden serve --workers N``: N serving processes on one listening socket.

The parent claims the port (``serving.claim``), then forks N workers before it starts
anything else; each worker opens its own platform (its connections, its engine, its
chores) and serves on the inherited socket, so the kernel spreads the connections
among them. They share what must be shared through the database (signature nonces,
idempotency keys, the ledger) and Redis (rate limits), as separate servers behind a load
balancer do; so several workers need PostgreSQL and ``PAYWARDEN_REDIS_URL``.

The parent only supervises. SIGTERM or Ctrl+C is passed to every worker. A worker
that ends on its own, a crash above all (exit 70, services/failstop.py), stops the
others and the parent exits with its code: crash, don't limp.
"""

from __future__ import annotations

import os
import signal
import traceback
from collections.abc import Callable
from types import FrameType

import typer

from ..settings import Settings
from .preflight import Unusable

WORKERS_MAX = 64


def check_workers(settings: Settings, workers: int) -> None:
    """:class:`Unusable` unless ``workers`` processes can serve this store correctly."""
    if workers == 1:
        return
    if not 1 <= workers <= WORKERS_MAX:
        raise Unusable(f"--workers {workers} is out of range", f"give 1 to {WORKERS_MAX}")
    if not settings.database.startswith("postgresql"):
        raise Unusable("several workers need PostgreSQL: SQLite has one writer, and one "
                       "serving process per file", "drop --workers, or serve PostgreSQL "
                       "(PAYWARDEN_DATABASE_URL)")
    if not settings.redis_url:
        raise Unusable("several workers need a shared rate-limit store: each would count "
                       "alone and let N times the limit through",
                       "set PAYWARDEN_REDIS_URL, or drop --workers")


def supervise(workers: int, serve: Callable[[], None]) -> None:
    """Fork ``workers`` processes running ``serve`` and wait for them; exits with the
    first non-zero code any of them ended with (0 once all stopped cleanly)."""
    children: set[int] = set()
    for _ in range(workers):
        pid = os.fork()
        if pid == 0:  # the worker
            os._exit(_run(serve))
        children.add(pid)
    stopping = False

    def stop_all(signum: int, _frame: FrameType | None) -> None:
        nonlocal stopping
        stopping = True
        for child in children:
            _kill(child, signal.SIGTERM)

    signal.signal(signal.SIGTERM, stop_all)
    signal.signal(signal.SIGINT, stop_all)
    code = 0
    while children:
        try:
            pid, status = os.wait()
        except ChildProcessError:
            break
        children.discard(pid)
        ended = os.waitstatus_to_exitcode(status)
        # uvicorn ends a graceful stop by raising the signal again: SIGTERM we sent is clean.
        asked = stopping and ended == -signal.SIGTERM
        if ended != 0 and not asked and code == 0:
            code = ended if ended > 0 else 128 - ended  # killed by a signal: 128 + its number
        if not stopping:  # a worker ended on its own: the rest stop too
            stop_all(signal.SIGTERM, None)
    raise typer.Exit(code)


def _run(serve: Callable[[], None]) -> int:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent passes Ctrl+C on as SIGTERM
    try:
        serve()
    except typer.Exit as exc:
        return int(exc.exit_code)
    except BaseException:  # noqa: BLE001 - a worker's end is its exit code
        traceback.print_exc()
        return 1
    return 0


def _kill(pid: int, sig: int) -> None:
    try:
        os.kill(pid, sig)
    except ProcessLookupError:
        pass
