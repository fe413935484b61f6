"""A pacs.008 value kept as canonical JSON in ``bank_clearing_batches``.

The payer bank stores each message *before* sending it (an outbox) and re-sends the
same value until every transaction in it is final. JSON of the value, not XML: the
codec (adapters/iso20022) is what writes XML, and it writes the same bytes for the same
value, so a re-send after a crash carries the same MsgId, UETRs and amounts.
"""

from __future__ import annotations

import json
from typing import Any

from ....domain.clearing.messages import Channel, CreditTransfer, Header, Pacs008, Party
from ....domain.money import Money


def dumps(message: Pacs008) -> str:
    h = message.header
    return json.dumps({
        "header": [h.msg_id, h.created_ns, h.sender, h.receiver],
        "transfers": [[t.uetr, t.end_to_end_id, t.tx_id, t.amount.amount_minor,
                       t.amount.currency, _party(t.debtor), _party(t.creditor), t.deadline_ns,
                       str(t.channel), t.remittance] for t in message.transfers],
    }, separators=(",", ":"), sort_keys=True)


def loads(text: str) -> Pacs008:
    data: dict[str, Any] = json.loads(text)
    msg_id, created_ns, sender, receiver = data["header"]
    return Pacs008(Header(msg_id, created_ns, sender, receiver), tuple(
        CreditTransfer(uetr, e2e, tx, Money(amount, currency), Party(*debtor),
                       Party(*creditor), deadline_ns, Channel(channel), remittance)
        for uetr, e2e, tx, amount, currency, debtor, creditor, deadline_ns, channel,
        remittance in data["transfers"]))


def _party(p: Party) -> list[str]:
    return [p.name, p.iban, p.agent]
