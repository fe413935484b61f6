"""Card numbers: Luhn, brands from IIN ranges, lengths per brand, expiry, and a value that
never shows its digits."""

from __future__ import annotations

import pickle

import pytest

from paywarden.domain.cards import (
    CardError,
    CardNumber,
    Expiry,
    brand_of,
    holder_name,
    luhn_valid,
)

# Published test numbers of each brand.
TEST_NUMBERS = {
    "4111111111111111": "visa",
    "4012888888881881": "visa",
    "4222222222222": "visa",
    "5555555555554444": "mastercard",
    "2223003122003222": "mastercard",
    "378282246310005": "amex",
    "371449635398431": "amex",
    "6011111111111117": "discover",
    "6445644564456445": "discover",
    "3530111333300000": "jcb",
    "36227206271667": "diners_club",
}


@pytest.mark.parametrize(("number", "brand"), TEST_NUMBERS.items())
def test_published_test_numbers_parse_to_their_brand(number: str, brand: str) -> None:
    card = CardNumber(number)
    assert card.brand == brand and card.last4 == number[-4:] and card.reveal() == number


@pytest.mark.parametrize("digits", ["79927398713", "4111111111111111", "0", "18"])
def test_luhn_accepts_valid_check_digits(digits: str) -> None:
    assert luhn_valid(digits)


@pytest.mark.parametrize("digits", ["79927398710", "4111111111111112", "1234567812345678"])
def test_luhn_refuses_wrong_check_digits(digits: str) -> None:
    assert not luhn_valid(digits)


@pytest.mark.parametrize(("prefix", "brand"), [
    ("4", "visa"), ("51", "mastercard"), ("55", "mastercard"), ("2221", "mastercard"),
    ("2720", "mastercard"), ("34", "amex"), ("37", "amex"), ("6011", "discover"),
    ("644", "discover"), ("649", "discover"), ("65", "discover"), ("622126", "discover"),
    ("622925", "discover"), ("3528", "jcb"), ("3589", "jcb"), ("36", "diners_club"),
])
def test_brand_comes_from_the_iin_range(prefix: str, brand: str) -> None:
    assert brand_of(prefix + "0" * 12) == brand


@pytest.mark.parametrize("prefix", ["2220", "2721", "50", "56", "35", "6010", "643", "622125",
                                    "622926", "1", "9"])
def test_numbers_outside_every_range_have_no_brand(prefix: str) -> None:
    assert brand_of(prefix + "0" * 12) is None


def with_check_digit(body: str) -> str:
    return next(body + d for d in "0123456789" if luhn_valid(body + d))


@pytest.mark.parametrize(("body", "code"), [
    ("411111111111111", "card_length_invalid"),  # visa of 15 digits: body 14 + check
    ("3782822463100", "card_length_invalid"),  # amex of 14
    ("555555555555444", "card_checksum_invalid"),
    ("9111111111111111", "card_brand_unknown"),
    ("41111111111", "card_number_invalid"),  # 11 digits
    ("4111111111111111111111", "card_number_invalid"),  # 22
    ("4111a11111111111", "card_number_invalid"),
    ("４１１１１１１１１１１１１１１１", "card_number_invalid"),  # full-width digits
])
def test_bad_numbers_are_refused_with_a_stable_code_and_no_digits(body: str, code: str) -> None:
    number = body
    if code == "card_length_invalid":
        number = with_check_digit(body[:-1])
    elif code == "card_checksum_invalid":
        number = body + str((int(with_check_digit(body)[-1]) + 1) % 10)
    elif code == "card_brand_unknown":
        number = with_check_digit(body[:-1])
    with pytest.raises(CardError) as caught:
        CardNumber(number)
    assert caught.value.code == code
    digits = "".join(c for c in number if c.isascii() and c.isdigit()) or "\x00"
    assert digits[-4:] not in str(caught.value) and digits[:6] not in str(caught.value)


def test_spaces_and_hyphens_group_digits() -> None:
    assert CardNumber("4111 1111 1111 1111") == CardNumber("4111-1111-1111-1111")
    assert CardNumber(" 4111 1111 1111 1111 ").reveal() == "4111111111111111"


def test_repr_str_format_and_fstrings_show_only_brand_and_last_four() -> None:
    card = CardNumber("4111 1111 1111 1111")
    shown = [repr(card), str(card), f"{card}", f"{card!r}", format(card, ""), repr([card]),
             repr({"card": card})]
    for text in shown:
        assert "4111111111111111" not in text and "411111" not in text
        assert "1111" in text and "visa" in text


def test_a_card_number_refuses_to_be_pickled() -> None:
    with pytest.raises(TypeError):
        pickle.dumps(CardNumber("4111111111111111"))


def test_a_card_is_valid_through_its_expiry_month() -> None:
    assert Expiry(1, 2026).check(year=2026, month=1) == Expiry(1, 2026)
    with pytest.raises(CardError) as caught:
        Expiry(12, 2025).check(year=2026, month=1)
    assert caught.value.code == "card_expired"


@pytest.mark.parametrize(("month", "year"), [(0, 2030), (13, 2030), (1, 30), (1, 2100)])
def test_malformed_expiries_are_refused(month: int, year: int) -> None:
    with pytest.raises(CardError) as caught:
        Expiry(month, year)
    assert caught.value.code == "card_expiry_invalid"


def test_an_expiry_decades_ahead_is_refused() -> None:
    with pytest.raises(CardError) as caught:
        Expiry(1, 2060).check(year=2026, month=1)
    assert caught.value.code == "card_expiry_invalid"


def test_holder_names_are_trimmed_and_bounded() -> None:
    assert holder_name("  Ada   Lovelace ") == "Ada Lovelace"
    for bad in ("", "   ", "x" * 65, "Ada\x00"):
        with pytest.raises(CardError):
            holder_name(bad)
