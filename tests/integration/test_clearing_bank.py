"""The participant bank in the clearing network, against an in-process hub: transfers out
settle or are voided as the hub says, exactly once, re-sent unchanged after a crash;
transfers in are checked, reserved pending, and posted or voided by the decider."""

# ruff: noqa: F811 - the fixtures imported from tests/support/clearing_bank.py are parameters

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from paywarden.adapters.store.schema import bank_clearing_in, bank_clearing_out, bank_transfers
from paywarden.domain.clearing.messages import Pacs002, Pacs008, Reason, Status
from paywarden.domain.errors import DomainError
from paywarden.domain.ledger.chart import AccountKind
from paywarden.services.clearing.bank import ClearingLink, Incoming
from paywarden.services.ledger.accounts import platform_account
from paywarden.services.ledger.queries import LedgerQueries

from ..support.clearing_bank import (  # noqa: F401 - fixtures
    DEADLINE_S,
    ada,
    api,
    clearing_link,
    hub,
    incoming,
    link,
    movement,
    pay_elsewhere,
    verified,
)
from ..support.clearing_fakes import (
    BANK,
    ELSEWHERE_BIC,
    HUB,
    OTHER,
    FakeHub,
    credit,
    final,
    forwarded,
)
from ..support.platform import platform_of
from ..support.transfers import (
    ELSEWHERE,
    Customer,
    balances,
    customer,
)


def clearing_posted(api: TestClient) -> tuple[int, int]:
    """(credits, debits) posted on the bank's EUR clearing account."""
    p = platform_of(api)
    view = LedgerQueries(p.database).account(
        platform_account(AccountKind.BANK_CLEARING, "EUR").id, now_ns=p.clock.now_ns())
    assert view is not None
    return view.balances.credits_posted, view.balances.debits_posted


def out_rows(api: TestClient) -> list[Any]:
    with platform_of(api).database.engine.connect() as conn:
        return list(conn.execute(select(bank_clearing_out).order_by(
            bank_clearing_out.c.created_at)).mappings())


# -- outgoing -------------------------------------------------------------------------------

def test_an_outgoing_transfer_settles_on_acsc_debiting_the_customer_once(
        api: TestClient, hub: FakeHub, link: ClearingLink, ada: Customer) -> None:
    [mid] = pay_elsewhere(api, ada, 300_00)
    before = clearing_posted(api)
    assert balances(api, ada) == (1_000_00, 700_00)
    assert link.run_due() == 1
    assert balances(api, ada) == (700_00, 700_00)
    assert clearing_posted(api) == (before[0] + 300_00, before[1])
    [message] = hub.sent
    assert isinstance(message, Pacs008)
    assert (message.header.sender, message.header.receiver) == (BANK, HUB)
    [tx] = message.transfers
    assert (tx.amount.amount_minor, tx.creditor.iban, tx.creditor.agent, tx.end_to_end_id) == (
        300_00, ELSEWHERE, ELSEWHERE_BIC, mid)
    assert tx.deadline_ns == message.header.created_ns + DEADLINE_S * 10**9
    assert link.run_due() == 0 and len(hub.sent) == 1  # final: never sent again
    assert movement(api, mid)["state"] == "posted"
    assert [(r["uetr"], r["state"]) for r in out_rows(api)] == [(tx.uetr, "settled")]
    assert verified(api)


def test_an_outgoing_transfer_rejected_am04_gives_the_money_back_with_the_reason(
        api: TestClient, hub: FakeHub, link: ClearingLink, ada: Customer) -> None:
    hub.default = (Status.RJCT, Reason.AM04)
    [mid] = pay_elsewhere(api, ada, 300_00)
    assert link.run_due() == 1
    assert balances(api, ada) == (1_000_00, 1_000_00)
    done = movement(api, mid)
    assert (done["state"], done["reason"]) == ("voided", "AM04")
    r = api.get("/v1/me/transfers", headers=ada.headers)
    assert [(t["state"], t["reason"]) for t in r.json()["data"] if t["id"] == mid] == [
        ("voided", "AM04")]
    assert [(r["state"], r["reason"]) for r in out_rows(api)] == [("rejected", "AM04")]
    assert verified(api)


