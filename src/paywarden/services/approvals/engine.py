"""The one approval engine: submit, approve, reject, withdraw, execute (decision 0041).

    submit    one member of staff stores the exact command (canonical, hashed); nothing
              moves. Audit leaf ``approval.submit``.
    approve   another member whose role may approve the kind, with a passkey step-up
              over the approval's id and the command's hash; the stored text is hashed
              again first, so a row changed since submission is refused. Leaf
              ``approval.approve``; the command is then executed.
    execute   the kind's executor (executors.py) carries the command out; the approval
              ends ``executed`` with what it did, or ``failed`` with why. Leaf
              ``approval.executed`` / ``approval.failed``. An approval left ``approved``
              by a crash is executed again by :meth:`Approvals.resume` (the executor is
              idempotent by the approval's id), so its outcome never changes.
    reject    another member, with a reason and a step-up. Leaf ``approval.reject``.
    withdraw  the submitter, with a reason. Leaf ``approval.withdraw``.

A pending request past its ``expires_at`` is expired: it reads so at once and can no
longer be decided; :meth:`Approvals.expire` writes the state (and its leaf) later.

Who takes part (:meth:`Approvals._party`): staff submit and decide every kind except the
merchant kinds; a merchant's people (signed in with a passkey, not its signed backend)
submit and decide only the merchant kinds, and only their own merchant's commands
(decision 0051). The four-eyes rule and the step-up are the same for both.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Callable, Iterable, Mapping
from dataclasses import astuple, replace
from typing import Any

import structlog
from sqlalchemy import Connection, RowMapping, insert, or_, select, update

from ...adapters.clock import Clock
from ...adapters.store import Database
from ...adapters.store.schema import approvals
from ...domain.approvals import (
    MERCHANT_KINDS,
    SUBMITTERS,
    Kind,
    State,
    canonical,
    check_checker,
    check_reason,
    command_hash,
    step_for,
)
from ...domain.errors import DomainError
from ...domain.identity import Kind as PrincipalKind
from ...domain.identity import Principal
from ...domain.insider import Activity
from .. import audit
from ..crashpoints import CrashPoints
from ..identity.stepup import StepUp, approved_operation
from ..insider import Insider
from .executors import Approval, Executor

log = structlog.get_logger(__name__)

ID_PREFIX = "apr_"
NS = 1_000_000_000
LIST_SIZE_MAX = 200
TTL_S_DEFAULT = 24 * 3600
RESUME_SETTLED_S = 30  # an approval this long in `approved` was left there by a crash
MAINTENANCE_INTERVAL_S = 30.0


def new_id() -> str:
    return ID_PREFIX + secrets.token_hex(12)


class Approvals:
    def __init__(self, database: Database, *, clock: Clock, step_up: StepUp, insider: Insider,
                 ttl_s: int = TTL_S_DEFAULT, crash_at: str | None = None) -> None:
        self._crash = CrashPoints(crash_at, prefix="approval.")
        self._database = database
        self._clock = clock
        self._step_up = step_up
        self._insider = insider
        self._executors: dict[Kind, Executor] = {}
        self.ttl_s = ttl_s

    def register(self, executor: Executor) -> None:
        if executor.kind in self._executors:
            raise ValueError(f"an executor for {executor.kind} is registered already")
        self._executors[executor.kind] = executor

    @property
    def kinds(self) -> frozenset[Kind]:
        return frozenset(self._executors)

    # Submitting

    def submit(self, principal: Principal, kind: str, params: Mapping[str, Any]) -> Approval:
        """Store ``params`` as a ``kind`` command waiting for a second person."""
        executor = self._executor(kind)
        merchant_id = _party(principal, executor.kind)
        if not principal.roles & SUBMITTERS[executor.kind]:
            allowed = ", ".join(sorted(SUBMITTERS[executor.kind]))
            raise DomainError("submitter_role_refused",
                              f"a {kind} command is submitted by a member holding {allowed}")
        checked = executor.check(params, principal)
        if merchant_id is not None and checked.params.get("merchant_id") != merchant_id:
            raise DomainError("forbidden", "a merchant's people submit their own merchant's "
                              "commands only")
        text = canonical(executor.kind, checked.params)
        now = self._clock.now_ns()
        again = self._same(principal, command_hash(text), now)
        if again is not None:
            return again  # a retried submission: the first request, not a second one
        made = Approval(new_id(), executor.kind, json.loads(text)["params"], text,
                        command_hash(text), checked.amount, checked.currency,
                        checked.summary[:300], principal.id[:128], now,
                        now + self.ttl_s * NS, State.PENDING, merchant_id=merchant_id)
        with self._database.engine.begin() as conn:
            conn.execute(insert(approvals).values(
                id=made.id, kind=str(made.kind), command=text, command_hash=made.command_hash,
                amount=made.amount, currency=made.currency, summary=made.summary,
                submitted_by=made.submitted_by, submitted_actor=principal.actor[:200],
                submitted_at=now, expires_at=made.expires_at, state=str(State.PENDING),
                merchant_id=merchant_id))
            audit.record(conn, at_ns=now, actor=principal.actor, action="approval.submit",
                         object_id=made.id, detail=_detail(made), after=text)
            self._insider.observe(conn, actor=principal.id, activity=Activity.WRITE,
                                  subject=checked.subject)
        log.info("approval_submitted", approval=made.id, kind=str(made.kind),
                 actor=principal.actor)
        return made

    def _same(self, principal: Principal, hash_hex: str, now: int) -> Approval | None:
        """The submitter's live request for the very same command, if there is one."""
        with self._database.engine.connect() as conn:
            row = conn.execute(select(approvals).where(
                approvals.c.command_hash == hash_hex,
                approvals.c.submitted_by == principal.id[:128],
                approvals.c.state.in_([str(State.PENDING), str(State.APPROVED),
                                       str(State.EXECUTED)]),
            ).order_by(approvals.c.submitted_at.desc()).limit(1)).mappings().first()
        found = None if row is None else self._seen(_approval(row))
        return None if found is None or found.state is State.EXPIRED else found

    # Deciding

    def approve(self, principal: Principal, approval_id: str, *, evidence_id: str) -> Approval:
        """Approve and execute; asked again by the same approver, execute what is left
        (an approval interrupted by a crash) and answer the outcome."""
        now = self._clock.now_ns()
        with self._database.engine.begin() as conn:
            found = self._locked(conn, approval_id)
            retried = found.state in (State.APPROVED, State.EXECUTED, State.FAILED) \
                and found.decided_by == principal.id and found.evidence_id == evidence_id
            if not retried:  # a retry executes what a crash left, and answers the outcome
                self._decidable(found, principal, now)
                self._confirm(conn, principal, found, "approve", evidence_id)
                conn.execute(update(approvals).where(
                    approvals.c.id == found.id, approvals.c.state == str(State.PENDING)
                ).values(state=str(State.APPROVED), decided_by=principal.id[:128],
                         decided_at=now, evidence_id=evidence_id))
                audit.record(conn, at_ns=now, actor=principal.actor, action="approval.approve",
                             object_id=found.id,
                             detail={**_detail(found), "evidence": evidence_id})
                self._insider.observe(conn, actor=principal.id, activity=Activity.WRITE)
        self._crash.reached("approval.approved")
        return self.execute(approval_id)

    def reject(self, principal: Principal, approval_id: str, *, evidence_id: str,
               reason: str) -> Approval:
        why = check_reason(reason)
        now = self._clock.now_ns()
        with self._database.engine.begin() as conn:
            found = self._locked(conn, approval_id)
            self._decidable(found, principal, now)
            self._confirm(conn, principal, found, "reject", evidence_id)
            conn.execute(update(approvals).where(
                approvals.c.id == found.id, approvals.c.state == str(State.PENDING)
            ).values(state=str(State.REJECTED), decided_by=principal.id[:128], decided_at=now,
                     evidence_id=evidence_id, reason=why))
            audit.record(conn, at_ns=now, actor=principal.actor, action="approval.reject",
                         object_id=found.id,
                         detail={**_detail(found), "evidence": evidence_id, "reason": why})
            self._insider.observe(conn, actor=principal.id, activity=Activity.WRITE)
        return self.get(approval_id)

    def withdraw(self, principal: Principal, approval_id: str, *, reason: str) -> Approval:
        why = check_reason(reason)
        now = self._clock.now_ns()
        with self._database.engine.begin() as conn:
            found = self._locked(conn, approval_id)
            if found.submitted_by != principal.id:
                raise DomainError("approval_not_yours",
                                  "only the member who submitted a command withdraws it")
            self._pending(found, now)
            conn.execute(update(approvals).where(
                approvals.c.id == found.id, approvals.c.state == str(State.PENDING)
            ).values(state=str(State.WITHDRAWN), decided_by=principal.id[:128],
                     decided_at=now, reason=why))
            audit.record(conn, at_ns=now, actor=principal.actor, action="approval.withdraw",
                         object_id=found.id, detail={**_detail(found), "reason": why})
        return self.get(approval_id)

    # Executing

    def execute(self, approval_id: str) -> Approval:
        """Carry out an ``approved`` command once; any other state is answered as it is."""
        found = self.get(approval_id)
        if found.state is not State.APPROVED:
            return found
        executor = self._executors[found.kind]
        try:
            self._signed(found)
            effect = executor.effect(found)
        except DomainError as exc:
            if exc.code in executor.hold_codes:
                return self._hold(found, exc)
            return self._fail(found, exc)
        self._crash.reached("approval.effect")
        now = self._clock.now_ns()
        try:
            with self._database.engine.begin() as conn:
                result = executor.commit(conn, found, effect)
                done = conn.execute(update(approvals).where(
                    approvals.c.id == found.id, approvals.c.state == str(State.APPROVED)
                ).values(state=str(State.EXECUTED), executed_at=now,
                         result=json.dumps(result, sort_keys=True))).rowcount
                if done != 1:  # another process executed it first: its commit stands
                    conn.rollback()
                    return self.get(approval_id)
                audit.record(conn, at_ns=now, actor=found.decided_by or audit.SYSTEM,
                             action="approval.executed", object_id=found.id,
                             detail=_detail(found), after=result)
        except DomainError as exc:
            return self._fail(found, exc)
        log.info("approval_executed", approval=found.id, kind=str(found.kind))
        return self.get(approval_id)

    def resume(self, *, settled_s: int = 0) -> int:
        """Execute every approval a crash left ``approved`` (decided at least ``settled_s``
        ago, so a request still executing it is left to finish); how many there were."""
        before = self._clock.now_ns() - settled_s * NS
        with self._database.engine.connect() as conn:
            ids = conn.execute(select(approvals.c.id).where(
                approvals.c.state == str(State.APPROVED),
                approvals.c.decided_at <= before)).scalars().all()
        for approval_id in ids:
            self.execute(approval_id)
        return len(ids)

    def expire(self) -> int:
        """Write ``expired`` on pending requests past their time; how many."""
        now = self._clock.now_ns()
        with self._database.engine.begin() as conn:
            ids = conn.execute(select(approvals.c.id).where(
                approvals.c.state == str(State.PENDING), approvals.c.expires_at <= now)
                .limit(LIST_SIZE_MAX)).scalars().all()
            for approval_id in ids:
                conn.execute(update(approvals).where(
                    approvals.c.id == approval_id, approvals.c.state == str(State.PENDING)
                ).values(state=str(State.EXPIRED), decided_at=now))
                audit.record(conn, at_ns=now, actor=audit.SYSTEM, action="approval.expire",
                             object_id=approval_id)
        return len(ids)

    def maintain(self) -> None:
        """The serving process's chore: finish what crashes left, expire what waited."""
        self.resume(settled_s=RESUME_SETTLED_S)
        self.expire()

    # Reading

    def get(self, approval_id: str) -> Approval:
        with self._database.engine.connect() as conn:
            row = conn.execute(select(approvals).where(
                approvals.c.id == approval_id)).mappings().first() \
                if isinstance(approval_id, str) and len(approval_id) <= 32 else None
        if row is None:
            raise DomainError("approval_not_found", f"no approval {approval_id}")
        return self._seen(_approval(row))

    def list(self, *, state: str | None = None, kinds: Iterable[str] | None = None,
             merchant_id: str | None = None, limit: int = LIST_SIZE_MAX) -> list[Approval]:
        """Newest first; with ``merchant_id``, only that merchant's (its people's inbox)."""
        now = self._clock.now_ns()
        query = select(approvals).order_by(approvals.c.submitted_at.desc(), approvals.c.id)
        if state is not None:
            wanted = State(state)
            if wanted is State.PENDING:
                query = query.where(approvals.c.state == str(State.PENDING),
                                    approvals.c.expires_at > now)
            elif wanted is State.EXPIRED:
                query = query.where(or_(approvals.c.state == str(State.EXPIRED), (
                    (approvals.c.state == str(State.PENDING)) & (approvals.c.expires_at <= now))))
            else:
                query = query.where(approvals.c.state == str(wanted))
        if kinds is not None:
            query = query.where(approvals.c.kind.in_([str(Kind(k)) for k in kinds]))
        if merchant_id is not None:
            query = query.where(approvals.c.merchant_id == merchant_id)
        with self._database.engine.connect() as conn:
            rows = conn.execute(query.limit(min(limit, LIST_SIZE_MAX))).mappings().all()
        return [self._seen(_approval(row)) for row in rows]

    # The checks

    def _executor(self, kind: str) -> Executor:
        try:
            return self._executors[Kind(kind)]
        except (ValueError, KeyError):
            known = ", ".join(sorted(self._executors))
            raise DomainError("approval_kind_unknown",
                              f"{kind!r} is not a kind of command: one of {known}") from None

    def _seen(self, found: Approval) -> Approval:
        if found.state is State.PENDING and found.expires_at <= self._clock.now_ns():
            return replace(found, state=State.EXPIRED)
        return found

    def _locked(self, conn: Connection, approval_id: str) -> Approval:
        row = conn.execute(select(approvals).where(approvals.c.id == approval_id)
                           .with_for_update()).mappings().first() \
            if isinstance(approval_id, str) and len(approval_id) <= 32 else None
        if row is None:
            raise DomainError("approval_not_found", f"no approval {approval_id}")
        return _approval(row)

    def _pending(self, found: Approval, now: int) -> None:
        if found.state is not State.PENDING:
            raise DomainError("approval_not_pending", f"approval {found.id} is {found.state}")
        if found.expires_at <= now:
            raise DomainError("approval_expired", f"approval {found.id} expired; submit the "
                              "command again")

    def _decidable(self, found: Approval, principal: Principal, now: int) -> None:
        self._pending(found, now)
        if _party(principal, found.kind) != found.merchant_id:
            raise DomainError("approval_not_found", f"no approval {found.id}")
        check_checker(submitted_by=found.submitted_by, approver=principal.id,
                      approver_roles=principal.roles, kind=found.kind)
        if command_hash(found.command) != found.command_hash \
                or canonical(found.kind, found.params) != found.command:
            log.error("approval_tampered", approval=found.id)
            raise DomainError("approval_tampered", f"approval {found.id}'s stored command no "
                              "longer matches the hash it was submitted with")

    def _confirm(self, conn: Connection, principal: Principal, found: Approval,
                 decision: str, evidence_id: str) -> None:
        """Consume ``principal``'s step-up evidence over this approval's id and hash."""
        if not principal.id.startswith("usr_") or principal.session_id is None:
            raise DomainError("approver_passkey_required", "a decision is signed with the "
                              "decider's passkey: sign in as a person, not with a host token")
        step = step_for(decision, found.id, found.command_hash, amount=found.amount,
                        currency=found.currency)
        operation = approved_operation(conn, principal.id, evidence_id)
        signed = (operation.type, operation.amount, operation.currency, operation.payee,
                  operation.reference)
        if signed != astuple(step):
            raise DomainError("step_up_mismatch", "the passkey confirmed another decision, "
                              "approval or command")
        self._step_up.require(conn, principal.id, operation, evidence_id)

    def answer_held(self, kind: Kind, matches: Callable[[Approval], bool], *, release: bool,
                    actor: str) -> tuple[Approval, ...]:
        """An analyst answered the risk case holding approvals of ``kind``: released, each
        matching one runs (screened again, the released case lets it through); declined,
        each ends ``failed``. Idempotent: an approval no longer held is left as it is."""
        with self._database.engine.connect() as conn:
            rows = conn.execute(select(approvals).where(
                approvals.c.kind == str(kind), approvals.c.state == str(State.HELD),
            ).order_by(approvals.c.submitted_at)).mappings().all()
        done: tuple[Approval, ...] = ()
        for found in (a for a in map(_approval, rows) if matches(a)):
            now = self._clock.now_ns()
            with self._database.engine.begin() as conn:
                to = State.APPROVED if release else State.FAILED
                reason = None if release else "dispute_decision_declined: an analyst " \
                    "declined the risk case that held it"
                moved = conn.execute(update(approvals).where(
                    approvals.c.id == found.id, approvals.c.state == str(State.HELD)
                ).values(state=str(to), reason=reason,
                         executed_at=None if release else now)).rowcount
                if moved == 1:
                    audit.record(conn, at_ns=now, actor=actor, object_id=found.id,
                                 action="approval.release_hold" if release
                                 else "approval.failed", outcome="ok" if release else "failed",
                                 detail=_detail(found))
            done += (self.execute(found.id) if release else self.get(found.id),)
        return done

    def _hold(self, found: Approval, exc: DomainError) -> Approval:
        now = self._clock.now_ns()
        with self._database.engine.begin() as conn:
            moved = conn.execute(update(approvals).where(
                approvals.c.id == found.id, approvals.c.state == str(State.APPROVED)
            ).values(state=str(State.HELD), reason=f"{exc.code}: {exc.detail}"[:500])).rowcount
            if moved == 1:
                audit.record(conn, at_ns=now, actor=found.decided_by or audit.SYSTEM,
                             action="approval.held", object_id=found.id,
                             detail={**_detail(found), "code": exc.code})
        log.info("approval_held", approval=found.id, code=exc.code)
        return self.get(found.id)

    def _signed(self, found: Approval) -> None:
        """Is the stored command still the one the approver's passkey signed? Checked
        again before every execution: a row edited after the approval is not run."""
        with self._database.engine.connect() as conn:
            operation = approved_operation(conn, found.decided_by or "", found.evidence_id or "")
        if operation.reference != command_hash(found.command) \
                or operation.payee != found.id or operation.type != "approval_approve":
            log.error("approval_tampered", approval=found.id)
            raise DomainError("approval_tampered", f"approval {found.id}'s stored command is "
                              "not the one its approver signed; it is not executed")

    def _fail(self, found: Approval, exc: DomainError) -> Approval:
        now = self._clock.now_ns()
        why = f"{exc.code}: {exc.detail}"[:500]
        with self._database.engine.begin() as conn:
            done = conn.execute(update(approvals).where(
                approvals.c.id == found.id, approvals.c.state == str(State.APPROVED)
            ).values(state=str(State.FAILED), executed_at=now, reason=why)).rowcount
            if done == 1:
                audit.record(conn, at_ns=now, actor=found.decided_by or audit.SYSTEM,
                             action="approval.failed", object_id=found.id, outcome="failed",
                             detail={**_detail(found), "code": exc.code})
        log.warning("approval_failed", approval=found.id, code=exc.code)
        return self.get(found.id)


