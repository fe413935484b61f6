"""Response bodies of the supervisor's reports (api/supervision_routes.py)."""

from __future__ import annotations

from pydantic import BaseModel, Field


class ReportKindOut(BaseModel):
    kind: str = Field(examples=["large_value"])
    title: str = Field(examples=["Large-value transactions"])
    about: str = Field(examples=["Customer money movements over the threshold"])
    href: str = Field(examples=["/v1/supervision/reports/large_value"])


class ReportKindsOut(BaseModel):
    data: list[ReportKindOut]
    formats: list[str] = Field(examples=[["csv", "json", "pdf"]])
