"""Issuing a statement: read the period from the ledger, check it adds up, record its
digest in the audit log, have the tree head signed over it, and seal it.

Order (each step needs the one before):

1. the period's entries and balances from the ledger chain (:func:`..history.period`),
   checked: opening + entries = closing (an ``InvariantViolation`` stops everything);
2. one audit entry ``banking.statement_issued`` whose detail holds the statement's
   SHA-256, committed on its own (reading a statement moves no money);
3. a signed tree head covering that entry (:meth:`TreeHeads.sign_now`);
4. the inclusion proof of the entry under that head, read back;
5. the JWS over statement and proof (:func:`.seal.seal`).

A statement issued twice for the same period is two statements, two leaves: the
audit log says each time who asked for which account's statement when.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import UTC, date, datetime

from ....adapters.store import Database
from ....adapters.store import audit_log as log
from ....domain.banking.statement import Statement
from ....domain.errors import DomainError, InvariantViolation
from ... import audit
from ...audit.tree_heads import TreeHeads
from ...keys import Keys
from ..history import Describe, Side, ledger_describe, period
from .seal import AUDIT_ACTION, AuditProof, Sealed, digest, seal

PERIOD_DAYS_MAX = 366
STATEMENT_PREFIX = "stm_"


@dataclass(frozen=True)
class StatementAccount:
    """What a statement says about the account, and where its money is in the ledger."""

    account_id: str
    iban: str
    owner_name: str
    product: str
    currency: str
    ledger_account_id: int
    side: Side = Side.CREDIT_NORMAL


def check_period(from_date: date, to_date: date, *, now_ns: int) -> None:
    today = datetime.fromtimestamp(now_ns // 1_000_000_000, UTC).date()
    if to_date < from_date:
        raise DomainError("statement_period_invalid", f"to {to_date} is before from {from_date}")
    if to_date > today:
        raise DomainError("statement_period_invalid", f"to {to_date} is in the future")
    if (to_date - from_date).days + 1 > PERIOD_DAYS_MAX:
        raise DomainError("statement_period_invalid",
                          f"a statement covers at most {PERIOD_DAYS_MAX} days")


def build(database: Database, account: StatementAccount, from_date: date, to_date: date, *,
          now_ns: int, describe: Describe = ledger_describe) -> Statement:
    """The statement of ``account`` over the period, checked, not yet recorded."""
    check_period(from_date, to_date, now_ns=now_ns)
    with database.engine.connect() as conn:
        found = period(conn, account.ledger_account_id, account.side, from_date, to_date,
                       describe=describe)
    return Statement(
        statement_id=STATEMENT_PREFIX + secrets.token_hex(12), account_id=account.account_id,
        iban=account.iban, owner_name=account.owner_name, product=account.product,
        currency=account.currency, period_from=from_date, period_to=to_date,
        opening_balance_minor=found.opening_balance_minor, entries=found.entries,
        closing_balance_minor=found.closing_balance_minor, generated_at_ns=now_ns).check()


def issue(database: Database, keys: Keys, tree_heads: TreeHeads, account: StatementAccount,
          from_date: date, to_date: date, *, actor: str, now_ns: int,
          describe: Describe = ledger_describe) -> Sealed:
    """Build, record, prove and seal a statement (see the module's order)."""
    statement = build(database, account, from_date, to_date, now_ns=now_ns, describe=describe)
    with database.engine.begin() as conn:
        index = audit.record(conn, at_ns=now_ns, actor=actor, action=AUDIT_ACTION,
                             object_id=statement.statement_id,
                             detail={"account_id": account.account_id,
                                     "from": from_date.isoformat(), "to": to_date.isoformat(),
                                     "statement_sha256": digest(statement)})
    head = tree_heads.sign_now()
    if head.tree_size <= index:
        raise InvariantViolation(f"the tree head signed at size {head.tree_size} does not "
                                 f"cover audit entry {index}")
    with database.engine.connect() as conn:
        sql = log.driver(conn)
        conn.begin()
        leaf = log.entries(sql, index, index)[0][1]
        path = log.inclusion(sql, index, head.tree_size)
        conn.rollback()
    return seal(keys, statement, AuditProof(index, leaf, tuple(path), head))
