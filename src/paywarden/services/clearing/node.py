"""A clearing node's parts, built once by the composition root (``Platform.clearing``).

``build_hub`` takes the codec, the signer and (later) the participants' CA and the net
windows as arguments: they are built beside this (decision 0053's layout), and the
composition root hands them in. Without a clearing BIC a node takes no messages.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial
from typing import Any

import httpx
from sqlalchemy.exc import IntegrityError

from ...adapters.clock import Clock
from ...adapters.store import Database
from ...domain.clearing.messages import Message
from ..maintenance import Chore
from ..writepath import GroupWriter
from . import archive
from .bank_ports import Handler, HubUnreachable
from .hub import Hub
from .hub_cheques import HubCheques
from .hub_recalls import HubRecalls
from .identity import HubCA, NodeKeys, NodeSigner, Trust
from .notices import Notices
from .peers import Peers
from .ports import Codec, NetPositions, ParticipantCA, Signer, header_of
from .recall_cases import Cases
from .statements import Statements
from .transport import PeerRefused, PeerUnavailable, Transport
from .windows import NetWindows


@dataclass
class ClearingNode:
    transport: Transport
    peers: Peers
    hub: Hub | None  # None on a node that is a participant bank only
    trust: Trust | None = None
    ca: HubCA | None = None  # a hub's CA, issuing participant certificates
    statements: Statements | None = None  # camt.053 of settlement accounts, both ways
    cases: Cases | None = None  # recalls (camt.056 / camt.029) requested, relayed, received
    notices: Notices | None = None  # camt.054: a hub's owed, a participant's received
    windows: NetWindows | None = None  # a hub's deferred net settlement windows

    def serve_bank(self, handlers: dict[Any, Handler]) -> None:
        """Take the participant bank's messages (a pacs.008 forwarded by its hub, the
        final pacs.002 it owes) from the transport."""
        for type_, handler in handlers.items():
            self.transport.register(type_, handler)

    def chores(self, *, interval_s: float, window_cycle_s: float = 0.0) -> list[Chore]:
        """Every node delivers what its recall cases owe; a hub also voids what passed its
        deadline, asks peer hubs again, tells payee banks their final statuses and
        participants the bookings on their settlement accounts; with a cycle, it closes
        and settles its net windows."""
        recalls = [Chore("clearing.recalls", interval_s, self.cases.deliver_due)] \
            if self.cases is not None else []
        if self.hub is None:
            return recalls
        return [*recalls, Chore("clearing.expire", interval_s, self.hub.expire_due),
                Chore("clearing.follow", interval_s, self.hub.follow_forwarded),
                Chore("clearing.notify", interval_s, self.hub.deliver_notifications),
                *([Chore("clearing.notices", interval_s, self.notices.deliver_due)]
                  if self.notices is not None else []),
                *([Chore("clearing.windows", window_cycle_s,
                         partial(self.windows.cycle, window_cycle_s))]
                  if self.windows is not None and window_cycle_s > 0 else [])]

    def close(self) -> None:
        if self.hub is not None:
            self.hub.close()
        self.transport.close()


def build_hub(database: Database, *, clock: Clock, writer: GroupWriter, bic: str,
              codec: Codec, signer: Signer, replay_window_s: int, body_bytes_max: int,
              send_timeout_s: float, ca: ParticipantCA | None = None,
              net: NetPositions | None = None, crash_at: str | None = None,
              http: httpx.Client | None = None, peers: Peers | None = None) -> ClearingNode:
    peers = peers or Peers(database, clock=clock, writer=writer, ca=ca)
    client = http or _client(send_timeout_s)
    transport = Transport(database, clock=clock, bic=bic, codec=codec, signer=signer,
                          peers=peers, http=client, replay_window_s=replay_window_s,
                          body_bytes_max=body_bytes_max)
    hub = Hub(database, clock=clock, writer=writer, transport=transport, peers=peers, net=net,
              crash_at=crash_at)
    hub.install()
    cases = Cases(database, clock=clock, transport=transport, crash_at=crash_at)
    HubRecalls(database, clock=clock, peers=peers, cases=cases).install(transport)
    notices = Notices(database, clock=clock, transport=transport, peers=peers,
                      crash_at=crash_at)
    notices.install()
    HubCheques(clock=clock, peers=peers, transport=transport).install()
    return ClearingNode(transport, peers, hub, cases=cases, notices=notices)


def build_node(database: Database, *, clock: Clock, writer: GroupWriter, keys: NodeKeys,
               bic: str, hub: bool, codec: Codec, replay_window_s: int, body_bytes_max: int,
               send_timeout_s: float, crash_at: str | None = None) -> ClearingNode:
    """A node with the real identity: its keyring's ``clearing`` key, the CAs it trusts,
    and (a hub) its CA and its net windows. A bank's handlers are added by :meth:`ClearingNode.serve_bank`."""
    trust = Trust(database, clock=clock)
    signer = NodeSigner(keys, trust, clock=clock)
    ca = HubCA(database, keys, clock=clock) if hub else None
    if not hub:
        peers = Peers(database, clock=clock, writer=writer)
        transport = Transport(database, clock=clock, bic=bic, codec=codec, signer=signer,
                              peers=peers, http=_client(send_timeout_s),
                              replay_window_s=replay_window_s, body_bytes_max=body_bytes_max)
        notices = Notices(database, clock=clock, transport=transport, peers=peers)
        notices.install()
        return ClearingNode(transport, peers, None, trust, None,
                            Statements(database, clock=clock, transport=transport, peers=peers),
                            Cases(database, clock=clock, transport=transport,
                                  crash_at=crash_at), notices)
    peers = Peers(database, clock=clock, writer=writer, ca=ca)

    def cap(bic: str) -> int:  # a participant's net debit cap: none for a stranger
        peer = peers.get(bic)
        return peer.net_debit_cap if peer is not None else 0

    net = NetWindows(database, writer=writer, clock=clock, caps=cap, crash_at=crash_at)
    node = build_hub(database, clock=clock, writer=writer, bic=bic, codec=codec,
                     signer=signer, replay_window_s=replay_window_s,
                     body_bytes_max=body_bytes_max, send_timeout_s=send_timeout_s, ca=ca,
                     net=net, crash_at=crash_at, peers=peers)
    node.trust, node.ca, node.windows = trust, ca, net
    node.statements = Statements(database, clock=clock, transport=node.transport,
                                 peers=node.peers)
    return node


