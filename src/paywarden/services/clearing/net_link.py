"""The hub's net positions on the net windows (decisions 0055, 0057).

The hub asks its :class:`~.ports.NetPositions` port by UETR; the windows
(:mod:`.windows`) work inside a write-path batch, so that a position commits with the
rows around it. Here each call is a unit of its own on the same write path: the
position is taken (or refused, the hub answers AM04) before the hub's row, and committed
or released after the hub's decision; each call is idempotent by UETR, so a crash between
the two is finished by the retry that re-runs the decision. The payer's cap is its
``net_debit_cap`` in ``clearing_peers``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ...adapters.clock import Clock
from ...adapters.store import Database
from ...domain.errors import DomainError
from ..writepath import Batch, GroupWriter
from .peers import Peers
from .windows import NetWindows


@dataclass
class _Call:
    call: Callable[[Batch], Any]
    chain: tuple[()] = ()
    accounts: tuple[()] = ()
    savepoint: bool = False
    _result: Any = field(default=None, init=False)

    def run(self, batch: Batch) -> None:
        self._result = self.call(batch)

    def result(self) -> Any:
        return self._result


class HubNetPositions:
    def __init__(self, windows: NetWindows, *, writer: GroupWriter, peers: Peers) -> None:
        self.windows = windows
        self._writer = writer
        self._peers = peers

    def reserve(self, uetr: str, payer: str, payee: str, amount: int) -> bool:
        peer = self._peers.get(payer)
        if peer is None:
            raise DomainError("message_sender_unknown", f"no participant {payer}")
        taken: bool = self._writer.execute(_Call(
            lambda batch: self.windows.reserve(batch, uetr, payer, payee, amount,
                                               peer.currency)))
        return taken

    def commit(self, uetr: str) -> None:
        self._writer.execute(_Call(lambda batch: self.windows.commit(batch, uetr)))

    def release(self, uetr: str) -> None:
        self._writer.execute(_Call(lambda batch: self.windows.release(batch, uetr)))


def net_positions(database: Database, *, writer: GroupWriter, clock: Clock, peers: Peers,
                  crash_at: str | None = None) -> HubNetPositions:
    def cap(bic: str) -> int:
        peer = peers.get(bic)
        return peer.net_debit_cap if peer is not None else 0

    windows = NetWindows(database, writer=writer, clock=clock, caps=cap, crash_at=crash_at)
    return HubNetPositions(windows, writer=writer, peers=peers)
