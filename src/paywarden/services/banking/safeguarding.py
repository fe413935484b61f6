"""E-money safeguarding: the daily reconciliation that proves wallets are covered.

The rule: in every currency, the e-money in issue (the booked total of every ledger
account of kind WALLET) never exceeds what is safeguarded for it. The reconciliation
compares that total with two figures:

- **the books**: the SAFEGUARDING account, which every movement that issues or redeems
  e-money moves by the same amount in the same transaction (services/banking/movements);
- **the bank**: the balance the safeguarding bank itself reports (adapters/safeguarding).

Wallets above either figure is a **shortfall**: a critical staff alert (once per
currency, day and amount), and ``paywarden banking safeguarding reconcile`` exits 1.
The bank's figure differing from the books without a shortfall is a **break**, raised
as a warning: someone must explain it. Wallets *below* the safeguarded amount is a
**surplus**, and is expected: a buyer who pays an escrow payment from a wallet lowers the
wallet total, but the money stays safeguarded until the platform pays it out (the
escrow side is not e-money any more, yet is not redeemed through the bank either).

Each run is one audit entry with every currency's figures (outcome ``failed`` on a
shortfall), in the transaction that raises its alerts.

What it cannot prove: that the bank's figure is true (it is what the bank says), nor
anything between runs; the books side only shows that the ledger agrees with itself.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, select

from ...adapters.clock import Clock
from ...adapters.safeguarding import SafeguardingBank
from ...adapters.store import Database
from ...adapters.store.schema import accounts, ledgers
from ...domain.banking.interest import day_of
from ...domain.ledger.chart import AccountKind
from .. import audit
from ..alerts import Alert, Alerts, Severity, raise_alert

ACTOR = "safeguarding"
SURPLUS_NOTE = ("wallets below the safeguarded amount: e-money paid from wallets into "
                "escrow payments stays safeguarded until paid out (a surplus, fine)")


@dataclass(frozen=True)
class Line:
    currency: str
    wallets_minor: int  # e-money in issue: the booked total of every wallet
    safeguarded_minor: int  # the books: the SAFEGUARDING account
    bank_reported_minor: int  # what the safeguarding bank says it holds

    @property
    def shortfall_minor(self) -> int:
        """How far the wallets exceed the smaller of the two figures (0: covered)."""
        return max(0, self.wallets_minor - min(self.safeguarded_minor,
                                               self.bank_reported_minor))

    @property
    def surplus_minor(self) -> int:
        return max(0, self.safeguarded_minor - self.wallets_minor)

    @property
    def break_minor(self) -> int:
        """The bank's figure less the books' (0: they agree)."""
        return self.bank_reported_minor - self.safeguarded_minor

    @property
    def status(self) -> str:
        if self.shortfall_minor:
            return "shortfall"
        if self.break_minor:
            return "break"
        return "surplus" if self.surplus_minor else "ok"

    def public(self) -> dict[str, Any]:
        return {"currency": self.currency, "status": self.status,
                "wallets": self.wallets_minor, "safeguarded": self.safeguarded_minor,
                "bank_reported": self.bank_reported_minor,
                "difference": self.safeguarded_minor - self.wallets_minor,
                "bank_difference": self.bank_reported_minor - self.wallets_minor,
                "shortfall": self.shortfall_minor, "surplus": self.surplus_minor,
                "break": self.break_minor,
                "note": SURPLUS_NOTE if self.surplus_minor else None}


@dataclass
class Reconciliation:
    day: str
    lines: list[Line]
    audit_index: int
    alerts: list[Alert] = field(default_factory=list)

    @property
    def shortfall(self) -> bool:
        return any(line.shortfall_minor for line in self.lines)

    def public(self) -> dict[str, Any]:
        return {"day": self.day, "ok": not self.shortfall,
                "currencies": [line.public() for line in self.lines],
                "audit_index": self.audit_index, "alerts": [a.id for a in self.alerts]}


def balances_by_kind(database: Database, *kinds: AccountKind) -> dict[tuple[str, int], int]:
    """(currency, account code) → the summed credit-minus-debit booked balance."""
    codes = [k.code for k in kinds]
    with database.engine.connect() as conn:
        rows = conn.execute(
            select(ledgers.c.currency, accounts.c.code,
                   func.sum(accounts.c.credits_posted - accounts.c.debits_posted))
            .join(ledgers, ledgers.c.id == accounts.c.ledger)
            .where(accounts.c.code.in_(codes))
            .group_by(ledgers.c.currency, accounts.c.code)).all()
    return {(r[0], r[1]): int(r[2] or 0) for r in rows}


def ledger_mirror(database: Database, currency: str) -> int:
    """What the books say the safeguarding bank holds: the SAFEGUARDING_BANK account's
    debit balance (the simulated bank reports this)."""
    found = balances_by_kind(database, AccountKind.SAFEGUARDING_BANK)
    return -found.get((currency, AccountKind.SAFEGUARDING_BANK.code), 0)


class Safeguarding:
    def __init__(self, database: Database, *, clock: Clock, bank: SafeguardingBank,
                 alerts: Alerts) -> None:
        self._database = database
        self._clock = clock
        self.bank = bank
        self._alerts = alerts

    def lines(self) -> list[Line]:
        found = balances_by_kind(self._database, AccountKind.WALLET, AccountKind.SAFEGUARDING)
        wallet, held = AccountKind.WALLET.code, AccountKind.SAFEGUARDING.code
        return [Line(cur, found.get((cur, wallet), 0), found.get((cur, held), 0),
                     self.bank.reported_minor(cur))
                for cur in sorted({cur for cur, _ in found})]

    def reconcile(self, *, actor: str = ACTOR) -> Reconciliation:
        """Compare, record the run as an audit entry, and raise an alert for each shortfall
        and break (once per currency, day and amount)."""
        lines = self.lines()
        now = self._clock.now_ns()
        day = day_of(now).isoformat()
        raised: list[Alert] = []
        with self._database.engine.begin() as conn:
            index = audit.record(conn, at_ns=now, actor=actor, action="safeguarding.reconcile",
                                 object_id=f"safeguarding:{day}", outcome="failed" if any(
                                     line.shortfall_minor for line in lines) else "ok",
                                 detail={"currencies": [line.public() for line in lines]})
            for line in lines:
                alert = _alert_for(conn, line, day=day, at_ns=now, actor=actor)
                if alert is not None:
                    raised.append(alert)
        for alert in raised:
            self._alerts.mail(alert)
        return Reconciliation(day, lines, index, raised)


def _alert_for(conn: Any, line: Line, *, day: str, at_ns: int, actor: str) -> Alert | None:
    if line.status not in ("shortfall", "break"):
        return None
    detail = {"currency": line.currency, "wallets_minor": line.wallets_minor,
              "safeguarded_minor": line.safeguarded_minor,
              "bank_reported_minor": line.bank_reported_minor,
              "shortfall_minor": line.shortfall_minor, "break_minor": line.break_minor,
              "day": day}
    if line.status == "shortfall":
        return raise_alert(
            conn, at_ns=at_ns, kind="safeguarding.shortfall", severity=Severity.CRITICAL,
            subject=f"E-money in {line.currency} is not fully safeguarded: short by "
                    f"{line.shortfall_minor} minor units", detail=detail, actor=actor,
            dedupe_key=f"safeguarding.shortfall:{line.currency}:{day}:{line.shortfall_minor}")
    return raise_alert(
        conn, at_ns=at_ns, kind="safeguarding.break", severity=Severity.WARNING,
        subject=f"The safeguarding bank's {line.currency} figure differs from the books by "
                f"{line.break_minor} minor units", detail=detail, actor=actor,
        dedupe_key=f"safeguarding.break:{line.currency}:{day}:{line.break_minor}")
