"""Untrusted bytes to an XML tree, safely: the only way the clearing network reads XML.

A document is refused (``UnsafeXml``, code ``message_unsafe_xml``) when it is larger than
``DOCUMENT_BYTES_MAX``, declares a DTD (internal or external: the home of every entity
trick, XXE and billion laughs alike), declares or references an entity, or reaches for
anything outside itself. Nothing a network message needs lives in a DTD, so none is read.

Two parsers, each with one job:

1. ``defusedxml``'s expat reader (``forbid_dtd``, ``forbid_entities``, ``forbid_external``)
   reads the prolog only: it stops at the root element's first tag, so it costs a few
   bytes, yet a DOCTYPE is refused at its first token, before its internal subset is read.
   A DTD can only stand in the prolog, so after the root starts there is none to find.
2. ``lxml`` builds the tree (C, fast, and the validator's own format) with every reach
   outward off: ``resolve_entities=False`` (no entity is ever substituted),
   ``no_network=True``, ``load_dtd=False``, ``huge_tree=False`` (libxml2's own bounds on
   depth and text size stay on). Without a DTD an entity reference other than the five
   predefined ones is an undefined entity: refused as unsafe too. The tree is checked
   again for a DTD, so a disagreement between the two parsers cannot let one through.

A document that is not well-formed, or not UTF-8 (what the network writes; other
encodings are where two parsers could read different documents), is ``SchemaInvalid``.
"""

from __future__ import annotations

import xml.sax
import xml.sax.handler
from typing import Any

from defusedxml import DefusedXmlException
from defusedxml.expatreader import create_parser
from lxml import etree

from .errors import SchemaInvalid, UnsafeXml

DOCUMENT_BYTES_MAX = 4 * 1024 * 1024
ENCODING = "UTF-8"
# libxml2's errors that mean an entity or a DTD, not a slip: an undefined entity, an
# entity expansion over its amplification bound (a bomb), a DTD that does not parse.
_UNSAFE_ERRORS = ("ENTITY", "RESOURCE_LIMIT", "DTD", "SUBSET")


class _PrologRead(Exception):
    """The root element started: the prolog held no DTD."""


class _StopAtRoot(xml.sax.handler.ContentHandler):
    def startElement(self, name: str, attrs: Any) -> None:
        raise _PrologRead

    def startElementNS(self, name: Any, qname: Any, attrs: Any) -> None:
        raise _PrologRead


def _lxml_parser() -> etree.XMLParser:
    """A new parser per document: its ``error_log`` is this document's errors alone
    (the exception's log gathers the thread's), and a parser is not shared between
    threads. Not ``collect_ids=False``: with it libxml2 (2.14) reads an external DTD
    even though ``load_dtd`` is off (a test checks that none is read)."""
    return etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False,
                           huge_tree=False, dtd_validation=False, remove_pis=True,
                           remove_comments=True)


def _refuse_dtd(data: bytes) -> None:
    reader = create_parser(forbid_dtd=True, forbid_entities=True, forbid_external=True)
    reader.setContentHandler(_StopAtRoot())
    try:
        reader.feed(data)
        reader.close()
    except _PrologRead:
        return
    except DefusedXmlException:
        raise UnsafeXml("a document declares no DTD, entity or external reference") from None
    except xml.sax.SAXParseException:
        raise SchemaInvalid("the document is not well-formed XML") from None
    raise SchemaInvalid("the document has no root element")


def parse(data: bytes) -> etree._Element:
    """The root element of ``data``, or ``UnsafeXml`` / ``SchemaInvalid``."""
    if not isinstance(data, bytes):
        raise TypeError(f"a document is bytes, not {type(data).__name__}")
    if len(data) > DOCUMENT_BYTES_MAX:
        raise UnsafeXml(f"a document is at most {DOCUMENT_BYTES_MAX} bytes")
    _refuse_dtd(data)
    parser = _lxml_parser()
    try:
        root = etree.fromstring(data, parser)
    except etree.XMLSyntaxError:
        if any(marker in entry.type_name for entry in parser.error_log
               for marker in _UNSAFE_ERRORS):
            raise UnsafeXml("a document references no entity") from None
        raise SchemaInvalid("the document is not well-formed XML") from None
    info = root.getroottree().docinfo
    if info.doctype or info.internalDTD is not None:
        raise UnsafeXml("a document declares no DTD")
    if (info.encoding or "").upper() != ENCODING:
        raise SchemaInvalid(f"a document is encoded in {ENCODING}")
    return root
