"""The one RFC 3339 helper: every shown time has nine fraction digits and a Z, and the
parser takes back what the formatter gives (and any zone), refusing what is no time."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from paywarden.domain.timestamps import parse_rfc3339, rfc3339

NS_MAX = 253402300799 * 10**9  # 9999-12-31T23:59:59Z


def test_a_time_is_utc_with_nine_fraction_digits() -> None:
    assert rfc3339(0) == "1970-01-01T00:00:00.000000000Z"
    assert rfc3339(1_700_000_000_123_456_789) == "2023-11-14T22:13:20.123456789Z"


@given(st.integers(min_value=0, max_value=NS_MAX))
def test_parsing_a_formatted_time_gives_its_nanoseconds_back(ns: int) -> None:
    assert parse_rfc3339(rfc3339(ns)) == ns


def test_an_offset_is_taken_into_account_and_a_short_fraction_is_padded() -> None:
    assert parse_rfc3339("1970-01-01T01:00:00.5+01:00") == 500_000_000


def test_a_time_without_a_zone_or_that_does_not_exist_is_refused() -> None:
    assert parse_rfc3339("2024-01-01T00:00:00") is None
    assert parse_rfc3339("2024-02-30T00:00:00Z") is None
    assert parse_rfc3339("yesterday") is None