def test_a_pending_answer_leaves_the_transfer_reserved_until_a_later_run_settles_it(
        api: TestClient, hub: FakeHub, link: ClearingLink, ada: Customer) -> None:
    hub.default = (Status.PDNG, None)
    pay_elsewhere(api, ada, 300_00)
    assert link.run_due() == 0
    assert balances(api, ada) == (1_000_00, 700_00)
    hub.default = (Status.ACSC, None)
    assert link.run_due() == 1
    assert balances(api, ada) == (700_00, 700_00)
    first, again = hub.sent
    assert first == again  # the same MsgId, UETRs and amounts: a retry, not a new transfer
    assert verified(api)


def test_a_final_status_pushed_by_the_hub_settles_an_outgoing_transfer_once(
        api: TestClient, hub: FakeHub, link: ClearingLink, incoming: Incoming,
        ada: Customer) -> None:
    hub.default = (Status.PDNG, None)
    pay_elsewhere(api, ada, 300_00)
    link.run_due()
    [row] = out_rows(api)
    now = platform_of(api).clock.now_ns()
    for _ in range(2):
        assert incoming.on_pacs002(final((row["uetr"], Status.ACSC, None), now_ns=now),
                                   HUB) is None
    assert balances(api, ada) == (700_00, 700_00)
    assert link.run_due() == 0 and len(hub.sent) == 1
    assert verified(api)


def test_a_crash_between_storing_and_sending_sends_the_same_msgid_and_uetrs(
        api: TestClient, hub: FakeHub, link: ClearingLink, ada: Customer) -> None:
    ids = pay_elsewhere(api, ada, 100_00, 200_00, 50_00)
    msg_id = link.reserve()  # step 1 committed; the process dies before it sends
    assert msg_id is not None and hub.sent == []
    stored = {r["movement_id"]: r["uetr"] for r in out_rows(api)}
    assert sorted(stored) == sorted(ids)
    assert clearing_link(api, hub).run_due() == 3  # after the restart
    [message] = hub.sent
    assert isinstance(message, Pacs008) and message.header.msg_id == msg_id
    assert {t.end_to_end_id: t.uetr for t in message.transfers} == stored
    assert balances(api, ada) == (650_00, 650_00)
    assert verified(api)


def test_an_answer_lost_after_the_hub_applied_it_is_asked_again_and_settled_once(
        api: TestClient, hub: FakeHub, link: ClearingLink, ada: Customer) -> None:
    class LosesFirstAnswer:
        answered = 0

        def send(self, message: Any) -> Any:
            answer = hub.send(message)
            self.answered += 1
            if self.answered == 1:
                from paywarden.services.clearing.bank_ports import HubUnreachable
                raise HubUnreachable("timed out reading the answer")
            return answer

    pay_elsewhere(api, ada, 100_00, 200_00)
    lossy = clearing_link(api, hub)
    lossy._hub = LosesFirstAnswer()  # type: ignore[assignment]
    assert lossy.run_due() == 0
    assert balances(api, ada) == (1_000_00, 700_00)
    assert lossy.run_due() == 2
    first, again = hub.sent
    assert first == again
    assert balances(api, ada) == (700_00, 700_00)
    assert lossy.run_due() == 0
    assert verified(api)


def test_many_transfers_travel_in_one_message_and_wait_while_the_hub_is_down(
        api: TestClient, hub: FakeHub, ada: Customer) -> None:
    ids = pay_elsewhere(api, ada, 10_00, 20_00, 30_00)
    hub.down = True
    link = clearing_link(api, hub, batch_max=2)
    assert link.run_due() == 0
    platform_of(api).clock.advance(1)  # type: ignore[attr-defined]
    assert link.run_due() == 0
    assert len(out_rows(api)) == 3 and balances(api, ada) == (1_000_00, 940_00)
    hub.down = False
    assert link.run_due() == 3
    assert [len(u) for u in hub.uetrs()] == [2, 1]
    assert all(movement(api, m)["state"] == "posted" for m in ids)
    assert verified(api)


