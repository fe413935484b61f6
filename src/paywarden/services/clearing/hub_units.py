"""The hub's units of work on the group-commit write path (services/writepath).

Each reads the ``hub_transfers`` row of its UETR under the writer's lock (or what an
earlier unit of the same batch made of it: ``batch.cache["hub_rows"]``), so that a
reservation, a forward and a decision of one UETR never interleave:

    ReserveUnit   a new UETR: the pending RTGS transfer settlement(payer) → settlement(payee)
                  and the row ``reserved``; refused AM04 when the payer's settlement
                  account is short (the row ``rejected``, nothing reserved); a known UETR is
                  answered with its row (``duplicate`` when the fields differ)
    ForwardUnit   the forwarding pacs.008 archived before it leaves, the rows marked with it
                  (``forwarded`` when the next hop is a peer hub: from then on only that hub
                  decides)
    DecideUnit    post or void the pending transfer, the row ``settled`` or ``rejected``, and
                  when the payee bank was told of it, the final status owed to it (outbox)
    LiquidityUnit a pacs.009: the sender's reserve ↔ its own settlement account
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

from sqlalchemy import Connection, bindparam, insert, select, update

from ...adapters.store.schema import clearing_messages, clearing_outbox, hub_transfers
from ...domain.clearing.messages import Channel, MessageType, Reason, Status, TxStatus
from ...domain.errors import DomainError
from ...domain.ledger import Transfer, TransferFlags, TransferResult
from ...domain.ledger.chart import TransferCode
from .. import audit
from ..ledger.engine import NewAccount
from ..writepath import Batch, LedgerRefused
from . import notices
from .peers import settlement_account
from .ports import NetPositions
from .routing import Plan

RESERVED = "reserved"
FORWARDED = "forwarded"
SETTLED = "settled"
REJECTED = "rejected"
FINAL_STATES = frozenset({SETTLED, REJECTED})
PENDING_PREFIX = "hub."  # the pending ledger transfer of a UETR: hub.<uetr>


@dataclass(frozen=True)
class HubRow:
    uetr: str
    end_to_end_id: str
    tx_id: str
    payer: str
    payee: str | None
    amount: int
    currency: str
    channel: str
    state: str
    reason: str | None
    deadline_ns: int
    fields_sha: str
    forward_msg_id: str | None
    original_uetr: str | None = None  # a return: the transfer it returns

    def status(self) -> TxStatus:
        if self.state == SETTLED:
            return TxStatus(self.uetr, self.end_to_end_id, self.tx_id, Status.ACSC)
        if self.state == REJECTED:
            return TxStatus(self.uetr, self.end_to_end_id, self.tx_id, Status.RJCT,
                            Reason(self.reason or Reason.NARR))
        return TxStatus(self.uetr, self.end_to_end_id, self.tx_id, Status.PDNG)


def hub_row(r: Any) -> HubRow:
    m = r._mapping
    return HubRow(m["uetr"], m["end_to_end_id"], m["tx_id"], m["payer"], m["payee"],
                  m["amount"], m["currency"], m["channel"], m["state"], m["reason"],
                  m["deadline_ns"], m["fields_sha"], m["forward_msg_id"], m["original_uetr"])


READ_CHUNK = 500  # UETRs in one IN (...): under SQLite's bound on parameters


def load_rows(conn: Connection, uetrs: list[str]) -> dict[str, HubRow]:
    if not uetrs:
        return {}
    rows = conn.execute(select(hub_transfers).where(hub_transfers.c.uetr.in_(uetrs))).all()
    return {r._mapping["uetr"]: hub_row(r) for r in rows}


def _current(batch: Batch, uetr: str) -> HubRow | None:
    """The row of ``uetr`` as this batch's earlier units left it. The first call reads
    every row the batch's units name, in a few statements, instead of one each."""
    rows: dict[str, HubRow] | None = batch.cache.get("hub_rows")
    if rows is None:
        named = list(dict.fromkeys(u for unit in batch.units for u in _uetrs_of(unit)))
        rows = {}
        for start in range(0, len(named), READ_CHUNK):
            rows.update(load_rows(batch.conn, named[start:start + READ_CHUNK]))
        batch.cache["hub_rows"] = rows
        batch.cache["hub_rows_read"] = set(named)
    if uetr not in rows and uetr not in batch.cache["hub_rows_read"]:
        found = load_rows(batch.conn, [uetr]).get(uetr)
        if found is not None:
            rows[uetr] = found
    return rows.get(uetr)


def _uetrs_of(unit: Any) -> tuple[str, ...]:
    if isinstance(unit, ReserveUnit):
        return (unit.plan.tx.uetr,)
    if isinstance(unit, ForwardUnit):
        return unit.uetrs
    if isinstance(unit, DecideUnit):
        return (unit.uetr,)
    return ()


def _remember(batch: Batch, row: HubRow) -> None:
    batch.cache.setdefault("hub_rows", {})[row.uetr] = row


