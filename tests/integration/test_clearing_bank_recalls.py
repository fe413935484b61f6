"""Recalls (camt.056 / camt.029) at a participant bank (decision 0061): asking for a
settled transfer of ours back, and answering another bank's ask: a no moves nothing, a
yes is a return (pacs.004) that only a second person's approval makes."""

# ruff: noqa: F811 - the fixtures imported from tests/support/clearing_bank.py are parameters

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from paywarden.adapters.store.schema import audit_entries, bank_clearing_out
from paywarden.domain.clearing.messages import (
    Camt029,
    Camt056,
    Header,
    Pacs004,
    Recall,
    RecallAnswer,
    Status,
    new_case_id,
)
from paywarden.domain.errors import DomainError
from paywarden.domain.money import Money
from paywarden.services.approvals.clearing_returns import ClearingReturn
from paywarden.services.clearing.bank import ClearingBank, ClearingLink, Incoming
from paywarden.services.clearing.bank.recalls import Recalls
from paywarden.services.clearing.bank.returns import Returns
from paywarden.services.clearing.recall_cases import (
    ACCEPTED,
    OPEN,
    RECEIVED,
    REFUSED,
    REQUESTED,
)

from ..support.approvals import decide, maker_and_checker
from ..support.clearing_bank import (  # noqa: F401 - fixtures
    RecallHub,
    ada,
    api,
    hub,
    incoming,
    link,
    pay_elsewhere,
    recalls,
    returns,
    verified,
    wire,
)
from ..support.clearing_fakes import BANK, HUB, FakeHub, credit, final, forwarded
from ..support.platform import bearer, platform_of, staff_token
from ..support.transfers import Customer, balances


def settled_out(api: TestClient, link: ClearingLink, who: Customer, amount: int) -> str:
    """A transfer of ours to another bank, settled; its UETR."""
    pay_elsewhere(api, who, amount)
    assert link.run_due() == 1
    with platform_of(api).database.engine.connect() as conn:
        return str(conn.execute(select(bank_clearing_out.c.uetr).where(
            bank_clearing_out.c.state == "settled")).scalar_one())


def settled_in(api: TestClient, incoming: Incoming, who: Customer, amount: int) -> str:
    now = platform_of(api).clock.now_ns()
    tx = credit(who.account["iban"], amount, deadline_ns=now + 10**10)
    incoming.on_pacs008(forwarded(tx, now_ns=now), HUB)
    incoming.on_pacs002(final((tx.uetr, Status.ACSC, None), now_ns=now), HUB)
    return tx.uetr


def asked(api: TestClient, uetr: str, amount: int, *, case_id: str | None = None,
          reason: str = "FRAD") -> Camt056:
    now = platform_of(api).clock.now_ns()
    return Camt056(Header("hub" + new_case_id()[:20], now, HUB, BANK), (
        Recall(case_id or new_case_id(), "MSG-ORIGINAL", uetr, "e2e-" + uetr[:8],
               Money(amount, "EUR"), reason),))


def audited(api: TestClient, action: str) -> int:
    with platform_of(api).database.engine.connect() as conn:
        return len(conn.execute(select(audit_entries.c.action).where(
            audit_entries.c.action == action)).all())


# -- asking ---------------------------------------------------------------------------------

def test_a_settled_transfer_is_recalled_through_the_hub_and_the_answer_recorded(
        api: TestClient, link: ClearingLink, recalls: Recalls, wire: RecallHub,
        ada: Customer) -> None:
    uetr = settled_out(api, link, ada, 300_00)
    case = recalls.request(uetr, reason="DUPL", actor="cli:support")
    assert (case.role, case.state, case.to_bic, case.owed) == (REQUESTED, OPEN, HUB, None)
    (message,) = wire.sent
    assert isinstance(message, Camt056) and message.header.receiver == HUB
    (sent,) = message.recalls
    assert (sent.case_id, sent.original_uetr, sent.amount, sent.reason) == (
        case.case_id, uetr, Money(300_00, "EUR"), "DUPL")
    assert audited(api, "clearing.recall_requested") == 1
    assert recalls.request(uetr, reason="DUPL", actor="cli:support",
                           case_id=case.case_id) == case  # a retry finds its case
    with pytest.raises(DomainError) as again:
        recalls.request(uetr, reason="DUPL", actor="cli:support")
    assert again.value.code == "recall_exists"

    answer = Camt029(Header("hubanswer1", 0, HUB, BANK),
                     (RecallAnswer(case.case_id, uetr, False, "CUST"),))
    recalls.on_camt029(answer, HUB)
    done = recalls._cases.get(case.case_id)
    assert done is not None and (done.state, done.answer_reason) == (REFUSED, "CUST")
    assert wire.sent == [message]  # the bank that asked owes nobody an answer
    assert balances(api, ada) == (700_00, 700_00)  # a no moves nothing


