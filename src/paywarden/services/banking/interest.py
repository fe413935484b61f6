"""Interest on savings: the daily accrual and the monthly posting, as a resumable batch job.

``Interest.run(through)`` takes every account of a product with a rate
(``interest_rates_bps``) that is not closed, and for each one, in order:

1. posts the month that ended on the day before the first day to accrue, if it is not
   posted yet (a run killed between a month's last accrual and its posting);
2. accrues each day from the first without a row (the opening day for a new account)
   through ``through``: one ``interest_accruals`` row per (account, day), each committed
   on its own, so a day accrued is never accrued again and a killed run resumes at the
   first missing day (a row another process wrote meanwhile is left as it is);
3. after a month's last day, posts that month: ``month_posting_minor`` of the stored
   accruals, as the movement ``int_<account>_<YYYYMM>`` from the INTEREST_EXPENSE
   account (exactly once by its id: a rerun is answered, never paid twice).

A day's balance is the ledger's booked balance at its end, plus the interest of earlier
months posted after that end: every month's interest counts as credited at 00:00 of the
next month, whenever the job actually ran, so a late, interrupted or caught-up run
accrues exactly what a punctual one would (decision 0027).

Only days that have ended (``interest_day_grace_s`` after 00:00 UTC) are accrued: a day
still open could gain or lose money after its balance was read. A run that accrued or
posted anything is an audit entry with its totals; each posting is one of its own.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import structlog
from sqlalchemy import func, insert, select
from sqlalchemy.exc import IntegrityError

from ...adapters.clock import Clock
from ...adapters.store import Database
from ...adapters.store.schema import bank_accounts, bank_transfers, interest_accruals, transfers
from ...domain.banking import interest as rules
from ...domain.errors import DomainError
from ...domain.ledger.chart import AccountKind
from ...domain.money import Money
from .. import audit
from ..crashpoints import CrashPoints
from ..ledger.queries import LedgerQueries
from .accounts import BankAccount, Product, State, get_account
from .movements import Movement, MovementKind, Movements

log = structlog.get_logger(__name__)
ACTOR = "interest"
Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class Posting:
    movement_id: str
    account_id: str
    month: int
    amount_minor: int
    currency: str
    created: bool  # False: posted by an earlier run

    def public(self) -> dict[str, Any]:
        return {"id": self.movement_id, "account_id": self.account_id,
                "month": f"{self.month // 100:04d}-{self.month % 100:02d}",
                "amount": self.amount_minor, "currency": self.currency,
                "created": self.created}


@dataclass
class Report:
    through: dt.date
    accounts: int = 0
    days_accrued: int = 0  # rows this run wrote
    accrued_micro: int = 0
    postings: list[Posting] = field(default_factory=list)
    refused: list[dict[str, str]] = field(default_factory=list)  # postings the bank refused

    def public(self) -> dict[str, Any]:
        return {"through": self.through.isoformat(), "accounts": self.accounts,
                "days_accrued": self.days_accrued, "accrued_micro": self.accrued_micro,
                "postings": [p.public() for p in self.postings], "refused": self.refused}


class Interest:
    def __init__(self, database: Database, *, clock: Clock, movements: Movements,
                 queries: LedgerQueries, rates_bps: Mapping[str, int], grace_s: int,
                 days_per_run_max: int, crash_at: str | None = None) -> None:
        self._database = database
        self._clock = clock
        self._movements = movements
        self._queries = queries
        self.rates_bps = {Product(p): rules.check_rate(r) for p, r in rates_bps.items()}
        self._grace_ns = grace_s * 10**9
        self._days_max = days_per_run_max
        self._crash = CrashPoints(crash_at, prefix="interest.")

    def last_complete_day(self) -> dt.date:
        """The latest day whose balances are final."""
        return rules.day_of(self._clock.now_ns() - self._grace_ns) - dt.timedelta(days=1)

    def run(self, through: dt.date | None = None, *, progress: Progress | None = None
            ) -> Report:
        """Accrue every day through ``through`` (default: the last complete day) and post
        every month that ended; safe to run again, and to kill at any point."""
        latest = self.last_complete_day()
        through = latest if through is None else through
        if through > latest:
            raise DomainError("interest_day_open", f"{through.isoformat()} has not ended "
                              f"yet: the latest day to accrue is {latest.isoformat()}")
        report = Report(through)
        accounts = self._accounts()
        last_days = self._last_days()
        for done, account in enumerate(accounts, 1):
            self._account(account, last_days.get(account.id), report)
            report.accounts += 1
            if progress is not None:
                progress(done, len(accounts))
        made = [p for p in report.postings if p.created]
        if report.days_accrued or made:  # a run that found nothing to do leaves no entry
            with self._database.engine.begin() as conn:
                audit.record(conn, at_ns=self._clock.now_ns(), actor=ACTOR,
                             action="interest.run", object_id=f"interest:{through}",
                             detail={"accounts": report.accounts,
                                     "days_accrued": report.days_accrued,
                                     "accrued_micro": report.accrued_micro,
                                     "postings": len(made),
                                     "posted_minor": sum(p.amount_minor for p in made),
                                     "refused": len(report.refused)})
        log.info("interest.run", through=through.isoformat(), accounts=report.accounts,
                 days=report.days_accrued, postings=len(made))
        return report

    # -- one account ----------------------------------------------------------------------

    def _account(self, account: BankAccount, last: dt.date | None, report: Report) -> None:
        rate = self.rates_bps[account.product]
        opened = rules.day_of(account.created_at_ns)
        first = opened if last is None else last + dt.timedelta(days=1)
        if last is not None and rules.is_month_end(last):
            self._post(account, rules.month_of(last), report)
        todo = rules.days(first, report.through)[: self._days_max]
        if not todo:
            return
        posted = self._posted(account)
        for day in todo:
            end_ns = rules.day_end_ns(day)
            booked = self._booked(account, end_ns - 1) + sum(
                amount for month, (amount, at_ns) in posted.items()
                if month < rules.month_of(day) and at_ns >= end_ns)
            accrued = rules.daily_accrual_micro(booked, rate)
            if self._accrue(account, day, booked, rate, accrued):
                report.days_accrued += 1
                report.accrued_micro += accrued
            self._crash.reached("interest.accrued")
            if rules.is_month_end(day):
                made = self._post(account, rules.month_of(day), report)
                if made is not None:
                    posted[made[0]] = made[1]

    def _booked(self, account: BankAccount, at_ns: int) -> int:
        found = self._queries.balances_as_of(account.ledger_account_id, at_ns)
        return 0 if found is None else found.credits_posted - found.debits_posted

    def _accrue(self, account: BankAccount, day: dt.date, balance_minor: int, rate_bps: int,
                accrued_micro: int) -> bool:
        try:
            with self._database.engine.begin() as conn:
                conn.execute(insert(interest_accruals).values(
                    account_id=account.id, day=day.isoformat(), month=rules.month_of(day),
                    currency=account.currency, balance_minor=balance_minor, rate_bps=rate_bps,
                    accrued_micro=accrued_micro, created_at=self._clock.now_ns()))
        except IntegrityError:
            return False  # another run accrued this day meanwhile: its row stands
        return True

    def _post(self, account: BankAccount, month: int, report: Report
              ) -> tuple[int, tuple[int, int]] | None:
        """Post ``month`` once; (month, (amount, ledger timestamp)) when money moved."""
        with self._database.engine.connect() as conn:
            sums = dict(conn.execute(
                select(interest_accruals.c.month, func.sum(interest_accruals.c.accrued_micro))
                .where(interest_accruals.c.account_id == account.id,
                       interest_accruals.c.month <= month)
                .group_by(interest_accruals.c.month)).all())
        before = sum(int(s) for m, s in sums.items() if m < month)
        amount = rules.month_posting_minor(before, int(sums.get(month, 0)))
        if amount == 0:
            return None
        movement_id = rules.posting_id(account.id, month)
        self._crash.reached("interest.posting")
        try:
            done = self._movements.execute(Movement(
                movement_id, MovementKind.INTEREST, None, None, account.id,
                Money(amount, account.currency),
                f"interest {month // 100:04d}-{month % 100:02d}",
                outside=AccountKind.INTEREST_EXPENSE), actor=ACTOR)
        except DomainError as refused:  # e.g. closed meanwhile: reported, the rest goes on
            log.warning("interest.posting_refused", account=account.id, code=refused.code)
            report.refused.append({"id": movement_id, "account_id": account.id,
                                   "code": refused.code})
            return None
        self._crash.reached("interest.posted")
        report.postings.append(Posting(movement_id, account.id, month, amount,
                                       account.currency, done.created))
        at_ns = self._queries.transfer(movement_id)
        return month, (amount, at_ns.timestamp if at_ns is not None else 0)

    # -- reads ----------------------------------------------------------------------------

    def _accounts(self) -> list[BankAccount]:
        products = [str(p) for p, bps in self.rates_bps.items() if bps > 0]
        with self._database.engine.connect() as conn:
            ids = conn.execute(select(bank_accounts.c.id).where(
                bank_accounts.c.product.in_(products),
                bank_accounts.c.state != str(State.CLOSED)).order_by(bank_accounts.c.id)
            ).scalars().all()
            found = [get_account(conn, i) for i in ids]
        return [a for a in found if a is not None]

    def _last_days(self) -> dict[str, dt.date]:
        with self._database.engine.connect() as conn:
            rows = conn.execute(select(interest_accruals.c.account_id,
                                       func.max(interest_accruals.c.day))
                                .group_by(interest_accruals.c.account_id)).all()
        return {r[0]: dt.date.fromisoformat(r[1]) for r in rows}

    def _posted(self, account: BankAccount) -> dict[int, tuple[int, int]]:
        """The account's interest postings: month → (amount, ledger timestamp)."""
        with self._database.engine.connect() as conn:
            rows = conn.execute(select(transfers.c.id, transfers.c.amount,
                                       transfers.c.timestamp).where(transfers.c.id.in_(
                select(bank_transfers.c.id).where(
                    bank_transfers.c.to_account == account.id,
                    bank_transfers.c.kind == str(MovementKind.INTEREST))))).all()
        return {int(r[0].rsplit("_", 1)[1]): (r[1], r[2]) for r in rows}
