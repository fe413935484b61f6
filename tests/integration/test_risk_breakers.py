"""Circuit breakers (services/risk/breakers.py) on SQLite and PostgreSQL: card testing
trips a BIN's breaker and the next payment there is declined, a half-open breaker lets a
sample through and closes when healthy, a trip raises a staff alert, and a manual reset
needs two members of staff."""

from __future__ import annotations

import pytest
from sqlalchemy import event, select

from paywarden.adapters.clock import FakeClock
from paywarden.adapters.store import Database
from paywarden.adapters.store.schema import audit_entries, staff_alerts
from paywarden.domain.errors import DomainError
from paywarden.domain.risk.breakers import (
    PLATFORM,
    POLICIES,
    Action,
    Outcome,
    Scope,
    ScopeKind,
    State,
)
from paywarden.services.alerts import Alerts
from paywarden.services.risk.breakers import Breakers

BIN = Scope(ScopeKind.CARD_BIN, "411111")
OTHER_BIN = Scope(ScopeKind.CARD_BIN, "550000")


def breakers_for(database: Database, clock: FakeClock, draw_ppm: int = 999_999) -> Breakers:
    return Breakers(database, clock=clock, alerts=Alerts(database, clock=clock),
                    draw_ppm=lambda: draw_ppm)


def card_testing(breakers: Breakers, clock: FakeClock, declines: int = 25) -> None:
    """A fraudster tries stolen card numbers of one BIN with small amounts."""
    for _ in range(declines):
        breakers.record(BIN, Outcome.DECLINED)
        clock.advance(1)


def actions(database: Database) -> list[str]:
    with database.engine.connect() as conn:
        return list(conn.execute(select(audit_entries.c.action).where(
            audit_entries.c.action.like("breaker.%")).order_by(audit_entries.c.seq)).scalars())


def test_card_testing_trips_the_bins_breaker_and_a_large_payment_there_is_declined(
        database: Database, clock: FakeClock) -> None:
    breakers = breakers_for(database, clock)
    for _ in range(5):
        breakers.record(BIN, Outcome.APPROVED)
    card_testing(breakers, clock)
    bin_state, other, platform = breakers.check([BIN, OTHER_BIN, PLATFORM])
    assert bin_state.state is State.OPEN and bin_state.action is Action.DECLINE
    assert bin_state.tripped_on is Outcome.DECLINED and bin_state.breaker_id is not None
    assert other.action is Action.PASS and platform.action is Action.PASS
    assert actions(database) == ["breaker.trip"]


def test_a_trip_raises_a_critical_staff_alert_naming_the_breaker(
        database: Database, clock: FakeClock) -> None:
    breakers = breakers_for(database, clock)
    card_testing(breakers, clock)
    with database.engine.connect() as conn:
        alerts = conn.execute(select(staff_alerts)).mappings().all()
    assert [(a["kind"], a["severity"]) for a in alerts] == [("risk.breaker_tripped",
                                                             "critical")]
    assert breakers.check([BIN])[0].breaker_id in alerts[0]["detail"]
    assert "411111" in alerts[0]["detail"]  # a BIN is not a card number


def test_a_few_declines_below_the_minimum_count_do_not_trip(
        database: Database, clock: FakeClock) -> None:
    breakers = breakers_for(database, clock)
    card_testing(breakers, clock, declines=POLICIES[ScopeKind.CARD_BIN]
                 .watched[Outcome.DECLINED].movements_min - 1)
    assert breakers.check([BIN])[0].action is Action.PASS


def test_declines_outside_the_sliding_window_are_forgotten(
        database: Database, clock: FakeClock) -> None:
    breakers = breakers_for(database, clock)
    card_testing(breakers, clock, declines=15)
    clock.advance(POLICIES[ScopeKind.CARD_BIN].window_s + 60)
    card_testing(breakers, clock, declines=15)
    assert breakers.check([BIN])[0].state is State.CLOSED


