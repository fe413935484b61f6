"""Response bodies of risk decisions (api/risk_routes.py): a stable interface for tools."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

DecisionName = Literal["allow", "step_up", "review", "decline"]


class DecisionOut(BaseModel):
    id: str = Field(examples=["rsk_5f0c9a7d2b1e4c8a9d3f6e21"])
    at: str = Field(examples=["2026-11-30T12:00:00.000000000Z"])
    operation: str = Field(examples=["bank.internal"])
    decision: DecisionName
    score: float | None = Field(description="The model's score in [0, 1]; null: no model")
    reasons: list[str] = Field(examples=[["takeover_pattern"]])
    rules_version: int = Field(description="0: the fallback answered, no rules ran")
    model_version: str | None


class DecisionsOut(BaseModel):
    data: list[DecisionOut]


class RerunOut(BaseModel):
    id: str
    same: bool = Field(description="The re-run gave the recorded answer")
    recorded: dict[str, object]
    rerun: dict[str, object]


class BacktestRuleOut(BaseModel):
    rule_id: str
    state: Literal["active", "shadow"]
    action: DecisionName
    matched: int = Field(description="Recorded decisions the rule would have matched")
    by_recorded: dict[str, int] = Field(description="Matched, by the decision recorded then")
    changed: dict[str, int] = Field(description="Verdicts it would have made worse, "
                                    "e.g. {\"allow->review\": 3}")
    unevaluable: int = Field(description="Decisions recorded without a feature it names")


class BacktestOut(BaseModel):
    id: str = Field(examples=["rbt_5f0c9a7d2b1e4c8a9d3f6e21"])
    version: int
    days: int
    since: str
    evaluated: int = Field(description="Decisions the rules ran on (fallbacks skipped)")
    truncated: bool = Field(description="More decisions were in the window than were read")
    run_by: str
    at: str
    rules: list[BacktestRuleOut]
