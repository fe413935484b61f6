"""The pure step-up rules: canonical operations, derived challenges, what needs step-up."""

from __future__ import annotations

import hashlib
import json
from dataclasses import replace

import pytest
from hypothesis import given
from hypothesis import strategies as st

from paywarden.domain.errors import DomainError
from paywarden.domain.identity.stepup import (
    AMOUNT_MAX,
    Operation,
    canonical,
    challenge_for,
    derive_challenge,
    needs_step_up,
    parse_operation,
)

NONCE = "n0nce-0123456789abcdef"


def payment(**changes: object) -> Operation:
    fields: dict[str, object] = {"type": "payment", "amount": 100_00, "currency": "EUR",
                                 "payee": "Payee A", "reference": "INV-1", "nonce": NONCE,
                                 "user": "usr_0123456789abcdef"}
    fields.update(changes)
    return Operation(**fields)  # type: ignore[arg-type]


def test_the_canonical_form_has_sorted_keys_no_whitespace_and_utf8_text() -> None:
    op = payment(payee="Café Zoë", reference="")
    assert canonical(op) == (
        '{"amount":10000,"currency":"EUR","nonce":"n0nce-0123456789abcdef","payee":"Café Zoë",'
        '"reference":"","type":"payment","user":"usr_0123456789abcdef"}').encode()


def test_the_challenge_is_sha256_of_the_tag_and_the_canonical_bytes() -> None:
    op = payment()
    assert challenge_for(op) == hashlib.sha256(
        b"paywarden-step-up-v1\x00" + canonical(op)).digest()
    assert derive_challenge(canonical(op)) == challenge_for(op) and len(challenge_for(op)) == 32


@pytest.mark.parametrize("change", [{"amount": 1000_00}, {"amount": 100_01}, {"currency": "USD"},
                                    {"payee": "Payee B"}, {"reference": "INV-2"},
                                    {"nonce": NONCE + "x"}, {"user": "usr_fedcba9876543210"},
                                    {"type": "transfer"}])
def test_any_change_of_any_field_changes_the_challenge(change: dict[str, object]) -> None:
    assert challenge_for(replace(payment(), **change)) != challenge_for(payment())  # type: ignore[arg-type]


def test_a_stored_operation_parses_back_only_from_its_canonical_form() -> None:
    op = payment()
    assert parse_operation(canonical(op)) == op
    spaced = json.dumps(json.loads(canonical(op)), sort_keys=True).encode()
    unsorted = json.dumps(dict(reversed(json.loads(canonical(op)).items())),
                          separators=(",", ":")).encode()
    for text in (spaced, unsorted, b"[]", b"{", canonical(op)[:-1] + b',"extra":1}'):
        with pytest.raises(DomainError) as caught:
            parse_operation(text)
        assert caught.value.code == "operation_invalid"


@pytest.mark.parametrize("bad", [{"amount": -1}, {"amount": 1.5}, {"amount": True},
                                 {"amount": "100"}, {"amount": AMOUNT_MAX + 1},
                                 {"currency": "eur"}, {"payee": ""}, {"payee": " A"},
                                 {"payee": "A\nB"}, {"reference": "x" * 141},
                                 {"nonce": "short"}, {"type": "Pay ment"}, {"user": "u s"},
                                 {"payee": "\ud800"}])
def test_an_operation_with_a_bad_field_is_refused(bad: dict[str, object]) -> None:
    with pytest.raises(DomainError) as caught:
        payment(**bad)
    assert caught.value.code == "operation_invalid"


def test_payments_of_at_least_the_threshold_and_sensitive_kinds_need_step_up() -> None:
    assert needs_step_up(payment(amount=100_00), 100_00)
    assert not needs_step_up(payment(amount=99_99), 100_00)
    assert needs_step_up(payment(amount=0), 0)
    assert needs_step_up(payment(type="new_payee", amount=0), 100_00)
    assert needs_step_up(payment(type="factor_change", amount=0), 100_00)


@given(amount=st.integers(0, AMOUNT_MAX),
       payee=st.text(st.characters(blacklist_categories=("Cs", "Cc", "Zl", "Zp", "Zs")),
                     min_size=1, max_size=128),
       reference=st.text(st.characters(codec="utf-8", blacklist_categories=("Cs", "Cc")),
                         max_size=140))
def test_every_valid_operation_survives_a_round_trip(amount: int, payee: str,
                                                     reference: str) -> None:
    try:
        op = payment(amount=amount, payee=payee, reference=reference)
    except DomainError:
        return  # not printable, or padded: refused, which is tested above
    assert parse_operation(canonical(op)) == op
    assert parse_operation(canonical(op).decode("utf-8")) == op
