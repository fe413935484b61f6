"""Recalls (camt.056 / camt.029) at the hub (decision 0061): passed on along the recalled
transfer's path only by the party it came from, answered back only by the party it was
paid to, each once; on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from paywarden.adapters.clock import FakeClock
from paywarden.adapters.store import Database
from paywarden.domain.clearing import messages as m
from paywarden.domain.money import Money
from paywarden.services.clearing.recall_cases import ACCEPTED, OPEN, REFUSED, RELAYED
from paywarden.services.ledger import LedgerEngine

from ..support.clearing_net import BANK_A, BANK_B, BANK_C, HUB, Net, hub_net


@pytest.fixture
def net(database: Database, engine: LedgerEngine, clock: FakeClock) -> Iterator[Net]:
    with hub_net(database, clock) as the_net:
        yield the_net


def settled(net: Net, amount_minor: int) -> m.CreditTransfer:
    tx = net.transfer(amount_minor)
    answer, _ = net.send(BANK_A, net.pacs008(tx))
    assert answer.statuses[0].status is m.Status.ACSC
    return tx


def recall(tx: m.CreditTransfer, amount_minor: int | None = None, *,
           case_id: str | None = None, reason: str = "DUPL") -> m.Recall:
    return m.Recall(case_id or m.new_case_id(), "MSG-ORIGINAL", tx.uetr, tx.end_to_end_id,
                    Money(tx.amount.amount_minor if amount_minor is None else amount_minor,
                          tx.amount.currency), reason)


def camt056(net: Net, *recalls: m.Recall, sender: str = BANK_A) -> m.Camt056:
    return m.Camt056(net.header(sender), recalls)


def camt029(net: Net, *answers: m.RecallAnswer, sender: str = BANK_B) -> m.Camt029:
    return m.Camt029(net.header(sender), answers)


def recalls_to(net: Net, bic: str) -> list[m.Recall]:
    return [r for msg in net.banks[bic].received if isinstance(msg, m.Camt056)
            for r in msg.recalls]


def answers_to(net: Net, bic: str) -> list[m.RecallAnswer]:
    return [a for msg in net.banks[bic].received if isinstance(msg, m.Camt029)
            for a in msg.answers]


def test_a_recall_goes_to_the_bank_paid_and_its_answer_back_to_the_bank_that_asked(
        net: Net) -> None:
    tx = settled(net, 40_00)
    asked = recall(tx)
    assert net.exchange(BANK_A, camt056(net, asked)) is None  # passed on: answered later
    (passed,) = recalls_to(net, BANK_B)
    assert passed == asked  # the same case, transfer, amount and reason
    case = net.cases.get(asked.case_id)
    assert case is not None
    assert (case.role, case.from_bic, case.to_bic, case.state, case.owed) == (
        RELAYED, BANK_A, BANK_B, OPEN, None)
    assert net.settlement(BANK_A) == (460_00, 0)  # a recall moves no money

    refused = m.RecallAnswer(asked.case_id, tx.uetr, False, "CUST")
    assert net.exchange(BANK_B, camt029(net, refused)) is None
    assert answers_to(net, BANK_A) == [refused]
    case = net.cases.get(asked.case_id)
    assert case is not None and (case.state, case.answer_reason) == (REFUSED, "CUST")

    # The answer again (a retry), or another: nothing changes, nothing more is sent.
    net.exchange(BANK_B, camt029(net, m.RecallAnswer(asked.case_id, tx.uetr, True)))
    assert answers_to(net, BANK_A) == [refused]
    case = net.cases.get(asked.case_id)
    assert case is not None and case.state == REFUSED
    net.verified()


def test_the_same_case_asked_again_is_one_case_and_a_decided_one_is_answered_as_decided(
        net: Net) -> None:
    tx = settled(net, 40_00)
    asked = recall(tx)
    net.exchange(BANK_A, camt056(net, asked))
    assert net.exchange(BANK_A, camt056(net, asked)) is None  # a retry: B has it already
    assert recalls_to(net, BANK_B) == [asked]
    assert len(net.cases.list(original_uetr=tx.uetr)) == 1
    net.exchange(BANK_B, camt029(net, m.RecallAnswer(asked.case_id, tx.uetr, True)))
    again = net.exchange(BANK_A, camt056(net, asked))
    assert isinstance(again, m.Camt029)
    assert again.answers == (m.RecallAnswer(asked.case_id, tx.uetr, True),)
    case = net.cases.get(asked.case_id)
    assert case is not None and case.state == ACCEPTED


def test_no_bank_recalls_what_it_did_not_pay_and_nothing_is_passed_on(net: Net) -> None:
    tx = settled(net, 40_00)
    back = m.Return(m.new_return_id(), "MSG-ORIGINAL", tx.uetr, tx.end_to_end_id,
                    Money(10_00, "EUR"), "FR01")
    returned, _ = net.send(BANK_B, m.Pacs004(net.header(BANK_B), (back,)))
    assert returned.statuses[0].status is m.Status.ACSC
    unknown = m.CreditTransfer("0b9f8f7e-1d1c-4b0a-9a55-000000000001", "e2e-x", "tx-x",
                               Money(40_00, "EUR"), tx.debtor, tx.creditor, tx.deadline_ns)
    cases = [
        (BANK_C, recall(tx)),  # C did not pay it
        (BANK_B, recall(tx)),  # B was paid it: it cannot recall it from itself
        (BANK_A, recall(tx, 40_01)),  # more than was paid
        (BANK_A, recall(tx, reason="XXXX")),  # not a cancellation reason
        (BANK_A, recall(unknown)),  # never settled here
        (BANK_A, m.Recall(m.new_case_id(), "MSG", returned.statuses[0].uetr, "e2e",
                          Money(10_00, "EUR"), "DUPL")),  # a return is not recalled
        (BANK_A, recall(tx, case_id="not-a-case-id")),
    ]
    for sender, asked in cases:
        answer = net.exchange(sender, camt056(net, asked, sender=sender))
        assert isinstance(answer, m.Camt029), asked
        assert answer.answers == (m.RecallAnswer(asked.case_id, asked.original_uetr, False,
                                                 "NOOR"),), asked
    assert recalls_to(net, BANK_B) == [] and net.cases.list() == []


def test_a_case_id_is_not_taken_over_and_only_the_bank_asked_answers(net: Net) -> None:
    tx = settled(net, 40_00)
    asked = recall(tx)
    net.exchange(BANK_A, camt056(net, asked))
    other = settled(net, 30_00)
    hijack = net.exchange(BANK_A, camt056(net, recall(other, case_id=asked.case_id)))
    assert isinstance(hijack, m.Camt029) and hijack.answers[0].reason == "NOOR"
    # C answers B's case: ignored, A hears nothing.
    net.exchange(BANK_C, camt029(net, m.RecallAnswer(asked.case_id, tx.uetr, True),
                                 sender=BANK_C))
    case = net.cases.get(asked.case_id)
    assert case is not None and case.state == OPEN and answers_to(net, BANK_A) == []


def test_a_recall_to_a_bank_that_is_down_is_delivered_when_it_is_back(
        net: Net, clock: FakeClock) -> None:
    tx = settled(net, 40_00)
    net.banks[BANK_B].down = True
    asked = recall(tx)
    assert net.exchange(BANK_A, camt056(net, asked)) is None
    case = net.cases.get(asked.case_id)
    assert case is not None and case.owed is not None
    net.banks[BANK_B].down = False
    assert net.cases.deliver_due() == 0  # backing off
    clock.advance(2)
    assert net.cases.deliver_due() == 1
    assert recalls_to(net, BANK_B) == [asked]
    case = net.cases.get(asked.case_id)
    assert case is not None and case.owed is None
    assert net.cases.deliver_due() == 0


def test_a_refusal_the_bank_paid_answers_at_once_reaches_the_bank_that_asked(
        net: Net) -> None:
    tx = settled(net, 40_00)
    net.banks[BANK_B].refuses_recalls = "ARDT"
    asked = recall(tx)
    answer = net.exchange(BANK_A, camt056(net, asked))
    refused = m.RecallAnswer(asked.case_id, tx.uetr, False, "ARDT")
    assert isinstance(answer, m.Camt029) and answer.answers == (refused,)
    assert answers_to(net, BANK_A) == [refused]  # and as a message of its own
    case = net.cases.get(asked.case_id)
    assert case is not None and (case.state, case.owed) == (REFUSED, None)
    assert HUB == net.hub.bic