def test_the_lane_sends_a_new_message_at_once_and_an_unanswered_one_again_after_a_pause(
        api: TestClient, hub: FakeHub, ada: Customer, monkeypatch: pytest.MonkeyPatch) -> None:
    """``turn`` (the link's own thread, woken by each transfer out): what is new leaves
    now; a message the hub left PDNG is asked again after RESEND_AFTER_S, not on every
    wake, so a busy bank does not send the hub the same message many times a second."""
    from paywarden.services.clearing.bank import outgoing

    clock = [100.0]
    monkeypatch.setattr(outgoing.time, "monotonic", lambda: clock[0])
    hub.default = (Status.PDNG, None)
    pay_elsewhere(api, ada, 100_00, 200_00)
    link = clearing_link(api, hub, batch_max=1)
    assert landed(link) is True and len(hub.sent) == 1  # one of two: more may wait
    assert landed(link) is True  # the second message now; the first, just sent, waits
    first, second = hub.uetrs()
    assert first != second
    assert landed(link) is False and len(hub.sent) == 2  # nothing new, nothing due again
    clock[0] += outgoing.RESEND_AFTER_S
    hub.default = (Status.ACSC, None)
    landed(link)
    assert sorted(hub.uetrs()[2:]) == sorted([first, second])
    assert balances(api, ada) == (700_00, 700_00)
    landed(link)
    assert len(hub.sent) == 4  # final: never sent again
    assert verified(api)


def landed(link: ClearingLink) -> bool:
    """A turn of the lane, then every message it sent has its answer."""
    more = link.turn()
    link.close()
    return more


def test_a_flight_that_breaks_an_invariant_is_raised_by_the_next_turn(
        api: TestClient, hub: FakeHub, ada: Customer, monkeypatch: pytest.MonkeyPatch) -> None:
    """A message is sent on a thread of the link's; a broken invariant there must still
    reach the lane, which hands it to the fail-stop."""
    from paywarden.domain.errors import InvariantViolation

    pay_elsewhere(api, ada, 100_00)
    link = clearing_link(api, hub)

    def broken(msg_id: str) -> int:
        raise InvariantViolation("posted twice")

    monkeypatch.setattr(link, "send", broken)
    landed(link)
    with pytest.raises(InvariantViolation):
        link.turn()


def test_a_full_batch_tells_the_lane_to_turn_again_and_writing_a_transfer_out_wakes_it(
        api: TestClient, hub: FakeHub, ada: Customer) -> None:
    woken: list[str] = []
    movements = platform_of(api).banking.movements
    movements.on_outgoing.append(lambda: woken.append("out"))
    pay_elsewhere(api, ada, 10_00, 20_00, 30_00)
    assert woken  # the payments' own commit woke it
    link = clearing_link(api, hub, batch_max=2)
    assert landed(link) is True  # took two of three: more may wait
    assert landed(link) is False
    assert [len(u) for u in hub.uetrs()] == [2, 1]
    assert verified(api)


# -- incoming -------------------------------------------------------------------------------

def answer(incoming: Incoming, *txs: Any, now_ns: int, sender: str = HUB) -> list[tuple[
        str, str | None]]:
    reply = incoming.on_pacs008(forwarded(*txs, now_ns=now_ns), sender)
    assert isinstance(reply, Pacs002) and reply.header.receiver == sender
    return [(str(s.status), None if s.reason is None else str(s.reason))
            for s in reply.statuses]


