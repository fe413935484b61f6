"""Back-testing a rule set version: what its rules would have done to the recorded past.

A new or changed rule is published in shadow (services/risk/store.py); before a second
staff member may enable it, someone runs a back-test of that version (decision 0036):
every rule of the version — shadow or active — is evaluated, as if active, against the
features recorded with each of the last ``days`` days' decisions (``risk_decisions``),
read in pages of ``page_size_max`` rows, at most ``rows_max`` rows (the newest; the
report says when it stopped short). Per rule it reports how many decisions it would have
matched, by the decision recorded then, and how the verdict would have changed (a rule
only makes a decision worse: the recorded one and the rule's action, worst wins).

Fallback decisions (``engine`` ≠ ok) saw almost no features and are skipped; a recorded
decision lacking a feature the rule names (recorded before that feature existed) is
counted as ``unevaluable`` for that rule, not as a non-match. The report is stored
(``risk_backtests``) and audited; :meth:`RuleStore.approve` asks for one.
"""

from __future__ import annotations

import json
import secrets
from collections import Counter
from dataclasses import dataclass
from typing import Any

import rule_engine
from sqlalchemy import and_, insert, or_, select

from ...adapters.clock import Clock
from ...adapters.store import Database
from ...adapters.store.schema import risk_backtests, risk_decisions
from ...domain.errors import DomainError
from ...domain.risk import Decision, Features
from .. import audit
from .store import RuleStore

DAY_NS = 86_400 * 1_000_000_000
DAYS_MAX = 90
PAGE_SIZE_MAX = 500  # rows per read
ROWS_MAX = 100_000  # rows per back-test: the newest, the report says it stopped short


@dataclass(frozen=True)
class RuleReport:
    rule_id: str
    state: str  # shadow | active, in the tested version
    action: str
    matched: int
    by_recorded: dict[str, int]  # recorded decision → matched
    changed: dict[str, int]  # "allow->review" → how many verdicts would change
    unevaluable: int

    def public(self) -> dict[str, Any]:
        return {"rule_id": self.rule_id, "state": self.state, "action": self.action,
                "matched": self.matched, "by_recorded": self.by_recorded,
                "changed": self.changed, "unevaluable": self.unevaluable}


@dataclass(frozen=True)
class Backtest:
    id: str  # rbt_…
    version: int
    days: int
    since_ns: int
    evaluated: int  # decisions the rules ran on (engine ok)
    truncated: bool  # more than rows_max decisions in the window
    rules: tuple[RuleReport, ...]
    run_by: str
    run_at_ns: int

    def public(self) -> dict[str, Any]:
        return {"id": self.id, "version": self.version, "days": self.days,
                "since": self.since_ns, "evaluated": self.evaluated,
                "truncated": self.truncated, "run_by": self.run_by, "at": self.run_at_ns,
                "rules": [r.public() for r in self.rules]}


class Backtests:
    def __init__(self, database: Database, *, clock: Clock, rules: RuleStore) -> None:
        self._database = database
        self._clock = clock
        self._rules = rules

    def run(self, version: int, *, days: int, actor: str,
            page_size_max: int = PAGE_SIZE_MAX, rows_max: int = ROWS_MAX) -> Backtest:
        if not 1 <= days <= DAYS_MAX:
            raise DomainError("risk_backtest_invalid", f"a back-test looks 1 to {DAYS_MAX} "
                              "days back")
        compiled = self._rules.compiled_at(version)
        now = self._clock.now_ns()
        since = now - days * DAY_NS
        matched = {c.rule.id: Counter[str]() for c in compiled.rules}
        changed = {c.rule.id: Counter[str]() for c in compiled.rules}
        unevaluable = Counter[str]()
        evaluated, truncated = 0, False
        after: tuple[int, str] | None = None
        while True:
            page = self._page(since, now, after, min(page_size_max, rows_max - evaluated))
            for at, decision_id, recorded, text in page:
                after = (at, decision_id)
                features = Features.parse(text)
                evaluated += 1
                values = compiled.bound(features)
                for c in compiled.rules:
                    try:
                        hit = compiled.matches(c, values)
                    except rule_engine.errors.EngineError:
                        unevaluable[c.rule.id] += 1
                        continue
                    if not hit:
                        continue
                    matched[c.rule.id][recorded] += 1
                    was = Decision(recorded)
                    worse = max(was, c.rule.action, key=lambda d: d.severity)
                    if worse is not was:
                        changed[c.rule.id][f"{was}->{worse}"] += 1
            if evaluated >= rows_max:
                truncated = bool(self._page(since, now, after, 1))
                break
            if len(page) < page_size_max:
                break
        made = Backtest("rbt_" + secrets.token_hex(12), version, days, since, evaluated,
                        truncated, tuple(RuleReport(
                            c.rule.id, str(c.rule.state), str(c.rule.action),
                            sum(matched[c.rule.id].values()), dict(matched[c.rule.id]),
                            dict(changed[c.rule.id]), unevaluable[c.rule.id])
                            for c in compiled.rules), actor, now)
        with self._database.engine.begin() as conn:
            report = json.dumps(made.public(), sort_keys=True)
            conn.execute(insert(risk_backtests).values(
                id=made.id, version=version, days=days, evaluated=evaluated, report=report,
                run_by=actor, run_at=now))
            audit.record(conn, at_ns=now, actor=actor, action="risk.backtest",
                         object_id=made.id, detail={"version": version, "days": days,
                                                    "evaluated": evaluated},
                         after=report)
        return made

    def _page(self, since: int, until: int, after: tuple[int, str] | None,
              limit: int) -> list[Any]:
        """The next ``limit`` engine-answered decisions in [since, until], newest first,
        before ``after`` (at, id)."""
        if limit <= 0:
            return []
        d = risk_decisions.c
        where = [d.at >= since, d.at <= until, d.engine == "ok"]
        if after is not None:
            where.append(or_(d.at < after[0], and_(d.at == after[0], d.id > after[1])))
        with self._database.engine.connect() as conn:
            return list(conn.execute(select(d.at, d.id, d.decision, d.features)
                                     .where(*where).order_by(d.at.desc(), d.id)
                                     .limit(limit)).all())

