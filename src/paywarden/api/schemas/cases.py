"""Request and response bodies of the analysts' queue (api/case_routes.py)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field

from ..text import Prose
from . import Strict

CASE_ID = "rsk_5f0c9a7d2b1e4c8a9d3f6e21"


class Sla(BaseModel):
    opened_at: str = Field(examples=["2026-11-30T12:00:00.000000000Z"])
    due_at: str = Field(examples=["2026-11-30T16:00:00.000000000Z"])
    overdue: bool
    left_s: int = Field(description="Seconds until due; negative when overdue")


class CaseOut(BaseModel):
    id: str = Field(examples=[CASE_ID], description="The case's id: its decision's id")
    at: str = Field(examples=["2026-11-30T12:00:00.000000000Z"])
    operation: str = Field(examples=["bank.external"])
    object_id: str = Field(examples=["trf_5f0c9a7d2b1e4c8a"])
    decision: str = Field(examples=["review"])
    score: float | None
    reasons: list[str] = Field(examples=[["velocity_customer"]])
    rules_version: int
    model_version: str | None
    engine: str = Field(examples=["ok"])
    sla: Sla


class CaseGroupOut(BaseModel):
    subject: str = Field(examples=["usr_0a1b2c3d4e5f6a7b"])
    kind: Literal["customer", "merchant"]
    overdue: int = Field(description="How many of the subject's open cases are overdue")
    cases: list[CaseOut]


class QueueOut(BaseModel):
    data: list[CaseGroupOut] = Field(description="Open cases per subject, oldest first")


class CaseDetailOut(CaseOut):
    subject: str = Field(examples=["usr_0a1b2c3d4e5f6a7b"])
    subject_kind: Literal["customer", "merchant"]
    features: dict[str, Any] = Field(description="The features the decision recorded",
                                     examples=[{"amount_minor": 200000, "new_device": True}])
    shadow: list[str]
    score_reasons: list[str]
    held: dict[str, Any] | None = Field(description="The held movement: amount, accounts, "
                                        "counterparty, state; null when nothing is held")
    history: list[dict[str, Any]] = Field(description="The subject's latest decisions")
    outcome: dict[str, Any] | None
    label: dict[str, Any] | None


class OutcomeIn(Strict):
    reason: Prose = Field(min_length=1, max_length=200,
                          examples=["customer confirmed the payment by phone"])


class OutcomeOut(BaseModel):
    case_id: str = Field(examples=[CASE_ID])
    outcome: Literal["release", "decline"]
    reason: str = Field(examples=["customer confirmed the payment by phone"])
    actor: str = Field(examples=["usr_0a1b2c3d4e5f6a7b"])
    at: str = Field(examples=["2026-11-30T12:05:00.000000000Z"])
    result: str | None = Field(examples=["posted"], description="The held object's state "
                               "after: posted, pending (on to the rail), voided, absent")
    created: bool = Field(description="False: the case was answered before; this is the "
                          "first answer, unchanged")


class LabelIn(Strict):
    label: Literal["fraud", "false_positive"] = Field(examples=["fraud"])


class LabelOut(BaseModel):
    decision_id: str = Field(examples=[CASE_ID])
    label: Literal["fraud", "false_positive"]
    by: str = Field(examples=["usr_0a1b2c3d4e5f6a7b"])
    at: str = Field(examples=["2026-11-30T12:05:00.000000000Z"])
    changed_from: str | None = Field(examples=[None])
