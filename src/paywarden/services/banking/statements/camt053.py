"""The statement as ISO 20022 camt.053.001.08 (BankToCustomerStatementV08).

Built as a dict and encoded by ``xmlschema`` against the official schema shipped in
``adapters/iso20022``: the encoder refuses anything the schema does not allow, and the
encoded document is validated again before it leaves. No XML string is written by hand.

Where things go:

- ``Stmt/Bal``: OPBD (opening booked) and CLBD (closing booked); a negative balance is
  its magnitude with ``CdtDbtInd`` DBIT.
- ``Stmt/Ntry``: one per booked entry, ``Sts/Cd`` BOOK, ``BookgDt/DtTm``, the
  counterparty as ``Dbtr`` (money in) or ``Cdtr`` (money out), the reference as
  ``RmtInf/Ustrd``, the ledger transfer id in ``AddtlNtryInf`` (and ``NtryRef`` when it
  fits 35 characters). Text longer than a field's limit is cut to it.
- ``Stmt/AddtlStmtInf``: the seal's summary (tree size, root, leaf, digest), readable.
- ``BkToCstmrStmt/SplmtryData/Envlp``: the seal (JWS) as ``pw:Seal`` in
  ``urn:paywarden:statement-seal:1``, which the envelope's ``xs:any`` allows.

Reading a file (:func:`read_seal`, :func:`shows`) parses it with entity expansion and
remote access off (``defuse="always"``), validates it, and compares it as data with the
document the seal renders to.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from xml.etree import ElementTree

import xmlschema

from ....adapters.iso20022 import CAMT_053, namespace, schema
from ....domain.banking.statement import CREDIT, DEBIT, Entry, Statement
from .seal import Sealed
from .text import decimal, seal_summary

MEDIA_TYPE = "application/xml"
EXTENSION = "xml"
SEAL_NAMESPACE = "urn:paywarden:statement-seal:1"
_NS = namespace(CAMT_053)
_SEAL = f"{{{SEAL_NAMESPACE}}}Seal"
_ISSUER = "PayWarden"
FILE_BYTES_MAX = 64 * 1024 * 1024


def _cut(text: str, length_max: int) -> str:
    return text[:length_max]


def _iso(ns: int) -> str:
    seconds, rest = divmod(ns, 1_000_000_000)
    moment = datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%dT%H:%M:%S")
    return f"{moment}.{rest // 1000:06d}Z"


def _balance(code: str, amount_minor: int, currency: str, day: str) -> dict[str, Any]:
    return {"Tp": {"CdOrPrtry": {"Cd": code}},
            "Amt": {"@Ccy": currency, "$": decimal(abs(amount_minor), currency)},
            "CdtDbtInd": CREDIT if amount_minor >= 0 else DEBIT, "Dt": {"Dt": day}}


def _entry(e: Entry, currency: str) -> dict[str, Any]:
    details: dict[str, Any] = {"Refs": {"AcctSvcrRef": _cut(e.entry_id, 35)}}
    if e.counterparty:
        party = {"Pty": {"Nm": _cut(e.counterparty, 140)}}
        details["RltdPties"] = {"Dbtr": party} if e.amount_minor > 0 else {"Cdtr": party}
    if e.reference:
        details["RmtInf"] = {"Ustrd": [_cut(e.reference, 140)]}
    entry: dict[str, Any] = {}
    if len(e.entry_id) <= 35:
        entry["NtryRef"] = e.entry_id
    entry.update({"Amt": {"@Ccy": currency, "$": decimal(e.magnitude_minor, currency)},
                  "CdtDbtInd": e.indicator, "Sts": {"Cd": "BOOK"},
                  "BookgDt": {"DtTm": _iso(e.booked_at_ns)},
                  "BkTxCd": {"Prtry": {"Cd": "TRANSFER", "Issr": _ISSUER}},
                  "NtryDtls": [{"TxDtls": [details]}],
                  "AddtlNtryInf": _cut(f"ledger transfer {e.entry_id}", 500)})
    return entry


def document(sealed: Sealed) -> dict[str, Any]:
    s: Statement = sealed.statement
    summary = " ".join(f"{k}={v}" for k, v in seal_summary(sealed))
    credits = [e for e in s.entries if e.amount_minor > 0]
    debits = [e for e in s.entries if e.amount_minor < 0]
    statement: dict[str, Any] = {
        "Id": s.statement_id, "CreDtTm": _iso(s.generated_at_ns),
        "FrToDt": {"FrDtTm": f"{s.period_from.isoformat()}T00:00:00Z",
                   "ToDtTm": f"{s.period_to.isoformat()}T23:59:59Z"},
        "Acct": {"Id": {"IBAN": s.iban}, "Ccy": s.currency, "Nm": _cut(s.product, 70),
                 "Ownr": {"Nm": _cut(s.owner_name, 140)}},
        "Bal": [_balance("OPBD", s.opening_balance_minor, s.currency, s.period_from.isoformat()),
                _balance("CLBD", s.closing_balance_minor, s.currency, s.period_to.isoformat())],
        "TxsSummry": {
            "TtlNtries": {"NbOfNtries": str(len(s.entries))},
            "TtlCdtNtries": {"NbOfNtries": str(len(credits)),
                             "Sum": decimal(s.credits_minor, s.currency)},
            "TtlDbtNtries": {"NbOfNtries": str(len(debits)),
                             "Sum": decimal(s.debits_minor, s.currency)}},
    }
    if s.entries:  # an empty list would encode as one empty, invalid <Ntry/>
        statement["Ntry"] = [_entry(e, s.currency) for e in s.entries]
    statement["AddtlStmtInf"] = _cut(summary, 500)
    return {"@xmlns": _NS, "BkToCstmrStmt": {
        "GrpHdr": {"MsgId": s.statement_id, "CreDtTm": _iso(s.generated_at_ns)},
        "Stmt": [statement],
        "SplmtryData": [{"PlcAndNm": "/Document/BkToCstmrStmt/Stmt",
                         "Envlp": {_SEAL: sealed.jws}}]}}


def render(sealed: Sealed) -> bytes:
    xsd = schema(CAMT_053)
    element = xsd.encode(document(sealed), path=f"{{{_NS}}}Document",
                         namespaces={"": _NS, "pw": SEAL_NAMESPACE}, validation="strict")
    if not isinstance(element, ElementTree.Element):
        raise TypeError(f"xmlschema encoded a {type(element).__name__}, not an element")
    body = xmlschema.etree_tostring(element, namespaces={"": _NS, "pw": SEAL_NAMESPACE})
    if not isinstance(body, str):
        raise TypeError("xmlschema returned bytes for a str serialisation")
    xsd.validate(body)
    return b'<?xml version="1.0" encoding="UTF-8"?>\n' + body.encode("utf-8")


def _decoded(data: bytes) -> dict[str, Any]:
    if len(data) > FILE_BYTES_MAX:
        raise ValueError(f"the XML is larger than {FILE_BYTES_MAX} bytes")
    try:
        resource = xmlschema.XMLResource(data.decode("utf-8"), defuse="always")
        found = schema(CAMT_053).to_dict(resource, validation="strict",
                                         namespaces={"": _NS, "pw": SEAL_NAMESPACE})
    except (xmlschema.XMLSchemaException, ElementTree.ParseError, UnicodeDecodeError) as exc:
        raise ValueError(f"not a valid camt.053.001.08 document: {type(exc).__name__}") from None
    if isinstance(found, dict):
        return found
    raise ValueError("not a camt.053.001.08 document")


def read_seal(data: bytes) -> str:
    found = _decoded(data)
    try:
        seal = found["BkToCstmrStmt"]["SplmtryData"][0]["Envlp"]["pw:Seal"]
    except (KeyError, IndexError, TypeError):
        raise ValueError("the document carries no PayWarden seal") from None
    if isinstance(seal, str):
        return seal
    raise ValueError("the seal is not text")


def shows(data: bytes, sealed: Sealed) -> bool:
    """The document says, field for field, what the seal renders to."""
    return _decoded(data) == _decoded(render(sealed))
