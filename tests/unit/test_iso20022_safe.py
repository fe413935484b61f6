"""Attacks on the clearing network's XML reader: every document with a DTD or an entity,
or over the size bound, is refused (message_unsafe_xml) before any value is read, and no
refusal quotes what the attacker tried to read."""

from __future__ import annotations

from pathlib import Path

import pytest
from lxml import etree

from paywarden.adapters.iso20022 import codec, safe
from paywarden.adapters.iso20022.errors import SchemaInvalid, UnsafeXml
from paywarden.adapters.iso20022.safe import DOCUMENT_BYTES_MAX, parse
from tests.support.clearing_messages import pacs008

XXE = b"""<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE Document [<!ENTITY secret SYSTEM "file:///etc/passwd">]>"""
BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE Document [
 <!ENTITY lol "lol">
 <!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
 <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
 <!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
 <!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
 <!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
 <!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
]>"""


def _with_prolog(prolog: bytes, entity: bytes) -> bytes:
    """A valid pacs.008 behind ``prolog``, its debtor's name replaced by ``entity``."""
    body = codec.encode(pacs008()).split(b"?>", 1)[1]
    return prolog + body.replace(b"Alice Payer", entity)


def _unsafe(data: bytes) -> UnsafeXml:
    with pytest.raises(UnsafeXml) as caught:
        codec.decode(data)
    assert caught.value.code == "message_unsafe_xml"
    assert b"root:" not in caught.value.detail.encode()  # nothing of /etc/passwd
    return caught.value


def test_an_external_entity_reading_a_local_file_is_refused() -> None:
    _unsafe(_with_prolog(XXE, b"&secret;"))


def test_a_billion_laughs_entity_bomb_is_refused() -> None:
    _unsafe(_with_prolog(BILLION_LAUGHS, b"&lol9;"))


def test_an_external_dtd_is_refused_without_being_fetched() -> None:
    _unsafe(_with_prolog(b'<!DOCTYPE Document SYSTEM "http://127.0.0.1:9/evil.dtd">', b"A"))


def test_a_parameter_entity_reading_a_local_file_is_refused() -> None:
    prolog = b'<!DOCTYPE Document [<!ENTITY % p SYSTEM "file:///etc/passwd"> %p;]>'
    _unsafe(_with_prolog(prolog, b"A"))


def test_an_empty_internal_dtd_is_refused_too() -> None:
    _unsafe(_with_prolog(b"<!DOCTYPE Document>", b"Alice"))


def test_an_entity_reference_without_a_dtd_is_refused_as_unsafe() -> None:
    _unsafe(_with_prolog(b"", b"&secret;"))


def test_a_document_over_the_size_bound_is_refused_before_it_is_parsed() -> None:
    data = _with_prolog(b"", b"A" * DOCUMENT_BYTES_MAX)
    assert "at most" in _unsafe(data).detail


def test_the_five_predefined_entities_and_character_references_are_plain_text() -> None:
    root = parse(b"<a>&lt;&amp;&gt;&quot;&apos;&#65;</a>")
    assert root.text == "<&>\"'A"


def test_a_document_not_in_utf8_is_refused() -> None:
    data = '<?xml version="1.0" encoding="UTF-16"?><a/>'.encode("utf-16")
    with pytest.raises(SchemaInvalid, match="UTF-8"):
        parse(data)


def test_a_document_that_is_not_well_formed_is_refused_as_schema_invalid() -> None:
    for data in (b"", b"<a><b></a>", b"not xml", b"<a/><!DOCTYPE a>"):
        with pytest.raises(SchemaInvalid):
            parse(data)


@pytest.mark.parametrize("attack", [
    _with_prolog(XXE, b"&secret;"), _with_prolog(BILLION_LAUGHS, b"&lol9;"),
    _with_prolog(b'<!DOCTYPE Document SYSTEM "file:///etc/passwd">', b"A")])
def test_lxml_alone_refuses_every_dtd_should_the_prolog_check_be_bypassed(
        attack: bytes, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(safe, "_refuse_dtd", lambda data: None)
    with pytest.raises(UnsafeXml) as caught:
        codec.decode(attack)
    assert b"root:" not in caught.value.detail.encode()


def test_the_lxml_parser_reads_no_external_dtd(tmp_path: Path) -> None:
    dtd = tmp_path / "evil.dtd"
    dtd.write_text('<!ENTITY secret "read">')
    data = f'<!DOCTYPE a SYSTEM "{dtd.as_uri()}"><a>&secret;</a>'.encode()
    root = etree.fromstring(data, safe._lxml_parser())
    assert root.getroottree().docinfo.externalDTD is None
    assert "read" not in etree.tostring(root).decode()
