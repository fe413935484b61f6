"""Returns (pacs.004) at a participant bank (decision 0060), against an in-process hub:
the returning bank debits pending and stores the pacs.004 before sending it, settles it
by the hub's answer, once; the payer's bank credits its customer pending and posts on the
decider's status; a return moves customer money only with a second person's approval."""

# ruff: noqa: F811 - the fixtures imported from tests/support/clearing_bank.py are parameters

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from paywarden.adapters.store.schema import bank_clearing_in, bank_clearing_out
from paywarden.domain.clearing.messages import (
    Header,
    MessageType,
    Pacs002,
    Pacs004,
    Reason,
    Return,
    Status,
    new_return_id,
    return_key,
)
from paywarden.domain.errors import DomainError
from paywarden.domain.money import Money
from paywarden.services.approvals.clearing_returns import ClearingReturn
from paywarden.services.clearing.bank import ClearingLink, Incoming
from paywarden.services.clearing.bank.recalls import Recalls
from paywarden.services.clearing.bank.returns import Returns
from paywarden.services.clearing.views import incoming as incoming_view
from paywarden.services.clearing.views import payments

from ..support.approvals import decide, maker_and_checker
from ..support.clearing_bank import (  # noqa: F401 - fixtures
    ada,
    api,
    hub,
    incoming,
    link,
    movement,
    recalls,
    returns,
    verified,
    wire,
)
from ..support.clearing_fakes import BANK, HUB, FakeHub, credit, final, forwarded
from ..support.platform import platform_of
from ..support.transfers import (
    COOLING_S,
    ELSEWHERE,
    Customer,
    add_payee,
    balances,
    send,
    wait,
)


def received(api: TestClient, incoming: Incoming, who: Customer, amount: int) -> str:
    """A transfer from another bank to ``who``, accepted and settled; its UETR."""
    now = platform_of(api).clock.now_ns()
    tx = credit(who.account["iban"], amount, deadline_ns=now + 10**10)
    incoming.on_pacs008(forwarded(tx, now_ns=now), HUB)
    incoming.on_pacs002(final((tx.uetr, Status.ACSC, None), now_ns=now), HUB)
    return tx.uetr


# -- the returning bank ---------------------------------------------------------------------

def test_a_settled_incoming_transfer_is_returned_once_and_the_money_leaves(
        api: TestClient, incoming: Incoming, returns: Returns, hub: FakeHub,
        ada: Customer) -> None:
    uetr = received(api, incoming, ada, 250_00)
    assert balances(api, ada) == (1_250_00, 1_250_00)
    done = returns.start(uetr, reason="FR01", actor="cli:test")
    assert (done.state, done.created, done.amount) == ("settled", True, Money(250_00, "EUR"))
    assert balances(api, ada) == (1_000_00, 1_000_00)
    sent = hub.sent[-1]
    assert isinstance(sent, Pacs004) and sent.header.receiver == HUB
    (back,) = sent.returns
    assert (back.original_uetr, back.return_id, back.reason) == (uetr, done.return_id, "FR01")
    assert return_key(back.return_id) == done.uetr
    again = returns.start(uetr, reason="FR01", actor="cli:test")  # a retry: found
    assert (again.return_id, again.created) == (done.return_id, False)
    assert len(hub.sent) == 1 and balances(api, ada) == (1_000_00, 1_000_00)
    made = movement(api, "rtn_" + done.return_id)
    assert (made["kind"], made["state"], made["from_account"]) == (
        "return", "posted", ada.account["id"])
    view = payments(platform_of(api).database)  # `paywarden clearing payments --json`
    assert [(r["uetr"], r["original_uetr"], r["state"]) for r in view["out"]] == [
        (done.uetr, uetr, "settled")]
    [arrived] = incoming_view(platform_of(api).database)  # the page's list
    assert (arrived["uetr"], arrived["returned"]["uetr"]) == (uetr, done.uetr)
    assert verified(api)


