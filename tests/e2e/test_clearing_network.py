"""Issue 14's network, for real: two regions, a hub and two banks each, every node its own
process and database. Customers send money to other banks and other regions over the
customers' API; every node is SIGKILLed at each step of the two-phase flow, and of a
return (pacs.004) of a settled transfer, and of a recall (camt.056 / camt.029); a region's
hub is taken down mid-traffic. After each kill: the transfer is settled exactly once or
returned (both customers' balances say so); at the end `paywarden verify`, `audit verify`
and `clearing reconcile` pass on every node.

One test item per store, each with its own network: the items cannot be split between
xdist workers (a module fixture would be built once per worker, and xdist's loadgroup
did not keep a marked module on one worker), and a network takes minutes to provision.
"""

from __future__ import annotations

import datetime as dt
import secrets
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from .clearing_net import Lab, lab

# Six servers and a dozen restarts: minutes alone, far more beside three busy workers.
pytestmark = [pytest.mark.slow, pytest.mark.timeout(1800)]

AMOUNT = 12_34


def _once(the_lab: Lab, payer: str, payee: str, *, amount: int = AMOUNT,
          iban: str | None = None) -> dict[str, object]:
    """Send ``amount`` from ``payer``'s customer to ``payee``'s, wait until it is final,
    and check it happened exactly once: posted and credited once, or voided, refunded and
    never credited."""
    sender, receiver = the_lab.customer(payer), the_lab.customer(payee)
    before = sender.balance(), receiver.balance()
    sent = sender.send(iban or receiver.account["iban"], amount,
                       reference="e2e " + secrets.token_hex(3))
    assert sent["state"] == "pending"
    done = the_lab.settled(sender, sent["id"])
    moved = amount if done["state"] == "posted" and iban is None else 0
    after = sender.balance(), the_lab.credited(receiver, before[1] + moved)
    if done["state"] == "posted":
        assert after == (before[0] - amount, before[1] + amount)
    else:
        assert done["state"] == "voided", done
        assert after == before
    return done


# Every step of the two-phase flow, on the node that takes it: the transfer goes from
# bank-1a (payer) through hub-1 to hub-2, the decider, and bank-2a (payee).
STEPS = [
    ("bank-1a", "clearing.payer.reserved"),
    ("bank-1a", "clearing.payer.sent"),
    ("bank-1a", "clearing.payer.settled"),
    ("hub-1", "clearing.hub.reserved"),
    ("hub-1", "clearing.hub.forwarded"),
    ("hub-1", "clearing.hub.decided"),
    ("hub-2", "clearing.hub.reserved"),
    ("hub-2", "clearing.hub.forwarded"),
    ("hub-2", "clearing.hub.decided"),
    ("hub-2", "clearing.hub.notified"),
    ("hub-2", "clearing.notice.sent"),  # a camt.054 sent, not yet marked: sent again
    ("bank-2a", "clearing.payee.accepted"),
    ("bank-2a", "clearing.payee.settled"),
]


def _kill_once(the_lab: Lab, name: str, point: str, turn: int) -> None:
    """SIGKILL ``name`` at ``point`` while a transfer from bank-1a to a new customer of
    bank-2a crosses, start it again, and check the money moved once or came back."""
    node = the_lab.node(name)
    sender, receiver = the_lab.sender("bank-1a", turn), the_lab.newcomer("bank-2a")
    the_lab.restart(node, PAYWARDEN_CRASH_AT=f"{point}:1")
    before = sender.balance(), receiver.balance()
    try:  # the customer's 201 comes first: every crash point is after the answer
        sent = sender.send(receiver.account["iban"], AMOUNT, reference=point)
    finally:
        assert the_lab.net.wait_exit(node, timeout_s=60) == -9, f"{name} never reached {point}"
        the_lab.recover(node)
    done = the_lab.settled(sender, sent["id"])
    moved = AMOUNT if done["state"] == "posted" else 0
    assert done["state"] in ("posted", "voided"), (point, done)
    credited = the_lab.credited(receiver, before[1] + moved)
    assert (sender.balance(), credited) == (before[0] - moved, before[1] + moved), point


