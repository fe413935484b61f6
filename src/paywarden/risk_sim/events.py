"""One simulated movement, as the risk engine would see it, with its label."""

from __future__ import annotations

from dataclasses import dataclass

CARD = "card"
TRANSFER = "transfer"
REFUND = "refund"
STAFF = "staff"
DISPUTE = "dispute"  # not a movement: a chargeback notice that updates the merchant's rate

NORMAL = "normal"
ACCOUNT_TAKEOVER = "account_takeover"
CARD_TESTING = "card_testing"
MULE_CHAIN = "mule_chain"
REFUND_ABUSE = "refund_abuse"
TRIANGULATION = "triangulation"
INSIDER = "insider"
PATTERNS = (ACCOUNT_TAKEOVER, CARD_TESTING, MULE_CHAIN, REFUND_ABUSE, TRIANGULATION, INSIDER)


@dataclass(frozen=True)
class Txn:
    """``customer`` is the account debited (credited, for a refund); ``payee`` is a payee id,
    or ``c<N>`` for another customer's account. ``declined`` is the outcome, known only
    after the movement, so never a feature of it."""

    ts_s: float
    op: str
    customer: int
    amount_minor: int
    device: str
    address: str
    card: str = ""
    payee: str = ""
    merchant: int = -1
    staff: int = -1
    declined: bool = False
    fraud: bool = False
    pattern: str = NORMAL
    tx_id: int = -1  # set after sorting: the position in time order
