"""Liveness, readiness and Prometheus metrics: no token needed, no data revealed.

A process that has failed (services/failstop.py) is neither live nor ready: it is
stopping, and a load balancer must send nothing more to it.
"""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from sqlalchemy import text

from ..adapters.store import DatabaseFileLost
from . import problem_codes as codes
from .problems import Problem

router = APIRouter()
RETRY_AFTER = {"Retry-After": "1"}
# The ledger is there and the server takes writes (PostgreSQL: not a replica).
_PRIMARY = {
    "sqlite": "SELECT 0 FROM ledger_state WHERE id = 1",
    "postgresql": "SELECT pg_is_in_recovery() FROM ledger_state WHERE id = 1",
}


def _failed() -> Problem:
    return Problem(codes.Edge.PROCESS_FAILED, "this process has failed and is stopping",
                   headers=RETRY_AFTER)


@router.get("/health/live")
def live(request: Request) -> dict[str, str]:
    """Is the process alive.

    200 while the process runs, even when it sheds load; 503 `process_failed` once it has failed
    and is stopping. For liveness probes.
    """
    if request.app.state.platform.failstop.failed:
        raise _failed()
    return {"status": "ok"}


@router.get("/health/ready")
def ready(request: Request) -> dict[str, str]:
    """Is the process ready for traffic.

    200 when the database answers, takes writes, the ledger engine runs and the platform's files are
    its release's; 503 with `Retry-After` otherwise (on a PostgreSQL cluster: while it has no
    primary; `integrity_compromised` while a file differs or a key is exposed). For readiness probes and load
    balancers.
    """
    p = request.app.state.platform
    if p.failstop.failed:
        raise _failed()
    if p.integrity.compromised is not None:
        raise Problem(codes.Edge.INTEGRITY_COMPROMISED, "the platform's files differ from its "
                      "release or its keys are exposed; see `paywarden integrity verify`",
                      headers=RETRY_AFTER)
    try:
        p.database.check_file()  # the file's watchers fail the process if it is lost
    except DatabaseFileLost:
        raise _failed() from None
    try:
        with p.database.engine.connect() as conn:
            read_only = conn.execute(text(_PRIMARY[p.database.dialect])).scalar_one()
    except Exception:  # noqa: BLE001 - readiness probe: any failure means not ready
        raise Problem(
            codes.Edge.NOT_READY,
            "the database is not reachable or not initialised",
            headers=RETRY_AFTER,
        ) from None
    if read_only:
        raise Problem(codes.Edge.NOT_READY, "the database takes no writes now (a replica, or "
                      "a failover under way)", headers=RETRY_AFTER)
    if not p.engine.running:
        raise Problem(codes.Edge.NOT_READY, "the ledger engine is not running", headers=RETRY_AFTER)
    return {"status": "ready"}


@router.get("/metrics", include_in_schema=False)
def metrics() -> Response:
    return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)
