"""An :class:`Escrow` as JSON and back: the payment row keeps it sealed (it holds the
dispute's free text and the tracking number), with the fields queries need in plain
columns beside it."""

from __future__ import annotations

import dataclasses
import json
from typing import Any

from ...domain.escrow import (
    Decision,
    Dispute,
    DisputeReason,
    DisputeStatus,
    Escrow,
    EscrowTerms,
    FeeSchedule,
    Resolution,
    Shipment,
    State,
)
from ...domain.money import Money


def dumps(escrow: Escrow) -> bytes:
    return _ENCODER.encode(_plain(escrow)).encode()


_ENCODER = json.JSONEncoder(separators=(",", ":"), sort_keys=True)


_FIELDS: dict[type, tuple[str, ...] | None] = {}


def _field_names(kind: type) -> tuple[str, ...] | None:
    """A dataclass's field names; None for any other type (a class is not an instance)."""
    try:
        return _FIELDS[kind]
    except KeyError:
        names = (tuple(f.name for f in dataclasses.fields(kind))
                 if dataclasses.is_dataclass(kind) and not issubclass(kind, type) else None)
        return _FIELDS.setdefault(kind, names)


def _plain(value: Any) -> Any:
    """``dataclasses.asdict`` without its deep copies: the escrow's values are immutable."""
    names = _field_names(type(value))
    if names is not None:
        out = {}
        for name in names:
            item = getattr(value, name)
            kind = type(item)
            out[name] = item if kind is str or kind is int or item is None else _plain(item)
        return out
    if isinstance(value, tuple | list):
        return [_plain(v) for v in value]
    return value


def loads(data: bytes) -> Escrow:
    d: dict[str, Any] = json.loads(data)
    shipment = d.pop("shipment")
    dispute = d.pop("dispute")
    return Escrow(
        **{k: v for k, v in d.items() if k not in ("amount", "terms", "fee", "state")},
        amount=Money(**d["amount"]), terms=EscrowTerms(**d["terms"]),
        fee=FeeSchedule(**d["fee"]), state=State(d["state"]),
        shipment=Shipment(**shipment) if shipment else None,
        dispute=_dispute(dispute) if dispute else None)


def _dispute(d: dict[str, Any]) -> Dispute:
    decision = d.pop("decision")
    return Dispute(**{**d, "reason": DisputeReason(d["reason"]),
                      "status": DisputeStatus(d["status"]),
                      "buyer_evidence_refs": tuple(d["buyer_evidence_refs"]),
                      "merchant_evidence_refs": tuple(d["merchant_evidence_refs"]),
                      "decision": Decision(**{**decision, "resolution": Resolution(
                          decision["resolution"])}) if decision else None})


def public_state(escrow: Escrow) -> dict[str, Any]:
    """What the audit log's digests and the API show: no free text, no tracking number."""
    return {"payment_id": escrow.payment_id, "state": str(escrow.state),
            "version": escrow.version, "amount": escrow.amount.amount_minor,
            "currency": escrow.currency, "held": escrow.held_minor,
            "refunded": escrow.refunded_minor, "released": escrow.released_minor,
            "fee": escrow.fee_minor}
