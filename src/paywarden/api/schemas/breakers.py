"""Request and response bodies of circuit breakers (api/breaker_routes.py)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from ..text import Prose
from . import Strict


class PendingResetOut(BaseModel):
    """A reset waiting in the approvals inbox (kind ``breaker_reset``)."""

    id: str = Field(description="The approval's id", examples=["apr_5f0c9a7d2b1e4c8a9d3f6e21"])
    breaker_id: str = Field(examples=["brk_5f0c9a7d2b1e4c8a9d3f6e21"])
    requested_by: str = Field(examples=["usr_0a1b2c3d4e5f6a7b"])
    reason: str = Field(examples=["issuer outage explained the declines"])
    requested_at: str = Field(examples=["2026-11-30T12:00:00.000000000Z"])


class BreakerOut(BaseModel):
    id: str = Field(examples=["brk_5f0c9a7d2b1e4c8a9d3f6e21"])
    scope: str = Field(description="kind:key, e.g. card_bin:411111 or corridor:EUR-USD",
                       examples=["card_bin:411111"])
    state: Literal["closed", "open", "half_open"]
    open_action: Literal["review", "decline"] = Field(
        description="What a new movement in the scope gets while the breaker is open")
    tripped_on: Literal["declined", "dispute", "chargeback", "anomaly"] | None
    rate_ppm: int | None = Field(description="The tripping rate, parts per million",
                                 examples=[960_000])
    movements: int | None = Field(description="Movements in the window when it tripped",
                                  examples=[25])
    opened_at: str | None = Field(examples=["2026-11-30T12:00:00.000000000Z"])
    trips: int = Field(examples=[1])
    updated_at: str = Field(examples=["2026-11-30T12:00:00.000000000Z"])
    pending_reset: PendingResetOut | None


class BreakersOut(BaseModel):
    data: list[BreakerOut]


class ResetRequestIn(Strict):
    reason: Prose = Field(min_length=1, max_length=500,
                        examples=["issuer outage explained the declines"])
