"""``Webhooks``: setting a merchant's endpoint and delivering due events, wired.

The composition root (``paywarden.bootstrap``) builds one over the platform's
database, clock and keyring with the ``webhook_*`` settings read into a
:class:`.dispatcher.Policy`; routes, commands and the maintenance thread use it.
"""

from __future__ import annotations

import random

import httpx

from ...adapters.clock import Clock
from ...adapters.store import Database
from .. import audit
from ..keys import Keys
from .dispatcher import Deliveries, Policy, Report
from .endpoints import Endpoint, get_endpoint, set_endpoint
from .errors import WebhookRefused
from .events import enqueue

TEST_EVENT = "test.ping"


class Webhooks:
    def __init__(self, database: Database, *, clock: Clock, keys: Keys, policy: Policy) -> None:
        self._database = database
        self._clock = clock
        self._keys = keys
        self.policy = policy
        self._deliveries = Deliveries(database, clock=clock, keys=keys, policy=policy)

    def set_endpoint(self, *, merchant_id: str, url: str, actor: str) -> Endpoint:
        return set_endpoint(self._database, clock=self._clock, keys=self._keys,
                            allow_http=self.policy.allow_http,
                            allow_private=self.policy.allow_private,
                            merchant_id=merchant_id, url=url, actor=actor)

    def send_test(self, *, merchant_id: str, actor: str) -> str:
        """Queue a ``test.ping`` for the merchant's endpoint; its ``evt_`` id.

        It goes through the outbox like any event, so it is signed, retried and logged
        exactly as a real one would be: a merchant testing their receiver tests the real
        path. Its body says ``"test": true`` so a receiver can tell it from business; it
        carries no business data. Audited, and the event holds the audit index."""
        now = self._clock.now_ns()
        with self._database.engine.begin() as conn:
            endpoint = get_endpoint(conn, self._keys, merchant_id)
            if endpoint is None or not endpoint.active:
                raise WebhookRefused("no_endpoint", "set a webhook endpoint first")
            index = audit.record(conn, at_ns=now, actor=actor, action="webhook.test",
                                 object_id=merchant_id, detail={"merchant_id": merchant_id})
            return enqueue(conn, merchant_id=merchant_id, event_type=TEST_EVENT,
                           payload={"test": True, "merchant_id": merchant_id},
                           at_ns=now, audit_index=index)

    def deliver_due(self, limit: int | None = None, *, client: httpx.Client | None = None,
                    rng: random.Random | None = None) -> Report:
        """See :meth:`.dispatcher.Deliveries.deliver_due`."""
        return self._deliveries.deliver_due(limit, client=client, rng=rng)
