"""The hand-built RFC 9421 signature base: equal to RFC 9421's own example and to the
``http-message-signatures`` library's base, and every tampering with what it covers is
refused. Ed25519 itself is ``cryptography``'s."""

from __future__ import annotations

import base64
import secrets
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import load_pem_private_key, load_pem_public_key
from http_message_signatures import HTTPMessageSigner, MappingKeyResolver, algorithms

from paywarden.domain.signature_base import (
    BaseRefused,
    component_values,
    signature_base,
    signature_params,
)
from paywarden.services.merchants import signatures
from paywarden.services.merchants.signatures import SignatureRefused, SignedRequest

# RFC 9421 appendix B.1.4 (test-key-ed25519) and B.2.6 (signing a request with Ed25519).
RFC_PUBLIC_KEY = b"""-----BEGIN PUBLIC KEY-----
MCowBQYDK2VwAyEAJrQLj5P/89iXES9+vFgrIy29clF9CC/oPPsw3c5D0bs=
-----END PUBLIC KEY-----
"""
RFC_PRIVATE_KEY = b"""-----BEGIN PRIVATE KEY-----
MC4CAQAwBQYDK2VwBCIEIJ+DYvh6SEqVTm50DFtMDoQikTmiCqirVv9mWG9qfSnF
-----END PRIVATE KEY-----
"""
RFC_BASE = (
    '"date": Tue, 20 Apr 2021 02:07:55 GMT\n'
    '"@method": POST\n'
    '"@path": /foo\n'
    '"@authority": example.com\n'
    '"content-type": application/json\n'
    '"content-length": 18\n'
    '"@signature-params": ("date" "@method" "@path" "@authority" "content-type" '
    '"content-length");created=1618884473;keyid="test-key-ed25519"')
RFC_SIGNATURE = ("wqcAqbmYJ2ji2glfAMaRy4gruYYnx2nEFN2HN6jrnDnQCK1u02Gb04v9EDgwUPiu4A0w6vuQv5lIp5WP"
                 "pBKRCw==")
URL = "https://pay.example/v1/merchants/me?page=2"
CREATED_S = 1_764_460_800
KEY_ID = "key_0123456789abcdef01234567"


def test_the_base_of_rfc_9421_b_2_6_is_built_exactly_and_its_signature_verifies() -> None:
    covered = ("date", "@method", "@path", "@authority", "content-type", "content-length")
    values = [("date", "Tue, 20 Apr 2021 02:07:55 GMT"), ("@method", "POST"),
              ("@path", "/foo"), ("@authority", "example.com"),
              ("content-type", "application/json"), ("content-length", "18")]
    base = signature_base(values, signature_params(
        covered, {"created": 1618884473, "keyid": "test-key-ed25519"}))
    assert base == RFC_BASE.encode()
    public_key = load_pem_public_key(RFC_PUBLIC_KEY)
    assert isinstance(public_key, Ed25519PublicKey)
    public_key.verify(base64.b64decode(RFC_SIGNATURE), base)  # raises if not
    private_key = load_pem_private_key(RFC_PRIVATE_KEY, password=None)
    assert isinstance(private_key, Ed25519PrivateKey)
    assert base64.b64encode(private_key.sign(base)).decode() == RFC_SIGNATURE


class _Message:
    def __init__(self, method: str, url: str, headers: dict[str, str]) -> None:
        self.method = method
        self.url = url
        self.headers = headers


class _RecordingSigner(HTTPMessageSigner):
    """The library's signer, keeping the base it signed."""

    bases: list[str]

    def _build_signature_base(self, message: Any, **kwargs: Any) -> tuple[Any, ...]:
        built = super()._build_signature_base(message, **kwargs)
        self.bases = [*getattr(self, "bases", []), built[0]]
        return built  # type: ignore[no-any-return]


def _library_signed(key: Ed25519PrivateKey, *, method: str = "GET", body: bytes = b"",
                    covered: Sequence[str] = ("@method", "@target-uri", "content-digest"),
                    headers: dict[str, str] | None = None, label: str = "sig",
                    **options: Any) -> tuple[SignedRequest, str]:
    signer = _RecordingSigner(signature_algorithm=algorithms.ED25519, key_resolver=(
        MappingKeyResolver(public_keys={}, private_keys={KEY_ID: key})))
    message = _Message(method, URL, dict(headers or {}))
    signer.sign(message, key_id=KEY_ID, label=label,
                created=datetime.fromtimestamp(CREATED_S, UTC),
                nonce=secrets.token_urlsafe(32), include_alg=True,
                covered_component_ids=list(covered), body=body, **options)
    request = SignedRequest(method=method, target_uri=URL,
                            headers=list(message.headers.items()), body=body)
    return request, signer.bases[-1]


