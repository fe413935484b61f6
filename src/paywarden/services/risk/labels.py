"""Analyst feedback: a decision labelled ``fraud`` or ``false_positive``, and the export the
model's retrain reads.

Any decision can be labelled (a case, or an allowed movement later found to be fraud). A
decision has one label; labelling it again replaces the label, and both the first and every
change are audit leaves (``before``/``after`` digests), so the log says who said what when.

The export writes each labelled decision's *recorded* features — what the engine saw then,
not recomputed now — mapped onto the model's features
(:func:`paywarden.services.risk_model.recorded.model_row`); features the decision did not
record are left empty, and the retrain treats them as missing (decision 0034).
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TextIO

from sqlalchemy import insert, select, update

from ...adapters.clock import Clock
from ...adapters.store import Database
from ...adapters.store.schema import risk_decisions, risk_labels
from ...domain.errors import DomainError
from ...domain.insider import Activity
from .. import audit
from ..insider import Insider
from ..risk_model.features import FEATURES
from ..risk_model.recorded import model_row

LABELS = ("fraud", "false_positive")
EXPORT_BATCH_SIZE = 500
EXPORT_COLUMNS = ("decision_id", "subject", "operation", "at", "label", *FEATURES)


@dataclass(frozen=True)
class Label:
    decision_id: str
    label: str
    by: str
    at_ns: int
    changed_from: str | None  # the label it replaced, if any


class Labels:
    def __init__(self, database: Database, *, clock: Clock, insider: Insider) -> None:
        self._database = database
        self._clock = clock
        self._insider = insider

    def label(self, decision_id: str, label: str, *, actor: str) -> Label:
        if label not in LABELS:
            raise DomainError("risk_label_invalid", "a label is fraud or false_positive")
        now = self._clock.now_ns()
        with self._database.engine.begin() as conn:
            if conn.execute(select(risk_decisions.c.id).where(
                    risk_decisions.c.id == decision_id)).first() is None:
                raise DomainError("not_found", f"no risk decision {decision_id}")
            before = conn.execute(select(risk_labels).where(
                risk_labels.c.decision_id == decision_id)).mappings().first()
            row = {"decision_id": decision_id, "label": label, "labelled_by": actor[:128],
                   "labelled_at": now}
            if before is None:
                conn.execute(insert(risk_labels), row)
            else:
                conn.execute(update(risk_labels).where(
                    risk_labels.c.decision_id == decision_id).values(row))
            audit.record(conn, at_ns=now, actor=actor, action="risk.decision_label",
                         object_id=decision_id,
                         detail={"label": label,
                                 "changed_from": None if before is None else before["label"]},
                         before=None if before is None else dict(before), after=row)
        return Label(decision_id, label, actor[:128], now,
                     None if before is None else before["label"])

    def rows(self) -> Iterator[dict[str, object]]:
        """Every labelled decision, oldest label first: its recorded features as the model's
        (empty where not recorded), and the label."""
        last: tuple[int, str] = (-1, "")
        while True:
            query = select(risk_labels, risk_decisions.c.subject, risk_decisions.c.operation,
                           risk_decisions.c.at, risk_decisions.c.features).join(
                risk_decisions, risk_decisions.c.id == risk_labels.c.decision_id).where(
                (risk_labels.c.labelled_at > last[0]) | (
                    (risk_labels.c.labelled_at == last[0])
                    & (risk_labels.c.decision_id > last[1]))).order_by(
                risk_labels.c.labelled_at, risk_labels.c.decision_id).limit(EXPORT_BATCH_SIZE)
            with self._database.engine.connect() as conn:
                batch = conn.execute(query).mappings().all()
            for r in batch:
                mapped = model_row(json.loads(r["features"]))
                yield {"decision_id": r["decision_id"], "subject": r["subject"],
                       "operation": r["operation"], "at": r["at"], "label": r["label"],
                       **{name: ("" if value is None else value)
                          for name, value in zip(FEATURES, mapped, strict=True)}}
            if len(batch) < EXPORT_BATCH_SIZE:
                return
            last = (batch[-1]["labelled_at"], batch[-1]["decision_id"])

    def export(self, out: TextIO, *, actor: str) -> int:
        """Write the CSV the retrain reads; audited (who took the labels out). Rows written."""
        writer = csv.DictWriter(out, fieldnames=EXPORT_COLUMNS, lineterminator="\n")
        writer.writeheader()
        count = 0
        for row in self.rows():
            writer.writerow(row)
            count += 1
        with self._database.engine.begin() as conn:
            audit.record(conn, at_ns=self._clock.now_ns(), actor=actor,
                         action="risk.labels_export", object_id="risk_labels",
                         detail={"count": count})
            self._insider.observe(conn, actor=actor.split("/")[0], activity=Activity.EXPORT)
        return count
