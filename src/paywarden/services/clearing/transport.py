"""ISO 20022 over HTTP between clearing nodes: receive, check, archive, dispatch; sign,
archive, send, check the answer (decision 0053; the hub's side: decision 0055).

A received message is checked in this order, each refusal a DomainError whose code the
API answers as problem+json, before anything acts on it:

    message_too_large          more bytes than ``body_bytes_max``
    message_unsafe_xml         a DTD or an entity declaration (XXE, billion laughs)
    message_sender_unknown     no such peer           message_sender_revoked / _suspended
    message_signature_invalid  not the sender's signature over these exact bytes
    message_schema_invalid     the codec refused it (schema, values)
    message_sender_mismatch    its header names another sender than the signer
    message_misaddressed       its header names another receiver than this node
    message_type_unsupported   no handler here for its type
    (a retry: the same sender, MsgId and bytes → the stored answer, ``replay``)
    message_stale              created outside ``replay_window_s`` of now
    message_duplicate          the MsgId was used before with other bytes

A retry is recognised before the staleness check: its bytes are archived, so answering
it again costs nothing and lets a payer re-send until it has a final status. A retry
whose stored answer still said PDNG is handed to its handler again (handlers are
idempotent), so the answer it gets is the current one.
"""

from __future__ import annotations

import base64
import binascii
import re
import secrets
from dataclasses import dataclass

import httpx
from sqlalchemy.exc import IntegrityError

from ...adapters.clock import Clock
from ...adapters.store import Database
from ...domain.clearing.messages import (
    Camt029,
    Camt056,
    Message,
    MessageType,
    Pacs002,
    Pacs004,
    Pacs008,
    Pacs009,
    Pain001,
    Statement,
    Status,
)
from ...domain.errors import DomainError
from . import archive
from .archive import IN, OUT, Archived
from .peers import Peer, Peers, PeerState
from .ports import Codec, Handler, Signer, header_of

NS = 1_000_000_000
PATH = "/v1/clearing/messages"
SENDER_HEADER = "PayWarden-Sender"
SIGNATURE_HEADER = "PayWarden-Signature"
REPLAY_HEADER = "PayWarden-Replay"
_UNSAFE = re.compile(rb"<!\s*(DOCTYPE|ENTITY)", re.IGNORECASE)
_TYPES: dict[type, MessageType] = {
    Pacs008: MessageType.PACS_008, Pacs002: MessageType.PACS_002,
    Pacs009: MessageType.PACS_009, Pacs004: MessageType.PACS_004,
    Camt056: MessageType.CAMT_056, Camt029: MessageType.CAMT_029,
    Pain001: MessageType.PAIN_001}


class PeerUnavailable(DomainError):
    """The peer did not answer, or answered with something this node cannot trust."""

    def __init__(self, bic: str, why: str) -> None:
        super().__init__("peer_unavailable", f"peer {bic} is unavailable: {why}")
        self.bic = bic


class PeerRefused(DomainError):
    """The peer answered with a refusal (problem+json): ``refusal`` is its code."""

    def __init__(self, bic: str, refusal: str) -> None:
        super().__init__("peer_refused", f"peer {bic} refused the message: {refusal}")
        self.bic = bic
        self.refusal = refusal


def type_of(message: Message) -> MessageType:
    return message.kind if isinstance(message, Statement) else _TYPES[type(message)]


def encode_signature(signature: bytes) -> str:
    return base64.urlsafe_b64encode(signature).rstrip(b"=").decode("ascii")


def decode_signature(value: str) -> bytes | None:
    try:
        return base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))
    except (binascii.Error, ValueError):
        return None


def is_unsafe(body: bytes) -> bool:
    """A DTD or an entity declaration: no ISO 20022 message has one, and each is how an
    XXE or billion-laughs payload begins. Refused before any parser sees the bytes."""
    return _UNSAFE.search(body) is not None


@dataclass(frozen=True)
class Received:
    answer: bytes | None  # the signed answer's body, or None (HTTP 204)
    signature: bytes | None
    replay: bool


@dataclass(frozen=True)
class Outgoing:
    """A message signed and ready: archive ``row`` (before sending), then deliver it."""

    receiver: str
    type: MessageType
    msg_id: str
    body: bytes
    signature: bytes
    row: dict[str, object]


def new_msg_id() -> str:
    return "M" + secrets.token_hex(16)  # 33 characters: within Max35Text


