"""Provisioning a network, as its operators would, with each node's own commands.

1. Every node makes its clearing key and says who it is (`clearing identity`).
2. Each hub registers its region's banks, and every other hub as a peer hub, issuing
   each a certificate from its CA (`clearing participants add`); and it learns the
   banks of other regions as routes via their hub (`clearing participants route`).
3. Every bank trusts its hub: the hub's CA, and the hub's certificate from it (`clearing
   trust`). Two hubs need no more: each checks the other with the certificate it issued.
4. Each hub's operators fund the reserves of its participants (`clearing fund`, four
   eyes; the lab runs the approved effect), and,
   once the nodes are serving, every participant moves liquidity into its settlement
   account by pacs.009 (`clearing liquidity`).

Every step is idempotent (registering a known BIC with the same key answers the same
certificate), so `network up` on a provisioned directory provisions nothing twice.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

from .plan import Node
from .runner import Network

CURRENCY = "EUR"


def initialise(net: Network) -> None:
    """Step 0: every node's database, keys and CA (`paywarden init`), all at once."""
    net.each(net.plan.nodes, lambda n: net.command(n, "init"))


def identities(net: Network) -> dict[str, dict[str, Any]]:
    return net.each(net.plan.nodes,
                    lambda n: net.command_json(n, "clearing", "identity", "--json"))


def register(net: Network, *, cap_minor: int, channel: str = "RTGS") -> None:
    """Steps 1 to 3 (offline: the nodes need not be serving)."""
    ids = identities(net)
    with tempfile.TemporaryDirectory() as scratch:
        keys = {}
        for name, who in ids.items():
            keys[name] = Path(scratch) / f"{name}.pem"
            keys[name].write_text(who["public_key_pem"])

        def certify(hub: Node) -> None:  # each hub's own commands, one after another
            for node in net.plan.nodes:
                if node is hub:
                    continue
                if node.role == "bank" and node.region != hub.region:
                    via = net.plan.hub_of(node)
                    net.command_json(hub, "clearing", "participants", "route", "--bic",
                                     node.bic, "--via", via.bic, "--json")
                    continue
                role = "participant" if node.role == "bank" else "hub"
                issued = net.command_json(
                    hub, "clearing", "participants", "add", "--bic", node.bic,
                    "--name", node.name, "--url", node.url, "--role", role,
                    "--channel", channel, "--cap", str(cap_minor), "--currency", CURRENCY,
                    "--public-key-file", str(keys[node.name]), "--json")
                if node.role == "bank":  # two hubs each certify the other instead
                    _trust(net, node, hub, issued, scratch)

        net.each(net.plan.hubs, certify)


def _trust(net: Network, node: Node, issuer: Node, issued: dict[str, Any],
           scratch: str) -> None:
    """``node`` trusts ``issuer`` (its CA and its own certificate) and keeps the
    certificate ``issuer`` gave it."""
    base = Path(scratch) / f"{node.name}-{issuer.name}"
    ca, peer, own = (base.with_suffix(s) for s in (".ca.pem", ".peer.pem", ".own.pem"))
    ca.write_text(issued["ca_pem"])
    peer.write_text(issued["issuer_certificate_pem"])
    own.write_text(issued["certificate_pem"])
    net.command_json(node, "clearing", "trust", "--bic", issuer.bic, "--url", issuer.url,
                     "--ca-file", str(ca), "--certificate-file", str(peer),
                     "--own-certificate-file", str(own), "--json")


def fund(net: Network, *, reserves_minor: int) -> None:
    """Step 4a (offline): each hub funds its participants' reserves, as its operators
    would with `clearing fund` and a second person's approval (the lab has no people:
    it runs the approved command's effect, ``paywarden.testing.lab:fund_reserves``)."""
    def fund_all(hub: Node) -> None:
        for node in _participants(net, hub):
            net.call(hub, "paywarden.testing.lab:fund_reserves", node.bic,
                     str(reserves_minor), CURRENCY, f"lab-{node.bic}")

    net.each(net.plan.hubs, fund_all)


def liquidity(net: Network, *, liquidity_minor: int) -> None:
    """Step 4b (the nodes serving): every participant moves liquidity in by pacs.009."""
    def move(node: Node) -> None:
        for hub in net.plan.hubs:
            if node in _participants(net, hub):
                net.command_json(node, "clearing", "liquidity", "--to", hub.bic, "--amount",
                                 str(liquidity_minor), "--currency", CURRENCY, "--json")

    net.each(net.plan.nodes, move)


def _participants(net: Network, hub: Node) -> list[Node]:
    """Who holds a settlement account at ``hub``: its region's banks and the other hubs."""
    return [n for n in net.plan.nodes if n is not hub
            and not (n.role == "bank" and n.region != hub.region)]
