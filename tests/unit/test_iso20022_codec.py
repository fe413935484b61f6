"""The clearing codec: every message value to schema-valid ISO 20022 XML and back, exactly,
and every document outside the schema (or outside what the network carries) refused."""

from __future__ import annotations

from pathlib import Path
from typing import Any
from xml.etree import ElementTree

import pytest
import xmlschema
from hypothesis import HealthCheck, given, settings
from lxml import etree

from paywarden.adapters.iso20022 import codec, namespace, schema
from paywarden.adapters.iso20022.errors import SchemaInvalid
from paywarden.adapters.iso20022.values import (
    amount_minor,
    amount_text,
    datetime_ns,
    datetime_text,
)
from paywarden.domain.clearing.messages import (
    Message,
    Pacs008,
    Party,
    Statement,
)
from paywarden.domain.money import Money
from tests.support.clearing_messages import AT_NS, MESSAGES, pacs008, samples, transfer

SHARED = Path(__file__).parents[3] / "shared" / "iso20022"
ROUND_TRIPS = settings(max_examples=60, deadline=None,
                       suppress_health_check=[HealthCheck.too_slow])


@pytest.mark.parametrize("name", sorted(MESSAGES))
def test_every_message_type_comes_back_exactly_as_it_was_encoded(name: str) -> None:
    @ROUND_TRIPS
    @given(MESSAGES[name])
    def round_trip(message: Message) -> None:
        assert codec.decode(codec.encode(message)) == message

    round_trip()


@pytest.mark.parametrize("name", sorted(samples()))
def test_every_encoded_sample_is_valid_against_the_official_schema(name: str) -> None:
    if not SHARED.exists():
        pytest.skip("no ../shared/iso20022 beside this checkout")
    message = samples()[name]
    kind = codec.message_type(codec.encode(message))
    official = etree.XMLSchema(etree.parse(str(SHARED / f"{kind.value}.xsd")))
    assert official.validate(etree.fromstring(codec.encode(message))), official.error_log
    xmlschema.XMLSchema10(str(SHARED / f"{kind.value}.xsd")).validate(codec.encode(message))


@pytest.mark.parametrize("name", sorted(samples()))
def test_xmlschema_encodes_the_same_data_into_the_same_document(name: str) -> None:
    kind, data = codec.document(samples()[name])
    ns = namespace(kind.value)
    element = schema(kind.value).encode({"@xmlns": ns, **data}, path=f"{{{ns}}}Document",
                                        namespaces={"": ns}, validation="strict")
    assert isinstance(element, ElementTree.Element)
    theirs = xmlschema.etree_tostring(element, namespaces={"": ns})
    assert isinstance(theirs, str)
    assert _canonical(theirs.encode()) == _canonical(codec.encode(samples()[name]))


def _canonical(data: bytes) -> bytes:
    """The document without the blanks between elements (xmlschema indents), its
    prefixes renamed in order (a SplmtryData envelope's element is of a namespace the
    two writers name differently)."""
    parser = etree.XMLParser(remove_blank_text=True, resolve_entities=False, no_network=True)
    tidy = etree.tostring(etree.fromstring(data, parser)).decode()
    canonical: bytes = etree.canonicalize(tidy, rewrite_prefixes=True).encode()
    return canonical


@pytest.mark.parametrize("name", sorted(samples()))
def test_the_message_type_is_read_from_the_root_namespace(name: str) -> None:
    message = samples()[name]
    expected = message.kind if isinstance(message, Statement) else codec.document(message)[0]
    assert codec.message_type(codec.encode(message)) == expected
    assert expected.value.startswith(name.split("/")[0][:8])


def test_a_hundred_transactions_travel_in_one_pacs008() -> None:
    message = pacs008(100)
    assert codec.decode(codec.encode(message)) == message


# -- amounts and times -----------------------------------------------------------------


@pytest.mark.parametrize(("minor", "currency", "text"), [
    (1999, "EUR", "19.99"), (5, "EUR", "0.05"), (0, "EUR", "0.00"), (500, "JPY", "500"),
    (1234, "BHD", "1.234"), (10**15, "EUR", "10000000000000.00")])
def test_amounts_are_written_with_the_currency_exponent_and_read_back(
        minor: int, currency: str, text: str) -> None:
    assert amount_text(minor, currency) == text
    assert amount_minor(text, currency) == minor


def test_an_amount_read_with_fewer_or_trailing_decimals_is_the_same_minor_units() -> None:
    assert amount_minor("12.3", "EUR") == 1230
    assert amount_minor("12.300", "EUR") == 1230
    assert amount_minor("12", "EUR") == 1200
    assert amount_minor("+.5", "EUR") == 50


def test_an_amount_with_more_decimals_than_its_currency_is_refused() -> None:
    with pytest.raises(SchemaInvalid, match="at most 2 decimals"):
        amount_minor("12.345", "EUR")
    with pytest.raises(SchemaInvalid, match="at most 0 decimals"):
        amount_minor("1.5", "JPY")


def test_times_are_floored_to_the_millisecond_and_read_back_in_utc() -> None:
    assert datetime_text(AT_NS + 999_999) == "2026-11-30T12:00:00.123Z"
    assert datetime_ns("2026-11-30T12:00:00.123Z") == AT_NS
    assert datetime_ns("2026-11-30T14:00:00.123+02:00") == AT_NS
    assert datetime_ns("2026-11-30T12:00:00.123456789Z") == AT_NS + 456_789


def test_a_time_without_a_zone_is_refused_because_it_names_no_instant() -> None:
    with pytest.raises(SchemaInvalid, match="zone"):
        datetime_ns("2026-11-30T12:00:00.123")


# -- refused documents -----------------------------------------------------------------


