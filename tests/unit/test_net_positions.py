"""Net positions, caps and windows, one rule at a time (the random mixes are in
test_net_positions_stateful.py)."""

from __future__ import annotations

import pytest

from paywarden.domain.clearing.positions import (
    NetBook,
    Position,
    PositionState,
    TotalsDelta,
    Window,
    WindowState,
)
from paywarden.domain.errors import DomainError, InvariantViolation

A, B, C = "AAAAGB22", "BBBBGB22", "CCCCGB22"


def committed(book: NetBook, uetr: str, payer: str, payee: str, amount: int) -> None:
    assert book.reserve(uetr, payer, payee, amount, limit=10**9) is not None
    book.commit(uetr, now_ns=1)


def test_a_ring_of_transfers_nets_to_obligations_that_sum_to_zero() -> None:
    book = NetBook("EUR")
    committed(book, "u1", A, B, 100)
    committed(book, "u2", B, C, 70)
    committed(book, "u3", C, A, 40)
    closed, _ = book.close(now_ns=2)
    owed, _ = book.settle(closed.id, now_ns=3)
    assert owed == {A: -60, B: 30, C: 30}


def test_a_reservation_past_the_cap_is_refused_and_changes_nothing() -> None:
    book = NetBook("EUR")
    assert book.reserve("u1", A, B, 600, limit=1_000) is not None
    assert book.reserve("u2", A, B, 401, limit=1_000) is None
    assert book.exposure(A) == 600 and "u2" not in book.positions
    assert book.reserve("u3", A, B, 400, limit=1_000) is not None


def test_the_limit_is_whichever_is_lower_of_cap_and_balance_so_a_short_balance_refuses() -> None:
    book = NetBook("EUR")
    assert book.reserve("u1", A, B, 300, limit=min(1_000, 250)) is None


def test_a_release_gives_the_reservation_back_and_a_commit_after_it_is_refused() -> None:
    book = NetBook("EUR")
    book.reserve("u1", A, B, 600, limit=600)
    book.release("u1")
    assert book.exposure(A) == 0 and book.release("u1") == []
    with pytest.raises(DomainError) as refused:
        book.commit("u1", now_ns=1)
    assert refused.value.code == "position_released"


def test_a_reservation_counts_whole_because_it_may_commit_into_a_later_window() -> None:
    """Credits net against debits only once both are committed into one window: a
    reservation made while A is owed 500 may commit after that window closed."""
    book = NetBook("EUR")
    committed(book, "in", B, A, 500)  # A is owed 500 in the open window
    assert book.reserve("big", A, C, 900, limit=400) is None
    assert book.reserve("out", A, C, 400, limit=400) is not None
    book.commit("out", now_ns=2)
    assert book.exposure(A) == 0  # committed into the same window: nets with the 500 in
    assert book.reserve("more", A, C, 400, limit=400) is not None


def test_mojaloop_3482_a_credit_in_a_closed_window_does_not_fund_debits_in_the_next() -> None:
    """Window 1 leaves A owed 100 (closed, not settled); in window 2 A may spend only its
    cap, not cap + 100: if window 1 settled alone, A would be past its cap in window 2."""
    book = NetBook("EUR")
    committed(book, "w1", B, A, 100)
    w1, _ = book.close(now_ns=2)
    assert book.reserve("w2a", A, B, 900, limit=900) is not None
    book.commit("w2a", now_ns=3)
    assert book.reserve("w2b", A, B, 1, limit=900) is None  # Mojaloop would allow 100 more
    owed, _ = book.settle(w1.id, now_ns=4)
    assert owed[A] == 100 and book.exposure(A) == 900  # settling window 1 changes nothing


def test_settling_a_debtors_window_frees_its_cap_by_what_it_paid() -> None:
    book = NetBook("EUR")
    committed(book, "u1", A, B, 300)
    w1, _ = book.close(now_ns=2)
    assert book.reserve("u2", A, B, 800, limit=1_000) is None  # 300 + 800 > 1000
    book.settle(w1.id, now_ns=3)
    assert book.exposure(A) == 0  # paid: its balance fell by 300 too
    assert book.reserve("u2", A, B, 800, limit=min(1_000, 2_000 - 300)) is not None


def test_a_window_settles_once_and_an_open_window_not_at_all() -> None:
    book = NetBook("EUR")
    committed(book, "u1", A, B, 5)
    open_window = book.open_window
    assert open_window is not None
    with pytest.raises(DomainError) as still_open:
        book.settle(open_window.id, now_ns=2)
    assert still_open.value.code == "window_open"
    closed, _ = book.close(now_ns=2)
    book.settle(closed.id, now_ns=3)
    with pytest.raises(DomainError) as twice:
        book.settle(closed.id, now_ns=4)
    assert twice.value.code == "window_settled"
    with pytest.raises(DomainError) as unknown:
        book.settle("EUR-99", now_ns=4)
    assert unknown.value.code == "window_not_found"


def test_closing_opens_the_next_window_and_commits_join_it() -> None:
    book = NetBook("EUR")
    book.reserve("u1", A, B, 5, limit=10)
    closed, changes = book.close(now_ns=2)
    assert closed.id == "EUR-1" and closed.state is WindowState.CLOSED
    assert [w.id for w in changes if isinstance(w, Window)] == ["EUR-1", "EUR-1", "EUR-2"]
    book.commit("u1", now_ns=3)  # reserved while EUR-1 was open, committed after it closed
    assert book.positions["u1"].window_id == "EUR-2"
    assert book.obligations("EUR-1") == {}


def test_a_withdrawal_may_not_leave_the_balance_below_the_exposure() -> None:
    book = NetBook("EUR")
    book.reserve("u1", A, B, 300, limit=1_000)
    book.check_withdrawal(A, balance=1_000, amount=700)
    with pytest.raises(DomainError) as refused:
        book.check_withdrawal(A, balance=1_000, amount=701)
    assert refused.value.code == "net_exposure_uncovered"


def test_a_replayed_snapshot_is_the_same_book() -> None:
    live = NetBook("EUR")
    changes = []
    live.reserve("u1", A, B, 50, limit=100)
    changes += live.commit("u1", now_ns=1)
    replayed = NetBook("EUR", positions=[Position("u1", A, B, 50, "EUR", PositionState.RESERVED)],
                       reserved={A: 50})
    for change in changes:
        replayed.apply(change)
    assert replayed.exposure(A) == live.exposure(A) == 50
    assert replayed.obligations("EUR-1") == live.obligations("EUR-1") == {A: -50, B: 50}


def test_obligations_that_do_not_sum_to_zero_are_an_invariant_violation() -> None:
    book = NetBook("EUR", windows=[Window("EUR-1", "EUR", 1, WindowState.CLOSED, 0, 1)],
                   totals=[TotalsDelta("EUR-1", A, 10, 0)])
    with pytest.raises(InvariantViolation):
        book.settle("EUR-1", now_ns=2)


def test_bad_amounts_self_payments_and_reused_ids_are_refused() -> None:
    book = NetBook("EUR")
    for args, code in [((A, B, 0), "net_amount_invalid"), ((A, B, True), "net_amount_invalid"),
                       ((A, A, 5), "net_payer_is_payee")]:
        with pytest.raises(DomainError) as refused:
            book.reserve("u", *args, limit=100)  # type: ignore[arg-type]
        assert refused.value.code == code
    book.reserve("u", A, B, 5, limit=100)
    with pytest.raises(DomainError) as again:
        book.reserve("u", A, B, 5, limit=100)
    assert again.value.code == "position_exists"
