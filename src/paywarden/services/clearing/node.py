"""A clearing node's parts, built once by the composition root (``Platform.clearing``).

``build_hub`` takes the codec, the signer and (later) the participants' CA and the net
windows as arguments: they are built beside this (decision 0053's layout), and the
composition root hands them in. Without a clearing BIC a node takes no messages.
"""

from __future__ import annotations

from dataclasses import dataclass

import httpx

from ...adapters.clock import Clock
from ...adapters.store import Database
from ..maintenance import Chore
from ..writepath import GroupWriter
from .hub import Hub
from .peers import Peers
from .ports import Codec, NetPositions, ParticipantCA, Signer
from .transport import Transport


@dataclass
class ClearingNode:
    transport: Transport
    peers: Peers
    hub: Hub | None  # None on a node that is a participant bank only

    def chores(self, *, interval_s: float) -> list[Chore]:
        """The hub's chores: void what passed its deadline, ask peer hubs again, tell payee
        banks their final statuses."""
        if self.hub is None:
            return []
        return [Chore("clearing.expire", interval_s, self.hub.expire_due),
                Chore("clearing.follow", interval_s, self.hub.follow_forwarded),
                Chore("clearing.notify", interval_s, self.hub.deliver_notifications)]

    def close(self) -> None:
        self.transport.close()


def build_hub(database: Database, *, clock: Clock, writer: GroupWriter, bic: str,
              codec: Codec, signer: Signer, replay_window_s: int, body_bytes_max: int,
              send_timeout_s: float, ca: ParticipantCA | None = None,
              net: NetPositions | None = None, crash_at: str | None = None,
              http: httpx.Client | None = None) -> ClearingNode:
    peers = Peers(database, clock=clock, writer=writer, ca=ca)
    client = http or httpx.Client(timeout=httpx.Timeout(send_timeout_s),
                                  follow_redirects=False, trust_env=False)
    transport = Transport(database, clock=clock, bic=bic, codec=codec, signer=signer,
                          peers=peers, http=client, replay_window_s=replay_window_s,
                          body_bytes_max=body_bytes_max)
    hub = Hub(database, clock=clock, writer=writer, transport=transport, peers=peers, net=net,
              crash_at=crash_at)
    hub.install()
    return ClearingNode(transport, peers, hub)
