"""Rule sets kept in the database: every version, and the compiled current version,
cached for ``cache_s``.

Publishing a version checks that new or changed rules start in shadow; changing a rule's
state (enabling it) is a four-eyes command (kind ``risk_rule_change``, decision 0042):
submitted once a back-test of the version was run (:meth:`RuleStore.check_change`,
decision 0036), and on another staff member's approval published as the next version
(:meth:`RuleStore.change_state`) in the approval's transaction. Until anything is
published, the built-in version 1 (services/risk/rules.py) is written on first use.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Mapping, Sequence

from sqlalchemy import Connection, func, insert, select
from sqlalchemy.exc import IntegrityError

from ...adapters.clock import Clock
from ...adapters.store import Database
from ...adapters.store.schema import risk_backtests, risk_rule_sets
from ...domain.errors import DomainError
from ...domain.risk import Rule, RuleSet, RuleState, check_successor
from .. import audit
from .rules import BUILT_IN, CompiledSet, compile_set


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
            if done is None:  # a new version is read, not written: no write lock
                current = self.at(latest) if latest is not None else self.current()
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

    def check_change(self, rule_id: str, to_state: RuleState) -> int:
        """The version a change of ``rule_id`` to ``to_state`` is made against, once a
        back-test of it was run (decision 0036): checked when the change is submitted
        for approval (services/approvals/controls.py), so nobody approves blind."""
        current = self.current()
        current.get(rule_id)
        with self._database.engine.connect() as conn:
            _tested(conn, current.version)
        return current.version

    def change_state(self, conn: Connection, *, version: int, rule_id: str,
                     to_state: RuleState, actor: str, approval_id: str) -> RuleSet:
        """Publish the next version with ``rule_id`` in ``to_state``, in the approval's
        transaction (``conn``): only if the rules are still at ``version`` and a back-test
        of it was run; the back-test and the approval are recorded with the version."""
        latest = conn.execute(select(func.max(risk_rule_sets.c.version))).scalar()
        if latest != version:
            raise DomainError("risk_request_stale", f"the change was made against version "
                              f"{version}; the rules are at {latest}")
        made = _load(conn, version).with_state(rule_id, to_state)
        tested = _tested(conn, version)
        try:
            with conn.begin_nested():
                self._insert(conn, made, actor, request=approval_id, backtest=str(tested))
        except IntegrityError:  # another change of this version was published first
            raise DomainError("risk_request_stale", f"version {made.version} was published "
                              "by another change; submit this one again") from None
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


def _tested(conn: Connection, version: int) -> str:
    """The latest back-test of ``version``; ``risk_backtest_required`` without one."""
    tested = conn.execute(select(risk_backtests.c.id).where(
        risk_backtests.c.version == version).order_by(
        risk_backtests.c.run_at.desc()).limit(1)).scalar()
    if tested is None:
        raise DomainError("risk_backtest_required", f"run a back-test of version {version} "
                          "before its rules change state")
    return str(tested)


def _load(conn: Connection, version: int) -> RuleSet:
    text = conn.execute(select(risk_rule_sets.c.rules).where(
        risk_rule_sets.c.version == version)).scalar()
    if text is None:
        raise DomainError("not_found", f"no rule set version {version}")
    return RuleSet(version, tuple(Rule.of(d) for d in json.loads(text)))