def pending_transfer(plan: Plan) -> Transfer:
    tx = plan.tx
    payer = settlement_account(plan.payer, tx.amount.currency)
    payee = settlement_account(plan.payee or "", tx.amount.currency)
    return Transfer(PENDING_PREFIX + tx.uetr, payer.id, payee.id, tx.amount.amount_minor,
                    payer.ledger, int(TransferCode.CLEARING_GROSS), int(TransferFlags.PENDING))


INSERT = insert(hub_transfers)
SET_STATE = update(hub_transfers).where(hub_transfers.c.uetr == bindparam("u")).values(
    state=bindparam("state"), reason=bindparam("reason"), updated_at=bindparam("at"))
SET_FORWARD = update(hub_transfers).where(hub_transfers.c.uetr == bindparam("u")).values(
    state=bindparam("state"), forward_msg_id=bindparam("fwd"), updated_at=bindparam("at"))
OWE = insert(clearing_outbox)
ARCHIVE = insert(clearing_messages)


@dataclass
class ReserveUnit:
    plan: Plan
    sha: str
    msg_id: str
    actor: str
    chain: tuple[Transfer, ...] = ()
    accounts: tuple[NewAccount, ...] = ()
    original_uetr: str | None = None  # a return: the transfer it returns
    net: NetPositions | None = None  # the net windows, for a transfer on MPNS
    savepoint: bool = False
    row: HubRow | None = field(default=None, init=False)
    duplicate: bool = field(default=False, init=False)

    def run(self, batch: Batch) -> None:
        tx = self.plan.tx
        known = _current(batch, tx.uetr)
        if known is not None:
            self.row, self.duplicate = known, known.fields_sha != self.sha
            return
        reason = self.plan.reason
        if reason is None and self.original_uetr is not None \
                and _returned(batch, self.original_uetr):
            reason = Reason.DUPL  # another return of this transfer is live or done
        if reason is None and self.net is not None and self.plan.channel is Channel.NET \
                and not self.net.reserve(batch, tx.uetr, self.plan.payer, self.plan.payee or "",
                                         tx.amount.amount_minor, tx.amount.currency):
            reason = Reason.AM04  # over the payer's net debit cap
        if reason is None and self.chain:
            try:
                batch.post(self.chain)
            except LedgerRefused as refused:
                if TransferResult.EXCEEDS_CREDITS not in refused.results:
                    raise
                reason = Reason.AM04
        now = batch.now_ns
        row = HubRow(tx.uetr, tx.end_to_end_id, tx.tx_id, self.plan.payer, self.plan.payee,
                     tx.amount.amount_minor, tx.amount.currency, str(self.plan.channel),
                     RESERVED if reason is None else REJECTED,
                     None if reason is None else str(reason), tx.deadline_ns, self.sha, None,
                     self.original_uetr)
        if self.original_uetr is not None and reason is None:
            batch.cache.setdefault("returned", set()).add(self.original_uetr)
        batch.later(INSERT, {**row.__dict__, "msg_id": self.msg_id,
                             "debtor_agent": tx.debtor.agent,
                             "creditor_agent": tx.creditor.agent, "created_at": now,
                             "updated_at": now})
        _remember(batch, row)
        self.row = row
        batch.audit(audit.entry(at_ns=now, actor=self.actor, action="clearing.hub_" + (
            "reserved" if reason is None else "refused"), object_id=tx.uetr, detail={
                "amount": row.amount, "currency": row.currency, "payer": row.payer,
                "payee": row.payee, "channel": row.channel, "reason": row.reason}))

    def result(self) -> ReserveUnit:
        return self


def _returned(batch: Batch, original_uetr: str) -> bool:
    """A return of ``original_uetr`` that is not rejected: in this batch, or stored."""
    if original_uetr in batch.cache.get("returned", ()):
        return True
    return batch.conn.execute(select(hub_transfers.c.uetr).where(
        hub_transfers.c.original_uetr == original_uetr,
        hub_transfers.c.state != REJECTED).limit(1)).first() is not None


@dataclass
class ForwardUnit:
    """Archive the forwarding message and mark its rows; a row that was decided meanwhile
    (its deadline passed) is owed its final status at once: the payee bank will see it."""

    uetrs: tuple[str, ...]
    to_hub: bool
    message_row: dict[str, Any]
    chain: tuple[()] = ()
    accounts: tuple[NewAccount, ...] = ()
    savepoint: bool = False

    def run(self, batch: Batch) -> None:
        batch.later(ARCHIVE, self.message_row)
        msg_id = str(self.message_row["msg_id"])
        receiver = str(self.message_row["receiver"])
        for uetr in self.uetrs:
            row = _current(batch, uetr)
            if row is None:
                raise DomainError("not_found", f"no hub transfer {uetr}")
            if row.state in FINAL_STATES:
                batch.later(OWE, _owed(row, receiver, msg_id, batch.now_ns))
                continue
            state = FORWARDED if self.to_hub else row.state
            batch.later(SET_FORWARD, {"u": uetr, "state": state, "fwd": msg_id,
                                      "at": batch.now_ns}, counted=True)
            _remember(batch, replace(row, state=state, forward_msg_id=msg_id))

    def result(self) -> None:
        return None


