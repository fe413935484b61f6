"""Circuit breakers over merchants, card BINs, payee banks, corridors and the platform.

    record(scope, outcome)   count it in the scope's window (one transaction):
                             upsert the bucket → read the breaker → the domain's
                             transition (domain/risk/breakers.py) → write it, its audit
                             leaf and, on a trip, a staff alert
    check(scopes)            one read: the state and the action for each scope
    check_reset / reset      a manual reset, a four-eyes command (kind ``breaker_reset``,
                             decision 0042): checked when one member of staff submits
                             it, applied in the approval's transaction once another
                             approved it (services/approvals/controls.py), audited

A scope with no row is closed: only scopes that tripped have a row, so ``check`` is one
indexed read of a handful of rows. Every change of a row is a compare-and-set on its
``version``; a process that loses the race leaves the winner's transition standing.

Errors (``DomainError`` codes): ``breaker_not_found``, ``breaker_not_open``,
``breaker_reset_reason_invalid``.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Select, bindparam, delete, func, insert, select, update
from sqlalchemy.exc import IntegrityError

from ...adapters.clock import Clock
from ...adapters.store import Database
from ...adapters.store.schema import risk_breaker_counts, risk_breakers
from ...domain.errors import DomainError
from ...domain.risk import breakers as rules
from ...domain.risk.breakers import PPM, Action, Breaker, Outcome, Policy, Scope, ScopeKind, State
from .. import audit
from ..alerts import Alert, Alerts, Severity, raise_alert

ID_PREFIX = "brk_"
REASON_CHARS_MAX = 500
LIST_SIZE_MAX = 200
SCOPES_PER_CHECK_MAX = 16
RECORD_COUNT_MAX = 100_000  # outcomes one record may count (a feed's batch)
NS = 1_000_000_000


CHECK = select(risk_breakers).where(
    risk_breakers.c.scope.in_([bindparam(f"s{k}") for k in range(SCOPES_PER_CHECK_MAX)]))
Read = Callable[[Select[Any], Mapping[str, Any]], list[tuple[Any, ...]]]


@dataclass(frozen=True)
class BreakerState:
    """What the risk engine reads for one scope of a movement."""

    scope: str
    state: State
    action: Action
    breaker_id: str | None
    tripped_on: Outcome | None
    rate_ppm: int | None


@dataclass(frozen=True)
class BreakerView:
    id: str
    breaker: Breaker
    updated_at_ns: int


def _breaker(row: Any) -> Breaker:
    return Breaker(Scope.parse(row["scope"]), State(row["state"]),
                   None if row["tripped_on"] is None else Outcome(row["tripped_on"]),
                   row["rate_ppm"], row["movements"], row["opened_at"], row["half_open_at"],
                   row["probes"], row["probes_bad"], row["counts_since"], row["trips"])


def _values(b: Breaker) -> dict[str, Any]:
    return {"state": str(b.state), "tripped_on": None if b.tripped_on is None
            else str(b.tripped_on), "rate_ppm": b.rate_ppm, "movements": b.movements,
            "opened_at": b.opened_at_ns, "half_open_at": b.half_open_at_ns,
            "probes": b.probes, "probes_bad": b.probes_bad, "counts_since": b.counts_since_ns,
            "trips": b.trips}


class Breakers:
    def __init__(self, database: Database, *, clock: Clock, alerts: Alerts,
                 policies: dict[ScopeKind, Policy] | None = None,
                 draw_ppm: Callable[[], int] | None = None) -> None:
        self._database = database
        self._clock = clock
        self._alerts = alerts
        self._policies = dict(rules.POLICIES if policies is None else policies)
        self._draw_ppm = draw_ppm or (lambda: secrets.randbelow(PPM))

    def policy(self, kind: ScopeKind) -> Policy:
        return self._policies[kind]

    def record(self, scope: Scope, outcome: Outcome, *, count: int = 1) -> Breaker:
        """Count ``count`` outcomes in the scope (a batch of screenings' outcomes, one
        transaction); trip, probe or close the breaker as it says."""
        return self.record_all([(scope, outcome, count)])[0]

    def record_all(self, counted: Sequence[tuple[Scope, Outcome, int]]) -> list[Breaker]:
        """:meth:`record` for each (scope, outcome, count), in one transaction: a feed's
        flush takes the write lock and commits once, not once per scope."""
        if any(not 0 < count <= RECORD_COUNT_MAX for _, _, count in counted):
            raise ValueError(f"a record counts 1 to {RECORD_COUNT_MAX} outcomes")  # a caller's bug
        now = self._clock.now_ns()
        raised: list[Alert] = []
        with self._database.engine.begin() as conn:
            out = [self._record(conn, scope, Outcome(outcome), count, now, raised)
                   for scope, outcome, count in counted]
        for alert in raised:
            self._alerts.mail(alert)
        return out

    def _record(self, conn: Connection, scope: Scope, outcome: Outcome, count: int, now: int,
                raised: list[Alert]) -> Breaker:
        policy = self._policies[scope.kind]
        bucket = now - now % (policy.bucket_s * NS)
        _count(conn, str(scope), bucket, outcome, count, keep_ns=2 * policy.window_s * NS)
        row = conn.execute(select(risk_breakers).where(
            risk_breakers.c.scope == str(scope))).mappings().first()
        before = rules.closed(scope) if row is None else _breaker(row)
        after = rules.after_time(before, policy, now_ns=now)
        if after.state is State.CLOSED and outcome in policy.watched:
            counts = _window(conn, str(scope), max(after.counts_since_ns,
                                                   now - policy.window_s * NS))
            after = rules.after_counts(after, counts, policy, now_ns=now)
        else:
            for _ in range(count):
                after = rules.after_probe(after, outcome, policy, now_ns=now)
                if after.state is not State.HALF_OPEN:
                    break
        if after != before:
            self._save(conn, row, after, now, raised)
        return after

    def check(self, scopes: Sequence[Scope], *, read: Read | None = None
              ) -> list[BreakerState]:
        """The breaker's state and action for each scope, in the order given: one
        indexed read of :data:`CHECK`, through ``read`` when given (the risk engine's
        compiled reads: no connection of its own)."""
        if len(scopes) > SCOPES_PER_CHECK_MAX:
            raise DomainError("breaker_scope_invalid",
                              f"at most {SCOPES_PER_CHECK_MAX} scopes per check")
        names = [str(s) for s in scopes]
        now = self._clock.now_ns()
        params = {f"s{k}": names[k] if k < len(names) else None
                  for k in range(SCOPES_PER_CHECK_MAX)}
        if read is None:
            with self._database.engine.connect() as own:
                raw = [tuple(r) for r in own.execute(CHECK, params)]
        else:
            raw = read(CHECK, params)
        columns = CHECK.selected_columns.keys()
        rows = {r["scope"]: r for r in (dict(zip(columns, t, strict=True)) for t in raw)}
        found: list[BreakerState] = []
        for scope in scopes:
            row = rows.get(str(scope))
            if row is None:
                found.append(BreakerState(str(scope), State.CLOSED, Action.PASS, None, None,
                                          None))
                continue
            policy = self._policies[scope.kind]
            breaker = _breaker(row)
            if rules.after_time(breaker, policy, now_ns=now) != breaker:
                breaker = self._half_open(row, policy, now)
            act = rules.action(breaker, policy, draw_ppm=self._draw_ppm())
            found.append(BreakerState(str(scope), breaker.state, act, row["id"],
                                      breaker.tripped_on, breaker.rate_ppm))
        return found

    def _half_open(self, row: Any, policy: Policy, now: int) -> Breaker:
        with self._database.engine.begin() as conn:
            after = rules.after_time(_breaker(row), policy, now_ns=now)
            self._save(conn, row, after, now, [])
        return after

    def _save(self, conn: Connection, row: Any, after: Breaker, now: int,
              raised: list[Alert]) -> None:
        """Write the transition (compare-and-set), its audit leaf, and on a trip an alert."""
        if row is None:
            breaker_id = ID_PREFIX + secrets.token_hex(12)
            try:
                with conn.begin_nested():
                    conn.execute(insert(risk_breakers).values(
                        id=breaker_id, scope=str(after.scope), version=1, updated_at=now,
                        **_values(after)))
            except IntegrityError:
                return  # another process tripped it first: its row stands
            before_state = State.CLOSED
        else:
            breaker_id = row["id"]
            changed = conn.execute(update(risk_breakers).where(
                risk_breakers.c.id == breaker_id, risk_breakers.c.version == row["version"],
            ).values(version=row["version"] + 1, updated_at=now, **_values(after))).rowcount
            if changed != 1:
                return
            before_state = State(row["state"])
        if before_state is after.state:
            return
        action = {State.OPEN: "breaker.trip", State.HALF_OPEN: "breaker.half_open",
                  State.CLOSED: "breaker.close"}[after.state]
        detail = {"scope": str(after.scope)[:64], "from": str(before_state),
                  "tripped_on": None if after.tripped_on is None else str(after.tripped_on),
                  "rate_ppm": after.rate_ppm, "movements": after.movements,
                  "trips": after.trips}
        audit.record(conn, at_ns=now, actor=audit.SYSTEM, action=action,
                     object_id=breaker_id, detail=detail)
        if after.state is State.OPEN:
            made = raise_alert(
                conn, at_ns=now, kind="risk.breaker_tripped", severity=Severity.CRITICAL,
                subject=f"Circuit breaker tripped on {after.scope.kind}: "
                        f"{after.tripped_on} rate {(after.rate_ppm or 0) / 10_000:.1f}%",
                detail={"breaker": breaker_id, **detail},
                dedupe_key=f"{breaker_id}:{after.trips}")
            if made is not None:
                raised.append(made)

    def list(self, *, actor: str) -> list[BreakerView]:
        """Every breaker that ever tripped, most recently changed first (audited read)."""
        with self._database.engine.begin() as conn:
            rows = conn.execute(select(risk_breakers).order_by(
                risk_breakers.c.updated_at.desc(), risk_breakers.c.id).limit(LIST_SIZE_MAX)
            ).mappings().all()
            audit.record(conn, at_ns=self._clock.now_ns(), actor=actor, action="breaker.list",
                         object_id="risk_breakers", detail={"count": len(rows)})
        return [BreakerView(r["id"], _breaker(r), r["updated_at"]) for r in rows]

    def check_reset(self, breaker_id: str, reason: object) -> str:
        """A manual reset as it is submitted for approval (kind ``breaker_reset``): the
        reason, stripped, of a breaker that is open or half-open; nothing changes."""
        if not isinstance(reason, str) or not 0 < len(reason.strip()) <= REASON_CHARS_MAX \
                or not reason.isprintable():
            raise DomainError("breaker_reset_reason_invalid",
                              f"a reason is printable text of 1 to {REASON_CHARS_MAX} chars")
        with self._database.engine.connect() as conn:
            _open(conn, breaker_id, lock=False)
        return reason.strip()

    def reset(self, conn: Connection, breaker_id: str, *, actor: str, requested_by: str,
              approval_id: str) -> Breaker:
        """Close the breaker, in the approval's transaction: another member of staff
        approved the reset ``requested_by`` submitted. It counts afresh from now."""
        now = self._clock.now_ns()
        row = _open(conn, breaker_id, lock=True)
        closed = rules.reset(_breaker(row), now_ns=now)
        conn.execute(update(risk_breakers).where(risk_breakers.c.id == row["id"]).values(
            version=row["version"] + 1, updated_at=now, **_values(closed)))
        audit.record(conn, at_ns=now, actor=actor, action="breaker.reset", object_id=row["id"],
                     detail={"approval": approval_id, "requested_by": requested_by,
                             "from": row["state"]})
        return closed


def _open(conn: Connection, breaker_id: str, *, lock: bool) -> Any:
    """The breaker's row; ``breaker_not_open`` when it is closed (nothing to reset)."""
    query = select(risk_breakers).where(risk_breakers.c.id == breaker_id)
    row = conn.execute(query.with_for_update() if lock else query).mappings().first()
    if row is None:
        raise DomainError("breaker_not_found", f"no breaker {breaker_id}")
    if State(row["state"]) is State.CLOSED:
        raise DomainError("breaker_not_open", f"breaker {breaker_id} is closed")
    return row


