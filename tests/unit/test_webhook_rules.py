"""Webhook rules that need no database: endpoint URLs, back-off, canonical payloads."""

from __future__ import annotations

import random

import pytest

from paywarden.services.webhooks import WebhookRefused, backoff_ns, canonical_json
from paywarden.services.webhooks.urls import check_url, resolve_public

NS = 10**9


@pytest.mark.parametrize("url", ["https://shop.example/hooks", "https://shop.example:8443/h?x=1",
                                 "https://93.184.215.14/h"])
def test_a_public_https_url_is_accepted(url: str) -> None:
    assert check_url(url, allow_http=False, allow_private=False) == url


@pytest.mark.parametrize(("url", "code"), [
    ("http://shop.example/h", "url_scheme_refused"),
    ("javascript:alert(1)", "url_scheme_refused"),
    ("https://a:b@shop.example/h", "url_invalid"),
    ("https://shop.example/h#x", "url_invalid"),
    ("https://shop.example/\u00e9", "url_invalid"),
    ("https://shop.example/" + "a" * 2048, "url_invalid"),
    ("https://192.168.1.1/h", "url_address_refused"),
    ("https://[fe80::1]/h", "url_address_refused"),
    ("https://0.0.0.0/h", "url_address_refused"),
    ("https://api.localhost/h", "url_address_refused"),
])
def test_a_url_outside_the_rules_is_refused(url: str, code: str) -> None:
    with pytest.raises(WebhookRefused) as caught:
        check_url(url, allow_http=False, allow_private=False)
    assert caught.value.code == code


@pytest.mark.parametrize("host", ["2130706433", "0x7f000001", "127.1", "0177.0.0.1",
                                  "0x7f.0.0.1", "08.8.8.8", "8.8.8.010", "1.2.3.4.5",
                                  "shop.0x10", "3627734734"])
@pytest.mark.parametrize("allow_private", [False, True])
def test_an_ipv4_host_in_shorthand_or_non_canonical_form_is_refused(
        host: str, allow_private: bool) -> None:
    with pytest.raises(WebhookRefused) as caught:
        check_url(f"https://{host}/h", allow_http=True, allow_private=allow_private)
    assert caught.value.code == "url_host_not_canonical"


@pytest.mark.parametrize("host", ["93.184.215.14", "cafe.face", "123.example", "shop.example."])
def test_a_canonical_quad_or_a_name_with_digits_or_hex_letters_is_not_taken_for_shorthand(
        host: str) -> None:
    assert check_url(f"https://{host}/h", allow_http=False, allow_private=False)


def test_the_test_settings_allow_local_plain_http() -> None:
    url = "http://127.0.0.1:8080/h"
    assert check_url(url, allow_http=True, allow_private=True) == url
    with pytest.raises(WebhookRefused) as caught:
        resolve_public("127.0.0.1", 8080)
    assert caught.value.code == "url_address_refused"


def test_back_off_doubles_with_jitter_up_to_its_cap() -> None:
    rng = random.Random(3)
    for attempt in range(1, 30):
        ceiling = min(3600.0, 30.0 * 2 ** (attempt - 1))
        delay = backoff_ns(attempt, base_s=30, max_s=3600, rng=rng)
        assert ceiling * NS / 2 <= delay <= ceiling * NS
    spread = {backoff_ns(5, base_s=30, max_s=3600, rng=rng) for _ in range(20)}
    assert len(spread) > 10  # jittered, not one fixed delay


def test_payloads_are_canonical_and_floats_are_refused() -> None:
    assert canonical_json({"b": 1, "a": [2, "é"]}) == '{"a":[2,"é"],"b":1}'
    with pytest.raises(WebhookRefused):
        canonical_json({"amount": 19.99})


@pytest.mark.parametrize(("payload", "where"), [
    ({"a": [1, {"b": 2.5}]}, "payload.a[1].b is a float"),
    ({"items": [{"n": "x"}, {"n": "y", "price": 1e3}]}, "payload.items[1].price is a float"),
    ({"a": {"b": {1: "x"}}}, "payload.a.b has a non-string key"),
    ({"ok": "1", "nested": ({"z": float("nan")},)}, "payload.nested[0].z is a float"),
])
def test_a_refused_payload_names_where_the_float_or_key_is(payload: dict[str, object],
                                                            where: str) -> None:
    with pytest.raises(WebhookRefused) as refused:
        canonical_json(payload)
    assert refused.value.code == "payload_invalid"
    assert where in str(refused.value)
