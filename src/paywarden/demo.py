"""Demo data: a EUR and a USD ledger, a few accounts and transfers. Safe to run twice."""

from __future__ import annotations

from dataclasses import dataclass

from .bootstrap import Platform
from .domain.errors import DomainError
from .domain.ledger import AccountFlags, Transfer, TransferFlags
from .services.ledger import NewAccount
from .services.ledger.currencies import currency

CUSTOMER = AccountFlags.DEBITS_MUST_NOT_EXCEED_CREDITS


@dataclass(frozen=True)
class DemoAccount:
    id: int
    name: str
    currency: str
    flags: int


DEMO_ACCOUNTS = (
    DemoAccount(0x0DE0_0000_0000_0001, "bank cash (EUR)", "EUR", 0),
    DemoAccount(0x0DE0_0000_0000_0002, "alice (EUR)", "EUR", CUSTOMER),
    DemoAccount(0x0DE0_0000_0000_0003, "bob (EUR)", "EUR", CUSTOMER),
    DemoAccount(0x0DE0_0000_0000_0004, "shop (EUR)", "EUR", CUSTOMER),
    DemoAccount(0x0DE0_0000_0000_0005, "bank cash (USD)", "USD", 0),
    DemoAccount(0x0DE0_0000_0000_0006, "carol (USD)", "USD", CUSTOMER),
)


def load_demo(platform: Platform) -> list[DemoAccount]:
    for code in ("EUR", "USD"):
        if platform.queries.ledger_by_currency(code) is None:
            try:
                platform.queries.create_ledger(code, now_ns=platform.clock.now_ns())
            except DomainError:
                pass  # created by a concurrent start
    platform.engine.create_accounts([
        NewAccount(a.id, currency(a.currency).number, 1, a.flags, a.name)
        for a in DEMO_ACCOUNTS
    ]).result()
    eur, usd = currency("EUR").number, currency("USD").number
    cash, alice, bob, shop, cash_usd, carol = (a.id for a in DEMO_ACCOUNTS)
    platform.engine.execute([
        Transfer("demo-deposit-alice", cash, alice, 100_00, eur, 1),
        Transfer("demo-deposit-bob", cash, bob, 50_00, eur, 1),
        Transfer("demo-deposit-carol", cash_usd, carol, 250_00, usd, 1),
        Transfer("demo-alice-pays-bob", alice, bob, 12_50, eur, 2),
        Transfer("demo-escrow-hold", alice, shop, 30_00, eur, 3, TransferFlags.PENDING,
                 timeout_s=7 * 24 * 3600),
    ])
    return list(DEMO_ACCOUNTS)


def demo_loaded(platform: Platform) -> bool:
    """Whether the demo's first account exists: a later `paywarden run` makes no new demo."""
    first = DEMO_ACCOUNTS[0].id
    return platform.queries.account(first, now_ns=platform.clock.now_ns()) is not None
