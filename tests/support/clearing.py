"""Test stand-ins for the clearing network's other parts: a JSON codec of the message
values (the ISO 20022 codec is built beside this), an Ed25519 signer over decision 0053's
signature base, and a payee bank that answers a hub's pacs.008 over a mock HTTP transport.
"""

from __future__ import annotations

import dataclasses
import enum
import json
from dataclasses import dataclass, field
from typing import Any

import httpx
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from paywarden.domain.clearing import messages as m
from paywarden.domain.errors import DomainError
from paywarden.domain.money import Money
from paywarden.services.clearing.ports import signature_base
from paywarden.services.clearing.transport import (
    SENDER_HEADER,
    SIGNATURE_HEADER,
    decode_signature,
    encode_signature,
)

_CLASSES: dict[str, Any] = {name: getattr(m, name) for name in dir(m)
                            if isinstance(getattr(m, name), type)}
_CLASSES["Money"] = Money


def _enc(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {"_t": type(value).__name__,
                **{f.name: _enc(getattr(value, f.name)) for f in dataclasses.fields(value)}}
    if isinstance(value, enum.Enum):
        return {"_e": type(value).__name__, "v": value.value}
    if isinstance(value, tuple):
        return [_enc(v) for v in value]
    return value


def _dec(value: Any) -> Any:
    if isinstance(value, dict) and "_t" in value:
        cls = _CLASSES[value["_t"]]
        return cls(**{k: _dec(v) for k, v in value.items() if k != "_t"})
    if isinstance(value, dict) and "_e" in value:
        return _CLASSES[value["_e"]](value["v"])
    if isinstance(value, list):
        return tuple(_dec(v) for v in value)
    return value


class JsonCodec:
    """Test only: the message values as tagged JSON (never pickle: bytes from a peer)."""

    def encode(self, message: m.Message) -> bytes:
        return json.dumps(_enc(message), sort_keys=True).encode()

    def decode(self, body: bytes) -> m.Message:
        try:
            value = _dec(json.loads(body))
        except (ValueError, KeyError, TypeError, DomainError) as exc:
            raise DomainError("message_schema_invalid", "not a message") from exc
        if not isinstance(value, (m.Pacs008, m.Pacs002, m.Pacs009, m.Pacs004, m.Camt056,
                                  m.Camt029, m.Statement, m.Pain001)):
            raise DomainError("message_schema_invalid", "not a message")
        return value


class KeySigner:
    """Ed25519 over the signature base; a peer's ``certificate_pem`` is its public key."""

    def __init__(self, key: Ed25519PrivateKey | None = None) -> None:
        self.key = key or Ed25519PrivateKey.generate()

    @property
    def public_pem(self) -> str:
        return self.key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo).decode()

    def sign(self, sender: str, body: bytes) -> bytes:
        return self.key.sign(signature_base(sender, body))

    def verify(self, certificate_pem: str, sender: str, body: bytes, signature: bytes) -> bool:
        try:
            public = serialization.load_pem_public_key(certificate_pem.encode())
            if not isinstance(public, Ed25519PublicKey):
                return False
            public.verify(signature, signature_base(sender, body))
        except (InvalidSignature, ValueError):
            return False
        return True


@dataclass
class FakeBank:
    """A payee bank: checks the hub's signature, answers ACCP (or RJCT AC01 for an IBAN it
    does not hold), or does not answer at all while ``down``."""

    bic: str
    hub: str
    hub_pem: str
    codec: JsonCodec = field(default_factory=JsonCodec)
    signer: KeySigner = field(default_factory=KeySigner)
    unknown_ibans: set[str] = field(default_factory=set)
    down: bool = False
    late_ns: int = 0  # answers as if it took this long: the hub's clock is moved on
    answers: m.Status = m.Status.ACCP  # a peer hub answers ACSC (or PDNG: undecided)
    received: list[m.Message] = field(default_factory=list)
    clock: Any = None

    def __call__(self, request: httpx.Request) -> httpx.Response:
        if self.down:
            raise httpx.ConnectError("connection refused", request=request)
        body = request.content
        signature = decode_signature(request.headers[SIGNATURE_HEADER])
        if signature is None or not KeySigner().verify(
                self.hub_pem, request.headers[SENDER_HEADER], body, signature):
            return httpx.Response(401, json={"code": "message_signature_invalid"})
        message = self.codec.decode(body)
        self.received.append(message)
        if not isinstance(message, m.Pacs008):
            return httpx.Response(204)
        if self.late_ns and self.clock is not None:
            self.clock.advance(self.late_ns / 1e9)
        statuses = tuple(
            m.TxStatus(t.uetr, t.end_to_end_id, t.tx_id, m.Status.RJCT, m.Reason.AC01)
            if t.creditor.iban in self.unknown_ibans
            else m.TxStatus(t.uetr, t.end_to_end_id, t.tx_id, self.answers)
            for t in message.transfers)
        answer = m.Pacs002(m.Header("A" + message.header.msg_id[1:], message.header.created_ns,
                                    self.bic, self.hub), message.header.msg_id,
                           m.MessageType.PACS_008, statuses)
        out = self.codec.encode(answer)
        return httpx.Response(200, content=out, headers={
            SENDER_HEADER: self.bic,
            SIGNATURE_HEADER: encode_signature(self.signer.sign(self.bic, out))})


def router(banks: dict[str, FakeBank]) -> httpx.MockTransport:
    """Requests to http://<bic>.test/… reach that bank."""
    def route(request: httpx.Request) -> httpx.Response:
        bank = banks.get(request.url.host.removesuffix(".test").upper())
        if bank is None:
            raise httpx.ConnectError("no such host", request=request)
        return bank(request)
    return httpx.MockTransport(route)
