"""Dispute statistics: of the payments created in the period, each one a buyer disputed
(one row: reason, status, the staff decision if any), and in the summary the counts by
reason and by outcome and each merchant's dispute rate (disputed / payments).

A dispute lives inside the payment's sealed escrow state, so every payment of the
period is opened to see whether it was disputed: at most ``PAYMENTS_SCANNED_MAX``
payments per report (``report_too_large`` beyond; ask for a shorter period). Each row
cites the payment's latest audit entry (``payment.<event>``, object the payment id).

PayWarden has no complaint record apart from disputes: a buyer's complaint about a
payment *is* its dispute, so "complaints" are counted here as disputes.
"""

from __future__ import annotations

from collections import Counter

from sqlalchemy import Connection, select

from ...adapters.store.schema import payments
from ...domain.errors import DomainError
from ..keys import Keys
from ..payments import codec
from .table import Period, Table, instant, optional_instant

PAYMENTS_SCANNED_MAX = 100_000
COLUMNS = ("payment_id", "merchant_id", "currency", "amount_minor", "opened_at", "reason",
           "status", "resolution", "refund_minor", "decided_at")


def build(conn: Connection, period: Period, *, keys: Keys, rows_max: int) -> Table:
    query = (select(payments.c.id, payments.c.merchant_id, payments.c.escrow)
             .where(payments.c.created_at >= period.from_ns,
                    payments.c.created_at <= period.to_ns)
             .order_by(payments.c.created_at, payments.c.id).limit(PAYMENTS_SCANNED_MAX + 1))
    table = Table("Dispute and complaint statistics", COLUMNS)
    paid: Counter[str] = Counter()
    disputed: Counter[str] = Counter()
    reasons: Counter[str] = Counter()
    outcomes: Counter[str] = Counter()
    for i, (pid, merchant, sealed) in enumerate(conn.execute(query)):
        if i >= PAYMENTS_SCANNED_MAX:
            raise DomainError("report_too_large", f"more than {PAYMENTS_SCANNED_MAX} payments "
                              "in the period: ask for a shorter one")
        paid[merchant] += 1
        escrow = codec.loads(keys.open(sealed, table="payments", column="escrow", row_id=pid))
        dispute = escrow.dispute
        if dispute is None:
            continue
        disputed[merchant] += 1
        decision = dispute.decision
        outcome = str(decision.resolution) if decision else str(dispute.status)
        reasons[str(dispute.reason)] += 1
        outcomes[outcome] += 1
        if len(table.rows) < rows_max + 1:
            table.rows.append((
                pid, merchant, escrow.amount.currency, str(escrow.amount.amount_minor),
                instant(dispute.opened_at_ns), str(dispute.reason), str(dispute.status),
                str(decision.resolution) if decision else "",
                str(decision.refund_minor) if decision else "",
                optional_instant(decision.decided_at_ns if decision else None), pid))
    table.summary = [("payments", str(sum(paid.values()))),
                     ("disputes", str(sum(disputed.values())))]
    table.summary += [(f"reason:{k}", str(v)) for k, v in sorted(reasons.items())]
    table.summary += [(f"outcome:{k}", str(v)) for k, v in sorted(outcomes.items())]
    table.summary += [(f"merchant:{m}", f"payments={n} disputes={disputed[m]} rate="
                       + f"{disputed[m] / n:.4f}") for m, n in sorted(paid.items())]
    return table
