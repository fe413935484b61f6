"""pain.001.001.10 (CstmrCdtTrfInitn): a customer's payment order to its own bank.

    GrpHdr          MsgId, CreDtTm, NbOfTxs, InitgPty/Nm (the initiator)
    PmtInf          one per run of consecutive payments with the same deadline (the
                    schema has one requested date per PmtInf; order is kept): PmtInfId
                    (1, 2, …), PmtMtd TRF, NbOfTxs, ReqdExctnDt/DtTm (the deadline),
                    Dbtr/Nm, DbtrAcct/Id/IBAN, DbtrAgt/FinInstnId/BICFI
    CdtTrfTxInf     per payment: PmtId (InstrId = tx id, EndToEndId, UETR; each left out
                    when empty: the bank chooses the UETR), PmtTpInf/LclInstrm/Prtry (the
                    channel: pain.001 has no clearing channel), Amt/InstdAmt, CdtrAgt,
                    Cdtr/Nm, CdtrAcct/Id/IBAN, RmtInf/Ustrd

Every payment's debtor is the order's debtor: an order whose payments name another is
refused on the way out, and a document whose PmtInf name different debtors on the way in.

Between clearing nodes (a cheque's presentment, decision 0064) the group header also
names the hop: ``InitgPty/Id/OrgId/AnyBIC`` its sender, ``FwdgAgt`` its receiver; and
the one payment carries the drawer's signed cheque in ``SplmtryData/Envlp`` as a
``Chq`` element of namespace ``CHEQUE_NAMESPACE`` (the envelope takes any element).
"""

from __future__ import annotations

from itertools import groupby
from typing import Any

from lxml import etree

from ...domain.clearing.messages import Channel, CreditTransfer, Pain001, Party
from .errors import SchemaInvalid
from .parts import (
    account,
    agent,
    amount,
    count_checked,
    joined,
    member,
    optional,
    read_agent,
    read_amount,
)
from .tree import Reader
from .values import datetime_ns, datetime_text

PAYMENT_METHOD = "TRF"  # a credit transfer
CHEQUE_NAMESPACE = "urn:paywarden:cheque:1"
CHEQUE_PLACE = "PayWarden cheque"
_CHEQUE = f"{{{CHEQUE_NAMESPACE}}}Chq"


def pain001(message: Pain001) -> dict[str, Any]:
    if any(p.debtor != message.debtor for p in message.payments):
        raise SchemaInvalid("every payment of an order is from the order's debtor")
    runs = [list(run) for _, run in groupby(message.payments, key=lambda p: p.deadline_ns)]
    header: dict[str, Any] = {
        "MsgId": message.msg_id, "CreDtTm": datetime_text(message.created_ns),
        "NbOfTxs": str(len(message.payments)), "InitgPty": {"Nm": message.initiator}}
    if message.sender:
        header["InitgPty"]["Id"] = {"OrgId": {"AnyBIC": message.sender}}
        header["FwdgAgt"] = agent(message.receiver)
    instructions = [_instruction(str(n), run, message.debtor)
                    for n, run in enumerate(runs, start=1)]
    if message.cheque:
        instructions[0]["CdtTrfTxInf"][0]["SplmtryData"] = {
            "PlcAndNm": CHEQUE_PLACE, "Envlp": {_CHEQUE: message.cheque}}
    return {"CstmrCdtTrfInitn": {"GrpHdr": header, "PmtInf": instructions}}


def _instruction(instruction_id: str, run: list[CreditTransfer], debtor: Party
                 ) -> dict[str, Any]:
    fields: dict[str, Any] = {
        "PmtInfId": instruction_id, "PmtMtd": PAYMENT_METHOD, "NbOfTxs": str(len(run)),
        "ReqdExctnDt": {"DtTm": datetime_text(run[0].deadline_ns)},
        "Dbtr": {"Nm": debtor.name}, "DbtrAcct": account(debtor.iban),
        "DbtrAgt": agent(debtor.agent), "CdtTrfTxInf": [_payment(p) for p in run]}
    return fields


def _payment(p: CreditTransfer) -> dict[str, Any]:
    fields: dict[str, Any] = {
        "PmtId": {**optional(InstrId=p.tx_id), "EndToEndId": p.end_to_end_id,
                  **optional(UETR=p.uetr)},
        "PmtTpInf": {"LclInstrm": {"Prtry": p.channel.value}},
        "Amt": {"InstdAmt": amount(p.amount)}, "CdtrAgt": agent(p.creditor.agent),
        "Cdtr": {"Nm": p.creditor.name}}
    if p.creditor.iban:
        fields["CdtrAcct"] = account(p.creditor.iban)
    if p.remittance:
        fields["RmtInf"] = {"Ustrd": [p.remittance]}
    return fields


def read_pain001(r: Reader, root: etree._Element) -> Pain001:
    body = r.one(root, "CstmrCdtTrfInitn")
    debtors = {(r.text(i, "Dbtr/Nm"), r.text(i, "DbtrAcct/Id/IBAN"), read_agent(r, i, "DbtrAgt"))
               for i in r.all(body, "PmtInf")}
    if len(debtors) != 1:
        raise SchemaInvalid("a payment order is from one debtor")
    name, iban, bic = debtors.pop()
    debtor = Party(name=name, iban=iban, agent=bic)
    payments: list[CreditTransfer] = []
    for instruction in r.all(body, "PmtInf"):
        deadline_ns = datetime_ns(r.text(instruction, "ReqdExctnDt/DtTm"))
        run = r.all(instruction, "CdtTrfTxInf")
        count_checked(r, instruction, "NbOfTxs", len(run))
        payments.extend(_read_payment(r, tx, debtor, deadline_ns) for tx in run)
    count_checked(r, body, "GrpHdr/NbOfTxs", len(payments))
    cheques = [found.text or "" for found in body.iter(_CHEQUE)]
    if len(cheques) > 1 or (cheques and len(payments) != 1):
        raise SchemaInvalid("a presentment is one payment with one cheque")
    return Pain001(msg_id=r.text(body, "GrpHdr/MsgId"),
                   created_ns=datetime_ns(r.text(body, "GrpHdr/CreDtTm")),
                   initiator=r.text(body, "GrpHdr/InitgPty/Nm"), debtor=debtor,
                   payments=tuple(payments),
                   sender=r.optional(body, "GrpHdr/InitgPty/Id/OrgId/AnyBIC"),
                   receiver=r.optional(body, "GrpHdr/FwdgAgt/FinInstnId/BICFI"),
                   cheque=cheques[0] if cheques else "")


def _read_payment(r: Reader, tx: etree._Element, debtor: Party, deadline_ns: int
                  ) -> CreditTransfer:
    return CreditTransfer(
        uetr=r.optional(tx, "PmtId/UETR"), end_to_end_id=r.text(tx, "PmtId/EndToEndId"),
        tx_id=r.optional(tx, "PmtId/InstrId"), amount=read_amount(r, tx, "Amt/InstdAmt"),
        debtor=debtor,
        creditor=Party(name=r.text(tx, "Cdtr/Nm"), iban=r.optional(tx, "CdtrAcct/Id/IBAN"),
                       agent=read_agent(r, tx, "CdtrAgt")),
        deadline_ns=deadline_ns,
        channel=member(Channel, r.text(tx, "PmtTpInf/LclInstrm/Prtry"), what="LclInstrm"),
        remittance=joined(r, tx, "RmtInf/Ustrd"))