def test_what_is_not_a_settled_transfer_of_ours_is_not_recalled(
        api: TestClient, link: ClearingLink, incoming: Incoming, recalls: Recalls,
        wire: RecallHub, ada: Customer, hub: FakeHub) -> None:
    theirs = settled_in(api, incoming, ada, 50_00)
    hub.default = (Status.PDNG, None)
    pay_elsewhere(api, ada, 300_00, 10_00)
    link.run_due()
    uetr, pending = [u for message in hub.uetrs() for u in message]
    now = platform_of(api).clock.now_ns()
    incoming.on_pacs002(final((uetr, Status.ACSC, None), now_ns=now), HUB)
    cases = [((theirs, "DUPL", None), "not_found"), ((pending, "DUPL", None),
                                                      "recall_not_settled"),
             ((uetr, "XXXX", None), "recall_reason_invalid"),
             ((uetr, "DUPL", 300_01), "recall_amount_invalid")]
    for (what, reason, amount), code in cases:
        with pytest.raises(DomainError) as refused:
            recalls.request(what, reason=reason, actor="cli:support", amount_minor=amount)
        assert refused.value.code == code
    with pytest.raises(DomainError) as bad_case:
        recalls.request(uetr, reason="DUPL", actor="cli:support", case_id="../etc")
    assert bad_case.value.code == "recall_case_invalid"
    assert wire.sent == []


def test_a_recall_not_delivered_is_sent_again_by_the_chore(
        api: TestClient, link: ClearingLink, recalls: Recalls, wire: RecallHub,
        ada: Customer) -> None:
    uetr = settled_out(api, link, ada, 300_00)
    wire.down = True
    case = recalls.request(uetr, reason="TECH", actor="cli:support")
    assert case.owed is not None and wire.sent == []
    wire.down = False
    cases = recalls._cases
    assert cases.deliver_due() == 0  # backing off
    platform_of(api).clock.advance(2)
    assert cases.deliver_due() == 1 and len(wire.sent) == 1
    assert cases.deliver_due() == 0


# -- answering ------------------------------------------------------------------------------

def test_a_recall_of_a_transfer_we_were_paid_waits_for_staff_and_a_no_moves_nothing(
        api: TestClient, incoming: Incoming, recalls: Recalls, wire: RecallHub,
        ada: Customer) -> None:
    uetr = settled_in(api, incoming, ada, 250_00)
    message = asked(api, uetr, 250_00)
    assert recalls.on_camt056(message, HUB) is None
    (recall,) = message.recalls
    case = recalls.received(recall.case_id)
    assert (case.role, case.state, case.from_bic) == (RECEIVED, OPEN, HUB)
    assert recalls.on_camt056(message, HUB) is None  # the same again: one case
    done = recalls.refuse(recall.case_id, reason="CUST", actor="cli:support")
    assert (done.state, done.answer_reason) == (REFUSED, "CUST")
    assert wire.answers() == [RecallAnswer(recall.case_id, uetr, False, "CUST")]
    assert audited(api, "clearing.recall_refused") == 1
    with pytest.raises(DomainError) as twice:
        recalls.refuse(recall.case_id, reason="CUST", actor="cli:support")
    assert twice.value.code == "recall_answered"
    again = recalls.on_camt056(message, HUB)  # asked again: answered as decided
    assert isinstance(again, Camt029) and again.answers == (
        RecallAnswer(recall.case_id, uetr, False, "CUST"),)
    assert balances(api, ada) == (1_250_00, 1_250_00)
    with pytest.raises(DomainError) as reason:
        recalls.refuse(new_case_id(), reason="MAYBE", actor="cli:support")
    assert reason.value.code == "recall_refusal_invalid"


def test_a_yes_is_a_return_of_the_amount_answered_once_even_when_run_again(
        api: TestClient, incoming: Incoming, recalls: Recalls, wire: RecallHub,
        hub: FakeHub, ada: Customer) -> None:
    uetr = settled_in(api, incoming, ada, 250_00)
    message = asked(api, uetr, 100_00)
    recalls.on_camt056(message, HUB)
    (recall,) = message.recalls
    rid = "0f" * 6 + "4abc" + "8" + "d" * 15
    started = recalls.accept(recall.case_id, actor="u_support+u_risk", return_id=rid)
    assert (started.state, started.amount) == ("settled", Money(100_00, "EUR"))
    assert balances(api, ada) == (1_150_00, 1_150_00)
    (pacs004,) = [m for m in hub.sent if isinstance(m, Pacs004)]
    assert (pacs004.returns[0].reason, pacs004.returns[0].original_uetr) == ("FOCR", uetr)
    case = recalls.received(recall.case_id)
    assert (case.state, case.return_id) == (ACCEPTED, started.return_id)
    assert wire.answers() == [RecallAnswer(recall.case_id, uetr, True)]
    again = recalls.accept(recall.case_id, actor="u_support+u_risk", return_id=rid)
    assert again.return_id == started.return_id
    assert balances(api, ada) == (1_150_00, 1_150_00) and len(wire.answers()) == 1
    assert audited(api, "clearing.recall_accepted") == 1
    assert verified(api)