# Every step of a return (pacs.004, decision 0060) of a transfer bank-1a paid to bank-2a:
# back from bank-2a (the returner) through hub-2 to hub-1, the decider, and bank-1a.
RETURN_STEPS = [
    ("bank-2a", "clearing.payer.sent"),
    ("bank-2a", "clearing.payer.settled"),
    ("hub-2", "clearing.hub.reserved"),
    ("hub-2", "clearing.hub.forwarded"),
    ("hub-2", "clearing.hub.decided"),
    ("hub-1", "clearing.hub.reserved"),
    ("hub-1", "clearing.hub.forwarded"),
    ("hub-1", "clearing.hub.decided"),
    ("hub-1", "clearing.hub.notified"),
    ("bank-1a", "clearing.payee.accepted"),
    ("bank-1a", "clearing.payee.settled"),
]


def _return_once(the_lab: Lab, payer: str, payee: str, turn: int,
                 kill: tuple[str, str] | None = None) -> str:
    """A transfer from ``payer``'s customer to a new customer of ``payee``, settled, then
    returned by ``payee`` (as two of its staff would have approved it); with ``kill``,
    that node is SIGKILLed at that step of the return. The money comes back exactly once,
    or the return is voided and nobody's balance moved; the return's final state."""
    sender, receiver = the_lab.sender(payer, turn), the_lab.newcomer(payee)
    sent = sender.send(receiver.account["iban"], AMOUNT, reference=f"to return {turn}")
    assert the_lab.settled(sender, sent["id"])["state"] == "posted"
    assert the_lab.credited(receiver, AMOUNT) == AMOUNT
    (credit,) = [t for t in receiver.transfers() if t.startswith("clr_")]
    before = sender.balance(), receiver.balance()
    node = the_lab.node(kill[0]) if kill is not None else None
    if node is not None and kill is not None:
        the_lab.restart(node, PAYWARDEN_CRASH_AT=f"{kill[1]}:1")
    try:
        key = the_lab.net.call(the_lab.node(payee), "paywarden.testing.lab:store_return",
                               credit.removeprefix("clr_"), "FR01")
    finally:
        if node is not None:
            assert the_lab.net.wait_exit(node, timeout_s=60) == -9, f"{kill} never reached"
            the_lab.recover(node)
    done = the_lab.settled(receiver, "rtn_" + key.replace("-", ""))
    moved = AMOUNT if done["state"] == "posted" else 0
    assert done["state"] in ("posted", "voided"), (kill, done)
    assert (the_lab.credited(sender, before[0] + moved), receiver.balance()) == (
        before[0] + moved, before[1] - moved), kill
    return str(done["state"])


# Every node that writes a recall's case (camt.056) and then owes a peer a message: asked
# by bank-1a, relayed by hub-1 and hub-2 to bank-2a ("ask"); answered by bank-2a, the
# camt.029 relayed back by hub-2 and hub-1 ("answer"). Each is killed between the two.
RECALL_KILLS = [("hub-1", "ask"), ("hub-2", "ask"), ("bank-2a", "ask"),
                ("hub-2", "answer"), ("hub-1", "answer")]
RECALL_WAIT_S = 90


def _recall_state(the_lab: Lab, name: str, case_id: str, wanted: str) -> None:
    deadline = time.monotonic() + RECALL_WAIT_S
    seen = ""
    while time.monotonic() < deadline:
        seen = the_lab.net.call(the_lab.node(name), "paywarden.testing.lab:recall_state",
                                case_id)
        if seen == wanted:
            return
        time.sleep(0.5)
    raise AssertionError(f"{name}: recall {case_id} is {seen}, never {wanted}")