def _refused(data: bytes, match: str | None = None) -> SchemaInvalid:
    with pytest.raises(SchemaInvalid, match=match) as caught:
        codec.decode(data)
    assert caught.value.code == "message_schema_invalid"
    return caught.value


def test_a_document_missing_a_required_element_is_refused() -> None:
    data = codec.encode(pacs008()).replace(b"<EndToEndId>E2E-0</EndToEndId>", b"")
    refused = _refused(data, "not a valid pacs.008.001.09 document")
    assert "E2E" not in refused.detail


def test_an_amount_that_is_not_a_decimal_is_refused() -> None:
    _refused(codec.encode(pacs008()).replace(b">12.34<", b">12,34<"), "not a valid")


def test_a_negative_amount_is_refused() -> None:
    _refused(codec.encode(pacs008()).replace(b">12.34<", b">-12.34<"), "not a valid")


def test_an_amount_finer_than_its_currency_is_refused_though_the_schema_allows_it() -> None:
    _refused(codec.encode(pacs008()).replace(b">12.34<", b">12.345<"), "at most 2 decimals")


def test_a_document_in_another_namespace_is_refused() -> None:
    data = codec.encode(pacs008()).replace(b"pacs.008.001.09", b"pacs.008.001.08")
    _refused(data, "not an ISO 20022 Document")
    with pytest.raises(SchemaInvalid):
        codec.message_type(data)


def test_a_pacs008_under_another_message_namespace_is_refused_by_that_schema() -> None:
    data = codec.encode(pacs008()).replace(b"pacs.008.001.09", b"pacs.009.001.09")
    _refused(data, "not a valid pacs.009.001.09 document")


def test_a_count_that_disagrees_with_the_transactions_is_refused() -> None:
    data = codec.encode(pacs008(2)).replace(b"<NbOfTxs>2</NbOfTxs>", b"<NbOfTxs>3</NbOfTxs>")
    _refused(data, "NbOfTxs does not count")


def test_a_schema_valid_bic_the_network_does_not_allow_is_refused_with_its_rule() -> None:
    data = codec.encode(pacs008()).replace(b"PAYEFRPPXXX", b"1AYEFRPPXXX")
    assert _refused(data).detail == "a value the network refuses (bic_invalid)"


def test_a_status_code_the_network_does_not_use_is_refused() -> None:
    data = codec.encode(samples()["pacs.002"]).replace(b"<TxSts>ACSC<", b"<TxSts>ACWC<")
    _refused(data, "TxSts is not a code")


def test_a_text_xml_cannot_carry_is_refused_when_encoding() -> None:
    t = transfer()
    bad = Pacs008(pacs008().header, (
        _replace(t, debtor=Party("Alice\x07", t.debtor.iban, t.debtor.agent)),))
    with pytest.raises(SchemaInvalid, match="character XML cannot carry"):
        codec.encode(bad)


def test_a_value_the_schema_refuses_is_not_encoded() -> None:
    t = transfer()
    bad = Pacs008(pacs008().header, (_replace(t, debtor=Party("Alice", "not an iban",
                                                                 t.debtor.agent)),))
    with pytest.raises(SchemaInvalid, match="not a valid pacs.008.001.09 document"):
        codec.encode(bad)
    nineteen_digits = Money(10**18 + 1, "EUR")  # the XSD's totalDigits is 18
    too_big = Pacs008(pacs008().header, (_replace(t, amount=nineteen_digits),))
    with pytest.raises(SchemaInvalid, match="not a valid pacs.008.001.09 document"):
        codec.encode(too_big)


def test_a_notification_with_balances_is_not_encoded() -> None:
    notification = samples()["camt.054"]
    assert isinstance(notification, Statement)
    with pytest.raises(SchemaInvalid, match="no balances"):
        codec.encode(_replace(notification, closing_minor=1))


def _replace(value: Any, **changes: Any) -> Any:
    return type(value)(**{**value.__dict__, **changes})


def test_many_threads_decoding_at_once_compile_and_validate_every_schema_safely() -> None:
    """libxml2 compiled two schemas at once into "not a valid XML Schema" under a server's
    concurrent requests; compiling and validating are serialised."""
    import threading

    from paywarden.adapters import iso20022
    from tests.support.clearing_messages import samples

    documents = [codec.encode(message) for message in samples().values()]
    iso20022._COMPILED.clear()  # every thread races to compile first
    failures: list[BaseException] = []
    start = threading.Barrier(8)

    def work() -> None:
        start.wait()
        try:
            for _ in range(5):
                for document in documents:
                    codec.decode(document)
        except BaseException as exc:  # noqa: BLE001 - collected for the assertion
            failures.append(exc)

    threads = [threading.Thread(target=work) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert failures == []


def test_a_cheque_rides_with_exactly_one_payment_of_a_presentment() -> None:
    """A cheque in a pain.001 of several payments, or two cheques, is not a presentment."""
    root = etree.fromstring(codec.encode(samples()["pain.001"]))  # three payments
    ns = namespace("pain.001.001.10")
    for tx in root.iter(f"{{{ns}}}CdtTrfTxInf"):
        extra = etree.SubElement(tx, f"{{{ns}}}SplmtryData")
        envelope = etree.SubElement(extra, f"{{{ns}}}Envlp")
        etree.SubElement(envelope, "{urn:paywarden:cheque:1}Chq").text = "a.b.c"
        break
    _refused(etree.tostring(root), match="one payment")
    one = etree.fromstring(codec.encode(samples()["pain.001 presentment"]))
    envelope = next(one.iter(f"{{{ns}}}Envlp"))
    etree.SubElement(envelope, "{urn:paywarden:cheque:1}Chq").text = "d.e.f"
    _refused(etree.tostring(one))  # the envelope takes one element: the schema refuses it