def test_a_recall_of_what_we_were_not_paid_or_returned_already_is_refused_at_once(
        api: TestClient, incoming: Incoming, recalls: Recalls, returns: Returns,
        ada: Customer) -> None:
    uetr = settled_in(api, incoming, ada, 250_00)
    returned = settled_in(api, incoming, ada, 20_00)
    returns.start(returned, reason="FR01", actor="cli:test")
    cases = [(asked(api, "0b9f8f7e-1d1c-4b0a-9a55-000000000001", 10_00), "NOOR"),
             (asked(api, uetr, 250_01), "NOOR"),
             (asked(api, uetr, 10_00, reason="NOPE"), "NOOR"),
             (asked(api, returned, 20_00), "ARDT")]
    for message, reason in cases:
        answer = recalls.on_camt056(message, HUB)
        assert isinstance(answer, Camt029)
        assert [(a.accepted, a.reason) for a in answer.answers] == [(False, reason)]
    assert recalls._cases.list() == []
    with pytest.raises(DomainError) as not_hub:
        recalls.on_camt056(asked(api, uetr, 10_00), "BANKCCC2")
    assert not_hub.value.code == "message_sender_not_hub"


def test_saying_yes_to_a_recall_takes_a_second_person(
        api: TestClient, incoming: Incoming, returns: Returns, recalls: Recalls,
        wire: RecallHub, ada: Customer) -> None:
    p = platform_of(api)
    p.approvals.register(ClearingReturn(p.database, returns, recalls))
    uetr = settled_in(api, incoming, ada, 250_00)
    message = asked(api, uetr, 80_00)
    recalls.on_camt056(message, HUB)
    case_id = message.recalls[0].case_id
    maker, checker = maker_and_checker(api)
    r = api.post("/v1/approvals", headers=maker.headers, json={
        "kind": "clearing_return", "params": {"case_id": case_id}})
    assert r.status_code == 202, r.text
    approval = r.json()["approval"]
    assert (approval["amount"], approval["params"]["reason"]) == (80_00, "FOCR")
    assert balances(api, ada) == (1_250_00, 1_250_00) and wire.answers() == []
    r = decide(api, checker, approval)
    assert r.status_code == 200 and r.json()["state"] == "executed", r.text
    assert balances(api, ada) == (1_170_00, 1_170_00)
    assert wire.answers() == [RecallAnswer(case_id, uetr, True)]
    again = api.post("/v1/approvals", headers=maker.headers, json={
        "kind": "clearing_return", "params": {"case_id": case_id}})
    assert again.status_code == 409 and again.json()["code"] == "recall_answered"
    unknown = api.post("/v1/approvals", headers=maker.headers, json={
        "kind": "clearing_return", "params": {"case_id": new_case_id()}})
    assert unknown.status_code == 404, unknown.text


def test_staff_ask_list_and_refuse_recalls_over_the_api_and_customers_cannot(
        api: TestClient, link: ClearingLink, incoming: Incoming, returns: Returns,
        recalls: Recalls, wire: RecallHub, ada: Customer) -> None:
    p = platform_of(api)
    p.clearing_bank = ClearingBank(link, incoming, returns, recalls)
    ours = settled_out(api, link, ada, 300_00)  # an hour passes: a payee's cooling-off
    theirs = settled_in(api, incoming, ada, 40_00)
    message = asked(api, theirs, 40_00)
    recalls.on_camt056(message, HUB)
    support = bearer(staff_token(p, "support"))
    operator = bearer(staff_token(p, "operator", actor="cli:op"))

    body = {"uetr": ours, "reason": "DUPL"}
    assert api.post("/v1/staff/clearing/recalls", headers=ada.headers,
                    json=body).status_code == 403
    r = api.post("/v1/staff/clearing/recalls", headers=operator, json=body)
    assert r.status_code == 403, r.text  # operators read banking, no more
    r = api.post("/v1/staff/clearing/recalls", headers=support, json=body)
    assert r.status_code == 201, r.text
    assert (r.json()["role"], r.json()["state"], r.json()["amount"]) == (
        "requested", "open", 300_00)
    again = api.post("/v1/staff/clearing/recalls", headers=support, json=body)
    assert again.status_code == 409 and again.json()["code"] == "recall_exists"
    bad = api.post("/v1/staff/clearing/recalls", headers=support,
                   json={**body, "amount": 1.5})
    assert bad.status_code == 422

    listed = api.get("/v1/staff/clearing/recalls", headers=operator)
    assert listed.status_code == 200
    assert sorted(c["role"] for c in listed.json()["data"]) == ["received", "requested"]
    case_id = message.recalls[0].case_id
    r = api.post(f"/v1/staff/clearing/recalls/{case_id}/refuse", headers=support,
                 json={"reason": "LEGL"})
    assert r.status_code == 200 and r.json()["state"] == "refused", r.text
    r = api.post(f"/v1/staff/clearing/recalls/{case_id}/refuse", headers=support,
                 json={"reason": "LEGL"})
    assert r.status_code == 409 and r.json()["code"] == "recall_answered"
    assert wire.answers() == [RecallAnswer(case_id, theirs, False, "LEGL")]