def _count(conn: Connection, scope: str, bucket: int, outcome: Outcome, n: int, *,
           keep_ns: int) -> None:
    """Add ``n`` to the bucket's count: update, else insert (a racing insert updates)."""
    key = (risk_breaker_counts.c.scope == scope, risk_breaker_counts.c.bucket == bucket,
           risk_breaker_counts.c.outcome == str(outcome))
    bump = update(risk_breaker_counts).where(*key).values(count=risk_breaker_counts.c.count + n)
    if conn.execute(bump).rowcount == 1:
        return
    try:
        with conn.begin_nested():
            conn.execute(insert(risk_breaker_counts).values(
                scope=scope, bucket=bucket, outcome=str(outcome), count=n))
    except IntegrityError:
        conn.execute(bump)
        return
    # A new bucket: the scope's buckets past any window go, so the table stays bounded.
    conn.execute(delete(risk_breaker_counts).where(
        risk_breaker_counts.c.scope == scope, risk_breaker_counts.c.bucket < bucket - keep_ns))


def _window(conn: Connection, scope: str, since_ns: int) -> dict[Outcome, int]:
    rows: Iterable[Any] = conn.execute(select(
        risk_breaker_counts.c.outcome, func.sum(risk_breaker_counts.c.count)).where(
        risk_breaker_counts.c.scope == scope, risk_breaker_counts.c.bucket >= since_ns,
    ).group_by(risk_breaker_counts.c.outcome)).all()
    return {Outcome(outcome): int(total) for outcome, total in rows}
