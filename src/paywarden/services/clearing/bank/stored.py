"""A message value kept as canonical JSON in ``bank_clearing_batches``: a pacs.008 of our
transfers, or a pacs.004 of our returns (decision 0060).

The payer bank stores each message *before* sending it (an outbox) and re-sends the
same value until every transaction in it is final. JSON of the value, not XML: the
codec (adapters/iso20022) is what writes XML, and it writes the same bytes for the same
value, so a re-send after a crash carries the same MsgId, UETRs and amounts.
"""

from __future__ import annotations

import json
from typing import Any

from ....domain.clearing.messages import (
    Channel,
    CreditTransfer,
    Header,
    Pacs004,
    Pacs008,
    Party,
    Return,
)
from ....domain.money import Money

Stored = Pacs008 | Pacs004


def dumps(message: Stored) -> str:
    h = message.header
    value: dict[str, Any] = {"header": [h.msg_id, h.created_ns, h.sender, h.receiver]}
    if isinstance(message, Pacs004):
        value["returns"] = [[r.return_id, r.original_msg_id, r.original_uetr,
                             r.original_end_to_end_id, r.amount.amount_minor,
                             r.amount.currency, r.reason] for r in message.returns]
    else:
        value["transfers"] = [
            [t.uetr, t.end_to_end_id, t.tx_id, t.amount.amount_minor, t.amount.currency,
             _party(t.debtor), _party(t.creditor), t.deadline_ns, str(t.channel),
             t.remittance] for t in message.transfers]
    return json.dumps(value, separators=(",", ":"), sort_keys=True)


def loads(text: str) -> Stored:
    data: dict[str, Any] = json.loads(text)
    msg_id, created_ns, sender, receiver = data["header"]
    header = Header(msg_id, created_ns, sender, receiver)
    if "returns" in data:
        return Pacs004(header, tuple(
            Return(return_id, original_msg_id, original_uetr, e2e, Money(amount, currency),
                   reason)
            for return_id, original_msg_id, original_uetr, e2e, amount, currency, reason
            in data["returns"]))
    return Pacs008(header, tuple(
        CreditTransfer(uetr, e2e, tx, Money(amount, currency), Party(*debtor),
                       Party(*creditor), deadline_ns, Channel(channel), remittance)
        for uetr, e2e, tx, amount, currency, debtor, creditor, deadline_ns, channel,
        remittance in data["transfers"]))


def _party(p: Party) -> list[str]:
    return [p.name, p.iban, p.agent]
