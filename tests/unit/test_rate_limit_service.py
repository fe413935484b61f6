"""The rate-limit service and the client address: keys, windows, proxies, failure."""

from __future__ import annotations

import threading
import time
from ipaddress import ip_network

import pytest

from paywarden.api.addresses import rate_key, resolve
from paywarden.services.ratelimit import (
    LIMITER_ERRORS,
    SWEEP_INTERVAL_S,
    MemoryWindows,
    RateLimitConfigError,
    RateLimits,
)

PROXIES = [ip_network("10.0.0.0/8"), ip_network("2001:db8:ffff::/48")]


def limits(**overrides: str) -> RateLimits:
    return RateLimits(limits={"address": "100/minute", "merchant_key": "3/minute",
                              "account": "2/second", **overrides})  # type: ignore[arg-type]


def test_a_key_over_its_limit_is_told_how_long_to_wait_and_other_keys_are_not() -> None:
    rl = limits()
    assert [rl.hit("merchant_key", "key_a") for _ in range(3)] == [None, None, None]
    wait = rl.hit("merchant_key", "key_a")
    assert isinstance(wait, int) and 1 <= wait <= 60
    assert rl.hit("merchant_key", "key_b") is None
    assert rl.hit("account", "key_a") is None  # scopes are counted apart


def test_an_account_recovers_once_its_window_has_passed() -> None:
    rl = limits()
    assert rl.hit("account", "acct_1") is None and rl.hit("account", "acct_1") is None
    wait = rl.hit("account", "acct_1")
    assert wait == 1
    time.sleep(wait + 0.05)
    assert rl.hit("account", "acct_1") is None


def test_hit_all_counts_every_key_and_reports_the_longest_wait() -> None:
    rl = limits()
    assert rl.hit_all("merchant_key", ["k1", "k2"]) is None
    rl.hit("merchant_key", "k2")
    rl.hit("merchant_key", "k2")
    assert rl.hit_all("merchant_key", ["k1", "k2"]) is not None
    assert rl.hit("merchant_key", "k1") is None  # k1's third: it was counted by both calls
    assert rl.hit("merchant_key", "k1") is not None


def test_an_unknown_scope_or_a_bad_limit_is_refused() -> None:
    with pytest.raises(ValueError, match="scope"):
        limits().hit("nonsense", "x")  # type: ignore[arg-type]
    with pytest.raises(RateLimitConfigError, match="rate_limit_account"):
        limits(account="lots")
    with pytest.raises(RateLimitConfigError, match="cannot be opened"):
        RateLimits(limits={"address": "1/second", "merchant_key": "1/second",
                           "account": "1/second"}, storage_uri="nosuch://x")


def test_a_failing_shared_storage_lets_requests_by_and_is_counted() -> None:
    pytest.importorskip("redis")
    rl = RateLimits(limits={"address": "1/minute", "merchant_key": "1/minute",
                            "account": "1/minute"}, storage_uri="redis://127.0.0.1:1")
    assert rl.shared
    before = LIMITER_ERRORS._value.get()
    assert rl.hit("address", "203.0.113.1") is None
    assert rl.hit("address", "203.0.113.1") is None
    assert LIMITER_ERRORS._value.get() == before + 2


@pytest.mark.parametrize("peer,forwarded,expected", [
    ("203.0.113.5", ["198.51.100.1"], "203.0.113.5"),  # untrusted peer: header ignored
    ("10.0.0.2", ["198.51.100.1"], "198.51.100.1"),
    ("10.0.0.2", ["6.6.6.6, 198.51.100.1"], "198.51.100.1"),  # a client's own prefix
    ("10.0.0.2", ["6.6.6.6", "198.51.100.1, 10.0.0.3"], "198.51.100.1"),  # two proxies
    ("10.0.0.2", ["not-an-ip, 10.0.0.9"], "10.0.0.9"),  # garbage beyond the proxies
    ("10.0.0.2", [], "10.0.0.2"),
    ("10.0.0.2", ["10.1.1.1"], "10.1.1.1"),  # all trusted: the farthest
    (None, ["198.51.100.1"], "unknown"),
])
def test_the_client_address_believes_forwarded_for_only_from_trusted_proxies(
        peer: str | None, forwarded: list[str], expected: str) -> None:
    assert resolve(peer, forwarded, PROXIES) == expected


def test_forwarded_for_is_ignored_entirely_without_trusted_proxies() -> None:
    assert resolve("10.0.0.2", ["198.51.100.1"], []) == "10.0.0.2"


def test_an_ipv6_client_is_counted_by_its_64_and_ipv4_mapped_as_ipv4() -> None:
    assert rate_key("2001:db8:1:2::1") == rate_key("2001:db8:1:2:ffff::9") == "2001:db8:1:2::/64"
    assert rate_key("2001:db8:1:3::1") != rate_key("2001:db8:1:2::1")
    assert rate_key("::ffff:198.51.100.4") == "198.51.100.4"
    assert rate_key("198.51.100.4") == "198.51.100.4"
    assert rate_key("testclient") == "testclient"


class _Clock:
    def __init__(self) -> None:
        self.now_s = 1_000.0

    def __call__(self) -> float:
        return self.now_s


def test_a_memory_window_moves_so_a_burst_at_a_window_edge_cannot_double_the_rate() -> None:
    clock = _Clock()
    windows = MemoryWindows(now_s=clock)
    assert [windows.hit("address", "a", 3, 60) for _ in range(2)] == [None, None]
    clock.now_s += 50
    assert windows.hit("address", "a", 3, 60) is None
    clock.now_s += 5  # a fixed window would have started afresh here
    assert windows.hit("address", "a", 3, 60) == pytest.approx(5)  # until the first two go
    clock.now_s += 5
    assert windows.hit("address", "a", 3, 60) is None
    assert windows.hit("address", "a", 3, 60) is None
    assert windows.hit("address", "a", 3, 60) == pytest.approx(50)  # the one at +50


def test_a_refused_hit_is_not_counted_and_keys_and_scopes_are_apart() -> None:
    clock = _Clock()
    windows = MemoryWindows(now_s=clock)
    assert windows.hit("merchant_key", "k", 1, 60) is None
    for _ in range(5):
        assert windows.hit("merchant_key", "k", 1, 60) == pytest.approx(60)
    assert windows.hit("merchant_key", "other", 1, 60) is None
    assert windows.hit("account", "k", 1, 60) is None
    clock.now_s += 60
    assert windows.hit("merchant_key", "k", 1, 60) is None


def test_memory_windows_forget_idle_keys_and_start_no_thread() -> None:
    clock = _Clock()
    windows = MemoryWindows(now_s=clock)
    threads = threading.active_count()
    for i in range(1_000):
        windows.hit("address", f"203.0.113.{i}", 5, 1)
    assert threading.active_count() == threads
    assert len(windows) == 1_000
    clock.now_s += SWEEP_INTERVAL_S
    windows.hit("address", "198.51.100.1", 5, 1)
    assert len(windows) == 1  # only the key hit now


def test_the_memory_limiter_keeps_a_long_window_for_a_key_hit_recently() -> None:
    clock = _Clock()
    windows = MemoryWindows(now_s=clock)
    windows.hit("merchant_key", "slow", 1, 3_600)
    clock.now_s += SWEEP_INTERVAL_S
    windows.hit("address", "x", 5, 1)
    assert windows.hit("merchant_key", "slow", 1, 3_600) is not None  # not swept: still limited


def test_a_zero_limit_refuses_every_hit_for_a_whole_window() -> None:
    rl = limits(account="0/minute")
    assert rl.hit("account", "acct_1") == 60
