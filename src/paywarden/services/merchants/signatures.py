"""Verifying a merchant's signed request: RFC 9421 with Ed25519, RFC 9530 Content-Digest.

A request is accepted only if, in this order:

    its Signature-Input holds one signature (any label) over "@method",
    "@target-uri" and "content-digest" (other header fields may be covered too;
    no other derived component, no component parameters, none twice), with
    created, keyid, nonce and alg="ed25519"               else signature_malformed
                                                          (alg: signature_algorithm_unsupported)
    created is within the window of the platform clock    else signature_expired /
                                                               signature_from_future
    keyid names a registered key                          else key_unknown
    the signature verifies with that key                  else signature_invalid
    Content-Digest (sha-256) matches the received body    else digest_mismatch
    in one transaction (see :mod:`.nonces`):
        the key is not revoked, its merchant active       else key_revoked / merchant_suspended
        the nonce was not seen for this key in the window else signature_replayed

The nonce is claimed last, so only authentic, fresh requests take a row in the
nonce table; a forged flood cannot fill it. The key's standing is read in the
same transaction that claims the nonce, so a revocation or a suspension
committed before it takes effect at once, in every process. What a key id
names never changes (its merchant and its public key), so that much is kept
in memory (``KEY_CACHE_ENTRIES_MAX``) and a known key costs no query of its own.
The caller supplies the target URI from the configured public origin, never
from the request's Host header. The signature base is built by hand
(:mod:`.signature_base`, decision 0007) from the one parse of Signature-Input;
the Ed25519 check is ``cryptography``'s.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import anyio.to_thread
import http_sf
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from http_message_signatures import ContentDigest
from http_message_signatures import InvalidSignature as DigestMismatch

from ...adapters.clock import Clock
from ...domain.errors import DomainError
from ...domain.signature_base import (
    BaseRefused,
    component_values,
    field_value,
    signature_base,
    signature_params,
)
from .merchants import Merchants
from .nonces import Answer, Nonces, Verdict

ALGORITHM = "ed25519"
REQUIRED_COMPONENTS = ("@method", "@target-uri", "content-digest")
REQUIRED_PARAMS = ("created", "keyid", "nonce", "alg")
ALLOWED_PARAMS = frozenset({*REQUIRED_PARAMS, "expires", "tag"})
INTEGER_PARAMS = frozenset({"created", "expires"})  # the others are strings
NONCE_RE = re.compile(r"[A-Za-z0-9._~+/=-]{22,128}")  # at least 128 bits as base64url
KEY_ID_CHARS_MAX = 64
KEY_CACHE_ENTRIES_MAX = 10_000
NS = 10**9


class SignatureRefused(DomainError):
    """A signed request that is not accepted; ``code`` says which check failed."""


@dataclass(frozen=True)
class SignedRequest:
    method: str
    target_uri: str  # the public origin + the path and query as received
    headers: Sequence[tuple[str, str]]  # every field line, in order
    body: bytes


@dataclass(frozen=True)
class _SignatureInput:
    """The one signature's Signature-Input member, parsed once and checked for shape."""

    label: str
    covered: tuple[str, ...]
    params: dict[str, Any]


@dataclass(frozen=True)
class _KnownKey:
    """What a key id names, for good: its merchant and its public key."""

    id: str
    merchant_id: str
    public_key: Ed25519PublicKey


@dataclass(frozen=True)
class VerifiedSignature:
    merchant_id: str
    key_id: str
    label: str
    created_s: int
    nonce: str


