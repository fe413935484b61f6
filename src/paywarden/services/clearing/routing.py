"""Where a hub sends one credit transfer, or why it refuses it before reserving anything.

Pure: it reads the peers the hub looked up and decides. The next hop is the creditor
agent itself when it is an active participant of this hub's region, or the peer hub
named by its ``via`` (a correspondent of another region). Refusals, each an ISO reason:

    RC01  the payer names another bank as debtor agent, or the creditor agent is unknown,
          revoked, the payer itself, or not a bank
    AB08  the creditor agent, or the hub of its region, is suspended or not answering
    AM03  the currency is not the payer's or the payee's settlement currency
    AM02  an amount of zero
    AB05  the deadline has passed already
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from ...domain.clearing.messages import Channel, CreditTransfer, Reason
from .peers import Peer, PeerState, Role


@dataclass(frozen=True)
class Plan:
    tx: CreditTransfer
    payer: str
    payee: str | None  # the next hop, None when refused before routing
    hop_is_hub: bool  # the next hop is a peer hub: it decides, this hub follows
    channel: Channel
    reason: Reason | None = None
    detail: str = ""


def fields_sha(tx: CreditTransfer) -> str:
    """What a retry under the same UETR must repeat; any other difference is DUPL."""
    parts = (tx.uetr, tx.end_to_end_id, tx.tx_id, str(tx.amount.amount_minor),
             tx.amount.currency, tx.debtor.name, tx.debtor.iban, tx.debtor.agent,
             tx.creditor.name, tx.creditor.iban, tx.creditor.agent, str(tx.deadline_ns),
             str(tx.channel), tx.remittance)
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()


def route(tx: CreditTransfer, *, payer: Peer, creditor: Peer | None, via: Peer | None,
          now_ns: int, down: frozenset[str], net_available: bool) -> Plan:
    def refuse(reason: Reason, detail: str, payee: str | None = None) -> Plan:
        return Plan(tx, payer.bic, payee, False, Channel.RTGS, reason, detail)

    if payer.role is Role.PARTICIPANT and tx.debtor.agent != payer.bic:
        return refuse(Reason.RC01, "a participant sends only its own customers' transfers")
    if tx.amount.amount_minor <= 0:
        return refuse(Reason.AM02, "an amount of zero is not transferred")
    if tx.deadline_ns <= now_ns:
        return refuse(Reason.AB05, "the deadline has passed")
    if creditor is None or creditor.state is PeerState.REVOKED:
        return refuse(Reason.RC01, "the creditor agent is not a participant")
    if creditor.bic == payer.bic or creditor.role is Role.HUB:
        return refuse(Reason.RC01, "the creditor agent is not another bank")
    hop = creditor
    if creditor.role is Role.CORRESPONDENT:
        if via is None or via.role is not Role.HUB or via.bic == payer.bic:
            return refuse(Reason.RC01, "no route to the creditor agent's region")
        hop = via
    if not hop.active or hop.bic in down:
        return refuse(Reason.AB08, f"{hop.bic} is not answering", hop.bic)
    if tx.amount.currency != payer.currency or tx.amount.currency != hop.currency:
        return refuse(Reason.AM03, f"{tx.amount.currency} is not settled here", hop.bic)
    channel = (Channel.NET if tx.channel is Channel.NET and net_available
               and hop.role is Role.PARTICIPANT else Channel.RTGS)
    return Plan(tx, payer.bic, hop.bic, hop.role is Role.HUB, channel)
