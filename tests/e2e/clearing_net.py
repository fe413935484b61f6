"""A real clearing network for the end-to-end tests: hubs and banks as processes.

``lab(backend, root, regions, banks)`` provisions and starts one (SQLite files, or one
fresh PostgreSQL database per node), with a funded customer at every bank, and stops it
(dropping its databases) at the end. The helpers read each node the way an operator
would: its `paywarden clearing …` commands and the customers' own API.
"""

from __future__ import annotations

import random
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from paywarden.cli.in_process import InProcess
from paywarden.network import Network, Node, plan
from paywarden.network.customers import (
    Customer,
    deposit,
    funded,
    service_token,
    sign_up,
)
from paywarden.network.provision import fund, initialise, liquidity, register
from tests.conftest import _drop_pg_database, _fresh_pg_database

FUNDS = 1_000_000_00  # each customer's money from outside, minor units
DEADLINE_S = 6  # a transfer not accepted by then is rejected AB05 (short, for the tests)
SETTLED = ("posted", "voided", "failed")
SETTLE_WAIT_S = 90.0
SENDERS = 4
LAB_PORTS_FROM = 20_000  # the lab's nodes listen from here up to the ephemeral range
EPHEMERAL_FROM_DEFAULT = 32_768  # Linux's ip_local_port_range, when it cannot be read
LAB_SETTINGS = {
    "PAYWARDEN_CLEARING_DEADLINE_S": str(DEADLINE_S),
    "PAYWARDEN_CLEARING_CHORE_INTERVAL_S": "0.3",
    "PAYWARDEN_RAIL_INTERVAL_S": "0.2",
    "PAYWARDEN_LOG_JSON": "true",
    "PAYWARDEN_PAYEE_COOLING_OFF_S": "0",  # a new payee is paid in full at once
    # A customer the run leaves idle longer than the default 15 minutes (a long run on a
    # busy machine) is still signed in when its turn comes again.
    "PAYWARDEN_SESSION_IDLE_S": str(4 * 3600),
}


@dataclass
class Lab:
    net: Network
    customers: dict[str, Customer] = field(default_factory=dict)  # bank name -> customer
    extra: list[Customer] = field(default_factory=list)
    senders: dict[str, list[Customer]] = field(default_factory=dict)
    tokens: dict[str, str] = field(default_factory=dict)  # bank name -> machine token
    settings: dict[str, str] = field(default_factory=lambda: dict(LAB_SETTINGS))

    def node(self, name: str) -> Node:
        return self.net.plan.node(name)

    def customer(self, name: str) -> Customer:
        return self.customers[name]

    def sender(self, name: str, turn: int) -> Customer:
        """One of ``SENDERS`` funded customers of bank ``name``, in turn: the banks' risk
        rules review a customer's tenth transfer within a minute, and the kills come
        faster than that."""
        pool = self.senders.setdefault(name, [])
        while len(pool) < SENDERS:
            node = self.node(name)
            who = sign_up(node)
            token = self.tokens.get(name) or service_token(self.net, node)
            self.tokens[name] = token
            deposit(node, token, who.account["iban"], FUNDS)
            pool.append(who)
            self.extra.append(who)
        return pool[turn % SENDERS]

    def newcomer(self, name: str) -> Customer:
        """A new customer of bank ``name``: a payee nobody has paid yet (the banks' risk
        rules review a tenth transfer to one payee within an hour)."""
        who = sign_up(self.node(name))
        self.extra.append(who)
        return who

    def restart(self, node: Node, **extra: str) -> None:
        self.net.stop(node)
        self.net.start(node, **{**self.settings, **extra})
        self._reconnect(node)

    def recover(self, node: Node) -> None:
        """Start ``node`` again after it died (a kill, or its crash point)."""
        self.net.kill(node)
        self.net.start(node, **self.settings)
        self._reconnect(node)

    def _reconnect(self, node: Node) -> None:
        for who in [*self.customers.values(), *self.extra]:
            if who.node == node:
                who.reconnect()

    def settled(self, payer: Customer, movement_id: str,
                timeout_s: float = SETTLE_WAIT_S) -> dict[str, Any]:
        """The payer's transfer once it is final (posted or voided); fails if it never is."""
        deadline = time.monotonic() + timeout_s
        seen: dict[str, Any] = {}
        while time.monotonic() < deadline:
            seen = payer.transfers().get(movement_id, {})
            if seen.get("state") in SETTLED:
                return seen
            time.sleep(0.25)
        raise AssertionError(f"{movement_id} is still {seen.get('state')!r} "
                             f"after {timeout_s:.0f} s")

    def credited(self, receiver: Customer, expected: int,
                 timeout_s: float = SETTLE_WAIT_S) -> int:
        """The receiver's balance once it reaches ``expected`` (its bank learns the final
        status after the payer's, by the hub's notification), or when the wait ends."""
        deadline = time.monotonic() + timeout_s
        while (balance := receiver.balance()) < expected and time.monotonic() < deadline:
            time.sleep(0.25)
        return balance

    def verify_every_node(self) -> None:
        """`paywarden verify`, `audit verify` and `clearing reconcile` (against the hub's
        statement and its notifications) pass on every node, side by side."""
        def check(node: Node) -> None:
            self.net.command(node, "verify")
            self.net.command(node, "audit", "verify")
            report = self.net.command_json(node, "clearing", "reconcile", "--json")
            assert report["differences"] == [], (node.name, report)
            if node.role == "bank":  # reconcile checked each against the bank's own rows
                moved = self.net.command_json(node, "clearing", "payments", "--json")
                notified = self.net.command_json(node, "clearing", "notices", "--json")
                settled = [r for r in moved["out"] + moved["in"] if r["state"] == "settled"]
                assert bool(notified["notices"]) == bool(settled), (node.name, notified)

        with ThreadPoolExecutor(max_workers=3) as pool:
            list(pool.map(check, self.net.plan.nodes))