def _party(principal: Principal, kind: Kind) -> str | None:
    """May ``principal`` take part in a ``kind`` command at all? The merchant whose
    command it must be (a merchant kind), or None (a staff kind)."""
    if kind in MERCHANT_KINDS:
        if principal.kind is not PrincipalKind.MERCHANT or principal.owner is None \
                or not principal.id.startswith("usr_"):
            raise DomainError("forbidden", f"a {kind} command is a merchant's people's: "
                              "submitted and decided by its users, signed in")
        return principal.owner
    if principal.kind is not PrincipalKind.STAFF:
        raise DomainError("forbidden", "only staff submit and decide this kind of command")
    return None


def _detail(found: Approval) -> dict[str, Any]:
    return {"kind": str(found.kind), "hash": found.command_hash, "amount": found.amount,
            "currency": found.currency, "submitted_by": found.submitted_by}


def _approval(row: RowMapping) -> Approval:
    command = json.loads(row["command"])
    return Approval(
        id=row["id"], kind=Kind(row["kind"]), params=dict(command.get("params", {})),
        command=row["command"], command_hash=row["command_hash"], amount=row["amount"],
        currency=row["currency"], summary=row["summary"], submitted_by=row["submitted_by"],
        submitted_at=row["submitted_at"], expires_at=row["expires_at"],
        state=State(row["state"]), decided_by=row["decided_by"], decided_at=row["decided_at"],
        reason=row["reason"], result=json.loads(row["result"]) if row["result"] else None,
        executed_at=row["executed_at"], evidence_id=row["evidence_id"],
        merchant_id=row["merchant_id"])
