"""Liveness, readiness and Prometheus metrics: no token needed, no data revealed."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from sqlalchemy import text

from .problems import Problem

router = APIRouter()


@router.get("/health/live")
def live() -> dict[str, str]:
    return {"status": "ok"}


@router.get("/health/ready")
def ready(request: Request) -> dict[str, str]:
    p = request.app.state.platform
    try:
        with p.database.engine.connect() as conn:
            conn.execute(text("SELECT 1 FROM ledger_state WHERE id = 1")).one()
    except Exception:  # noqa: BLE001 - readiness probe: any failure means not ready
        raise Problem(
            503,
            "not_ready",
            "the database is not reachable or not initialised",
            headers={"Retry-After": "1"},
        ) from None
    if not p.engine.running:
        raise Problem(
            503, "not_ready", "the ledger engine is not running", headers={"Retry-After": "1"}
        )
    return {"status": "ready"}


@router.get("/metrics", include_in_schema=False)
def metrics() -> Response:
    return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)