def _our_base(request: SignedRequest) -> bytes:
    signed = signatures._signature_input(request.headers)
    return signature_base(
        component_values(signed.covered, method=request.method, target_uri=request.target_uri,
                         lines=request.headers),
        signature_params(signed.covered, signed.params))


def _check(request: SignedRequest, key: Ed25519PrivateKey) -> None:
    signed = signatures._signature_input(request.headers)
    known = signatures._KnownKey(KEY_ID, "mer_0123456789abcdef", key.public_key())
    signatures.SignatureVerifier._checked(request, known, signed)


SHAPES: list[dict[str, Any]] = [
    {},  # what the SDK sends on a GET
    {"method": "POST", "body": b'{"amount": 1000}',
     "covered": ("@method", "@target-uri", "content-digest", "idempotency-key"),
     "headers": {"Idempotency-Key": "order-17"}},  # what the SDK sends on a POST
    {"covered": ("content-digest", "@target-uri", "@method")},  # another order
    {"label": "merchant-1", "tag": "paywarden", "expires": datetime.fromtimestamp(
        CREATED_S + 60, UTC)},
    {"covered": ("@method", "@target-uri", "content-digest", "content-type", "x-trace"),
     "headers": {"Content-Type": "application/json", "X-Trace": ' a "quoted"\tvalue '}},
]


@pytest.mark.parametrize("shape", SHAPES)
def test_the_hand_built_base_equals_the_librarys_and_its_signature_verifies(
        shape: dict[str, Any]) -> None:
    key = Ed25519PrivateKey.generate()
    request, library_base = _library_signed(key, **shape)
    assert _our_base(request) == library_base.encode("ascii")
    _check(request, key)


def _edited(request: SignedRequest, name: str, value: str) -> SignedRequest:
    lines = [(n, value if n.lower() == name else v) for n, v in request.headers]
    return SignedRequest(request.method, request.target_uri, lines, request.body)


def _refused_as(request: SignedRequest, key: Ed25519PrivateKey, code: str) -> None:
    with pytest.raises(SignatureRefused) as refused:
        _check(request, key)
    assert refused.value.code == code


def _input(request: SignedRequest) -> str:
    return next(v for n, v in request.headers if n.lower() == "signature-input")


@pytest.mark.parametrize("edit", [
    ('("@method" "@target-uri" "content-digest")',
     '("@method" "@target-uri" "content-digest" "accept")'),  # a component added
    ('("@method" "@target-uri" "content-digest")',
     '("@target-uri" "@method" "content-digest")'),  # reordered
    (';alg="ed25519"', ''),  # a parameter removed from what was signed (alg is required)
    (';created=', ';created=1'),  # created moved
])
def test_a_signature_input_edited_after_signing_is_refused(edit: tuple[str, str]) -> None:
    key = Ed25519PrivateKey.generate()
    request, _ = _library_signed(key, headers={"Accept": "*/*"})
    edited = _edited(request, "signature-input", _input(request).replace(*edit))
    with pytest.raises(SignatureRefused) as refused:
        _check(edited, key)
    assert refused.value.code in ("signature_invalid", "signature_malformed")


def test_a_covered_component_removed_after_signing_is_refused_as_invalid() -> None:
    key = Ed25519PrivateKey.generate()
    request, _ = _library_signed(key, covered=("@method", "@target-uri", "content-digest",
                                               "accept"), headers={"Accept": "*/*"})
    edited = _edited(request, "signature-input", _input(request).replace(' "accept"', ""))
    _refused_as(edited, key, "signature_invalid")


def test_a_covered_header_sent_twice_is_refused_as_invalid() -> None:
    key = Ed25519PrivateKey.generate()
    request, _ = _library_signed(key, method="POST", body=b"{}", headers={
        "Idempotency-Key": "k1"}, covered=("@method", "@target-uri", "content-digest",
                                           "idempotency-key"))
    doubled = SignedRequest(request.method, request.target_uri,
                            [*request.headers, ("idempotency-key", "k2")], request.body)
    _refused_as(doubled, key, "signature_invalid")


def test_a_covered_header_changed_on_the_way_is_refused_as_invalid() -> None:
    key = Ed25519PrivateKey.generate()
    request, _ = _library_signed(key, method="POST", body=b"{}", headers={
        "Idempotency-Key": "k1"}, covered=("@method", "@target-uri", "content-digest",
                                           "idempotency-key"))
    _refused_as(_edited(request, "idempotency-key", "k2"), key, "signature_invalid")


