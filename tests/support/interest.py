"""Helpers for interest tests: savings accounts with deposits at chosen moments."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from sqlalchemy import select

from paywarden.adapters.clock import FakeClock
from paywarden.adapters.store import Database
from paywarden.adapters.store.schema import bank_accounts, bank_transfers, interest_accruals
from paywarden.bootstrap import Platform
from paywarden.domain.money import Money
from paywarden.services.banking import BankAccount, Product

NS_PER_S = 10**9
DAY_NS = 86_400 * NS_PER_S


def at(day: dt.date, hour: int = 12) -> int:
    """Nanoseconds since the epoch at ``hour`` UTC on ``day``."""
    return int(dt.datetime(day.year, day.month, day.day, hour, tzinfo=dt.UTC).timestamp()) \
        * NS_PER_S


def move_to(clock: FakeClock, at_ns: int) -> None:
    assert at_ns >= clock.now_ns(), "the fake clock only moves forward"
    clock.advance(ns=at_ns - clock.now_ns())


def savings(platform: Platform, owner: str, name: str) -> BankAccount:
    return platform.banking.accounts.open("usr_" + owner.ljust(16, "0")[:16], Product.SAVINGS,
                                          "EUR", name, actor="test")


def deposit(platform: Platform, account: BankAccount, amount_minor: int, rail_id: str) -> None:
    platform.banking.rail.deposit(rail_id=rail_id, iban=account.iban,
                                  amount=Money(amount_minor, "EUR"),
                                  debtor_iban="DE89370400440532013000", debtor_name="Employer",
                                  reference="salary")


def accruals(database: Database) -> dict[str, list[tuple[str, int, int]]]:
    """Account name → its (day, balance, accrued micro-units), by day."""
    with database.engine.connect() as conn:
        names = dict(conn.execute(select(bank_accounts.c.id, bank_accounts.c.name)).all())
        rows = conn.execute(select(interest_accruals).order_by(
            interest_accruals.c.account_id, interest_accruals.c.day)).mappings().all()
    found: dict[str, list[tuple[str, int, int]]] = {}
    for r in rows:
        found.setdefault(names[r["account_id"]], []).append(
            (r["day"], r["balance_minor"], r["accrued_micro"]))
    return found


def postings(database: Database) -> dict[str, list[tuple[str, int, str]]]:
    """Account name → its interest postings (month, amount, state), by month."""
    with database.engine.connect() as conn:
        names = dict(conn.execute(select(bank_accounts.c.id, bank_accounts.c.name)).all())
        rows = conn.execute(select(bank_transfers).where(bank_transfers.c.kind == "interest")
                            .order_by(bank_transfers.c.id)).mappings().all()
    found: dict[str, list[tuple[str, int, str]]] = {}
    for r in rows:
        found.setdefault(names[r["to_account"]], []).append(
            (r["id"].rsplit("_", 1)[1], r["amount"], r["state"]))
    return found


DEPOSIT_OFFSETS_DAYS = (3, 17, 31, 45)


def schedule(platform: Platform, clock: FakeClock, start: dt.date, last: dt.date,
             accounts_n: int, *, each_day: Callable[[], object] | None = None
             ) -> list[BankAccount]:
    """``accounts_n`` savings accounts opened on ``start``, each with deposits of its own
    on a few later days (the same schedule on any database), the clock left just after
    ``last``. ``each_day`` runs at 00:10 UTC of every day after ``start`` (a punctual job).
    """
    made = []
    move_to(clock, at(start, 9))
    for n in range(accounts_n):
        account = savings(platform, f"saver{n}", f"Savings {n}")
        made.append(account)
        deposit(platform, account, 1_000_00 * (n + 1) + 37, f"rail-open-{n:04d}")
    for offset in range(1, (last - start).days + 2):
        day = start + dt.timedelta(days=offset)
        move_to(clock, at(day, 0) + 600 * NS_PER_S)
        if each_day is not None:
            each_day()
        if offset in DEPOSIT_OFFSETS_DAYS:
            move_to(clock, at(day, 15))
            for n, account in enumerate(made):
                deposit(platform, account, 250_00 + 13 * n + offset, f"rail-{offset}-{n:04d}")
    return made