class SignatureVerifier:
    def __init__(self, merchants: Merchants, nonces: Nonces, *, clock: Clock,
                 window_s: int) -> None:
        self._merchants = merchants
        self._nonces = nonces
        self._clock = clock
        self._window_s = window_s
        self._keys: dict[str, _KnownKey] = {}
        self._keys_lock = threading.Lock()

    async def verify(self, request: SignedRequest) -> VerifiedSignature:
        """The verified signature; raises :class:`SignatureRefused` otherwise, or
        :class:`.nonces.ClaimUnavailable` when the nonce cannot be recorded.

        It runs on the event loop: the checks are short and CPU-bound, and the nonce
        claim is awaited. A thread is used only to look up a key id not seen before.
        """
        signed = self._read(request)
        key = self._keys.get(signed.params["keyid"])
        if key is None:
            key = await anyio.to_thread.run_sync(self._known_key, signed.params["keyid"])
        key = self._checked(request, key, signed)
        answer = await self._nonces.claim_async(key.id, signed.params["nonce"],
                                                expires_at_ns=self._expires_at_ns(signed.params))
        return _verified(answer, key, signed)

    def _read(self, request: SignedRequest) -> _SignatureInput:
        signed = _signature_input(request.headers)
        self._check_time(signed.params["created"], signed.params.get("expires"))
        return signed

    def _expires_at_ns(self, params: dict[str, Any]) -> int:
        """When the nonce's row may go: accepted while now_s - created <= window, so from
        (created + window + 1) s on the signature is refused as expired anyway."""
        return int((params["created"] + self._window_s + 1) * NS)

    def _known_key(self, key_id: str) -> _KnownKey | None:
        key = self._keys.get(key_id)
        if key is not None or len(key_id) > KEY_ID_CHARS_MAX:
            return key
        found = self._merchants.signing_key(key_id)
        if found is None:
            return None
        key = _KnownKey(found.key.id, found.key.merchant_id,
                        Ed25519PublicKey.from_public_bytes(found.key.public_key))
        with self._keys_lock:
            if len(self._keys) >= KEY_CACHE_ENTRIES_MAX:
                del self._keys[next(iter(self._keys))]  # the oldest entry
            self._keys[key_id] = key
        return key

    @staticmethod
    def _checked(request: SignedRequest, key: _KnownKey | None,
                 signed: _SignatureInput) -> _KnownKey:
        if key is None:
            raise SignatureRefused("key_unknown", f"no key "
                                   f"{signed.params['keyid'][:KEY_ID_CHARS_MAX]!r} is registered")
        _check_signature(request, key, signed)
        _check_digest(request)
        return key

    def _check_time(self, created: int, expires: int | None) -> None:
        now_s = self._clock.now_ns() // NS
        if now_s - created > self._window_s:
            raise SignatureRefused("signature_expired", f"the signature was created "
                                   f"{now_s - created} s ago; at most {self._window_s} s")
        if created - now_s > self._window_s:
            raise SignatureRefused("signature_from_future", f"the signature is dated "
                                   f"{created - now_s} s ahead; check the clock")
        if expires is not None and expires < now_s:
            raise SignatureRefused("signature_expired", "the signature's expires time has passed")


def _verified(answer: Answer, key: _KnownKey, signed: _SignatureInput) -> VerifiedSignature:
    """The claim's answer, read in the transaction that recorded the nonce."""
    if answer.verdict is Verdict.KEY_UNKNOWN:
        raise SignatureRefused("key_unknown", f"no key {key.id} is registered")
    if answer.verdict is Verdict.KEY_REVOKED:
        raise SignatureRefused("key_revoked", f"key {key.id} has been revoked")
    if answer.verdict is Verdict.MERCHANT_INACTIVE:
        raise SignatureRefused("merchant_suspended",
                               f"merchant {key.merchant_id} is {answer.merchant_status}")
    if answer.verdict is Verdict.REPLAYED:
        raise SignatureRefused("signature_replayed", "this nonce was already used with this "
                               "key; sign every request afresh")
    return VerifiedSignature(key.merchant_id, key.id, signed.label, signed.params["created"],
                             signed.params["nonce"])


def _malformed(detail: str) -> SignatureRefused:
    return SignatureRefused("signature_malformed", detail)


