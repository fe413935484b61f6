"""pacs.008, pacs.002, pacs.009 and pacs.004: what the banks and hubs say to each other.

pacs.008.001.09 (FIToFICstmrCdtTrf), one ``CdtTrfTxInf`` per ``CreditTransfer``:
    GrpHdr          MsgId, CreDtTm, NbOfTxs, SttlmInf/SttlmMtd CLRG, InstgAgt (sender),
                    InstdAgt (receiver): BICFI
    PmtId           EndToEndId, TxId, UETR (each left out when empty)
    PmtTpInf        ClrChanl: RTGS or MPNS (``Channel``)
    IntrBkSttlmAmt  the amount, Ccy; decimals the currency's exponent
    IntrBkSttlmDt   the deadline's UTC date, and SttlmTmReq/RjctTm its time (ms, Z)
    ChrgBr          SLEV
    Dbtr/Nm, DbtrAcct/Id/IBAN, DbtrAgt BICFI, CdtrAgt BICFI, Cdtr/Nm, CdtrAcct/Id/IBAN
    RmtInf/Ustrd    the remittance text (when there is one)
pacs.002.001.11 (FIToFIPmtStsRpt):
    GrpHdr          MsgId, CreDtTm, InstgAgt, InstdAgt
    OrgnlGrpInfAndSts  OrgnlMsgId, OrgnlMsgNmId (e.g. pacs.008.001.09)
    TxInfAndSts     OrgnlEndToEndId, OrgnlTxId, OrgnlUETR, TxSts, and StsRsnInf with
                    Rsn/Cd (the ``Reason``) and AddtlInf (the detail, in 105-char parts)
pacs.009.001.09 (FICdtTrf): GrpHdr as pacs.008; per ``BankTransfer`` PmtId (InstrId,
    EndToEndId, UETR), IntrBkSttlmAmt, Dbtr (debtor agent), Cdtr (creditor agent).
pacs.004.001.10 (PmtRtr): GrpHdr as pacs.008; per ``Return`` TxInf with RtrId,
    OrgnlGrpInf (OrgnlMsgId, OrgnlMsgNmId pacs.008.001.09), OrgnlEndToEndId, OrgnlUETR,
    RtrdIntrBkSttlmAmt, RtrRsnInf/Rsn/Cd.
"""

from __future__ import annotations

from typing import Any

from lxml import etree

from ...domain.clearing.messages import (
    BankTransfer,
    Channel,
    CreditTransfer,
    MessageType,
    Pacs002,
    Pacs004,
    Pacs008,
    Pacs009,
    Party,
    Reason,
    Return,
    Status,
    TxStatus,
)
from .parts import (
    CHARGE_BEARER,
    account,
    agent,
    amount,
    chunks,
    count_checked,
    group_header,
    joined,
    member,
    optional,
    read_agent,
    read_amount,
    read_group_header,
)
from .tree import Reader
from .values import date_and_time, datetime_ns

RETURNED_TYPE = MessageType.PACS_008  # a pacs.004 returns a customer credit transfer


def pacs008(message: Pacs008) -> dict[str, Any]:
    return {"FIToFICstmrCdtTrf": {
        "GrpHdr": group_header(message.header, transactions=len(message.transfers)),
        "CdtTrfTxInf": [_credit_transfer(t) for t in message.transfers]}}


def _credit_transfer(t: CreditTransfer) -> dict[str, Any]:
    day, moment = date_and_time(t.deadline_ns)
    fields: dict[str, Any] = {
        "PmtId": {"EndToEndId": t.end_to_end_id, **optional(TxId=t.tx_id, UETR=t.uetr)},
        "PmtTpInf": {"ClrChanl": t.channel.value},
        "IntrBkSttlmAmt": amount(t.amount), "IntrBkSttlmDt": day,
        "SttlmTmReq": {"RjctTm": moment}, "ChrgBr": CHARGE_BEARER,
        "Dbtr": {"Nm": t.debtor.name}}
    if t.debtor.iban:
        fields["DbtrAcct"] = account(t.debtor.iban)
    fields["DbtrAgt"] = agent(t.debtor.agent)
    fields["CdtrAgt"] = agent(t.creditor.agent)
    fields["Cdtr"] = {"Nm": t.creditor.name}
    if t.creditor.iban:
        fields["CdtrAcct"] = account(t.creditor.iban)
    if t.remittance:
        fields["RmtInf"] = {"Ustrd": [t.remittance]}
    return fields


def read_pacs008(r: Reader, root: etree._Element) -> Pacs008:
    body = r.one(root, "FIToFICstmrCdtTrf")
    transfers = tuple(_read_credit_transfer(r, tx) for tx in r.all(body, "CdtTrfTxInf"))
    count_checked(r, body, "GrpHdr/NbOfTxs", len(transfers))
    return Pacs008(header=read_group_header(r, body), transfers=transfers)


def _read_credit_transfer(r: Reader, tx: etree._Element) -> CreditTransfer:
    deadline = f"{r.text(tx, 'IntrBkSttlmDt')}T{r.text(tx, 'SttlmTmReq/RjctTm')}"
    return CreditTransfer(
        uetr=r.optional(tx, "PmtId/UETR"), end_to_end_id=r.text(tx, "PmtId/EndToEndId"),
        tx_id=r.optional(tx, "PmtId/TxId"), amount=read_amount(r, tx, "IntrBkSttlmAmt"),
        debtor=Party(name=r.text(tx, "Dbtr/Nm"), iban=r.optional(tx, "DbtrAcct/Id/IBAN"),
                     agent=read_agent(r, tx, "DbtrAgt")),
        creditor=Party(name=r.text(tx, "Cdtr/Nm"), iban=r.optional(tx, "CdtrAcct/Id/IBAN"),
                       agent=read_agent(r, tx, "CdtrAgt")),
        deadline_ns=datetime_ns(deadline), channel=member(Channel, r.text(tx, "PmtTpInf/ClrChanl"),
                                                     what="ClrChanl"),
        remittance=joined(r, tx, "RmtInf/Ustrd"))