def _client(send_timeout_s: float) -> httpx.Client:
    return httpx.Client(timeout=httpx.Timeout(send_timeout_s), follow_redirects=False,
                        trust_env=False)


class TransportHubLink:
    """A participant bank's :class:`~.bank_ports.HubLink` over the transport: a message
    sent before (the same MsgId: a retry after a crash or a lost answer, or the same
    message sent at once by two threads) goes again as the exact stored bytes, which the
    hub recognises as a retry."""

    def __init__(self, database: Database, transport: Transport, *, hub_bic: str) -> None:
        self._database = database
        self._transport = transport
        self._hub_bic = hub_bic

    def send(self, message: Message) -> Message | None:
        try:
            stored = self._stored(message)
            if stored is not None:
                return self._transport.resend(stored)
            try:
                return self._transport.send(self._hub_bic, message)
            except IntegrityError:  # archived meanwhile by another sender of the same message
                stored = self._stored(message)
                if stored is None:
                    raise
                return self._transport.resend(stored)
        except (PeerUnavailable, PeerRefused) as exc:
            raise HubUnreachable(exc.detail) from None

    def _stored(self, message: Message) -> archive.Archived | None:
        with self._database.engine.connect() as conn:
            return archive.find(conn, direction=archive.OUT, sender=self._transport.bic,
                                msg_id=header_of(message).msg_id)
