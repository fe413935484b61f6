"""camt.056 and camt.029 (a recall and its answer), camt.053 and camt.054 (a settlement
account's statement and one booking's notification).

camt.056.001.09 (FIToFIPmtCxlReq):
    Assgnmt         Id (msg id), Assgnr/Agt (sender), Assgne/Agt (receiver), CreDtTm
    Undrlyg/TxInf   per ``Recall``: Case (Id = case id, Cretr/Agt = the sender),
                    OrgnlGrpInf (OrgnlMsgId, OrgnlMsgNmId pacs.008.001.09),
                    OrgnlEndToEndId, OrgnlUETR, OrgnlIntrBkSttlmAmt, CxlRsnInf/Rsn/Cd
camt.029.001.10 (RsltnOfInvstgtn):
    Assgnmt         as camt.056
    Sts/Conf        CNCL (every answer accepts), RJCR (none does), PECR (some do)
    CxlDtls/TxInfAndSts  per ``RecallAnswer``: RslvdCase (Id = case id, Cretr/Agt = the
                    receiver, who opened it), OrgnlUETR, TxCxlSts ACCR or RJCR,
                    CxlStsRsnInf/Rsn/Cd (the reason, when there is one)
camt.053.001.08 (BkToCstmrStmt/Stmt) and camt.054.001.08 (BkToCstmrDbtCdtNtfctn/Ntfctn):
    GrpHdr          MsgId, CreDtTm, MsgRcpt/Id/OrgId/AnyBIC (the receiver)
    Id, FrToDt      the statement id; from and to (date-times)
    Acct            Id/Othr/Id (the participant's BIC: its settlement account), Ccy,
                    Svcr/FinInstnId/BICFI (the sender: the hub that keeps the account)
    Bal             camt.053 only: OPBD at FrDtTm and CLBD at ToDtTm, a negative balance
                    as its magnitude and DBIT (camt.054 has none: both are 0)
    Ntry            per ``Entry``: Amt, CdtDbtInd, Sts/Cd BOOK, BookgDt/DtTm,
                    BkTxCd/Prtry (CLEARING, issuer PayWarden), AddtlNtryInf (the info);
                    the reference as NtryDtls/TxDtls/Refs/UETR when it is a UETR, else
                    as NtryRef
"""

from __future__ import annotations

from typing import Any

from lxml import etree

from ...domain.clearing.messages import (
    Camt029,
    Camt056,
    Entry,
    Header,
    MessageType,
    Recall,
    RecallAnswer,
    Statement,
)
from .errors import SchemaInvalid
from .parts import (
    UUID_V4,
    agent,
    amount,
    assignment,
    optional,
    read_agent,
    read_amount,
    read_assignment,
)
from .tree import Reader
from .values import amount_minor, amount_text, datetime_ns, datetime_text

RECALLED_TYPE = MessageType.PACS_008
ACCEPTED, REFUSED = "ACCR", "RJCR"  # camt.029 TxCxlSts
ALL_CANCELLED, PARTLY_CANCELLED = "CNCL", "PECR"  # camt.029 Sts/Conf (else RJCR)
CREDIT, DEBIT = "CRDT", "DBIT"
BOOKED = "BOOK"
OPENING, CLOSING = "OPBD", "CLBD"
TRANSACTION_CODE = {"Cd": "CLEARING", "Issr": "PayWarden"}
ROOTS = {MessageType.CAMT_053: ("BkToCstmrStmt", "Stmt"),
         MessageType.CAMT_054: ("BkToCstmrDbtCdtNtfctn", "Ntfctn")}


def _case(case_id: str, creator: str) -> dict[str, Any]:
    return {"Id": case_id, "Cretr": {"Agt": agent(creator)}}


def camt056(message: Camt056) -> dict[str, Any]:
    return {"FIToFIPmtCxlReq": {
        "Assgnmt": assignment(message.header),
        "Undrlyg": [{"TxInf": [_recall(r, message.header) for r in message.recalls]}]}}


