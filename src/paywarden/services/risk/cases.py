"""The analysts' queue: every screening that answered ``review`` is a case until answered.

Cases are derived from ``risk_decisions`` (decision = ``review``, no row in
``risk_case_outcomes``) rather than opened by the engine, so the engine's recording path
stays the integrator's alone. A case's id is its decision's id.

**Once only.** An outcome is first *claimed* — its row inserted, primary key the decision's
id, with an audit leaf whose ``after`` digest covers actor, outcome and reason — then
*carried out* by the resolver of the decision's operation (:mod:`.resolvers`), then
*completed* (``result`` set and the customer told, in one transaction, only by whoever sets
``result``). A second answer, whatever it says, is given the first; one that finds the first
claimed but not completed (a crash in between) carries it out again: resolvers answer a
repeated call with the first result, so nothing moves twice.

The customer is told in plain words, as a notification (the security centre and
``GET /v1/me/notifications`` show them), never with the analyst's reason: that is an
internal note.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, insert, select, update
from sqlalchemy.exc import IntegrityError

from ...adapters.clock import Clock
from ...adapters.store import Database
from ...adapters.store.schema import risk_case_outcomes, risk_decisions, risk_labels
from ...domain.errors import DomainError
from .. import audit
from ..crashpoints import CrashPoints
from ..identity.notices import notify
from ..sealed import FieldKeys
from .resolvers import ABSENT, Describer, Resolver

NS = 1_000_000_000
QUEUE_CASES_MAX = 500  # the oldest open cases the queue shows at once
HISTORY_MAX = 50  # the subject's latest decisions shown with a case
REASON_CHARS_MAX = 200
RELEASE, DECLINE = "release", "decline"


@dataclass(frozen=True)
class Outcome:
    decision_id: str
    outcome: str  # release | decline
    reason: str
    actor: str
    at_ns: int
    result: str | None  # the held object's state after; None: not carried out yet
    created: bool  # False: the case was answered before; this is the first answer

    def public(self) -> dict[str, Any]:
        return {"case_id": self.decision_id, "outcome": self.outcome, "reason": self.reason,
                "actor": self.actor, "at": self.at_ns, "result": self.result,
                "created": self.created}


def check_reason(reason: object) -> str:
    if not (isinstance(reason, str) and reason.strip() and len(reason) <= REASON_CHARS_MAX
            and reason.isprintable()):
        raise DomainError("risk_case_reason_invalid", "a reason is 1 to "
                          f"{REASON_CHARS_MAX} printable characters")
    return reason.strip()


def subject_kind(subject: str) -> str:
    return "merchant" if subject.startswith("mer_") else "customer"


def decision_view(r: Any) -> dict[str, Any]:
    return {"id": r["id"], "at": r["at"], "operation": r["operation"],
            "object_id": r["object_id"], "decision": r["decision"], "score": r["score"],
            "reasons": json.loads(r["reasons"]), "rules_version": r["rules_version"],
            "model_version": r["model_version"], "engine": r["engine"]}


def _outcome(r: Any, *, created: bool) -> Outcome:
    return Outcome(r["decision_id"], r["outcome"], r["reason"], r["actor"], r["at"],
                   r["result"], created)


class Cases:
    def __init__(self, database: Database, *, clock: Clock, keys: FieldKeys, sla_s: int,
                 resolvers: Mapping[str, Resolver] | None = None,
                 crash_at: str | None = None) -> None:
        self._database = database
        # Tests kill the process after each step (tests/integration/test_risk_case_crash.py).
        self._crash = CrashPoints(crash_at, prefix="risk_case.")
        self._clock = clock
        self._keys = keys
        self.sla_s = sla_s
        # By operation prefix ("bank.", "payment."): the payments path registers its own.
        self.resolvers: dict[str, Resolver] = dict(resolvers or {})

    # --- reading ------------------------------------------------------------------------

    def sla(self, opened_at_ns: int) -> dict[str, Any]:
        due = opened_at_ns + self.sla_s * NS
        now = self._clock.now_ns()
        return {"opened_at": opened_at_ns, "due_at": due, "overdue": now > due,
                "left_s": (due - now) // NS}

    def queue(self, *, actor: str) -> list[dict[str, Any]]:
        """Open cases grouped per subject, the group with the oldest case first; each case
        with its SLA timer. Audited: who read the queue."""
        answered = select(risk_case_outcomes.c.decision_id).where(
            risk_case_outcomes.c.decision_id == risk_decisions.c.id).exists()
        query = select(risk_decisions).where(risk_decisions.c.decision == "review",
                                             ~answered).order_by(
            risk_decisions.c.at, risk_decisions.c.id).limit(QUEUE_CASES_MAX)
        with self._database.engine.begin() as conn:
            rows = conn.execute(query).mappings().all()
            audit.record(conn, at_ns=self._clock.now_ns(), actor=actor,
                         action="risk.cases_read", object_id="risk_cases",
                         detail={"count": len(rows)})
        groups: dict[str, dict[str, Any]] = {}
        for r in rows:
            group = groups.setdefault(r["subject"], {
                "subject": r["subject"], "kind": subject_kind(r["subject"]), "cases": [],
                "overdue": 0})
            case = {**decision_view(r), "sla": self.sla(r["at"])}
            group["cases"].append(case)
            group["overdue"] += int(case["sla"]["overdue"])
        return list(groups.values())  # rows are oldest first, so are the groups

    def case(self, case_id: str, *, actor: str) -> dict[str, Any]:
        """One case: the decision's evidence (features, reasons, versions), the held object,
        the subject's decision history, the SLA, the outcome and label if any. Audited."""
        with self._database.engine.begin() as conn:
            r = self._review(conn, case_id)
            history = conn.execute(select(risk_decisions).where(
                risk_decisions.c.subject == r["subject"]).order_by(
                risk_decisions.c.at.desc(), risk_decisions.c.id).limit(HISTORY_MAX)
                ).mappings().all()
            outcome = conn.execute(select(risk_case_outcomes).where(
                risk_case_outcomes.c.decision_id == case_id)).mappings().first()
            label = conn.execute(select(risk_labels).where(
                risk_labels.c.decision_id == case_id)).mappings().first()
            audit.record(conn, at_ns=self._clock.now_ns(), actor=actor,
                         action="risk.case_read", object_id=case_id)
        resolver = self._resolver(r["operation"], required=False)
        held = resolver.describe(r["object_id"]) if isinstance(resolver, Describer) else None
        detail = json.loads(r["detail"])
        return {**decision_view(r), "subject": r["subject"],
                "subject_kind": subject_kind(r["subject"]),
                "features": json.loads(r["features"]), "shadow": detail.get("shadow", []),
                "score_reasons": detail.get("score_reasons", []), "held": held,
                "history": [decision_view(h) for h in history], "sla": self.sla(r["at"]),
                "outcome": None if outcome is None else _outcome(outcome,
                                                                 created=False).public(),
                "label": None if label is None else {
                    "label": label["label"], "by": label["labelled_by"],
                    "at": label["labelled_at"]}}

    # --- answering ------------------------------------------------------------------------

    def release(self, case_id: str, *, reason: str, actor: str) -> Outcome:
        return self.answer(case_id, outcome=RELEASE, reason=reason, actor=actor)

    def decline(self, case_id: str, *, reason: str, actor: str) -> Outcome:
        return self.answer(case_id, outcome=DECLINE, reason=reason, actor=actor)

    def answer(self, case_id: str, *, outcome: str, reason: str, actor: str) -> Outcome:
        """Claim, carry out and complete an outcome (see the module's docstring)."""
        if outcome not in (RELEASE, DECLINE):
            raise DomainError("risk_case_outcome_invalid", "release or decline")
        reason = check_reason(reason)
        claimed, decision = self._claim(case_id, outcome, reason, actor)
        if claimed.result is not None:
            return claimed
        self._crash.reached("risk_case.claimed")
        resolver = self._resolver(decision["operation"], required=True)
        assert resolver is not None
        result = resolver.resolve(decision["object_id"], release=claimed.outcome == RELEASE,
                                  reason=claimed.reason, actor=claimed.actor)
        self._crash.reached("risk_case.resolved")
        self._complete(claimed, decision, result)
        self._crash.reached("risk_case.completed")
        return Outcome(**{**claimed.__dict__, "result": result})

    def _claim(self, case_id: str, outcome: str, reason: str, actor: str
               ) -> tuple[Outcome, Any]:
        now = self._clock.now_ns()
        with self._database.engine.begin() as conn:
            decision = self._review(conn, case_id)
            # A four-eyes move's subject names both people (``usr_a+usr_b``): neither of
            # them answers its case.
            if actor.split("/", 1)[0] in decision["subject"].split("+"):
                raise DomainError("risk_case_own", "a case about your own move is answered "
                                  "by another person")
            self._resolver(decision["operation"], required=True)
            first = self._stored(conn, case_id)
            if first is not None:
                return first, decision
            row = {"decision_id": case_id, "outcome": outcome, "reason": reason,
                   "actor": actor[:128], "at": now, "result": None}
            try:
                with conn.begin_nested():
                    conn.execute(insert(risk_case_outcomes), row)
            except IntegrityError:  # another analyst answered this instant: theirs stands
                found = self._stored(conn, case_id)
                assert found is not None
                return found, decision
            audit.record(conn, at_ns=now, actor=actor, action=f"risk.case_{outcome}",
                         object_id=case_id, detail={"operation": decision["operation"],
                                                    "object": decision["object_id"]},
                         after={k: row[k] for k in ("decision_id", "outcome", "reason",
                                                    "actor", "at")})
        return _outcome(row, created=True), decision

    def _complete(self, claimed: Outcome, decision: Any, result: str) -> None:
        now = self._clock.now_ns()
        with self._database.engine.begin() as conn:
            done = conn.execute(update(risk_case_outcomes).where(
                risk_case_outcomes.c.decision_id == claimed.decision_id,
                risk_case_outcomes.c.result.is_(None)).values(result=result[:16])).rowcount
            if done != 1:
                return  # completed by a concurrent call: it told the customer
            audit.record(conn, at_ns=now, actor=claimed.actor, action="risk.case_done",
                         object_id=claimed.decision_id,
                         detail={"outcome": claimed.outcome, "result": result[:16]})
            subject = decision["subject"]
            if subject.startswith("usr_") and result != ABSENT \
                    and _customers_own(decision["operation"]):
                held = self._held_words(decision)
                notify(conn, subject, f"review_{claimed.outcome}", keys=self._keys,
                       now_ns=now, **told(claimed.outcome, held,
                                                        paid=decision["operation"].startswith("payment.")))

    # --- helpers --------------------------------------------------------------------------

    def _held_words(self, decision: Any) -> str:
        resolver = self._resolver(decision["operation"], required=False)
        held = resolver.describe(decision["object_id"]) if isinstance(resolver,
                                                                     Describer) else None
        return f" of {held['amount_text']}" if held and "amount_text" in held else ""

    @staticmethod
    def _stored(conn: Connection, case_id: str) -> Outcome | None:
        row = conn.execute(select(risk_case_outcomes).where(
            risk_case_outcomes.c.decision_id == case_id)).mappings().first()
        return None if row is None else _outcome(row, created=False)

    @staticmethod
    def _review(conn: Connection, case_id: str) -> Any:
        row = conn.execute(select(risk_decisions).where(
            risk_decisions.c.id == case_id)).mappings().first()
        if row is None or row["decision"] != "review":
            raise DomainError("risk_case_not_found", f"no review case {case_id}")
        return row

    def _resolver(self, operation: str, *, required: bool) -> Resolver | None:
        for prefix, resolver in self.resolvers.items():
            if operation.startswith(prefix):
                return resolver
        if required:
            raise DomainError("risk_case_no_resolver", f"nothing resolves {operation} "
                              "holds yet")
        return None


def _customers_own(operation: str) -> bool:
    """A customer's movement (told of its outcome), not a staff member's (a dispute
    decision: its subject is the staff member, who learns the outcome by trying again)."""
    return operation.startswith("bank.") or operation == "payment.pay"


def told(outcome: str, held: str, *, paid: bool = False) -> dict[str, str]:
    """What the customer reads: plain words, no internal reason. ``paid``: a payment to a
    shop, whose money waited in the payment's escrow and, stopped, goes back to where it
    came from (a bank movement's never left the account)."""
    if outcome == RELEASE:
        return {"subject": "Your payment was checked and has gone through",
                "body": f"We held your payment{held} for a security check. The check is "
                        "done and the payment has gone through. You need do nothing."}
    back = ("The money has gone back to where you paid from: your wallet, account or card."
            if paid else "The money has not left your account: it is available to you "
            "again.")
    return {"subject": "We stopped a payment from your account",
            "body": f"We held your payment{held} for a security check and have stopped "
                    f"it. {back} If you made this payment, contact us and we will help you. "
                    "If you did not, contact us at once: someone may have access to your "
                    "account."}