class Transport:
    def __init__(self, database: Database, *, clock: Clock, bic: str, codec: Codec,
                 signer: Signer, peers: Peers, http: httpx.Client, replay_window_s: int,
                 body_bytes_max: int) -> None:
        self._database = database
        self._clock = clock
        self.bic = bic
        self._codec = codec
        self._signer = signer
        self._peers = peers
        self._http = http
        self._replay_window_ns = replay_window_s * NS
        self._body_bytes_max = body_bytes_max
        self._handlers: dict[MessageType, Handler] = {}

    def register(self, type_: MessageType, handler: Handler) -> None:
        self._handlers[type_] = handler

    def close(self) -> None:
        self._http.close()

    # -- inbound -------------------------------------------------------------------------

    def receive(self, body: bytes, sender: str, signature: bytes | None) -> Received:
        """Check, archive and act on one received message (the order: module docstring)."""
        if len(body) > self._body_bytes_max:
            raise DomainError("message_too_large",
                              f"a clearing message is at most {self._body_bytes_max} bytes")
        if is_unsafe(body):
            raise DomainError("message_unsafe_xml", "a DTD or an entity is never accepted")
        peer = self._sender(sender)
        if signature is None or not self._signer.verify(peer.certificate_pem, sender, body,
                                                        signature):
            raise DomainError("message_signature_invalid",
                              f"the signature is not {sender}'s over this message")
        message = self._decode(body)
        header = header_of(message)
        if header.sender != sender:
            raise DomainError("message_sender_mismatch",
                              f"signed by {sender}, the message names {header.sender}")
        if header.receiver != self.bic:
            raise DomainError("message_misaddressed", f"this node is {self.bic}, "
                              f"not {header.receiver}")
        type_ = type_of(message)
        handler = self._handlers.get(type_)
        if handler is None:
            raise DomainError("message_type_unsupported", f"{type_.family} is not taken here")
        stored, replay = self._archive_in(type_, header.msg_id, header.created_ns, sender,
                                          body, signature)
        if replay and stored.answer_id is not None:
            answered = self._stored_answer(stored.answer_id)
            if answered is not None and not self._pending(answered):
                return Received(answered.body, answered.signature, True)
        answer = handler(message, sender)
        if answer is None:
            return Received(None, None, replay)
        out = self.prepare(sender, answer)
        with self._database.engine.begin() as conn:
            archive.put(conn, out.row)
            archive.link_answer(conn, stored.id, str(out.row["id"]))
        return Received(out.body, out.signature, replay)

    def _sender(self, sender: str) -> Peer:
        peer = self._peers.get(sender) if isinstance(sender, str) and len(sender) <= 11 else None
        if peer is None:
            raise DomainError("message_sender_unknown", "the sender is not a known peer")
        if peer.state is PeerState.REVOKED:
            raise DomainError("message_sender_revoked", f"peer {sender} is revoked")
        if peer.state is not PeerState.ACTIVE:
            raise DomainError("message_sender_suspended", f"peer {sender} is suspended")
        return peer

    def _decode(self, body: bytes) -> Message:
        try:
            return self._codec.decode(body)
        except DomainError as exc:
            code = exc.code if exc.code == "message_unsafe_xml" else "message_schema_invalid"
            raise DomainError(code, f"the message was refused: {exc.code}") from exc
        except ValueError as exc:
            raise DomainError("message_schema_invalid", "the message is not valid") from exc

    def _archive_in(self, type_: MessageType, msg_id: str, created_ns: int, sender: str,
                    body: bytes, signature: bytes) -> tuple[Archived, bool]:
        """The archived message and whether it is a retry (same MsgId, same bytes)."""
        sha = archive.digest(body)
        with self._database.engine.connect() as conn:
            seen = archive.find(conn, direction=IN, sender=sender, msg_id=msg_id)
        if seen is None:
            now = self._clock.now_ns()
            if abs(now - created_ns) > self._replay_window_ns:
                raise DomainError("message_stale", "the message was created outside the "
                                  "replay window")
            try:
                with self._database.engine.begin() as conn:
                    return archive.put(conn, archive.row(
                        direction=IN, type_=str(type_), msg_id=msg_id, sender=sender,
                        receiver=self.bic, body=body, signature=signature, at_ns=now)), False
            except IntegrityError:  # the same MsgId, received at the same moment
                with self._database.engine.connect() as conn:
                    seen = archive.find(conn, direction=IN, sender=sender, msg_id=msg_id)
                if seen is None:
                    raise
        if seen.sha256 != sha:
            raise DomainError("message_duplicate", f"message id {msg_id} was used before "
                              "with other content")
        return seen, True

    def _stored_answer(self, answer_id: str) -> Archived | None:
        with self._database.engine.connect() as conn:
            return archive.get(conn, answer_id)

    def _pending(self, answered: Archived) -> bool:
        """The stored answer left a transaction in flight: the retry asks again."""
        if answered.type != MessageType.PACS_002:
            return False
        answer = self._codec.decode(answered.body)
        return isinstance(answer, Pacs002) and any(
            s.status is Status.PDNG for s in answer.statuses)

    def check_request(self, sender: str, payload: bytes, signature: bytes | None,
                      at_ns: int) -> Peer:
        """A signed request that is not a message (a statement request): from an active
        peer, signed by it over ``payload``, made within the replay window."""
        peer = self._sender(sender)
        if signature is None or not self._signer.verify(peer.certificate_pem, sender,
                                                        payload, signature):
            raise DomainError("message_signature_invalid",
                              f"the signature is not {sender}'s over this request")
        if abs(self._clock.now_ns() - at_ns) > self._replay_window_ns:
            raise DomainError("message_stale", "the request was made outside the replay "
                              "window")
        return peer

    # -- outbound ------------------------------------------------------------------------

    def fetch(self, receiver: str, path: str, params: dict[str, str],
              payload: bytes) -> Message:
        """GET ``path`` from a peer, the request signed over ``payload``; its signed,
        verified and archived answer (a statement)."""
        peer = self._peers.get(receiver)
        if peer is None or peer.url is None or peer.state is PeerState.REVOKED:
            raise PeerUnavailable(receiver, "no active peer with an address")
        try:
            response = self._http.get(peer.url.rstrip("/") + path, params=params, headers={
                SENDER_HEADER: self.bic,
                SIGNATURE_HEADER: encode_signature(self._signer.sign(self.bic, payload))})
        except httpx.HTTPError as exc:
            raise PeerUnavailable(receiver, type(exc).__name__) from None
        if response.status_code != 200:
            if 400 <= response.status_code < 500 and response.status_code != 429:
                raise PeerRefused(receiver, _problem_code(response))
            raise PeerUnavailable(receiver, f"HTTP {response.status_code}")
        return self._answer(peer, response)

    def prepare(self, receiver: str, message: Message) -> Outgoing:
        """Encode and sign ``message``; its archive row is for the caller to write, in
        the same transaction as what it decides (before the message leaves)."""
        body = self._codec.encode(message)
        signature = self._signer.sign(self.bic, body)
        header = header_of(message)
        type_ = type_of(message)
        return Outgoing(receiver, type_, header.msg_id, body, signature, archive.row(
            direction=OUT, type_=str(type_), msg_id=header.msg_id, sender=self.bic,
            receiver=receiver, body=body, signature=signature, at_ns=self._clock.now_ns()))

    def send(self, receiver: str, message: Message) -> Message | None:
        """Archive, sign and send; the peer's answer, checked and archived (or None)."""
        out = self.prepare(receiver, message)
        with self._database.engine.begin() as conn:
            archive.put(conn, out.row)
        return self.deliver(receiver, out.body, out.signature)

    def resend(self, stored: Archived) -> Message | None:
        """Send the exact stored bytes again (a retry the peer recognises)."""
        if stored.direction != OUT:
            raise DomainError("message_invalid", "only a message this node sent is re-sent")
        return self.deliver(stored.receiver, stored.body, stored.signature)

    def deliver(self, receiver: str, body: bytes, signature: bytes) -> Message | None:
        """POST one signed message; the peer's verified answer, or None (204)."""
        peer = self._peers.get(receiver)
        if peer is None or peer.url is None or peer.state is PeerState.REVOKED:
            raise PeerUnavailable(receiver, "no active peer with an address")
        try:
            response = self._http.post(peer.url.rstrip("/") + PATH, content=body, headers={
                "Content-Type": "application/xml", SENDER_HEADER: self.bic,
                SIGNATURE_HEADER: encode_signature(signature)})
        except httpx.HTTPError as exc:
            raise PeerUnavailable(receiver, type(exc).__name__) from None
        if response.status_code == 204:
            return None
        if response.status_code != 200:
            if 400 <= response.status_code < 500 and response.status_code != 429:
                raise PeerRefused(receiver, _problem_code(response))
            raise PeerUnavailable(receiver, f"HTTP {response.status_code}")
        return self._answer(peer, response)

    def _answer(self, peer: Peer, response: httpx.Response) -> Message:
        body = response.content
        signature = decode_signature(response.headers.get(SIGNATURE_HEADER, ""))
        if (response.headers.get(SENDER_HEADER) != peer.bic or signature is None
                or len(body) > self._body_bytes_max or is_unsafe(body)
                or not self._signer.verify(peer.certificate_pem, peer.bic, body, signature)):
            raise PeerUnavailable(peer.bic, "its answer is not signed by it")
        try:
            message = self._decode(body)
        except DomainError:
            raise PeerUnavailable(peer.bic, "its answer is not a valid message") from None
        header = header_of(message)
        if header.sender != peer.bic or header.receiver != self.bic:
            raise PeerUnavailable(peer.bic, "its answer names other parties")
        with self._database.engine.begin() as conn:
            seen = archive.find(conn, direction=IN, sender=peer.bic, msg_id=header.msg_id)
            if seen is None:
                archive.put(conn, archive.row(
                    direction=IN, type_=str(type_of(message)), msg_id=header.msg_id,
                    sender=peer.bic, receiver=self.bic, body=body, signature=signature,
                    at_ns=self._clock.now_ns()))
        return message


def _problem_code(response: httpx.Response) -> str:
    try:
        code = response.json().get("code")
    except ValueError:
        return f"http_{response.status_code}"
    return code if isinstance(code, str) and code.isascii() and len(code) <= 64 else "unknown"
