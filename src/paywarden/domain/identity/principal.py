"""Who is asking: the principal every access decision is made for."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum


class Kind(StrEnum):
    CUSTOMER = "customer"  # a buyer or bank customer
    MERCHANT = "merchant"  # a merchant's backend (signed requests) or one of its users
    STAFF = "staff"  # an operator employee, or a token issued on the server host
    SERVICE = "service"  # a machine principal: a system posting to the ledger API


@dataclass(frozen=True)
class Principal:
    """An authenticated caller.

    ``id`` is the user (``usr_…``), the merchant (``mer_…``) for a signed
    merchant request, or ``cli:<login>`` for a token issued on the server host.
    ``owner`` is what object-level checks compare against: the customer's user
    id, or the merchant id for anyone acting for a merchant.
    """

    kind: Kind
    id: str
    roles: frozenset[str]
    owner: str | None = None
    session_id: str | None = None
    key_id: str | None = None  # the merchant key that signed this request
    auth_methods: frozenset[str] = field(default_factory=frozenset)

    @property
    def actor(self) -> str:
        """How the audit record names this principal."""
        via = self.session_id or self.key_id
        return f"{self.id}/{via}" if via else self.id
