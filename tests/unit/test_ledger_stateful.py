"""Random mixes of transfers, applied to a ``Book`` and to a small model of the ledger.

The model below is written from the ledger's rules, not from ``Book``: plain
records, a snapshot to roll back a linked chain, the checks in their documented
order. After every step the two must agree on every result code and on all four
balances of every account, and the ledger's invariants must hold.

As the engine does, each step builds a new ``Book`` over the same accounts,
transfers, pending states and failed ids, and expires every due pending
transfer before it applies a submission (except in the step that checks that a
due pending transfer the engine has not expired yet can no longer be resolved).

An id's outcome never changes: at any later point, a stored id or an id that
failed for good is sent again, alone or inside a whole earlier submission sent
again verbatim. The retry moves no balance, writes nothing, and gets the same
answer: ``exists`` for what was applied, a failure for what failed
(``id_already_failed`` where the failure was recorded).
"""

from __future__ import annotations

import copy
import string
from dataclasses import dataclass
from typing import Any

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    invariant,
    precondition,
    rule,
)

from paywarden.domain.ledger import (
    AMOUNT_MAX,
    SYSTEM_ID_PREFIX,
    Account,
    AccountFlags,
    Book,
    PendingState,
    Row,
    Transfer,
    TransferResult,
)
from paywarden.domain.ledger.model import CODE_MAX, TIMEOUT_S_MAX, USER_DATA_LENGTH_MAX

R = TransferResult
LINKED, PENDING, POST, VOID = 1, 2, 4, 8
DMNEC = int(AccountFlags.DEBITS_MUST_NOT_EXCEED_CREDITS)
CMNED = int(AccountFlags.CREDITS_MUST_NOT_EXCEED_DEBITS)
CLOSED = int(AccountFlags.CLOSED)
NS_PER_S = 1_000_000_000
ID_LENGTH_MAX = 64
# Late enough that the longest timeout runs past AMOUNT_MAX (overflows_timeout).
T0 = 7_100_000_000 * NS_PER_S

# The failures a retry could otherwise turn into another answer, which the ledger records.
RECORDED = {R.DEBIT_ACCOUNT_NOT_FOUND, R.CREDIT_ACCOUNT_NOT_FOUND, R.PENDING_NOT_FOUND,
            R.ACCOUNT_CLOSED, R.EXCEEDS_CREDITS, R.EXCEEDS_DEBITS, R.OVERFLOWS_DEBITS,
            R.OVERFLOWS_CREDITS, R.OVERFLOWS_TIMEOUT}  # fmt: skip

# id -> (ledger, flags). Account 5 and 14 are closed from the start.
ACCOUNTS = {
    1: (1, 0), 2: (1, 0), 3: (1, DMNEC), 4: (1, CMNED), 5: (1, CLOSED),
    11: (2, 0), 12: (2, 0), 13: (2, DMNEC), 14: (2, CLOSED),
}  # fmt: skip
LEDGERS = {1: [1, 2, 3, 4, 5], 2: [11, 12, 13, 14]}
OPEN = {ledger: [a for a in ids if not ACCOUNTS[a][1] & CLOSED] for ledger, ids in LEDGERS.items()}
UNKNOWN_ACCOUNT = 99


# -- the model -----------------------------------------------------------------------


@dataclass
class ModelAccount:
    ledger: int
    flags: int
    debits_pending: int = 0
    debits_posted: int = 0
    credits_pending: int = 0
    credits_posted: int = 0

    def balances(self) -> tuple[int, int, int, int]:
        return (self.debits_pending, self.debits_posted, self.credits_pending, self.credits_posted)


@dataclass(frozen=True)
class Accepted:
    """What the model remembers of a transfer it accepted."""

    kind: str  # single | pending | post | void
    dr: int
    cr: int
    amount: int
    ledger: int
    code: int
    flags: int
    pending_id: str | None
    timeout_s: int
    user_data: str | None
    sent: Transfer  # exactly as it was accepted


@dataclass
class Hold:
    dr: int
    cr: int
    amount: int
    expires_at: int | None
    state: str = "pending"  # pending | posted | voided | expired