def test_a_rejected_return_gives_the_money_back_and_can_be_made_again(
        api: TestClient, incoming: Incoming, returns: Returns, hub: FakeHub,
        ada: Customer) -> None:
    uetr = received(api, incoming, ada, 250_00)
    hub.default = (Status.RJCT, Reason.AB08)
    first = returns.start(uetr, reason="FR01", actor="cli:test", amount_minor=100_00)
    assert (first.state, first.reason) == ("rejected", "AB08")
    assert balances(api, ada) == (1_250_00, 1_250_00)
    hub.default = (Status.ACSC, None)
    second = returns.start(uetr, reason="FR01", actor="cli:test", amount_minor=100_00)
    assert second.return_id != first.return_id and second.state == "settled"
    assert balances(api, ada) == (1_150_00, 1_150_00)
    assert verified(api)


def test_a_return_stored_while_the_hub_is_down_is_sent_by_the_next_run(
        api: TestClient, incoming: Incoming, returns: Returns, link: ClearingLink,
        hub: FakeHub, ada: Customer) -> None:
    uetr = received(api, incoming, ada, 250_00)
    hub.down = True
    waiting = returns.start(uetr, reason="MS03", actor="cli:test")
    assert waiting.state == "sent" and balances(api, ada) == (1_250_00, 1_000_00)
    hub.down = False
    assert link.run_due() == 1
    assert returns.find(uetr) is not None and returns.find(uetr).state == "settled"  # type: ignore[union-attr]
    assert balances(api, ada) == (1_000_00, 1_000_00)
    assert verified(api)


def test_returns_that_cannot_be_made_are_refused_and_change_nothing(
        api: TestClient, incoming: Incoming, returns: Returns, hub: FakeHub,
        ada: Customer) -> None:
    uetr = received(api, incoming, ada, 250_00)
    now = platform_of(api).clock.now_ns()
    pending = credit(ada.account["iban"], 50_00, deadline_ns=now + 10**10)
    incoming.on_pacs008(forwarded(pending, now_ns=now), HUB)  # accepted, not settled
    refusals = [
        ({"original_uetr": "00000000-0000-4000-8000-000000000000", "reason": "FR01"},
         "not_found"),
        ({"original_uetr": pending.uetr, "reason": "FR01"}, "return_not_settled"),
        ({"original_uetr": uetr, "reason": "FR01", "amount_minor": 250_01}, "return_amount_invalid"),
        ({"original_uetr": uetr, "reason": "BECAUSE"}, "return_reason_invalid"),
    ]
    for kwargs, code in refusals:
        with pytest.raises(DomainError) as refused:
            returns.start(actor="cli:test", **kwargs)  # type: ignore[arg-type]
        assert refused.value.code == code
    landlord = add_payee(api, ada, "Landlord", ELSEWHERE)
    wait(api, COOLING_S)
    r = send(api, ada, landlord, 1_200_00, "rent")
    assert r.status_code == 201, r.text
    with pytest.raises(DomainError) as spent:  # the money was spent: nothing to send back
        returns.start(uetr, reason="FR01", actor="cli:test")
    assert spent.value.code == "insufficient_funds"
    assert hub.sent == [] and returns.find(uetr) is None
    assert verified(api)


def test_a_return_takes_a_second_person(api: TestClient, incoming: Incoming,
                                        returns: Returns, recalls: Recalls,
                                        ada: Customer) -> None:
    p = platform_of(api)
    p.approvals.register(ClearingReturn(p.database, returns, recalls))
    uetr = received(api, incoming, ada, 250_00)
    maker, checker = maker_and_checker(api)
    r = api.post("/v1/approvals", headers=maker.headers, json={
        "kind": "clearing_return", "params": {"uetr": uetr, "reason": "FR01"}})
    assert r.status_code == 202, r.text
    approval = r.json()["approval"]
    assert (approval["amount"], approval["currency"]) == (250_00, "EUR")
    assert balances(api, ada) == (1_250_00, 1_250_00)  # nothing moves on one person's word
    own = decide(api, maker, approval)
    assert own.status_code == 403, own.text
    r = decide(api, checker, approval)
    assert r.status_code == 200 and r.json()["state"] == "executed", r.text
    assert r.json()["result"]["state"] == "settled"
    assert balances(api, ada) == (1_000_00, 1_000_00)
    bad = api.post("/v1/approvals", headers=maker.headers, json={
        "kind": "clearing_return", "params": {"uetr": uetr, "reason": "nope"}})
    assert bad.status_code == 422 and bad.json()["code"] == "return_reason_invalid"


