"""Response bodies of staff alerts (api/alert_routes.py)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field


class AlertOut(BaseModel):
    id: str = Field(examples=["alr_5f0c9a7d2b1e4c8a9d3f6e21"])
    kind: str = Field(examples=["safeguarding.shortfall"])
    severity: Literal["info", "warning", "critical"]
    subject: str = Field(examples=["EUR e-money is not fully safeguarded: 500 short"])
    detail: dict[str, Any] = Field(description="Ids and figures; never personal data",
                                   examples=[{"currency": "EUR", "shortfall_minor": 500}])
    created_at: str = Field(examples=["2026-11-30T12:00:00.000000000Z"])
    acknowledged_by: str | None = Field(examples=["usr_0a1b2c3d4e5f6a7b"])
    acknowledged_at: str | None = Field(examples=["2026-11-30T12:05:00.000000000Z"])


class AlertsOut(BaseModel):
    data: list[AlertOut]
    next_cursor: str | None = Field(description="Pass as ``before`` for the next page",
                                    examples=[None])