ID_FIRST = set(string.ascii_letters + string.digits)
ID_REST = ID_FIRST | set("_.:-")
STATE_OF = {
    "pending": PendingState.PENDING,
    "posted": PendingState.POSTED,
    "voided": PendingState.VOIDED,
    "expired": PendingState.EXPIRED,
}


def is_int(value: object) -> bool:
    return type(value) is int


def is_id(value: object) -> bool:
    return (
        type(value) is str
        and 1 <= len(value) <= ID_LENGTH_MAX
        and value[0] in ID_FIRST
        and all(c in ID_REST for c in value[1:])
    )


def is_account_id(value: object) -> bool:
    return is_int(value) and 1 <= value <= AMOUNT_MAX  # type: ignore[operator]


def is_user_data(value: object) -> bool:
    if value is None:
        return True
    return (
        type(value) is str
        and len(value) <= USER_DATA_LENGTH_MAX
        and all(" " <= c <= "~" for c in value)
    )


def is_linked(t: Transfer) -> bool:
    return is_int(t.flags) and bool(t.flags & LINKED)


class Model:
    def __init__(self) -> None:
        self.accounts = {i: ModelAccount(ledger, flags) for i, (ledger, flags) in ACCOUNTS.items()}
        self.transfers: dict[str, Accepted] = {}
        self.holds: dict[str, Hold] = {}
        self.expired: set[str] = set()
        self.failed: dict[str, tuple[Transfer, R]] = {}  # never rolled back by a chain

    # A submission: runs of linked events commit together or not at all.

    def submit(self, batch: list[Transfer], ts: int) -> list[R]:
        results: list[R] = []
        i = 0
        while i < len(batch):
            if not is_linked(batch[i]):
                results.append(self.one(batch[i], ts + i))
                i += 1
                continue
            end = i
            while end < len(batch) - 1 and is_linked(batch[end]):
                end += 1
            results.extend(self.chain(batch, i, end, ts))
            i = end + 1
        return results

    def chain(self, batch: list[Transfer], first: int, last: int, ts: int) -> list[R]:
        left_open = is_linked(batch[last])
        saved = copy.deepcopy((self.accounts, self.transfers, self.holds))
        results: list[R] = []
        for k in range(first, last if left_open else last + 1):  # an open end is never tried
            results.append(self.one(batch[k], ts + k))
            if results[-1] not in (R.OK, R.EXISTS):
                break
        failed = bool(results) and results[-1] not in (R.OK, R.EXISTS)
        if failed or left_open:
            self.accounts, self.transfers, self.holds = saved
            tried = results
            results = [R.LINKED_EVENT_FAILED] * (last - first + 1)
            if failed:
                results[len(tried) - 1] = tried[-1]
        if left_open:
            results[-1] = R.LINKED_EVENT_CHAIN_OPEN
        return results

    def one(self, t: Transfer, ts: int) -> R:
        fault = malformed(t)
        if fault is not None:
            return fault
        if t.id in self.transfers:
            return self.same_or_different(t, self.transfers[t.id])
        if t.id in self.failed:
            return R.ID_ALREADY_FAILED
        result = self.resolve(t, ts) if t.flags & (POST | VOID) else self.move(t, ts)
        if result in RECORDED:
            self.failed[t.id] = (t, result)
        return result

    def same_or_different(self, t: Transfer, old: Accepted) -> R:
        if t.flags & (POST | VOID):
            full = self.holds[old.pending_id].amount if old.pending_id in self.holds else None
            same = (
                t.flags == old.flags
                and t.pending_id == old.pending_id
                and t.debit_account_id in (0, old.dr)
                and t.credit_account_id in (0, old.cr)
                and t.ledger in (0, old.ledger)
                and t.code in (0, old.code)
                and (old.amount == full if t.amount is None else t.amount == old.amount)
                and t.user_data == old.user_data
            )
        else:
            same = (t.debit_account_id, t.credit_account_id, t.amount, t.ledger, t.code, t.flags,
                    t.pending_id, t.timeout_s, t.user_data) == (
                old.dr, old.cr, old.amount, old.ledger, old.code, old.flags, old.pending_id,
                old.timeout_s, old.user_data)  # fmt: skip
        return R.EXISTS if same else R.EXISTS_WITH_DIFFERENT_FIELDS

    def move(self, t: Transfer, ts: int) -> R:
        dr = self.accounts.get(t.debit_account_id)
        cr = self.accounts.get(t.credit_account_id)
        amount: int = t.amount  # type: ignore[assignment]
        if dr is None:
            return R.DEBIT_ACCOUNT_NOT_FOUND
        if cr is None:
            return R.CREDIT_ACCOUNT_NOT_FOUND
        if t.ledger != dr.ledger or t.ledger != cr.ledger:
            return R.LEDGER_MISMATCH
        if (dr.flags | cr.flags) & CLOSED:
            return R.ACCOUNT_CLOSED
        debits_after = dr.debits_pending + dr.debits_posted + amount
        credits_after = cr.credits_pending + cr.credits_posted + amount
        if debits_after > AMOUNT_MAX:
            return R.OVERFLOWS_DEBITS
        if credits_after > AMOUNT_MAX:
            return R.OVERFLOWS_CREDITS
        if dr.flags & DMNEC and debits_after > dr.credits_posted:
            return R.EXCEEDS_CREDITS
        if cr.flags & CMNED and credits_after > cr.debits_posted:
            return R.EXCEEDS_DEBITS
        is_pending = bool(t.flags & PENDING)
        expires_at = ts + t.timeout_s * NS_PER_S if is_pending and t.timeout_s else None
        if expires_at is not None and expires_at > AMOUNT_MAX:
            return R.OVERFLOWS_TIMEOUT
        if is_pending:
            dr.debits_pending += amount
            cr.credits_pending += amount
            self.holds[t.id] = Hold(t.debit_account_id, t.credit_account_id, amount, expires_at)
        else:
            dr.debits_posted += amount
            cr.credits_posted += amount
        self.transfers[t.id] = Accepted(
            "pending" if is_pending else "single", t.debit_account_id, t.credit_account_id,
            amount, t.ledger, t.code, t.flags, None, t.timeout_s, t.user_data, t,
        )  # fmt: skip
        return R.OK

    def resolve(self, t: Transfer, ts: int) -> R:
        target = self.transfers.get(t.pending_id)  # type: ignore[arg-type]
        if target is None:
            return R.PENDING_NOT_FOUND
        if target.kind != "pending":
            return R.PENDING_NOT_PENDING
        for given, actual in ((t.debit_account_id, target.dr), (t.credit_account_id, target.cr),
                              (t.ledger, target.ledger), (t.code, target.code)):  # fmt: skip
            if given != 0 and given != actual:
                return R.PENDING_HAS_DIFFERENT_FIELDS
        hold = self.holds[t.pending_id]  # type: ignore[index]
        if hold.state == "posted":
            return R.ALREADY_POSTED
        if hold.state == "voided":
            return R.ALREADY_VOIDED
        if hold.state == "expired" or (hold.expires_at is not None and ts >= hold.expires_at):
            return R.PENDING_EXPIRED
        is_post = bool(t.flags & POST)
        amount = hold.amount if t.amount is None else t.amount
        if is_post and amount > hold.amount:
            return R.EXCEEDS_PENDING_AMOUNT
        if not is_post and amount != hold.amount:
            return R.VOID_AMOUNT_MUST_MATCH
        dr, cr = self.accounts[hold.dr], self.accounts[hold.cr]
        if is_post and (dr.flags | cr.flags) & CLOSED:
            return R.ACCOUNT_CLOSED
        self.release(hold, "posted" if is_post else "voided")
        if is_post:
            dr.debits_posted += amount
            cr.credits_posted += amount
        self.transfers[t.id] = Accepted(
            "post" if is_post else "void", hold.dr, hold.cr, amount, target.ledger, target.code,
            t.flags, t.pending_id, 0, t.user_data, t,
        )  # fmt: skip
        return R.OK

    def release(self, hold: Hold, state: str) -> None:
        self.accounts[hold.dr].debits_pending -= hold.amount
        self.accounts[hold.cr].credits_pending -= hold.amount
        hold.state = state

    def due(self, now: int) -> set[str]:
        return {
            pending_id
            for pending_id, hold in self.holds.items()
            if hold.state == "pending" and hold.expires_at is not None and hold.expires_at <= now
        }

    def expire(self, pending_id: str) -> None:
        self.release(self.holds[pending_id], "expired")
        self.expired.add(pending_id)


