"""Test parts for the clearing hub's tests: the real ISO 20022 codec behind the hub's
``Codec`` port, an Ed25519 signer over decision 0053's signature base whose peers'
"certificates" are bare public keys, and a payee bank that answers a hub's pacs.008 over
a mock HTTP transport.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import httpx
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from paywarden.adapters.iso20022 import codec
from paywarden.adapters.iso20022.signatures import signed_bytes
from paywarden.domain.clearing import messages as m
from paywarden.services.clearing.transport import (
    SENDER_HEADER,
    SIGNATURE_HEADER,
    decode_signature,
    encode_signature,
)


class IsoCodec:
    """The real ISO 20022 codec (adapters/iso20022/codec.py), as the hub's ``Codec``."""

    def encode(self, message: m.Message) -> bytes:
        return codec.encode(message)

    def decode(self, body: bytes) -> m.Message:
        return codec.decode(body)


class KeySigner:
    """Ed25519 over the signature base; a peer's ``certificate_pem`` is its public key."""

    def __init__(self, key: Ed25519PrivateKey | None = None) -> None:
        self.key = key or Ed25519PrivateKey.generate()

    @property
    def public_pem(self) -> str:
        return self.key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo).decode()

    def sign(self, sender: str, body: bytes) -> bytes:
        return self.key.sign(signed_bytes(sender, body))

    def verify(self, certificate_pem: str, sender: str, body: bytes, signature: bytes) -> bool:
        try:
            public = serialization.load_pem_public_key(certificate_pem.encode())
            if not isinstance(public, Ed25519PublicKey):
                return False
            public.verify(signature, signed_bytes(sender, body))
        except (InvalidSignature, ValueError):
            return False
        return True


@dataclass
class FakeBank:
    """A payee bank: checks the hub's signature, answers ACCP (or RJCT AC01 for an IBAN it
    does not hold) to a pacs.008 or a pacs.004, or does not answer at all while ``down``."""

    bic: str
    hub: str
    hub_pem: str
    codec: IsoCodec = field(default_factory=IsoCodec)
    signer: KeySigner = field(default_factory=KeySigner)
    unknown_ibans: set[str] = field(default_factory=set)
    down: bool = False
    late_ns: int = 0  # answers as if it took this long: the hub's clock is moved on
    answers: m.Status = m.Status.ACCP  # a peer hub answers ACSC (or PDNG: undecided)
    received: list[m.Message] = field(default_factory=list)
    clock: Any = None
    refuses_recalls: str | None = None  # answers a camt.056 at once: RJCR with this reason

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
        if isinstance(message, m.Camt056) and self.refuses_recalls:
            return self._signed(m.Camt029(
                m.Header("A" + message.header.msg_id[1:], message.header.created_ns, self.bic,
                         self.hub),
                tuple(m.RecallAnswer(r.case_id, r.original_uetr, False, self.refuses_recalls)
                      for r in message.recalls)))
        if not isinstance(message, m.Pacs008 | m.Pacs004):
            return httpx.Response(204)
        if self.late_ns and self.clock is not None:
            self.clock.advance(self.late_ns / 1e9)
        if isinstance(message, m.Pacs004):  # a return of one of its transfers: accepted
            statuses = tuple(m.TxStatus(m.return_key(r.return_id) or "", r.original_end_to_end_id,
                                        r.return_id, self.answers) for r in message.returns)
        else:
            statuses = tuple(
                m.TxStatus(t.uetr, t.end_to_end_id, t.tx_id, m.Status.RJCT, m.Reason.AC01)
                if t.creditor.iban in self.unknown_ibans
                else m.TxStatus(t.uetr, t.end_to_end_id, t.tx_id, self.answers)
                for t in message.transfers)
        answer = m.Pacs002(m.Header("A" + message.header.msg_id[1:], message.header.created_ns,
                                    self.bic, self.hub), message.header.msg_id,
                           m.MessageType.PACS_004 if isinstance(message, m.Pacs004)
                           else m.MessageType.PACS_008, statuses)
        return self._signed(answer)

    def _signed(self, answer: m.Message) -> httpx.Response:
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
