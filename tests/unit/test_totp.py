"""TOTP (RFC 6238): the standard's own test vectors, the ±1 step window, each code once."""

from __future__ import annotations

import base64
from urllib.parse import parse_qs, urlparse

import pytest

from paywarden.services.identity import otp

NS = 10**9
# RFC 6238 Appendix B: HMAC-SHA1, the ASCII seed "12345678901234567890", 8 digits.
RFC_SECRET = base64.b32encode(b"12345678901234567890").decode()
RFC_VECTORS = [(59, "94287082"), (1111111109, "07081804"), (1111111111, "14050471"),
               (1234567890, "89005924"), (2000000000, "69279037"), (20000000000, "65353130")]


@pytest.mark.parametrize(("unix_s", "code"), RFC_VECTORS)
def test_codes_match_the_rfc_6238_sha1_test_vectors(unix_s: int, code: str) -> None:
    step = otp.step_at(unix_s * NS)
    assert otp.code_at(RFC_SECRET, step, digits=8) == code
    assert otp.matching_step(RFC_SECRET, code, now_ns=unix_s * NS, last_step=None,
                             digits=8) == step


def test_a_code_is_accepted_one_step_either_side_and_no_further() -> None:
    secret = otp.new_secret()
    now = 1_767_225_615 * NS
    step = otp.step_at(now)
    for offset in (-1, 0, 1):
        code = otp.code_at(secret, step + offset)
        assert otp.matching_step(secret, code, now_ns=now, last_step=None) == step + offset
    for offset in (-3, -2, 2, 3):
        code = otp.code_at(secret, step + offset)
        if code not in {otp.code_at(secret, step + d) for d in (-1, 0, 1)}:
            assert otp.matching_step(secret, code, now_ns=now, last_step=None) is None


def test_a_code_for_a_step_already_used_is_refused() -> None:
    secret = otp.new_secret()
    now = 1_767_225_615 * NS
    step = otp.step_at(now)
    code = otp.code_at(secret, step)
    assert otp.matching_step(secret, code, now_ns=now, last_step=step - 1) == step
    assert otp.matching_step(secret, code, now_ns=now, last_step=step) is None
    # An older code, still inside the window, is refused once a newer one was used.
    older = otp.code_at(secret, step - 1)
    assert otp.matching_step(secret, older, now_ns=now, last_step=step) is None


@pytest.mark.parametrize("typed", ["", "12345", "1234567", "12a456", "١٢٣٤٥٦", "123 45"])
def test_malformed_codes_are_refused(typed: str) -> None:
    assert otp.matching_step(otp.new_secret(), typed, now_ns=0, last_step=None) is None


def test_secrets_carry_160_bits_and_the_uri_names_every_parameter() -> None:
    secret = otp.new_secret()
    assert len(base64.b32decode(secret)) == 20
    uri = urlparse(otp.otpauth_uri(secret, account="alice", issuer="PayWarden"))
    query = parse_qs(uri.query)
    assert uri.scheme == "otpauth" and uri.netloc == "totp"
    assert query == {"secret": [secret], "issuer": ["PayWarden"], "algorithm": ["SHA1"],
                     "digits": ["6"], "period": ["30"]}
