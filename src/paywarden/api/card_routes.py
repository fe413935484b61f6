"""A buyer's stored cards: the number goes into the vault and never comes back out.

``POST /v1/me/cards`` checks the number (Luhn, length, brand) and the expiry and
answers with a token, the brand and the last four digits; ``GET /v1/me/cards``
lists those. A refusal names what is wrong without repeating the number, and a
malformed request's problem lists fields, never their values.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from ..bootstrap import Platform
from ..domain.identity import Access, Kind, Principal, Resource
from ..services.cards.vault import Card
from . import problem_codes as codes
from .auth import CurrentPrincipal
from .deps import PlatformDep
from .problems import Problem, Refusals
from .schemas.cards import CardIn

router = APIRouter(prefix="/v1/me/cards", tags=["cards"])
_refusals = Refusals(codes.Cards)


def _buyer(platform: Platform, principal: Principal, access: Access) -> str:
    if principal.kind is not Kind.CUSTOMER or principal.owner is None:
        raise Problem(codes.Edge.FORBIDDEN, "cards are stored by the buyer who owns them")
    platform.guard.authorize(principal, Resource.PAYMENTS, access, owner=principal.owner)
    return principal.owner


def _out(card: Card) -> dict[str, Any]:
    return {"token": card.token, "brand": card.brand, "last4": card.last4, "exp": card.exp}


@router.post("", status_code=201)
def store_card(body: CardIn, platform: PlatformDep,
               principal: CurrentPrincipal) -> dict[str, Any]:
    """Store a card.

    The buyer stores a card in the vault; the answer is a token, never the number.
    """
    owner = _buyer(platform, principal, Access.WRITE)
    with _refusals():  # a CardError's detail never holds the number
        card = platform.cards.store(body.number, body.exp_month, body.exp_year,
                                    body.holder_name, owner, actor=principal.actor)
    return _out(card)


@router.get("")
def list_cards(platform: PlatformDep,
               principal: CurrentPrincipal) -> dict[str, Any]:
    """List stored cards.

    The buyer's stored cards: tokens, brands and last four digits only.
    """
    owner = _buyer(platform, principal, Access.READ)
    return {"data": [_out(c) for c in platform.cards.list_for(owner)]}
