"""Cheques between banks of the clearing network (decision 0064), each bank's half in
process: as the drawer's bank, a presentment from the hub is honoured once, by a
transfer out whose end-to-end id is the presentment's, and every forgery, alteration or
stop is refused with nothing moved; as the payee's bank, a cheque of another bank is
presented through the hub, collecting until its money settles here, when it turns
paid. On SQLite and PostgreSQL."""

# ruff: noqa: F811 - the fixtures imported from tests/support/clearing_bank.py are parameters
from __future__ import annotations

import json
import secrets
import uuid
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any

import pytest
from fastapi.testclient import TestClient
from joserfc.util import urlsafe_b64decode
from sqlalchemy import func, select

from paywarden.adapters.store.schema import bank_transfers, cheques
from paywarden.domain.clearing.messages import (
    CreditTransfer,
    Header,
    Message,
    MessageType,
    Pacs002,
    Pain001,
    Party,
    Reason,
    Status,
    TxStatus,
)
from paywarden.domain.errors import DomainError
from paywarden.domain.money import Money
from paywarden.services.banking.cheque_collection import (
    FOLLOW_AFTER_S,
    Collections,
    Following,
    presentment_id,
)
from paywarden.services.clearing.bank import ClearingLink, Directory, Incoming
from paywarden.services.clearing.bank.cheques import ChequeCollector, ChequeDesk
from paywarden.services.clearing.bank_ports import HubUnreachable

from ..support.banking import balance_of
from ..support.clearing_bank import (  # noqa: F401 - fixtures
    api,
    clearing_link,
    hub,
    incoming,
    link,
    movement,
    verified,
)
from ..support.clearing_fakes import BANK, HUB, FakeHub, final, forwarded
from ..support.platform import bearer, platform_of
from ..support.transfers import ELSEWHERE, Customer, customer

ELSEWHERE_BIC = "COBADEFFXXX"
AMOUNT = 70_00
NS = 1_000_000_000


@pytest.fixture
def ada(api: TestClient) -> Customer:
    return customer(api, "ada", funds=1_000_00)


@pytest.fixture
def bob(api: TestClient) -> Customer:
    return customer(api, "bob")


@pytest.fixture
def desk(api: TestClient) -> ChequeDesk:
    p = platform_of(api)
    return ChequeDesk(Collections(p.database, clock=p.clock, cheques=p.cheques,
                                  movements=p.banking.movements),
                      clock=p.clock, bic=BANK, hub_bic=HUB)


def write(api: TestClient, drawer: Customer, amount: int = AMOUNT) -> dict[str, Any]:
    """A cheque of ``drawer`` to an account at another bank (ELSEWHERE), written as the
    cheque tests write theirs."""
    from .test_cheques import write as write_cheque

    payee = SimpleNamespace(account={"iban": ELSEWHERE})
    return write_cheque(api, drawer, payee, amount)  # type: ignore[arg-type]


def presentment(api: TestClient, cheque: dict[str, Any], *, text: str | None = None,
                amount: int | None = None, e2e: str | None = None) -> Pain001:
    """What ELSEWHERE's bank presents, as the hub relays it to BANK."""
    now = platform_of(api).clock.now_ns()
    drawer = Party("Drawer of the cheque", cheque["drawer_iban"], BANK)
    own = presentment_id(cheque["drawer_iban"], cheque["serial"])
    tx = CreditTransfer(str(uuid.uuid4()), e2e or own, "",
                        Money(amount or cheque["amount"], "EUR"), drawer,
                        Party("Grace Hopper", cheque["payee_iban"], ELSEWHERE_BIC),
                        now + 60 * NS, remittance=f"cheque {cheque['serial']}")
    return Pain001("rel" + secrets.token_hex(8), now, "Grace Hopper", drawer, (tx,),
                   sender=HUB, receiver=BANK, cheque=text or cheque["jws"])


def status(answer: Pacs002) -> tuple[Status, Reason | None, str]:
    (s,) = answer.statuses
    return s.status, s.reason, s.detail


def cheque_moves(api: TestClient) -> int:
    with platform_of(api).database.engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(bank_transfers).where(
            bank_transfers.c.kind == "cheque")).scalar_one())


def state_of(api: TestClient, cheque_id: str) -> str:
    with platform_of(api).database.engine.connect() as conn:
        return str(conn.execute(select(cheques.c.state).where(
            cheques.c.id == cheque_id)).scalar_one())


# -- the drawer's bank ------------------------------------------------------------------


