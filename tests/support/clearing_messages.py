"""Clearing message values for tests: hypothesis strategies of every type, and one plain
sample of each. Times are whole milliseconds (the codec floors to the millisecond)."""

from __future__ import annotations

import string
from typing import Any

from hypothesis import strategies as st

from paywarden.domain.clearing.messages import (
    BIC_PATTERN,
    BankTransfer,
    Camt029,
    Camt056,
    Channel,
    CreditTransfer,
    Entry,
    Header,
    Message,
    MessageType,
    Pacs002,
    Pacs004,
    Pacs008,
    Pacs009,
    Pain001,
    Party,
    Reason,
    Recall,
    RecallAnswer,
    Return,
    Statement,
    Status,
    TxStatus,
)
from paywarden.domain.money import Money

NS_PER_MS = 1_000_000
MS_2000, MS_2100 = 946_684_800_000, 4_102_444_800_000
CURRENCIES = ("EUR", "JPY", "BHD", "USD", "CHF")  # exponents 2, 0, 3, 2, 2
AMOUNT_MAX = 10**15  # the XSD allows 18 digits in all; BHD has 3 decimals

bics = st.from_regex(BIC_PATTERN, fullmatch=True)
ids = st.text(alphabet=string.ascii_letters + string.digits + "-_/.:", min_size=1,
              max_size=35)
uetrs = st.uuids(version=4).map(str)
ibans = st.from_regex(r"[A-Z]{2}[0-9]{2}[A-Za-z0-9]{1,30}", fullmatch=True)
# Any text XML 1.0 can carry: no control characters but tab, line feed and carriage
# return (which lxml writes as &#13;), no surrogates, no U+FFFE/U+FFFF.
_chars = st.characters(blacklist_categories=("Cs", "Cc"),
                       blacklist_characters="\ufffe\uffff") | st.sampled_from("\t\n\r")
names = st.text(alphabet=_chars, min_size=1, max_size=140)
texts_or_empty = st.just("") | st.text(alphabet=_chars, min_size=1, max_size=140)
codes = st.from_regex(r"[A-Z0-9]{4}", fullmatch=True)
times_ns = st.integers(MS_2000, MS_2100).map(lambda ms: ms * NS_PER_MS)
money = st.builds(Money, st.integers(0, AMOUNT_MAX), st.sampled_from(CURRENCIES))
headers = st.builds(Header, msg_id=ids, created_ns=times_ns, sender=bics, receiver=bics)
parties = st.builds(Party, name=names, iban=st.just("") | ibans, agent=bics)


def _credit_transfer(debtor: Any = parties) -> Any:
    return st.builds(CreditTransfer, uetr=st.just("") | uetrs, end_to_end_id=ids,
                     tx_id=st.just("") | ids, amount=money, debtor=debtor, creditor=parties,
                     deadline_ns=times_ns, channel=st.sampled_from(Channel),
                     remittance=texts_or_empty)


def _many(element: Any, min_size: int = 1) -> Any:
    return st.lists(element, min_size=min_size, max_size=4).map(tuple)


pacs008s = st.builds(Pacs008, header=headers, transfers=_many(_credit_transfer()))
pacs002s = st.builds(
    Pacs002, header=headers, original_msg_id=ids, original_type=st.sampled_from(MessageType),
    statuses=_many(st.builds(
        TxStatus, uetr=st.just("") | uetrs, end_to_end_id=st.just("") | ids,
        tx_id=st.just("") | ids, status=st.sampled_from(Status),
        reason=st.none() | st.sampled_from(Reason),
        detail=st.just("") | st.text(alphabet=_chars, min_size=1, max_size=300)),
        min_size=0))
pacs009s = st.builds(Pacs009, header=headers, transfers=_many(st.builds(
    BankTransfer, instr_id=st.just("") | ids, end_to_end_id=ids, uetr=st.just("") | uetrs,
    amount=money, debtor_agent=bics, creditor_agent=bics)))
pacs004s = st.builds(Pacs004, header=headers, returns=_many(st.builds(
    Return, return_id=ids, original_msg_id=ids, original_uetr=st.just("") | uetrs,
    original_end_to_end_id=st.just("") | ids, amount=money, reason=codes), min_size=0))
camt056s = st.builds(Camt056, header=headers, recalls=_many(st.builds(
    Recall, case_id=ids, original_msg_id=ids, original_uetr=st.just("") | uetrs,
    original_end_to_end_id=st.just("") | ids, amount=money,
    reason=st.just("") | codes), min_size=0))
camt029s = st.builds(Camt029, header=headers, answers=_many(st.builds(
    RecallAnswer, case_id=ids, original_uetr=st.just("") | uetrs, accepted=st.booleans(),
    reason=st.just("") | codes), min_size=0))
entries = st.builds(Entry, reference=st.just("") | ids | uetrs, amount=money,
                    credit=st.booleans(), booked_ns=times_ns,
                    info=st.just("") | st.text(alphabet=_chars, min_size=1, max_size=500))


