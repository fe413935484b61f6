"""``paywarden verify``: prove the ledger's invariants on a live or restored database.

Checks, each naming what it found:

- ``ledger_unbalanced``      debits differ from credits within a ledger
- ``balance_mismatch``       an account's balance differs from the sum of its transfers
- ``history_mismatch``       a transfer's recorded running balances differ from a replay
- ``flags_broken``           an account's balances break its flags
- ``pending_resolved_twice`` a pending transfer posted or voided more than once
- ``pending_state_mismatch`` a pending transfer's state disagrees with its resolutions
- ``pending_row_mismatch``   a pending record disagrees with its transfer
- ``transfer_invalid``       a transfer row that the engine could never have written
- ``clock_behind``           a transfer or failed record newer than the ledger's last timestamp
- ``failed_id_applied``      an id recorded as failed for good that also names a transfer

The replay walks every transfer in timestamp order, so a row changed behind
the engine's back shows up even when the attacker also fixed the totals.
Failed records (``transfers_failed``) move no money: no sum or replay reads them.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, text

from ...adapters.store import Database
from ...domain.ledger import AMOUNT_MAX, TRANSFER_COLUMNS, AccountFlags, PendingState, Row
from ...domain.ledger import TransferFlags as F

REPLAY_FETCH_ROWS = 10_000
VIOLATIONS_PER_CHECK_MAX = 100


@dataclass(frozen=True)
class Violation:
    check: str
    detail: str

    def __str__(self) -> str:
        return f"{self.check}: {self.detail}"


Progress = Callable[[int, int], None]


def verify_ledger(database: Database, *, progress: Progress | None = None) -> list[Violation]:
    found: list[Violation] = []
    with database.engine.connect() as conn:
        # One snapshot for every check: on a live database, READ COMMITTED would read the
        # transfers before a batch's commit and the balances after it (SQLite's read
        # transaction holds one snapshot already).
        if database.dialect == "postgresql":
            conn.execution_options(isolation_level="REPEATABLE READ")
        total = conn.execute(text("SELECT count(*) FROM transfers")).scalar_one()
        found += _ledgers_balance(conn)
        found += _balances_equal_sums(conn)
        found += _flags(conn)
        found += _pendings(conn)
        found += _clock(conn)
        found += _failed(conn)
        found += _replay(conn, total, progress)
    return found


def _cap(violations: list[Violation]) -> list[Violation]:
    return violations[:VIOLATIONS_PER_CHECK_MAX]


def _ledgers_balance(conn: Connection) -> list[Violation]:
    rows = conn.execute(text(
        "SELECT ledger, sum(debits_pending), sum(credits_pending), sum(debits_posted), "
        "sum(credits_posted) FROM accounts GROUP BY ledger"))
    out = []
    for ledger, dp, cp, dpo, cpo in rows:
        if dp != cp or dpo != cpo:
            out.append(Violation("ledger_unbalanced", f"ledger {ledger}: pending debits {dp} vs "
                                 f"credits {cp}, posted debits {dpo} vs credits {cpo}"))
    return out


def _balances_equal_sums(conn: Connection) -> list[Violation]:
    posted_only = int(F.PENDING | F.VOID_PENDING)
    sums: dict[int, list[int]] = defaultdict(lambda: [0, 0, 0, 0])
    for side, index in (("debit", 1), ("credit", 3)):
        for account_id, total in conn.execute(text(
            f"SELECT {side}_account_id, sum(amount) FROM transfers "
            f"WHERE (flags & {posted_only}) = 0 GROUP BY {side}_account_id")):
            sums[account_id][index] = total
        for account_id, total in conn.execute(text(
            f"SELECT {side}_account_id, sum(amount) FROM pending_transfers "
            f"WHERE state = {int(PendingState.PENDING)} GROUP BY {side}_account_id")):
            sums[account_id][index - 1] = total
    out = []
    names = ("debits_pending", "debits_posted", "credits_pending", "credits_posted")
    for account_id, *balances in conn.execute(text(
            "SELECT id, debits_pending, debits_posted, credits_pending, credits_posted "
            "FROM accounts ORDER BY id")):
        expected = sums.pop(account_id, [0, 0, 0, 0])
        for name, have, want in zip(names, balances, expected):
            if have != want:
                out.append(Violation("balance_mismatch", f"account {account_id}: {name} is "
                                     f"{have}, its transfers sum to {want}"))
    for account_id in sums:
        out.append(Violation("balance_mismatch", f"transfers name account {account_id}, "
                             f"which does not exist"))
    return _cap(out)


def _flags(conn: Connection) -> list[Violation]:
    dmnec, cmned = int(AccountFlags.DEBITS_MUST_NOT_EXCEED_CREDITS), int(
        AccountFlags.CREDITS_MUST_NOT_EXCEED_DEBITS)
    rows = conn.execute(text(
        f"SELECT id, flags FROM accounts WHERE "
        f"((flags & {dmnec}) <> 0 AND debits_pending + debits_posted > credits_posted) OR "
        f"((flags & {cmned}) <> 0 AND credits_pending + credits_posted > debits_posted) OR "
        f"debits_pending < 0 OR debits_posted < 0 OR credits_pending < 0 OR credits_posted < 0"))
    return _cap([Violation("flags_broken", f"account {a} (flags {f}) breaks its limits")
                 for a, f in rows])


def _pendings(conn: Connection) -> list[Violation]:
    out = []
    resolve = int(F.POST_PENDING | F.VOID_PENDING)
    for pending_id, n in conn.execute(text(
            f"SELECT pending_id, count(*) FROM transfers WHERE (flags & {resolve}) <> 0 "
            f"GROUP BY pending_id HAVING count(*) > 1")):
        out.append(Violation("pending_resolved_twice", f"{pending_id!r} resolved {n} times"))
    post, void, expiry = int(F.POST_PENDING), int(F.VOID_PENDING), int(F.EXPIRY)
    rows = conn.execute(text(
        "SELECT t.id, p.state, r.flags, p.amount, t.amount, p.debit_account_id, "
        "t.debit_account_id, p.credit_account_id, t.credit_account_id, t.flags "
        "FROM pending_transfers p JOIN transfers t ON t.timestamp = p.timestamp "
        "LEFT JOIN transfers r ON r.pending_id = t.id"))
    for tid, state, r_flags, p_amount, t_amount, p_dr, t_dr, p_cr, t_cr, t_flags in rows:
        if r_flags is None:
            expected = PendingState.PENDING
        elif r_flags & post:
            expected = PendingState.POSTED
        elif r_flags & void and r_flags & expiry:
            expected = PendingState.EXPIRED
        else:
            expected = PendingState.VOIDED
        if state != expected:
            out.append(Violation("pending_state_mismatch", f"{tid!r} is {state}, its "
                                 f"resolutions say {int(expected)}"))
        if (p_amount, p_dr, p_cr) != (t_amount, t_dr, t_cr) or not t_flags & int(F.PENDING):
            out.append(Violation("pending_row_mismatch", f"pending record of {tid!r} differs "
                                 f"from its transfer"))
    return _cap(out)


def _clock(conn: Connection) -> list[Violation]:
    last = conn.execute(text("SELECT last_timestamp FROM ledger_state WHERE id = 1")).scalar_one()
    out = []
    for table in ("transfers", "transfers_failed"):
        newest = conn.execute(text(f"SELECT max(timestamp) FROM {table}")).scalar_one()
        if newest is not None and newest > last:
            out.append(Violation("clock_behind", f"{table} row at {newest} is newer than the "
                                 f"ledger's last timestamp {last}"))
    return out


def _failed(conn: Connection) -> list[Violation]:
    rows = conn.execute(text(
        f"SELECT f.id FROM transfers_failed f JOIN transfers t ON t.id = f.id "
        f"LIMIT {VIOLATIONS_PER_CHECK_MAX}"))
    return [Violation("failed_id_applied", f"{tid!r} failed for good, yet a transfer has "
                      f"that id") for (tid,) in rows]


def _replay(conn: Connection, total: int, progress: Progress | None) -> list[Violation]:
    """Re-apply every transfer in order and compare each recorded running balance."""
    balances: dict[int, list[int]] = defaultdict(lambda: [0, 0, 0, 0])
    last_seen: dict[int, int] = {}
    open_amounts: dict[str, int] = {}
    out: list[Violation] = []
    done = 0
    result = conn.execution_options(yield_per=REPLAY_FETCH_ROWS).execute(text(
        f"SELECT {', '.join(TRANSFER_COLUMNS)} FROM transfers ORDER BY timestamp"))
    for row in result:
        out += _replay_one(row, balances, last_seen, open_amounts)
        done += 1
        if progress is not None and done % REPLAY_FETCH_ROWS == 0:
            progress(done, total)
        if len(out) >= VIOLATIONS_PER_CHECK_MAX:
            break
    if progress is not None:
        progress(done, total)
    for account_id, *stored in conn.execute(text(
            "SELECT id, debits_pending, debits_posted, credits_pending, credits_posted, "
            "last_transfer FROM accounts")):
        replayed = balances.get(account_id, [0, 0, 0, 0])
        if stored[:4] != replayed or stored[4] != last_seen.get(account_id, 0):
            out.append(Violation("history_mismatch", f"account {account_id}: stored "
                                 f"{stored[:4]} (head {stored[4]}), replay gives {replayed} "
                                 f"(head {last_seen.get(account_id, 0)})"))
    return _cap(out)


def _replay_one(row: tuple[Any, ...], balances: dict[int, list[int]], last_seen: dict[int, int],
                open_amounts: dict[str, int]) -> list[Violation]:
    ts, tid, dr_id, cr_id, amount, flags = (row[Row.TIMESTAMP], row[Row.ID], row[Row.DEBIT],
                                            row[Row.CREDIT], row[Row.AMOUNT], row[Row.FLAGS])
    if not 0 < amount <= AMOUNT_MAX or dr_id == cr_id:
        return [Violation("transfer_invalid", f"{tid!r}: amount {amount}, accounts "
                          f"{dr_id} -> {cr_id}")]
    dr, cr = balances[dr_id], balances[cr_id]
    if (row[Row.DEBIT_PREV], row[Row.CREDIT_PREV]) != (last_seen.get(dr_id, 0),
                                                       last_seen.get(cr_id, 0)):
        return [Violation("history_mismatch", f"{tid!r}: chain pointers do not follow the "
                          f"accounts' previous transfers")]
    if flags & (F.POST_PENDING | F.VOID_PENDING):
        held = open_amounts.pop(row[Row.PENDING_ID], None)
        if held is None:
            return [Violation("history_mismatch", f"{tid!r} resolves {row[Row.PENDING_ID]!r}, "
                              f"which was not open")]
        dr[0] -= held
        cr[2] -= held
        if flags & F.POST_PENDING:
            dr[1] += amount
            cr[3] += amount
    elif flags & F.PENDING:
        open_amounts[tid] = amount
        dr[0] += amount
        cr[2] += amount
    else:
        dr[1] += amount
        cr[3] += amount
    last_seen[dr_id] = last_seen[cr_id] = ts
    recorded_dr = list(row[Row.DEBIT_BALANCES : Row.DEBIT_BALANCES + 4])
    recorded_cr = list(row[Row.CREDIT_BALANCES : Row.CREDIT_BALANCES + 4])
    if recorded_dr != dr or recorded_cr != cr:
        # Resynchronise so that one bad row is reported once, not for every later row.
        dr[:], cr[:] = recorded_dr, recorded_cr
        return [Violation("history_mismatch", f"{tid!r}: recorded balances {recorded_dr}, "
                          f"{recorded_cr}; replay gives {dr}, {cr}")]
    return []