def malformed(t: Transfer) -> R | None:
    """Why a transfer is refused on its own, before any ledger state is consulted."""
    flags = t.flags
    if not is_id(t.id):
        return R.ID_INVALID
    if not is_int(flags) or not 0 <= flags <= LINKED | PENDING | POST | VOID:
        return R.FLAGS_INVALID
    if [bool(flags & f) for f in (PENDING, POST, VOID)].count(True) > 1:
        return R.FLAGS_ARE_MUTUALLY_EXCLUSIVE
    if not is_user_data(t.user_data):
        return R.USER_DATA_INVALID
    if not is_int(t.timeout_s) or not 0 <= t.timeout_s <= TIMEOUT_S_MAX:
        return R.TIMEOUT_INVALID
    if t.timeout_s != 0 and not flags & PENDING:
        return R.TIMEOUT_RESERVED_FOR_PENDING
    if flags & (POST | VOID):
        return malformed_resolve(t)
    if t.pending_id is not None:
        return R.PENDING_ID_MUST_BE_EMPTY
    if not is_int(t.amount) or t.amount <= 0:  # type: ignore[operator]
        return R.AMOUNT_MUST_BE_POSITIVE
    if t.amount > AMOUNT_MAX:  # type: ignore[operator]
        return R.AMOUNT_TOO_LARGE
    if not (is_account_id(t.debit_account_id) and is_account_id(t.credit_account_id)):
        return R.ACCOUNT_ID_INVALID
    if t.debit_account_id == t.credit_account_id:
        return R.ACCOUNTS_MUST_BE_DIFFERENT
    if not is_int(t.code) or not 1 <= t.code <= CODE_MAX:
        return R.CODE_INVALID
    if not is_int(t.ledger) or t.ledger < 1:
        return R.LEDGER_MISMATCH
    return None