def _recall(r: Recall, header: Header) -> dict[str, Any]:
    fields: dict[str, Any] = {
        "Case": _case(r.case_id, header.sender),
        "OrgnlGrpInf": {"OrgnlMsgId": r.original_msg_id,
                        "OrgnlMsgNmId": RECALLED_TYPE.value},
        **optional(OrgnlEndToEndId=r.original_end_to_end_id, OrgnlUETR=r.original_uetr),
        "OrgnlIntrBkSttlmAmt": amount(r.amount)}
    if r.reason:
        fields["CxlRsnInf"] = [{"Rsn": {"Cd": r.reason}}]
    return fields


def read_camt056(r: Reader, root: etree._Element) -> Camt056:
    body = r.one(root, "FIToFIPmtCxlReq")
    recalls = tuple(Recall(
        case_id=r.text(tx, "Case/Id"), original_msg_id=r.text(tx, "OrgnlGrpInf/OrgnlMsgId"),
        original_uetr=r.optional(tx, "OrgnlUETR"),
        original_end_to_end_id=r.optional(tx, "OrgnlEndToEndId"),
        amount=read_amount(r, tx, "OrgnlIntrBkSttlmAmt"),
        reason=r.optional(tx, "CxlRsnInf/Rsn/Cd")) for tx in r.all(body, "Undrlyg/TxInf"))
    return Camt056(header=read_assignment(r, body), recalls=recalls)


def camt029(message: Camt029) -> dict[str, Any]:
    accepted = sum(a.accepted for a in message.answers)
    conclusion = (ALL_CANCELLED if message.answers and accepted == len(message.answers)
                  else PARTLY_CANCELLED if accepted else REFUSED)
    body: dict[str, Any] = {"Assgnmt": assignment(message.header),
                            "Sts": {"Conf": conclusion}}
    if message.answers:
        body["CxlDtls"] = [{"TxInfAndSts": [_answer(a, message.header)
                                            for a in message.answers]}]
    return {"RsltnOfInvstgtn": body}


def _answer(a: RecallAnswer, header: Header) -> dict[str, Any]:
    fields: dict[str, Any] = {"RslvdCase": _case(a.case_id, header.receiver),
                              **optional(OrgnlUETR=a.original_uetr),
                              "TxCxlSts": ACCEPTED if a.accepted else REFUSED}
    if a.reason:
        fields["CxlStsRsnInf"] = [{"Rsn": {"Cd": a.reason}}]
    return fields


def read_camt029(r: Reader, root: etree._Element) -> Camt029:
    body = r.one(root, "RsltnOfInvstgtn")
    answers = []
    for tx in r.all(body, "CxlDtls/TxInfAndSts"):
        state = r.text(tx, "TxCxlSts")
        if state not in (ACCEPTED, REFUSED):
            raise SchemaInvalid(f"a recall's answer is {ACCEPTED} or {REFUSED}")
        answers.append(RecallAnswer(
            case_id=r.text(tx, "RslvdCase/Id"), original_uetr=r.optional(tx, "OrgnlUETR"),
            accepted=state == ACCEPTED, reason=r.optional(tx, "CxlStsRsnInf/Rsn/Cd")))
    return Camt029(header=read_assignment(r, body), answers=tuple(answers))


def statement(message: Statement) -> dict[str, Any]:
    if message.kind not in ROOTS:
        raise SchemaInvalid("a statement is a camt.053 or a camt.054")
    root, part = ROOTS[message.kind]
    header = message.header
    report: dict[str, Any] = {
        "Id": message.statement_id,
        "FrToDt": {"FrDtTm": datetime_text(message.from_ns),
                   "ToDtTm": datetime_text(message.to_ns)},
        "Acct": {"Id": {"Othr": {"Id": message.account}}, "Ccy": message.currency,
                 "Svcr": agent(header.sender)}}
    if message.kind == MessageType.CAMT_053:
        report["Bal"] = [_balance(OPENING, message.opening_minor, message, message.from_ns),
                         _balance(CLOSING, message.closing_minor, message, message.to_ns)]
    elif message.opening_minor or message.closing_minor:
        raise SchemaInvalid("a camt.054 carries no balances")
    if message.entries:
        report["Ntry"] = [_entry(e) for e in message.entries]
    return {root: {"GrpHdr": {"MsgId": header.msg_id,
                              "CreDtTm": datetime_text(header.created_ns),
                              "MsgRcpt": {"Id": {"OrgId": {"AnyBIC": header.receiver}}}},
                   part: [report]}}