@st.composite
def statements(draw: st.DrawFn) -> Statement:
    kind = draw(st.sampled_from((MessageType.CAMT_053, MessageType.CAMT_054)))
    balance = st.integers(-AMOUNT_MAX, AMOUNT_MAX) if kind == MessageType.CAMT_053 \
        else st.just(0)
    return Statement(header=draw(headers), statement_id=draw(ids), kind=kind,
                     account=draw(bics), currency=draw(st.sampled_from(CURRENCIES)),
                     opening_minor=draw(balance), closing_minor=draw(balance),
                     from_ns=draw(times_ns), to_ns=draw(times_ns),
                     entries=draw(_many(entries, min_size=0)))


@st.composite
def pain001s(draw: st.DrawFn) -> Pain001:
    debtor = draw(parties.filter(lambda p: p.iban != ""))  # pain.001 requires DbtrAcct
    return Pain001(msg_id=draw(ids), created_ns=draw(times_ns), initiator=draw(names),
                   debtor=debtor, payments=draw(_many(_credit_transfer(st.just(debtor)))))


MESSAGES: dict[str, Any] = {
    "pacs.008": pacs008s, "pacs.002": pacs002s, "pacs.009": pacs009s, "pacs.004": pacs004s,
    "camt.056": camt056s, "camt.029": camt029s, "camt.053/054": statements(),
    "pain.001": pain001s()}

# -- one plain sample of each ----------------------------------------------------------

AT_NS = 1_796_040_000_123 * NS_PER_MS  # 2026-11-30T12:00:00.123Z
PAYER, HUB, PAYEE = "PAYRDEFFXXX", "HUBBDEFFXXX", "PAYEFRPPXXX"
UETR = "7f1c3a52-8c1e-4e8b-9d6a-0b1e2f3a4b5c"


def header(msg_id: str = "MSG-1", sender: str = PAYER, receiver: str = HUB) -> Header:
    return Header(msg_id=msg_id, created_ns=AT_NS, sender=sender, receiver=receiver)


def transfer(n: int = 0, amount_minor: int = 1234, currency: str = "EUR") -> CreditTransfer:
    return CreditTransfer(
        uetr=UETR if n == 0 else f"{n:08x}-8c1e-4e8b-9d6a-0b1e2f3a4b5c",
        end_to_end_id=f"E2E-{n}", tx_id=f"TX-{n}", amount=Money(amount_minor, currency),
        debtor=Party("Alice Payer", "DE89370400440532013000", PAYER),
        creditor=Party("Bob Payee", "FR1420041010050500013M02606", PAYEE),
        deadline_ns=AT_NS + 30_000 * NS_PER_MS, channel=Channel.RTGS,
        remittance=f"invoice {n}")


def pacs008(transactions: int = 1) -> Pacs008:
    return Pacs008(header(), tuple(transfer(n) for n in range(transactions)))


def samples() -> dict[str, Message]:
    """One value of each type, as a service would build it."""
    t = transfer()
    money = t.amount
    return {
        "pacs.008": pacs008(2),
        "pacs.002": Pacs002(header("ANS-1", HUB, PAYER), "MSG-1", MessageType.PACS_008, (
            TxStatus(UETR, "E2E-0", "TX-0", Status.ACSC),
            TxStatus(UETR, "E2E-1", "TX-1", Status.RJCT, Reason.AM04, "over the cap"))),
        "pacs.009": Pacs009(header("LIQ-1"), (BankTransfer("I-1", "E-1", UETR, money, PAYER,
                                                           HUB),)),
        "pacs.004": Pacs004(header("RET-1", PAYEE, HUB), (
            Return("R-1", "MSG-1", UETR, "E2E-0", money, "CUST"),)),
        "camt.056": Camt056(header("REC-1"), (Recall("CASE-1", "MSG-1", UETR, "E2E-0", money,
                                                     "DUPL"),)),
        "camt.029": Camt029(header("ANS-2", PAYEE, PAYER), (
            RecallAnswer("CASE-1", UETR, True), RecallAnswer("CASE-2", UETR, False, "NOAS"))),
        "camt.053": Statement(header("STM-1", HUB, PAYER), "STM-1", MessageType.CAMT_053,
                              PAYER, "EUR", 100_000, -234, AT_NS, AT_NS + 1000 * NS_PER_MS, (
                                  Entry(UETR, money, False, AT_NS, "to PAYEFRPPXXX"),
                                  Entry("WINDOW-7", Money(0, "EUR"), True, AT_NS))),
        "camt.054": Statement(header("NTF-1", HUB, PAYER), "NTF-1", MessageType.CAMT_054,
                              PAYER, "EUR", 0, 0, AT_NS, AT_NS, (
                                  Entry(UETR, money, False, AT_NS),)),
        "pain.001": Pain001("ORDER-1", AT_NS, "Alice Payer", t.debtor, (
            t, transfer(1), CreditTransfer(**{**transfer(2).__dict__, "uetr": "",
                                              "deadline_ns": AT_NS}))),
        "pain.001 presentment": Pain001("PRES-1", AT_NS, "Bob Payee", t.debtor, (t,),
                                        sender=PAYEE, receiver=HUB, cheque="eyJh.eyJq.c2ln"),
    }
