"""Money to other banks through the clearing network: the payer bank's half of the
two-phase transfer (decision 0053, step 1; decision 0056).

A transfer to another bank is first a *pending* movement into the clearing account
(services/banking/movements.py), exactly as with the simulated rail. :meth:`ClearingLink
.run_due` then, in three steps that each survive a crash:

1. ``reserve``: takes up to ``batch_max`` pending outgoing movements that have no
   ``bank_clearing_out`` row, gives each a UETR and a deadline, and stores their rows
   and the ONE pacs.008 carrying them in one transaction (an outbox), before anything
   is sent;
2. ``send``: sends every stored message with a transaction not yet final, the same
   value each time (the same MsgId and UETRs: the hub answers a retry, it never applies
   one twice);
3. settles by the answer: ACSC posts the movement, RJCT voids it with the ISO reason;
   PDNG, ACCP or no answer leave it for a later run. The row's state is written in the
   settlement's own transaction.

The payer bank never decides: past the deadline it keeps asking, and the deciding hub
answers RJCT AB05. A final status may also arrive on its own (a pacs.002 the hub
sends): :meth:`ClearingLink.settle` is the same step, idempotent either way.
"""

from __future__ import annotations

import hashlib
import secrets
import threading
import time
import uuid
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import structlog
from sqlalchemy import bindparam, insert, select, update
from sqlalchemy.exc import IntegrityError

from ....adapters.clock import Clock
from ....adapters.store import Database
from ....adapters.store.schema import (
    bank_accounts,
    bank_clearing_batches,
    bank_clearing_out,
    bank_transfers,
)
from ....domain.clearing.messages import (
    ID_CHARS_MAX,
    NAME_CHARS_MAX,
    REMITTANCE_CHARS_MAX,
    Channel,
    CreditTransfer,
    Header,
    Message,
    Pacs002,
    Pacs008,
    Party,
    Reason,
    Status,
)
from ....domain.errors import InvariantViolation
from ....domain.money import Money
from ...banking.cheque_collection import PREFIX, bounced_by_network
from ...banking.movements import LEAVING, MovementResult, Movements, MovementState
from ...banking.movements import Settlement as MovementSettlement
from ...crashpoints import CrashPoints
from ..bank_ports import HubLink, HubUnreachable
from . import stored
from .directory import Directory

log = structlog.get_logger(__name__)
OUTGOING = sorted(str(k) for k in LEAVING)
RESENDS_PER_RUN_MAX = 32  # unfinished messages one run sends again (oldest first)
RESEND_AFTER_S = 1.0  # the lane sends an unfinished message again this long after
IN_FLIGHT_MAX = 4  # messages the lane has on their way to the hub at once
ACTOR = "clearing"
SENT, SETTLED, REJECTED = "sent", "settled", "rejected"

# Every value a bind parameter: the write path sends queued rows to the driver by name.
_FINISH = update(bank_clearing_out).where(
    bank_clearing_out.c.uetr == bindparam("u"), bank_clearing_out.c.state == bindparam("was"),
).values(state=bindparam("state"), reason=bindparam("reason"),
         updated_at=bindparam("updated_at"))


@dataclass(frozen=True)
class Final:
    """A final status the hub gave one of our outgoing transactions."""

    uetr: str
    status: Status
    reason: str | None = None