def pacs002(message: Pacs002) -> dict[str, Any]:
    report: dict[str, Any] = {
        "GrpHdr": group_header(message.header, transactions=None),
        "OrgnlGrpInfAndSts": [{"OrgnlMsgId": message.original_msg_id,
                               "OrgnlMsgNmId": message.original_type.value}]}
    if message.statuses:
        report["TxInfAndSts"] = [_status(s) for s in message.statuses]
    return {"FIToFIPmtStsRpt": report}


def _status(s: TxStatus) -> dict[str, Any]:
    fields: dict[str, Any] = {**optional(OrgnlEndToEndId=s.end_to_end_id, OrgnlTxId=s.tx_id,
                                         OrgnlUETR=s.uetr), "TxSts": s.status.value}
    why: dict[str, Any] = {}
    if s.reason is not None:
        why["Rsn"] = {"Cd": s.reason.value}
    if s.detail:
        why["AddtlInf"] = chunks(s.detail)
    if why:
        fields["StsRsnInf"] = [why]
    return fields


def read_pacs002(r: Reader, root: etree._Element) -> Pacs002:
    body = r.one(root, "FIToFIPmtStsRpt")
    statuses = []
    for tx in r.all(body, "TxInfAndSts"):
        code = r.optional(tx, "StsRsnInf/Rsn/Cd")
        statuses.append(TxStatus(
            uetr=r.optional(tx, "OrgnlUETR"), end_to_end_id=r.optional(tx, "OrgnlEndToEndId"),
            tx_id=r.optional(tx, "OrgnlTxId"),
            status=member(Status, r.text(tx, "TxSts"), what="TxSts"),
            reason=member(Reason, code, what="StsRsnInf/Rsn/Cd") if code else None,
            detail=joined(r, tx, "StsRsnInf/AddtlInf")))
    return Pacs002(header=read_group_header(r, body),
                   original_msg_id=r.text(body, "OrgnlGrpInfAndSts/OrgnlMsgId"),
                   original_type=member(MessageType,
                                        r.text(body, "OrgnlGrpInfAndSts/OrgnlMsgNmId"),
                                        what="OrgnlMsgNmId"),
                   statuses=tuple(statuses))


def pacs009(message: Pacs009) -> dict[str, Any]:
    return {"FICdtTrf": {
        "GrpHdr": group_header(message.header, transactions=len(message.transfers)),
        "CdtTrfTxInf": [{
            "PmtId": {**optional(InstrId=t.instr_id), "EndToEndId": t.end_to_end_id,
                      **optional(UETR=t.uetr)},
            "IntrBkSttlmAmt": amount(t.amount), "Dbtr": agent(t.debtor_agent),
            "Cdtr": agent(t.creditor_agent)} for t in message.transfers]}}


def read_pacs009(r: Reader, root: etree._Element) -> Pacs009:
    body = r.one(root, "FICdtTrf")
    transfers = tuple(BankTransfer(
        instr_id=r.optional(tx, "PmtId/InstrId"), end_to_end_id=r.text(tx, "PmtId/EndToEndId"),
        uetr=r.optional(tx, "PmtId/UETR"), amount=read_amount(r, tx, "IntrBkSttlmAmt"),
        debtor_agent=read_agent(r, tx, "Dbtr"), creditor_agent=read_agent(r, tx, "Cdtr"))
        for tx in r.all(body, "CdtTrfTxInf"))
    count_checked(r, body, "GrpHdr/NbOfTxs", len(transfers))
    return Pacs009(header=read_group_header(r, body), transfers=transfers)


def pacs004(message: Pacs004) -> dict[str, Any]:
    body: dict[str, Any] = {
        "GrpHdr": group_header(message.header, transactions=len(message.returns))}
    if message.returns:
        body["TxInf"] = [_return(t) for t in message.returns]
    return {"PmtRtr": body}


def _return(t: Return) -> dict[str, Any]:
    return {"RtrId": t.return_id,
            "OrgnlGrpInf": {"OrgnlMsgId": t.original_msg_id,
                            "OrgnlMsgNmId": RETURNED_TYPE.value},
            **optional(OrgnlEndToEndId=t.original_end_to_end_id, OrgnlUETR=t.original_uetr),
            "RtrdIntrBkSttlmAmt": amount(t.amount),
            "RtrRsnInf": [{"Rsn": {"Cd": t.reason}}]}


def read_pacs004(r: Reader, root: etree._Element) -> Pacs004:
    body = r.one(root, "PmtRtr")
    returns = tuple(Return(
        return_id=r.text(tx, "RtrId"), original_msg_id=r.text(tx, "OrgnlGrpInf/OrgnlMsgId"),
        original_uetr=r.optional(tx, "OrgnlUETR"),
        original_end_to_end_id=r.optional(tx, "OrgnlEndToEndId"),
        amount=read_amount(r, tx, "RtrdIntrBkSttlmAmt"), reason=r.text(tx, "RtrRsnInf/Rsn/Cd"))
        for tx in r.all(body, "TxInf"))
    count_checked(r, body, "GrpHdr/NbOfTxs", len(returns))
    return Pacs004(header=read_group_header(r, body), returns=returns)
