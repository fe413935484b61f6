"""Request and response bodies of four-eyes approvals (api/approval_routes.py)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field

from ..text import Prose
from . import Strict

STATES = Literal["pending", "approved", "held", "executed", "failed", "rejected", "withdrawn",
                 "expired"]
EVIDENCE = Field(pattern=r"^evd_[A-Za-z0-9_-]{1,28}$", examples=["evd_4Qm1x8Zc2Lr7Kp0s"],
                 description="The decider's step-up evidence: a passkey assertion over the "
                             "operation {type: approval_approve | approval_reject, amount, "
                             "currency, payee: <approval id>, reference: <command_hash>}")


class ApprovalOut(BaseModel):
    id: str = Field(examples=["apr_5f0c9a7d2b1e4c8a9d3f6e21"])
    kind: str = Field(examples=["refund"])
    params: dict[str, Any] = Field(examples=[{"payment_id": "pay_0a1b2c3d4e5f6a7b8c9d0e1f",
                                              "amount": 2500, "refund_id": "stf_01"}])
    command_hash: str = Field(description="hex SHA-256 of the canonical command, which the "
                              "approver's passkey signs", examples=["9f2c" + "0" * 60])
    amount: int = Field(description="minor units the command moves; 0 if none",
                        examples=[2500])
    currency: str = Field(description="XXX when the command moves no money", examples=["EUR"])
    summary: str = Field(examples=["refund 2500 minor units of EUR of pay_0a1b…"])
    state: STATES
    submitted_by: str = Field(examples=["usr_0a1b2c3d4e5f6a7b"])
    submitted_at: str = Field(examples=["2026-11-30T12:00:00.000000000Z"])
    expires_at: str = Field(examples=["2026-12-01T12:00:00.000000000Z"])
    decided_by: str | None = Field(examples=[None])
    decided_at: str | None = Field(examples=[None])
    reason: str | None = Field(examples=[None])
    result: dict[str, Any] | None = Field(examples=[None])
    executed_at: str | None = Field(examples=[None])


class ApprovalsOut(BaseModel):
    data: list[ApprovalOut]


class SubmitIn(Strict):
    kind: str = Field(max_length=32, examples=["role_grant"])
    params: dict[str, Any] = Field(examples=[{"user_id": "usr_0a1b2c3d4e5f6a7b",
                                              "role": "support"}])


class ApproveIn(Strict):
    evidence_id: str = EVIDENCE


class RejectIn(Strict):
    evidence_id: str = EVIDENCE
    reason: Prose = Field(min_length=1, max_length=500, examples=["not the customer's request"])


class WithdrawIn(Strict):
    reason: Prose = Field(min_length=1, max_length=500, examples=["submitted twice"])
