"""Settlement-account notifications (camt.054, decision 0062): a hub tells each
participant of every booking on its settlement account as it happens; a participant (a
bank, or a peer hub for its correspondent account) keeps what it was told.

A hub owes a notice for each side of a transfer it settles: a debit to the party it came
from, a credit to the party it paid. The two rows are written by the unit that settles
(:func:`owed`, in ``hub_units.DecideUnit``), so a settled transfer is never left
unannounced. :meth:`Notices.deliver_due` sends what is owed, up to
``ENTRIES_PER_MESSAGE`` bookings per camt.054, and deletes them once delivered (the
message archive keeps what was sent); what a peer did not take is sent again, backing
off up to a minute. A crash between sending and marking
(crash point ``clearing.notice.sent``) sends it again, and the receiver keeps each
booking once, by its hub and reference.

The notices are the same bookings the camt.053 statement lists (``statements.py``): a
prompt, not the record. ``paywarden clearing reconcile`` checks both against the node's
own rows.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

import structlog
from sqlalchemy import Connection, delete, func, insert, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from ...adapters.clock import Clock
from ...adapters.store import Database
from ...adapters.store.schema import clearing_notices_in, clearing_notices_out
from ...domain.clearing.messages import Entry, Header, Message, MessageType, Statement
from ...domain.errors import DomainError
from ...domain.money import Money
from ..crashpoints import CrashPoints
from .peers import Peers, Role
from .transport import PeerRefused, PeerUnavailable, Transport, new_msg_id

log = structlog.get_logger(__name__)
NS = 1_000_000_000
PENDING = "pending"  # a row exists while its booking is owed
ENTRIES_PER_MESSAGE = 200
DUE_ROWS_MAX = 2_000
BACKOFF_S_MAX = 60
OWE = insert(clearing_notices_out)


def owed(*, uetr: str, payer: str, payee: str, amount: int, currency: str,
         now_ns: int) -> list[dict[str, Any]]:
    """The two notices a settled transfer owes: a debit to ``payer``, a credit to
    ``payee`` (rows for :data:`OWE`)."""
    return [{"receiver": bic, "reference": uetr, "amount": amount, "currency": currency,
             "credit": credit, "booked_ns": now_ns, "state": PENDING, "attempts": 0,
             "next_at_ns": now_ns, "updated_at": now_ns}
            for bic, credit in ((payer, 0), (payee, 1))]


class Notices:
    def __init__(self, database: Database, *, clock: Clock, transport: Transport,
                 peers: Peers, crash_at: str | None = None) -> None:
        self._database = database
        self._clock = clock
        self._transport = transport
        self._peers = peers
        self._crash = CrashPoints(crash_at, prefix="clearing.notice.")
        self._keep = (pg_insert if database.engine.dialect.name == "postgresql"
                      else sqlite_insert)(clearing_notices_in).on_conflict_do_nothing()

    def install(self) -> None:
        self._transport.register(MessageType.CAMT_054, self.on_camt054)

    # -- a hub ---------------------------------------------------------------------------

    def deliver_due(self) -> int:
        """Send each participant the bookings owed to it; the number delivered."""
        now = self._clock.now_ns()
        with self._database.engine.connect() as conn:
            due = conn.execute(select(clearing_notices_out).where(
                clearing_notices_out.c.state == PENDING,
                clearing_notices_out.c.next_at_ns <= now)
                .order_by(clearing_notices_out.c.next_at_ns).limit(DUE_ROWS_MAX)
            ).mappings().all()
        groups: dict[tuple[str, str], list[Any]] = defaultdict(list)
        for row in due:
            groups[(row["receiver"], row["currency"])].append(row)
        delivered = 0
        for (receiver, currency), rows in groups.items():
            for start in range(0, len(rows), ENTRIES_PER_MESSAGE):
                chunk = rows[start:start + ENTRIES_PER_MESSAGE]
                try:
                    self._transport.send(receiver, self._notification(receiver, currency,
                                                                      chunk, now))
                except (PeerUnavailable, PeerRefused) as exc:
                    log.info("clearing.notice_undelivered", receiver=receiver,
                             detail=exc.detail)
                    self._mark(receiver, rows[start:], delivered=False, now=now)
                    break
                self._crash.reached("clearing.notice.sent")
                self._mark(receiver, chunk, delivered=True, now=now)
                delivered += len(chunk)
        return delivered

    def _notification(self, receiver: str, currency: str, rows: list[Any],
                      now: int) -> Statement:
        entries = tuple(Entry(r["reference"], Money(r["amount"], currency), bool(r["credit"]),
                              r["booked_ns"]) for r in rows)
        return Statement(Header(new_msg_id(), now, self._transport.bic, receiver),
                         new_msg_id(), MessageType.CAMT_054, receiver, currency, 0, 0,
                         min(e.booked_ns for e in entries), max(e.booked_ns for e in entries),
                         entries)

    def _mark(self, receiver: str, rows: list[Any], *, delivered: bool, now: int) -> None:
        """Delivered: the rows go (the camt.054 sent is in the message archive, and the
        statement lists the bookings); else the next attempt is put off."""
        owed = (clearing_notices_out.c.receiver == receiver) \
            & clearing_notices_out.c.reference.in_([r["reference"] for r in rows])
        attempts = max(r["attempts"] for r in rows) + 1
        backoff_s = min(2 ** min(attempts, 6), BACKOFF_S_MAX)
        with self._database.engine.begin() as conn:
            if delivered:
                conn.execute(delete(clearing_notices_out).where(owed))
                return
            conn.execute(update(clearing_notices_out).where(owed).values(
                attempts=attempts, next_at_ns=now + backoff_s * NS, updated_at=now))

    def pending(self) -> int:
        """How many bookings are still owed to participants."""
        with self._database.engine.connect() as conn:
            return int(conn.execute(select(func.count()).select_from(clearing_notices_out)
                                    .where(clearing_notices_out.c.state == PENDING)
                                    ).scalar_one())

    # -- a participant -------------------------------------------------------------------

    def on_camt054(self, message: Message, sender: str) -> None:
        """Keep each booking the hub holding our account notified, once."""
        if not isinstance(message, Statement) or message.kind != MessageType.CAMT_054:
            raise DomainError("message_type_unsupported", "a camt.054 was expected")
        peer = self._peers.get(sender)
        if peer is None or peer.role is not Role.HUB:
            raise DomainError("forbidden", "only the hub holding an account notifies it")
        if message.account != self._transport.bic:
            raise DomainError("forbidden", "a notification names this node's own account")
        if not message.entries:
            return
        now = self._clock.now_ns()
        with self._database.engine.begin() as conn:
            conn.execute(self._keep, [
                {"sender": sender, "reference": e.reference, "amount": e.amount.amount_minor,
                 "currency": e.amount.currency, "credit": int(e.credit),
                 "booked_ns": e.booked_ns, "msg_id": message.header.msg_id,
                 "received_at": now} for e in message.entries])

    def received(self, *, sender: str | None = None, limit: int = 1_000
                 ) -> list[dict[str, Any]]:
        """The bookings notified to this node, newest first."""
        with self._database.engine.connect() as conn:
            return received(conn, sender=sender, limit=limit)


def received(conn: Connection, *, sender: str | None = None,
             limit: int | None = None) -> list[dict[str, Any]]:
    query = select(clearing_notices_in).order_by(clearing_notices_in.c.booked_ns.desc(),
                                                 clearing_notices_in.c.reference)
    if sender is not None:
        query = query.where(clearing_notices_in.c.sender == sender)
    if limit is not None:
        query = query.limit(limit)
    return [{"hub": r["sender"], "reference": r["reference"], "amount": r["amount"],
             "currency": r["currency"], "credit": bool(r["credit"]),
             "booked_ns": r["booked_ns"], "msg_id": r["msg_id"]}
            for r in conn.execute(query).mappings()]
