"""Proving a merchant controls a domain: the platform fetches the token it was given.

    GET {scheme}://{domain}[:{port}]/.well-known/paywarden-verification

Server-side request forgery is the danger: the merchant names the host. So the
name is resolved here, every address it resolves to must be public (not
loopback, private, link-local, shared, reserved or multicast), and the request
goes to that checked address — with the domain as Host and TLS server name —
so a second resolution cannot swap in another address (DNS rebinding). No
redirect is followed, proxies from the environment are ignored, and the body
is read up to a small limit within one overall timeout (``time.monotonic``: a
network deadline, not the platform's clock). ``allow_private`` lifts the
address rule for tests. Name resolution is the system resolver's, with its own
timeouts.
"""

from __future__ import annotations

import hmac
import ipaddress
import socket
import ssl
import time
from dataclasses import dataclass

import httpx

from ...domain.errors import DomainError
from .hostnames import is_ip_literal

WELL_KNOWN_PATH = "/.well-known/paywarden-verification"
DEFAULT_PORTS = {"https": 443, "http": 80}
ADDRESSES_MAX = 16


@dataclass(frozen=True)
class Fetcher:
    scheme: str
    port: int | None
    timeout_s: float
    body_bytes_max: int
    allow_private: bool
    verify: ssl.SSLContext | bool = True  # tests pass a context trusting their own CA

    def check(self, domain: str, token: str) -> None:
        """Return if ``domain`` serves ``token``; otherwise raise a ``DomainError``."""
        served = self.fetch(domain)
        if not hmac.compare_digest(served.strip(), token.encode()):
            raise DomainError("domain_token_mismatch",
                              f"{domain} does not serve this domain's verification token")

    def fetch(self, domain: str) -> bytes:
        port = self.port or DEFAULT_PORTS[self.scheme]
        address = self.resolve(domain, port)
        host = f"[{address}]" if address.version == 6 else str(address)
        host_header = domain if self.port is None else f"{domain}:{port}"
        url = f"{self.scheme}://{host}:{port}{WELL_KNOWN_PATH}"
        extensions = {"sni_hostname": domain} if self.scheme == "https" else {}
        try:
            with httpx.Client(follow_redirects=False, trust_env=False, verify=self.verify,
                              timeout=httpx.Timeout(self.timeout_s)) as client, \
                    client.stream("GET", url, headers={"Host": host_header,
                                                       "Accept": "text/plain"},
                                  extensions=extensions) as response:
                if response.is_redirect:
                    raise DomainError("domain_redirect_refused",
                                      f"{domain} answered with a redirect; serve the token "
                                      "at the path itself")
                if response.status_code != 200:
                    raise DomainError("domain_unreachable",
                                      f"{domain} answered HTTP {response.status_code}")
                return self._read(domain, response,
                                  deadline=time.monotonic() + self.timeout_s)
        except httpx.HTTPError as exc:
            raise DomainError("domain_unreachable",
                              f"{domain} could not be fetched ({type(exc).__name__})") from None

    def _read(self, domain: str, response: httpx.Response, *, deadline: float) -> bytes:
        """The body, up to the cap, within one timeout in all (a slow drip is cut off)."""
        body = bytearray()
        for chunk in response.iter_bytes():
            if time.monotonic() > deadline:
                raise DomainError("domain_unreachable", f"{domain} answered too slowly")
            body += chunk
            if len(body) > self.body_bytes_max:
                raise DomainError("domain_body_too_large", f"{domain} answered more than "
                                  f"{self.body_bytes_max} bytes")
        return bytes(body)

    def resolve(self, domain: str, port: int) -> ipaddress.IPv4Address | ipaddress.IPv6Address:
        """The first address of ``domain``, once every address it has passed the rules."""
        if is_ip_literal(domain) and not self.allow_private:
            raise DomainError("domain_address_refused", "an IP address is not a domain")
        try:
            infos = socket.getaddrinfo(domain, port, type=socket.SOCK_STREAM)
        except (OSError, UnicodeError):
            raise DomainError("domain_unreachable", f"{domain} does not resolve") from None
        addresses = list(dict.fromkeys(ipaddress.ip_address(str(info[4][0]).split("%")[0])
                                       for info in infos))[:ADDRESSES_MAX]
        if not addresses:
            raise DomainError("domain_unreachable", f"{domain} does not resolve")
        if not self.allow_private:
            for address in addresses:
                if not _public(address):
                    raise DomainError("domain_address_refused", f"{domain} resolves to a "
                                      "loopback, private or reserved address")
        return min(addresses, key=lambda a: a.version)  # IPv4 first


def _public(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return address.is_global and not address.is_multicast
