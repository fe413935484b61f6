"""The executor of a hub's reserve funding: central-bank money issued to a participant's
reserve account (decision 0060).

Funding creates money on the hub's ledger: the central bank's own act. Alone, an
operator could issue reserves to a bank of their choosing, which that bank then moves
into its settlement account and pays out through the network. An operator submits it
(``paywarden clearing fund``); another operator, or a member of risk, approves it with a
passkey.

It runs as an :meth:`~.executors.Executor.effect` (the hub's write path commits the
transfer and its audit record together). The funding id is the submitter's, or derived
from the approval's id: run again after a crash, the same ledger transfer id moves
nothing more.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from ...domain.approvals import Kind
from ...domain.errors import DomainError
from ...domain.identity import Principal
from ...domain.money import Money
from ..clearing.peers import Peers, Role
from ..ledger.currencies import amount_words
from .executors import Approval, Checked, Executor

_FUNDING_ID = re.compile(r"^[A-Za-z0-9_.:-]{1,40}$")


class ClearingFunding(Executor):
    """Params ``{"bic", "amount", "currency", "funding_id"}``."""

    kind = Kind.CLEARING_FUNDING

    def __init__(self, peers: Peers) -> None:
        self._peers = peers

    def check(self, params: Mapping[str, Any], submitter: Principal) -> Checked:
        bic, amount = params.get("bic"), params.get("amount")
        funding_id = params.get("funding_id")
        peer = self._peers.get(bic) if isinstance(bic, str) else None
        if peer is None or peer.role is Role.CORRESPONDENT:
            raise DomainError("not_found", f"no participant {bic}")
        currency = params.get("currency", peer.currency)
        if not isinstance(amount, int) or isinstance(amount, bool) or amount <= 0 \
                or currency != peer.currency:
            raise DomainError("money_amount_invalid",
                              f"funding is a positive amount in {peer.currency}")
        if funding_id is not None and not (isinstance(funding_id, str)
                                           and _FUNDING_ID.match(funding_id)):
            raise DomainError("approval_command_invalid",
                              "a funding id is 1 to 40 letters, digits or _.:-")
        kept: dict[str, Any] = {"bic": peer.bic, "amount": amount, "currency": currency}
        if funding_id is not None:
            kept["funding_id"] = funding_id
        return Checked(kept, f"Fund {peer.bic}'s reserves with "
                       f"{amount_words(amount, currency)} of central-bank money",
                       amount=amount, currency=currency)

    def effect(self, approval: Approval) -> dict[str, Any]:
        p = approval.params
        funding_id = p.get("funding_id") or approval.id
        self._peers.fund(p["bic"], Money(p["amount"], p["currency"]), funding_id=funding_id,
                         actor=f"{approval.submitted_by}+{approval.decided_by}")
        return {"bic": p["bic"], "amount": p["amount"], "currency": p["currency"],
                "funding_id": funding_id}
