"""The official ISO 20022 schemas the platform reads and writes messages against, shipped
inside the package (copies of ``../shared/iso20022/``; a test checks they are the same
bytes), and their loaders: ``xmlschema`` (the statements' encoder and decoder, and the
clearing codec's second opinion in tests) and ``lxml`` (the clearing codec's validator:
C, about a hundred times faster per transaction).

    safe.py        untrusted bytes to an lxml tree: size bound, no DTD, no entity
    codec.py       clearing messages (domain/clearing/messages.py) to XML and back
    pacs.py        pacs.008, .002, .009, .004: each message's mapping, both ways
    camt.py        camt.056, .029, .053, .054
    pain.py        pain.001
    parts.py       what they share: agents, amounts, group headers, long texts
    tree.py        a dict in xmlschema's shape to lxml elements; reading them back
    values.py      amounts and times as ISO 20022 writes them
    errors.py      UnsafeXml, SchemaInvalid
    signatures.py  detached Ed25519 signatures over a message's exact bytes (decision 0054)
"""

from __future__ import annotations

import functools
import threading
from pathlib import Path

import xmlschema
from lxml import etree

_HERE = Path(__file__).parent
CAMT_053 = "camt.053.001.08"


def xsd_path(message: str) -> Path:
    return _HERE / f"{message}.xsd"


@functools.cache
def schema(message: str) -> xmlschema.XMLSchema10:
    """The parsed schema of ``message`` (e.g. ``camt.053.001.08``); parsed once."""
    return xmlschema.XMLSchema10(str(xsd_path(message)))


# libxml2 compiles a schema with global state, and an XMLSchema object keeps one error log:
# two threads compiling at once were seen to fail ("Document is not valid XML Schema") under
# a server's concurrent requests. One lock serialises compiling and validating; a
# validation is tens of microseconds.
SCHEMA_LOCK = threading.Lock()
_COMPILED: dict[str, etree.XMLSchema] = {}


def lxml_schema(message: str) -> etree.XMLSchema:
    """``message``'s schema compiled by libxml2, once. The XSDs are ours (shipped in the
    package), read with the same hardened parser as any document. Use it under
    :data:`SCHEMA_LOCK`."""
    with SCHEMA_LOCK:
        compiled = _COMPILED.get(message)
        if compiled is None:
            parser = etree.XMLParser(resolve_entities=False, no_network=True,
                                     load_dtd=False, huge_tree=False)
            compiled = etree.XMLSchema(etree.parse(str(xsd_path(message)), parser))
            _COMPILED[message] = compiled
        return compiled


def namespace(message: str) -> str:
    return f"urn:iso:std:iso:20022:tech:xsd:{message}"


def warm() -> None:
    """Compile every message's schema now, on the calling thread (a clearing node's start),
    so no request ever compiles one."""
    from ...domain.clearing.messages import MessageType

    for kind in MessageType:
        lxml_schema(kind.value)
