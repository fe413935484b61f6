"""Response body of the back office dashboard (api/dashboard_routes.py)."""

from __future__ import annotations

from pydantic import BaseModel, Field


class VolumeOut(BaseModel):
    count: int = Field(description="Payments paid (created in this hour)", examples=[12])
    amount_minor: int = Field(description="Their sum, in minor units", examples=[129900])


class HourOut(BaseModel):
    start: str = Field(examples=["2026-11-30T12:00:00.000000000Z"])
    volume: dict[str, VolumeOut] = Field(description="Per ISO 4217 currency")
    pays: int
    pays_refused: int = Field(description="Pays refused by risk: no transition was made")
    declines: int = Field(description="Refused by risk, or declined after review")
    disputes: int
    refunds: int
    decline_rate: float | None = Field(description="declines / (pays + pays_refused)")
    dispute_rate: float | None = Field(description="disputes / pays")
    refund_rate: float | None = Field(description="refunds / pays")
    risk_decisions: dict[str, int] = Field(examples=[{"allow": 40, "step_up": 2,
                                                      "review": 1, "decline": 0}])
    transfers: int = Field(description="Ledger transfers committed")


class QueueOut(BaseModel):
    depth: int
    at_least: bool = Field(description="The count stopped at its bound: at least this many")


class DashboardOut(BaseModel):
    at: str = Field(examples=["2026-11-30T12:34:56.000000000Z"])
    hours: list[HourOut] = Field(description="Oldest first; the current hour last")
    queues: dict[str, QueueOut]
