"""The card vault: the only place a card number is kept, sealed, behind a token.

``store`` validates the number (domain/cards.py), seals it and the holder's
name (bound to ``cards``/column/token), and returns a :class:`Card` — token,
brand, last four, expiry — which is all the rest of the platform ever sees.
The same number stored again by the same owner returns the first token: the
row carries a keyed blind index of (owner, number), never the number.
``reveal_for_issuer`` is the one way back to the digits, for the simulated
issuer of issue 5; each call is audited.

Audit entries name the token, brand and last four only.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, insert, select, update
from sqlalchemy.exc import IntegrityError

from ...adapters.clock import Clock
from ...adapters.store import Database
from ...adapters.store.schema import cards
from ...domain.cards import CardNumber, Expiry, holder_name
from ...domain.errors import DomainError
from .. import audit
from ..sealed import FieldKeys, open_required, row_id

TOKEN_PREFIX = "card_"
TOKEN_BYTES = 12
TABLE = "cards"
NUMBER = "number_sealed"
HOLDER = "holder_name_sealed"
ISSUER_ACTOR = "issuer"
_NS = 10**9


@dataclass(frozen=True)
class Card:
    """A stored card as everyone but the issuer sees it."""

    token: str
    owner: str
    brand: str
    last4: str
    exp_month: int
    exp_year: int
    created_at: int

    @property
    def exp(self) -> str:
        return f"{self.exp_month:02d}/{self.exp_year}"


@dataclass(frozen=True)
class IssuerView:
    """What the issuer needs to authorise: the number, the expiry, the holder."""

    card: Card
    number: CardNumber  # shows brand and last four only, unless revealed
    holder_name: str = field(repr=False)


class CardNotFound(DomainError):
    def __init__(self, token: str) -> None:
        super().__init__("not_found", f"no card {token!r}")
        self.token = token


class CardVault:
    def __init__(self, database: Database, *, clock: Clock, keys: FieldKeys) -> None:
        self._database = database
        self._clock = clock
        self._keys = keys

    def store(self, pan: str, exp_month: int, exp_year: int, holder: str, owner: str, *,
              actor: str | None = None) -> Card:
        """Store a card for ``owner``; the same number stored again returns its first token
        (with the expiry and holder name brought up to date)."""
        number = CardNumber(pan)
        now = self._clock.now_ns()
        today = datetime.fromtimestamp(now // _NS, tz=UTC)
        expiry = Expiry(exp_month, exp_year).check(year=today.year, month=today.month)
        name = holder_name(holder)
        token = TOKEN_PREFIX + secrets.token_hex(TOKEN_BYTES)
        # Index and seal outside the transaction (see Keys: first use on SQLite).
        fingerprint = self._fingerprint(owner, number)
        sealed = self._seal_row(token, number, name)
        try:
            with self._database.engine.begin() as conn:
                found = conn.execute(select(cards).where(
                    cards.c.owner == owner, cards.c.fingerprint == fingerprint)
                ).mappings().first()
                if found is not None:
                    return self._update(conn, found, number, expiry, name,
                                        actor=actor or owner, now=now)
                row = {"id": token, "owner": owner, "fingerprint": fingerprint,
                       "brand": number.brand, "last4": number.last4,
                       "exp_month": expiry.month, "exp_year": expiry.year, **sealed,
                       "created_at": now, "updated_at": now}
                conn.execute(insert(cards).values(**row))
                card = _card(row)
                self._audit(conn, card, "card.store", actor=actor or owner, now=now)
                return card
        except IntegrityError:  # the same card stored concurrently: the other one won
            with self._database.engine.connect() as conn:
                winner = conn.execute(select(cards).where(
                    cards.c.owner == owner, cards.c.fingerprint == fingerprint)
                ).mappings().first()
            if winner is None:
                raise
            return _card(winner)

    def get(self, token: str) -> Card:
        """The card without its number."""
        with self._database.engine.connect() as conn:
            row = conn.execute(select(cards).where(cards.c.id == token)).mappings().first()
        if row is None:
            raise CardNotFound(token)
        return _card(row)

    def list_for(self, owner: str) -> list[Card]:
        with self._database.engine.connect() as conn:
            rows = conn.execute(select(cards).where(cards.c.owner == owner)
                                .order_by(cards.c.created_at, cards.c.id)).mappings().all()
        return [_card(r) for r in rows]

    def reveal_for_issuer(self, token: str, *, actor: str = ISSUER_ACTOR) -> IssuerView:
        """The number and holder, for the (simulated) issuer only; audited."""
        now = self._clock.now_ns()
        with self._database.engine.begin() as conn:
            row = conn.execute(select(cards).where(cards.c.id == token)).mappings().first()
            if row is None:
                raise CardNotFound(token)
            card = _card(row)
            rid = row_id(token)
            number = CardNumber(open_required(self._keys, row[NUMBER], table=TABLE,
                                              column=NUMBER, row=rid))
            name = open_required(self._keys, row[HOLDER], table=TABLE, column=HOLDER, row=rid)
            self._audit(conn, card, "card.reveal", actor=actor, now=now)
        return IssuerView(card=card, number=number, holder_name=name)

    def _fingerprint(self, owner: str, number: CardNumber) -> str:
        return self._keys.blind_index(f"{owner}:{number.reveal()}", table=TABLE,
                                      column="fingerprint")

    def _seal_row(self, token: str, number: CardNumber, name: str) -> dict[str, bytes]:
        rid = row_id(token)
        return {NUMBER: self._keys.seal(number.reveal().encode("ascii"), table=TABLE,
                                        column=NUMBER, row_id=rid),
                HOLDER: self._keys.seal(name.encode("utf-8"), table=TABLE, column=HOLDER,
                                        row_id=rid)}

    def _update(self, conn: Connection, found: Mapping[Any, Any], number: CardNumber,
                expiry: Expiry, name: str, *, actor: str, now: int) -> Card:
        card = _card(found)
        if (card.exp_month, card.exp_year) == (expiry.month, expiry.year):
            return card
        # A reissued card: same number, new expiry. Seal again under this row's token.
        sealed = self._seal_row(card.token, number, name)
        conn.execute(update(cards).where(cards.c.id == card.token).values(
            exp_month=expiry.month, exp_year=expiry.year, updated_at=now, **sealed))
        card = Card(token=card.token, owner=card.owner, brand=card.brand, last4=card.last4,
                    exp_month=expiry.month, exp_year=expiry.year, created_at=card.created_at)
        self._audit(conn, card, "card.update", actor=actor, now=now)
        return card

    @staticmethod
    def _audit(conn: Connection, card: Card, action: str, *, actor: str, now: int) -> None:
        audit.record(conn, at_ns=now, actor=actor, action=action, object_id=card.token,
                     detail={"token": card.token, "brand": card.brand, "last4": card.last4})


def _card(row: Mapping[Any, Any]) -> Card:
    return Card(token=row["id"], owner=row["owner"], brand=row["brand"], last4=row["last4"],
                exp_month=row["exp_month"], exp_year=row["exp_year"],
                created_at=row["created_at"])
