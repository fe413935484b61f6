"""Generating a supervision report, in this order (each step needs the one before):

1. the report's rows from their sources (one module per kind), each row's object
   looked up in the audit log: the index of its latest entry is written in the row;
2. one audit entry ``supervision.report_generated`` (who, which kind, which period, the
   report's SHA-256), committed on its own: reading moves nothing;
3. a signed tree head covering it (:meth:`TreeHeads.sign_now`);
4. the inclusion proofs of the report's leaf and of every cited leaf under that head;
5. the JWS over all of it (:func:`.seal.seal`).

Generating twice is two reports and two leaves: the log says who asked for what, when.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime

from sqlalchemy import Connection

from ...adapters.clock import Clock
from ...adapters.store import Database
from ...adapters.store import audit_log as log
from ...domain.errors import DomainError, InvariantViolation
from .. import audit
from ..audit.tree_heads import TreeHeads
from ..banking.statements.seal import AuditProof
from ..keys import Keys
from . import disputes, large_value, merchants, safeguarding, suspicious
from .citations import latest_leaves, proofs
from .report import CITATION_COLUMNS, Report, digest
from .seal import AUDIT_ACTION, Sealed, seal
from .table import Period, Table

PERIOD_DAYS_MAX = 366
ROWS_MAX = 1_000  # a longer report is refused (report_too_large): ask for a shorter period
REPORT_PREFIX = "rep_"

Builder = Callable[[Connection, Period], Table]


@dataclass(frozen=True)
class Kind:
    name: str
    title: str
    about: str


KINDS = (
    Kind("large_value", "Large-value transactions",
         "Booked customer money movements at or over the currency's threshold"),
    Kind("suspicious_activity", "Suspicious-activity reports",
         "Risk cases an analyst declined, and decisions labelled fraud"),
    Kind("safeguarding", "E-money safeguarding reconciliation",
         "Each day's reconciliation of e-money in issue against the safeguarded funds"),
    Kind("disputes", "Dispute and complaint statistics",
         "Disputes by reason and outcome, and each merchant's dispute rate"),
    Kind("merchants", "Certified, suspended and revoked merchants",
         "Every merchant certificate valid, suspended or revoked in the period"),
)
KIND_NAMES = tuple(k.name for k in KINDS)


def check_period(first: date, last: date, *, now_ns: int) -> Period:
    today = datetime.fromtimestamp(now_ns // 1_000_000_000, UTC).date()
    if last < first or last > today or (last - first).days + 1 > PERIOD_DAYS_MAX:
        raise DomainError("report_period_invalid", f"a period is from <= to <= today, at most "
                          f"{PERIOD_DAYS_MAX} days")
    return Period(first, last)


class Supervision:
    def __init__(self, database: Database, *, clock: Clock, keys: Keys, tree_heads: TreeHeads,
                 large_value_thresholds: dict[str, int]) -> None:
        self._database = database
        self._clock = clock
        self._keys = keys
        self._tree_heads = tree_heads
        self._thresholds = large_value_thresholds

    def _builder(self, kind: str) -> Builder:
        builders: dict[str, Builder] = {
            "large_value": lambda c, p: large_value.build(
                c, p, thresholds=self._thresholds, rows_max=ROWS_MAX),
            "suspicious_activity": lambda c, p: suspicious.build(c, p, rows_max=ROWS_MAX),
            "safeguarding": lambda c, p: safeguarding.build(c, p, rows_max=ROWS_MAX),
            "disputes": lambda c, p: disputes.build(c, p, keys=self._keys, rows_max=ROWS_MAX),
            "merchants": lambda c, p: merchants.build(c, p, rows_max=ROWS_MAX),
        }
        found = builders.get(kind)
        if found is None:
            raise DomainError("report_kind_unknown", f"reports are {', '.join(KIND_NAMES)}")
        return found

    def build(self, kind: str, first: date, last: date, *, now_ns: int) -> Report:
        """The report, its rows citing their audit entries; not yet recorded."""
        builder = self._builder(kind)
        period = check_period(first, last, now_ns=now_ns)
        with self._database.reading() as conn:  # a replica's, when fresh enough
            table = builder(conn, period)
            if len(table.rows) > ROWS_MAX:
                raise DomainError("report_too_large", f"more than {ROWS_MAX} rows: ask for a "
                                  "shorter period")
            leaves = latest_leaves(conn, (r[-1] for r in table.rows))
        rows = tuple((*r, str(leaves[r[-1]]) if r[-1] in leaves else "") for r in table.rows)
        return Report(report_id=REPORT_PREFIX + secrets.token_hex(12), kind=kind,
                      title=table.title, period_from=first, period_to=last,
                      generated_at_ns=now_ns,
                      columns=(*table.columns, *CITATION_COLUMNS), rows=rows,
                      summary=tuple(table.summary))

    def generate(self, kind: str, first: date, last: date, *, actor: str) -> Sealed:
        """Build, record, prove and seal (see the module's order)."""
        now = self._clock.now_ns()
        report = self.build(kind, first, last, now_ns=now)
        with self._database.engine.begin() as conn:
            index = audit.record(conn, at_ns=now, actor=actor, action=AUDIT_ACTION,
                                 object_id=report.report_id,
                                 detail={"kind": kind, "from": first.isoformat(),
                                         "to": last.isoformat(), "rows": len(report.rows),
                                         "report_sha256": digest(report)})
        head = self._tree_heads.sign_now()
        if head.tree_size <= index:
            raise InvariantViolation(f"the tree head signed at size {head.tree_size} does not "
                                     f"cover audit entry {index}")
        with self._database.engine.connect() as conn:
            sql = log.driver(conn)
            conn.begin()
            leaf = log.entries(sql, index, index)[0][1]
            path = log.inclusion(sql, index, head.tree_size)
            cited = proofs(conn, [i for _, i in report.citations()], head.tree_size)
            conn.rollback()
        return seal(self._keys, report, AuditProof(index, leaf, tuple(path), head), tuple(cited))