def test_an_incoming_transfer_is_accepted_pending_and_posted_once_by_the_final_acsc(
        api: TestClient, incoming: Incoming, ada: Customer) -> None:
    now = platform_of(api).clock.now_ns()
    tx = credit(ada.account["iban"], 250_00, deadline_ns=now + 10**10)
    assert answer(incoming, tx, now_ns=now) == [("ACCP", None)]
    assert answer(incoming, tx, now_ns=now) == [("ACCP", None)]  # a repeat: the same answer
    assert balances(api, ada) == (1_000_00, 1_000_00)  # reserved, not yet the customer's
    for _ in range(2):
        incoming.on_pacs002(final((tx.uetr, Status.ACSC, None), now_ns=now), HUB)
    assert balances(api, ada) == (1_250_00, 1_250_00)
    assert answer(incoming, tx, now_ns=now) == [("ACSC", None)]
    done = movement(api, "clr_" + tx.uetr)
    assert (done["kind"], done["state"], done["counterparty_iban"]) == (
        "deposit", "posted", tx.debtor.iban)
    assert verified(api)


def test_an_incoming_transfer_rejected_by_the_decider_is_voided(
        api: TestClient, incoming: Incoming, ada: Customer) -> None:
    now = platform_of(api).clock.now_ns()
    tx = credit(ada.account["iban"], 250_00, deadline_ns=now + 10**10)
    answer(incoming, tx, now_ns=now)
    incoming.on_pacs002(final((tx.uetr, Status.RJCT, Reason.AB05), now_ns=now), HUB)
    assert balances(api, ada) == (1_000_00, 1_000_00)
    assert movement(api, "clr_" + tx.uetr)["state"] == "voided"
    assert answer(incoming, tx, now_ns=now) == [("RJCT", "AB05")]
    assert verified(api)


def test_incoming_transfers_to_no_account_a_frozen_one_or_in_another_currency_are_rejected(
        api: TestClient, incoming: Incoming, ada: Customer) -> None:
    p = platform_of(api)
    now = p.clock.now_ns()
    frozen = customer(api, "frozen")
    p.banking.accounts.freeze(frozen.account["id"], actor="test", reason="fraud check")
    later = now + 10**10
    txs = [credit("NL91ABNA0417164300", 1_00, deadline_ns=later),  # no such account here
           credit(frozen.account["iban"], 1_00, deadline_ns=later),
           credit(ada.account["iban"], 1_00, currency="USD", deadline_ns=later),
           credit(ada.account["iban"], 1_00, deadline_ns=later, agent=OTHER),  # not for us
           credit(ada.account["iban"], 1_00, deadline_ns=now)]  # its deadline has passed
    assert answer(incoming, *txs, now_ns=now) == [
        ("RJCT", "AC01"), ("RJCT", "AC06"), ("RJCT", "AM03"), ("RJCT", "RC01"),
        ("RJCT", "AB05")]
    assert answer(incoming, txs[0], now_ns=now) == [("RJCT", "AC01")]  # stored: the same
    with p.database.engine.connect() as conn:
        assert conn.execute(select(bank_clearing_in.c.movement_id)).scalars().all() == [
            None] * 5
    assert balances(api, ada) == (1_000_00, 1_000_00)
    assert verified(api)


def test_a_uetr_repeated_with_another_amount_is_rejected_as_a_duplicate(
        api: TestClient, incoming: Incoming, ada: Customer) -> None:
    now = platform_of(api).clock.now_ns()
    tx = credit(ada.account["iban"], 250_00, deadline_ns=now + 10**10)
    altered = credit(ada.account["iban"], 2_500_00, deadline_ns=now + 10**10, uetr=tx.uetr)
    assert answer(incoming, tx, altered, now_ns=now) == [("ACCP", None), ("RJCT", "DUPL")]
    incoming.on_pacs002(final((tx.uetr, Status.ACSC, None), now_ns=now), HUB)
    assert balances(api, ada) == (1_250_00, 1_250_00)


