"""Service credentials: a machine principal's token is a four-eyes command (decision 0043).

    submit   a security admin submits ``service_credential`` ``{name, ttl_s, amount_max}``
             (``amount_max``: the largest transfer the token may post, minor units);
    approve  another security admin approves with their passkey; the executor's commit
             writes a *grant* (``service_credential_grants``), not a token;
    redeem   the submitter, and only they, fetches it once from
             ``GET /v1/approvals/{id}/credential`` (or ``paywarden tokens fetch``): the
             token is minted then, shown in that one answer and never stored (only its
             digest, like every session's). A second fetch answers 410.

Minting at redemption rather than at approval means no plaintext token ever waits in
the database, sealed or not: there is nothing to leak from a backup or a stolen key,
and an unredeemed grant is void after ``REDEEM_S``. The approver never sees the token
either, so neither person alone holds a credential the other did not agree to.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import Connection, insert, select, update

from ...adapters.clock import Clock
from ...adapters.store import Database
from ...adapters.store.schema import service_credential_grants as grants
from ...domain.approvals import Kind
from ...domain.errors import DomainError
from ...domain.identity import Principal
from ..approvals import Approval, Checked, Executor
from ..identity.sessions import NewSession, Sessions
from ..identity.tokens import check_limit, check_service, start_service_token

REDEEM_S = 24 * 3600  # an approved credential not fetched within a day is void
NS = 1_000_000_000
REDEEMER_ROLE = "security_admin"


class ServiceCredential(Executor):
    """Kind ``service_credential``: params ``{name, ttl_s, amount_max}``."""

    kind = Kind.SERVICE_CREDENTIAL

    def __init__(self, *, clock: Clock, ttl_s_max: int) -> None:
        self._clock = clock
        self._ttl_s_max = ttl_s_max

    def check(self, params: Mapping[str, Any], submitter: Principal) -> Checked:
        if set(params) != {"name", "ttl_s", "amount_max"}:
            raise DomainError("approval_command_invalid", "a service credential names "
                              "exactly a name, a ttl_s and an amount_max")
        name, ttl_s = check_service(params["name"], params["ttl_s"], ttl_s_max=self._ttl_s_max)
        amount_max = check_limit(params["amount_max"])
        return Checked({"name": name, "ttl_s": ttl_s, "amount_max": amount_max},
                       f"service credential {name} for {ttl_s} s, transfers of at most "
                       f"{amount_max} minor units")

    def commit(self, conn: Connection, approval: Approval,
               effect: dict[str, Any] | None) -> dict[str, Any]:
        now = self._clock.now_ns()
        p = approval.params
        conn.execute(insert(grants).values(
            approval_id=approval.id, submitted_by=approval.submitted_by, service=p["name"],
            ttl_s=p["ttl_s"], amount_max=p["amount_max"], approved_at=now,
            redeem_by=now + REDEEM_S * NS))
        return {"service": p["name"], "ttl_s": p["ttl_s"], "amount_max": p["amount_max"],
                "redeem_by_ns": now + REDEEM_S * NS}


def redeem(database: Database, sessions: Sessions, *, clock: Clock, principal: Principal,
           approval_id: str) -> NewSession:
    """Mint the approved credential for its submitter, once."""
    now = clock.now_ns()
    with database.engine.begin() as conn:
        row = conn.execute(select(grants).where(grants.c.approval_id == approval_id)
                           .with_for_update()).mappings().first()
        if row is None:
            raise DomainError("credential_not_found", f"approval {approval_id} granted no "
                              "service credential (not approved yet, or not one)")
        if row["submitted_by"] != principal.id or REDEEMER_ROLE not in principal.roles:
            raise DomainError("credential_not_yours", "only the security admin who asked "
                              "for a service credential fetches it")
        if row["redeemed_at"] is not None:
            raise DomainError("credential_redeemed", "this credential was fetched already; "
                              "ask for a new one if it was lost")
        if now > row["redeem_by"]:
            raise DomainError("credential_void", "this credential was not fetched in time")
        new = start_service_token(conn, sessions, name=row["service"], ttl_s=row["ttl_s"],
                                  amount_max=row["amount_max"],
                                  actor=principal.actor, now_ns=now, approval_id=approval_id)
        conn.execute(update(grants).where(grants.c.approval_id == approval_id).values(
            redeemed_at=now, session_id=new.session.id))
    return new
