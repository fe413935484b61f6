"""The ledger's rules, one example each.

Every ``TransferResult`` code is produced by at least one example here;
``test_every_transfer_result_has_an_example`` keeps it that way.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from paywarden.domain.errors import InvariantViolation
from paywarden.domain.ledger import (
    AMOUNT_MAX,
    SYSTEM_ID_PREFIX,
    Account,
    AccountFlags,
    AccountResult,
    Book,
    PendingState,
    Row,
    Transfer,
    TransferFlags,
    TransferResult,
    check_account,
)
from paywarden.domain.ledger.model import CODE_MAX, TIMEOUT_S_MAX

R = TransferResult
LINKED = int(TransferFlags.LINKED)
PENDING = int(TransferFlags.PENDING)
POST = int(TransferFlags.POST_PENDING)
VOID = int(TransferFlags.VOID_PENDING)
NS_PER_S = 1_000_000_000
T0 = 1_700_000_000 * NS_PER_S

# Accounts of the examples: 1, 2 plain; 3 debits <= credits; 4 credits <= debits;
# 5 closed; all in ledger 1. Account 9 is in ledger 2.
PLAIN_A, PLAIN_B, DEBIT_LIMITED, CREDIT_LIMITED, CLOSED, OTHER_LEDGER = 1, 2, 3, 4, 5, 9

COVERED: set[TransferResult] = set()


def covers(*codes: TransferResult) -> Callable[[Any], Any]:
    """Record which result codes an example produces (checked for completeness below)."""

    def mark(test: Any) -> Any:
        COVERED.update(codes)
        return test

    return mark


def new_book() -> Book:
    accounts = {
        PLAIN_A: Account(PLAIN_A, 1, 1),
        PLAIN_B: Account(PLAIN_B, 1, 1),
        DEBIT_LIMITED: Account(DEBIT_LIMITED, 1, 1, int(AccountFlags.DEBITS_MUST_NOT_EXCEED_CREDITS)),
        CREDIT_LIMITED: Account(
            CREDIT_LIMITED, 1, 1, int(AccountFlags.CREDITS_MUST_NOT_EXCEED_DEBITS)
        ),
        CLOSED: Account(CLOSED, 1, 1, int(AccountFlags.CLOSED)),
        OTHER_LEDGER: Account(OTHER_LEDGER, 2, 1),
    }
    return Book(accounts, {}, {})


@pytest.fixture
def book() -> Book:
    return new_book()


def single(tid: str, dr: int = PLAIN_A, cr: int = PLAIN_B, amount: Any = 100, **kw: Any) -> Transfer:
    fields: dict[str, Any] = {"ledger": 1, "code": 1} | kw
    return Transfer(tid, dr, cr, amount, **fields)


def pending(tid: str, dr: int = PLAIN_A, cr: int = PLAIN_B, amount: Any = 100, **kw: Any) -> Transfer:
    flags = PENDING | kw.pop("flags", 0)
    return single(tid, dr, cr, amount, flags=flags, **kw)


def _resolve(kind: int, tid: str, pending_id: str | None, amount: Any, **kw: Any) -> Transfer:
    fields: dict[str, Any] = {"debit_account_id": 0, "credit_account_id": 0, "ledger": 0, "code": 0}
    fields |= kw
    flags = kind | fields.pop("flags", 0)
    return Transfer(tid, amount=amount, flags=flags, pending_id=pending_id, **fields)


def post(tid: str, pending_id: str | None, amount: Any = None, **kw: Any) -> Transfer:
    return _resolve(POST, tid, pending_id, amount, **kw)


def void(tid: str, pending_id: str | None, amount: Any = None, **kw: Any) -> Transfer:
    return _resolve(VOID, tid, pending_id, amount, **kw)


def apply(book: Book, *transfers: Transfer, at: int = T0) -> list[TransferResult]:
    return book.apply(list(transfers), at)


def balances(book: Book, account_id: int) -> tuple[int, int, int, int]:
    """debits_pending, debits_posted, credits_pending, credits_posted."""
    return book.accounts[account_id].balances()


def fund(book: Book, account_id: int, amount: int) -> None:
    """Give an account posted credits, so that it may be debited."""
    assert apply(book, single(f"fund-{account_id}-{amount}", PLAIN_A, account_id, amount)) == [R.OK]


def state_of(book: Book, transfer_id: str) -> int:
    return book.pendings[book.transfers[transfer_id][Row.TIMESTAMP]].state


# -- single-phase and two-phase transfers ---------------------------------


@covers(R.OK)
def test_single_phase_transfer_moves_posted_balances(book: Book) -> None:
    assert apply(book, single("t1", amount=250)) == [R.OK]
    assert balances(book, PLAIN_A) == (0, 250, 0, 0)
    assert balances(book, PLAIN_B) == (0, 0, 0, 250)


def test_event_i_of_a_submission_gets_timestamp_base_plus_i(book: Book) -> None:
    apply(book, single("t1"), single("t2"), single("t3"), at=T0)
    assert [book.transfers[t][Row.TIMESTAMP] for t in ("t1", "t2", "t3")] == [T0, T0 + 1, T0 + 2]
    assert book.accounts[PLAIN_A].last_transfer == T0 + 2


def test_each_row_records_both_accounts_balances_after_the_transfer(book: Book) -> None:
    apply(book, single("t1", amount=7), pending("p1", amount=5))
    row = book.transfers["p1"]
    assert row[Row.DEBIT_BALANCES : Row.DEBIT_BALANCES + 4] == (5, 7, 0, 0)
    assert row[Row.CREDIT_BALANCES : Row.CREDIT_BALANCES + 4] == (0, 0, 5, 7)
    assert row[Row.DEBIT_PREV] == T0 and row[Row.CREDIT_PREV] == T0


def test_pending_transfer_holds_pending_balances_only(book: Book) -> None:
    assert apply(book, pending("p1", amount=100)) == [R.OK]
    assert balances(book, PLAIN_A) == (100, 0, 0, 0)
    assert balances(book, PLAIN_B) == (0, 0, 100, 0)
    assert state_of(book, "p1") == PendingState.PENDING


def test_full_post_moves_the_hold_to_posted(book: Book) -> None:
    apply(book, pending("p1", amount=100))
    assert apply(book, post("c1", "p1"), at=T0 + 10) == [R.OK]
    assert balances(book, PLAIN_A) == (0, 100, 0, 0)
    assert balances(book, PLAIN_B) == (0, 0, 0, 100)
    assert state_of(book, "p1") == PendingState.POSTED


def test_partial_post_releases_the_whole_hold_and_posts_the_part(book: Book) -> None:
    apply(book, pending("p1", amount=100))
    assert apply(book, post("c1", "p1", amount=30), at=T0 + 10) == [R.OK]
    assert balances(book, PLAIN_A) == (0, 30, 0, 0)
    assert balances(book, PLAIN_B) == (0, 0, 0, 30)
    assert book.transfers["c1"][Row.AMOUNT] == 30


def test_void_releases_the_hold_and_posts_nothing(book: Book) -> None:
    apply(book, pending("p1", amount=100))
    assert apply(book, void("v1", "p1"), at=T0 + 10) == [R.OK]
    assert balances(book, PLAIN_A) == (0, 0, 0, 0)
    assert balances(book, PLAIN_B) == (0, 0, 0, 0)
    assert state_of(book, "p1") == PendingState.VOIDED


def test_void_with_exactly_the_pending_amount_is_accepted(book: Book) -> None:
    apply(book, pending("p1", amount=100))
    assert apply(book, void("v1", "p1", amount=100), at=T0 + 10) == [R.OK]


def test_post_may_omit_accounts_ledger_code_and_amount(book: Book) -> None:
    apply(book, pending("p1", amount=100, code=7))
    assert apply(book, post("c1", "p1"), at=T0 + 10) == [R.OK]
    row = book.transfers["c1"]
    assert (row[Row.DEBIT], row[Row.CREDIT], row[Row.AMOUNT], row[Row.LEDGER], row[Row.CODE]) == (
        PLAIN_A, PLAIN_B, 100, 1, 7,
    )  # fmt: skip
    assert row[Row.PENDING_ID] == "p1"


def test_post_may_repeat_the_pending_transfers_own_fields(book: Book) -> None:
    apply(book, pending("p1", amount=100, code=7))
    resolve = post("c1", "p1", 100, debit_account_id=PLAIN_A, credit_account_id=PLAIN_B,
                   ledger=1, code=7)  # fmt: skip
    assert apply(book, resolve, at=T0 + 10) == [R.OK]


@covers(R.EXCEEDS_PENDING_AMOUNT)
def test_post_larger_than_the_hold_is_refused(book: Book) -> None:
    apply(book, pending("p1", amount=100))
    assert apply(book, post("c1", "p1", amount=101), at=T0 + 10) == [R.EXCEEDS_PENDING_AMOUNT]
    assert balances(book, PLAIN_A) == (100, 0, 0, 0)


@covers(R.VOID_AMOUNT_MUST_MATCH)
def test_void_with_an_amount_other_than_the_hold_is_refused(book: Book) -> None:
    apply(book, pending("p1", amount=100))
    assert apply(book, void("v1", "p1", amount=40), at=T0 + 10) == [R.VOID_AMOUNT_MUST_MATCH]
    assert state_of(book, "p1") == PendingState.PENDING


@covers(R.ALREADY_POSTED, R.ALREADY_VOIDED)
def test_a_pending_transfer_can_be_resolved_only_once(book: Book) -> None:
    apply(book, pending("p1"), pending("p2"))
    apply(book, post("c1", "p1"), void("v2", "p2"), at=T0 + 10)
    results = apply(book, void("v1", "p1"), post("c2", "p2"), post("c3", "p1"), at=T0 + 20)
    assert results == [R.ALREADY_POSTED, R.ALREADY_VOIDED, R.ALREADY_POSTED]
    assert balances(book, PLAIN_A) == (0, 100, 0, 0)


@covers(R.PENDING_NOT_FOUND)
def test_resolving_an_unknown_pending_transfer_is_refused(book: Book) -> None:
    assert apply(book, post("c1", "nope"), void("v1", "nope")) == [R.PENDING_NOT_FOUND] * 2


@covers(R.PENDING_NOT_PENDING)
def test_resolving_a_transfer_that_is_not_pending_is_refused(book: Book) -> None:
    apply(book, single("t1"), pending("p1"))
    apply(book, post("c1", "p1"), at=T0 + 10)
    assert apply(book, post("c2", "t1"), void("v2", "c1"), at=T0 + 20) == [
        R.PENDING_NOT_PENDING,
        R.PENDING_NOT_PENDING,
    ]


@covers(R.PENDING_HAS_DIFFERENT_FIELDS)
@pytest.mark.parametrize(
    "field, value",
    [("debit_account_id", PLAIN_B), ("credit_account_id", PLAIN_A), ("ledger", 2), ("code", 8)],
)
def test_post_naming_another_account_ledger_or_code_than_its_pending_is_refused(
    book: Book, field: str, value: int
) -> None:
    apply(book, pending("p1", code=7))
    assert apply(book, post("c1", "p1", **{field: value}), at=T0 + 10) == [
        R.PENDING_HAS_DIFFERENT_FIELDS
    ]
    assert apply(book, void("v1", "p1", **{field: value}), at=T0 + 11) == [
        R.PENDING_HAS_DIFFERENT_FIELDS
    ]


# -- idempotency -----------------------------------------------------------


@covers(R.EXISTS)
def test_resubmitting_the_same_transfer_returns_exists_and_changes_nothing(book: Book) -> None:
    transfers = [single("t1", amount=5, user_data="order 42"), pending("p1", timeout_s=60)]
    assert apply(book, *transfers) == [R.OK, R.OK]
    before = (balances(book, PLAIN_A), balances(book, PLAIN_B), len(book.rows))
    assert apply(book, *transfers, at=T0 + 10) == [R.EXISTS, R.EXISTS]
    assert (balances(book, PLAIN_A), balances(book, PLAIN_B), len(book.rows)) == before


@covers(R.EXISTS_WITH_DIFFERENT_FIELDS)
@pytest.mark.parametrize(
    "changed",
    [
        single("t1", amount=6),
        single("t1", dr=PLAIN_B, cr=PLAIN_A),
        single("t1", code=2),
        single("t1", user_data="other"),
        single("t1", user_data=None),
        single("t1", flags=PENDING),
        pending("t1", timeout_s=5),
        single("t1", dr=OTHER_LEDGER, ledger=2),
    ],
)
def test_resubmitting_an_id_with_other_fields_is_refused(book: Book, changed: Transfer) -> None:
    assert apply(book, single("t1", amount=5, user_data="order 42")) == [R.OK]
    assert apply(book, changed, at=T0 + 10) == [R.EXISTS_WITH_DIFFERENT_FIELDS]
    assert balances(book, PLAIN_A) == (0, 5, 0, 0)


def test_resubmitting_a_pending_with_another_timeout_is_refused(book: Book) -> None:
    apply(book, pending("p1", timeout_s=60))
    assert apply(book, pending("p1", timeout_s=61), at=T0 + 10) == [
        R.EXISTS_WITH_DIFFERENT_FIELDS
    ]


def test_resubmitting_a_transfer_as_a_post_is_refused(book: Book) -> None:
    apply(book, pending("p1"), single("t1"))
    assert apply(book, post("t1", "p1"), at=T0 + 10) == [R.EXISTS_WITH_DIFFERENT_FIELDS]
    assert state_of(book, "p1") == PendingState.PENDING


def test_resubmitting_a_post_that_omits_fields_returns_exists(book: Book) -> None:
    apply(book, pending("p1", code=7))
    apply(book, post("c1", "p1", 100, debit_account_id=PLAIN_A, ledger=1), at=T0 + 10)
    retries = [
        post("c1", "p1"),
        post("c1", "p1", 100),
        post("c1", "p1", 100, debit_account_id=PLAIN_A, credit_account_id=PLAIN_B, ledger=1,
             code=7),
    ]  # fmt: skip
    assert apply(book, *retries, at=T0 + 20) == [R.EXISTS] * 3


def test_resubmitting_a_post_with_other_fields_is_refused(book: Book) -> None:
    apply(book, pending("p1", code=7), pending("p2", code=7))
    apply(book, post("c1", "p1"), at=T0 + 10)
    retries = [
        post("c1", "p1", 99),
        post("c1", "p2"),
        post("c1", "p1", code=8),
        post("c1", "p1", debit_account_id=PLAIN_B),
        post("c1", "p1", user_data="x"),
        void("c1", "p1"),
    ]
    assert apply(book, *retries, at=T0 + 20) == [R.EXISTS_WITH_DIFFERENT_FIELDS] * 6
    linked_retry = [post("c1", "p1", flags=LINKED), single("t9")]
    assert apply(book, *linked_retry, at=T0 + 30) == [
        R.EXISTS_WITH_DIFFERENT_FIELDS,
        R.LINKED_EVENT_FAILED,
    ]
    assert state_of(book, "p2") == PendingState.PENDING


def test_resubmitting_a_partial_post_without_its_amount_is_refused(book: Book) -> None:
    # An omitted amount means "the whole pending amount", which is not what was posted.
    apply(book, pending("p1", amount=100))
    apply(book, post("c1", "p1", amount=30), at=T0 + 10)
    assert apply(book, post("c1", "p1"), at=T0 + 20) == [R.EXISTS_WITH_DIFFERENT_FIELDS]
    assert apply(book, post("c1", "p1", amount=30), at=T0 + 30) == [R.EXISTS]


def test_resubmitting_a_full_post_with_its_amount_spelled_out_returns_exists(book: Book) -> None:
    apply(book, pending("p1", amount=100))
    apply(book, post("c1", "p1"), at=T0 + 10)
    assert apply(book, post("c1", "p1", amount=100), at=T0 + 20) == [R.EXISTS]


def test_a_book_that_records_no_failures_leaves_a_refused_id_free(book: Book) -> None:
    # The in-transaction path: its caller's transaction rolls back on any failure.
    assert apply(book, single("t1", dr=DEBIT_LIMITED)) == [R.EXCEEDS_CREDITS]
    assert apply(book, single("t1"), at=T0 + 10) == [R.OK]
    assert book.failed_rows == [] and book.failed == set()


# -- an id's outcome never changes ------------------------------------------------


def recording_book() -> Book:
    book = new_book()
    book.record_failures = True
    return book


def test_a_stored_id_is_answered_exists_before_any_balance_check() -> None:
    book = recording_book()
    fund(book, DEBIT_LIMITED, 100)
    spend = single("spend", dr=DEBIT_LIMITED, amount=100)
    assert apply(book, spend) == [R.OK]
    assert apply(book, single("spend-more", dr=DEBIT_LIMITED, amount=1)) == [R.EXCEEDS_CREDITS]
    assert apply(book, spend, at=T0 + 10) == [R.EXISTS]  # not exceeds_credits
    assert apply(book, spend._replace(amount=101), at=T0 + 20) == [
        R.EXISTS_WITH_DIFFERENT_FIELDS]
    assert [row[1] for row in book.failed_rows] == ["spend-more"]


def test_a_retried_post_is_answered_exists_not_already_posted() -> None:
    book = recording_book()
    apply(book, pending("p1"))
    capture = post("c1", "p1", 60)
    assert apply(book, capture, at=T0 + 10) == [R.OK]
    assert apply(book, capture, at=T0 + 20) == [R.EXISTS]
    assert book.failed_rows == []


@covers(R.ID_ALREADY_FAILED)
def test_a_failed_id_stays_failed_even_once_the_account_is_funded() -> None:
    book = recording_book()
    attempt = single("t1", dr=DEBIT_LIMITED, amount=50, user_data="order 7")
    assert apply(book, attempt) == [R.EXCEEDS_CREDITS]
    fund(book, DEBIT_LIMITED, 1_000)
    before = balances(book, DEBIT_LIMITED)
    assert apply(book, attempt, at=T0 + 10) == [R.ID_ALREADY_FAILED]
    assert apply(book, attempt._replace(amount=1), at=T0 + 20) == [R.ID_ALREADY_FAILED]
    assert balances(book, DEBIT_LIMITED) == before
    assert book.failed_rows == [(T0, "t1", DEBIT_LIMITED, PLAIN_B, 50, 1, 1, 0, None, 0,
                                 "order 7", "exceeds_credits")]


@pytest.mark.parametrize("transfer, expected", [
    (single("t1", dr=99), R.DEBIT_ACCOUNT_NOT_FOUND),
    (single("t1", cr=99), R.CREDIT_ACCOUNT_NOT_FOUND),
    (post("t1", "nowhere"), R.PENDING_NOT_FOUND),
    (single("t1", cr=CLOSED), R.ACCOUNT_CLOSED),
    (single("t1", dr=DEBIT_LIMITED), R.EXCEEDS_CREDITS),
    (single("t1", cr=CREDIT_LIMITED), R.EXCEEDS_DEBITS),
])  # fmt: skip
def test_every_failure_a_retry_could_turn_into_success_is_recorded(
        transfer: Transfer, expected: TransferResult) -> None:
    book = recording_book()
    assert apply(book, transfer) == [expected]
    assert book.failed == {"t1"} and [row[-1] for row in book.failed_rows] == [expected.value]
    assert apply(book, transfer, at=T0 + 10) == [R.ID_ALREADY_FAILED]


def test_a_failure_that_cannot_change_is_not_recorded_and_answers_the_same_again() -> None:
    book = recording_book()
    apply(book, pending("p1"))
    apply(book, post("c1", "p1"), at=T0 + 10)
    again = void("v1", "p1")
    assert apply(book, again, at=T0 + 20) == [R.ALREADY_POSTED]
    assert apply(book, single("t1", amount=0), at=T0 + 30) == [R.AMOUNT_MUST_BE_POSITIVE]
    assert apply(book, again, at=T0 + 40) == [R.ALREADY_POSTED]
    assert book.failed_rows == []


def test_the_failed_member_of_an_undone_chain_stays_failed_and_the_others_stay_free() -> None:
    book = recording_book()
    chain = [single("t1", flags=LINKED), single("t2", dr=DEBIT_LIMITED)]
    assert apply(book, *chain) == [R.LINKED_EVENT_FAILED, R.EXCEEDS_CREDITS]
    assert book.failed == {"t2"}
    fund(book, DEBIT_LIMITED, 1_000)
    assert apply(book, *chain, at=T0 + 10) == [R.LINKED_EVENT_FAILED, R.ID_ALREADY_FAILED]
    assert apply(book, single("t1"), at=T0 + 20) == [R.OK]


def test_the_open_end_of_a_chain_is_never_tried_so_never_recorded() -> None:
    book = recording_book()
    assert apply(book, single("t1", flags=LINKED), single("t2", dr=99, flags=LINKED)) == [
        R.LINKED_EVENT_FAILED, R.LINKED_EVENT_CHAIN_OPEN]
    assert book.failed_rows == []


def test_an_id_that_fails_twice_in_one_submission_is_recorded_once() -> None:
    book = recording_book()
    t = single("t1", dr=DEBIT_LIMITED)
    assert apply(book, t, fund_transfer := single("f", PLAIN_A, DEBIT_LIMITED, 500), t) == [
        R.EXCEEDS_CREDITS, R.OK, R.ID_ALREADY_FAILED]
    assert fund_transfer.id in book.transfers and len(book.failed_rows) == 1


def test_a_book_that_records_nothing_still_answers_ids_that_failed_before() -> None:
    book = Book(new_book().accounts, {}, {}, {"t1"})
    assert apply(book, single("t1")) == [R.ID_ALREADY_FAILED]
    assert book.failed_rows == [] and book.rows == []


def test_the_same_id_twice_in_one_submission_is_applied_once(book: Book) -> None:
    assert apply(book, single("t1"), single("t1"), single("t1", amount=1)) == [
        R.OK,
        R.EXISTS,
        R.EXISTS_WITH_DIFFERENT_FIELDS,
    ]
    assert balances(book, PLAIN_A) == (0, 100, 0, 0)


# -- linked chains -----------------------------------------------------------


def test_linked_chain_commits_all_together(book: Book) -> None:
    chain = [single("t1", flags=LINKED), pending("p1", flags=LINKED), single("t2")]
    assert apply(book, *chain) == [R.OK, R.OK, R.OK]
    assert balances(book, PLAIN_A) == (100, 200, 0, 0)


@covers(R.LINKED_EVENT_FAILED)
def test_linked_chain_failing_mid_way_rolls_back_every_member(book: Book) -> None:
    apply(book, pending("p0", amount=50))
    before = {i: balances(book, i) for i in book.accounts}
    chain = [
        single("t1", flags=LINKED),
        post("c0", "p0", flags=LINKED),
        pending("p1", flags=LINKED),
        single("t2", dr=DEBIT_LIMITED, flags=LINKED),  # refused: no credits
        single("t3"),
    ]
    results = apply(book, *chain, at=T0 + 10)
    assert results == [
        R.LINKED_EVENT_FAILED,
        R.LINKED_EVENT_FAILED,
        R.LINKED_EVENT_FAILED,
        R.EXCEEDS_CREDITS,
        R.LINKED_EVENT_FAILED,
    ]
    assert {i: balances(book, i) for i in book.accounts} == before
    assert state_of(book, "p0") == PendingState.PENDING
    assert not {"t1", "c0", "p1", "t2", "t3"} & book.transfers.keys()
    assert [row[Row.ID] for row in book.rows] == ["p0"]
    assert len(book.pendings) == 1
    assert book.accounts[PLAIN_A].last_transfer == T0


def test_a_rolled_back_chain_leaves_its_ids_free(book: Book) -> None:
    apply(book, single("t1", flags=LINKED), single("t2", amount=0))
    assert apply(book, single("t1"), at=T0 + 10) == [R.OK]


def test_events_after_a_failed_chain_are_applied_on_their_own(book: Book) -> None:
    results = apply(book, single("t1", flags=LINKED), single("t2", amount=-1), single("t3"))
    assert results == [R.LINKED_EVENT_FAILED, R.AMOUNT_MUST_BE_POSITIVE, R.OK]
    assert balances(book, PLAIN_A) == (0, 100, 0, 0)


def test_events_before_a_failed_chain_are_kept(book: Book) -> None:
    results = apply(book, single("t0"), single("t1", flags=LINKED), single("t2", dr=99))
    assert results == [R.OK, R.LINKED_EVENT_FAILED, R.DEBIT_ACCOUNT_NOT_FOUND]
    assert balances(book, PLAIN_A) == (0, 100, 0, 0)


@covers(R.LINKED_EVENT_CHAIN_OPEN)
def test_chain_left_open_at_the_end_of_a_submission_fails_as_a_whole(book: Book) -> None:
    results = apply(book, single("t0"), single("t1", flags=LINKED), single("t2", flags=LINKED))
    assert results == [R.OK, R.LINKED_EVENT_FAILED, R.LINKED_EVENT_CHAIN_OPEN]
    assert balances(book, PLAIN_A) == (0, 100, 0, 0)
    assert "t1" not in book.transfers


def test_an_open_chain_that_already_failed_still_ends_with_chain_open(book: Book) -> None:
    results = apply(book, single("t1", flags=LINKED), single("t2", amount=0, flags=LINKED),
                    single("t3", flags=LINKED))  # fmt: skip
    assert results == [R.LINKED_EVENT_FAILED, R.AMOUNT_MUST_BE_POSITIVE, R.LINKED_EVENT_CHAIN_OPEN]


def test_exists_inside_a_chain_does_not_break_it(book: Book) -> None:
    # A retried chain whose first member already exists goes on; "exists" counts as success.
    apply(book, single("t1", flags=LINKED), single("t2"))
    results = apply(book, single("t1", flags=LINKED), single("t3"), at=T0 + 10)
    assert results == [R.EXISTS, R.OK]


# -- expiry --------------------------------------------------------------------


def test_pending_transfer_expires_at_its_timestamp_plus_timeout(book: Book) -> None:
    apply(book, pending("p1", timeout_s=60), at=T0 + 3)
    assert book.pendings[T0 + 3].expires_at == T0 + 3 + 60 * NS_PER_S


def test_pending_without_timeout_never_expires(book: Book) -> None:
    apply(book, pending("p1"))
    assert book.pendings[T0].expires_at is None
    assert apply(book, post("c1", "p1"), at=T0 + 10**9 * NS_PER_S) == [R.OK]


def test_expiry_releases_the_hold_and_writes_an_engine_row(book: Book) -> None:
    apply(book, pending("p1", amount=100, timeout_s=60))
    due = T0 + 60 * NS_PER_S
    book.expire(book.transfers["p1"], due)
    assert balances(book, PLAIN_A) == (0, 0, 0, 0)
    assert balances(book, PLAIN_B) == (0, 0, 0, 0)
    assert state_of(book, "p1") == PendingState.EXPIRED
    row = book.transfers[SYSTEM_ID_PREFIX + "p1"]
    assert row[Row.FLAGS] == TransferFlags.VOID_PENDING | TransferFlags.EXPIRY
    assert (row[Row.PENDING_ID], row[Row.AMOUNT], row[Row.TIMESTAMP]) == ("p1", 100, due)


def test_a_pending_transfer_can_still_be_posted_just_before_its_timeout(book: Book) -> None:
    apply(book, pending("p1", timeout_s=60))
    assert apply(book, post("c1", "p1"), at=T0 + 60 * NS_PER_S - 1) == [R.OK]


@covers(R.PENDING_EXPIRED)
def test_resolving_a_due_pending_transfer_not_yet_expired_is_refused(book: Book) -> None:
    # The engine may not have expired it yet (expiry runs in bounded batches).
    apply(book, pending("p1", timeout_s=60))
    due = T0 + 60 * NS_PER_S
    assert apply(book, post("c1", "p1"), void("v1", "p1"), at=due) == [R.PENDING_EXPIRED] * 2
    assert balances(book, PLAIN_A) == (100, 0, 0, 0)


def test_resolving_an_expired_pending_transfer_is_refused(book: Book) -> None:
    apply(book, pending("p1", timeout_s=60))
    due = T0 + 60 * NS_PER_S
    book.expire(book.transfers["p1"], due)
    assert apply(book, post("c1", "p1"), void("v1", "p1"), at=due + 1) == [R.PENDING_EXPIRED] * 2


def test_expiring_before_the_timeout_is_an_invariant_violation(book: Book) -> None:
    apply(book, pending("p1", timeout_s=60))
    with pytest.raises(InvariantViolation):
        book.expire(book.transfers["p1"], T0 + 60 * NS_PER_S - 1)


def test_expiring_a_resolved_or_timeless_pending_transfer_is_an_invariant_violation(
    book: Book,
) -> None:
    apply(book, pending("p1", timeout_s=60), pending("p2"))
    apply(book, post("c1", "p1"), at=T0 + 10)
    for pending_id in ("p1", "p2"):
        with pytest.raises(InvariantViolation):
            book.expire(book.transfers[pending_id], T0 + 100 * NS_PER_S)


@covers(R.OVERFLOWS_TIMEOUT)
def test_timeout_past_the_end_of_the_clock_is_refused(book: Book) -> None:
    late = AMOUNT_MAX - 10 * NS_PER_S
    assert apply(book, pending("p1", timeout_s=11), at=late) == [R.OVERFLOWS_TIMEOUT]
    assert apply(book, pending("p2", timeout_s=10), at=late - 1) == [R.OK]


# -- account rules -------------------------------------------------------------


@covers(R.EXCEEDS_CREDITS)
def test_debits_must_not_exceed_credits_counts_pending_debits(book: Book) -> None:
    fund(book, DEBIT_LIMITED, 100)
    assert apply(book, pending("p1", dr=DEBIT_LIMITED, amount=60), at=T0 + 10) == [R.OK]
    assert apply(book, single("t1", dr=DEBIT_LIMITED, amount=41), at=T0 + 20) == [
        R.EXCEEDS_CREDITS
    ]
    assert apply(book, single("t2", dr=DEBIT_LIMITED, amount=40), at=T0 + 30) == [R.OK]


def test_debits_must_not_exceed_credits_ignores_pending_credits(book: Book) -> None:
    apply(book, pending("p1", cr=DEBIT_LIMITED, amount=100))
    assert apply(book, single("t1", dr=DEBIT_LIMITED, amount=1), at=T0 + 10) == [
        R.EXCEEDS_CREDITS
    ]


@covers(R.EXCEEDS_DEBITS)
def test_credits_must_not_exceed_debits(book: Book) -> None:
    assert apply(book, single("t1", cr=CREDIT_LIMITED, amount=1)) == [R.EXCEEDS_DEBITS]
    apply(book, single("t2", dr=CREDIT_LIMITED, amount=10), at=T0 + 10)
    assert apply(book, pending("t3", cr=CREDIT_LIMITED, amount=10), at=T0 + 20) == [R.OK]
    assert apply(book, single("t4", cr=CREDIT_LIMITED, amount=1), at=T0 + 30) == [
        R.EXCEEDS_DEBITS
    ]


@covers(R.OVERFLOWS_DEBITS)
def test_a_transfer_that_would_overflow_the_debits_is_refused(book: Book) -> None:
    assert apply(book, pending("p1", amount=AMOUNT_MAX - 1)) == [R.OK]
    assert apply(book, single("t1", cr=CREDIT_LIMITED, dr=PLAIN_A, amount=2), at=T0 + 1) == [
        R.OVERFLOWS_DEBITS
    ]
    assert apply(book, single("t2", dr=PLAIN_A, cr=CREDIT_LIMITED, amount=1), at=T0 + 2) == [
        R.EXCEEDS_DEBITS
    ]
    assert balances(book, PLAIN_A) == (AMOUNT_MAX - 1, 0, 0, 0)


@covers(R.OVERFLOWS_CREDITS)
def test_a_transfer_that_would_overflow_the_credits_is_refused(book: Book) -> None:
    assert apply(book, single("t1", amount=AMOUNT_MAX)) == [R.OK]
    assert apply(book, single("t2", dr=CREDIT_LIMITED, cr=PLAIN_B, amount=1), at=T0 + 1) == [
        R.OVERFLOWS_CREDITS
    ]
    assert balances(book, PLAIN_B) == (0, 0, 0, AMOUNT_MAX)


@covers(R.ACCOUNT_CLOSED)
@pytest.mark.parametrize("dr, cr", [(CLOSED, PLAIN_B), (PLAIN_A, CLOSED)])
def test_a_transfer_touching_a_closed_account_is_refused(book: Book, dr: int, cr: int) -> None:
    assert apply(book, single("t1", dr=dr, cr=cr), pending("p1", dr=dr, cr=cr)) == [
        R.ACCOUNT_CLOSED
    ] * 2


def test_a_pending_transfer_on_a_since_closed_account_can_be_voided_but_not_posted(
    book: Book,
) -> None:
    # The engine refuses to close an account with open pending transfers; the rule is
    # nevertheless defined: posting is refused, voiding (releasing the hold) is allowed.
    apply(book, pending("p1"))
    book.accounts[PLAIN_B].flags |= AccountFlags.CLOSED
    assert apply(book, post("c1", "p1"), at=T0 + 10) == [R.ACCOUNT_CLOSED]
    assert apply(book, void("v1", "p1"), at=T0 + 20) == [R.OK]
    assert balances(book, PLAIN_A) == (0, 0, 0, 0)


@covers(R.DEBIT_ACCOUNT_NOT_FOUND, R.CREDIT_ACCOUNT_NOT_FOUND)
def test_transfers_between_unknown_accounts_are_refused(book: Book) -> None:
    assert apply(book, single("t1", dr=77), single("t2", cr=77), single("t3", dr=77, cr=78)) == [
        R.DEBIT_ACCOUNT_NOT_FOUND,
        R.CREDIT_ACCOUNT_NOT_FOUND,
        R.DEBIT_ACCOUNT_NOT_FOUND,
    ]


@covers(R.LEDGER_MISMATCH)
@pytest.mark.parametrize(
    "transfer",
    [
        single("t1", dr=PLAIN_A, cr=OTHER_LEDGER),
        single("t1", dr=OTHER_LEDGER, cr=PLAIN_A),
        single("t1", ledger=2),
        single("t1", dr=OTHER_LEDGER, cr=PLAIN_A, ledger=2),
        single("t1", ledger=0),
    ],
)
def test_transfers_across_ledgers_are_refused(book: Book, transfer: Transfer) -> None:
    assert apply(book, transfer) == [R.LEDGER_MISMATCH]


# -- the shape of a transfer ------------------------------------------------------

MALFORMED = [
    (single(""), R.ID_INVALID),
    (single("has space"), R.ID_INVALID),
    (single(SYSTEM_ID_PREFIX + "p1"), R.ID_INVALID),
    (single("x" * 65), R.ID_INVALID),
    (single(17), R.ID_INVALID),  # type: ignore[arg-type]
    (single(None), R.ID_INVALID),  # type: ignore[arg-type]
    (post("c1", "bad id"), R.ID_INVALID),
    (single("t1", flags=int(TransferFlags.EXPIRY)), R.FLAGS_INVALID),
    (single("t1", flags=64), R.FLAGS_INVALID),
    (single("t1", flags=-2), R.FLAGS_INVALID),
    (single("t1", flags=True), R.FLAGS_INVALID),
    (single("t1", flags=2.0), R.FLAGS_INVALID),
    (single("t1", flags="2"), R.FLAGS_INVALID),
    (single("t1", flags=PENDING | POST), R.FLAGS_ARE_MUTUALLY_EXCLUSIVE),
    (post("c1", "p1", flags=VOID), R.FLAGS_ARE_MUTUALLY_EXCLUSIVE),
    (single("t1", amount=0), R.AMOUNT_MUST_BE_POSITIVE),
    (single("t1", amount=-5), R.AMOUNT_MUST_BE_POSITIVE),
    (single("t1", amount=None), R.AMOUNT_MUST_BE_POSITIVE),
    (single("t1", amount=True), R.AMOUNT_MUST_BE_POSITIVE),
    (single("t1", amount=1.5), R.AMOUNT_MUST_BE_POSITIVE),
    (single("t1", amount=100.0), R.AMOUNT_MUST_BE_POSITIVE),
    (single("t1", amount="100"), R.AMOUNT_MUST_BE_POSITIVE),
    (pending("t1", amount=0), R.AMOUNT_MUST_BE_POSITIVE),
    (post("c1", "p1", amount=0), R.AMOUNT_MUST_BE_POSITIVE),
    (void("v1", "p1", amount=True), R.AMOUNT_MUST_BE_POSITIVE),
    (single("t1", amount=AMOUNT_MAX + 1), R.AMOUNT_TOO_LARGE),
    (post("c1", "p1", amount=2**64), R.AMOUNT_TOO_LARGE),
    (single("t1", code=0), R.CODE_INVALID),
    (single("t1", code=CODE_MAX + 1), R.CODE_INVALID),
    (single("t1", code=True), R.CODE_INVALID),
    (post("c1", "p1", code=-1), R.CODE_INVALID),
    (single("t1", user_data="line\nbreak"), R.USER_DATA_INVALID),
    (single("t1", user_data="é"), R.USER_DATA_INVALID),
    (single("t1", user_data="x" * 129), R.USER_DATA_INVALID),
    (single("t1", user_data=5), R.USER_DATA_INVALID),
    (post("c1", "p1", user_data=b"x"), R.USER_DATA_INVALID),
    (single("t1", dr=PLAIN_A, cr=PLAIN_A), R.ACCOUNTS_MUST_BE_DIFFERENT),
    (single("t1", dr=0), R.ACCOUNT_ID_INVALID),
    (single("t1", cr=-2), R.ACCOUNT_ID_INVALID),
    (single("t1", dr=2**63), R.ACCOUNT_ID_INVALID),
    (single("t1", dr=True), R.ACCOUNT_ID_INVALID),
    (single("t1", cr="2"), R.ACCOUNT_ID_INVALID),
    (post("c1", "p1", debit_account_id=-1), R.ACCOUNT_ID_INVALID),
    (post("c1", "p1", credit_account_id=None), R.ACCOUNT_ID_INVALID),
    (single("t1", pending_id="p1"), R.PENDING_ID_MUST_BE_EMPTY),
    (pending("t1", pending_id="p1"), R.PENDING_ID_MUST_BE_EMPTY),
    (post("c1", None), R.PENDING_ID_REQUIRED),
    (void("v1", None), R.PENDING_ID_REQUIRED),
    (post("c1", "c1"), R.PENDING_ID_MUST_BE_DIFFERENT),
    (single("t1", timeout_s=5), R.TIMEOUT_RESERVED_FOR_PENDING),
    (post("c1", "p1", timeout_s=5), R.TIMEOUT_RESERVED_FOR_PENDING),
    (pending("t1", timeout_s=-1), R.TIMEOUT_INVALID),
    (pending("t1", timeout_s=TIMEOUT_S_MAX + 1), R.TIMEOUT_INVALID),
    (pending("t1", timeout_s=1.5), R.TIMEOUT_INVALID),
    (pending("t1", timeout_s=None), R.TIMEOUT_INVALID),
    (post("c1", "p1", ledger=-1), R.LEDGER_MISMATCH),
    (single("t1", ledger=-1), R.LEDGER_MISMATCH),
    (single("t1", ledger="1"), R.LEDGER_MISMATCH),
]
COVERED.update(code for _, code in MALFORMED)


@pytest.mark.parametrize("transfer, expected", MALFORMED, ids=lambda v: repr(v)[:60])
def test_a_malformed_transfer_is_refused_with_its_reason_and_changes_nothing(
    book: Book, transfer: Transfer, expected: TransferResult
) -> None:
    apply(book, pending("p1"))
    before = {i: balances(book, i) for i in book.accounts}
    assert apply(book, transfer, at=T0 + 10) == [expected]
    assert {i: balances(book, i) for i in book.accounts} == before
    assert len(book.rows) == 1


def test_a_malformed_transfer_is_refused_even_if_its_id_exists(book: Book) -> None:
    apply(book, single("t1"))
    assert apply(book, single("t1", amount=0), at=T0 + 10) == [R.AMOUNT_MUST_BE_POSITIVE]


def test_transfer_flags_may_be_given_as_the_enum(book: Book) -> None:
    linked = TransferFlags.LINKED
    assert apply(book, single("t1", flags=linked), single("t2", flags=linked | TransferFlags.PENDING),
                 single("t3")) == [R.OK] * 3  # fmt: skip


def test_every_transfer_result_has_an_example() -> None:
    assert set(TransferResult) - COVERED == set()


# -- accounts ------------------------------------------------------------------------


def test_a_well_formed_account_passes_check_account() -> None:
    assert check_account(1, 1, 1, 0, None) is None
    limited = int(AccountFlags.DEBITS_MUST_NOT_EXCEED_CREDITS)
    assert check_account(2**63 - 1, 978, CODE_MAX, limited, "wallet of mer_42") is None


@pytest.mark.parametrize(
    "account_id, ledger, code, flags, user_data, expected",
    [
        (0, 1, 1, 0, None, AccountResult.ID_INVALID),
        (-1, 1, 1, 0, None, AccountResult.ID_INVALID),
        (2**63, 1, 1, 0, None, AccountResult.ID_INVALID),
        (True, 1, 1, 0, None, AccountResult.ID_INVALID),
        ("1", 1, 1, 0, None, AccountResult.ID_INVALID),
        (1, 1, 1, int(AccountFlags.CLOSED), None, AccountResult.FLAGS_INVALID),
        (1, 1, 1, 8, None, AccountResult.FLAGS_INVALID),
        (1, 1, 1, -1, None, AccountResult.FLAGS_INVALID),
        (1, 1, 1, 1.0, None, AccountResult.FLAGS_INVALID),
        (1, 1, 1, 3, None, AccountResult.FLAGS_ARE_MUTUALLY_EXCLUSIVE),
        (1, 1, 0, 0, None, AccountResult.CODE_INVALID),
        (1, 1, CODE_MAX + 1, 0, None, AccountResult.CODE_INVALID),
        (1, 1, False, 0, None, AccountResult.CODE_INVALID),
        (1, 0, 1, 0, None, AccountResult.LEDGER_NOT_FOUND),
        (1, -3, 1, 0, None, AccountResult.LEDGER_NOT_FOUND),
        (1, "1", 1, 0, None, AccountResult.LEDGER_NOT_FOUND),
        (1, 1, 1, 0, "tab\t", AccountResult.USER_DATA_INVALID),
        (1, 1, 1, 0, "x" * 129, AccountResult.USER_DATA_INVALID),
        (1, 1, 1, 0, 42, AccountResult.USER_DATA_INVALID),
    ],
)
def test_check_account_names_what_is_wrong_with_a_new_account(
    account_id: object, ledger: object, code: object, flags: object, user_data: object,
    expected: AccountResult,
) -> None:  # fmt: skip
    assert check_account(account_id, ledger, code, flags, user_data) == expected
