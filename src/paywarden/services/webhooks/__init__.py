"""Webhooks: events written to an outbox in the caller's transaction, delivered signed.

One module per concept: ``events`` (the outbox: :func:`enqueue`, the log, resend),
``endpoints`` (a merchant's URL, sealed), ``urls`` (what URL may receive),
``signing`` (RFC 9421 over each delivery), ``dispatcher`` (:class:`Deliveries`,
back-off, :class:`Dispatcher`), ``service`` (:class:`Webhooks`, the use cases wired to
the platform's parts). Decision record: docs/decisions/0014.
"""

from .dispatcher import Deliveries, Dispatcher, Policy, Report, backoff_ns
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
from .service import Webhooks
from .signing import COVERED, TAG

__all__ = [
    "COVERED",
    "DELIVERED",
    "EVENT_ID_PATTERN",
    "FAILED",
    "PENDING",
    "TAG",
    "Deliveries",
    "Delivery",
    "Dispatcher",
    "Endpoint",
    "Event",
    "Policy",
    "Report",
    "WebhookRefused",
    "Webhooks",
    "backoff_ns",
    "canonical_json",
    "enqueue",
    "get",
    "get_endpoint",
    "page",
    "resend",
    "set_endpoint",
]