def test_a_rejection_that_comes_before_its_transfer_keeps_the_late_copy_out(
        api: TestClient, incoming: Incoming, ada: Customer) -> None:
    now = platform_of(api).clock.now_ns()
    tx = credit(ada.account["iban"], 250_00, deadline_ns=now + 10**10)
    incoming.on_pacs002(final((tx.uetr, Status.RJCT, Reason.AB05), now_ns=now), HUB)
    assert answer(incoming, tx, now_ns=now) == [("RJCT", "AB05")]
    with platform_of(api).database.engine.connect() as conn:
        assert conn.execute(select(bank_transfers.c.id).where(
            bank_transfers.c.id == "clr_" + tx.uetr)).first() is None


def test_transfers_and_statuses_from_anyone_but_the_banks_hub_are_refused(
        api: TestClient, incoming: Incoming, ada: Customer) -> None:
    now = platform_of(api).clock.now_ns()
    tx = credit(ada.account["iban"], 250_00, deadline_ns=now + 10**10)
    with pytest.raises(DomainError) as refused:
        incoming.on_pacs008(forwarded(tx, now_ns=now), OTHER)
    assert refused.value.code == "message_sender_not_hub"
    answer(incoming, tx, now_ns=now)
    with pytest.raises(DomainError) as refused:
        incoming.on_pacs002(final((tx.uetr, Status.ACSC, None), now_ns=now), OTHER)
    assert refused.value.code == "message_sender_not_hub"
    assert balances(api, ada) == (1_000_00, 1_000_00)


# -- the switch ----------------------------------------------------------------------------

def test_a_bank_with_a_hub_configured_sends_through_the_network_or_refuses_to_start(
        api: TestClient) -> None:
    from paywarden.bootstrap import build_clearing, build_clearing_bank
    from paywarden.domain.clearing.messages import MessageType

    p = platform_of(api)
    assert p.clearing_bank is None  # no hub configured: the simulated rail, as before
    settings = p.settings.model_copy(update={
        "clearing_hub": f"{HUB}=http://127.0.0.1:9", "clearing_bic": BANK})
    parts = {"database": p.database, "clock": p.clock, "movements": p.banking.movements,
             "cheques": p.cheques}
    with pytest.raises(RuntimeError, match="cannot speak to its hub"):
        build_clearing_bank(settings, clearing=None, **parts)  # type: ignore[arg-type]
    node = build_clearing(settings, database=p.database, clock=p.clock,
                          writer=p.payments.writer, keys=p.keys)
    assert node is not None and node.hub is None  # a bank: no hub of its own
    made = build_clearing_bank(settings, clearing=node, **parts)  # type: ignore[arg-type]
    assert made is not None
    taken = {MessageType.PACS_008, MessageType.PACS_004, MessageType.PACS_002,
             MessageType.CAMT_056, MessageType.CAMT_029, MessageType.PAIN_001}
    assert set(made.handlers()) == taken
    assert taken <= set(node.transport._handlers)
    node.close()
    both = settings.model_copy(update={"clearing_role": "both"})
    hub_node = build_clearing(both, database=p.database, clock=p.clock,
                              writer=p.payments.writer, keys=p.keys)
    assert hub_node is not None and hub_node.hub is not None
    with pytest.raises(RuntimeError, match="does not clear its own bank's transfers"):
        build_clearing_bank(both, clearing=hub_node, **parts)  # type: ignore[arg-type]
    hub_node.close()


def test_a_hub_setting_that_is_not_bic_equals_url_is_refused_at_start() -> None:
    from pydantic import ValidationError

    from paywarden.settings import Settings

    for wrong in ("PAYHNL2A", "payhnl2a=http://h", "PAYHNL2A=ftp://h"):
        with pytest.raises(ValidationError, match="BIC=url"):
            Settings(clearing_hub=wrong)
    assert Settings(clearing_hub="PAYHNL2A=http://127.0.0.1:8101").clearing_hub
