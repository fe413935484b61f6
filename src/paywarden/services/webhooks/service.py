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
from ..keys import Keys
from .dispatcher import Deliveries, Policy, Report
from .endpoints import Endpoint, set_endpoint


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

    def deliver_due(self, limit: int | None = None, *, client: httpx.Client | None = None,
                    rng: random.Random | None = None) -> Report:
        """See :meth:`.dispatcher.Deliveries.deliver_due`."""
        return self._deliveries.deliver_due(limit, client=client, rng=rng)
