"""Normalising the identifiers a registry entry is keyed by, before they are hashed.

Two spellings of one identifier must hash alike, or a fraudster evades an entry by
typing ``Alice@Example.com`` where the entry says ``alice@example.com``. The pure
rules are here; phone numbers (``phonenumbers``) and IBANs (``schwifty``) need
libraries and are normalised at the service edge (services/registry/identifiers.py).

What each kind becomes:

    email             NFKC, trimmed, case-folded (local part too: no provider we know
                      of tells two addresses apart by case); dots and "+tag" dropped
                      only where the provider documents that they do not matter
                      (EMAIL_DOTS_IGNORED, EMAIL_PLUS_IGNORED); googlemail.com → gmail.com
    national_id       "CC:ID": the issuing country, then the id upper-cased with
                      spaces, dots, dashes and slashes removed
    card_fingerprint  the vault's fingerprint, lower-case hex (never a card number)
    device_id         NFKC, trimmed, case kept (device ids are case-sensitive tokens)
    phone             E.164 (service edge)
    iban              electronic form, upper case (service edge)

Errors name the kind, never the value: a value is personal data and must not reach a
log or a problem's detail.
"""

from __future__ import annotations

import re
import unicodedata
from enum import StrEnum

from ..errors import DomainError

INVALID = "registry_identifier_invalid"
IDENTIFIER_CHARS_MAX = 256

# Google documents that Gmail ignores dots in the local part and anything after "+".
EMAIL_DOTS_IGNORED = frozenset({"gmail.com"})
# Sub-addressing ("user+tag@") documented by the provider: Google, Microsoft, Apple, Fastmail.
EMAIL_PLUS_IGNORED = frozenset({"gmail.com", "outlook.com", "hotmail.com", "live.com",
                                "icloud.com", "fastmail.com"})
_EMAIL_DOMAIN_ALIASES = {"googlemail.com": "gmail.com"}
_EMAIL_LOCAL = re.compile(r"^[^\s@]{1,64}$")
_EMAIL_DOMAIN = re.compile(r"^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}"
                           r"[a-z0-9])?)+$")
_COUNTRY = re.compile(r"^[A-Z]{2}$")
_NATIONAL_ID = re.compile(r"^[A-Z0-9]{4,32}$")
_NATIONAL_SEPARATORS = re.compile(r"[\s./-]")
_FINGERPRINT = re.compile(r"^[0-9a-f]{16,128}$")


class Kind(StrEnum):
    NATIONAL_ID = "national_id"
    EMAIL = "email"
    PHONE = "phone"
    CARD_FINGERPRINT = "card_fingerprint"
    IBAN = "iban"
    DEVICE_ID = "device_id"


def _text(value: object, kind: Kind) -> str:
    if not isinstance(value, str) or len(value) > IDENTIFIER_CHARS_MAX:
        raise DomainError(INVALID, f"the {kind} is not text of at most "
                          f"{IDENTIFIER_CHARS_MAX} characters")
    return unicodedata.normalize("NFKC", value).strip()


def normalise_email(value: object) -> str:
    text = _text(value, Kind.EMAIL).casefold()
    local, at, domain = text.rpartition("@")
    try:
        domain = domain.rstrip(".").encode("idna").decode("ascii")
    except UnicodeError:
        raise DomainError(INVALID, "the email's domain is not a domain name") from None
    domain = _EMAIL_DOMAIN_ALIASES.get(domain, domain)
    if domain in EMAIL_PLUS_IGNORED:
        local = local.split("+", 1)[0]
    if domain in EMAIL_DOTS_IGNORED:
        local = local.replace(".", "")
    if not at or not _EMAIL_LOCAL.match(local) or not _EMAIL_DOMAIN.match(domain):
        raise DomainError(INVALID, "the email is not an address")
    return f"{local}@{domain}"


def normalise_national_id(value: object) -> str:
    """``"nl: 1234.56.782"`` → ``"NL:123456782"``; the country is required, since two
    countries may issue the same number."""
    country, colon, number = _text(value, Kind.NATIONAL_ID).upper().partition(":")
    number = _NATIONAL_SEPARATORS.sub("", number)
    if not colon or not _COUNTRY.match(country.strip()) or not _NATIONAL_ID.match(number):
        raise DomainError(INVALID, "a national id is written CC:ID (issuing country, id)")
    return f"{country.strip()}:{number}"


def normalise_card_fingerprint(value: object) -> str:
    text = _text(value, Kind.CARD_FINGERPRINT).lower()
    if not _FINGERPRINT.match(text):
        raise DomainError(INVALID, "a card fingerprint is 16 to 128 hex digits")
    return text


def normalise_device_id(value: object) -> str:
    text = _text(value, Kind.DEVICE_ID)
    if not text or not text.isprintable() or any(c.isspace() for c in text):
        raise DomainError(INVALID, "a device id is printable text without spaces")
    return text