# -- the payer's bank -----------------------------------------------------------------------

def paid_elsewhere(api: TestClient, link: ClearingLink, who: Customer, amount: int) -> str:
    """A transfer from ``who`` to another bank, settled by the hub; its UETR."""
    payee = add_payee(api, who, "Ada at her old bank", ELSEWHERE)
    wait(api, COOLING_S)
    r = send(api, who, payee, amount, "moving my savings")
    assert r.status_code == 201, r.text
    link.run_due()
    with platform_of(api).database.engine.connect() as conn:
        return str(conn.execute(select(bank_clearing_out.c.uetr).where(
            bank_clearing_out.c.movement_id == r.json()["id"])).scalar_one())


def pacs004(api: TestClient, *returns_: Return) -> Pacs004:
    return Pacs004(Header("fwd" + new_return_id()[:16], platform_of(api).clock.now_ns(), HUB,
                          BANK), returns_)


def test_a_return_of_our_transfer_is_credited_pending_then_posted_once(
        api: TestClient, link: ClearingLink, incoming: Incoming, ada: Customer) -> None:
    uetr = paid_elsewhere(api, link, ada, 300_00)
    assert balances(api, ada) == (700_00, 700_00)
    back = Return(new_return_id(), "MSG", uetr, "e2e", Money(300_00, "EUR"), "FOCR")
    answer = incoming.on_pacs004(pacs004(api, back), HUB)
    assert isinstance(answer, Pacs002) and answer.original_type is MessageType.PACS_004
    assert [(s.uetr, s.status) for s in answer.statuses] == [(return_key(back.return_id),
                                                             Status.ACCP)]
    assert balances(api, ada) == (700_00, 700_00)  # reserved until the decider says so
    key = return_key(back.return_id) or ""
    for _ in range(2):
        incoming.on_pacs002(final((key, Status.ACSC, None), now_ns=0,
                                  reports_on=MessageType.PACS_004), HUB)
    assert balances(api, ada) == (1_000_00, 1_000_00)
    with platform_of(api).database.engine.connect() as conn:
        row = conn.execute(select(bank_clearing_in).where(
            bank_clearing_in.c.uetr == key)).mappings().one()
    assert (row["state"], row["original_uetr"]) == ("settled", uetr)
    repeat = incoming.on_pacs004(pacs004(api, back), HUB)
    assert isinstance(repeat, Pacs002) and repeat.statuses[0].status is Status.ACSC
    assert verified(api)


def test_a_return_of_no_transfer_of_ours_or_more_than_it_is_rejected(
        api: TestClient, link: ClearingLink, incoming: Incoming, ada: Customer) -> None:
    uetr = paid_elsewhere(api, link, ada, 300_00)
    cases = [(Return(new_return_id(), "M", "00000000-0000-4000-8000-000000000000", "e",
                     Money(1_00, "EUR"), "FOCR"), Reason.NARR),
             (Return(new_return_id(), "M", uetr, "e", Money(300_01, "EUR"), "FOCR"),
              Reason.AM02)]
    for back, reason in cases:
        answer = incoming.on_pacs004(pacs004(api, back), HUB)
        assert isinstance(answer, Pacs002)
        assert (answer.statuses[0].status, answer.statuses[0].reason) == (Status.RJCT, reason)
    with pytest.raises(DomainError) as refused:
        incoming.on_pacs004(pacs004(api, cases[0][0]), "OTHRDEFF")
    assert refused.value.code == "message_sender_not_hub"
    assert balances(api, ada) == (700_00, 700_00)
    assert verified(api)