class ClearingLink:
    """The clearing network's counterpart of services/banking/rail.py ``RailLink``."""

    def __init__(self, database: Database, *, clock: Clock, movements: Movements,
                 hub: HubLink, hub_bic: str, bic: str, directory: Directory,
                 channel: Channel, deadline_s: int, batch_max: int,
                 crash_at: str | None = None) -> None:
        self._database = database
        self._clock = clock
        self._movements = movements
        self._hub = hub
        self._hub_bic = hub_bic
        self._bic = bic
        self._directory = directory
        self._channel = channel
        self._deadline_s = deadline_s
        self._batch_max = batch_max
        self._crash = CrashPoints(crash_at, prefix="clearing.payer.")
        # The lane's (turn): MsgId -> when it last left (monotonic); what is in flight.
        self._sent_at: dict[str, float] = {}
        self._in_flight: set[str] = set()
        self._lock = threading.Lock()
        self._flights: ThreadPoolExecutor | None = None
        self._broken: InvariantViolation | None = None
        self.landed: Callable[[], None] = lambda: None  # an answer came: wake the lane

    def run_due(self) -> int:
        """Reserve what is new, then send every unfinished message; the number of
        movements settled."""
        self.reserve()
        return self._send_unfinished()

    def turn(self) -> bool:
        """One run of the link's lane (services/maintenance.Lane), woken by every new
        transfer out and by every answer: up to ``IN_FLIGHT_MAX`` messages travel at
        once, so what is new leaves while earlier ones wait on the network; an unfinished
        one (the hub said PDNG, or did not answer) is sent again ``RESEND_AFTER_S`` after
        it last left from here (run_due sends every one each time). True when it took a
        whole batch and has room for another, so more may be waiting."""
        if self._broken is not None:
            raise self._broken  # a flight broke an invariant: the lane stops the process
        with self._lock:
            if len(self._in_flight) >= IN_FLIGHT_MAX:
                return False  # a landing wakes the lane
        msg_id, taken = self._reserve()
        now = time.monotonic()
        unfinished = self.unfinished()
        with self._lock:
            known = dict.fromkeys(([msg_id] if msg_id is not None else []) + unfinished)
            due = [m for m in known if m not in self._in_flight
                   and now - self._sent_at.get(m, -RESEND_AFTER_S) >= RESEND_AFTER_S]
            self._sent_at = {m: at for m, at in self._sent_at.items()
                             if m in known or m in self._in_flight}
            for m in due:
                self._sent_at[m] = now
                self._in_flight.add(m)
            room = len(self._in_flight) < IN_FLIGHT_MAX
        if due and self._flights is None:
            self._flights = ThreadPoolExecutor(max_workers=IN_FLIGHT_MAX,
                                               thread_name_prefix="clearing-out")
        for m in due:
            assert self._flights is not None
            self._flights.submit(self._fly, m)
        return taken >= self._batch_max and room

    def _fly(self, msg_id: str) -> None:
        try:
            self.send(msg_id)
        except HubUnreachable as down:
            log.info("clearing.hub_unreachable", msg_id=msg_id, error=str(down)[:200])
        except InvariantViolation as broken:
            self._broken = broken
        except Exception:  # logged; the message is sent again later
            log.exception("clearing.send_failed", msg_id=msg_id)
        finally:
            with self._lock:
                self._in_flight.discard(msg_id)
            self.landed()

    def close(self) -> None:
        """Wait for the messages in flight (the lane has stopped)."""
        if self._flights is not None:
            self._flights.shutdown(wait=True)
            self._flights = None

    def _send_unfinished(self) -> int:
        return self._send_each(self.unfinished())

    def _send_each(self, msg_ids: list[str]) -> int:
        settled = 0
        for msg_id in msg_ids:
            try:
                settled += self.send(msg_id)
            except HubUnreachable as down:
                log.info("clearing.hub_unreachable", msg_id=msg_id, error=str(down)[:200])
                break  # the hub is down: every later message would wait as long
        return settled

    def reserve(self) -> str | None:
        """Step 1: the stored pacs.008 of up to ``batch_max`` new pending outgoing
        movements; its MsgId, or None when there were none (or another run took them)."""
        return self._reserve()[0]

    def _reserve(self) -> tuple[str | None, int]:
        """:meth:`reserve`'s MsgId, and how many movements it took."""
        t, out = bank_transfers, bank_clearing_out
        with self._database.engine.connect() as conn:
            rows = conn.execute(
                select(t, bank_accounts.c.iban.label("debtor_iban"),
                       bank_accounts.c.name.label("debtor_name"))
                .join(bank_accounts, bank_accounts.c.id == t.c.from_account)
                .outerjoin(out, out.c.movement_id == t.c.id)
                .where(t.c.state == str(MovementState.PENDING), t.c.kind.in_(OUTGOING),
                       out.c.movement_id.is_(None))
                .order_by(t.c.created_at, t.c.id).limit(self._batch_max)).mappings().all()
        if not rows:
            return None, 0
        now = self._clock.now_ns()
        deadline = now + self._deadline_s * 1_000_000_000
        transfers: list[CreditTransfer] = []
        unroutable: list[str] = []
        for r in rows:
            creditor_bic = self._directory.bic_for(r["counterparty_iban"] or "")
            if creditor_bic is None:
                unroutable.append(r["id"])
                continue
            uetr = str(uuid.uuid4())
            transfers.append(CreditTransfer(
                uetr=uetr, end_to_end_id=end_to_end_id(r["id"]), tx_id=uetr.replace("-", ""),
                amount=Money(r["amount"], r["currency"]),
                debtor=Party(_name(r["debtor_name"], r["debtor_iban"]), r["debtor_iban"],
                             self._bic),
                creditor=Party(_name(r["counterparty_name"], r["counterparty_iban"]),
                               r["counterparty_iban"], creditor_bic),
                deadline_ns=deadline, channel=self._channel,
                remittance=r["reference"][:REMITTANCE_CHARS_MAX]))
        if unroutable:  # no bank we know holds that IBAN: the money goes back at once
            self._movements.settle_many([MovementSettlement(m, False, str(Reason.RC01))
                                         for m in unroutable], actor=ACTOR)
        if not transfers:
            return None, len(rows)
        message = Pacs008(Header("pwm" + secrets.token_hex(16), now, self._bic,
                                 self._hub_bic), tuple(transfers))
        movement_ids = [r["id"] for r in rows if r["id"] not in unroutable]
        try:
            with self._database.engine.begin() as conn:
                conn.execute(insert(bank_clearing_batches).values(
                    msg_id=message.header.msg_id, receiver=self._hub_bic,
                    document=stored.dumps(message), created_at=now))
                conn.execute(insert(out), [
                    {"movement_id": m, "uetr": tx.uetr, "end_to_end_id": tx.end_to_end_id,
                     "msg_id": message.header.msg_id, "state": SENT, "reason": None,
                     "deadline_ns": deadline, "created_at": now, "updated_at": now}
                    for m, tx in zip(movement_ids, transfers, strict=True)])
        except IntegrityError:  # another run reserved some of them first: it sends them
            return None, 0
        self._crash.reached("clearing.payer.reserved")
        return message.header.msg_id, len(rows)

    def unfinished(self) -> list[str]:
        """The stored messages with a transaction not yet final, oldest first."""
        b, out = bank_clearing_batches, bank_clearing_out
        with self._database.engine.connect() as conn:
            return list(conn.execute(
                select(b.c.msg_id).where(b.c.msg_id.in_(
                    select(out.c.msg_id).where(out.c.state == SENT)))
                .order_by(b.c.created_at, b.c.msg_id).limit(RESENDS_PER_RUN_MAX)).scalars())

    def send(self, msg_id: str) -> int:
        """Step 2 and 3: send the stored message ``msg_id`` (again) and settle by the
        answer; the number settled. Raises :class:`HubUnreachable`."""
        with self._database.engine.connect() as conn:
            document = conn.execute(select(bank_clearing_batches.c.document).where(
                bank_clearing_batches.c.msg_id == msg_id)).scalar_one()
        answer = self._hub.send(stored.loads(document))
        self._crash.reached("clearing.payer.sent")
        return self.settle(finals(answer))

    def settle(self, statuses: Iterable[Final]) -> int:
        """Post (ACSC) or void (RJCT) the movements of our transactions among
        ``statuses``, each once; the number settled now. Others' UETRs are ignored."""
        wanted = {f.uetr: f for f in statuses}
        if not wanted:
            return 0
        with self._database.engine.connect() as conn:
            rows = conn.execute(select(bank_clearing_out.c.uetr, bank_clearing_out.c.movement_id)
                                .where(bank_clearing_out.c.uetr.in_(list(wanted)),
                                       bank_clearing_out.c.state == SENT)).all()
        now = self._clock.now_ns()
        orders = []
        for uetr, movement_id in rows:
            f = wanted[uetr]
            post = f.status is Status.ACSC
            reason = None if post else (f.reason or str(Reason.NARR))
            also = [(_FINISH, {"u": uetr, "was": SENT, "state": SETTLED if post else REJECTED,
                               "reason": reason, "updated_at": now})]
            if not post and movement_id.startswith(PREFIX):  # a cheque's money, refused
                also.append(bounced_by_network(movement_id, now))
            orders.append(MovementSettlement(movement_id, post, reason, also=tuple(also)))
        done: list[MovementResult] = self._movements.settle_many(orders, actor=ACTOR)
        settled = sum(r.created for r in done)
        if settled:  # a status told again (already settled here) settles nothing: no step
            self._crash.reached("clearing.payer.settled")
        for order, result in zip(orders, done, strict=True):
            if not order.post and result.created:
                log.info("clearing.rejected", movement=order.movement_id, reason=order.reason)
        return settled


def finals(answer: Message | None) -> list[Final]:
    """The final statuses in a hub's answer (a pacs.002); none in anything else."""
    if not isinstance(answer, Pacs002):
        return []
    return [Final(s.uetr, s.status, None if s.reason is None else str(s.reason))
            for s in answer.statuses if s.status in (Status.ACSC, Status.RJCT)]


def end_to_end_id(movement_id: str) -> str:
    """The movement's id when it fits ISO's Max35Text, else a digest of it: the payer's
    own reference, the same for the same movement."""
    if len(movement_id) <= ID_CHARS_MAX:
        return movement_id
    return "pw" + hashlib.sha256(movement_id.encode()).hexdigest()[:ID_CHARS_MAX - 2]


def _name(name: str | None, iban: str) -> str:
    return (name or iban)[:NAME_CHARS_MAX]
