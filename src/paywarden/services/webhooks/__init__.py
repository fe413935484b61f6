"""Webhooks: events written to an outbox in the caller's transaction, delivered signed.

One module per concept: ``events`` (the outbox: :func:`enqueue`, the log, resend),
``endpoints`` (a merchant's URL, sealed), ``urls`` (what URL may receive),
``signing`` (RFC 9421 over each delivery), ``dispatcher`` (:func:`deliver_due`,
back-off, :class:`Dispatcher`). Decision record: docs/decisions/0014.
"""

from .dispatcher import Dispatcher, Policy, Report, backoff_ns, deliver_due
from .endpoints import Endpoint, get_endpoint, set_endpoint
from .errors import WebhookRefused
from .events import (
    DELIVERED,
    EVENT_ID_PATTERN,
    FAILED,
    PENDING,
    Delivery,
    Event,
    canonical_json,
    enqueue,
    get,
    page,
    resend,
)
from .signing import COVERED, TAG

__all__ = [
    "COVERED",
    "DELIVERED",
    "EVENT_ID_PATTERN",
    "FAILED",
    "PENDING",
    "TAG",
    "Delivery",
    "Dispatcher",
    "Endpoint",
    "Event",
    "Policy",
    "Report",
    "WebhookRefused",
    "backoff_ns",
    "canonical_json",
    "deliver_due",
    "enqueue",
    "get",
    "get_endpoint",
    "page",
    "resend",
    "set_endpoint",
]
