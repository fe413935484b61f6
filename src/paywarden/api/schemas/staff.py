"""Request and response bodies of the staff lifecycle (api/staff_routes.py)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from . import Strict


class RoleChangeIn(Strict):
    role: str = Field(max_length=32, examples=["support"])
    action: Literal["grant", "revoke"] = Field(
        examples=["grant"], description="grant: a four-eyes command (202); revoke: done at "
        "once by one security admin (200), since it only removes access")


class RolesOut(BaseModel):
    user_id: str = Field(examples=["usr_0a1b2c3d4e5f6a7b"])
    role: str = Field(examples=["support"])
    action: str = Field(examples=["revoke"])
    roles: list[str] = Field(examples=[["risk"]])
    sessions_revoked: int = Field(examples=[2])


class DeactivatedOut(BaseModel):
    user_id: str = Field(examples=["usr_0a1b2c3d4e5f6a7b"])
    status: str = Field(examples=["disabled"])
    deactivated_at: str = Field(examples=["2026-11-30T12:00:00.000000000Z"])
    sessions_revoked: int = Field(examples=[3])
    approvals_withdrawn: int = Field(examples=[0])


class PrivilegeOut(BaseModel):
    role: str = Field(examples=["risk"])
    held_since: str = Field(examples=["2026-08-01T09:00:00.000000000Z"])
    last_used_at: str | None = Field(examples=["2026-11-29T16:42:10.000000000Z"])
    unused_90_days: bool = Field(examples=[False])


class HolderOut(BaseModel):
    kind: Literal["person", "token", "service"] = Field(examples=["person"])
    id: str = Field(examples=["usr_0a1b2c3d4e5f6a7b"])
    name: str = Field(examples=["alice"])
    status: str = Field(examples=["active"])
    privileges: list[PrivilegeOut]


class AccessReviewOut(BaseModel):
    generated_at: str = Field(examples=["2026-11-30T12:00:00.000000000Z"])
    unused_after_days: int = Field(examples=[90])
    data: list[HolderOut]


class CredentialOut(BaseModel):
    token: str = Field(description="shown once: the service's bearer token",
                       examples=["pws_" + "x" * 43])
    session_id: str = Field(examples=["ses_0a1b2c3d4e5f6a7b"])
    service: str = Field(examples=["ledger-feed"])
    expires_at: str = Field(examples=["2026-12-01T12:00:00.000000000Z"])