def _recall_once(the_lab: Lab, turn: int, answer: str,
                 kill: tuple[str, str] | None = None) -> None:
    """A transfer from bank-1a to a new customer of bank-2a, settled, then recalled by
    bank-1a and answered by bank-2a (``accept``: the money comes back as a return;
    ``refuse``: nothing moves); with ``kill``, that node is SIGKILLed between writing the
    case and delivering what it owes. The answer reaches bank-1a once."""
    sender, receiver = the_lab.sender("bank-1a", turn), the_lab.newcomer("bank-2a")
    sent = sender.send(receiver.account["iban"], AMOUNT, reference=f"to recall {turn}")
    assert the_lab.settled(sender, sent["id"])["state"] == "posted"
    assert the_lab.credited(receiver, AMOUNT) == AMOUNT
    before = sender.balance(), receiver.balance()
    bank_1a, bank_2a = the_lab.node("bank-1a"), the_lab.node("bank-2a")

    def killed_at(phase: str, work: Callable[[], str]) -> str:
        node = the_lab.node(kill[0]) if kill is not None and kill[1] == phase else None
        if node is not None:
            the_lab.restart(node, PAYWARDEN_CRASH_AT="clearing.recall.owed:1")
        try:
            return work()
        finally:
            if node is not None:
                assert the_lab.net.wait_exit(node, timeout_s=60) == -9, f"{kill} never"
                the_lab.recover(node)

    case_id = killed_at("ask", lambda: the_lab.net.call(
        bank_1a, "paywarden.testing.lab:request_recall", sent["id"], "DUPL"))
    _recall_state(the_lab, "bank-2a", case_id, "open")
    killed_at("answer", lambda: the_lab.net.call(
        bank_2a, "paywarden.testing.lab:answer_recall", case_id, answer))
    _recall_state(the_lab, "bank-1a", case_id, "accepted" if answer == "accept"
                  else "refused")
    moved = AMOUNT if answer == "accept" else 0
    assert (the_lab.credited(sender, before[0] + moved), receiver.balance()) == (
        before[0] + moved, before[1] - moved), kill


def _region_down(the_lab: Lab) -> None:
    """Hub 2 dies with a transfer in flight: new transfers to its region are refused AB08
    at once, region 1 keeps working, and the one in flight completes after recovery."""
    hub2 = the_lab.node("hub-2")
    sender, receiver = the_lab.sender("bank-1b", 0), the_lab.newcomer("bank-2a")
    the_lab.restart(hub2, PAYWARDEN_CRASH_AT="clearing.hub.reserved:1")
    in_flight = sender.send(receiver.account["iban"], AMOUNT, reference="in flight")
    assert the_lab.net.wait_exit(hub2, timeout_s=60) == -9
    refused = sender.send(receiver.account["iban"], AMOUNT, reference="region down")
    done = the_lab.settled(sender, refused["id"])
    assert (done["state"], done["reason"]) == ("voided", "AB08")
    assert _once(the_lab, "bank-1a", "bank-1b")["state"] == "posted"  # the region works
    assert sender.transfers()[in_flight["id"]]["state"] == "pending"  # neither side alone
    the_lab.recover(hub2)
    assert the_lab.settled(sender, in_flight["id"])["state"] in ("posted", "voided")


def _cheque_once(the_lab: Lab, drawer_bank: str, payee_bank: str, *,
                 kill: bool = False) -> None:
    """A cheque written at ``drawer_bank``, presented at ``payee_bank``: the drawer's bank
    accepts it (202 collecting), its money comes through the network, and the cheque turns
    paid; presented again it bounces duplicate. With ``kill``, the drawer's bank dies once
    it has paid and before it answers: the presenter is told to try later, nothing moves
    twice, and presenting again after the recovery collects the one payment."""
    drawer, payee = the_lab.customer(drawer_bank), the_lab.customer(payee_bank)
    today = dt.datetime.now(dt.UTC).date()
    written = drawer.write_cheque(payee.account["iban"], AMOUNT, payee_name="Cheque payee",
                                  date=today.isoformat(),
                                  expires_on=(today + dt.timedelta(days=30)).isoformat())
    before = drawer.balance(), payee.balance()
    bank = the_lab.node(drawer_bank)
    if kill:
        the_lab.restart(bank, PAYWARDEN_CRASH_AT="clearing.cheque.honoured:1")
        r = payee.present_cheque(written["jws"])
        assert r.status_code == 503 and r.json()["code"] == "cheque_bank_unreachable", r.text
        assert the_lab.net.wait_exit(bank, timeout_s=60) == -9
        the_lab.recover(bank)
    r = payee.present_cheque(written["jws"])
    assert r.status_code == 202 and r.json()["outcome"] == "collecting", r.text
    cheque_id = r.json()["cheque"]["id"]
    assert the_lab.credited(payee, before[1] + AMOUNT) == before[1] + AMOUNT
    deadline = time.monotonic() + 60
    while payee.cheque(cheque_id)["state"] != "paid" and time.monotonic() < deadline:
        time.sleep(0.25)
    assert payee.cheque(cheque_id)["state"] == "paid"
    assert drawer.balance() == before[0] - AMOUNT
    assert drawer.cheque(written["id"])["state"] == "paid"
    again = payee.present_cheque(written["jws"])
    assert again.status_code == 422 and again.json()["reason"] == "duplicate", again.text
    assert (drawer.balance(), payee.balance()) == (before[0] - AMOUNT, before[1] + AMOUNT)


