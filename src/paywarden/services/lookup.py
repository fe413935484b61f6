"""Staff look customers up: masked by default, revealed field by field with a reason
(domain/masking.py; decision 0046).

Every profile opened is an audit leaf (``customer.view``) and every field shown whole is
one too (``customer.reveal``, with the field and the reason), so the log can answer "who
looked at this person, and why". Both are counted by insider analytics in the same
transaction (services/insider.py), which alerts supervisors on a burst of lookups or on
a member of staff looking up someone who shares their device or address.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from ..adapters.clock import Clock
from ..adapters.store import Database
from ..adapters.store.schema import cards
from ..domain import masking
from ..domain.errors import DomainError
from ..domain.identity import Kind, Principal
from ..domain.insider import Activity
from . import audit
from .alerts import Alerts
from .banking.accounts import accounts_of, by_iban
from .identity.users import User, find_by_username, get_user
from .insider import Insider
from .keys import Keys

REASON_CHARS_MAX = 300


@dataclass(frozen=True)
class Profile:
    """A customer as staff see them: every personal field masked."""

    id: str
    username: str
    display_name: str | None
    email: str | None
    status: str
    created_at: int
    accounts: list[dict[str, Any]]
    cards: list[str]


class Lookup:
    def __init__(self, database: Database, *, clock: Clock, keys: Keys, insider: Insider,
                 alerts: Alerts) -> None:
        self._database = database
        self._clock = clock
        self._keys = keys
        self._insider = insider
        self._alerts = alerts

    def find(self, principal: Principal, *, username: str | None = None,
             iban: str | None = None) -> list[Profile]:
        """The customer with exactly this username, or holding this IBAN (one of the two)."""
        if (username is None) == (iban is None):
            raise DomainError("lookup_query_invalid", "look up by username or by IBAN")
        with self._database.engine.connect() as conn:
            if username is not None:
                user = find_by_username(conn, username, keys=self._keys)
            else:
                account = by_iban(conn, (iban or "").replace(" ", "").upper())
                user = None if account is None else get_user(conn, account.user_id,
                                                             keys=self._keys)
        if user is None or user.kind is not Kind.CUSTOMER:
            return []
        return [self.profile(principal, user.id)]

    def profile(self, principal: Principal, user_id: str) -> Profile:
        """A customer's masked profile; the viewing is recorded and counted."""
        with self._database.engine.begin() as conn:
            user = self._customer(conn, user_id)
            accounts = [{"id": a.id, "product": str(a.product), "currency": a.currency,
                         "iban": masking.iban(a.iban), "state": str(a.state)}
                        for a in accounts_of(conn, user.id)]
            shown = [masking.card(r.brand, r.last4) for r in conn.execute(
                select(cards.c.brand, cards.c.last4).where(cards.c.owner == user.id)
                .order_by(cards.c.created_at))]
            audit.record(conn, at_ns=self._clock.now_ns(), actor=principal.actor,
                         action="customer.view", object_id=user.id)
            raised = self._insider.observe(conn, actor=principal.id, activity=Activity.VIEW,
                                           subject=user.id)
        for alert in raised:
            self._alerts.mail(alert)
        return Profile(user.id, masking.name(user.username) or "", masking.name(
            user.display_name), masking.email(user.email), user.status, user.created_at,
            accounts, shown)

    def reveal(self, principal: Principal, user_id: str, field: str, reason: str) -> str | None:
        """One field shown whole, for a stated reason; recorded and counted."""
        try:
            wanted = masking.Field(field)
        except ValueError:
            raise DomainError("reveal_field_invalid", f"reveal one of "
                              f"{', '.join(f.value for f in masking.Field)}; card numbers "
                              "are never shown to staff") from None
        why = reason.strip() if isinstance(reason, str) else ""
        if not why or len(why) > REASON_CHARS_MAX or not why.isprintable():
            raise DomainError("reveal_reason_required", "say why you need to see this field "
                              f"(1 to {REASON_CHARS_MAX} characters); it is recorded")
        with self._database.engine.begin() as conn:
            user = self._customer(conn, user_id)
            value = _field(conn, user, wanted)
            audit.record(conn, at_ns=self._clock.now_ns(), actor=principal.actor,
                         action="customer.reveal", object_id=user.id,
                         detail={"field": str(wanted), "reason": why})
            raised = self._insider.observe(conn, actor=principal.id,
                                           activity=Activity.REVEAL, subject=user.id)
        for alert in raised:
            self._alerts.mail(alert)
        return value

    def _customer(self, conn: Any, user_id: str) -> User:
        user = get_user(conn, user_id, keys=self._keys) \
            if isinstance(user_id, str) and len(user_id) <= 32 else None
        if user is None or user.kind is not Kind.CUSTOMER:
            raise DomainError("not_found", f"no customer {user_id}")
        return user


def _field(conn: Any, user: User, wanted: masking.Field) -> str | None:
    if wanted is masking.Field.EMAIL:
        return user.email
    if wanted is masking.Field.DISPLAY_NAME:
        return user.display_name
    return ", ".join(a.iban for a in accounts_of(conn, user.id)) or None
