"""The clearing network's messages (``domain/clearing/messages.py``) as ISO 20022 XML.

    encode(message) -> bytes     the value as a UTF-8 document, valid against its XSD
    decode(data) -> Message      untrusted bytes: parsed safely (``safe.parse``), checked
                                 against the XSD of its root namespace, read into a value
    message_type(data)           which message the bytes are, from the root namespace
    document(message)            the value as data in xmlschema's shape (see ``tree``)

Every encoded and every decoded document is validated against the official schema
(lxml's ``XMLSchema``, libxml2, in C). ``decode(encode(m)) == m`` for every value whose
times are whole milliseconds (``values`` floors times to the millisecond). The mapping
of each message is drawn in ``pacs``, ``camt`` and ``pain``.

Refusals: ``UnsafeXml`` (``message_unsafe_xml``) and ``SchemaInvalid``
(``message_schema_invalid``), the latter also for a schema-valid document outside what
the network carries (a missing agent, an unknown status code, a BIC of the wrong shape):
the value's own check's code is named in the detail. Details are short and never quote
the document.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from lxml import etree

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
)
from ...domain.errors import DomainError
from . import SCHEMA_LOCK, camt, lxml_schema, namespace, pacs, pain
from .errors import MessageInvalid, SchemaInvalid
from .safe import parse
from .tree import Reader, build

DECLARATION = True
_BY_NAMESPACE = {namespace(kind.value): kind for kind in MessageType}
_READERS: dict[MessageType, Callable[[Reader, etree._Element], Message]] = {
    MessageType.PACS_008: pacs.read_pacs008, MessageType.PACS_002: pacs.read_pacs002,
    MessageType.PACS_009: pacs.read_pacs009, MessageType.PACS_004: pacs.read_pacs004,
    MessageType.CAMT_056: camt.read_camt056, MessageType.CAMT_029: camt.read_camt029,
    MessageType.CAMT_053: lambda r, root: camt.read_statement(r, root, MessageType.CAMT_053),
    MessageType.CAMT_054: lambda r, root: camt.read_statement(r, root, MessageType.CAMT_054),
    MessageType.PAIN_001: pain.read_pain001,
}


def document(message: Message) -> tuple[MessageType, dict[str, Any]]:
    """``message`` as data in xmlschema's shape, with the type whose XSD it follows."""
    match message:
        case Pacs008():
            return MessageType.PACS_008, pacs.pacs008(message)
        case Pacs002():
            return MessageType.PACS_002, pacs.pacs002(message)
        case Pacs009():
            return MessageType.PACS_009, pacs.pacs009(message)
        case Pacs004():
            return MessageType.PACS_004, pacs.pacs004(message)
        case Camt056():
            return MessageType.CAMT_056, camt.camt056(message)
        case Camt029():
            return MessageType.CAMT_029, camt.camt029(message)
        case Statement():
            return message.kind, camt.statement(message)
        case Pain001():
            return MessageType.PAIN_001, pain.pain001(message)
    raise TypeError(f"{type(message).__name__} is not a clearing message")


def encode(message: Message) -> bytes:
    """``message`` as a schema-valid UTF-8 document; ``SchemaInvalid`` if the schema
    refuses one of its values (an IBAN of the wrong shape, an amount of 19 digits)."""
    kind, data = document(message)
    root = build(namespace(kind.value), data)
    validate(root, kind)
    body: bytes = etree.tostring(root, xml_declaration=DECLARATION, encoding="UTF-8")
    return body


def validate(root: etree._Element, kind: MessageType) -> None:
    """``SchemaInvalid`` unless ``root`` is valid against ``kind``'s XSD. The detail names
    the first failing line and libxml2's error kind, never the offending value."""
    checker = lxml_schema(kind.value)
    with SCHEMA_LOCK:  # one error log per schema object: read it before another validates
        valid = checker.validate(root)
        first = None if valid else checker.error_log[0]
    if first is not None:
        raise SchemaInvalid(f"not a valid {kind.value} document (line {first.line}: "
                            f"{first.type_name})")


def _kind(root: etree._Element) -> MessageType:
    qualified = etree.QName(root)
    kind = _BY_NAMESPACE.get(qualified.namespace or "")
    if kind is None or qualified.localname != "Document":
        raise SchemaInvalid("the root is not an ISO 20022 Document the network speaks")
    return kind


def message_type(data: bytes) -> MessageType:
    """The type of ``data``, from its root element's namespace (parsed safely)."""
    return _kind(parse(data))


def decode(data: bytes) -> Message:
    """The value ``data`` carries, after the safe parse and the schema check."""
    root = parse(data)
    kind = _kind(root)
    validate(root, kind)
    try:
        return _READERS[kind](Reader(namespace(kind.value)), root)
    except MessageInvalid:
        raise
    except DomainError as exc:  # a value's own check (bic_invalid, money_amount_invalid…)
        raise SchemaInvalid(f"a value the network refuses ({exc.code})") from None