def test_a_presented_cheque_is_paid_once_by_a_transfer_out_named_by_the_presentment(
        api: TestClient, desk: ChequeDesk, link: ClearingLink, hub: FakeHub,
        ada: Customer) -> None:
    cheque = write(api, ada)
    asked = presentment(api, cheque)
    e2e = asked.payments[0].end_to_end_id
    assert status(desk.on_pain001(asked, HUB))[0] is Status.ACCP
    again = presentment(api, cheque)  # a retry: a new message, the cheque's same id
    assert again.payments[0].end_to_end_id == e2e
    assert status(desk.on_pain001(again, HUB))[0] is Status.ACCP
    assert cheque_moves(api) == 1 and state_of(api, cheque["id"]) == "paid"
    assert movement(api, e2e)["state"] == "pending"
    assert link.run_due() == 1
    (sent,) = [t for m in hub.sent for t in m.transfers]  # type: ignore[attr-defined]
    assert (sent.end_to_end_id, sent.creditor.iban, sent.creditor.agent) == (
        e2e, ELSEWHERE, ELSEWHERE_BIC)
    assert sent.amount == Money(AMOUNT, "EUR")
    assert movement(api, e2e)["state"] == "posted"
    assert balance_of(api, ada.token, ada.account["id"]) == 1_000_00 - AMOUNT
    later = presentment(api, cheque)  # presented again once paid: still the one payment
    assert status(desk.on_pain001(later, HUB))[0] is Status.ACCP
    assert cheque_moves(api) == 1 and verified(api)


def test_a_transfer_the_network_refuses_bounces_the_cheque_and_refunds_the_drawer(
        api: TestClient, desk: ChequeDesk, link: ClearingLink, hub: FakeHub,
        ada: Customer) -> None:
    cheque = write(api, ada)
    asked = presentment(api, cheque)
    assert status(desk.on_pain001(asked, HUB))[0] is Status.ACCP
    hub.default = (Status.RJCT, Reason.AM04)
    link.run_due()
    e2e = asked.payments[0].end_to_end_id
    assert movement(api, e2e)["state"] == "voided"
    assert state_of(api, cheque["id"]) == "bounced"
    assert balance_of(api, ada.token, ada.account["id"]) == 1_000_00
    retried = presentment(api, cheque, e2e=e2e)
    assert status(desk.on_pain001(retried, HUB))[:2] == (Status.RJCT, Reason.AM04)
    assert cheque_moves(api) == 1 and verified(api)


@pytest.mark.parametrize("attack", ["amount", "signature", "foreign_id", "another_cheques_id"])
def test_an_altered_or_forged_presentment_bounces_altered_and_moves_nothing(
        api: TestClient, desk: ChequeDesk, ada: Customer, attack: str) -> None:
    cheque = write(api, ada)
    header, payload, signature = cheque["jws"].split(".")
    asked = {"amount": lambda: presentment(api, cheque, amount=AMOUNT * 10),
             "signature": lambda: presentment(
                 api, cheque, text=f"{header}.{payload}.{signature[::-1]}"),
             "foreign_id": lambda: presentment(api, cheque, e2e="cheque:" + "0" * 24),
             "another_cheques_id": lambda: presentment(api, cheque, e2e=presentment_id(
                 cheque["drawer_iban"], cheque["serial"] + 1)),
             }[attack]()
    assert status(desk.on_pain001(asked, HUB)) == (Status.RJCT, Reason.NARR, "altered")
    assert cheque_moves(api) == 0 and state_of(api, cheque["id"]) == "issued"
    assert balance_of(api, ada.token, ada.account["id"]) == 1_000_00


def test_a_stopped_or_uncovered_cheque_bounces_with_its_iso_reason(
        api: TestClient, desk: ChequeDesk, ada: Customer) -> None:
    stopped = write(api, ada)
    r = api.post(f"/v1/me/cheques/{stopped['id']}/stop", headers=bearer(ada.token))
    assert r.status_code == 200, r.text
    assert status(desk.on_pain001(presentment(api, stopped), HUB)) == (
        Status.RJCT, Reason.CUST, "stopped")
    uncovered = write(api, ada, amount=2_000_00)
    assert status(desk.on_pain001(presentment(api, uncovered), HUB)) == (
        Status.RJCT, Reason.AM04, "insufficient_funds")
    assert state_of(api, uncovered["id"]) == "bounced" and cheque_moves(api) == 0


def test_a_presentment_from_anyone_but_the_hub_is_refused(
        api: TestClient, desk: ChequeDesk, ada: Customer) -> None:
    cheque = write(api, ada)
    with pytest.raises(DomainError) as refused:
        desk.on_pain001(presentment(api, cheque), ELSEWHERE_BIC)
    assert refused.value.code == "message_sender_not_hub"
    assert cheque_moves(api) == 0