def _stopped_cheque(the_lab: Lab, drawer_bank: str, payee_bank: str) -> None:
    """A stopped cheque of another bank bounces ``stopped`` there, and moves nothing."""
    drawer, payee = the_lab.customer(drawer_bank), the_lab.customer(payee_bank)
    today = dt.datetime.now(dt.UTC).date()
    written = drawer.write_cheque(payee.account["iban"], AMOUNT, date=today.isoformat(),
                                  expires_on=(today + dt.timedelta(days=30)).isoformat())
    drawer.call("POST", f"/v1/me/cheques/{written['id']}/stop")
    before = drawer.balance(), payee.balance()
    r = payee.present_cheque(written["jws"])
    assert r.status_code == 422 and r.json()["reason"] == "stopped", r.text
    assert (drawer.balance(), payee.balance()) == before


def test_on_sqlite_transfers_settle_once_through_every_kill_and_a_region_outage(
        tmp_path_factory: pytest.TempPathFactory) -> None:
    with lab("sqlite", Path(tmp_path_factory.mktemp("lab")), regions=2, banks=2) as the_lab:
        assert _once(the_lab, "bank-1a", "bank-1b")["state"] == "posted"  # in the region
        assert _once(the_lab, "bank-1a", "bank-2b")["state"] == "posted"  # across regions
        assert _once(the_lab, "bank-2a", "bank-1b")["state"] == "posted"
        unknown = _other_account(the_lab.customer("bank-2a").account["iban"])
        done = _once(the_lab, "bank-1a", "bank-2b", iban=unknown)
        assert (done["state"], done["reason"]) == ("voided", "AC01")
        _cheque_once(the_lab, "bank-1a", "bank-1b")  # a cheque of another bank: the region
        _cheque_once(the_lab, "bank-2a", "bank-1a")  # and across regions
        _cheque_once(the_lab, "bank-1b", "bank-2b", kill=True)
        _stopped_cheque(the_lab, "bank-2b", "bank-1a")
        the_lab.verify_every_node()
        for turn, (name, point) in enumerate(STEPS):
            _kill_once(the_lab, name, point, turn)
        the_lab.verify_every_node()
        assert _return_once(the_lab, "bank-1a", "bank-1b", 0) == "posted"  # in the region
        assert _return_once(the_lab, "bank-1a", "bank-2a", 1) == "posted"  # across regions
        for turn, step in enumerate(RETURN_STEPS):
            _return_once(the_lab, "bank-1a", "bank-2a", turn, kill=step)
        the_lab.verify_every_node()
        _recall_once(the_lab, 0, "refuse")
        _recall_once(the_lab, 1, "accept")
        for turn, kill in enumerate(RECALL_KILLS):
            _recall_once(the_lab, turn, "accept" if turn % 2 else "refuse", kill)
        the_lab.verify_every_node()
        _region_down(the_lab)
        the_lab.verify_every_node()


