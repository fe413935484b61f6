"""The outbox: webhook events written in the caller's transaction, and their log.

:func:`enqueue` takes the caller's :class:`~sqlalchemy.Connection`, so the event
commits or rolls back with the state change it reports — the outbox pattern:
no event for a change that did not happen, no change without its event. The
dispatcher (:mod:`.dispatcher`) delivers it afterwards.

A payload holds ids, amounts in minor units and states only — never personal
data, a card number or a secret — as canonical JSON (sorted keys, no spaces, no
floats), at most :data:`PAYLOAD_BYTES_MAX` bytes.
"""

from __future__ import annotations

import json
import re
import secrets
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, and_, insert, or_, select

from ...adapters.store.schema import webhook_deliveries, webhook_events
from ...domain.errors import InvariantViolation
from ...domain.timestamps import rfc3339
from .. import audit
from .errors import WebhookRefused

EVENT_PREFIX = "evt_"
EVENT_ID_PATTERN = r"^evt_[0-9a-f]{24}$"
EVENT_TYPE_RE = re.compile(r"[a-z][a-z0-9_]{0,30}(\.[a-z][a-z0-9_]{0,30}){1,3}")
PAYLOAD_BYTES_MAX = 16 * 1024
PAGE_SIZE_MAX = 100
DELIVERIES_SHOWN_MAX = 20  # per event in the log; the newest

PENDING = "pending"
DELIVERED = "delivered"
FAILED = "failed"


@dataclass(frozen=True)
class Delivery:
    attempt: int
    at: int
    status_code: int | None
    error: str | None
    duration_ms: int
    state: str
    next_attempt_at: int | None


@dataclass(frozen=True)
class Event:
    id: str
    merchant_id: str
    type: str
    payload: str  # canonical JSON
    created_at: int
    audit_index: int | None
    state: str
    attempts: int
    next_attempt_at: int | None
    retry_from: int
    deliveries: tuple[Delivery, ...] = ()

    def body(self) -> bytes:
        """What is POSTed: the event's envelope, canonical JSON."""
        return canonical_json({"id": self.id, "type": self.type, "merchant_id": self.merchant_id,
                               "created_at": rfc3339(self.created_at),
                               "audit_index": self.audit_index,
                               "data": json.loads(self.payload)}).encode()




def _no_floats(value: Any) -> None:
    """Refuse a float or a non-string key anywhere in ``value``, naming where (the path is
    made only for the refusal: most payloads have none)."""
    found = _first_float(value)
    if found is None:
        return
    path, what = found
    where = "payload" + "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in path)
    if what == "key":
        raise WebhookRefused("payload_invalid", f"{where} has a non-string key")
    raise WebhookRefused("payload_invalid", f"{where} is a float; amounts are integers "
                         "of minor units")


def _first_float(value: Any) -> tuple[list[str | int], str] | None:
    """Where the first float or non-string key is, root first, and which it is."""
    if isinstance(value, float):
        return [], "float"
    if isinstance(value, dict):
        for key, item in value.items():
            if not isinstance(key, str):
                return [], "key"
            if type(item) is str or type(item) is int:
                continue
            found = _first_float(item)
            if found is not None:
                found[0].insert(0, key)
                return found
    elif isinstance(value, list | tuple):
        for index, item in enumerate(value):
            found = _first_float(item)
            if found is not None:
                found[0].insert(0, index)
                return found
    return None


def canonical_json(value: Any) -> str:
    """Sorted keys, no insignificant space, UTF-8, no NaN: the same value, the same bytes."""
    _no_floats(value)
    try:
        return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False,
                          allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise WebhookRefused("payload_invalid", "the payload is not plain JSON") from exc


def new_event_id() -> str:
    return EVENT_PREFIX + secrets.token_hex(12)


def enqueue(conn: Connection, *, merchant_id: str, event_type: str, payload: dict[str, Any],
            at_ns: int, audit_index: int | None) -> str:
    """Write one event to the outbox in the caller's transaction; returns its ``evt_`` id."""
    values = outbox_row(merchant_id=merchant_id, event_type=event_type, payload=payload,
                        at_ns=at_ns, audit_index=audit_index)
    conn.execute(INSERT, values)
    return str(values["id"])


