"""Random event sequences at random times through the escrow machine and a small model.

The model below is written from the rules of issue 5 and decisions 0012 and 0039 (a pay
the risk screening sends to review), not from the machine: plain counters and deadlines. After every step the machine and the
model agree on acceptance (and on the refusal code), on the state and on every
money counter; the legs posted so far add up to what escrow holds; a refused
event changed nothing; money is conserved.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass

from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
)

from paywarden.domain.escrow import (
    NS_PER_DAY,
    AnswerDispute,
    AutoRefund,
    AutoRelease,
    Cancel,
    ConfirmReceipt,
    DecideDispute,
    DeclineReview,
    DisputeReason,
    Escrow,
    EscrowError,
    EscrowTerms,
    Event,
    Expire,
    FeeSchedule,
    OpenDispute,
    Pay,
    Refund,
    ReleaseReview,
    Role,
    Ship,
    State,
    check_invariants,
    due,
    new_escrow,
    transition,
)
from paywarden.domain.ledger import AMOUNT_MAX
from paywarden.domain.money import Money

T0 = 1_700_000_000 * 10**9
HOUR_NS = 3_600 * 10**9
FINAL = {"released", "refunded", "split", "cancelled", "expired", "declined"}


@dataclass
class Model:
    amount: int
    rate_bps: int
    fixed: int
    ship_days: int
    release_days: int
    expires_at: int
    state: str = "created"
    funded: int = 0
    held: int = 0
    refunded: int = 0
    released: int = 0
    fee: int = 0
    ship_by: int | None = None
    release_at: int | None = None
    dispute: str | None = None  # open, answered, decided, closed

    def pay_out(self, state: str, refund: int, gross: int) -> None:
        fee = 0 if gross == 0 else min(gross, self.fixed + gross * self.rate_bps // 10_000)
        self.held -= refund + gross
        self.refunded += refund
        self.released += gross - fee
        self.fee += fee
        self.state = state


ALLOWED = {
    "pay": {"created"}, "review_release": {"under_review"},
    "review_decline": {"under_review"}, "cancel": {"created", "under_review", "held"},
    "ship": {"held"},
    "confirm_receipt": {"shipped"}, "open_dispute": {"shipped"},
    "answer_dispute": {"disputed"}, "decide_dispute": {"disputed"},
    "refund": {"held", "shipped", "disputed"}, "expire": {"created"},
    "auto_refund": {"held"}, "auto_release": {"shipped"},
}


def predict(m: Model, event: Event, now: int) -> str | None:
    """Apply ``event`` to ``m``; the refusal code, or None (then ``m`` was changed)."""
    if m.state not in ALLOWED[event.name]:
        if event.name == "decide_dispute" and m.dispute == "decided":
            return "dispute_already_decided"
        return "escrow_transition_not_allowed"
    if isinstance(event, Pay):
        if now >= m.expires_at:
            return "escrow_session_expired"
        if event.amount.currency != "EUR":
            return "currency_mismatch"
        if event.amount.amount_minor != m.amount:
            return "escrow_amount_mismatch"
        m.funded, m.held = m.amount, m.amount
        if event.review:  # reserved; the shop's clock waits for the analyst
            m.state = "under_review"
        else:
            m.state, m.ship_by = "held", now + m.ship_days * NS_PER_DAY
    elif isinstance(event, ReleaseReview):
        m.state, m.ship_by = "held", now + m.ship_days * NS_PER_DAY
    elif isinstance(event, DeclineReview):
        m.pay_out("declined", m.held, 0)
    elif isinstance(event, Cancel):
        m.pay_out("cancelled", m.held, 0)
    elif isinstance(event, Ship):
        assert m.ship_by is not None
        if now >= m.ship_by:
            return "escrow_ship_deadline_passed"
        m.state, m.release_at = "shipped", now + m.release_days * NS_PER_DAY
    elif isinstance(event, ConfirmReceipt):
        m.pay_out("released", 0, m.held)
    elif isinstance(event, OpenDispute):
        assert m.release_at is not None
        if now >= m.release_at:
            return "escrow_inspection_period_over"
        m.state, m.dispute = "disputed", "open"
    elif isinstance(event, AnswerDispute):
        if m.dispute != "open":
            return "dispute_already_answered"
        m.dispute = "answered"
    elif isinstance(event, DecideDispute):
        if event.refund_amount is None or event.release_amount is None:
            refund = m.held if event.resolution.value == "refund" else 0
            state = {"refund": "refunded", "release": "released"}[event.resolution.value]
        else:
            refund, gross = event.refund_amount.amount_minor, event.release_amount.amount_minor
            if refund + gross != m.held:
                return "split_does_not_add_up"
            if refund == 0 or gross == 0:
                return "split_part_not_positive"
            state = "split"
        m.dispute = "decided"
        m.pay_out(state, refund, m.held - refund)
    elif isinstance(event, Refund):
        amount = event.amount.amount_minor
        if event.amount.currency != "EUR":
            return "currency_mismatch"
        if amount == 0:
            return "refund_amount_invalid"
        if amount > m.held:
            return "refund_exceeds_held"
        if amount == m.held and m.dispute in ("open", "answered"):
            m.dispute = "closed"
        m.pay_out("refunded" if amount == m.held else m.state, amount, 0)
    else:
        deadline = {"expire": m.expires_at, "auto_refund": m.ship_by,
                    "auto_release": m.release_at}[event.name]
        assert deadline is not None
        if now < deadline:
            return "escrow_timer_not_due"
        if isinstance(event, Expire):
            m.state = "expired"
        elif isinstance(event, AutoRefund):
            m.pay_out("refunded", m.held, 0)
        else:
            m.pay_out("released", 0, m.held)
    return None


def amounts(m: Model) -> st.SearchStrategy[int]:
    near = [0, 1, m.held - 1, m.held, m.held + 1, m.amount]
    return st.one_of(st.sampled_from([a for a in near if 0 <= a <= AMOUNT_MAX]),
                     st.integers(0, max(m.amount, 1)))


def events(draw: st.DrawFn, m: Model) -> Event:
    # Mostly events the state allows (so runs get deep), sometimes any event at all.
    allowed_now = sorted(k for k, states in ALLOWED.items() if m.state in states
                         for _ in range(1 if k in ("cancel", "expire") else 3)) or ["pay"]
    kind = draw(st.one_of(st.sampled_from(allowed_now), st.sampled_from(allowed_now),
                          st.sampled_from(allowed_now), st.sampled_from(sorted(ALLOWED))))
    currency = draw(st.sampled_from(["EUR"] * 9 + ["USD"]))
    if kind == "pay":
        paid = draw(st.sampled_from([m.amount] * 4 + [m.amount - 1, m.amount + 1]))
        return Pay(Money(min(paid, AMOUNT_MAX), currency), review=draw(st.booleans()))
    if kind == "refund":
        return Refund(Money(draw(amounts(m)), currency))
    if kind == "ship":
        return Ship("DHL", draw(st.sampled_from(["JJD1", "1Z999"])))
    if kind == "open_dispute":
        return OpenDispute(draw(st.sampled_from(list(DisputeReason))), "", ("ev_1",))
    if kind == "answer_dispute":
        return AnswerDispute("shipped intact")
    if kind == "decide_dispute":
        how = draw(st.sampled_from(["release", "refund", "split", "split", "split"]))
        if how != "split":
            return DecideDispute.release() if how == "release" else DecideDispute.refund()
        refund = draw(st.one_of(st.integers(1, max(m.held - 1, 1)), amounts(m)))
        release = draw(st.sampled_from([m.held - refund] * 3 + [m.held - refund + 1, 0]))
        return DecideDispute.split(refund=Money(refund, "EUR"),
                                   release=Money(min(max(release, 0), AMOUNT_MAX), "EUR"))
    simple: dict[str, Callable[[], Event]] = {
        "cancel": Cancel, "confirm_receipt": ConfirmReceipt, "expire": Expire,
        "review_release": ReleaseReview, "review_decline": DeclineReview,
        "auto_refund": AutoRefund, "auto_release": AutoRelease}
    return simple[kind]()


class EscrowMachine(RuleBasedStateMachine):
    escrow: Escrow
    model: Model

    @initialize(amount=st.one_of(st.integers(1, 100), st.integers(1, 2**63 - 1)),
                rate_bps=st.integers(0, 10_000), fixed=st.sampled_from([0, 1, 30, 10**6]),
                ship_days=st.integers(1, 90), release_days=st.integers(1, 60),
                ttl=st.integers(1, 24 * HOUR_NS))
    def start(self, amount: int, rate_bps: int, fixed: int, ship_days: int, release_days: int,
              ttl: int) -> None:
        self.now = T0
        self.open_payment(amount, rate_bps, fixed, ship_days, release_days, ttl)

    @precondition(lambda self: self.escrow.is_final)
    @rule(amount=st.integers(1, 10**6), rate_bps=st.integers(0, 10_000),
          fixed=st.sampled_from([0, 1, 30]), ship_days=st.integers(1, 90),
          release_days=st.integers(1, 60), ttl=st.integers(1, 24 * HOUR_NS))
    def open_payment(self, amount: int, rate_bps: int, fixed: int, ship_days: int,
                     release_days: int, ttl: int) -> None:
        """The last payment ended: go on with a new one, from the same time."""
        start_ns = self.now
        self.escrow = new_escrow("pay_prop", Money(amount, "EUR"),
                                 EscrowTerms(ship_days, release_days),
                                 FeeSchedule(rate_bps=rate_bps, fixed_minor=fixed),
                                 now_ns=start_ns, expires_at_ns=start_ns + ttl)
        self.model = Model(amount, rate_bps, fixed, ship_days, release_days, start_ns + ttl)
        self.posted = dict.fromkeys(Role, 0)  # net minor units each role received

    def next_time(self, data: st.DataObject) -> int:
        deadlines = [t for t in (self.model.expires_at, self.model.ship_by,
                                 self.model.release_at) if t is not None]
        at_deadline = st.sampled_from(deadlines).flatmap(lambda t: st.sampled_from([t - 1, t]))
        soon = st.integers(0, 2 * HOUR_NS).map(lambda dt: self.now + dt)
        later = st.integers(0, 100 * NS_PER_DAY).map(lambda dt: self.now + dt)
        return max(self.now, data.draw(st.one_of(soon, soon, later, at_deadline)))

    @rule(data=st.data())
    def apply(self, data: st.DataObject) -> None:
        event = data.draw(st.composite(lambda draw: events(draw, self.model))())
        now = self.next_time(data)
        before, snapshot = self.escrow, dataclasses.asdict(self.escrow)
        expected = dataclasses.replace(self.model)
        code = predict(expected, event, now)
        try:
            outcome = transition(self.escrow, event, now_ns=now)
        except EscrowError as refused:
            assert refused.code == code, (event, refused.code, code)
            assert dataclasses.asdict(before) == snapshot and self.escrow is before
            return
        assert code is None, (event, "accepted, the model refused with", code)
        self.model, self.now, self.escrow = expected, now, outcome.escrow
        for leg in outcome.legs:
            assert leg.amount.amount_minor > 0 and leg.amount.currency == "EUR"
            self.posted[leg.from_role] -= leg.amount.amount_minor
            self.posted[leg.to_role] += leg.amount.amount_minor
        assert outcome.escrow_net_minor() == outcome.escrow.held_minor - before.held_minor

    @invariant()
    def machine_and_model_agree(self) -> None:
        e, m = self.escrow, self.model
        assert e.state is State(m.state)
        assert (e.funded_minor, e.held_minor, e.refunded_minor, e.released_minor, e.fee_minor) == \
            (m.funded, m.held, m.refunded, m.released, m.fee)
        assert (e.dispute.status.value if e.dispute else None) == m.dispute

    @invariant()
    def money_is_conserved(self) -> None:
        e = self.escrow
        check_invariants(e)
        assert self.posted[Role.ESCROW] == e.held_minor >= 0, "escrow never negative"
        assert self.posted[Role.BUYER_FUNDING] == e.refunded_minor - e.funded_minor
        assert self.posted[Role.MERCHANT] == e.released_minor
        assert self.posted[Role.PLATFORM_FEE] == e.fee_minor
        assert sum(self.posted.values()) == 0
        if e.state.value in FINAL:
            assert e.held_minor == 0
            assert e.released_minor + e.refunded_minor + e.fee_minor == e.funded_minor

    @invariant()
    def timers_are_those_of_the_state(self) -> None:
        e, m = self.escrow, self.model
        timers = e.timers
        assert timers.expires_at_ns == (m.expires_at if m.state == "created" else None)
        assert timers.ship_by_ns == (m.ship_by if m.state == "held" else None)
        assert timers.release_at_ns == (m.release_at if m.state == "shipped" else None)
        pending = due(e, self.now)
        if pending is not None:
            assert pending.name in {"expire", "auto_refund", "auto_release"}
            after = transition(e, pending, now_ns=self.now).escrow
            assert after.is_final and after.timers.next_ns() is None


EscrowMachine.TestCase.settings = settings(max_examples=200, stateful_step_count=30,
                                           deadline=None)
TestEscrowMachine = EscrowMachine.TestCase
