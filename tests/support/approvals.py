"""Staff people with passkeys, and their four-eyes decisions, for approval tests."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from paywarden.services.identity.enrolment import create_staff
from paywarden.services.identity.users import User

from .authenticator import SoftAuthenticator
from .banking import step_up
from .identity import ORIGIN, RP_ID, register, sign_in
from .platform import bearer, platform_of


class Staff:
    """A member of staff signed in with their passkey."""

    def __init__(self, user: User, token: str, authenticator: SoftAuthenticator) -> None:
        self.user, self.token, self.authenticator = user, token, authenticator

    @property
    def headers(self) -> dict[str, str]:
        return bearer(self.token)


def passkey_staff(client: TestClient, username: str, role: str) -> Staff:
    """A staff user enrolled with a passkey (no password), signed in with it."""
    platform = platform_of(client)
    made = create_staff(platform.credentials, username=username, role=role,
                        display_name=username.title(), actor="cli:test", ttl_s=3600,
                        ttl_s_max=3600)
    authenticator = SoftAuthenticator(rp_id=RP_ID, origin=ORIGIN)
    r = register(client, made.enrolment.token, authenticator)
    assert r.status_code == 201, r.text
    r = sign_in(client, authenticator, username)
    assert r.status_code == 200, r.text
    return Staff(made.user, r.json()["token"], authenticator)


def evidence(client: TestClient, who: Staff, approval: dict[str, Any], decision: str) -> str:
    """``who``'s step-up over this approval's id and command hash."""
    return step_up(client, who.token, who.authenticator, type=f"approval_{decision}",
                   amount=approval["amount"], currency=approval["currency"],
                   payee=approval["id"], reference=approval["command_hash"])


def decide(client: TestClient, who: Staff, approval: dict[str, Any], decision: str = "approve",
           reason: str = "checked against the ticket") -> Any:
    """``who`` approves or rejects ``approval`` with a fresh step-up; the response."""
    body: dict[str, Any] = {"evidence_id": evidence(client, who, approval, decision)}
    if decision == "reject":
        body["reason"] = reason
    return client.post(f"/v1/approvals/{approval['id']}/{decision}", headers=who.headers,
                       json=body)


def maker_and_checker(client: TestClient, role: str = "risk") -> tuple[Staff, Staff]:
    """Two members of staff with ``role`` (made once per app): one submits, one approves."""
    made: dict[str, tuple[Staff, Staff]] = client.app.state.__dict__.setdefault(  # type: ignore[attr-defined]
        "_four_eyes", {})
    if role not in made:
        made[role] = (passkey_staff(client, f"{role}-maker", role),
                      passkey_staff(client, f"{role}-checker", role))
    return made[role]


def staff_refund(client: TestClient, payment_id: str, amount: int,
                 refund_id: str = "r-1") -> dict[str, Any]:
    """A staff refund submitted by one member and approved by another: the approval as it
    ended (``executed`` with the refund, or ``failed`` with why)."""
    maker, checker = maker_and_checker(client)
    r = client.post(f"/v1/payments/{payment_id}/refunds", headers=maker.headers,
                    json={"amount": amount, "refund_id": refund_id})
    assert r.status_code == 202, r.text
    r = decide(client, checker, r.json()["approval"])
    assert r.status_code == 200, r.text
    return r.json()  # type: ignore[no-any-return]
