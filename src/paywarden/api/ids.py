"""Public ids and times: ``acct_`` + 16 hex digits; RFC 3339 UTC timestamps."""

from __future__ import annotations

import re
from datetime import UTC, datetime

ACCOUNT_PREFIX = "acct_"
ACCOUNT_ID_PATTERN = r"^acct_[0-9a-f]{16}$"
_ACCOUNT_RE = re.compile(ACCOUNT_ID_PATTERN)
# A page cursor's time part: nanoseconds since the epoch that fit the signed 64-bit column
# it is compared with (to the year 2255); a longer number would overflow the driver (500).
CURSOR_NS_PATTERN = r"(?:\d{1,18}|[1-8]\d{18})"
_NS = 1_000_000_000


def account_id_to_str(account_id: int) -> str:
    return f"{ACCOUNT_PREFIX}{account_id:016x}"


def account_id_from_str(value: str) -> int | None:
    if not _ACCOUNT_RE.fullmatch(value):
        return None
    number = int(value[len(ACCOUNT_PREFIX):], 16)
    return number if 0 < number < 2**63 else None


def rfc3339(ns: int) -> str:
    seconds, rest = divmod(ns, _NS)
    base = datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%dT%H:%M:%S")
    return f"{base}.{rest:09d}Z"


def parse_rfc3339(value: str) -> int | None:
    """Nanoseconds since the epoch, or None if ``value`` is no RFC 3339 time with a zone."""
    match = re.fullmatch(r"(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(?:\.(\d{1,9}))?(Z|[+-]\d{2}:\d{2})",
                         value)
    if match is None:
        return None
    whole, fraction, zone = match.groups()
    try:
        moment = datetime.fromisoformat(whole + ("+00:00" if zone == "Z" else zone))
    except ValueError:
        return None
    return int(moment.timestamp()) * _NS + int((fraction or "0").ljust(9, "0"))
