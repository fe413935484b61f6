"""Issue 14's network, for real: two regions, a hub and two banks each, every node its own
process and database. Customers send money to other banks and other regions over the
customers' API; every node is SIGKILLed at each step of the two-phase flow, and a region's
hub is taken down mid-traffic. After each kill: the transfer is settled exactly once or
returned (both customers' balances say so); at the end `paywarden verify`, `audit verify`
and `clearing reconcile` pass on every node.

One test item per store, each with its own network: the items cannot be split between
xdist workers (a module fixture would be built once per worker, and xdist's loadgroup
did not keep a marked module on one worker), and a network takes minutes to provision.
"""

from __future__ import annotations

import secrets
from pathlib import Path

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


def test_on_sqlite_transfers_settle_once_through_every_kill_and_a_region_outage(
        tmp_path_factory: pytest.TempPathFactory) -> None:
    with lab("sqlite", Path(tmp_path_factory.mktemp("lab")), regions=2, banks=2) as the_lab:
        assert _once(the_lab, "bank-1a", "bank-1b")["state"] == "posted"  # in the region
        assert _once(the_lab, "bank-1a", "bank-2b")["state"] == "posted"  # across regions
        assert _once(the_lab, "bank-2a", "bank-1b")["state"] == "posted"
        unknown = _other_account(the_lab.customer("bank-2a").account["iban"])
        done = _once(the_lab, "bank-1a", "bank-2b", iban=unknown)
        assert (done["state"], done["reason"]) == ("voided", "AC01")
        the_lab.verify_every_node()
        for turn, (name, point) in enumerate(STEPS):
            _kill_once(the_lab, name, point, turn)
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


def _other_account(iban: str) -> str:
    """An IBAN at the same bank that no account has: other digits, valid check digits."""
    from schwifty import IBAN

    parsed = IBAN(iban)
    digits = parsed.account_code
    other = str((int(digits) + 1) % 10 ** len(digits)).zfill(len(digits))
    return str(IBAN.generate(parsed.country_code, bank_code=parsed.bank_code,
                             account_code=other))