def _owed(row: HubRow, receiver: str, msg_id: str, now_ns: int) -> dict[str, Any]:
    status = row.status()
    return {"uetr": row.uetr, "receiver": receiver, "original_msg_id": msg_id,
            "end_to_end_id": row.end_to_end_id, "tx_id": row.tx_id,
            "status": str(status.status),
            "reason": None if status.reason is None else str(status.reason),
            "original_type": None if row.original_uetr is None else str(MessageType.PACS_004),
            "state": "pending", "attempts": 0, "next_at_ns": now_ns, "created_at": now_ns,
            "updated_at": now_ns}


@dataclass
class DecideUnit:
    """Post or void once: a row no longer in ``was`` is left as it is (``changed`` False)."""

    uetr: str
    was: frozenset[str]
    post: bool
    reason: Reason | None
    notify: bool  # this hub decided for a payee bank it forwarded to: tell it the outcome
    actor: str
    chain: tuple[Transfer, ...] = ()
    accounts: tuple[NewAccount, ...] = ()
    net: NetPositions | None = None  # the net windows: an MPNS position commits or goes
    savepoint: bool = False
    row: HubRow | None = field(default=None, init=False)
    changed: bool = field(default=False, init=False)

    def run(self, batch: Batch) -> None:
        row = _current(batch, self.uetr)
        self.row = row
        if row is None or row.state not in self.was:
            return
        if row.channel == str(Channel.RTGS):
            batch.post(self.chain)
        elif self.net is not None and row.channel == str(Channel.NET):
            (self.net.commit if self.post else self.net.release)(batch, row.uetr)
        state = SETTLED if self.post else REJECTED
        reason = None if self.post else str(self.reason or Reason.NARR)
        batch.later(SET_STATE, {"u": row.uetr, "state": state, "reason": reason,
                                "at": batch.now_ns}, counted=True)
        decided = replace(row, state=state, reason=reason)
        if self.post and row.payee is not None:
            for notice in notices.owed(uetr=row.uetr, payer=row.payer, payee=row.payee,
                                       amount=row.amount, currency=row.currency,
                                       now_ns=batch.now_ns):
                batch.later(notices.OWE, notice)
        if self.notify and row.forward_msg_id is not None and row.payee is not None:
            batch.later(OWE, _owed(decided, row.payee, row.forward_msg_id, batch.now_ns))
        _remember(batch, decided)
        self.row, self.changed = decided, True
        batch.audit(audit.entry(at_ns=batch.now_ns, actor=self.actor,
                                action=f"clearing.hub_{state}", object_id=row.uetr,
                                detail={"amount": row.amount, "currency": row.currency,
                                        "reason": reason}))

    def result(self) -> DecideUnit:
        return self


def decide_chain(uetr: str, *, post: bool) -> tuple[Transfer, ...]:
    pending = PENDING_PREFIX + uetr
    flags = TransferFlags.POST_PENDING if post else TransferFlags.VOID_PENDING
    return (Transfer(pending + (".p" if post else ".v"), 0, 0, None, 0, 0, int(flags),
                     pending_id=pending),)


@dataclass
class LiquidityUnit:
    """One pacs.009 transaction between the sender's reserve and settlement accounts."""

    status_ok: TxStatus
    event: Any
    chain: tuple[Transfer, ...]
    accounts: tuple[NewAccount, ...] = ()
    withdrawal: tuple[str, str, int] | None = None  # out of settlement: (bic, currency, amount)
    net: NetPositions | None = None  # whose net exposure the settlement balance must cover
    savepoint: bool = False
    status: TxStatus | None = field(default=None, init=False)

    def run(self, batch: Batch) -> None:
        known = any(t.id in batch.ledger.book.transfers for t in self.chain)
        if self.withdrawal is not None and self.net is not None and not known:
            # a retry of a withdrawal made is answered by the ledger, as the first time
            bic, currency, amount = self.withdrawal
            try:
                self.net.check_withdrawal(batch, bic, currency, amount)
            except DomainError as exc:
                if exc.code != "net_exposure_uncovered":
                    raise
                self.status = replace(self.status_ok, status=Status.RJCT, reason=Reason.AM04,
                                      detail="the settlement account must keep the net "
                                      "positions covered")
                return
        try:
            batch.post(self.chain)
        except LedgerRefused as refused:
            results = set(refused.results)
            reason = (None if results == {TransferResult.EXISTS}
                      else Reason.DUPL if TransferResult.EXISTS_WITH_DIFFERENT_FIELDS in results
                      else Reason.AM04 if TransferResult.EXCEEDS_CREDITS in results
                      else Reason.NARR)
            self.status = (self.status_ok if reason is None
                           else replace(self.status_ok, status=Status.RJCT, reason=reason))
            return
        self.status = self.status_ok
        batch.audit(self.event)

    def result(self) -> TxStatus:
        if self.status is None:
            raise DomainError("message_invalid", "the liquidity transfer produced no status")
        return self.status
