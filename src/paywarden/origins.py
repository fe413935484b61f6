"""The platform's one public origin, and what follows from it.

Signed merchant requests cover ``@target-uri`` rebuilt from the public origin;
passkeys are bound to it and to the relying party id; pages check ``Origin``
against it; ``paywarden evidence verify`` checks evidence against it. So one
value, ``PAYWARDEN_PUBLIC_URL``, decides all of them, and when it is not set
it is derived from where the server listens:

    listening on a loopback address   http://localhost:<port>   rp id "localhost"
    listening anywhere else           refused: set PAYWARDEN_PUBLIC_URL

``localhost``, not ``127.0.0.1``: browsers take no IP address as a WebAuthn
relying party id, and treat plain-http ``localhost`` as a secure context (as
they do ``127.0.0.1``), so passkeys work on a developer's machine without TLS.
An address such as ``0.0.0.0`` is no origin anyone browses to; guessing one
would bind every signature and passkey to a name clients do not use.
"""

from __future__ import annotations

import ipaddress
from urllib.parse import urlsplit

DEFAULT_PORT = 8000
LOOPBACK_NAME = "localhost"


class OriginError(ValueError):
    """A public origin that cannot be used, or cannot be derived; says which setting to set."""


def is_loopback(host: str) -> bool:
    if host.lower() == LOOPBACK_NAME:
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def origin_for(host: str, port: int) -> str:
    """The origin a server listening on ``host:port`` is reached at, when none is set."""
    if not is_loopback(host):
        raise OriginError(
            f"listening on {host}, which is not a loopback address, needs "
            "PAYWARDEN_PUBLIC_URL: the origin browsers and merchants use (e.g. "
            "https://pay.example.com); signatures and passkeys are bound to it")
    return f"http://{LOOPBACK_NAME}:{port}"


def check_origin(url: str) -> str:
    """``url`` as an origin (scheme, host and port; no path), or :class:`OriginError`."""
    try:
        parts = urlsplit(url.strip())
        parts.port  # noqa: B018 - raises on a bad port
    except ValueError:
        raise OriginError(f"{url!r} is not a URL") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise OriginError(f"{url!r} is not an http(s) origin such as https://pay.example.com")
    if parts.path not in ("", "/") or parts.query or parts.fragment or parts.username:
        raise OriginError(f"{url!r} is not an origin: give scheme, host and port only")
    return f"{parts.scheme}://{parts.netloc.lower()}"


def rp_id_for(origin: str) -> str:
    """The WebAuthn relying party id of ``origin``: its host name."""
    return urlsplit(origin).hostname or ""


def check_rp_id(rp_id: str, origin: str) -> str:
    """``rp_id`` if passkeys made on ``origin`` can be bound to it (the host or a parent)."""
    host = rp_id_for(origin)
    if rp_id != host and not host.endswith("." + rp_id):
        raise OriginError(f"the relying party id {rp_id!r} is neither the host of "
                          f"{origin} nor a domain above it")
    return rp_id