def outbox_row(*, merchant_id: str, event_type: str, payload: dict[str, Any], at_ns: int,
               audit_index: int | None) -> dict[str, Any]:
    """The outbox row of one event, checked, for :data:`INSERT` (a group commit inserts a
    batch's rows at once)."""
    if not EVENT_TYPE_RE.fullmatch(event_type):
        raise WebhookRefused("event_type_invalid", f"event type {event_type[:64]!r} is not "
                             "like 'payment.held'")
    if not isinstance(payload, dict):
        raise WebhookRefused("payload_invalid", "the payload is a JSON object")
    text = canonical_json(payload)
    if len(text.encode()) > PAYLOAD_BYTES_MAX:
        raise WebhookRefused("payload_invalid", f"the payload exceeds {PAYLOAD_BYTES_MAX} bytes")
    return {"id": new_event_id(), "merchant_id": merchant_id, "type": event_type,
            "payload": text, "created_at": at_ns, "audit_index": audit_index, "state": PENDING,
            "attempts": 0, "next_attempt_at": at_ns, "retry_from": at_ns}


INSERT = insert(webhook_events)


def _event(row: Any, deliveries: tuple[Delivery, ...] = ()) -> Event:
    return Event(id=row.id, merchant_id=row.merchant_id, type=row.type, payload=row.payload,
                 created_at=row.created_at, audit_index=row.audit_index, state=row.state,
                 attempts=row.attempts, next_attempt_at=row.next_attempt_at,
                 retry_from=row.retry_from, deliveries=deliveries)


def get(conn: Connection, event_id: str, *, merchant_id: str | None = None) -> Event | None:
    query = select(webhook_events).where(webhook_events.c.id == event_id)
    if merchant_id is not None:
        query = query.where(webhook_events.c.merchant_id == merchant_id)
    row = conn.execute(query).first()
    return None if row is None else _event(row, deliveries(conn, event_id))


def deliveries(conn: Connection, event_id: str,
               limit: int = DELIVERIES_SHOWN_MAX) -> tuple[Delivery, ...]:
    rows = conn.execute(select(webhook_deliveries)
                        .where(webhook_deliveries.c.event_id == event_id)
                        .order_by(webhook_deliveries.c.attempt.desc()).limit(limit)).all()
    return tuple(Delivery(attempt=r.attempt, at=r.at, status_code=r.status_code, error=r.error,
                          duration_ms=r.duration_ms, state=r.state,
                          next_attempt_at=r.next_attempt_at) for r in reversed(rows))


def page(conn: Connection, merchant_id: str, *, limit: int,
         before: tuple[int, str] | None = None) -> tuple[list[Event], tuple[int, str] | None]:
    """A merchant's events, newest first, and the cursor of the next page (None at the end)."""
    limit = max(1, min(limit, PAGE_SIZE_MAX))
    c = webhook_events.c
    query = select(webhook_events).where(c.merchant_id == merchant_id)
    if before is not None:
        at, last_id = before
        query = query.where(or_(c.created_at < at, and_(c.created_at == at, c.id < last_id)))
    rows = conn.execute(query.order_by(c.created_at.desc(), c.id.desc()).limit(limit)).all()
    found = [_event(row, deliveries(conn, row.id)) for row in rows]
    cursor = (found[-1].created_at, found[-1].id) if len(found) == limit else None
    return found, cursor


def resend(conn: Connection, *, merchant_id: str, event_id: str, at_ns: int,
           actor: str) -> Event:
    """Deliver a merchant's event again, now, with a fresh retry horizon (audited)."""
    found = get(conn, event_id, merchant_id=merchant_id)
    if found is None:
        raise WebhookRefused("not_found", "no such event")
    conn.execute(webhook_events.update().where(webhook_events.c.id == event_id).values(
        state=PENDING, next_attempt_at=at_ns, retry_from=at_ns))
    audit.record(conn, at_ns=at_ns, actor=actor, action="webhook.resend", object_id=event_id,
                 detail={"merchant_id": merchant_id, "attempts": found.attempts},
                 before=found.state, after=PENDING)
    resent = get(conn, event_id)
    if resent is None:
        raise InvariantViolation(f"event {event_id} vanished inside its own transaction")
    return resent
