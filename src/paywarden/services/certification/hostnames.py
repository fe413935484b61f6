"""Domain names a merchant sells from, and the return URLs a checkout may send buyers to.

Pure functions, no I/O. A domain is kept lower-case, ASCII (an internationalised
name is given in its ``xn--`` form), without a trailing dot. IP literals and
single-label names (``localhost``) are refused unless ``allow_private`` — a test
setting, see ``domain_verification_allow_private``.
"""

from __future__ import annotations

import ipaddress
import re
from urllib.parse import urlsplit

from ...domain.errors import DomainError

DOMAIN_CHARS_MAX = 253
RETURN_URL_CHARS_MAX = 2_048
_LABEL = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")


def is_ip_literal(host: str) -> bool:
    try:
        ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return False
    return True


def normalise_domain(domain: str, *, allow_private: bool = False) -> str:
    """``domain`` as stored and compared, or ``domain_invalid``."""
    host = domain.strip().lower().removesuffix(".")
    if allow_private and is_ip_literal(host):
        return host.strip("[]")
    labels = host.split(".")
    if (not 0 < len(host) <= DOMAIN_CHARS_MAX or not all(_LABEL.match(lb) for lb in labels)
            or is_ip_literal(host)):
        raise DomainError("domain_invalid", f"{domain[:DOMAIN_CHARS_MAX]!r} is not a domain "
                          "name (letters, digits and hyphens; an IDN in its xn-- form)")
    if not allow_private and (len(labels) < 2 or labels[-1].isdigit()):
        raise DomainError("domain_invalid", f"{host!r} is not a public domain name")
    return host


def return_url_host(url: str, *, allow_http: bool, allow_private: bool = False) -> str:
    """The host of a checkout's return URL, normalised; ``return_url_off_domain`` if unusable.

    https only unless ``allow_http``; no user-info (``https://shop.example@evil.example``).
    """
    def off(why: str) -> DomainError:
        return DomainError("return_url_off_domain", f"the return URL {why}")

    if len(url) > RETURN_URL_CHARS_MAX:
        raise off(f"is longer than {RETURN_URL_CHARS_MAX} characters")
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises on a malformed port
    except ValueError:
        raise off("is not a URL") from None
    schemes = {"https", "http"} if allow_http else {"https"}
    if parts.scheme not in schemes:
        raise off(f"must use {' or '.join(sorted(schemes))}")
    if parts.username is not None or parts.password is not None or "@" in parts.netloc:
        raise off("must not carry user information")
    if not parts.hostname:
        raise off("has no host")
    try:
        return normalise_domain(parts.hostname, allow_private=allow_private)
    except DomainError:
        raise off("host is not a domain name") from None