def test_on_postgresql_the_deciders_and_the_payees_kills_move_money_once(
        tmp_path_factory: pytest.TempPathFactory) -> None:
    """The same code on another store: what differs is how each commits and recovers."""
    with lab("postgresql", Path(tmp_path_factory.mktemp("lab")), regions=2,
             banks=2) as the_lab:
        assert _once(the_lab, "bank-1a", "bank-2b")["state"] == "posted"
        for turn, (name, point) in enumerate((("hub-2", "clearing.hub.decided"),
                                              ("bank-2a", "clearing.payee.accepted"))):
            _kill_once(the_lab, name, point, turn)
        the_lab.verify_every_node()


def _settled_windows(the_lab: Lab, hub_name: str, timeout_s: float = 60) -> dict[str, int]:
    """The hub's participants' settlement balances once its cycle has settled every
    window that held positions (each net position back to zero)."""
    hub = the_lab.node(hub_name)
    deadline = time.monotonic() + timeout_s
    view: dict[str, Any] = {}
    while time.monotonic() < deadline:
        view = the_lab.net.command_json(hub, "clearing", "positions", "--json")
        if all(p["net_position"] == 0 and p["reserved"] == 0 for p in view["participants"]) \
                and view["net_positions_sum"] == 0 \
                and all(w["state"] != "closed" for w in view["windows"]):
            return {p["bic"]: p["settlement"] for p in view["participants"]}
        time.sleep(0.5)
    raise AssertionError(f"{hub_name}'s windows never all settled: {view}")


def test_on_sqlite_net_settlement_moves_each_transfer_once_through_the_deciders_kill(
        tmp_path_factory: pytest.TempPathFactory) -> None:
    """Two banks of one region on MPNS, the hub closing and settling its windows every
    2 s: transfers both ways and one through a kill of the hub just after it decided
    each settle once; every window settles, the net positions come back to zero, and
    each settlement account moved by what its bank sent and received, no more."""
    with lab("sqlite", Path(tmp_path_factory.mktemp("lab")), regions=1, banks=2,
             channel="MPNS", PAYWARDEN_CLEARING_CHANNEL="MPNS",
             PAYWARDEN_CLEARING_WINDOW_CYCLE_S="2") as the_lab:
        a, b = (the_lab.node(n).bic for n in ("bank-1a", "bank-1b"))
        before = _settled_windows(the_lab, "hub-1")
        assert _once(the_lab, "bank-1a", "bank-1b")["state"] == "posted"
        assert _once(the_lab, "bank-1b", "bank-1a", amount=3 * AMOUNT)["state"] == "posted"
        hub = the_lab.node("hub-1")
        sender, receiver = the_lab.customer("bank-1a"), the_lab.customer("bank-1b")
        paid = sender.balance(), receiver.balance()
        the_lab.restart(hub, PAYWARDEN_CRASH_AT="clearing.hub.decided:1")
        try:
            sent = sender.send(receiver.account["iban"], AMOUNT, reference="hub killed")
        finally:
            assert the_lab.net.wait_exit(hub, timeout_s=60) == -9, "never decided"
            the_lab.recover(hub)
        done = the_lab.settled(sender, sent["id"])
        assert done["state"] in ("posted", "voided"), done
        moved = AMOUNT if done["state"] == "posted" else 0
        assert (sender.balance(), the_lab.credited(receiver, paid[1] + moved)) == (
            paid[0] - moved, paid[1] + moved)
        after = _settled_windows(the_lab, "hub-1")
        net_a = 3 * AMOUNT - AMOUNT - moved
        assert (after[a] - before[a], after[b] - before[b]) == (net_a, -net_a)
        the_lab.verify_every_node()


def _other_account(iban: str) -> str:
    """An IBAN at the same bank that no account has: other digits, valid check digits."""
    from schwifty import IBAN

    parsed = IBAN(iban)
    digits = parsed.account_code
    other = str((int(digits) + 1) % 10 ** len(digits)).zfill(len(digits))
    return str(IBAN.generate(parsed.country_code, bank_code=parsed.bank_code,
                             account_code=other))
