"""What every API test needs of a platform: reach it, get a staff token, send a bearer."""

from __future__ import annotations

from fastapi.testclient import TestClient

from paywarden.bootstrap import Platform
from paywarden.services.identity.tokens import issue_service_token, issue_staff_token


def platform_of(client: TestClient) -> Platform:
    return client.app.state.platform  # type: ignore[attr-defined,no-any-return]


def staff_token(platform: Platform, role: str, actor: str = "cli:test") -> str:
    """A CLI-issued staff token; its principal is named by ``actor`` (two tokens of one
    actor are one person to the four-eyes checks)."""
    return issue_staff_token(platform.database, platform.sessions, role=role, ttl_s=3600,
                             ttl_s_max=3600, actor=actor,
                             now_ns=platform.clock.now_ns()).token


def service_token(platform: Platform, name: str = "tests") -> str:
    """A machine principal's token (role ``service``): it posts ledger transfers directly,
    as a credential approved by two people does (decision 0041)."""
    return issue_service_token(platform.database, platform.sessions, name=name, ttl_s=3600,
                               ttl_s_max=3600, actor="cli:test",
                               now_ns=platform.clock.now_ns()).token


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}
