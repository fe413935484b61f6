"""Domain names, return URLs and the address rules of domain verification (no I/O but DNS
for names that resolve locally)."""

from __future__ import annotations

import ipaddress

import pytest

from paywarden.domain.errors import DomainError
from paywarden.services.certification.hostnames import normalise_domain, return_url_host
from paywarden.services.certification.verification import Fetcher, _public


def _fetcher(allow_private: bool = False) -> Fetcher:
    return Fetcher(scheme="https", port=None, timeout_s=1.0, body_bytes_max=1024,
                   allow_private=allow_private)


@pytest.mark.parametrize("given, stored", [("Shop.Example.", "shop.example"),
                                           ("xn--bcher-kva.example", "xn--bcher-kva.example")])
def test_domains_are_normalised(given: str, stored: str) -> None:
    assert normalise_domain(given) == stored


@pytest.mark.parametrize("domain", ["localhost", "127.0.0.1", "[::1]", "10.0.0.8", "shop",
                                    "-shop.example", "shop..example", "bücher.example",
                                    "shop.example/path", "a" * 64 + ".example", "1.2.3.4.5"])
def test_ip_literals_single_labels_and_malformed_names_are_refused(domain: str) -> None:
    with pytest.raises(DomainError) as caught:
        normalise_domain(domain)
    assert caught.value.code == "domain_invalid"


@pytest.mark.parametrize("url", ["http://shop.example/", "https://user@shop.example/",
                                 "https://shop.example:99999/", "//shop.example/",
                                 "https:///path", "data:text/html,hi", "x" * 3000])
def test_unusable_return_urls_are_off_domain(url: str) -> None:
    with pytest.raises(DomainError) as caught:
        return_url_host(url, allow_http=False)
    assert caught.value.code == "return_url_off_domain"


def test_a_return_url_host_is_normalised() -> None:
    assert return_url_host("https://SHOP.example.:8443/a?b#c", allow_http=False) == \
        "shop.example"


@pytest.mark.parametrize("address", ["127.0.0.1", "10.1.2.3", "172.16.0.1", "192.168.1.1",
                                     "169.254.169.254", "100.64.0.1", "0.0.0.0", "224.0.0.1",
                                     "::1", "fe80::1", "fc00::1", "::ffff:127.0.0.1",
                                     "::ffff:10.0.0.1"])
def test_non_public_addresses_are_not_public(address: str) -> None:
    assert not _public(ipaddress.ip_address(address))


def test_public_addresses_are_public() -> None:
    assert _public(ipaddress.ip_address("93.184.215.14"))
    assert _public(ipaddress.ip_address("2606:4700::1111"))


@pytest.mark.parametrize("domain", ["localhost", "127.0.0.1", "::1"])
def test_the_fetcher_refuses_loopback_and_ip_literals_by_default(domain: str) -> None:
    with pytest.raises(DomainError) as caught:
        _fetcher().check(domain, "pwv_token")
    assert caught.value.code == "domain_address_refused"


def test_the_fetcher_allows_loopback_only_when_told() -> None:
    assert _fetcher(allow_private=True).resolve("localhost", 443) == \
        ipaddress.ip_address("127.0.0.1")