@pytest.mark.parametrize("covered", [
    ("@method", "@target-uri", "content-digest", "@authority"),  # another derived component
    ("@method", "@target-uri", "content-digest", "@signature-params"),
    ("@method", "@target-uri", "content-digest", "content-digest"),  # one named twice
])
def test_components_outside_the_accepted_shape_are_refused_as_malformed(
        covered: tuple[str, ...]) -> None:
    key = Ed25519PrivateKey.generate()
    request, _ = _library_signed(key)
    edited = _edited(request, "signature-input", _input(request).replace(
        '("@method" "@target-uri" "content-digest")',
        "(" + " ".join(f'"{c}"' for c in covered) + ")"))
    _refused_as(edited, key, "signature_malformed")


@pytest.mark.parametrize("component", ['"content-digest";sf', '"content-digest";key="sha-256"',
                                       '"Content-Digest"'])
def test_a_component_with_parameters_or_in_upper_case_is_refused_as_malformed(
        component: str) -> None:
    key = Ed25519PrivateKey.generate()
    request, _ = _library_signed(key)
    edited = _edited(request, "signature-input",
                     _input(request).replace('"content-digest"', component))
    _refused_as(edited, key, "signature_malformed")


def test_a_covered_header_that_is_absent_is_refused_as_malformed() -> None:
    key = Ed25519PrivateKey.generate()
    request, _ = _library_signed(key, covered=("@method", "@target-uri", "content-digest",
                                               "accept"), headers={"Accept": "*/*"})
    gone = SignedRequest(request.method, request.target_uri,
                         [(n, v) for n, v in request.headers if n.lower() != "accept"],
                         request.body)
    _refused_as(gone, key, "signature_malformed")


def test_a_signature_under_another_label_than_its_input_is_refused_as_malformed() -> None:
    key = Ed25519PrivateKey.generate()
    request, _ = _library_signed(key)
    signature = next(v for n, v in request.headers if n.lower() == "signature")
    _refused_as(_edited(request, "signature", signature.replace("sig=", "other=")), key,
                "signature_malformed")


def test_a_signature_by_another_key_is_refused_as_invalid() -> None:
    request, _ = _library_signed(Ed25519PrivateKey.generate())
    _refused_as(request, Ed25519PrivateKey.generate(), "signature_invalid")


def test_another_algorithm_is_refused_before_any_key_is_used() -> None:
    request, _ = _library_signed(Ed25519PrivateKey.generate())
    edited = _edited(request, "signature-input",
                     _input(request).replace('alg="ed25519"', 'alg="hmac-sha256"'))
    with pytest.raises(SignatureRefused) as refused:
        signatures._signature_input(edited.headers)
    assert refused.value.code == "signature_algorithm_unsupported"


@pytest.mark.parametrize("value", ["a\nb", "a\rb", "a\x00b", "caf\u00e9"])
def test_a_value_that_could_forge_a_line_or_leave_ascii_is_refused(value: str) -> None:
    with pytest.raises(BaseRefused):
        signature_base([("x-note", value)], '("x-note");created=1')


def test_a_derived_value_with_surrounding_spaces_or_a_lower_case_method_is_refused() -> None:
    with pytest.raises(BaseRefused):
        signature_base([("@target-uri", " https://pay.example/")], '("@target-uri")')
    with pytest.raises(BaseRefused):
        component_values(("@method",), method="get", target_uri=URL, lines=[])


def _verifier_at(now_s: int) -> signatures.SignatureVerifier:
    from paywarden.adapters.clock import FakeClock

    return signatures.SignatureVerifier(None, None, clock=FakeClock(now_s * 10**9),  # type: ignore[arg-type]
                                         window_s=300)


@pytest.mark.parametrize(("now_s", "options", "code"), [
    (CREATED_S + 301, {}, "signature_expired"),
    (CREATED_S - 301, {}, "signature_from_future"),
    (CREATED_S + 61, {"expires": datetime.fromtimestamp(CREATED_S + 60, UTC)},
     "signature_expired"),
])
def test_created_or_expires_outside_the_window_is_refused_before_any_lookup(
        now_s: int, options: dict[str, Any], code: str) -> None:
    request, _ = _library_signed(Ed25519PrivateKey.generate(), **options)
    with pytest.raises(SignatureRefused) as refused:
        _verifier_at(now_s)._read(request)
    assert refused.value.code == code


def test_created_and_expires_inside_the_window_pass_the_time_check() -> None:
    request, _ = _library_signed(Ed25519PrivateKey.generate(),
                                 expires=datetime.fromtimestamp(CREATED_S + 60, UTC))
    assert _verifier_at(CREATED_S + 60)._read(request).params["created"] == CREATED_S
