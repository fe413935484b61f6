"""Issue 14's network, for real: two regions, a hub and two banks each, every node its own
process and database. Customers send money to other banks and other regions over the
customers' API; every node is SIGKILLed at each step of the two-phase flow, and a region's
hub is taken down mid-traffic. After each: every acknowledged transfer is settled exactly
once or returned, and `paywarden verify`, `audit verify` and `clearing reconcile` pass on
every node.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator

import pytest

from tests.conftest import BACKENDS

from .clearing_net import Lab, lab

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("clearing-network")]

AMOUNT = 12_34


@pytest.fixture(scope="module")
def sqlite_lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Lab]:
    with lab("sqlite", tmp_path_factory.mktemp("lab"), regions=2, banks=2) as made:
        yield made


@pytest.fixture(scope="module")
def postgresql_lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Lab]:
    with lab("postgresql", tmp_path_factory.mktemp("lab"), regions=2, banks=2) as made:
        yield made


@pytest.fixture(params=BACKENDS)
def the_lab(request: pytest.FixtureRequest) -> Lab:
    """One network per backend for the whole module (each built on first use)."""
    made: Lab = request.getfixturevalue(f"{request.param}_lab")
    return made


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


def test_a_transfer_to_another_bank_of_the_region_settles_once(sqlite_lab: Lab) -> None:
    assert _once(sqlite_lab, "bank-1a", "bank-1b")["state"] == "posted"
    sqlite_lab.verify_every_node()


def test_a_transfer_to_a_bank_of_another_region_settles_once(the_lab: Lab) -> None:
    assert _once(the_lab, "bank-1a", "bank-2b")["state"] == "posted"
    assert _once(the_lab, "bank-2a", "bank-1b")["state"] == "posted"
    the_lab.verify_every_node()


def test_a_transfer_to_an_account_the_payee_bank_does_not_hold_comes_back_AC01(
        sqlite_lab: Lab) -> None:
    unknown = _other_account(sqlite_lab.customer("bank-2a").account["iban"])
    done = _once(sqlite_lab, "bank-1a", "bank-2b", iban=unknown)
    assert (done["state"], done["reason"]) == ("voided", "AC01")


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


# Every step on SQLite; on PostgreSQL the decider's decision and the payee bank's accept
# (the same code on another store: what differs is how each commits and recovers).
PG_STEPS = [("hub-2", "clearing.hub.decided"), ("bank-2a", "clearing.payee.accepted")]
KILLS = [("sqlite", *step) for step in STEPS] + [("postgresql", *step) for step in PG_STEPS]


@pytest.mark.parametrize(("backend", "name", "point"), KILLS)
def test_a_node_killed_at_each_step_loses_and_duplicates_nothing(
        request: pytest.FixtureRequest, backend: str, name: str, point: str) -> None:
    the_lab: Lab = request.getfixturevalue(f"{backend}_lab")
    node = the_lab.node(name)
    sender, receiver = the_lab.customer("bank-1a"), the_lab.newcomer("bank-2a")
    the_lab.restart(node, PAYWARDEN_CRASH_AT=f"{point}:1")
    before = sender.balance(), receiver.balance()
    try:  # the customer's 201 comes first: every crash point is after the answer
        sent = sender.send(receiver.account["iban"], AMOUNT, reference=point)
    finally:
        assert the_lab.net.wait_exit(node, timeout_s=60) == -9, f"{name} never reached {point}"
        the_lab.recover(node)
    done = the_lab.settled(sender, sent["id"])
    moved = AMOUNT if done["state"] == "posted" else 0
    assert done["state"] in ("posted", "voided")
    credited = the_lab.credited(receiver, before[1] + moved)
    assert (sender.balance(), credited) == (before[0] - moved, before[1] + moved)
    the_lab.verify_every_node()


def test_a_region_down_refuses_new_transfers_to_it_and_settles_those_in_flight_later(
        sqlite_lab: Lab) -> None:
    the_lab = sqlite_lab
    hub2 = the_lab.node("hub-2")
    sender, receiver = the_lab.customer("bank-1a"), the_lab.newcomer("bank-2a")
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
    the_lab.verify_every_node()


def _other_account(iban: str) -> str:
    """An IBAN at the same bank that no account has: other digits, valid check digits."""
    from schwifty import IBAN

    parsed = IBAN(iban)
    digits = parsed.account_code
    other = str((int(digits) + 1) % 10 ** len(digits)).zfill(len(digits))
    return str(IBAN.generate(parsed.country_code, bank_code=parsed.bank_code,
                             account_code=other))