def malformed_resolve(t: Transfer) -> R | None:
    """A post or void: only the pending id is required, the rest may be omitted (0/None)."""
    if t.pending_id is None:
        return R.PENDING_ID_REQUIRED
    if not is_id(t.pending_id):
        return R.ID_INVALID
    if t.pending_id == t.id:
        return R.PENDING_ID_MUST_BE_DIFFERENT
    if t.amount is not None:
        if not is_int(t.amount) or t.amount <= 0:
            return R.AMOUNT_MUST_BE_POSITIVE
        if t.amount > AMOUNT_MAX:
            return R.AMOUNT_TOO_LARGE
    for account_id in (t.debit_account_id, t.credit_account_id):
        if account_id != 0 and not is_account_id(account_id):
            return R.ACCOUNT_ID_INVALID
    if not is_int(t.code) or not 0 <= t.code <= CODE_MAX:
        return R.CODE_INVALID
    if not is_int(t.ledger) or t.ledger < 0:
        return R.LEDGER_MISMATCH
    return None


# -- generating transfers --------------------------------------------------------------

BAD_VALUES: dict[str, list[Any]] = {
    "id": ["", "has space", SYSTEM_ID_PREFIX + "t1", "x" * (ID_LENGTH_MAX + 1), "é", "-x", 7, None],
    "flags": [16, 32, -2, -1, True, 1.0, "0", PENDING | POST, POST | VOID, PENDING | VOID,
              LINKED | 64],
    "amount": [0, -1, -(2**63), AMOUNT_MAX + 1, 2**64, True, False, 1.0, 2.5, "5", None],
    "debit_account_id": [0, -1, 2**63, True, False, "1", None, 1.0, 0.0],
    "credit_account_id": [0, -1, 2**63, True, "1", None],
    "code": [0, CODE_MAX + 1, True, -1, "1"],
    "ledger": [0, -1, "1", 3, True],
    "user_data": ["line\nbreak", "é", "x" * (USER_DATA_LENGTH_MAX + 1), 5, b"x",
                  "x" * USER_DATA_LENGTH_MAX],
    "timeout_s": [-1, 1.5, TIMEOUT_S_MAX + 1, None, True, 5],
    "pending_id": [None, "p", "bad id", "t1"],
}  # fmt: skip


