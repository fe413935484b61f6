"""A merchant's webhooks (signed requests; decision 0014):

    PUT  /v1/merchants/me/webhook-endpoint                 set the endpoint URL
    GET  /v1/merchants/me/webhook-endpoint                 read it
    GET  /v1/merchants/me/webhook-events                   the delivery log, newest first
    POST /v1/merchants/me/webhook-events/{id}/resend       deliver it again, now
    POST /v1/merchants/me/webhook-events/test              queue a signed test.ping

Setting the endpoint, resending and sending a test event are authorised like the merchant's keys
(its integration settings); reading the log like the merchant's record.
Another merchant's event answers 404.
"""

from __future__ import annotations

import json
from typing import Annotated

from fastapi import APIRouter, Path, Query

from ..bootstrap import Platform
from ..domain.identity import Access, Kind, Principal, Resource
from ..services import webhooks
from . import problem_codes as codes
from .auth import CurrentPrincipal
from .deps import PlatformDep
from .ids import CURSOR_NS_PATTERN, rfc3339
from .problems import Problem, Refusals
from .schemas.webhooks import DeliveryOut, EndpointIn, EndpointOut, EventOut, EventPage

router = APIRouter(prefix="/v1/merchants/me", tags=["webhooks"])
EVENT_CURSOR = rf"^{CURSOR_NS_PATTERN}\.evt_[0-9a-f]{{24}}$"

PAGE_SIZE_DEFAULT = 20
EventId = Annotated[str, Path(pattern=webhooks.EVENT_ID_PATTERN)]
_refusals = Refusals(codes.Webhooks)


def _merchant(platform: Platform, principal: Principal, resource: Resource,
              access: Access) -> str:
    if principal.kind is not Kind.MERCHANT or principal.owner is None:
        raise Problem(codes.Edge.NOT_FOUND, "this caller acts for no merchant")
    platform.guard.authorize(principal, resource, access, owner=principal.owner,
                             object_id=principal.owner)
    return principal.owner


def _time(ns: int | None) -> str | None:
    return None if ns is None else rfc3339(ns)


def _event_out(event: webhooks.Event) -> EventOut:
    return EventOut(
        id=event.id, type=event.type, created_at=rfc3339(event.created_at),
        audit_index=event.audit_index, state=event.state, attempts=event.attempts,
        next_attempt_at=_time(event.next_attempt_at) if event.state == webhooks.PENDING
        else None, data=json.loads(event.payload),
        deliveries=[DeliveryOut(attempt=d.attempt, at=rfc3339(d.at), status_code=d.status_code,
                                error=d.error, duration_ms=d.duration_ms, state=d.state,
                                next_attempt_at=_time(d.next_attempt_at))
                    for d in event.deliveries])


def _endpoint_out(endpoint: webhooks.Endpoint) -> EndpointOut:
    return EndpointOut(url=endpoint.url, status="active" if endpoint.active else "disabled",
                       created_at=rfc3339(endpoint.created_at),
                       updated_at=rfc3339(endpoint.updated_at))


@router.put("/webhook-endpoint", response_model=EndpointOut)
def set_endpoint(body: EndpointIn, platform: PlatformDep,
                 principal: CurrentPrincipal) -> EndpointOut:
    """Set the webhook endpoint.

    An https URL on a public address; events are signed (RFC 9421). The answer shows the signing
    details.
    """
    merchant_id = _merchant(platform, principal, Resource.MERCHANT_KEYS, Access.WRITE)
    with _refusals():
        endpoint = platform.webhooks.set_endpoint(merchant_id=merchant_id, url=body.url,
                                                  actor=principal.actor)
    return _endpoint_out(endpoint)


@router.get("/webhook-endpoint", response_model=EndpointOut)
def get_endpoint(platform: PlatformDep, principal: CurrentPrincipal) -> EndpointOut:
    """Read the webhook endpoint.

    The merchant's endpoint URL and its state.
    """
    merchant_id = _merchant(platform, principal, Resource.MERCHANTS, Access.READ)
    with platform.database.engine.connect() as conn:
        endpoint = webhooks.get_endpoint(conn, platform.keys, merchant_id)
    if endpoint is None:
        raise Problem(codes.Edge.NOT_FOUND, "no webhook endpoint is set")
    return _endpoint_out(endpoint)


@router.get("/webhook-events", response_model=EventPage)
def list_events(platform: PlatformDep, principal: CurrentPrincipal,
                limit: Annotated[int, Query(ge=1, le=100)] = PAGE_SIZE_DEFAULT,
                cursor: Annotated[str | None, Query(pattern=EVENT_CURSOR)]
                = None) -> EventPage:
    """List webhook events.

    The merchant's events and their delivery attempts, newest first."""
    merchant_id = _merchant(platform, principal, Resource.MERCHANTS, Access.READ)
    before = None
    if cursor is not None:
        at, _, last_id = cursor.partition(".")
        before = (int(at), last_id)
    with platform.database.engine.connect() as conn:
        found, next_before = webhooks.page(conn, merchant_id, limit=limit, before=before)
    return EventPage(data=[_event_out(e) for e in found],
                     next_cursor=None if next_before is None
                     else f"{next_before[0]}.{next_before[1]}")


@router.post("/webhook-events/{event_id}/resend", status_code=202, response_model=EventOut)
def resend(event_id: EventId, platform: PlatformDep, principal: CurrentPrincipal) -> EventOut:
    """Resend a webhook event.

    Queue the event for delivery again.
    """
    merchant_id = _merchant(platform, principal, Resource.MERCHANT_KEYS, Access.MODIFY)
    with _refusals(), platform.database.engine.begin() as conn:
        event = webhooks.resend(conn, merchant_id=merchant_id, event_id=event_id,
                                at_ns=platform.clock.now_ns(), actor=principal.actor)
    return _event_out(event)


@router.post("/webhook-events/test", status_code=202, response_model=EventOut)
def send_test(platform: PlatformDep, principal: CurrentPrincipal) -> EventOut:
    """Send a test event.

    Queue a `test.ping` event (`data.test` is true) to the endpoint: signed, delivered, retried
    and logged like any other event.
    """
    merchant_id = _merchant(platform, principal, Resource.MERCHANT_KEYS, Access.MODIFY)
    with _refusals():
        event_id = platform.webhooks.send_test(merchant_id=merchant_id, actor=principal.actor)
    with platform.database.engine.connect() as conn:
        event = webhooks.get(conn, event_id, merchant_id=merchant_id)
    if event is None:
        raise Problem(codes.Edge.NOT_FOUND, "no such event")
    return _event_out(event)
