"""Recovery codes: 80 random bits in readable groups, read back forgivingly."""

from __future__ import annotations

import secrets

import pytest

from paywarden.domain.identity.recovery_codes import CODE_BYTES, format_code, normalise_code


def test_a_code_is_four_groups_that_carry_all_80_bits() -> None:
    raw = secrets.token_bytes(CODE_BYTES)
    code = format_code(raw)
    assert len(code) == 19 and code.count("-") == 3
    assert format_code(bytes(CODE_BYTES)) != format_code(b"\x00" * 9 + b"\x01")
    assert len({format_code(secrets.token_bytes(CODE_BYTES)) for _ in range(200)}) == 200


def test_what_a_user_types_is_read_back_forgivingly() -> None:
    code = format_code(bytes.fromhex("00112233445566778899"))
    assert normalise_code(code.lower().replace("-", " ")) == code
    assert normalise_code(code.replace("0", "O").replace("1", "l")) == code


@pytest.mark.parametrize("typed", ["", "ABCD-EFGH", "ABCD-EFGH-JKMN-PQRS-T", "ABCD-EFGH-JKMN-PQRU"])
def test_what_cannot_be_a_code_is_refused(typed: str) -> None:
    assert normalise_code(typed) is None
