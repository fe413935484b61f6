"""The archive of every clearing message sent and received: the exact bytes and their
signature, kept before the message is acted on or sent (decision 0053).

A sender's MsgId is taken once per direction (``uq_clearing_messages_msg_id``): the same
bytes again are a retry, other bytes under it a duplicate. ``answer_id`` links a message
to the one that answered it, so a retry gets the same answer back.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, insert, select, update

from ...adapters.store.schema import clearing_messages

IN = "in"
OUT = "out"


@dataclass(frozen=True)
class Archived:
    id: str
    direction: str
    type: str
    msg_id: str
    sender: str
    receiver: str
    body: bytes
    signature: bytes
    sha256: str
    at_ns: int
    answer_id: str | None


def digest(body: bytes) -> str:
    return hashlib.sha256(body).hexdigest()


def new_id() -> str:
    return "cm_" + secrets.token_hex(16)


def row(*, direction: str, type_: str, msg_id: str, sender: str, receiver: str, body: bytes,
        signature: bytes, at_ns: int, id_: str | None = None) -> dict[str, Any]:
    """The ``clearing_messages`` row of one message, for an insert (alone or in a batch)."""
    return {"id": id_ or new_id(), "direction": direction, "type": type_, "msg_id": msg_id,
            "sender": sender, "receiver": receiver, "body": body, "signature": signature,
            "sha256": digest(body), "at_ns": at_ns, "answer_id": None}


INSERT = insert(clearing_messages)


def put(conn: Connection, values: dict[str, Any]) -> Archived:
    conn.execute(INSERT, values)
    return _archived(values)


def find(conn: Connection, *, direction: str, sender: str, msg_id: str) -> Archived | None:
    found = conn.execute(select(clearing_messages).where(
        clearing_messages.c.direction == direction, clearing_messages.c.sender == sender,
        clearing_messages.c.msg_id == msg_id)).first()
    return None if found is None else _archived(dict(found._mapping))


def get(conn: Connection, message_id: str) -> Archived | None:
    found = conn.execute(select(clearing_messages).where(
        clearing_messages.c.id == message_id)).first()
    return None if found is None else _archived(dict(found._mapping))


def link_answer(conn: Connection, message_id: str, answer_id: str) -> None:
    conn.execute(update(clearing_messages).where(clearing_messages.c.id == message_id)
                 .values(answer_id=answer_id))


def _archived(values: dict[str, Any]) -> Archived:
    return Archived(values["id"], values["direction"], values["type"], values["msg_id"],
                    values["sender"], values["receiver"], bytes(values["body"]),
                    bytes(values["signature"]), values["sha256"], values["at_ns"],
                    values["answer_id"])
