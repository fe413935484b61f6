"""The clearing hub: a pacs.008's transfers reserved, forwarded and decided; a pacs.009's
liquidity moved; the chores that expire, follow up and notify (decisions 0053, 0055).

A pacs.008 from a participant (or a peer hub), per transaction, in this order:

    route        the next hop, or a refusal (routing.py)
    reserve      ReserveUnit: AM04 when the payer's settlement account is short; a known
                 UETR is answered with its state (DUPL when its fields differ)
                 -- crash point clearing.hub.reserved
    forward      one pacs.008 per next hop, archived with the rows it carries (ForwardUnit),
                 then sent, every hop at once; a stored forward is re-sent as its exact
                 bytes
                 -- crash point clearing.hub.forwarded
    decide       a payee bank's ACCP before the deadline → post; its RJCT → void (its
                 reason); ACCP after the deadline → void AB05. A peer hub's ACSC / RJCT is
                 followed, never overruled; nothing is voided after forwarding to a hub
                 -- crash point clearing.hub.decided
    answer       the caller's pacs.002: ACSC, RJCT (reason) or PDNG per transaction

A pacs.004 (a return) takes the same steps as a transaction of its own, back along the
returned transfer's path: from the party it was paid to, to the party it came from, at
most its amount (hub_returns.py; decision 0060). Its forward is a pacs.004, its status
reports name pacs.004.

Chores: ``expire_due`` voids AB05 what is still reserved past its deadline (never what was
forwarded to a peer hub); ``follow_forwarded`` re-sends to a peer hub what it has not
decided; ``deliver_notifications`` tells payee banks the final status owed to them
(crash point clearing.hub.notified, after delivery, before it is marked delivered).
A settled transfer also owes both sides a booking notification (camt.054), written by
``DecideUnit`` and delivered by ``notices.Notices.deliver_due`` (decision 0062).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from functools import partial
from typing import Any, TypeVar

from sqlalchemy import select, update

from ...adapters.clock import Clock
from ...adapters.store import Database
from ...adapters.store.schema import clearing_outbox, hub_transfers
from ...domain.clearing.messages import (
    CreditTransfer,
    Header,
    Message,
    MessageType,
    Pacs002,
    Pacs004,
    Pacs008,
    Pacs009,
    Reason,
    Return,
    Status,
    TxStatus,
)
from ...domain.errors import DomainError
from ...domain.ledger import Transfer
from ...domain.ledger.chart import TransferCode
from .. import audit
from ..crashpoints import CrashPoints
from ..ledger.accounts import new_account
from ..writepath import GroupWriter
from ..writepath.writer import WAIT_S
from . import archive
from .archive import OUT
from .hub_returns import plan_return, return_sha
from .hub_units import (
    FORWARDED,
    RESERVED,
    DecideUnit,
    ForwardUnit,
    HubRow,
    LiquidityUnit,
    ReserveUnit,
    decide_chain,
    hub_row,
    load_rows,
    pending_transfer,
)
from .peers import Peer, Peers, Role, reserve_account, settlement_account
from .ports import NetPositions, header_of
from .routing import fields_sha, route
from .transport import PeerRefused, PeerUnavailable, Transport, new_msg_id, type_of

NS = 1_000_000_000
RETURN_DEADLINE_S = 30  # a return the payer's bank has not accepted by then is voided AB05
CHORE_ROWS_MAX = 256
NOTIFY_BACKOFF_S_MAX = 60
PEER_DOWN_S = 5
HOPS_AT_ONCE_MAX = 16  # next hops one hub delivers to at once, over every message


Carried = CreditTransfer | Return  # what a hub row forwards: a transfer or a return
M = TypeVar("M", Pacs008, Pacs004, Pacs009)


class Hub:
    def __init__(self, database: Database, *, clock: Clock, writer: GroupWriter,
                 transport: Transport, peers: Peers, net: NetPositions | None = None,
                 crash_at: str | None = None, peer_down_s: int = PEER_DOWN_S) -> None:
        self._database = database
        self._clock = clock
        self._writer = writer
        self._transport = transport
        self._peers = peers
        self._net = net
        self._crash = CrashPoints(crash_at, prefix="clearing.hub.")
        self._peer_down_ns = peer_down_s * NS
        self._down_until: dict[str, int] = {}  # peer hubs that did not answer, until when
        self._hops = ThreadPoolExecutor(max_workers=HOPS_AT_ONCE_MAX,
                                        thread_name_prefix="clearing-hop")
        self.bic = transport.bic
        self.actor = f"clearing:{self.bic}"

    def install(self) -> None:
        """Take pacs.008, pacs.004 and pacs.009 from the transport."""
        self._transport.register(MessageType.PACS_008, self.on_pacs008)
        self._transport.register(MessageType.PACS_004, self.on_pacs004)
        self._transport.register(MessageType.PACS_009, self.on_pacs009)

    # -- pacs.008 ------------------------------------------------------------------------

    def _checked(self, message: Message, expected: type[M], sender: str) -> tuple[M, Peer]:
        """``message`` as the type its handler takes, and its sender's peer."""
        if not isinstance(message, expected):
            raise DomainError("message_type_unsupported", f"a {expected.__name__} was expected")
        peer = self._peers.get(sender)
        if peer is None:
            raise DomainError("message_sender_unknown", "the sender is not a known peer")
        return message, peer

    def on_pacs008(self, message: Message, sender: str) -> Pacs002:
        message, payer = self._checked(message, Pacs008, sender)
        units = self._reserve(message, payer)
        return self._carry(units, {u.plan.tx.uetr: u.plan.tx for u in units}, message, sender)

    def _carry(self, units: list[ReserveUnit], values: dict[str, Carried], message: Message,
               sender: str) -> Pacs002:
        """After reserving: forward what is new, decide on the answers, and answer the
        sender with each transaction's status now."""
        self._crash.reached("clearing.hub.reserved")
        rows = {u.row.uetr: u.row for u in units if u.row is not None and not u.duplicate}
        self._advance([r for r in rows.values() if r.state in (RESERVED, FORWARDED)],
                      {uetr: values[uetr] for uetr in rows})
        with self._database.engine.connect() as conn:
            now_rows = load_rows(conn, list(rows))
        statuses = []
        for unit in units:
            tx = unit.plan.tx
            if unit.duplicate or unit.row is None:
                statuses.append(TxStatus(tx.uetr, tx.end_to_end_id, tx.tx_id, Status.RJCT,
                                         Reason.DUPL, "this UETR was sent with other fields"))
            else:
                statuses.append(now_rows[tx.uetr].status())
        header = header_of(message)
        return Pacs002(Header(new_msg_id(), self._clock.now_ns(), self.bic, sender),
                       header.msg_id, type_of(message), tuple(statuses))

    # -- pacs.004 ------------------------------------------------------------------------

    def on_pacs004(self, message: Message, sender: str) -> Pacs002:
        """Returns: each back along its transfer's path, two-phase (hub_returns.py)."""
        message, returner = self._checked(message, Pacs004, sender)
        now = self._clock.now_ns()
        down = frozenset(b for b, until in self._down_until.items() if until > now)
        with self._database.engine.connect() as conn:
            originals = {row["uetr"]: row for row in conn.execute(select(hub_transfers).where(
                hub_transfers.c.uetr.in_([r.original_uetr for r in message.returns])))
                .mappings()}
        units: list[ReserveUnit] = []
        values: dict[str, Carried] = {}
        for r in message.returns:
            original = originals.get(r.original_uetr)
            back = self._peers.get(original["payer"]) if original is not None else None
            plan = plan_return(r, original, sender=returner, back=back, now_ns=now,
                               down=down, deadline_ns=now + RETURN_DEADLINE_S * NS)
            chain: tuple[Transfer, ...] = ()
            accounts: tuple[Any, ...] = ()
            if plan.reason is None and plan.payee is not None:
                chain = (pending_transfer(plan),)
                accounts = tuple(new_account(settlement_account(b, r.amount.currency))
                                 for b in (plan.payer, plan.payee))
            units.append(ReserveUnit(plan, return_sha(r, sender), message.header.msg_id,
                                     self.actor, chain, accounts,
                                     original_uetr=r.original_uetr))
            values[plan.tx.uetr] = r
        return self._carry(self._run_all(units), values, message, sender)

    def _reserve(self, message: Pacs008, payer: Peer) -> list[ReserveUnit]:
        now = self._clock.now_ns()
        down = frozenset(b for b, until in self._down_until.items() if until > now)
        units = []
        known: dict[str, Peer | None] = {}  # read once per message: a few BICs, many txs

        def peer(bic: str) -> Peer | None:
            if bic not in known:
                known[bic] = self._peers.get(bic)
            return known[bic]

        for tx in message.transfers:
            creditor = peer(tx.creditor.agent)
            via = peer(creditor.via) if creditor and creditor.via else None
            plan = route(tx, payer=payer, creditor=creditor, via=via, now_ns=now, down=down,
                         net_available=self._net is not None)
            chain: tuple[Transfer, ...] = ()
            accounts: tuple[Any, ...] = ()
            if plan.reason is None and plan.payee is not None and plan.channel.value == "RTGS":
                chain = (pending_transfer(plan),)
                accounts = tuple(new_account(settlement_account(b, tx.amount.currency))
                                 for b in (plan.payer, plan.payee))
            units.append(ReserveUnit(plan, fields_sha(tx), message.header.msg_id, self.actor,
                                     chain, accounts, net=self._net))
        return self._run_all(units)

    def _advance(self, rows: Sequence[HubRow], txs: dict[str, Carried]) -> None:
        """Forward what is not decided yet, one message per next hop, and act on the
        answers; a row already forwarded is re-sent as its stored message."""
        stored: dict[str, list[HubRow]] = defaultdict(list)
        fresh: dict[tuple[str, bool], list[HubRow]] = defaultdict(list)
        now = self._clock.now_ns()
        for row in rows:
            if row.payee is None:
                continue
            if row.forward_msg_id is not None:
                stored[row.forward_msg_id].append(row)
            elif row.state == RESERVED and row.deadline_ns > now and row.uetr in txs:
                fresh[(row.payee, row.original_uetr is not None)].append(row)
        hops: list[Callable[[], None]] = []
        for msg_id, group in stored.items():
            with self._database.engine.connect() as conn:
                sent = archive.find(conn, direction=OUT, sender=self.bic, msg_id=msg_id)
            if sent is not None:
                hops.append(partial(self._follow, group,
                                    lambda s=sent: self._transport.resend(s)))
        hops += [partial(self._forward, payee, group, txs)
                 for (payee, _), group in fresh.items()]
        self._each_hop(hops)

    def _each_hop(self, hops: list[Callable[[], None]]) -> None:
        """Every next hop at once: a message's answer waits for its slowest hop (a peer
        hub's region), not for the sum of them, as it did one after another."""
        if len(hops) <= 1:
            for hop in hops:
                hop()
            return
        for done in [self._hops.submit(hop) for hop in hops]:
            done.result()  # a hop's failure is the message's, as it was in turn

    def close(self) -> None:
        self._hops.shutdown(wait=True)

    def _forward(self, payee: str, group: list[HubRow], txs: dict[str, Carried]) -> None:
        """One message to ``payee``: a pacs.008 of transfers, or a pacs.004 of returns."""
        to_hub = self._is_hub(payee)
        header = Header(new_msg_id(), self._clock.now_ns(), self.bic, payee)
        carried = [txs[r.uetr] for r in group]
        returns = tuple(c for c in carried if isinstance(c, Return))
        transfers = tuple(c for c in carried if isinstance(c, CreditTransfer))
        message: Message = Pacs004(header, returns) if returns else Pacs008(header, transfers)
        out = self._transport.prepare(payee, message)
        self._writer.execute(ForwardUnit(tuple(r.uetr for r in group), to_hub, out.row))
        self._crash.reached("clearing.hub.forwarded")
        self._follow(group, lambda: self._transport.deliver(payee, out.body, out.signature))

    def _follow(self, group: list[HubRow], send: Any) -> None:
        """Send, then decide (payee bank) or follow (peer hub) each answered transaction."""
        payee = group[0].payee or ""
        to_hub = self._is_hub(payee)
        try:
            answer = send()
        except (PeerUnavailable, PeerRefused):
            if to_hub:
                self._down_until[payee] = self._clock.now_ns() + self._peer_down_ns
            return  # still in flight: the payer's retry, or a chore, sends it again
        self._down_until.pop(payee, None)
        if not isinstance(answer, Pacs002):
            return
        by_uetr = {r.uetr: r for r in group}
        now = self._clock.now_ns()
        units = []
        for status in answer.statuses:
            row = by_uetr.get(status.uetr)
            if row is None:
                continue
            decision = _decision(status, row, now=now, to_hub=to_hub)
            if decision is not None:
                was = FORWARDED if to_hub else RESERVED
                units.append(self._decide_unit(row, was, *decision, notify=not to_hub))
        self._decide(units)

    def _decide_unit(self, row: HubRow, was: str, post: bool, reason: Reason | None, *,
                     notify: bool) -> DecideUnit:
        return DecideUnit(row.uetr, frozenset({was}), post, reason, notify, self.actor,
                          decide_chain(row.uetr, post=post) if row.channel == "RTGS" else (),
                          net=self._net)

    def _decide(self, units: list[DecideUnit]) -> None:
        self._run_all(units)
        if units:
            self._crash.reached("clearing.hub.decided")

    def _is_hub(self, bic: str) -> bool:
        peer = self._peers.get(bic)
        return peer is not None and peer.role is Role.HUB

    def _run_all(self, units: Sequence[Any]) -> list[Any]:
        """Submit every unit, then wait: one group commit for a message's transactions."""
        futures: list[Future[Any]] = [self._writer.submit(u) for u in units]
        return [f.result(timeout=WAIT_S) for f in futures]

    # -- pacs.009 ------------------------------------------------------------------------

    def on_pacs009(self, message: Message, sender: str) -> Pacs002:
        """Liquidity between the sender's own reserve and settlement accounts, nothing
        else: a participant can neither make money nor move another's."""
        message, peer = self._checked(message, Pacs009, sender)
        units: list[LiquidityUnit | TxStatus] = []
        for tx in message.transfers:
            ok = TxStatus(tx.uetr, tx.end_to_end_id, tx.instr_id, Status.ACSC)
            into = tx.debtor_agent == self.bic and tx.creditor_agent == sender
            out = tx.debtor_agent == sender and tx.creditor_agent == self.bic
            if not (into or out) or peer.role is Role.CORRESPONDENT:
                units.append(TxStatus(ok.uetr, ok.end_to_end_id, ok.tx_id, Status.RJCT,
                                      Reason.NARR, "a pacs.009 moves only the sender's own "
                                      "money between its reserve and settlement accounts"))
                continue
            if tx.amount.currency != peer.currency or tx.amount.amount_minor <= 0:
                units.append(TxStatus(ok.uetr, ok.end_to_end_id, ok.tx_id, Status.RJCT,
                                      Reason.AM03 if tx.amount.amount_minor else Reason.AM02))
                continue
            reserve = reserve_account(sender, tx.amount.currency)
            settle = settlement_account(sender, tx.amount.currency)
            debit, credit = (reserve, settle) if into else (settle, reserve)
            transfer = Transfer(f"liq.{sender}.{tx.uetr}", debit.id, credit.id,
                                tx.amount.amount_minor, debit.ledger,
                                int(TransferCode.CLEARING_LIQUIDITY))
            event = audit.entry(at_ns=self._clock.now_ns(), actor=self.actor,
                                action="clearing.liquidity_" + ("in" if into else "out"),
                                object_id=sender, detail={"uetr": tx.uetr,
                                                          "amount": tx.amount.amount_minor,
                                                          "currency": tx.amount.currency})
            units.append(LiquidityUnit(
                ok, event, (transfer,), (new_account(debit), new_account(credit)),
                None if into else (sender, tx.amount.currency, tx.amount.amount_minor),
                self._net))
        done = iter(self._run_all([u for u in units if isinstance(u, LiquidityUnit)]))
        statuses = tuple(u if isinstance(u, TxStatus) else next(done)
                         for u in units)
        return Pacs002(Header(new_msg_id(), self._clock.now_ns(), self.bic, sender),
                       message.header.msg_id, MessageType.PACS_009, statuses)

    # -- chores --------------------------------------------------------------------------

    def expire_due(self) -> int:
        """Void AB05 what is still reserved past its deadline. What was forwarded to a peer
        hub is ``forwarded``, not ``reserved``: only that hub decides it."""
        now = self._clock.now_ns()
        with self._database.engine.connect() as conn:
            rows = [hub_row(r) for r in conn.execute(
                select(hub_transfers).where(hub_transfers.c.state == RESERVED,
                                            hub_transfers.c.deadline_ns < now)
                .order_by(hub_transfers.c.deadline_ns).limit(CHORE_ROWS_MAX)).all()]
        units = [self._decide_unit(r, RESERVED, False, Reason.AB05, notify=True) for r in rows]
        self._decide(units)
        return sum(1 for u in units if u.changed)

    def follow_forwarded(self) -> int:
        """Ask peer hubs again about what they have not decided (after their outage)."""
        with self._database.engine.connect() as conn:
            rows = [hub_row(r) for r in conn.execute(
                select(hub_transfers).where(hub_transfers.c.state == FORWARDED)
                .order_by(hub_transfers.c.updated_at).limit(CHORE_ROWS_MAX)).all()]
        self._advance(rows, {})
        return len(rows)

    def deliver_notifications(self) -> int:
        """Send each payee bank the final statuses owed to it, one pacs.002 per original
        message; what is not delivered is retried later, backing off up to a minute."""
        now = self._clock.now_ns()
        with self._database.engine.connect() as conn:
            due = conn.execute(select(clearing_outbox).where(
                clearing_outbox.c.state == "pending", clearing_outbox.c.next_at_ns <= now)
                .order_by(clearing_outbox.c.next_at_ns).limit(CHORE_ROWS_MAX)).all()
        groups: dict[tuple[str, str], list[Any]] = defaultdict(list)
        for r in due:
            groups[(r._mapping["receiver"], r._mapping["original_msg_id"])].append(r._mapping)
        delivered = 0
        for (receiver, original), owed in groups.items():
            statuses = tuple(TxStatus(o["uetr"], o["end_to_end_id"], o["tx_id"],
                                      Status(o["status"]),
                                      Reason(o["reason"]) if o["reason"] else None)
                             for o in owed)
            report = Pacs002(Header(new_msg_id(), now, self.bic, receiver), original,
                             MessageType(owed[0]["original_type"] or MessageType.PACS_008),
                             statuses)
            try:
                self._transport.send(receiver, report)
            except (PeerUnavailable, PeerRefused):
                self._notified(receiver, owed, delivered=False, now=now)
                continue
            self._crash.reached("clearing.hub.notified")
            self._notified(receiver, owed, delivered=True, now=now)
            delivered += len(owed)
        return delivered

    def _notified(self, receiver: str, owed: list[Any], *, delivered: bool, now: int) -> None:
        with self._database.engine.begin() as conn:
            for o in owed:
                attempts = o["attempts"] + 1
                backoff_s = min(2 ** min(attempts, 6), NOTIFY_BACKOFF_S_MAX)
                conn.execute(update(clearing_outbox).where(
                    clearing_outbox.c.uetr == o["uetr"],
                    clearing_outbox.c.receiver == receiver).values(
                    state="delivered" if delivered else "pending", attempts=attempts,
                    next_at_ns=now + backoff_s * NS, updated_at=now))


def _decision(status: TxStatus, row: HubRow, *, now: int,
              to_hub: bool) -> tuple[bool, Reason | None] | None:
    """(post, reason) for one answered transaction, or None: not decided yet."""
    if status.status is Status.RJCT:
        return False, status.reason or Reason.NARR
    if to_hub:  # a peer hub decides; this hub follows its final answer only
        return (True, None) if status.status is Status.ACSC else None
    if status.status in (Status.ACCP, Status.ACSC):
        return (True, None) if now <= row.deadline_ns else (False, Reason.AB05)
    return None
