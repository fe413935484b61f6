"""Request and response bodies of a merchant's webhooks (api/webhook_routes.py)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from ..text import UrlText
from . import Strict


class EndpointIn(Strict):
    url: UrlText = Field(min_length=1, max_length=2048, description="https URL that receives "
                     "the merchant's events")


class EndpointOut(BaseModel):
    url: str
    status: str  # active | disabled
    created_at: str
    updated_at: str


class DeliveryOut(BaseModel):
    attempt: int
    at: str
    status_code: int | None
    error: str | None
    duration_ms: int
    state: str
    next_attempt_at: str | None


class EventOut(BaseModel):
    id: str
    type: str
    created_at: str
    audit_index: int | None
    state: str  # pending | delivered | failed
    attempts: int
    next_attempt_at: str | None
    data: dict[str, Any]
    deliveries: list[DeliveryOut]


class EventPage(BaseModel):
    data: list[EventOut]
    next_cursor: str | None
