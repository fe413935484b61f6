"""Reading recorded decisions, and re-running one from what it saw.

A re-run takes the recorded features, the recorded rule set version and the recorded
score (the model is not re-run: a later model helper may re-score by ``model_version``)
and combines them again; the answer must equal the recorded one. A decision the fallback
made (the engine was late or failed) has no rule evaluation to repeat and is refused.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from ...adapters.clock import Clock
from ...adapters.store import Database
from ...adapters.store.schema import risk_decisions
from ...domain.errors import DomainError
from ...domain.risk import Decision, Features
from .. import audit
from .engine import RiskEngine, Score, verdict_of

PAGE_MAX = 200


@dataclass(frozen=True)
class Rerun:
    id: str
    recorded: dict[str, Any]
    rerun: dict[str, Any]

    @property
    def same(self) -> bool:
        return self.recorded == self.rerun


def public(row: Any) -> dict[str, Any]:
    r = row._mapping
    return {"id": r["id"], "at": r["at"], "operation": r["operation"],
            "decision": r["decision"], "score": r["score"],
            "reasons": json.loads(r["reasons"]), "rules_version": r["rules_version"],
            "model_version": r["model_version"]}


class Decisions:
    def __init__(self, database: Database, *, clock: Clock, engine: RiskEngine) -> None:
        self._database = database
        self._clock = clock
        self._engine = engine

    def for_subject(self, subject: str, *, actor: str, limit: int = PAGE_MAX
                    ) -> list[dict[str, Any]]:
        """A subject's decisions, newest first; the reading is audited."""
        with self._database.engine.begin() as conn:
            rows = conn.execute(select(risk_decisions).where(
                risk_decisions.c.subject == subject).order_by(
                risk_decisions.c.at.desc(), risk_decisions.c.id).limit(
                min(limit, PAGE_MAX))).all()
            audit.record(conn, at_ns=self._clock.now_ns(), actor=actor,
                         action="risk.decisions_read", object_id=subject[:128],
                         detail={"count": len(rows)})
        return [public(r) for r in rows]

    def rerun(self, decision_id: str, *, actor: str) -> Rerun:
        with self._database.engine.connect() as conn:
            row = conn.execute(select(risk_decisions).where(
                risk_decisions.c.id == decision_id)).first()
        if row is None:
            raise DomainError("not_found", f"no risk decision {decision_id}")
        r = row._mapping
        if r["engine"] != "ok":
            raise DomainError("risk_rerun_fallback", f"decision {decision_id} was the "
                              f"fallback ({r['engine']}): no rules ran to repeat")
        detail = json.loads(r["detail"])
        features = Features.parse(r["features"])
        compiled = self._engine.rules.compiled_at(r["rules_version"])
        proposals, shadow = compiled.evaluate(features)
        verdict = verdict_of(features, proposals,
                             Score(r["score"], tuple(detail["score_reasons"])),
                             thresholds=self._engine.thresholds,
                             rules_version=compiled.version,
                             model_version=r["model_version"], shadow=shadow)
        recorded = {"decision": r["decision"], "reasons": json.loads(r["reasons"]),
                    "shadow": detail["shadow"]}
        again = {"decision": str(Decision(verdict.decision)), "reasons": list(verdict.reasons),
                 "shadow": list(verdict.shadow)}
        done = Rerun(decision_id, recorded, again)
        with self._database.engine.begin() as conn:
            audit.record(conn, at_ns=self._clock.now_ns(), actor=actor,
                         action="risk.decision_rerun", object_id=decision_id,
                         outcome="ok" if done.same else "differs")
        return done
