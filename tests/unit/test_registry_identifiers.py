"""The registry's pure normalisation rules (domain/registry): spellings of one identifier
become one string; what is not an identifier is refused without being echoed."""

from __future__ import annotations

import pytest

from paywarden.domain.errors import DomainError
from paywarden.domain.registry import (
    check_evidence_ref,
    normalise_card_fingerprint,
    normalise_device_id,
    normalise_email,
    normalise_national_id,
)


@pytest.mark.parametrize(("raw", "normal"), [
    ("Alice@Example.com", "alice@example.com"),
    ("  alice@EXAMPLE.COM. ", "alice@example.com"),
    ("Mule.Account+tag@GoogleMail.com", "muleaccount@gmail.com"),
    ("first.last+news@outlook.com", "first.last@outlook.com"),
    ("first.last+news@example.org", "first.last+news@example.org"),
    ("ｆｕｌｌ@example.com", "full@example.com"),
    ("someone@bücher.example", "someone@xn--bcher-kva.example"),
])
def test_email_spellings_normalise_alike_only_where_documented(raw: str, normal: str) -> None:
    assert normalise_email(raw) == normal


@pytest.mark.parametrize("raw", ["no-at-sign", "@example.com", "a@localhost", "a b@x.org",
                                 "x" * 300, 42])
def test_what_is_not_an_email_is_refused_without_echoing_it(raw: object) -> None:
    with pytest.raises(DomainError) as refused:
        normalise_email(raw)
    assert refused.value.code == "registry_identifier_invalid"
    assert str(raw) not in refused.value.detail


def test_a_national_id_keeps_its_country_and_drops_separators() -> None:
    assert normalise_national_id(" nl: 1234.56.782 ") == "NL:123456782"
    assert normalise_national_id("GB:QQ 12 34 56 C") == "GB:QQ123456C"
    with pytest.raises(DomainError):
        normalise_national_id("123456782")  # which country's?


def test_a_card_fingerprint_is_hex_and_a_device_id_keeps_its_case() -> None:
    assert normalise_card_fingerprint(" C0FFEE4711C0FFEE ") == "c0ffee4711c0ffee"
    with pytest.raises(DomainError):
        normalise_card_fingerprint("4111111111111111x")
    assert normalise_device_id(" dev-AbC ") == "dev-AbC"
    with pytest.raises(DomainError):
        normalise_device_id("two words")


def test_an_evidence_reference_is_an_id_not_free_text() -> None:
    assert check_evidence_ref("case:4711") == "case:4711"
    for bad in ("", "Alice Smith stole my card", "x" * 200, None):
        with pytest.raises(DomainError):
            check_evidence_ref(bad)
