"""The pieces every clearing message shares: agents, parties, amounts, group headers and
long texts, written as data for ``tree.build`` and read back with a ``tree.Reader``."""

from __future__ import annotations

import enum
import re
from typing import Any, TypeVar

from lxml import etree

from ...domain.clearing.messages import Header
from ...domain.money import Money
from .errors import SchemaInvalid
from .tree import Reader
from .values import amount_minor, amount_text, datetime_ns, datetime_text

SETTLEMENT_METHOD = "CLRG"  # settled through the clearing system: the hub
CHARGE_BEARER = "SLEV"  # charges follow the scheme's service level
ADDITIONAL_CHARS_MAX = 105  # Max105Text: a longer text is cut into several AddtlInf
E = TypeVar("E", bound=enum.Enum)
UUID_V4 = re.compile(r"[a-f0-9]{8}-[a-f0-9]{4}-4[a-f0-9]{3}-[89ab][a-f0-9]{3}-[a-f0-9]{12}")


def agent(bic: str) -> dict[str, Any]:
    return {"FinInstnId": {"BICFI": bic}}


def read_agent(reader: Reader, element: etree._Element, steps: str) -> str:
    return reader.text(element, f"{steps}/FinInstnId/BICFI")


def amount(money: Money) -> dict[str, Any]:
    return {"@Ccy": money.currency, "$": amount_text(money.amount_minor, money.currency)}


def read_amount(reader: Reader, element: etree._Element, steps: str) -> Money:
    found = reader.one(element, steps)
    currency = found.get("Ccy") or ""
    return Money(amount_minor(found.text or "", currency), currency)


def account(iban: str) -> dict[str, Any]:
    return {"Id": {"IBAN": iban}}


def optional(**fields: str) -> dict[str, str]:
    """The fields that are not empty: ISO 20022 texts are at least one character, so an
    empty value is an absent element (and reads back as ``""``)."""
    return {name: value for name, value in fields.items() if value}


def group_header(header: Header, *, transactions: int | None) -> dict[str, Any]:
    """``GrpHdr``: pacs.008/009/004 count their transactions and settle CLRG; pacs.002
    (``transactions`` None) has neither."""
    fields: dict[str, Any] = {"MsgId": header.msg_id,
                              "CreDtTm": datetime_text(header.created_ns)}
    if transactions is not None:
        fields["NbOfTxs"] = str(transactions)
        fields["SttlmInf"] = {"SttlmMtd": SETTLEMENT_METHOD}
    fields["InstgAgt"] = agent(header.sender)
    fields["InstdAgt"] = agent(header.receiver)
    return fields


def read_group_header(reader: Reader, body: etree._Element) -> Header:
    return Header(msg_id=reader.text(body, "GrpHdr/MsgId"),
                  created_ns=datetime_ns(reader.text(body, "GrpHdr/CreDtTm")),
                  sender=read_agent(reader, body, "GrpHdr/InstgAgt"),
                  receiver=read_agent(reader, body, "GrpHdr/InstdAgt"))


def count_checked(reader: Reader, body: etree._Element, steps: str, found: int) -> None:
    """``NbOfTxs`` says how many transactions follow; a document that disagrees is refused
    (a truncated or padded batch is not read as another)."""
    if reader.text(body, steps) != str(found):
        raise SchemaInvalid(f"{steps} does not count the transactions")


def assignment(header: Header) -> dict[str, Any]:
    """camt.056 / camt.029 ``Assgnmt``: the case's message header."""
    return {"Id": header.msg_id, "Assgnr": {"Agt": agent(header.sender)},
            "Assgne": {"Agt": agent(header.receiver)},
            "CreDtTm": datetime_text(header.created_ns)}


def read_assignment(reader: Reader, body: etree._Element) -> Header:
    return Header(msg_id=reader.text(body, "Assgnmt/Id"),
                  created_ns=datetime_ns(reader.text(body, "Assgnmt/CreDtTm")),
                  sender=read_agent(reader, body, "Assgnmt/Assgnr/Agt"),
                  receiver=read_agent(reader, body, "Assgnmt/Assgne/Agt"))


def chunks(text: str) -> list[str]:
    return [text[i:i + ADDITIONAL_CHARS_MAX] for i in range(0, len(text),
                                                             ADDITIONAL_CHARS_MAX)]


def joined(reader: Reader, element: etree._Element, steps: str) -> str:
    return "".join(found.text or "" for found in reader.all(element, steps))


def member(kind: type[E], text: str, *, what: str) -> E:
    """``kind(text)``, or ``SchemaInvalid`` naming ``what`` (never the hostile text)."""
    try:
        return kind(text)
    except ValueError:
        raise SchemaInvalid(f"{what} is not a code the network uses") from None
