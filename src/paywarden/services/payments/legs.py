"""The escrow machine's money legs as one linked ledger chain, and the payment row's
plain columns derived from its state."""

from __future__ import annotations

from collections.abc import Sequence

from ...domain.errors import DomainError
from ...domain.escrow import Escrow, Leg, Role
from ...domain.ledger import Transfer, TransferFlags
from ...domain.ledger.chart import AccountKind, TransferCode
from ..ledger.accounts import AccountRef


def chain(payment_id: str, version: int, legs: Sequence[Leg],
          refs: dict[Role, AccountRef]) -> list[Transfer]:
    """The legs as one linked chain, ids fixed by the payment's version (a retried
    transition meets its own ids)."""
    if not legs:
        return []
    try:
        linked = [Transfer(f"{payment_id}.{version}.{i}", refs[leg.from_role].id,
                           refs[leg.to_role].id, leg.amount.amount_minor,
                           refs[leg.to_role].ledger, int(TransferCode.PAYMENT),
                           int(TransferFlags.LINKED) if i < len(legs) - 1 else 0)
                  for i, leg in enumerate(legs)]
    except KeyError:
        raise DomainError("payment_funding_missing",
                          "the payment has no funding source to move money from") from None
    funding = refs.get(Role.BUYER_FUNDING)
    if funding is not None and funding.kind is AccountKind.CARD_ISSUER:
        grouped = [_authorise_and_capture(t) if t.debit_account_id == funding.id else [t]
                   for t in linked]
        linked = _relink([t for group in grouped for t in group])
    return linked


def _authorise_and_capture(t: Transfer) -> list[Transfer]:
    """A card's money: a pending transfer from the issuer (the authorisation), posted
    in the same chain (the capture)."""
    pending = t._replace(id=t.id + ".auth", flags=int(TransferFlags.PENDING))
    capture = Transfer(t.id, 0, 0, None, 0, 0, int(TransferFlags.POST_PENDING),
                       pending_id=pending.id)
    return [pending, capture]


def _relink(transfers: list[Transfer]) -> list[Transfer]:
    last = len(transfers) - 1
    return [t._replace(flags=(t.flags | int(TransferFlags.LINKED)) if i < last
                       else t.flags & ~int(TransferFlags.LINKED))
            for i, t in enumerate(transfers)]


def timer_at(escrow: Escrow) -> int | None:
    t = escrow.timers
    found = [v for v in (t.expires_at_ns, t.ship_by_ns, t.release_at_ns) if v is not None]
    return min(found) if found else None

