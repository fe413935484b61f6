"""Random mixes of reservations, commits, releases, withdrawals, closes and settles,
applied to a ``NetBook`` and to a small model written from the rules, not from the book.

The model keeps every transfer and every window as plain records and computes a
participant's exposure from scratch each time: reserved amounts, plus per unsettled window
its net debit on its own. Balances move only when a window settles (each participant by its
obligation) or liquidity is withdrawn. After every step: the book and the model agree on
every exposure and every answer; every exposure stays within min(cap, balance); every
window's obligations sum to zero; a window settles once. Settling happens in any order,
windows left closed while later ones fill: Mojaloop #3482's scenario is one of the mixes.
"""

from __future__ import annotations

from dataclasses import dataclass

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from paywarden.domain.clearing.positions import NetBook, Position, PositionState, WindowState
from paywarden.domain.errors import DomainError

BANKS = ("AAAAGB22", "BBBBGB22", "CCCCGB22")
amounts = st.integers(min_value=1, max_value=400)


@dataclass
class _Transfer:
    uetr: str
    payer: str
    payee: str
    amount: int
    state: str = "reserved"
    window: int | None = None


class NetPositionsMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.book = NetBook("EUR")
        self.caps = {b: 500 + 250 * i for i, b in enumerate(BANKS)}
        self.balances = {b: 400 + 300 * i for i, b in enumerate(BANKS)}
        self.transfers: list[_Transfer] = []
        self.windows: dict[int, str] = {}  # number → state
        self.settled_count: dict[int, int] = {}
        self.now_ns = 1

    # -- the model -----------------------------------------------------------------------

    def open_number(self) -> int:
        open_ = [n for n, s in self.windows.items() if s == "open"]
        if open_:
            return open_[0]
        number = max(self.windows, default=0) + 1
        self.windows[number] = "open"
        return number

    def model_exposure(self, bank: str) -> int:
        owed = sum(t.amount for t in self.transfers if t.state == "reserved" and t.payer == bank)
        for number, state in self.windows.items():
            if state == "settled":
                continue
            net = sum((t.amount if t.payee == bank else 0) - (t.amount if t.payer == bank else 0)
                      for t in self.transfers if t.state == "committed" and t.window == number)
            owed += max(0, -net)
        return owed

    def model_obligations(self, number: int) -> dict[str, int]:
        net: dict[str, int] = {}
        for t in self.transfers:
            if t.state == "committed" and t.window == number:
                net[t.payer] = net.get(t.payer, 0) - t.amount
                net[t.payee] = net.get(t.payee, 0) + t.amount
        return dict(sorted(net.items()))

    # -- rules ---------------------------------------------------------------------------

    @rule(payer=st.sampled_from(BANKS), payee=st.sampled_from(BANKS), amount=amounts)
    def reserve(self, payer: str, payee: str, amount: int) -> None:
        if payer == payee:
            return
        uetr = f"u{len(self.transfers)}"
        limit = min(self.caps[payer], self.balances[payer])
        expected = self.model_exposure(payer) + amount <= limit
        got = self.book.reserve(uetr, payer, payee, amount, limit=limit)
        assert (got is not None) == expected
        if expected:
            self.transfers.append(_Transfer(uetr, payer, payee, amount))

    @precondition(lambda self: any(t.state == "reserved" for t in self.transfers))
    @rule(data=st.data())
    def commit(self, data: st.DataObject) -> None:
        t = data.draw(st.sampled_from([t for t in self.transfers if t.state == "reserved"]))
        self.now_ns += 1
        self.book.commit(t.uetr, now_ns=self.now_ns)
        t.state, t.window = "committed", self.open_number()
        assert self.book.commit(t.uetr, now_ns=self.now_ns) == []  # twice: nothing

    @precondition(lambda self: any(t.state == "reserved" for t in self.transfers))
    @rule(data=st.data())
    def release(self, data: st.DataObject) -> None:
        t = data.draw(st.sampled_from([t for t in self.transfers if t.state == "reserved"]))
        self.book.release(t.uetr)
        t.state = "released"

    @rule()
    def close(self) -> None:
        self.now_ns += 1
        number = self.open_number()
        closed, _ = self.book.close(now_ns=self.now_ns)
        assert closed.number == number and closed.state is WindowState.CLOSED
        self.windows[number] = "closed"
        self.open_number()

    @precondition(lambda self: any(s == "closed" for s in self.windows.values()))
    @rule(data=st.data())
    def settle(self, data: st.DataObject) -> None:
        number = data.draw(st.sampled_from(
            sorted(n for n, s in self.windows.items() if s == "closed")))
        self.now_ns += 1
        owed, _ = self.book.settle(f"EUR-{number}", now_ns=self.now_ns)
        assert owed == self.model_obligations(number)
        for bank, amount in owed.items():
            self.balances[bank] += amount
        self.windows[number] = "settled"
        self.settled_count[number] = self.settled_count.get(number, 0) + 1

    @precondition(lambda self: any(s == "settled" for s in self.windows.values()))
    @rule(data=st.data())
    def settle_again(self, data: st.DataObject) -> None:
        number = data.draw(st.sampled_from(
            sorted(n for n, s in self.windows.items() if s == "settled")))
        try:
            self.book.settle(f"EUR-{number}", now_ns=self.now_ns)
        except DomainError as refused:
            assert refused.code == "window_settled"
        else:
            raise AssertionError("a window settled twice")

    @rule(bank=st.sampled_from(BANKS), amount=amounts)
    def withdraw(self, bank: str, amount: int) -> None:
        allowed = self.balances[bank] - amount >= self.model_exposure(bank)
        try:
            self.book.check_withdrawal(bank, balance=self.balances[bank], amount=amount)
        except DomainError as refused:
            assert refused.code == "net_exposure_uncovered" and not allowed
        else:
            assert allowed
            self.balances[bank] -= amount

    # -- invariants ----------------------------------------------------------------------

    @invariant()
    def exposures_agree_and_stay_within_cap_and_balance(self) -> None:
        for bank in BANKS:
            exposure = self.book.exposure(bank)
            assert exposure == self.model_exposure(bank)
            assert exposure <= min(self.caps[bank], self.balances[bank])

    @invariant()
    def every_window_sums_to_zero_and_settles_at_most_once(self) -> None:
        for window in self.book.windows.values():
            assert sum(self.book.obligations(window.id).values()) == 0
        assert all(count == 1 for count in self.settled_count.values())

    @invariant()
    def positions_agree(self) -> None:
        for t in self.transfers:
            p = self.book.positions[t.uetr]
            assert isinstance(p, Position) and p.state == PositionState(t.state)


NetPositionsMachine.TestCase.settings = settings(
    max_examples=150, stateful_step_count=40, deadline=None,
    suppress_health_check=[HealthCheck.too_slow])
TestNetPositions = NetPositionsMachine.TestCase
