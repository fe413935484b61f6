"""Large-value transactions: every booked customer money movement in the period whose
amount is at or over its currency's threshold (``PAYWARDEN_LARGE_VALUE_THRESHOLDS``).

Which ledger transfers count (domain/ledger/chart.py): those whose code is a customer
money movement (payment legs, bank transfers, deposits, withdrawals, top-ups, cheques),
booked (a plain transfer or the post of a hold; a hold itself and its void moved no
money), and not a fee leg (neither side a ``fee_income`` account). Interest and
safeguarding transfers are the platform's own bookkeeping and do not count.

The object a row cites is the payment or bank movement the transfer belongs to (its id
before the first ``.``): that object's latest audit entry.
"""

from __future__ import annotations

from sqlalchemy import Connection, and_, select
from sqlalchemy.orm import aliased

from ...adapters.store.schema import accounts, ledgers, transfers
from ...domain.ledger import TransferFlags
from ...domain.ledger.chart import AccountKind, TransferCode
from .table import Period, Table, instant

CUSTOMER_CODES = (TransferCode.PAYMENT, TransferCode.BANK_TRANSFER, TransferCode.DEPOSIT,
                  TransferCode.WITHDRAWAL, TransferCode.TOP_UP, TransferCode.CHEQUE)
_UNBOOKED = int(TransferFlags.PENDING | TransferFlags.VOID_PENDING)
_KIND_OF_CODE = {kind.code: str(kind) for kind in AccountKind}
COLUMNS = ("booked_at", "transfer_id", "currency", "amount_minor", "from_kind", "to_kind")


def parse_thresholds(text: str) -> dict[str, int]:
    """``EUR:1000000,USD:1000000`` → {"EUR": 1000000, …}; ValueError if malformed."""
    found: dict[str, int] = {}
    for part in filter(None, (p.strip() for p in text.split(","))):
        code, _, amount = part.partition(":")
        if len(code) != 3 or not code.isalpha() or not amount.isdigit() or int(amount) < 1:
            raise ValueError(f"{part!r} is not CUR:minor_units")
        found[code.upper()] = int(amount)
    return found


def build(conn: Connection, period: Period, *, thresholds: dict[str, int],
          rows_max: int) -> Table:
    debit, credit = aliased(accounts), aliased(accounts)
    query = (select(transfers.c.timestamp, transfers.c.id, ledgers.c.currency,
                    transfers.c.amount, debit.c.code, credit.c.code, transfers.c.flags)
             .join(ledgers, ledgers.c.id == transfers.c.ledger)
             .join(debit, debit.c.id == transfers.c.debit_account_id)
             .join(credit, credit.c.id == transfers.c.credit_account_id)
             .where(and_(transfers.c.timestamp >= period.from_ns,
                         transfers.c.timestamp <= period.to_ns,
                         transfers.c.code.in_([int(c) for c in CUSTOMER_CODES]),
                         debit.c.code != AccountKind.FEE_INCOME.code,
                         credit.c.code != AccountKind.FEE_INCOME.code))
             .order_by(transfers.c.timestamp))
    table = Table("Large-value transactions", COLUMNS)
    totals: dict[str, int] = {}
    for ts, tid, cur, amount, dr_code, cr_code, flags in conn.execute(query):
        threshold = thresholds.get(cur)
        if threshold is None or flags & _UNBOOKED or amount < threshold:
            continue
        table.rows.append((instant(int(ts)), tid, cur, str(amount),
                           _KIND_OF_CODE.get(dr_code, str(dr_code)),
                           _KIND_OF_CODE.get(cr_code, str(cr_code)), tid.split(".")[0]))
        totals[cur] = totals.get(cur, 0) + int(amount)
        if len(table.rows) > rows_max:
            break
    table.summary = [("threshold_" + c, str(v)) for c, v in sorted(thresholds.items())]
    table.summary += [("total_minor_" + c, str(v)) for c, v in sorted(totals.items())]
    table.summary.append(("transactions", str(len(table.rows))))
    return table
