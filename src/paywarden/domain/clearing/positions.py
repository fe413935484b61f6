"""Deferred net settlement (Mojaloop's model): positions, the net debit cap, windows.

A transfer on the net channel *reserves* a position in the payer's name; the decider then
*commits* it (it joins the window open at that moment: the payer is debited, the payee
credited) or *releases* it. A window goes open → closed → settled, once: closing freezes
what it holds (a commit only ever joins the open window), settling moves its multilateral
net obligations on the hub's ledger.

A participant's exposure is what it may still come to owe the hub:

    exposure(p) = reserved(p) + Σ over unsettled windows w of max(0, debits_w(p) − credits_w(p))

A reservation is refused when it would take the payer's exposure past
min(net debit cap, settlement balance), and a liquidity withdrawal when it would take the
balance below the exposure. Credits net against debits only inside one window, the unit
that settles atomically, never across windows: so settling windows one at a time, in any
order, lowers a debtor's balance and its exposure by the same amount and leaves a
creditor's exposure as it was; nobody passes its cap or its balance (Mojaloop #3482;
decision 0057).

``NetBook`` holds one currency's unsettled windows, their per-participant totals, the
reserved amounts and the positions it was told of. Each operation checks, returns the
``Change`` values that record it (rows for the store to write) and applies them to itself;
``apply`` replays changes over a snapshot, which is how the service sees the writes of
earlier units of its group commit.

    DomainError          net_amount_invalid, net_payer_is_payee, position_exists,
                         position_not_found, position_released, position_committed,
                         window_not_found, window_open, window_settled,
                         net_exposure_uncovered
    InvariantViolation   a window's obligations do not sum to zero
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace

from ..errors import DomainError, InvariantViolation


class WindowState(enum.StrEnum):
    OPEN = "open"
    CLOSED = "closed"  # holds no new commits; its obligations are final
    SETTLED = "settled"


class PositionState(enum.StrEnum):
    RESERVED = "reserved"
    COMMITTED = "committed"
    RELEASED = "released"


def window_id(currency: str, number: int) -> str:
    """``EUR-7``: a currency's seventh window."""
    return f"{currency}-{number}"


@dataclass(frozen=True)
class Window:
    id: str
    currency: str
    number: int
    state: WindowState
    opened_ns: int
    closed_ns: int | None = None
    settled_ns: int | None = None


@dataclass(frozen=True)
class Position:
    uetr: str
    payer: str
    payee: str
    amount: int  # minor units, > 0
    currency: str
    state: PositionState
    window_id: str | None = None  # the window it was committed into

    def same_transfer(self, payer: str, payee: str, amount: int, currency: str) -> bool:
        return (self.payer, self.payee, self.amount, self.currency) == (
            payer, payee, amount, currency)


@dataclass(frozen=True)
class TotalsDelta:
    """Added to a participant's committed debits and credits in one window."""

    window_id: str
    participant: str
    debits: int
    credits: int


@dataclass(frozen=True)
class ReservedDelta:
    """Added to a participant's reserved (not yet committed) amount."""

    participant: str
    amount: int


Change = Window | Position | TotalsDelta | ReservedDelta


