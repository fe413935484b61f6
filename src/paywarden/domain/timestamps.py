"""RFC 3339 UTC timestamps of the platform's nanosecond clock, the one format and parser.

Every time the platform shows (API bodies, webhook envelopes, receipts, audit leaves,
backup manifests) is ``YYYY-MM-DDTHH:MM:SS.nnnnnnnnnZ``: always UTC, always nine
fraction digits, so that the text of a time is a function of its nanoseconds and
signed or hashed documents stay byte-for-byte reproducible.
"""

from __future__ import annotations

import functools
import re
from datetime import UTC, datetime

NS = 1_000_000_000
_RFC3339 = re.compile(r"(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(?:\.(\d{1,9}))?(Z|[+-]\d{2}:\d{2})")


def rfc3339(ns: int) -> str:
    """``ns`` nanoseconds since the epoch, as RFC 3339 UTC with nine fraction digits."""
    seconds, rest = divmod(ns, NS)
    return f"{_second(seconds)}.{rest:09d}Z"


@functools.lru_cache(maxsize=4096)
def _second(seconds: int) -> str:
    """A second's text: a busy second's many timestamps format it once."""
    return datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%dT%H:%M:%S")


def parse_rfc3339(value: str) -> int | None:
    """Nanoseconds since the epoch, or None if ``value`` is no RFC 3339 time with a zone."""
    match = _RFC3339.fullmatch(value)
    if match is None:
        return None
    whole, fraction, zone = match.groups()
    try:
        moment = datetime.fromisoformat(whole + ("+00:00" if zone == "Z" else zone))
    except ValueError:
        return None
    return int(moment.timestamp()) * NS + int((fraction or "0").ljust(9, "0"))