def _signature_input(headers: Sequence[tuple[str, str]]) -> _SignatureInput:
    """The one signature's label, components and parameters, checked for shape before any
    lookup. This is the only parse of Signature-Input."""
    raw = field_value(headers, "signature-input")
    if raw is None or field_value(headers, "signature") is None:
        raise _malformed("send both Signature-Input and Signature")
    parsed = _dictionary(raw, "Signature-Input")
    if len(parsed) != 1:
        raise _malformed("send exactly one signature")
    label, member = next(iter(parsed.items()))
    if not isinstance(member, tuple) or not isinstance(member[0], list):
        raise _malformed("Signature-Input must be an inner list of components")
    covered = _covered(member[0])
    params: dict[str, Any] = dict(member[1])
    absent = [name for name in REQUIRED_PARAMS if name not in params]
    if absent:
        raise _malformed(f"the signature lacks the parameters {', '.join(absent)}")
    unexpected = sorted(set(params) - ALLOWED_PARAMS)
    if unexpected:
        raise _malformed(f"unexpected signature parameters {', '.join(unexpected)}")
    if params["alg"] != ALGORITHM:
        raise SignatureRefused("signature_algorithm_unsupported",
                               f"alg must be {ALGORITHM!r}")
    for name, value in params.items():
        if (type(value) is not int) if name in INTEGER_PARAMS else not isinstance(value, str):
            raise _malformed("created and expires are integers (seconds since the epoch); "
                             "keyid, nonce, alg and tag are strings")
    if not NONCE_RE.fullmatch(params["nonce"]):
        raise _malformed("the nonce is 22 to 128 characters of base64url (at least 128 bits)")
    return _SignatureInput(str(label), covered, params)


def _covered(members: list[Any]) -> tuple[str, ...]:
    """The covered component names: plain strings, lower case, each once, with no
    component parameters, and including every one of ``REQUIRED_COMPONENTS``."""
    names: list[str] = []
    for member in members:
        if not isinstance(member, tuple) or not isinstance(member[0], str) or member[1]:
            raise _malformed("covered components are plain strings, without parameters")
        names.append(member[0])
    if any(name != name.lower() for name in names) or len(set(names)) != len(names):
        raise _malformed("covered components are in lower case and each named once")
    missing = [name for name in REQUIRED_COMPONENTS if name not in names]
    if missing:
        raise _malformed(f"the signature must cover {', '.join(missing)}")
    return tuple(names)


def _dictionary(raw: str, name: str) -> dict[str, Any]:
    try:
        parsed: Any = http_sf.parse(raw.encode("ascii"), tltype="dictionary")
    except (ValueError, TypeError, UnicodeEncodeError):
        raise _malformed(f"{name} is not a structured dictionary") from None
    if not isinstance(parsed, dict):
        raise _malformed(f"{name} is not a structured dictionary")
    return parsed


def _signature_bytes(headers: Sequence[tuple[str, str]], label: str) -> bytes:
    """The Signature member under the one label Signature-Input names, and no other."""
    parsed = _dictionary(field_value(headers, "signature") or "", "Signature")
    member = parsed.get(label)
    if len(parsed) != 1 or not isinstance(member, tuple) or not isinstance(member[0], bytes):
        raise _malformed(f"Signature must hold one byte sequence, labelled {label!r} as in "
                         "Signature-Input")
    return member[0]


def _check_signature(request: SignedRequest, key: _KnownKey, signed: _SignatureInput) -> None:
    """Ed25519 (``cryptography``) over the RFC 9421 base built by :mod:`.signature_base`."""
    try:
        base = signature_base(
            component_values(signed.covered, method=request.method,
                             target_uri=request.target_uri, lines=request.headers),
            signature_params(signed.covered, signed.params))
    except BaseRefused as exc:
        raise _malformed(f"the signed components cannot be read from this request: "
                         f"{exc.detail}") from None
    try:
        key.public_key.verify(_signature_bytes(request.headers, signed.label), base)
    except InvalidSignature:
        raise SignatureRefused("signature_invalid", "the signature does not verify over this "
                               "request with this key") from None


def _check_digest(request: SignedRequest) -> None:
    value = field_value(request.headers, "content-digest")
    if value is None:
        raise _malformed("send Content-Digest")
    try:
        members = http_sf.parse(value.encode("ascii"), tltype="dictionary")
    except (ValueError, TypeError, UnicodeEncodeError):
        raise _malformed("Content-Digest is not a structured dictionary") from None
    if not isinstance(members, dict) or "sha-256" not in members:
        raise _malformed("Content-Digest must carry a sha-256 digest")
    try:
        ContentDigest.verify(value, request.body)
    except DigestMismatch:
        raise SignatureRefused("digest_mismatch",
                               "Content-Digest does not match the received body") from None