@contextmanager
def lab(backend: str, root: Path, *, regions: int = 2, banks: int = 1,
        channel: str = "RTGS", **settings: str) -> Iterator[Lab]:
    """The network, provisioned and serving; ``settings``: more ``PAYWARDEN_*`` of every
    node (kept through restarts)."""
    layout = plan(regions=regions, banks=banks, base_port=_ports(regions * (banks + 1)),
                  root=root)
    databases: dict[str, str] = {}
    pg_names: list[str] = []
    if backend == "postgresql":
        for node in layout.nodes:
            url, name = _fresh_pg_database()
            databases[node.name] = url
            pg_names.append(name)
    net = Network(layout, databases=databases, commands=InProcess())
    made: Lab | None = None
    try:
        initialise(net)
        register(net, cap_minor=FUNDS * 10, channel=channel)
        fund(net, reserves_minor=FUNDS * 100)
        every = {**LAB_SETTINGS, **settings}
        net.start_all(**every)
        liquidity(net, liquidity_minor=FUNDS * 50)
        made = Lab(net, settings=every)
        made.customers.update(net.each(layout.banks,
                                       lambda bank: funded(net, bank, FUNDS)))
        yield made
    finally:
        for who in [*made.customers.values(), *made.extra] if made is not None else ():
            who.http.close()
        net.stop_all()
        for name in pg_names:
            _drop_pg_database(name)


def _ports(count: int) -> int:
    """The first of ``count`` consecutive free ports (tried, not reserved), below the
    kernel's ephemeral range: a node killed and started again finds its port still free,
    never taken by another test's server (``free_port``) or by an outgoing connection's
    source port, which both come from that range."""
    low = EPHEMERAL_FROM_DEFAULT
    try:
        low = int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        pass
    picker = random.Random()
    for _ in range(200):
        first = picker.randrange(LAB_PORTS_FROM, max(LAB_PORTS_FROM + 1, low - count))
        if all(_free(first + i) for i in range(count)):
            return first
    raise RuntimeError("no run of free ports")


def _free(port: int) -> bool:
    import socket

    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True