# -- the payee's bank -------------------------------------------------------------------


@dataclass
class Wire:
    """The payee's bank's link to its hub, answering presentments as told."""

    answer: tuple[Status, Reason | None, str] = (Status.ACCP, None, "")
    down: bool = False
    sent: list[Pain001] = field(default_factory=list)

    def send(self, message: Message) -> Message | None:
        if self.down:
            raise HubUnreachable("connection refused")
        assert isinstance(message, Pain001)
        self.sent.append(message)
        tx = message.payments[0]
        return Pacs002(Header("hub" + secrets.token_hex(6), message.created_ns, HUB, BANK),
                       message.msg_id, MessageType.PAIN_001,
                       (TxStatus(tx.uetr, tx.end_to_end_id, "", *self.answer),))


@pytest.fixture
def wire(api: TestClient) -> Wire:
    wire = Wire()
    p = platform_of(api)
    p.cheques.collect_through(ChequeCollector(wire, clock=p.clock, bic=BANK, hub_bic=HUB,
                                              directory=Directory({})))
    return wire


def foreign(api: TestClient, payee: Customer) -> str:
    """A cheque of ELSEWHERE's bank (its signature is that bank's to check)."""
    from .test_cheques import foreign_cheque

    return foreign_cheque(api, SimpleNamespace(account=payee.account),  # type: ignore[arg-type]
                          AMOUNT)


def present(api: TestClient, who: Customer, text: str) -> Any:
    return api.post("/v1/me/cheques/present", headers=bearer(who.token),
                    json={"cheque": text, "account_id": who.account["id"]})


def test_a_cheque_of_another_bank_is_collecting_until_its_money_settles_then_paid(
        api: TestClient, wire: Wire, incoming: Incoming, bob: Customer) -> None:
    text = foreign(api, bob)
    r = present(api, bob, text)
    assert r.status_code == 202 and r.json()["outcome"] == "collecting", r.text
    cheque_id = r.json()["cheque"]["id"]
    (asked,) = wire.sent
    assert asked.cheque == text and asked.payments[0].debtor.agent == ELSEWHERE_BIC
    assert (asked.sender, asked.receiver) == (BANK, HUB)
    e2e = asked.payments[0].end_to_end_id
    assert balance_of(api, bob.token, bob.account["id"]) == 0
    assert state_of(api, cheque_id) == "issued"
    again = present(api, bob, text)  # asked again while collecting: the same presentment
    assert again.status_code == 202 and wire.sent[1].payments[0].end_to_end_id == e2e
    now = platform_of(api).clock.now_ns()
    money = CreditTransfer(str(uuid.uuid4()), e2e, "tx1", Money(AMOUNT, "EUR"),
                           Party("Drawer", asked.payments[0].debtor.iban, ELSEWHERE_BIC),
                           Party("Bob", bob.account["iban"], BANK), now + 60 * NS)
    incoming.on_pacs008(forwarded(money, now_ns=now), HUB)
    assert state_of(api, cheque_id) == "issued"  # accepted, not settled yet
    incoming.on_pacs002(final((money.uetr, Status.ACSC, None), now_ns=now), HUB)
    assert state_of(api, cheque_id) == "paid"
    assert balance_of(api, bob.token, bob.account["id"]) == AMOUNT
    bounced = present(api, bob, text)
    assert bounced.status_code == 422 and bounced.json()["reason"] == "duplicate"
    assert len(wire.sent) == 2 and verified(api)


@pytest.mark.parametrize(("answer", "reason"), [
    ((Status.RJCT, Reason.CUST, "stopped"), "stopped"),
    ((Status.RJCT, Reason.AM04, ""), "insufficient_funds"),
    ((Status.RJCT, Reason.NARR, "altered"), "altered")])
def test_a_cheque_its_bank_refuses_bounces_with_that_banks_reason(
        api: TestClient, wire: Wire, bob: Customer,
        answer: tuple[Status, Reason | None, str], reason: str) -> None:
    wire.answer = answer
    r = present(api, bob, foreign(api, bob))
    assert r.status_code == 422 and r.json()["reason"] == reason, r.text
    assert balance_of(api, bob.token, bob.account["id"]) == 0


@pytest.mark.parametrize("down", ["hub", "drawer_bank"])
def test_an_unreachable_drawers_bank_records_nothing_and_a_later_presentation_collects(
        api: TestClient, wire: Wire, bob: Customer, down: str) -> None:
    text = foreign(api, bob)
    if down == "hub":
        wire.down = True
    else:  # the hub answered for the drawer's bank it could not reach
        wire.answer = (Status.RJCT, Reason.AB08, "OTHRDEFF is not answering")
    r = present(api, bob, text)
    assert r.status_code == 503 and r.json()["code"] == "cheque_bank_unreachable", r.text
    with platform_of(api).database.engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(cheques)).scalar_one() == 0
    wire.down, wire.answer = False, (Status.ACCP, None, "")
    r = present(api, bob, text)
    assert r.status_code == 202, r.text


