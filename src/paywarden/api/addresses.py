"""The client's address: the TCP peer, or what a trusted proxy says the peer was.

``X-Forwarded-For`` is written by whoever sends the request, so it is read
only when the peer is one of ``settings.trusted_proxies``, and then from the
right: each trusted proxy appends the address it received from, so the first
hop, counted from the right, that is not a trusted proxy is the client. A
value a client put at the left of the header is never reached.

Rate limits count an IPv6 client by its /64: one subscriber usually holds a
whole /64 and could otherwise take a fresh address for every request.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from ipaddress import IPv4Network, IPv6Address, IPv6Network, ip_address, ip_network

from starlette.requests import HTTPConnection
from starlette.types import Scope

Network = IPv4Network | IPv6Network
UNKNOWN = "unknown"
STATE_KEY = "client_address"
FORWARDED_HOPS_MAX = 32  # a longer chain is not believed beyond this many hops
IPV6_PREFIX_LEN = 64


def _trusted(address: str, proxies: Sequence[Network]) -> bool:
    try:
        ip = ip_address(address)
    except ValueError:
        return False
    return any(ip in network for network in proxies)


def resolve(peer: str | None, forwarded_for: Iterable[str],
            proxies: Sequence[Network]) -> str:
    """The client address, given the TCP peer and every ``X-Forwarded-For`` value."""
    address = peer or UNKNOWN
    if not proxies or not _trusted(address, proxies):
        return address
    hops = [hop.strip() for value in forwarded_for for hop in value.split(",")]
    for hop in reversed(hops[-FORWARDED_HOPS_MAX:]):
        try:
            address = str(ip_address(hop))
        except ValueError:
            return address  # garbage from beyond the last trusted proxy: that proxy's peer
        if not _trusted(address, proxies):
            return address
    return address


def resolve_scope(scope: Scope, proxies: Sequence[Network]) -> str:
    client = scope.get("client")
    peer = client[0] if client else None
    forwarded = [value.decode("latin-1") for name, value in scope.get("headers", ())
                 if name == b"x-forwarded-for"]
    return resolve(peer, forwarded, proxies)


def rate_key(address: str) -> str:
    """What the per-address limit counts: the address, or an IPv6 address's /64."""
    try:
        ip = ip_address(address)
    except ValueError:
        return address
    if isinstance(ip, IPv6Address):
        if ip.ipv4_mapped is not None:
            return str(ip.ipv4_mapped)
        return str(ip_network(f"{ip}/{IPV6_PREFIX_LEN}", strict=False))
    return str(ip)


def client_address(connection: HTTPConnection) -> str:
    """The address the edge middleware resolved for this request (see :mod:`defences`)."""
    state = connection.scope.get("state") or {}
    resolved = state.get(STATE_KEY)
    if isinstance(resolved, str):
        return resolved
    client = connection.client
    return client.host if client else UNKNOWN
