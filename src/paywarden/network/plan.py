"""Which nodes a local network has, and what each is called: pure.

Region ``r`` (1, 2, …) has one hub and ``banks`` banks. Names are letters so that they
fit a BIC: the hub of region 1 is ``PWXANL2A``, its banks ``PWAANL2A`` and ``PWABNL2A``;
region 2's hub is ``PWXBNL2A``, its banks ``PWBANL2A``, ``PWBBNL2A``. A bank's IBANs
carry its bank code (the BIC's first four letters, as Dutch IBANs do), so an IBAN names
the bank that holds it. Ports are consecutive from ``base_port``.
"""

from __future__ import annotations

import string
from dataclasses import dataclass
from pathlib import PurePath

COUNTRY = "NL"
LOCATION = "2A"
REGIONS_MAX = 9
BANKS_MAX = 9


@dataclass(frozen=True)
class Node:
    name: str  # "hub-1", "bank-1a": also its data directory's name
    role: str  # "hub" or "bank"
    region: int
    bank_code: str  # four letters: the BIC's institution code
    port: int
    data_dir: PurePath

    @property
    def bic(self) -> str:
        return f"{self.bank_code}{COUNTRY}{LOCATION}"

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


@dataclass(frozen=True)
class Plan:
    root: PurePath
    nodes: tuple[Node, ...]

    @property
    def hubs(self) -> tuple[Node, ...]:
        return tuple(n for n in self.nodes if n.role == "hub")

    @property
    def banks(self) -> tuple[Node, ...]:
        return tuple(n for n in self.nodes if n.role == "bank")

    def hub_of(self, node: Node) -> Node:
        return next(h for h in self.hubs if h.region == node.region)

    def node(self, name: str) -> Node:
        for n in self.nodes:
            if name in (n.name, n.bic):
                return n
        raise KeyError(f"no node {name!r} in this network")

    def public(self) -> dict[str, object]:
        """The plan as JSON: what `network up` writes to ``<root>/network.json``."""
        return {"root": str(self.root), "nodes": [
            {"name": n.name, "role": n.role, "region": n.region, "bic": n.bic,
             "bank_code": n.bank_code, "url": n.url, "data_dir": str(n.data_dir)}
            for n in self.nodes]}


def plan(*, regions: int, banks: int, base_port: int, root: PurePath) -> Plan:
    if not (1 <= regions <= REGIONS_MAX and 1 <= banks <= BANKS_MAX):
        raise ValueError(f"1 to {REGIONS_MAX} regions of 1 to {BANKS_MAX} banks")
    letters = string.ascii_uppercase
    nodes: list[Node] = []
    for r in range(1, regions + 1):
        region = letters[r - 1]
        rows = [("hub", f"hub-{r}", f"PWX{region}")] + [
            ("bank", f"bank-{r}{letters[b].lower()}", f"PW{region}{letters[b]}")
            for b in range(banks)]
        for role, name, code in rows:
            nodes.append(Node(name, role, r, code, base_port + len(nodes), root / name))
    return Plan(root, tuple(nodes))