def test_a_cheque_still_collecting_is_asked_about_again_and_bounces_when_refused(
        api: TestClient, wire: Wire, bob: Customer) -> None:
    """Its bank accepted it, then the network refused its money: the payee's bank asks
    again after FOLLOW_AFTER_S and bounces it with that bank's reason, unasked."""
    p = platform_of(api)
    collector = p.cheques._rail
    following = Following(p.database, clock=p.clock, collector=collector)
    text = foreign(api, bob)
    r = present(api, bob, text)
    assert r.status_code == 202, r.text
    cheque_id = r.json()["cheque"]["id"]
    assert following.run_due() == 0 and len(wire.sent) == 1  # not due yet
    p.clock.advance(FOLLOW_AFTER_S + 1)
    assert following.run_due() == 0 and len(wire.sent) == 2  # still accepted: waits on
    assert state_of(api, cheque_id) == "issued"
    assert wire.sent[1].payments[0].end_to_end_id == wire.sent[0].payments[0].end_to_end_id
    wire.answer = (Status.RJCT, Reason.AM04, "insufficient_funds")
    assert following.run_due() == 0  # asked a moment ago: not due again yet
    p.clock.advance(FOLLOW_AFTER_S + 1)
    assert following.run_due() == 1
    assert state_of(api, cheque_id) == "bounced"
    got = api.get(f"/v1/me/cheques/{cheque_id}", headers=bearer(bob.token)).json()
    assert got["bounce_reason"] == "insufficient_funds"
    assert [x["outcome"] for x in got["presentations"]].count("bounced") == 1
    p.clock.advance(FOLLOW_AFTER_S + 1)
    assert following.run_due() == 0 and len(wire.sent) == 3  # final: never asked again
    assert balance_of(api, bob.token, bob.account["id"]) == 0


def test_a_payment_voided_another_way_bounces_the_cheque_when_asked_again(
        api: TestClient, desk: ChequeDesk, ada: Customer) -> None:
    """Voided by a review's decline, say, not by the network: the drawer's bank's next
    answer to the presentment bounces the cheque there too, and the drawer has the money."""
    cheque = write(api, ada)
    asked = presentment(api, cheque)
    assert status(desk.on_pain001(asked, HUB))[0] is Status.ACCP
    e2e = asked.payments[0].end_to_end_id
    platform_of(api).banking.movements.settle(e2e, post=False, reason="declined")
    assert state_of(api, cheque["id"]) == "paid"
    assert status(desk.on_pain001(presentment(api, cheque), HUB)) == (
        Status.RJCT, Reason.AM04, "insufficient_funds")
    assert state_of(api, cheque["id"]) == "bounced"
    assert balance_of(api, ada.token, ada.account["id"]) == 1_000_00 and verified(api)


def test_a_cheques_money_that_settled_before_it_was_presented_again_makes_it_paid(
        api: TestClient, wire: Wire, incoming: Incoming, bob: Customer) -> None:
    """Its bank paid, died before it answered (the payee's bank recorded nothing), and sent
    the money on restart: presented again, the cheque is paid at once (seen in CI)."""
    text = foreign(api, bob)
    claims = json.loads(urlsafe_b64decode(text.split(".")[1].encode()))
    e2e = presentment_id(claims["drawer_iban"], claims["serial"])
    now = platform_of(api).clock.now_ns()
    money = CreditTransfer(str(uuid.uuid4()), e2e, "tx2", Money(AMOUNT, "EUR"),
                           Party("Drawer", claims["drawer_iban"], ELSEWHERE_BIC),
                           Party("Bob", bob.account["iban"], BANK), now + 60 * NS)
    incoming.on_pacs008(forwarded(money, now_ns=now), HUB)
    incoming.on_pacs002(final((money.uetr, Status.ACSC, None), now_ns=now), HUB)
    assert balance_of(api, bob.token, bob.account["id"]) == AMOUNT
    r = present(api, bob, text)
    assert r.status_code == 202 and r.json()["cheque"]["state"] == "paid", r.text
    bounced = present(api, bob, text)
    assert bounced.status_code == 422 and bounced.json()["reason"] == "duplicate"
    assert balance_of(api, bob.token, bob.account["id"]) == AMOUNT and verified(api)
