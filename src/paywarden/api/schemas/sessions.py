"""Response bodies of who-am-I and sessions (api/session_routes.py)."""

from __future__ import annotations

from pydantic import BaseModel


class MeOut(BaseModel):
    kind: str
    id: str
    roles: list[str]
    owner: str | None
    session_id: str | None
    key_id: str | None
    auth_methods: list[str]


class SessionOut(BaseModel):
    id: str
    created: str
    last_seen: str
    expires: str
    user_agent: str
    address: str
    auth_methods: list[str]
    current: bool


class SessionListOut(BaseModel):
    data: list[SessionOut]


class RevokedOut(BaseModel):
    revoked: int
