"""A merchant's endpoint URL: https only (unless a setting allows http), no user
information, no fragment, and never an address inside the platform's own network
(loopback, private, link-local, …) unless a setting allows it for local tests.

The address check runs twice: on the literal host when the URL is set, and on
every resolved address when each delivery connects (a name may resolve elsewhere
later) — to the very address checked (:func:`resolve_public`, :mod:`.transport`).

A host that a resolver would read as an IPv4 address but that is not written as
one canonical dotted quad (``2130706433``, ``0x7f000001``, ``127.1``,
``0177.0.0.1``) is refused outright, private or not: parsers disagree on what it
names (octal or decimal?), which is what such spellings are used for.
"""

from __future__ import annotations

import ipaddress
import socket
from urllib.parse import SplitResult, urlsplit

from .errors import WebhookRefused

URL_CHARS_MAX = 2048
_LOCAL_NAMES = frozenset({"localhost", "localhost.localdomain"})
_FOR_DEVELOPMENT = ("; for local development set PAYWARDEN_WEBHOOK_ALLOW_PRIVATE_ADDRESSES=true "
                    "on the server (see the README)")


def check_url(url: str, *, allow_http: bool, allow_private: bool) -> str:
    """``url`` if it may receive webhooks; raises :class:`WebhookRefused` otherwise."""
    if not isinstance(url, str) or not url or len(url) > URL_CHARS_MAX or not url.isascii() \
            or any(ch.isspace() or ord(ch) < 0x20 for ch in url):
        raise WebhookRefused("url_invalid", f"the URL must be 1 to {URL_CHARS_MAX} ASCII "
                             "characters without spaces")
    parts = _split(url)
    allowed = ("https", "http") if allow_http else ("https",)
    if parts.scheme not in allowed:
        raise WebhookRefused("url_scheme_refused", "the endpoint URL must use https; for local "
                             "development set PAYWARDEN_WEBHOOK_ALLOW_HTTP=true on the server")
    if parts.username is not None or parts.password is not None or "@" in parts.netloc:
        raise WebhookRefused("url_invalid", "the URL must not carry user information")
    if parts.fragment or url.endswith("#"):
        raise WebhookRefused("url_invalid", "the URL must not carry a fragment")
    host = (parts.hostname or "").rstrip(".")
    if not host:
        raise WebhookRefused("url_invalid", "the URL has no host")
    if _numeric_not_canonical(host):
        raise WebhookRefused("url_host_not_canonical", f"the host {host!r} is an IPv4 "
                             "address in a shorthand or non-canonical form; write it as "
                             "four decimal numbers (a.b.c.d) or use a name")
    if not allow_private:
        if host.lower() in _LOCAL_NAMES or host.lower().endswith(".localhost"):
            raise WebhookRefused("url_address_refused",
                                 "the host is a local name" + _FOR_DEVELOPMENT)
        address = _literal(host)
        if address is not None and not address.is_global:
            raise WebhookRefused("url_address_refused",
                                 "the host is not a public internet address" + _FOR_DEVELOPMENT)
    return url


def resolve_public(host: str, port: int) -> str:
    """One address of ``host``, refusing it if ANY of its addresses is not public.

    The connection is then made to exactly this address (:mod:`.transport`), so a
    DNS answer cannot change between the check and the connection (rebinding).
    """
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError):
        raise WebhookRefused("url_unresolved", "the endpoint's host does not resolve") from None
    addresses = [str(info[4][0]) for info in infos]
    if not addresses:
        raise WebhookRefused("url_unresolved", "the endpoint's host does not resolve")
    for address in addresses:
        if not ipaddress.ip_address(address.split("%", 1)[0]).is_global:
            raise WebhookRefused("url_address_refused", "the endpoint's host resolves to a "
                                 "non-public address" + _FOR_DEVELOPMENT)
    return addresses[0]


def _split(url: str) -> SplitResult:
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises on a bad port
    except ValueError:
        raise WebhookRefused("url_invalid", "the URL cannot be parsed") from None
    return parts


def _numeric_not_canonical(host: str) -> bool:
    """True if ``host`` reads as an IPv4 address to someone, but is no canonical quad.

    "Someone" is the C library's ``inet_aton`` (what resolving the name at delivery
    does) or a browser (the WHATWG URL standard: a host whose last label is a number
    is an IPv4 address). ``ipaddress`` accepts only the canonical form.
    """
    labels = host.split(".")
    last = labels[-1].lower()
    ends_in_number = last.isdigit() or (last.startswith("0x") and all(
        c in "0123456789abcdef" for c in last[2:]))
    try:
        socket.inet_aton(host)
        read_as_ipv4 = True
    except (OSError, ValueError):
        read_as_ipv4 = False
    if not (ends_in_number or read_as_ipv4):
        return False
    try:
        ipaddress.IPv4Address(host)
    except ValueError:
        return True
    return False


def _literal(host: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return None
