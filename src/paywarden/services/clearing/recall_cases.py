"""Recall cases (camt.056 and its answer, camt.029) as every node keeps them (decision
0061): the payer's bank that asks, each hub that relays, the payee's bank that answers.

A recall moves no money. It asks the bank a transfer was paid to for it back; a yes is
a return (pacs.004, decision 0060) made by that bank, which travels and settles on its
own. So a case needs no two-phase protocol, only this, at every node:

- a case is written, or answered, with a mark that it owes a peer a message (the
  camt.056 it passes on, or the camt.029 it answers with);
- then that message is built from the case, archived and delivered, and the mark
  cleared; what is not delivered (the peer down, a crash) :meth:`Cases.deliver_due`
  sends again, backing off up to a minute. Each attempt is a new message (a new MsgId,
  so never stale): the receiver knows the case by its id, and a repeat changes nothing
  (crash point ``clearing.recall.owed``: written, not yet delivered);
- a case is answered once: ``open`` becomes ``accepted`` or ``refused`` by a compare
  and set, so a retried answer changes nothing and owes nothing more.

A camt.029 is taken only from the peer the case was passed to (``to_bic``); a hub that
relayed the case owes the same answer to the peer that asked it (``from_bic``).
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import structlog
from sqlalchemy import Connection, insert, select, update
from sqlalchemy.exc import IntegrityError

from ...adapters.clock import Clock
from ...adapters.store import Database
from ...adapters.store.schema import clearing_recalls
from ...domain.clearing.messages import (
    Camt029,
    Camt056,
    Header,
    Message,
    Recall,
    RecallAnswer,
)
from ...domain.money import Money
from ..crashpoints import CrashPoints
from .transport import PeerRefused, PeerUnavailable, new_msg_id

log = structlog.get_logger(__name__)
NS = 1_000_000_000
REQUESTED, RELAYED, RECEIVED = "requested", "relayed", "received"
OPEN, ACCEPTED, REFUSED = "open", "accepted", "refused"
BACKOFF_S_MAX = 60
DUE_ROWS_MAX = 256


@dataclass(frozen=True)
class Case:
    case_id: str
    original_uetr: str
    role: str
    from_bic: str | None
    to_bic: str | None
    original_msg_id: str
    original_end_to_end_id: str
    amount: Money
    reason: str
    state: str
    answer_reason: str | None
    return_id: str | None
    owed: str | None  # a token while a message is owed to a peer
    created_by: str
    created_at: int
    updated_at: int

    def recall(self) -> Recall:
        return Recall(self.case_id, self.original_msg_id, self.original_uetr,
                      self.original_end_to_end_id, self.amount, self.reason)

    def answer(self) -> RecallAnswer:
        return RecallAnswer(self.case_id, self.original_uetr, self.state == ACCEPTED,
                            self.answer_reason or "")

    def public(self) -> dict[str, Any]:
        return {"case_id": self.case_id, "original_uetr": self.original_uetr,
                "role": self.role, "from": self.from_bic, "to": self.to_bic,
                "amount": self.amount.amount_minor, "currency": self.amount.currency,
                "reason": self.reason, "state": self.state,
                "answer_reason": self.answer_reason, "return_id": self.return_id,
                "undelivered": self.owed is not None, "created_by": self.created_by,
                "created_at": self.created_at, "updated_at": self.updated_at}


def case_of(row: Any) -> Case:
    return Case(row["case_id"], row["original_uetr"], row["role"], row["from_bic"],
                row["to_bic"], row["original_msg_id"], row["original_end_to_end_id"],
                Money(row["amount"], row["currency"]), row["reason"], row["state"],
                row["answer_reason"], row["return_id"], row["owed"], row["created_by"],
                row["created_at"], row["updated_at"])


def load(conn: Connection, case_id: str) -> Case | None:
    row = conn.execute(select(clearing_recalls).where(
        clearing_recalls.c.case_id == case_id)).mappings().first()
    return None if row is None else case_of(row)


AfterWrite = Callable[[Connection, Case], None]


class Sender(Protocol):
    """How a case's message leaves: the node's transport (archived, signed, sent)."""

    bic: str

    def send(self, receiver: str, message: Message) -> Message | None: ...


class Cases:
    def __init__(self, database: Database, *, clock: Clock, transport: Sender,
                 crash_at: str | None = None) -> None:
        self._database = database
        self._clock = clock
        self._transport = transport
        self._crash = CrashPoints(crash_at, prefix="clearing.recall.")
        self.bic = transport.bic

    def get(self, case_id: str) -> Case | None:
        with self._database.engine.connect() as conn:
            return load(conn, case_id)

    def list(self, *, role: str | None = None, state: str | None = None,
             original_uetr: str | None = None, limit: int = 100) -> list[Case]:
        query = select(clearing_recalls).order_by(clearing_recalls.c.created_at.desc(),
                                                  clearing_recalls.c.case_id)
        for column, value in (("role", role), ("state", state),
                              ("original_uetr", original_uetr)):
            if value is not None:
                query = query.where(clearing_recalls.c[column] == value)
        with self._database.engine.connect() as conn:
            return [case_of(r) for r in conn.execute(query.limit(limit)).mappings()]

    def known(self, recall: Recall, sender: str) -> RecallAnswer | bool:
        """A camt.056 case seen before: its answer when it has one (or a refusal, NOOR,
        when ``sender`` or the transfer differ: a case id is not taken over), True when
        it is still open (what it owes is delivered again); False: a new case."""
        case = self.get(recall.case_id)
        if case is None:
            return False
        if case.from_bic != sender or case.original_uetr != recall.original_uetr:
            return RecallAnswer(recall.case_id, recall.original_uetr, False, "NOOR")
        if case.state != OPEN:
            return case.answer()
        self.deliver_owed(case)
        return True

    def open(self, recall: Recall, *, role: str, from_bic: str | None, to_bic: str | None,
             actor: str, after: AfterWrite | None = None) -> Case | None:
        """Write a new case (owing ``to_bic`` its camt.056, when there is one), then
        deliver. None: the case id was taken meanwhile (a concurrent retry)."""
        now = self._clock.now_ns()
        values = {"case_id": recall.case_id, "original_uetr": recall.original_uetr,
                  "role": role, "from_bic": from_bic, "to_bic": to_bic,
                  "original_msg_id": recall.original_msg_id,
                  "original_end_to_end_id": recall.original_end_to_end_id,
                  "amount": recall.amount.amount_minor, "currency": recall.amount.currency,
                  "reason": recall.reason, "state": OPEN, "answer_reason": None,
                  "return_id": None, "owed": _token() if to_bic else None,
                  "attempts": 0, "next_at_ns": now, "created_by": actor[:128],
                  "created_at": now, "updated_at": now}
        try:
            with self._database.engine.begin() as conn:
                conn.execute(insert(clearing_recalls).values(**values))
                case = case_of(values)
                if after is not None:
                    after(conn, case)
        except IntegrityError:
            return None
        self._crash.reached("clearing.recall.owed")
        self.deliver_owed(case)
        return self.get(case.case_id)

    def answer(self, case_id: str, *, accepted: bool, reason: str | None,
               return_id: str | None = None, after: AfterWrite | None = None) -> bool:
        """``open`` → ``accepted`` / ``refused`` once (owing the camt.029 to ``from_bic``
        when a peer asked this node), then deliver. False: answered already, or unknown."""
        now = self._clock.now_ns()
        with self._database.engine.begin() as conn:
            case = load(conn, case_id)
            if case is None or case.state != OPEN:
                return False
            changed = conn.execute(update(clearing_recalls).where(
                clearing_recalls.c.case_id == case_id, clearing_recalls.c.state == OPEN)
                .values(state=ACCEPTED if accepted else REFUSED, answer_reason=reason or None,
                        return_id=return_id or case.return_id,
                        owed=_token() if case.from_bic else None, attempts=0,
                        next_at_ns=now, updated_at=now)).rowcount == 1
            done = load(conn, case_id)
            if not changed or done is None:
                return False
            if after is not None:
                after(conn, done)
        self._crash.reached("clearing.recall.owed")
        self.deliver_owed(done)
        return True

    def on_camt029(self, message: Message, sender: str) -> None:
        """Answers from the peer each case was passed to: recorded, and passed back."""
        if isinstance(message, Camt029):
            self.take_answers(message.answers, sender)

    def take_answers(self, answers: Sequence[RecallAnswer], sender: str) -> None:
        for a in answers:
            case = self.get(a.case_id)
            if case is None or case.to_bic != sender or case.original_uetr != a.original_uetr:
                log.info("clearing.recall_answer_ignored", case_id=a.case_id[:35],
                         sender=sender)
                continue
            self.answer(a.case_id, accepted=a.accepted, reason=a.reason or None)

    # -- delivery ------------------------------------------------------------------------

    def deliver_owed(self, case: Case) -> None:
        """Send the message the case owes; a camt.029 answered straight back (the peer
        refused at once) is taken as the case's answer."""
        if case.owed is None:
            return
        now = self._clock.now_ns()
        receiver, message = self._owed_message(case, now)
        try:
            reply = self._transport.send(receiver, message)
        except (PeerUnavailable, PeerRefused) as exc:
            log.info("clearing.recall_undelivered", case_id=case.case_id, receiver=receiver,
                     error=exc.code)
            with self._database.engine.begin() as conn:
                attempts = 1 + int(conn.execute(select(clearing_recalls.c.attempts).where(
                    clearing_recalls.c.case_id == case.case_id)).scalar() or 0)
                conn.execute(update(clearing_recalls).where(
                    clearing_recalls.c.case_id == case.case_id,
                    clearing_recalls.c.owed == case.owed).values(
                    attempts=attempts, next_at_ns=now + _backoff_ns(attempts)))
            return
        with self._database.engine.begin() as conn:
            conn.execute(update(clearing_recalls).where(
                clearing_recalls.c.case_id == case.case_id,
                clearing_recalls.c.owed == case.owed).values(owed=None, updated_at=now))
        if isinstance(reply, Camt029):
            self.take_answers(reply.answers, receiver)

    def _owed_message(self, case: Case, now: int) -> tuple[str, Message]:
        """An open case owes its camt.056 onward; an answered one its camt.029 back."""
        if case.state == OPEN:
            receiver = case.to_bic or ""
            return receiver, Camt056(Header(new_msg_id(), now, self.bic, receiver),
                                     (case.recall(),))
        receiver = case.from_bic or ""
        return receiver, Camt029(Header(new_msg_id(), now, self.bic, receiver),
                                 (case.answer(),))

    def deliver_due(self) -> int:
        """The chore: deliver again what a case still owes and is due."""
        now = self._clock.now_ns()
        with self._database.engine.connect() as conn:
            due = [case_of(r) for r in conn.execute(select(clearing_recalls).where(
                clearing_recalls.c.owed.is_not(None), clearing_recalls.c.next_at_ns <= now)
                .order_by(clearing_recalls.c.next_at_ns).limit(DUE_ROWS_MAX)).mappings()]
        for case in due:
            self.deliver_owed(case)
        return len(due)


def _token() -> str:
    return secrets.token_hex(16)


def _backoff_ns(attempts: int) -> int:
    return int(min(2 ** min(attempts, 6), BACKOFF_S_MAX)) * NS
