"""A return (pacs.004) at the hub: the way back along the transfer's own path, or why
not (decision 0060).

Pure, like routing.py. A return is a transfer of its own, two-phase like any other
(reserve, forward, decide on the next hop's answer), keyed by its return UETR: its
``RtrId`` (32 hex digits of a UUID v4) written as a UUID. It may only:

- come from the party the hub paid the original transfer to (the payee bank, or the
  peer hub it forwarded to), for a transfer this hub **settled**;
- go back to the party the original came from (the payer bank, or the peer hub of its
  region), at most the original amount, in its currency.

So no bank can pull money out of another by "returning" what it never received. One
live return per transfer is checked again in the write (``ReserveUnit.original_uetr``).

Refusals, each an ISO reason: NARR (no such settled transfer here, or a malformed
return id), RC01 (the sender was not paid it; the way back is revoked), AM03 (another
currency), AM02 (zero, or more than the transfer), AB08 (the way back is not answering).
"""

from __future__ import annotations

import hashlib
from typing import Any

from ...domain.clearing.messages import (
    Channel,
    CreditTransfer,
    Party,
    Reason,
    Return,
    return_id_for,
    return_key,
)
from .hub_units import SETTLED
from .peers import Peer, PeerState, Role
from .routing import Plan

_PARTY = "returned"  # a return carries no parties: the original's are at each end


def return_sha(r: Return, sender: str) -> str:
    """What a retry of the return must repeat; any other difference is DUPL."""
    parts = (sender, r.return_id, r.original_uetr, r.original_end_to_end_id,
             str(r.amount.amount_minor), r.amount.currency, r.reason)
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()


def plan_return(r: Return, original: Any, *, sender: Peer, back: Peer | None, now_ns: int,
                down: frozenset[str], deadline_ns: int) -> Plan:
    """The plan for ``r``: reserve sender → ``back`` and forward, or a refusal. ``original``
    is the hub's ``hub_transfers`` row of the returned UETR (a mapping) or None."""
    key = return_key(r.return_id) or return_key(return_id_for(r.return_id)) or ""
    debtor_agent = original["creditor_agent"] if original is not None else sender.bic
    creditor_agent = original["debtor_agent"] if original is not None else sender.bic
    tx = CreditTransfer(key, r.original_end_to_end_id or r.return_id, r.return_id[:35],
                        r.amount, Party(_PARTY, "", debtor_agent),
                        Party(_PARTY, "", creditor_agent), deadline_ns, Channel.RTGS, r.reason)

    def refuse(reason: Reason, detail: str, payee: str | None = None) -> Plan:
        return Plan(tx, sender.bic, payee, False, Channel.RTGS, reason, detail)

    if return_key(r.return_id) is None:
        return refuse(Reason.NARR, "a return id is the 32 hex digits of a UUID v4")
    if original is None or original["state"] != SETTLED:
        return refuse(Reason.NARR, "no transfer with this UETR was settled through this hub")
    if original["payee"] != sender.bic:
        return refuse(Reason.RC01, "only the party a transfer was paid to returns it")
    if r.amount.currency != original["currency"]:
        return refuse(Reason.AM03, "a return is in the transfer's currency")
    if not 0 < r.amount.amount_minor <= original["amount"]:
        return refuse(Reason.AM02, "a return is more than zero and at most the transfer")
    if back is None or back.state is PeerState.REVOKED:
        return refuse(Reason.RC01, "the transfer's payer is no longer a participant")
    if not back.active or back.bic in down:
        return refuse(Reason.AB08, f"{back.bic} is not answering", back.bic)
    if deadline_ns <= now_ns:
        return refuse(Reason.AB05, "the deadline has passed")
    return Plan(tx, sender.bic, back.bic, back.role is Role.HUB, Channel.RTGS)
