"""Money from other banks through the clearing network: the payee bank's half of the
two-phase transfer (decision 0053, step 3 and the decider's notice; decision 0056).

The transport (services/clearing/transport.py) verifies, archives and dispatches; these
are its handlers, ``(message, sender BIC) -> answer``, and they accept messages from
this bank's own hub only.

A pacs.008 is answered one status per transaction:

- ACCP: the creditor IBAN is an open account here in the transfer's currency; a
  *pending* credit from the clearing account is reserved (a ``deposit`` movement whose
  id is derived from the UETR, so a repeat finds it) and a ``bank_clearing_in`` row
  written in the same transaction;
- RJCT: AC01 (no such account), AC04 (closed), AC06 (frozen), AM03 (other currency),
  RC01 (not addressed to this bank), AB05 (its deadline passed before it came), DUPL
  (its UETR came before with other fields); stored too, so a repeat is answered alike.

A repeat of a UETR with the same fields answers what was answered the first time (or,
once final, the final status). A pacs.002 from the hub carries the decider's final
status: ACSC posts the pending credit, RJCT voids it, each once. A final status for a
UETR we never saw is kept (RJCT) so that a late copy of its pacs.008 is refused rather
than reserved for ever. Final statuses of our own outgoing transfers are passed on to
:class:`.outgoing.ClearingLink`.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Sequence
from typing import Any

import structlog
from sqlalchemy import bindparam, insert, select, update
from sqlalchemy.exc import IntegrityError

from ....adapters.clock import Clock
from ....adapters.store import Database
from ....adapters.store.schema import (
    bank_accounts,
    bank_clearing_in,
    bank_clearing_out,
    bank_transfers,
)
from ....domain.clearing.messages import (
    REMITTANCE_CHARS_MAX,
    CreditTransfer,
    Header,
    Message,
    MessageType,
    Pacs002,
    Pacs004,
    Pacs008,
    Party,
    Reason,
    Return,
    Status,
    TxStatus,
    return_key,
)
from ....domain.errors import DomainError
from ...banking.accounts import BankAccount, State, by_iban
from ...banking.cheque_collection import PREFIX
from ...banking.movements import (
    Movement,
    MovementKind,
    MovementResult,
    Movements,
    Request,
)
from ...banking.movements import Settlement as MovementSettlement
from ...crashpoints import CrashPoints
from .cheques import collected
from .outgoing import ACTOR, ClearingLink, Final, finals
from .outgoing import REJECTED as OUT_REJECTED

log = structlog.get_logger(__name__)
ACCEPTED, SETTLED, REJECTED = "accepted", "settled", "rejected"
MOVEMENT_PREFIX = "clr_"
RETURN_ACCEPT_S = 3600  # a return has no deadline of its own: the hub voids it in time

# Every value a bind parameter: the write path sends queued rows to the driver by name.
_FINISH = update(bank_clearing_in).where(
    bank_clearing_in.c.uetr == bindparam("u"), bank_clearing_in.c.state == bindparam("was"),
).values(state=bindparam("state"), reason=bindparam("reason"),
         updated_at=bindparam("updated_at"))


class Incoming:
    def __init__(self, database: Database, *, clock: Clock, movements: Movements,
                 outgoing: ClearingLink | None, bic: str, hub_bic: str,
                 crash_at: str | None = None) -> None:
        self._database = database
        self._clock = clock
        self._movements = movements
        self._outgoing = outgoing
        self._bic = bic
        self._hub_bic = hub_bic
        self._crash = CrashPoints(crash_at, prefix="clearing.payee.")

    def on_pacs008(self, message: Message, sender: str) -> Message | None:
        """Check and reserve each transaction; the pacs.002 answering every one."""
        if not isinstance(message, Pacs008):
            raise DomainError("message_type_unexpected", "this handler takes a pacs.008")
        self._from_hub(sender)
        statuses = self._all(message.header.msg_id, message.transfers)
        return Pacs002(Header("pws" + secrets.token_hex(16), self._clock.now_ns(), self._bic,
                              sender), message.header.msg_id, MessageType.PACS_008,
                       tuple(statuses))

    def on_pacs004(self, message: Message, sender: str) -> Message | None:
        """Returns of our own transfers: each a pending credit of the account it was paid
        from, answered like a pacs.008's transaction (decision 0060)."""
        if not isinstance(message, Pacs004):
            raise DomainError("message_type_unexpected", "this handler takes a pacs.004")
        self._from_hub(sender)
        msg_id = message.header.msg_id
        with self._database.engine.connect() as conn:
            paid = {r["uetr"]: r for r in conn.execute(
                select(bank_clearing_out.c.uetr, bank_clearing_out.c.state,
                       bank_transfers.c.amount, bank_transfers.c.currency,
                       bank_transfers.c.counterparty_iban, bank_transfers.c.counterparty_name,
                       bank_accounts.c.iban, bank_accounts.c.name)
                .join(bank_transfers, bank_transfers.c.id == bank_clearing_out.c.movement_id)
                .join(bank_accounts, bank_accounts.c.id == bank_transfers.c.from_account)
                .where(bank_clearing_out.c.uetr.in_([r.original_uetr
                                                     for r in message.returns]),
                       bank_clearing_out.c.original_uetr.is_(None))).mappings()}
        statuses: list[TxStatus] = []
        for r in message.returns:
            tx, refused = self._returned(r, paid.get(r.original_uetr))
            if refused is None:
                statuses += self._all(msg_id, [tx], original_uetr=r.original_uetr)
            else:
                statuses.append(self._reject(msg_id, tx, fields_sha(tx), refused,
                                             original_uetr=r.original_uetr))
        return Pacs002(Header("pws" + secrets.token_hex(16), self._clock.now_ns(), self._bic,
                              sender), msg_id, MessageType.PACS_004, tuple(statuses))

    def _returned(self, r: Return, paid: Any) -> tuple[CreditTransfer, Reason | None]:
        """The return as a credit to the account the transfer was paid from, and why it
        is refused (None: it is not): not one of our transfers, or more than it."""
        uetr = return_key(r.return_id)
        if uetr is None:
            raise DomainError("message_invalid", "a return id is the hex of a UUID v4")
        debtor = Party((paid and paid["counterparty_name"]) or "returned",
                       (paid and paid["counterparty_iban"]) or "", self._hub_bic)
        creditor = Party((paid and (paid["name"] or paid["iban"])) or "returned",
                         (paid and paid["iban"]) or "", self._bic)
        tx = CreditTransfer(uetr, r.original_end_to_end_id or r.return_id, r.return_id,
                            r.amount, debtor, creditor,
                            self._clock.now_ns() + RETURN_ACCEPT_S * 1_000_000_000,
                            remittance=f"Returned ({r.reason}): {r.original_end_to_end_id}"[
                                :REMITTANCE_CHARS_MAX])
        if paid is None or paid["state"] == OUT_REJECTED:
            return tx, Reason.NARR
        if paid["currency"] != r.amount.currency:
            return tx, Reason.AM03
        if not 0 < r.amount.amount_minor <= paid["amount"]:
            return tx, Reason.AM02
        return tx, None

    def on_pacs002(self, message: Message, sender: str) -> Message | None:
        """The decider's final statuses: post or void our pending credits, and settle our
        own outgoing transfers; answered with nothing."""
        if not isinstance(message, Pacs002):
            raise DomainError("message_type_unexpected", "this handler takes a pacs.002")
        self._from_hub(sender)
        statuses = finals(message)
        self.settle_incoming(statuses)
        if self._outgoing is not None:
            self._outgoing.settle(statuses)
        return None

    def settle_incoming(self, statuses: list[Final]) -> int:
        """Post (ACSC) or void (RJCT) the pending credits of these UETRs, once each; the
        number settled now."""
        wanted = {f.uetr: f for f in statuses}
        if not wanted:
            return 0
        with self._database.engine.connect() as conn:
            rows = {r.uetr: r for r in conn.execute(select(bank_clearing_in).where(
                bank_clearing_in.c.uetr.in_(list(wanted))))}
        now = self._clock.now_ns()
        orders = []
        for uetr, f in wanted.items():
            row = rows.get(uetr)
            post = f.status is Status.ACSC
            if row is None and post:  # the decider posted what we never accepted
                log.warning("clearing.settled_unknown", uetr=uetr)
                continue
            if row is None:
                row = self._remember_rejected(uetr, f.reason, now)
            if row is None or row.state != ACCEPTED:
                continue
            reason = None if post else (f.reason or str(Reason.NARR))
            also = [(_FINISH, {"u": uetr, "was": ACCEPTED, "state": SETTLED if post else REJECTED,
                               "reason": reason, "updated_at": now})]
            if post and row.end_to_end_id.startswith(PREFIX):  # a cheque's money: paid
                also.append(collected(row.end_to_end_id, now))
            orders.append(MovementSettlement(row.movement_id, post, reason, also=tuple(also)))
        done: list[MovementResult] = self._movements.settle_many(orders, actor=ACTOR)
        settled = sum(r.created for r in done)
        if settled:  # a status told again (already settled here) settles nothing: no step
            self._crash.reached("clearing.payee.settled")
        return settled

    def _from_hub(self, sender: str) -> None:
        if sender != self._hub_bic:
            raise DomainError("message_sender_not_hub", "a bank takes transfers and their "
                              "statuses from its own hub only")

    def _all(self, msg_id: str, transfers: Sequence[CreditTransfer], *,
             original_uetr: str | None = None) -> list[TxStatus]:
        """Each transaction's status, in order: repeats answered as before, refusals
        stored, and every acceptable one reserved in one submission to the write path."""
        with self._database.engine.connect() as conn:
            known = {r.uetr: r for r in conn.execute(select(bank_clearing_in).where(
                bank_clearing_in.c.uetr.in_([tx.uetr for tx in transfers])))}
        statuses: list[TxStatus | None] = []
        accepting: list[tuple[int, CreditTransfer, str, BankAccount]] = []
        taken: set[str] = set()  # UETRs accepted earlier in this message
        for tx in transfers:
            sha = fields_sha(tx)
            first = known.get(tx.uetr)
            if first is not None or tx.uetr in taken:
                statuses.append(self._repeat(tx, first, sha) if first is not None else None)
                continue
            refused, account = self._refusal(tx)
            if refused is not None or account is None:
                statuses.append(self._reject(msg_id, tx, sha, refused or Reason.AC01,
                                             original_uetr=original_uetr))
                continue
            accepting.append((len(statuses), tx, sha, account))
            taken.add(tx.uetr)
            statuses.append(None)
        accepted = self._accept(msg_id, accepting, original_uetr=original_uetr)
        for (index, tx, sha, _), status in zip(accepting, accepted, strict=True):
            statuses[index] = status
        return [s if s is not None  # else a copy within this message: asked again
                else self._one(msg_id, tx, original_uetr=original_uetr)
                for s, tx in zip(statuses, transfers, strict=True)]

    def _one(self, msg_id: str, tx: CreditTransfer, *,
             original_uetr: str | None = None) -> TxStatus:
        return self._all(msg_id, [tx], original_uetr=original_uetr)[0]

    def _refusal(self, tx: CreditTransfer) -> tuple[Reason | None, BankAccount | None]:
        if tx.creditor.agent != self._bic:
            return Reason.RC01, None
        if tx.deadline_ns <= self._clock.now_ns():
            return Reason.AB05, None
        with self._database.engine.connect() as conn:
            account = by_iban(conn, tx.creditor.iban)
        if account is None:
            return Reason.AC01, None
        if account.state is State.CLOSED:
            return Reason.AC04, account
        if account.state is State.FROZEN:
            return Reason.AC06, account
        if account.currency != tx.amount.currency:
            return Reason.AM03, account
        return None, account

    def _accept(self, msg_id: str,
                accepting: list[tuple[int, CreditTransfer, str, BankAccount]], *,
                original_uetr: str | None) -> list[TxStatus | None]:
        """Reserve a pending credit for each, written together; ACCP, a refusal, or None
        where a concurrent copy of the UETR came first (asked again by the caller)."""
        now = self._clock.now_ns()
        requests = [Request(Movement(
            MOVEMENT_PREFIX + tx.uetr, MovementKind.DEPOSIT, None, None, account.id,
            tx.amount, tx.remittance, counterparty_iban=tx.debtor.iban,
            counterparty_name=tx.debtor.name), precondition=_absent(tx.uetr),
            finish=_remember(tx, msg_id, sha, now, original_uetr), actor=ACTOR, pending=True)
            for _, tx, sha, account in accepting]
        out: list[TxStatus | None] = []
        for (_, tx, sha, _), done in zip(accepting, self._movements.execute_many(requests),
                                         strict=True):
            if not isinstance(done, DomainError):  # made now, or found: asked again
                out.append(_status(tx, Status.ACCP) if done.created else None)
                continue
            reason = {"account_closed": Reason.AC04,
                      "currency_mismatch": Reason.AM03}.get(done.code)
            if reason is not None:  # closed or changed since the check: refused alike
                out.append(self._reject(msg_id, tx, sha, reason, original_uetr=original_uetr))
            elif done.code in _CONCURRENT:
                out.append(None)
            else:
                raise done
        if requests:
            self._crash.reached("clearing.payee.accepted")
        return out

    def _reject(self, msg_id: str, tx: CreditTransfer, sha: str, reason: Reason, *,
                original_uetr: str | None = None) -> TxStatus:
        now = self._clock.now_ns()
        try:
            with self._database.engine.begin() as conn:
                conn.execute(insert(bank_clearing_in).values(
                    uetr=tx.uetr, movement_id=None, end_to_end_id=tx.end_to_end_id,
                    tx_id=tx.tx_id, msg_id=msg_id, fields_sha=sha, state=REJECTED,
                    reason=str(reason), original_uetr=original_uetr, created_at=now,
                    updated_at=now))
        except IntegrityError:  # a concurrent copy came first: answer as it was answered
            return self._one(msg_id, tx, original_uetr=original_uetr)
        return _status(tx, Status.RJCT, reason)

    def _repeat(self, tx: CreditTransfer, first: Any, sha: str) -> TxStatus:
        if first.fields_sha is not None and first.fields_sha != sha:
            return _status(tx, Status.RJCT, Reason.DUPL, "this UETR came before with other "
                           "fields")
        state = first.state
        if state == ACCEPTED:
            return _status(tx, Status.ACCP)
        if state == SETTLED:
            return _status(tx, Status.ACSC)
        known = first.reason in Reason.__members__
        return _status(tx, Status.RJCT, Reason(first.reason) if known else Reason.NARR)

    def _remember_rejected(self, uetr: str, reason: str | None, now: int) -> Any:
        """Keep a rejection that came before its pacs.008; None, or the row its pacs.008
        wrote meanwhile (to be settled like any other)."""
        try:
            with self._database.engine.begin() as conn:
                conn.execute(insert(bank_clearing_in).values(
                    uetr=uetr, state=REJECTED, reason=reason or str(Reason.NARR),
                    created_at=now, updated_at=now))
            return None
        except IntegrityError:
            with self._database.engine.connect() as conn:
                return conn.execute(select(bank_clearing_in).where(
                    bank_clearing_in.c.uetr == uetr)).first()