def _balance(code: str, balance_minor: int, s: Statement, at_ns: int) -> dict[str, Any]:
    return {"Tp": {"CdOrPrtry": {"Cd": code}},
            "Amt": {"@Ccy": s.currency, "$": amount_text(abs(balance_minor), s.currency)},
            "CdtDbtInd": CREDIT if balance_minor >= 0 else DEBIT,
            "Dt": {"DtTm": datetime_text(at_ns)}}


def _entry(e: Entry) -> dict[str, Any]:
    uetr = UUID_V4.fullmatch(e.reference) is not None
    fields: dict[str, Any] = {
        **optional(NtryRef="" if uetr else e.reference), "Amt": amount(e.amount),
        "CdtDbtInd": CREDIT if e.credit else DEBIT, "Sts": {"Cd": BOOKED},
        "BookgDt": {"DtTm": datetime_text(e.booked_ns)}, "BkTxCd": {"Prtry": TRANSACTION_CODE}}
    if uetr:
        fields["NtryDtls"] = [{"TxDtls": [{"Refs": {"UETR": e.reference}}]}]
    fields.update(optional(AddtlNtryInf=e.info))
    return fields


def read_statement(r: Reader, root: etree._Element, kind: MessageType) -> Statement:
    name, part = ROOTS[kind]
    body = r.one(root, name)
    reports = r.all(body, part)
    if len(reports) != 1:
        raise SchemaInvalid(f"a {kind.family} reports one account")
    report = reports[0]
    currency = r.text(report, "Acct/Ccy")
    found = [(r.text(b, "Tp/CdOrPrtry/Cd"), _read_balance(r, b, currency))
             for b in r.all(report, "Bal")]
    balances = dict(found)
    if kind == MessageType.CAMT_053 and sorted(code for code, _ in found) != [CLOSING, OPENING]:
        raise SchemaInvalid(f"a statement has one {OPENING} and one {CLOSING} balance")
    header = Header(msg_id=r.text(body, "GrpHdr/MsgId"),
                    created_ns=datetime_ns(r.text(body, "GrpHdr/CreDtTm")),
                    sender=read_agent(r, report, "Acct/Svcr"),
                    receiver=r.text(body, "GrpHdr/MsgRcpt/Id/OrgId/AnyBIC"))
    return Statement(
        header=header, statement_id=r.text(report, "Id"), kind=kind,
        account=r.text(report, "Acct/Id/Othr/Id"), currency=currency,
        opening_minor=balances.get(OPENING, 0), closing_minor=balances.get(CLOSING, 0),
        from_ns=datetime_ns(r.text(report, "FrToDt/FrDtTm")),
        to_ns=datetime_ns(r.text(report, "FrToDt/ToDtTm")),
        entries=tuple(_read_entry(r, e) for e in r.all(report, "Ntry")))


def _read_balance(r: Reader, balance: etree._Element, currency: str) -> int:
    found = r.one(balance, "Amt")
    if found.get("Ccy") != currency:
        raise SchemaInvalid("a balance is in its account's currency")
    magnitude = amount_minor(found.text or "", currency)
    return -magnitude if r.text(balance, "CdtDbtInd") == DEBIT else magnitude


def _read_entry(r: Reader, entry: etree._Element) -> Entry:
    reference = r.optional(entry, "NtryDtls/TxDtls/Refs/UETR") or r.optional(entry, "NtryRef")
    return Entry(reference=reference, amount=read_amount(r, entry, "Amt"),
                 credit=r.text(entry, "CdtDbtInd") == CREDIT,
                 booked_ns=datetime_ns(r.text(entry, "BookgDt/DtTm")),
                 info=r.optional(entry, "AddtlNtryInf"))