def pick(data: st.DataObject, *choices: tuple[int, Any]) -> Any:
    """Draw one of ``choices`` by weight; a strategy is drawn from in turn."""
    choice = data.draw(st.sampled_from([value for weight, value in choices for _ in range(weight)]))
    return data.draw(choice) if isinstance(choice, st.SearchStrategy) else choice


def full_amount(t: Transfer | None) -> int:
    if t is not None and is_int(t.amount) and 0 < t.amount <= AMOUNT_MAX:  # type: ignore[operator]
        return t.amount  # type: ignore[return-value]
    return 10


class LedgerMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.accounts = {i: Account(i, ledger, 1, flags) for i, (ledger, flags) in ACCOUNTS.items()}
        self.transfers: dict[str, tuple[Any, ...]] = {}
        self.pendings: dict[int, Any] = {}
        self.model = Model()
        self.now = T0
        self.sent: list[Transfer] = []
        self.pending_sent: dict[str, Transfer] = {}
        self.accepted: dict[str, Transfer] = {}  # as first sent, by id, if the model took it
        self.failed: set[str] = set()  # ids that failed for good, as the engine loads them
        self.submissions: list[tuple[list[Transfer], list[R]]] = []  # with their first answers
        self.ids = 0

    # -- drawing transfers

    def fresh_id(self) -> str:
        self.ids += 1
        return f"t{self.ids}"

    def draw_transfer(self, data: st.DataObject, linked: bool) -> Transfer:
        kind = pick(data, (4, "single"), (4, "pending"), (4, "post"), (2, "void"), (3, "again"),
                    (3, "malformed"))  # fmt: skip
        if kind == "again" and self.sent:
            return self.draw_again(data)
        if kind == "malformed":
            return self.draw_malformed(data, linked)
        if kind in ("post", "void"):
            return self.draw_resolve(data, linked, void=kind == "void")
        return self.draw_move(data, linked, pending=kind == "pending")

    def draw_move(self, data: st.DataObject, linked: bool, pending: bool) -> Transfer:
        ledger = pick(data, (5, 1), (3, 2))
        pool = OPEN[ledger]
        others = [a for a in ACCOUNTS if a not in pool] + [UNKNOWN_ACCOUNT]
        dr = pick(data, (12, st.sampled_from(pool)), (1, st.sampled_from(others)))
        cr = pick(data, (12, st.sampled_from([a for a in pool if a != dr])),
                  (1, st.sampled_from(others)))  # fmt: skip
        amount = pick(
            data,
            (40, st.integers(1, 60)),
            (1, st.integers(AMOUNT_MAX - 50, AMOUNT_MAX)),
            (2, st.integers(AMOUNT_MAX // 2 - 5, AMOUNT_MAX // 2 + 5)),
        )
        timeout_s = 0
        if pending:
            timeout_s = pick(data, (3, 0), (6, st.integers(1, 3)), (1, 2_000_000_000),
                             (1, TIMEOUT_S_MAX))  # fmt: skip
        return Transfer(
            self.fresh_id(), dr, cr, amount, ledger,
            code=pick(data, (6, 1), (1, st.integers(2, 5))),
            flags=(PENDING if pending else 0) | (LINKED if linked else 0),
            timeout_s=timeout_s,
            user_data=pick(data, (6, None), (1, "order 42")),
        )  # fmt: skip

    def draw_resolve(self, data: st.DataObject, linked: bool, void: bool) -> Transfer:
        target: Transfer | None = None
        pending_id: Any = "unknown"
        holding = sorted(p for p, h in self.model.holds.items() if h.state == "pending")
        where = pick(data, (12 if holding else 0, "holding"), (3 if self.pending_sent else 0, "pending"),
                     (1 if self.sent else 0, "any"), (1, "unknown"))  # fmt: skip
        if where == "holding":
            target = self.accepted[data.draw(st.sampled_from(holding))]
        elif where == "pending":
            target = self.pending_sent[data.draw(st.sampled_from(sorted(self.pending_sent)))]
        elif where == "any":
            target = data.draw(st.sampled_from(self.sent))
        if target is not None:
            pending_id = target.id
        full = full_amount(target)
        if void:
            amount = pick(data, (4, None), (2, full), (1, st.integers(1, full + 1)), (1, full + 1))
        else:
            amount = pick(data, (3, None), (1, full), (3, st.integers(1, full)), (1, full + 1))

        def field(name: str, wrong: st.SearchStrategy[int]) -> Any:
            actual = getattr(target, name) if target is not None else 0
            return pick(data, (6, 0), (2, actual), (1, wrong))

        return Transfer(
            self.fresh_id(),
            field("debit_account_id", st.sampled_from(list(ACCOUNTS))),
            field("credit_account_id", st.sampled_from(list(ACCOUNTS))),
            amount,
            field("ledger", st.integers(1, 3)),
            field("code", st.integers(1, 5)),
            flags=(VOID if void else POST) | (LINKED if linked else 0),
            pending_id=pending_id,
            user_data=pick(data, (6, None), (1, "capture")),
        )

    def draw_again(self, data: st.DataObject) -> Transfer:
        """A transfer sent before, as it was or with a field changed."""
        accepted = sorted(self.accepted)
        failed = sorted(self.model.failed)
        where = pick(data, (6 if accepted else 0, "accepted"), (2 if failed else 0, "failed"),
                     (2, "sent"))  # fmt: skip
        if where == "accepted":
            old = self.accepted[data.draw(st.sampled_from(accepted))]
        elif where == "failed":
            old = self.model.failed[data.draw(st.sampled_from(failed))][0]
        else:
            old = data.draw(st.sampled_from(self.sent))
        change = pick(data, (6, "none"), (1, "amount"), (1, "user_data"), (1, "code"),
                      (1, "accounts"), (1, "omit"), (1, "linked"))  # fmt: skip
        if change == "amount":
            bigger = old.amount + 1 if is_int(old.amount) else 1
            return old._replace(amount=pick(data, (1, None), (1, 1), (1, bigger)))
        if change == "user_data":
            return old._replace(user_data=None if old.user_data == "changed" else "changed")
        if change == "code":
            return old._replace(code=pick(data, (1, 0), (1, 1), (1, 2)))
        if change == "accounts":
            return old._replace(debit_account_id=old.credit_account_id,
                                credit_account_id=old.debit_account_id)  # fmt: skip
        if change == "omit":
            return old._replace(debit_account_id=0, credit_account_id=0, ledger=0, code=0)
        if change == "linked" and is_int(old.flags):
            return old._replace(flags=old.flags ^ LINKED)
        return old

    def draw_malformed(self, data: st.DataObject, linked: bool) -> Transfer:
        base = pick(data, (2, "single"), (1, "pending"), (2, "post"))
        if base == "post":
            t = self.draw_resolve(data, linked, void=False)
        else:
            t = self.draw_move(data, linked, pending=base == "pending")
        name = data.draw(st.sampled_from(sorted([*BAD_VALUES, "same_accounts"])))
        if name == "same_accounts":
            return t._replace(credit_account_id=t.debit_account_id)
        value = data.draw(st.sampled_from([*BAD_VALUES[name], t.id]))
        return t._replace(**{name: value})

    # -- driving the book and the model

    def book(self) -> Book:
        return Book(self.accounts, self.transfers, self.pendings, self.failed,
                    record_failures=True)

    def apply(self, batch: list[Transfer]) -> list[R]:
        book = self.book()
        failed_before = set(self.model.failed)
        got = book.apply(batch, self.now)
        want = self.model.submit(batch, self.now)
        self.now += len(batch)
        for t in batch:
            if t.id in self.model.transfers:
                self.accepted.setdefault(t.id, t)
        assert got == want, "\n".join(
            f"{g!s:>30} {w!s:>30}  {t}" for t, g, w in zip(batch, got, want, strict=True)
        )
        assert len(book.rows) == got.count(R.OK)
        recorded = {row[Row.ID]: row[-1] for row in book.failed_rows}
        assert recorded == {i: self.model.failed[i][1].value
                            for i in set(self.model.failed) - failed_before}
        assert len(recorded) == len(book.failed_rows)
        return got

    def balances(self) -> dict[int, tuple[int, int, int, int]]:
        return {i: a.balances() for i, a in self.accounts.items()}

    def retry(self, batch: list[Transfer], may_fail: frozenset[str] = frozenset()) -> list[R]:
        """Send ``batch`` again: it must move no balance and store no transfer. Only the ids
        in ``may_fail`` (never tried before) may be recorded as failed now."""
        balances, stored, failed = self.balances(), len(self.transfers), set(self.failed)
        results = self.apply(batch)
        assert self.balances() == balances, (batch, results)
        assert len(self.transfers) == stored, (batch, results)
        assert self.failed - failed <= may_fail, (batch, results, self.failed - failed)
        return results

    def expire_due(self) -> None:
        """What the engine does before each batch: void every pending transfer past its timeout."""
        due = self.model.due(self.now)
        due_in_book = {
            ts
            for ts, pending in self.pendings.items()
            if pending.state == PendingState.PENDING
            and pending.expires_at is not None
            and pending.expires_at <= self.now
        }
        assert due_in_book == {self.transfers[p][Row.TIMESTAMP] for p in due}
        book = self.book()
        for pending_id in sorted(due, key=lambda p: (self.model.holds[p].expires_at, p)):
            book.expire(self.transfers[pending_id], self.now)
            self.model.expire(pending_id)
            self.now += 1
        assert len(book.rows) == len(due)

    # -- rules

    @rule(data=st.data())
    def submit(self, data: st.DataObject) -> None:
        self.expire_due()
        size = data.draw(st.integers(1, 6), label="size")
        batch = []
        for i in range(size):
            last = i == size - 1
            linked = pick(data, (9 if last else 2, False), (1, True))
            t = self.draw_transfer(data, linked)
            batch.append(t)
            self.sent.append(t)
            if is_int(t.flags) and t.flags & PENDING and is_id(t.id):
                self.pending_sent.setdefault(t.id, t)
        self.submissions.append((batch, self.apply(batch)))

    @precondition(lambda self: any(not is_linked(a.sent) for a in self.model.transfers.values())
                  or any(not is_linked(t) for t, _ in self.model.failed.values()))
    @rule(data=st.data())
    def retry_a_stored_or_failed_id(self, data: st.DataObject) -> None:
        """A client retries one transfer, as first sent, at any later point."""
        self.expire_due()
        stored = sorted(i for i, a in self.model.transfers.items() if not is_linked(a.sent))
        failed = sorted(i for i, (t, _) in self.model.failed.items() if not is_linked(t))
        where = pick(data, (1 if stored else 0, "stored"), (1 if failed else 0, "failed"))
        if where == "stored":
            t = self.model.transfers[data.draw(st.sampled_from(stored))].sent
            assert self.retry([t]) == self.retry([t]) == [R.EXISTS]
        else:
            t = self.model.failed[data.draw(st.sampled_from(failed))][0]
            assert self.retry([t]) == self.retry([t]) == [R.ID_ALREADY_FAILED]

    @precondition(lambda self: bool(self.submissions))
    @rule(data=st.data())
    def resubmit_an_earlier_submission(self, data: st.DataObject) -> None:
        """A client that never saw the answer sends a whole submission again, verbatim.

        What was applied is ``exists``; what failed fails again, ``id_already_failed``
        where that was recorded. Inside a linked chain that failed, another member may
        now fail first: a member the chain undid or skipped then may be refused (and
        recorded) now, but the chain still fails as a whole.
        """
        self.expire_due()
        batch, first = data.draw(st.sampled_from(self.submissions))
        in_chain = [is_linked(t) or (i > 0 and is_linked(batch[i - 1]))
                    for i, t in enumerate(batch)]
        undone = frozenset(t.id for t, was, chained in zip(batch, first, in_chain)
                            if chained and was is R.LINKED_EVENT_FAILED and is_id(t.id))
        again = self.retry(batch, undone)
        for t, was, now, chained in zip(batch, first, again, in_chain, strict=True):
            if was in (R.OK, R.EXISTS):
                assert now is R.EXISTS, (t, was, now)
            else:
                assert now not in (R.OK, R.EXISTS), (t, was, now)
            if (was in RECORDED or was is R.ID_ALREADY_FAILED) and not chained:
                assert now is R.ID_ALREADY_FAILED, (t, was, now)

    @rule(seconds=st.integers(0, 4), ns=st.sampled_from([0, 1, NS_PER_S // 2]))
    def advance_time(self, seconds: int, ns: int) -> None:
        self.now += seconds * NS_PER_S + ns

    @precondition(lambda self: any(
        h.state == "pending" and h.expires_at is not None and h.expires_at > self.now
        for h in self.model.holds.values()
    ))  # fmt: skip
    @rule(offset=st.sampled_from([-2, -1, 0]))
    def advance_to_just_before_the_next_timeout(self, offset: int) -> None:
        next_timeout = min(
            h.expires_at
            for h in self.model.holds.values()
            if h.state == "pending" and h.expires_at is not None and h.expires_at > self.now
        )
        self.now = max(self.now, next_timeout + offset)

    @precondition(lambda self: bool(self.model.due(self.now)))
    @rule(data=st.data())
    def resolve_a_due_pending_transfer_not_yet_expired(self, data: st.DataObject) -> None:
        pending_id = data.draw(st.sampled_from(sorted(self.model.due(self.now))))
        flags = pick(data, (1, POST), (1, VOID))
        resolve = Transfer(self.fresh_id(), 0, 0, None, 0, 0, flags, pending_id)
        assert self.apply([resolve]) == [R.PENDING_EXPIRED]

    @rule()
    def expire_as_the_engine_does(self) -> None:
        self.expire_due()

    # -- checks after every step

    @invariant()
    def book_and_model_agree(self) -> None:
        for account_id, account in self.accounts.items():
            expected = self.model.accounts[account_id].balances()
            assert account.balances() == expected, f"account {account_id}"
        client_ids = {i for i in self.transfers if not i.startswith(SYSTEM_ID_PREFIX)}
        assert client_ids == set(self.model.transfers)
        assert self.failed == set(self.model.failed)
        assert not self.failed & client_ids, "an id both applied and failed"
        engine_ids = {i for i in self.transfers if i.startswith(SYSTEM_ID_PREFIX)}
        assert engine_ids == {SYSTEM_ID_PREFIX + i for i in self.model.expired}
        assert len(self.pendings) == len(self.model.holds)
        for pending_id, hold in self.model.holds.items():
            pending = self.pendings[self.transfers[pending_id][Row.TIMESTAMP]]
            assert (pending.state, pending.amount, pending.expires_at) == (
                STATE_OF[hold.state], hold.amount, hold.expires_at,
            ), pending_id  # fmt: skip

    @invariant()
    def debits_equal_credits_and_no_balance_breaks_a_limit(self) -> None:
        for ledger, ids in LEDGERS.items():
            accounts = [self.accounts[i] for i in ids]
            assert sum(a.debits_pending for a in accounts) == sum(
                a.credits_pending for a in accounts
            ), f"pending, ledger {ledger}"
            assert sum(a.debits_posted for a in accounts) == sum(
                a.credits_posted for a in accounts
            ), f"posted, ledger {ledger}"
        for account in self.accounts.values():
            dp, dP, cp, cP = account.balances()
            assert all(0 <= b <= AMOUNT_MAX for b in (dp, dP, cp, cP)), account
            assert dp + dP <= AMOUNT_MAX and cp + cP <= AMOUNT_MAX, account
            assert (account.ledger, account.flags) == ACCOUNTS[account.id]
            if account.flags & DMNEC:
                assert dp + dP <= cP, account
            if account.flags & CMNED:
                assert cp + cP <= dP, account


LedgerMachine.TestCase.settings = settings(
    max_examples=150,
    stateful_step_count=40,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
TestLedgerAgainstModel = LedgerMachine.TestCase