# A concurrent copy of the UETR (another message, another thread) got there first.
_CONCURRENT = frozenset({"clearing_in_exists", "transfer_in_progress", "movement_conflict"})


# Built once, every value a bind parameter: run for each transaction of every pacs.008,
# a statement built per call cost more to construct and key than to execute.
_IN_ROW = select(bank_clearing_in.c.uetr).where(bank_clearing_in.c.uetr == bindparam("u"))
_INSERT_IN = insert(bank_clearing_in)


def _absent(uetr: str) -> Any:
    """In the movement's transaction: no row for ``uetr`` yet (else nothing is written)."""
    def check(conn: Any) -> None:
        if conn.execute(_IN_ROW, {"u": uetr}).first() is not None:
            raise DomainError("clearing_in_exists", f"transfer {uetr} came before")
    return check


def _remember(tx: CreditTransfer, msg_id: str, sha: str, now: int,
              original_uetr: str | None) -> Any:
    """The ``bank_clearing_in`` row, written with the pending credit."""
    def remember(conn: Any, result: MovementResult) -> None:
        if not result.created:  # a repeat found the movement: its row was written with it
            return
        conn.execute(_INSERT_IN, {
            "uetr": tx.uetr, "movement_id": MOVEMENT_PREFIX + tx.uetr,
            "end_to_end_id": tx.end_to_end_id, "tx_id": tx.tx_id, "msg_id": msg_id,
            "fields_sha": sha, "state": ACCEPTED, "reason": None,
            "original_uetr": original_uetr, "created_at": now, "updated_at": now})
    return remember


def fields_sha(tx: CreditTransfer) -> str:
    """What a repeat of a UETR must repeat (the deadline and remittance may differ on a
    hop's copy; the money and the parties may not)."""
    text = "\0".join((tx.uetr, tx.end_to_end_id, str(tx.amount.amount_minor),
                      tx.amount.currency, tx.debtor.iban, tx.debtor.agent, tx.creditor.iban,
                      tx.creditor.agent))
    return hashlib.sha256(text.encode()).hexdigest()


def _status(tx: CreditTransfer, status: Status, reason: Reason | None = None,
            detail: str = "") -> TxStatus:
    return TxStatus(tx.uetr, tx.end_to_end_id, tx.tx_id, status, reason, detail)
