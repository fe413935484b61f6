"""Public ids and times: ``acct_`` + 16 hex digits; RFC 3339 UTC timestamps (the one
helper, :mod:`paywarden.domain.timestamps`, re-exported for the routes)."""

from __future__ import annotations

import re

from ..domain.timestamps import parse_rfc3339, rfc3339

__all__ = ["ACCOUNT_ID_PATTERN", "ACCOUNT_PREFIX", "CURSOR_NS_PATTERN", "account_id_from_str",
           "account_id_to_str", "parse_rfc3339", "rfc3339"]

ACCOUNT_PREFIX = "acct_"
ACCOUNT_ID_PATTERN = r"^acct_[0-9a-f]{16}$"
_ACCOUNT_RE = re.compile(ACCOUNT_ID_PATTERN)
# A page cursor's time part: nanoseconds since the epoch that fit the signed 64-bit column
# it is compared with (to the year 2255); a longer number would overflow the driver (500).
CURSOR_NS_PATTERN = r"(?:\d{1,18}|[1-8]\d{18})"


def account_id_to_str(account_id: int) -> str:
    return f"{ACCOUNT_PREFIX}{account_id:016x}"


def account_id_from_str(value: str) -> int | None:
    if not _ACCOUNT_RE.fullmatch(value):
        return None
    number = int(value[len(ACCOUNT_PREFIX):], 16)
    return number if 0 < number < 2**63 else None
