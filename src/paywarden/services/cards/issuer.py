"""A built-in simulated card issuer: it authorises a stored card for an amount or declines it.

Declines that tests (and the demo) can trigger, by card number as card networks'
test cards do:

- ``4000 0000 0000 0002``: insufficient funds;
- ``4000 0000 0000 9979``: reported stolen;
- ``4000 0000 0000 0069``: expired (as is any card past its expiry month).

An authorised payment's money comes from the issuer's settlement account in the
ledger; the payment service moves it by a pending transfer that is posted at
once (authorise, then capture). The number is revealed to this module only.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from ...adapters.clock import Clock
from ...domain.errors import DomainError
from ...domain.money import Money
from .vault import CardVault

INSUFFICIENT_FUNDS = "4000000000000002"
REPORTED_STOLEN = "4000000000009979"
EXPIRED = "4000000000000069"
DECLINES = {INSUFFICIENT_FUNDS: "insufficient_funds", REPORTED_STOLEN: "reported_stolen",
            EXPIRED: "expired"}


class CardDeclined(DomainError):
    def __init__(self, reason: str) -> None:
        super().__init__("card_declined", f"the card was declined: {reason}")
        self.reason = reason


@dataclass(frozen=True)
class Authorisation:
    token: str
    amount: Money


class CardIssuer:
    def __init__(self, vault: CardVault, *, clock: Clock) -> None:
        self._vault = vault
        self._clock = clock

    def authorise(self, token: str, *, owner: str, amount: Money) -> Authorisation:
        card = self._vault.get(token)  # not_found for an unknown token
        if card.owner != owner:
            raise DomainError("not_found", f"no card {token!r}")
        view = self._vault.reveal_for_issuer(token)
        reason = DECLINES.get(view.number.reveal())
        now = datetime.fromtimestamp(self._clock.now_ns() / 1e9, UTC)
        if reason is None and (card.exp_year, card.exp_month) < (now.year, now.month):
            reason = "expired"
        if reason is not None:
            raise CardDeclined(reason)
        return Authorisation(token, amount)