def test_a_half_open_breaker_lets_a_sample_through_and_closes_when_healthy(
        database: Database, clock: FakeClock) -> None:
    policy = POLICIES[ScopeKind.CARD_BIN]
    card_testing(breakers_for(database, clock), clock)
    clock.advance(policy.cool_down_s)
    sampled = breakers_for(database, clock, draw_ppm=0)
    held = breakers_for(database, clock, draw_ppm=policy.sample_ppm)
    assert sampled.check([BIN])[0].action is Action.PROBE
    assert held.check([BIN])[0].action is Action.DECLINE
    assert held.check([BIN])[0].state is State.HALF_OPEN
    for _ in range(policy.probe_count_min - 1):
        sampled.record(BIN, Outcome.APPROVED)
    assert sampled.check([BIN])[0].state is State.HALF_OPEN
    sampled.record(BIN, Outcome.APPROVED)
    assert sampled.check([BIN])[0].action is Action.PASS
    card_testing(sampled, clock, declines=5)  # the old storm is not counted again
    assert sampled.check([BIN])[0].state is State.CLOSED
    assert actions(database) == ["breaker.trip", "breaker.half_open", "breaker.close"]


def test_a_half_open_breaker_whose_probes_still_fail_opens_again_and_alerts_again(
        database: Database, clock: FakeClock) -> None:
    policy = POLICIES[ScopeKind.CARD_BIN]
    card_testing(breakers_for(database, clock), clock)
    clock.advance(policy.cool_down_s)
    breakers = breakers_for(database, clock, draw_ppm=0)
    breakers.check([BIN])
    card_testing(breakers, clock, declines=policy.probe_count_min)
    assert breakers.check([BIN])[0].state is State.OPEN
    with database.engine.connect() as conn:
        assert len(conn.execute(select(staff_alerts.c.id)).all()) == 2


def test_a_reset_checked_at_submission_changes_nothing_and_its_apply_closes_the_breaker(
        database: Database, clock: FakeClock) -> None:
    """The two halves the approval engine runs (services/approvals/controls.py); the
    four-eyes path itself is tested over HTTP (test_breakers_api.py)."""
    breakers = breakers_for(database, clock)
    card_testing(breakers, clock)
    breaker_id = breakers.check([BIN])[0].breaker_id
    assert breaker_id is not None
    with pytest.raises(DomainError) as blank:
        breakers.check_reset(breaker_id, " ")
    assert blank.value.code == "breaker_reset_reason_invalid"
    assert breakers.check_reset(breaker_id, " issuer outage ") == "issuer outage"
    assert breakers.check([BIN])[0].state is State.OPEN  # a submission alone resets nothing
    with database.engine.begin() as conn:
        breakers.reset(conn, breaker_id, actor="usr_bob", requested_by="usr_alice",
                       approval_id="apr_" + "0" * 24)
    assert breakers.check([BIN])[0].action is Action.PASS
    with pytest.raises(DomainError) as closed:
        breakers.check_reset(breaker_id, "again")
    assert closed.value.code == "breaker_not_open"
    with pytest.raises(DomainError) as twice, database.engine.begin() as conn:
        breakers.reset(conn, breaker_id, actor="usr_carol", requested_by="usr_alice",
                       approval_id="apr_" + "1" * 24)
    assert twice.value.code == "breaker_not_open"
    assert actions(database) == ["breaker.trip", "breaker.reset"]
    views = breakers.list(actor="usr_supervisor")
    assert [(v.id, v.breaker.state) for v in views] == [(breaker_id, State.CLOSED)]


def test_a_feeds_counts_of_many_scopes_commit_in_one_transaction_and_trip_as_one_by_one(
        database: Database, clock: FakeClock) -> None:
    """A flush held a paying caller for a commit per scope, beside the group commit."""
    breakers = breakers_for(database, clock)
    scopes = [Scope(ScopeKind.MERCHANT, f"mer_{i}") for i in range(12)]
    begun: list[object] = []

    def began(conn: object) -> None:
        begun.append(conn)

    event.listen(database.engine, "begin", began)
    try:
        done = breakers.record_all([*((s, Outcome.APPROVED, 3) for s in scopes),
                                    (BIN, Outcome.APPROVED, 5), (BIN, Outcome.DECLINED, 25)])
    finally:
        event.remove(database.engine, "begin", began)
    assert len(begun) == 1
    assert [b.state for b in done[:-1]] == [State.CLOSED] * 13
    assert done[-1].state is State.OPEN  # as 25 declines recorded one at a time trip it
    assert breakers.check([BIN])[0].action is Action.DECLINE
    assert actions(database) == ["breaker.trip"]
