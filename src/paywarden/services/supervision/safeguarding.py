"""The daily e-money safeguarding reconciliation, as the log recorded it: each day's
latest ``safeguarding.reconcile`` entry (object ``safeguarding:<day>``), one row per
currency. The figures are read from the cited leaf itself, so each one is checked
against the log by the leaf's inclusion proof: nothing here is recomputed.
"""

from __future__ import annotations

import json

from sqlalchemy import Connection, select

from ...adapters.store.schema import audit_entries
from .citations import latest_leaves
from .table import Period, Table, instant

COLUMNS = ("day", "reconciled_at", "currency", "wallets_minor", "safeguarded_minor",
           "bank_reported_minor", "shortfall", "status")


def build(conn: Connection, period: Period, *, rows_max: int) -> Table:
    objects = {f"safeguarding:{day.isoformat()}": day for day in period.days()}
    found = latest_leaves(conn, objects)
    table = Table("E-money safeguarding reconciliation", COLUMNS)
    missing = []
    for obj, day in sorted(objects.items()):
        seq = found.get(obj)
        if seq is None:
            missing.append(day.isoformat())
            continue
        at, detail = conn.execute(select(audit_entries.c.at, audit_entries.c.detail)
                                  .where(audit_entries.c.seq == seq)).one()
        for line in json.loads(detail).get("currencies", []):
            table.rows.append((day.isoformat(), instant(int(at)), str(line["currency"]),
                               str(line["wallets"]), str(line["safeguarded"]),
                               str(line["bank_reported"]), str(line["shortfall"]),
                               str(line["status"]), obj))
        if len(table.rows) > rows_max:
            break
    table.summary = [("days_reconciled", str(len(objects) - len(missing))),
                     ("days_without_reconciliation", str(len(missing))),
                     ("shortfall_lines", str(sum(1 for r in table.rows if r[6] != "0")))]
    return table