class NetBook:
    """One currency's net positions: what a reservation, a commit, a close or a settle may
    do, and what it changes."""

    def __init__(self, currency: str, *, windows: Iterable[Window] = (),
                 totals: Iterable[TotalsDelta] = (), reserved: Mapping[str, int] | None = None,
                 number_max: int = 0, positions: Iterable[Position] = ()) -> None:
        self.currency = currency
        self.windows: dict[str, Window] = {}
        self.totals: dict[str, dict[str, list[int]]] = {}  # window → participant → [dr, cr]
        self.reserved: dict[str, int] = dict(reserved or {})
        self.positions: dict[str, Position] = {p.uetr: p for p in positions}
        self.number_max = number_max
        for w in windows:
            self.apply(w)
        for t in totals:
            self.apply(t)

    # -- state ---------------------------------------------------------------------------

    def apply(self, change: Change) -> None:
        """Take ``change`` into this book (one of its own operations' results, replayed)."""
        if isinstance(change, Window):
            self.windows[change.id] = change
            self.number_max = max(self.number_max, change.number)
        elif isinstance(change, Position):
            self.positions[change.uetr] = change
        elif isinstance(change, TotalsDelta):
            row = self.totals.setdefault(change.window_id, {}).setdefault(
                change.participant, [0, 0])
            row[0] += change.debits
            row[1] += change.credits
        else:
            self.reserved[change.participant] = (self.reserved.get(change.participant, 0)
                                                 + change.amount)

    def _applied(self, changes: list[Change]) -> list[Change]:
        for change in changes:
            self.apply(change)
        return changes

    @property
    def open_window(self) -> Window | None:
        return next((w for w in self.windows.values() if w.state is WindowState.OPEN), None)

    def exposure(self, participant: str) -> int:
        """Reserved, plus the net debit of every window not settled yet, each on its own."""
        owed = self.reserved.get(participant, 0)
        for wid, window in self.windows.items():
            if window.state is WindowState.SETTLED:
                continue
            debits, credits = self.totals.get(wid, {}).get(participant, (0, 0))
            owed += max(0, debits - credits)
        return owed

    def obligations(self, wid: str) -> dict[str, int]:
        """Per participant: credits − debits of the window (> 0: the hub owes it)."""
        net = {p: cr - dr for p, (dr, cr) in sorted(self.totals.get(wid, {}).items())}
        if sum(net.values()) != 0:
            raise InvariantViolation(f"the obligations of window {wid} sum to "
                                     f"{sum(net.values())}, not zero")
        return net

    # -- positions -----------------------------------------------------------------------

    def reserve(self, uetr: str, payer: str, payee: str, amount: int, *,
                limit: int) -> list[Change] | None:
        """Reserve ``amount`` of the payer's ``limit`` (min(cap, settlement balance));
        None when its exposure would pass the limit (the hub answers AM04)."""
        if type(amount) is not int or amount <= 0:
            raise DomainError("net_amount_invalid", f"amount {amount!r} is not a positive "
                              "integer of minor units")
        if payer == payee:
            raise DomainError("net_payer_is_payee", f"{payer} cannot pay itself")
        if uetr in self.positions:
            raise DomainError("position_exists", f"a position {uetr} exists")
        if self.exposure(payer) + amount > limit:
            return None
        return self._applied([
            Position(uetr, payer, payee, amount, self.currency, PositionState.RESERVED),
            ReservedDelta(payer, amount)])

    def _position(self, uetr: str) -> Position:
        position = self.positions.get(uetr)
        if position is None:
            raise DomainError("position_not_found", f"no net position {uetr}")
        return position

    def commit(self, uetr: str, *, now_ns: int) -> list[Change]:
        """The decider settled the transfer: it joins the open window (opened if none is).
        Committing twice changes nothing."""
        p = self._position(uetr)
        if p.state is PositionState.COMMITTED:
            return []
        if p.state is PositionState.RELEASED:
            raise DomainError("position_released", f"net position {uetr} was released")
        changes = self._ensure_open(now_ns)
        wid = self._open().id
        changes += [replace(p, state=PositionState.COMMITTED, window_id=wid),
                    ReservedDelta(p.payer, -p.amount),
                    TotalsDelta(wid, p.payer, p.amount, 0), TotalsDelta(wid, p.payee, 0, p.amount)]
        return self._applied(changes)

    def release(self, uetr: str) -> list[Change]:
        """The decider rejected the transfer: the reservation is given back. Releasing
        twice changes nothing."""
        p = self._position(uetr)
        if p.state is PositionState.RELEASED:
            return []
        if p.state is PositionState.COMMITTED:
            raise DomainError("position_committed", f"net position {uetr} was committed")
        return self._applied([replace(p, state=PositionState.RELEASED),
                              ReservedDelta(p.payer, -p.amount)])

    def check_withdrawal(self, participant: str, *, balance: int, amount: int) -> None:
        """Liquidity out of the settlement account must leave its exposure covered."""
        exposure = self.exposure(participant)
        if balance - amount < exposure:
            raise DomainError("net_exposure_uncovered", (
                f"withdrawing {amount} would leave {balance - amount} in the settlement "
                f"account of {participant}, below its net exposure of {exposure}"))

    # -- windows -------------------------------------------------------------------------

    def _open(self) -> Window:
        window = self.open_window
        if window is None:
            raise InvariantViolation(f"no open net window in {self.currency}")
        return window

    def _ensure_open(self, now_ns: int) -> list[Change]:
        if self.open_window is not None:
            return []
        number = self.number_max + 1
        return self._applied([Window(window_id(self.currency, number), self.currency, number,
                                     WindowState.OPEN, now_ns)])

    def close(self, *, now_ns: int) -> tuple[Window, list[Change]]:
        """Close the open window (an empty one if none was open) and open the next."""
        changes = self._ensure_open(now_ns)
        closed = replace(self._open(), state=WindowState.CLOSED, closed_ns=now_ns)
        changes += self._applied([closed])
        changes += self._ensure_open(now_ns)
        return closed, changes

    def settle(self, wid: str, *, now_ns: int) -> tuple[dict[str, int], list[Change]]:
        """A closed window's obligations, and the change that marks it settled, once."""
        window = self.windows.get(wid)
        if window is None:
            raise DomainError("window_not_found", f"no net window {wid}")
        if window.state is WindowState.SETTLED:
            raise DomainError("window_settled", f"net window {wid} is settled already")
        if window.state is WindowState.OPEN:
            raise DomainError("window_open", f"net window {wid} is open: close it first")
        owed = self.obligations(wid)
        return owed, self._applied([replace(window, state=WindowState.SETTLED,
                                            settled_ns=now_ns)])
