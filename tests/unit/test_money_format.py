"""Amounts on the pages: integer minor units and a currency, written as a locale writes them,
with the ledger's exponent (JPY none, EUR two, BHD three) and never through a float."""

from __future__ import annotations

import pytest
from jinja2 import Environment

from paywarden.domain.errors import DomainError
from paywarden.web import render
from paywarden.web.money import format_moment, format_money, negotiate

NBSP, NNBSP = "\u00a0", "\u202f"


@pytest.mark.parametrize(("amount", "code", "locale", "shown"), [
    (123_456, "EUR", "en", "€1,234.56"),
    (123_456, "EUR", "de", f"1.234,56{NBSP}€"),
    (123_456, "EUR", "fr", f"1{NNBSP}234,56{NBSP}€"),
    (123_456, "JPY", "en", "¥123,456"),
    (123_456, "JPY", "de", f"123.456{NBSP}¥"),
    (123_456, "BHD", "en", f"BHD{NBSP}123.456"),
    (123_456, "BHD", "de", f"123,456{NBSP}BHD"),
    (5, "EUR", "en", "€0.05"),
    (1, "BHD", "en", f"BHD{NBSP}0.001"),
    (-250, "EUR", "en", "-€2.50"),
    (0, "JPY", "en", "¥0"),
])
def test_an_amount_is_written_with_its_currency_s_decimals_in_the_reader_s_locale(
        amount: int, code: str, locale: str, shown: str) -> None:
    assert format_money(amount, code, locale) == shown


def test_a_large_amount_keeps_every_minor_unit() -> None:
    # 2**62 cents: a float would lose the last digits; the Decimal path keeps them.
    assert format_money(2**62, "EUR") == "€46,116,860,184,273,879.04"


@pytest.mark.parametrize("amount", [12.5, True, "1250", None])
def test_an_amount_that_is_not_an_integer_count_of_minor_units_is_refused(amount: object) -> None:
    with pytest.raises(TypeError):
        format_money(amount, "EUR")  # type: ignore[arg-type]


def test_an_unknown_currency_is_refused_not_guessed() -> None:
    with pytest.raises(DomainError):
        format_money(100, "XYZ")


def test_an_unknown_locale_reads_as_english() -> None:
    assert format_money(100, "EUR", "xx_YY") == "€1.00"


@pytest.mark.parametrize(("header", "locale"), [
    (None, "en"), ("", "en"), ("de-DE,de;q=0.9,en;q=0.8", "de"), ("en-GB", "en_GB"),
    ("fr;q=0.1, nl", "nl"), ("zz-ZZ", "en"), ("de;q=0", "en"), ("de;q=x", "en"),
    ("x" * 5000, "en"),
])
def test_the_locale_is_the_first_one_the_browser_accepts_that_the_pages_know(
        header: str | None, locale: str) -> None:
    assert negotiate(header) == locale


def test_a_moment_is_a_date_and_time_in_utc() -> None:
    assert format_moment(1_764_511_500 * 10**9) == "30 Nov 2025, 14:05 UTC"


def test_templates_format_amounts_with_the_money_filter_in_the_page_s_locale() -> None:
    env: Environment = render._templates
    template = env.from_string("{{ a | money(c) }}")
    assert template.render(a=123_456, c="EUR") == "€1,234.56"
    assert template.render(a=123_456, c="EUR", locale="de") == f"1.234,56{NBSP}€"
    assert env.from_string("{{ t | moment }}").render(t=1_764_511_500 * 10**9) == (
        "30 Nov 2025, 14:05 UTC")
