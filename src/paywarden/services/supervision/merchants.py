"""Certified, suspended and revoked merchants, as they stand when the report is made:
every merchant with a certificate, one row per certificate (newest first per
merchant), with the merchant's own status. The period selects certificates issued,
suspended or revoked in it, or still valid during it. Each row cites the merchant's latest
audit entry (``certification.*``, object the merchant id).
"""

from __future__ import annotations

from sqlalchemy import Connection, or_, select

from ...adapters.store.schema import merchant_certificates, merchants
from .table import Period, Table, instant, optional_instant

COLUMNS = ("merchant_id", "legal_name", "merchant_status", "certificate_serial",
           "certificate_status", "not_before", "not_after", "suspended_at", "revoked_at",
           "reason")
_CERTIFIED = {"active": "certified", "suspended": "suspended", "revoked": "revoked"}


def build(conn: Connection, period: Period, *, rows_max: int) -> Table:
    c, m = merchant_certificates, merchants
    query = (select(c.c.merchant_id, c.c.legal_name, m.c.status, c.c.serial, c.c.status,
                    c.c.not_before, c.c.not_after, c.c.suspended_at, c.c.revoked_at,
                    c.c.reason)
             .join(m, m.c.id == c.c.merchant_id)
             .where(c.c.not_before <= period.to_ns,
                    or_(c.c.not_after >= period.from_ns, c.c.revoked_at >= period.from_ns,
                        c.c.suspended_at >= period.from_ns))
             .order_by(c.c.merchant_id, c.c.not_before.desc()).limit(rows_max + 1))
    table = Table("Certified, suspended and revoked merchants", COLUMNS)
    for mid, name, mstatus, serial, status, nb, na, susp, rev, reason in conn.execute(query):
        table.rows.append((mid, name, mstatus, serial, _CERTIFIED.get(status, status),
                           instant(int(nb)), instant(int(na)), optional_instant(susp),
                           optional_instant(rev), reason or "", mid))
    for state in ("certified", "suspended", "revoked"):
        table.summary.append((state, str(sum(1 for r in table.rows if r[4] == state))))
    return table
