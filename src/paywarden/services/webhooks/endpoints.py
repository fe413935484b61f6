"""A merchant's webhook endpoint: one URL per merchant, sealed at rest, audited when set."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Connection, insert, select, update

from ...adapters.clock import Clock
from ...adapters.store import Database
from ...adapters.store.schema import webhook_endpoints
from ...domain.errors import InvariantViolation
from .. import audit
from ..keys import Keys
from .urls import check_url

TABLE = "webhook_endpoints"
URL_COLUMN = "url_sealed"


@dataclass(frozen=True)
class Endpoint:
    merchant_id: str
    url: str
    created_at: int
    updated_at: int
    disabled_at: int | None

    @property
    def active(self) -> bool:
        return self.disabled_at is None


def _seal(keys: Keys, merchant_id: str, url: str) -> bytes:
    return keys.seal(url.encode(), table=TABLE, column=URL_COLUMN, row_id=merchant_id)


def get_endpoint(conn: Connection, keys: Keys, merchant_id: str) -> Endpoint | None:
    row = conn.execute(select(webhook_endpoints)
                       .where(webhook_endpoints.c.merchant_id == merchant_id)).first()
    if row is None:
        return None
    url = keys.open(row.url_sealed, table=TABLE, column=URL_COLUMN, row_id=merchant_id).decode()
    return Endpoint(merchant_id=merchant_id, url=url, created_at=row.created_at,
                    updated_at=row.updated_at, disabled_at=row.disabled_at)


def set_endpoint(database: Database, *, clock: Clock, keys: Keys, allow_http: bool,
                 allow_private: bool, merchant_id: str, url: str, actor: str) -> Endpoint:
    """Set (or replace) the merchant's endpoint URL; checked by :func:`.urls.check_url`."""
    check_url(url, allow_http=allow_http, allow_private=allow_private)
    now = clock.now_ns()
    sealed = _seal(keys, merchant_id, url)
    with database.engine.begin() as conn:
        found = conn.execute(select(webhook_endpoints.c.created_at)
                             .where(webhook_endpoints.c.merchant_id == merchant_id)
                             .with_for_update()).first()
        if found is None:
            conn.execute(insert(webhook_endpoints).values(
                merchant_id=merchant_id, url_sealed=sealed, created_at=now, updated_at=now,
                disabled_at=None))
        else:
            conn.execute(update(webhook_endpoints)
                         .where(webhook_endpoints.c.merchant_id == merchant_id)
                         .values(url_sealed=sealed, updated_at=now, disabled_at=None))
        # The URL may carry a merchant's secret: only that it changed is recorded.
        audit.record(conn, at_ns=now, actor=actor, action="webhook.endpoint_set",
                     object_id=merchant_id, detail={"merchant_id": merchant_id},
                     before=None if found is None else "set", after="set")
        endpoint = get_endpoint(conn, keys, merchant_id)
    if endpoint is None:
        raise InvariantViolation(f"the endpoint of {merchant_id} vanished on write")
    return endpoint
