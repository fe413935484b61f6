"""Rule sets kept in the database: every version, the requests to change a rule's state,
and the compiled current version, cached for ``cache_s``.

Publishing a version checks that new or changed rules start in shadow; enabling a rule is
a request (:meth:`RuleStore.request`) and an approval by another staff member
(:meth:`RuleStore.approve`), after a back-test of the version was run (decision 0036),
which publishes the next version. Both are audited. Until
anything is published, the built-in version 1 (services/risk/rules.py) is written on
first use.
"""

from __future__ import annotations

import json
import secrets
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from sqlalchemy import Connection, func, insert, select, update

from ...adapters.clock import Clock
from ...adapters.store import Database
from ...adapters.store.schema import risk_backtests, risk_rule_requests, risk_rule_sets
from ...domain.errors import DomainError
from ...domain.risk import Rule, RuleSet, RuleState, check_approver, check_successor
from .. import audit
from .rules import BUILT_IN, CompiledSet, compile_set


@dataclass(frozen=True)
class RuleRequest:
    id: str
    version: int
    rule_id: str
    to_state: RuleState
    requested_by: str
    approved_by: str | None
    result_version: int | None


class RuleStore:
    def __init__(self, database: Database, *, clock: Clock, catalogue: Mapping[str, str],
                 cache_s: float) -> None:
        self._database = database
        self._clock = clock
        self.catalogue = dict(catalogue)
        self._cache_ns = int(cache_s * 1e9)
        self._lock = threading.Lock()
        self._current: tuple[int, CompiledSet] | None = None  # (loaded at ns, compiled)
        self._compiled: dict[int, CompiledSet] = {}

    def compiled(self) -> CompiledSet:
        """The current version, compiled; looked up at most every ``cache_s``. One thread
        looks while the others screen on with the set they hold (a moment staler); only
        a new version is loaded and compiled."""
        now = self._clock.now_ns()
        held = self._current
        if held is not None and now - held[0] < self._cache_ns:
            return held[1]
        if held is not None and not self._lock.acquire(blocking=False):
            return held[1]
        if held is None:
            self._lock.acquire()
        try:
            with self._database.engine.connect() as conn:
                latest = conn.execute(select(func.max(risk_rule_sets.c.version))).scalar()
            done = self._compiled.get(latest) if latest is not None else None
            if done is None:
                current = self.current()
                done = self.compiled_at(current.version, current)
            self._current = (now, done)
            return done
        finally:
            self._lock.release()

    def compiled_at(self, version: int, rule_set: RuleSet | None = None) -> CompiledSet:
        done = self._compiled.get(version)
        if done is None:
            done = compile_set(rule_set or self.at(version), self.catalogue)
            self._compiled[version] = done
        return done

    def current(self) -> RuleSet:
        with self._database.engine.begin() as conn:
            latest = conn.execute(select(func.max(risk_rule_sets.c.version))).scalar()
            if latest is None:
                built_in = RuleSet(1, tuple(BUILT_IN))
                compile_set(built_in, self.catalogue)
                self._insert(conn, built_in, audit.SYSTEM)
                return built_in
            return _load(conn, latest)

    def at(self, version: int) -> RuleSet:
        with self._database.engine.connect() as conn:
            return _load(conn, version)

    def publish(self, rules: Sequence[Rule], *, actor: str) -> RuleSet:
        """The next version; new or changed rules must be in shadow (refused otherwise)."""
        current = self.current()
        check_successor(current, rules)
        made = RuleSet(current.version + 1, tuple(rules))
        compile_set(made, self.catalogue)  # refused at load, before it is stored
        with self._database.engine.begin() as conn:
            self._insert(conn, made, actor)
        self._current = None
        return made

    def request(self, rule_id: str, to_state: RuleState, *, actor: str) -> RuleRequest:
        current = self.current()
        current.get(rule_id)
        made = RuleRequest("rrq_" + secrets.token_hex(12), current.version, rule_id, to_state,
                           actor, None, None)
        now = self._clock.now_ns()
        with self._database.engine.begin() as conn:
            conn.execute(insert(risk_rule_requests).values(
                id=made.id, version=made.version, rule_id=rule_id, to_state=str(to_state),
                requested_by=actor, requested_at=now))
            audit.record(conn, at_ns=now, actor=actor, action="risk.rule_request",
                         object_id=made.id, detail={"rule": rule_id, "to": str(to_state),
                                                    "version": made.version})
        return made

    def approve(self, request_id: str, *, actor: str) -> RuleSet:
        """Publish the next version with the requested state; by another staff member,
        once a back-test of the version the request was made against was run
        (services/risk/backtest.py); the back-test approved on is recorded."""
        with self._database.engine.connect() as conn:
            row = conn.execute(select(risk_rule_requests).where(
                risk_rule_requests.c.id == request_id)).first()
        if row is None:
            raise DomainError("not_found", f"no rule request {request_id}")
        r = row._mapping
        check_approver(r["requested_by"], actor)
        if r["approved_by"] is not None:
            raise DomainError("risk_request_decided", f"request {request_id} was approved")
        current = self.current()
        if current.version != r["version"]:
            raise DomainError("risk_request_stale", f"request {request_id} was made against "
                              f"version {r['version']}; the rules are at {current.version}")
        made = current.with_state(r["rule_id"], RuleState(r["to_state"]))
        now = self._clock.now_ns()
        with self._database.engine.begin() as conn:
            tested = conn.execute(select(risk_backtests.c.id).where(
                risk_backtests.c.version == r["version"]).order_by(
                risk_backtests.c.run_at.desc()).limit(1)).scalar()
            if tested is None:
                raise DomainError("risk_backtest_required", f"run a back-test of version "
                                  f"{r['version']} before approving request {request_id}")
            done = conn.execute(update(risk_rule_requests).where(
                risk_rule_requests.c.id == request_id,
                risk_rule_requests.c.approved_by.is_(None)).values(
                approved_by=actor, approved_at=now, result_version=made.version)).rowcount
            if done != 1:
                raise DomainError("risk_request_decided", f"request {request_id} was approved")
            self._insert(conn, made, actor, request=request_id, backtest=str(tested))
        self._current = None
        return made

    def _insert(self, conn: Connection, made: RuleSet, actor: str,
                request: str | None = None, backtest: str | None = None) -> None:
        now = self._clock.now_ns()
        text = made.canonical()
        conn.execute(insert(risk_rule_sets).values(version=made.version, rules=text,
                                                    created_by=actor, created_at=now))
        audit.record(conn, at_ns=now, actor=actor, action="risk.rules_published",
                     object_id=f"rules:{made.version}",
                     detail={"request": request, "backtest": backtest},
                     after=text)


def _load(conn: Connection, version: int) -> RuleSet:
    text = conn.execute(select(risk_rule_sets.c.rules).where(
        risk_rule_sets.c.version == version)).scalar()
    if text is None:
        raise DomainError("not_found", f"no rule set version {version}")
    return RuleSet(version, tuple(Rule.of(d) for d in json.loads(text)))
