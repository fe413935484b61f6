"""Suspicious-activity reports: risk cases closed in the period that an analyst
declined, and decisions an analyst labelled ``fraud`` in the period (a released case
labelled fraud afterwards is reported too). One row per decision; it cites the case's
latest audit entry (``risk.case_decline`` / ``risk.case_done``), or for a label alone the
decision's own screening entry when the log has one.

No personal data: the subject is an id (``usr_…``/``mer_…``); the reasons are the rule
and model reason codes the engine recorded.
"""

from __future__ import annotations

import json

from sqlalchemy import Connection, and_, or_, select

from ...adapters.store.schema import risk_case_outcomes, risk_decisions, risk_labels
from .table import Period, Table, instant, optional_instant

COLUMNS = ("decision_id", "decided_at", "subject", "operation", "operation_object", "score",
           "reasons", "case_outcome", "case_closed_at", "label")


def build(conn: Connection, period: Period, *, rows_max: int) -> Table:
    o, lab, d = risk_case_outcomes, risk_labels, risk_decisions
    closed = and_(o.c.at >= period.from_ns, o.c.at <= period.to_ns, o.c.outcome == "decline")
    labelled = and_(lab.c.labelled_at >= period.from_ns, lab.c.labelled_at <= period.to_ns,
                    lab.c.label == "fraud")
    query = (select(d.c.id, d.c.at, d.c.subject, d.c.operation, d.c.object_id, d.c.score,
                    d.c.reasons, o.c.outcome, o.c.at, lab.c.label)
             .select_from(d.outerjoin(o, o.c.decision_id == d.c.id)
                          .outerjoin(lab, lab.c.decision_id == d.c.id))
             .where(or_(closed, labelled)).order_by(d.c.at, d.c.id).limit(rows_max + 1))
    table = Table("Suspicious-activity reports", COLUMNS)
    for rid, at, subject, operation, object_id, score, reasons, outcome, closed_at, label \
            in conn.execute(query):
        table.rows.append((rid, instant(int(at)), subject, operation, object_id,
                           "" if score is None else f"{float(score):.4f}",
                           " ".join(str(r) for r in json.loads(reasons)), outcome or "",
                           optional_instant(closed_at), label or "", rid))
    table.summary = [("reports", str(len(table.rows))),
                     ("declined_cases", str(sum(1 for r in table.rows if r[7] == "decline"))),
                     ("fraud_labels", str(sum(1 for r in table.rows if r[9] == "fraud")))]
    return table
