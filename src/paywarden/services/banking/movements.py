"""The bank's money movements, each one unit of the group-commit write path.

A movement (a transfer, a deposit or withdrawal through the rail, a top-up, a cheque
paid, interest) is prepared on the caller's thread — screened, its ledger chain built —
and runs inside a batch (services/writepath, decision 0017), where it checks in this
order:

1. its id: a movement with this id exists → the first answer if the fields are the
   same, ``transfer_exists_with_different_fields`` if not (an id's outcome never
   changes, and a retry is answered, not applied again);
2. the accounts: a frozen account sends nothing, a closed account nothing at all;
3. ``precondition`` (consume step-up evidence, mark a cheque paid), under a savepoint;
4. the money: the ledger chain, refused whole on insufficient funds.

Then it queues its ``bank_transfers`` row and its audit entry, and ``finish`` records
the API's answer: all of it commits together, or none of it does.

Money from outside (a deposit, a card) comes from a platform account of the kind
``outside`` names; money out to another bank is a *pending* transfer to the
inter-bank clearing account, posted when the rail confirms it or voided when it
rejects (:meth:`Movements.settle`). Money in through the clearing network is the mirror
image: a *pending* credit from the clearing account (``execute(pending=True)``), posted
or voided when the network's decider says so. A movement into a wallet from anywhere but a
wallet issues e-money, and one out of a wallet redeems it: a linked leg moves the same
amount into or out of the safeguarding account, so the safeguarded total follows.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, Executable, bindparam, insert, select, update
from sqlalchemy.exc import IntegrityError

from ...adapters.clock import Clock
from ...adapters.store.schema import bank_accounts, bank_transfers
from ...domain.audit.leaves import Event
from ...domain.errors import DomainError
from ...domain.ledger import Transfer, TransferFlags
from ...domain.ledger.chart import AccountKind, TransferCode
from ...domain.money import Money
from .. import audit
from ..ledger.accounts import AccountRef, new_account, platform_account
from ..ledger.engine import NewAccount
from ..writepath import Batch, GroupWriter, Recording, Records, WriterStopped
from .accounts import BankAccount, Product, State, get_accounts
from .screening import AllowAll, Decision, Screen, Screening

ID_CHARS_MAX = 60  # a ledger transfer id is the movement's id and a short suffix
REFERENCE_CHARS_MAX = 140
SUBMITTED_MAX = 256  # units in the write path's queue at once (execute_many, settle_many)
Finish = Callable[[Connection, "MovementResult"], None]
Also = Sequence[tuple[Executable, dict[str, Any]]]  # rows written with a settlement


class MovementKind(enum.StrEnum):
    OWN = "own"  # between one customer's own accounts
    INTERNAL = "internal"  # to another customer of this bank
    EXTERNAL = "external"  # to another bank, through the rail
    DEPOSIT = "deposit"  # in from another bank, through the rail
    WITHDRAWAL = "withdrawal"  # out to the customer's account at another bank
    TOP_UP = "top_up"  # into a wallet from a current account or a card
    CHEQUE = "cheque"
    INTEREST = "interest"
    STANDING_ORDER = "standing_order"
    RETURN = "return"  # a transfer from another bank sent back by this bank (pacs.004)


# Kinds that leave for another bank: pending until the rail or the network answers.
# the kinds whose pending movements leave the bank (a cheque: one of ours that another bank
# presented through the clearing network, decision 0064)
LEAVING = frozenset({MovementKind.EXTERNAL, MovementKind.WITHDRAWAL, MovementKind.CHEQUE})


class MovementState(enum.StrEnum):
    POSTED = "posted"
    PENDING = "pending"  # sent to the rail (or in from the network), not yet confirmed
    HELD = "held"  # reserved, waiting for review (the screening said hold)
    VOIDED = "voided"  # pending or held, then released back
    FAILED = "failed"


_CODES = {MovementKind.DEPOSIT: TransferCode.DEPOSIT,
          MovementKind.WITHDRAWAL: TransferCode.WITHDRAWAL,
          MovementKind.EXTERNAL: TransferCode.WITHDRAWAL,
          MovementKind.RETURN: TransferCode.WITHDRAWAL,
          MovementKind.TOP_UP: TransferCode.TOP_UP, MovementKind.CHEQUE: TransferCode.CHEQUE,
          MovementKind.INTEREST: TransferCode.INTEREST}


@dataclass(frozen=True)
class Movement:
    id: str
    kind: MovementKind
    user_id: str | None  # who asked (None: the bank itself or the rail)
    from_account: str | None  # acc_…, or None: money from outside (``outside``)
    to_account: str | None  # acc_…, or None: money leaving through the rail
    amount: Money
    reference: str = ""
    counterparty_iban: str | None = None
    counterparty_name: str | None = None
    outside: AccountKind = AccountKind.BANK_CLEARING  # where outside money comes from

    def __post_init__(self) -> None:
        if not (isinstance(self.id, str) and 0 < len(self.id) <= ID_CHARS_MAX
                and self.id.isascii() and self.id.isprintable() and " " not in self.id):
            raise DomainError("movement_id_invalid",
                              f"a movement id is 1 to {ID_CHARS_MAX} ASCII characters")
        if self.amount.amount_minor <= 0:
            raise DomainError("money_amount_invalid", "an amount moved is more than zero")
        if len(self.reference) > REFERENCE_CHARS_MAX or not self.reference.isprintable():
            raise DomainError("reference_invalid", f"a reference is at most "
                              f"{REFERENCE_CHARS_MAX} printable characters")
        if self.from_account is None and self.to_account is None:
            raise DomainError("movement_invalid", "a movement has at least one of our accounts")
        if self.from_account is not None and self.from_account == self.to_account:
            raise DomainError("movement_invalid", "an account cannot pay itself")

    def fields(self) -> tuple[Any, ...]:
        """What a retry under the same id must repeat."""
        return (str(self.kind), self.from_account, self.to_account, self.amount.amount_minor,
                self.amount.currency, self.reference, self.counterparty_iban)


@dataclass(frozen=True)
class MovementResult:
    id: str
    kind: MovementKind
    state: MovementState
    amount: Money
    from_account: str | None
    to_account: str | None
    reference: str
    created: bool  # False: a retry, answered with the first result
    reason: str | None = None

    def public(self) -> dict[str, Any]:
        return {"id": self.id, "kind": str(self.kind), "state": str(self.state),
                "amount": self.amount.amount_minor, "currency": self.amount.currency,
                "from_account": self.from_account, "to_account": self.to_account,
                "reference": self.reference, "reason": self.reason}


def result_from_row(row: Any, *, created: bool) -> MovementResult:
    r = row._mapping
    return MovementResult(r["id"], MovementKind(r["kind"]), MovementState(r["state"]),
                          Money(r["amount"], r["currency"]), r["from_account"], r["to_account"],
                          r["reference"], created, r["reason"])


# Built once: the write path runs these once or twice a movement.
_STORED = select(bank_transfers).where(bank_transfers.c.id == bindparam("mid"))
_ACCOUNT_STATE = select(bank_accounts.c.state, bank_accounts.c.currency).where(
    bank_accounts.c.id == bindparam("aid"))


def stored(conn: Connection, movement_id: str) -> Any:
    return conn.execute(_STORED, {"mid": movement_id}).first()


@dataclass(frozen=True)
class Known:
    """What a batch of movements finds stored before it runs, read once for the batch
    (a payment file's hundred share one source account): each movement's first row,
    and the accounts they name. The units read their rows again inside the write."""

    rows: dict[str, Any]
    accounts: dict[str, BankAccount]

    @classmethod
    def read(cls, conn: Connection, movement_ids: Sequence[str],
             account_ids: Iterable[str | None] | None = None) -> Known:
        """The rows of ``movement_ids`` that exist, and the accounts ``account_ids`` (by
        default the ones those rows name)."""
        rows = {r._mapping["id"]: r for r in conn.execute(select(bank_transfers).where(
            bank_transfers.c.id.in_(sorted(set(movement_ids)))))} if movement_ids else {}
        if account_ids is None:
            account_ids = (a for r in rows.values()
                           for a in (r._mapping["from_account"], r._mapping["to_account"]))
        return cls(rows, get_accounts(conn, (a for a in account_ids if a)))

    def account(self, account_id: str | None) -> BankAccount | None:
        return None if account_id is None else self.accounts.get(account_id)


INSERT = insert(bank_transfers)
SETTLE = update(bank_transfers).where(
    bank_transfers.c.id == bindparam("mid"), bank_transfers.c.state == bindparam("was"),
).values(state=bindparam("state"), reason=bindparam("reason"),
         updated_at=bindparam("updated_at"))


@dataclass(frozen=True)
class Request:
    """One movement to run (:meth:`Movements.execute`'s arguments)."""

    movement: Movement
    precondition: Callable[[Connection], None] | None = None
    finish: Finish | None = None
    stepped_up: bool = False
    actor: str | None = None
    pending: bool = False


@dataclass
class MovementUnit:
    movement: Movement
    chain: Sequence[Transfer]
    accounts: Sequence[NewAccount]
    state: MovementState
    event: Event
    reason: str | None = None
    precondition: Callable[[Connection], None] | None = None
    finish: Finish | None = None
    record: Recording | None = None  # the screening's decision, committed with the money
    _result: MovementResult | None = field(default=None, init=False)

    @property
    def savepoint(self) -> bool:
        return self.precondition is not None

    def run(self, batch: Batch) -> None:
        m = self.movement
        seen: dict[str, Movement] = batch.cache.setdefault("movements", {})
        first = stored(batch.conn, m.id)
        if first is not None or m.id in seen:
            if (first is not None and _row_fields(first) != m.fields()) or (
                    first is None and seen[m.id].fields() != m.fields()):
                raise DomainError("transfer_exists_with_different_fields",
                                  f"movement {m.id} exists with other fields")
            if first is None:
                raise DomainError("transfer_in_progress", f"movement {m.id} is in progress")
            self._answer(batch.conn, result_from_row(first, created=False))
            return
        _check_accounts(batch.conn, m)
        if self.precondition is not None:
            self.precondition(batch.conn)
        if self.record is not None:
            self.record.write(batch)
        batch.post(self.chain)
        seen[m.id] = m
        now = batch.now_ns
        batch.later(INSERT, {
            "id": m.id, "kind": str(m.kind), "user_id": m.user_id,
            "from_account": m.from_account, "to_account": m.to_account,
            "counterparty_iban": m.counterparty_iban, "counterparty_name": m.counterparty_name,
            "amount": m.amount.amount_minor, "currency": m.amount.currency,
            "reference": m.reference, "state": str(self.state), "reason": self.reason,
            "created_at": now, "updated_at": now})
        made = MovementResult(m.id, m.kind, self.state, m.amount, m.from_account,
                              m.to_account, m.reference, True, self.reason)
        batch.audit(self.event, lambda _index: self._answer(batch.conn, made))

    def _answer(self, conn: Connection, result: MovementResult) -> None:
        self._result = result
        if self.finish is not None:
            self.finish(conn, result)

    def result(self) -> MovementResult:
        if self._result is None:
            raise DomainError("movement_invalid", "the movement produced no result")
        return self._result


@dataclass(frozen=True)
class Settlement:
    """One movement to post or void (:meth:`Movements.settle_many`)."""

    movement_id: str
    post: bool
    reason: str | None = None
    also: Also = ()  # statements run with it, settled now or before (a caller's own rows)


@dataclass
class SettleUnit:
    """Post or void a pending (rail) or held (review) movement, once; ``also`` is written
    in the same transaction whether it settles now or was settled before."""

    movement_id: str
    was: MovementState
    to_state: MovementState
    chain: Sequence[Transfer]
    event: Event
    reason: str | None
    accounts: Sequence[NewAccount] = ()
    savepoint: bool = False
    also: Also = ()
    _result: MovementResult | None = field(default=None, init=False)

    def run(self, batch: Batch) -> None:
        row = stored(batch.conn, self.movement_id)
        if row is None:
            raise DomainError("not_found", f"no movement {self.movement_id}")
        for statement, values in self.also:
            batch.later(statement, values)
        if row._mapping["state"] != str(self.was):  # settled already: the first answer
            self._result = result_from_row(row, created=False)
            return
        batch.post(self.chain)
        state = self.to_state
        batch.later(SETTLE, {"mid": self.movement_id, "was": str(self.was),
                             "state": str(state), "reason": self.reason,
                             "updated_at": batch.now_ns}, counted=True)
        done = result_from_row(row, created=True)
        self._result = MovementResult(done.id, done.kind, state, done.amount,
                                      done.from_account, done.to_account, done.reference,
                                      True, self.reason)
        batch.audit(self.event)

    def result(self) -> MovementResult:
        if self._result is None:
            raise DomainError("movement_invalid", "the settlement produced no result")
        return self._result


def _row_fields(row: Any) -> tuple[Any, ...]:
    r = row._mapping
    return (r["kind"], r["from_account"], r["to_account"], r["amount"], r["currency"],
            r["reference"], r["counterparty_iban"])


def _check_accounts(conn: Connection, m: Movement) -> None:
    for account_id, sends in ((m.from_account, True), (m.to_account, False)):
        if account_id is None:
            continue
        row = conn.execute(_ACCOUNT_STATE, {"aid": account_id}).first()
        if row is None:
            raise DomainError("not_found", "no such account")
        if row[1] != m.amount.currency:
            raise DomainError("currency_mismatch", f"the account holds {row[1]}, "
                              f"not {m.amount.currency}")
        if row[0] == State.CLOSED:
            raise DomainError("account_closed", "the account is closed")
        if row[0] == State.FROZEN and sends:
            raise DomainError("account_frozen", "the account is frozen: it sends nothing")


class Movements:
    def __init__(self, *, clock: Clock, writer: GroupWriter, database: Any,
                 screening: Screening | None = None) -> None:
        self._clock = clock
        self._writer = writer
        self._database = database
        self.screening: Screening = screening or AllowAll()
        # Told, after the commit, that money to another bank was written and waits to
        # leave (the clearing link's lane wakes); must be cheap and must not raise.
        self.on_outgoing: list[Callable[[], None]] = []

    def execute(self, movement: Movement, *, precondition: Callable[[Connection], None] | None
                = None, finish: Finish | None = None, stepped_up: bool = False,
                actor: str | None = None, pending: bool = False) -> MovementResult:
        """Screen ``movement`` and run it once (see the module's docstring). ``pending``:
        a credit reserved, not posted, until :meth:`settle` (money in from the network)."""
        done = self.execute_many([Request(movement, precondition, finish, stepped_up, actor,
                                          pending)])[0]
        if isinstance(done, DomainError):
            raise done
        return done

    def execute_many(self, requests: Sequence[Request]) -> list[MovementResult | DomainError]:
        """Each as :meth:`execute`, in order, its answer or its refusal: all screened
        first (each counting the ones before it), then submitted to the write path
        together, so that a payment file's worth shares a few commits. A later one can
        still be refused (a limit reached, the balance spent) after earlier ones ran."""
        out: list[MovementResult | DomainError] = []
        for start in range(0, len(requests), SUBMITTED_MAX):
            chunk = requests[start:start + SUBMITTED_MAX]
            with self._database.engine.connect() as conn:
                known = Known.read(conn, [r.movement.id for r in chunk], (
                    a for r in chunk for a in (r.movement.from_account, r.movement.to_account)))
            screens: list[Screen] = []
            prepared: list[MovementUnit | MovementResult | DomainError] = []
            for r in chunk:
                try:
                    prepared.append(self._prepare(r, screens, known))
                except DomainError as refused:
                    prepared.append(refused)
            jobs = {i: self._writer.submit(p) for i, p in enumerate(prepared)
                    if isinstance(p, MovementUnit)}
            out += [self._outcome(p, jobs[i]) if isinstance(p, MovementUnit) else p
                    for i, p in enumerate(prepared)]
        if any(isinstance(r, MovementResult) and r.created and r.kind in LEAVING
               and r.state is MovementState.PENDING for r in out):
            for wake in self.on_outgoing:
                wake()
        return out

    def _outcome(self, unit: MovementUnit, job: Future[Any]) -> MovementResult | DomainError:
        try:
            result: MovementResult = self._writer.wait(job)
        except DomainError as refused:  # the unit and its record were undone together
            if not isinstance(refused, WriterStopped):
                self._write_alone(unit.record)  # a refused attempt is still a decision
            return refused
        except IntegrityError:  # another writer's row came first: none of this one's did
            self._write_alone(unit.record)
            return DomainError("movement_conflict", "a concurrent request wrote this "
                               "movement's rows first; ask again")
        return result

    def _prepare(self, r: Request, screens: list[Screen],
                 known: Known) -> MovementUnit | MovementResult:
        """The unit running ``r``, or the first answer when it ran before; ``screens``:
        this batch's screenings so far, and this one's is added."""
        movement = r.movement
        if r.pending and (movement.from_account is not None or movement.to_account is None):
            raise DomainError("movement_invalid", "only a credit from outside waits pending")
        first = known.rows.get(movement.id)
        if first is not None:  # a retry: answered before the screening sees it again
            if _row_fields(first) != movement.fields():
                raise DomainError("transfer_exists_with_different_fields",
                                  f"movement {movement.id} exists with other fields")
            done = result_from_row(first, created=False)
            if r.finish is not None:
                with self._database.engine.begin() as tx:
                    r.finish(tx, done)
            return done
        source = known.account(movement.from_account)
        target = known.account(movement.to_account)
        # Money leaving an account is screened, and so is a customer's card top-up (money
        # in from a card that may not be theirs); the rail's deposits and interest are not,
        # nor a return (money sent back where it came from, decided by staff: 0060).
        inbound_card = movement.user_id is not None and movement.outside is AccountKind.CARD_ISSUER
        screened = (source is not None and movement.kind is not MovementKind.RETURN) or (
            movement.from_account is None and inbound_card)
        screen = self.screening.screen(movement, earlier=tuple(screens)) if screened else None
        record = screen.record if screen is not None else None
        held = False
        reason = None
        if screen is not None and screen.decision is Decision.DECLINE:
            self._write_alone(record)
            raise DomainError("movement_declined",
                              "this transfer was declined: " + ", ".join(screen.reasons))
        if screen is not None and screen.decision is Decision.STEP_UP and not r.stepped_up:
            self._write_alone(record)
            raise DomainError("step_up_required", "confirm this transfer with your passkey")
        if screen is not None:
            screens.append(screen)
        if screen is not None and screen.decision is Decision.HOLD:
            held, reason = True, ("review:" + ",".join(screen.reasons))[:64]
        chain, refs = _chain(movement, source, target, held=held, pending=r.pending)
        state = (MovementState.HELD if held
                 else MovementState.PENDING if movement.to_account is None or r.pending
                 else MovementState.POSTED)
        now = self._clock.now_ns()
        event = audit.entry(at_ns=now, actor=r.actor or movement.user_id or audit.SYSTEM,
                            action=f"bank_transfer.{movement.kind}", object_id=movement.id,
                            detail={"amount": movement.amount.amount_minor,
                                    "currency": movement.amount.currency,
                                    "from": movement.from_account, "to": movement.to_account,
                                    "state": str(state)})
        return MovementUnit(movement, chain, [new_account(ref) for ref in refs], state, event,
                            reason, r.precondition, r.finish, record)

    def _write_alone(self, record: Recording | None) -> None:
        if record is not None:
            self._writer.execute(Records(record.write))

    def settle(self, movement_id: str, *, post: bool, reason: str | None = None,
               actor: str = audit.SYSTEM, also: Also = ()) -> MovementResult:
        """Post (the rail confirmed, review released) or void (rejected) a pending or held
        movement; settling one already settled answers its state."""
        return self.settle_many([Settlement(movement_id, post, reason, also)], actor=actor)[0]

    def settle_many(self, settlements: Sequence[Settlement], *, actor: str = audit.SYSTEM
                    ) -> list[MovementResult]:
        """Each as :meth:`settle`, in order; submitted to the write path together so that
        a message's worth of settlements shares a few commits instead of one each."""
        results: list[MovementResult] = []
        for start in range(0, len(settlements), SUBMITTED_MAX):
            chunk = settlements[start:start + SUBMITTED_MAX]
            with self._database.engine.connect() as conn:
                known = Known.read(conn, [s.movement_id for s in chunk])
            prepared = [self._settle_unit(s, actor, known) for s in chunk]
            submitted = [self._writer.submit(p) if isinstance(p, SettleUnit) else p
                         for p in prepared]
            results += [p if isinstance(p, MovementResult) else self._writer.wait(p)
                        for p in submitted]
        return results

    def _settle_unit(self, s: Settlement, actor: str,
                     known: Known) -> SettleUnit | MovementResult:
        """The unit settling ``s``, or the answer when it is settled already (as read
        before the batch: the unit checks the state again inside the write)."""
        movement_id, post = s.movement_id, s.post
        row = known.rows.get(movement_id)
        if row is None:
            raise DomainError("not_found", f"no movement {movement_id}")
        was = MovementState(row._mapping["state"])
        if was not in (MovementState.PENDING, MovementState.HELD):
            if s.also:
                with self._database.engine.begin() as conn:
                    for statement, values in s.also:
                        conn.execute(statement, values)
            return result_from_row(row, created=False)
        first = result_from_row(row, created=False)
        onward = post and was is MovementState.HELD and first.to_account is None
        to_state = (MovementState.PENDING if onward  # released from review: now to the rail
                    else MovementState.POSTED if post else MovementState.VOIDED)
        chain: list[Transfer] = []
        refs: list[AccountRef] = []
        if not onward:
            chain = [Transfer(movement_id + (".post" if post else ".void"), 0, 0, None, 0, 0,
                              int(TransferFlags.POST_PENDING if post
                                  else TransferFlags.VOID_PENDING), pending_id=movement_id)]
        if post and not onward:
            source, target = known.account(first.from_account), known.account(first.to_account)
            safeguard = _safeguarding_leg(first.id, first.amount, source, target)
            if safeguard is not None:
                chain = [chain[0]._replace(flags=chain[0].flags | int(TransferFlags.LINKED)),
                         safeguard[0]]
                refs = list(safeguard[1])
        now = self._clock.now_ns()
        event = audit.entry(at_ns=now, actor=actor,
                            action="bank_transfer." + ("post" if post else "void"),
                            object_id=movement_id,
                            detail={"reason": s.reason, "was": str(was)})
        return SettleUnit(movement_id, was, to_state, chain, event, s.reason,
                          accounts=[new_account(r) for r in refs], also=s.also)


def _ref(account: BankAccount | None, outside: AccountKind, currency: str) -> AccountRef:
    return account.ref if account is not None else platform_account(outside, currency)


def _chain(m: Movement, source: BankAccount | None, target: BankAccount | None, *,
           held: bool, pending: bool = False) -> tuple[list[Transfer], list[AccountRef]]:
    """The ledger transfers of ``m``: the main leg (pending when it waits for the rail,
    the network or a review), and a safeguarding leg when e-money is issued or redeemed
    (with the post, for a pending one)."""
    cur = m.amount.currency
    debit = _ref(source, m.outside, cur)
    credit = _ref(target, AccountKind.BANK_CLEARING, cur)
    code = int(_CODES.get(m.kind, TransferCode.BANK_TRANSFER))
    pending = held or pending or target is None
    main = Transfer(m.id, debit.id, credit.id, m.amount.amount_minor, credit.ledger, code,
                    int(TransferFlags.PENDING) if pending else 0)
    refs = [debit, credit]
    safeguard = _safeguarding_leg(m.id, m.amount, source, target)
    if safeguard is None or pending:
        return [main], refs
    legs = [main._replace(flags=int(TransferFlags.LINKED)), safeguard[0]]
    return legs, refs + list(safeguard[1])


def _safeguarding_leg(movement_id: str, amount: Money, source: BankAccount | None,
                      target: BankAccount | None
                      ) -> tuple[Transfer, tuple[AccountRef, AccountRef]] | None:
    into_wallet = target is not None and target.product is Product.WALLET
    out_of_wallet = source is not None and source.product is Product.WALLET
    if into_wallet == out_of_wallet:
        return None  # wallet to wallet, or no wallet: the e-money in issue is unchanged
    cur = amount.currency
    held = platform_account(AccountKind.SAFEGUARDING, cur)
    bank = platform_account(AccountKind.SAFEGUARDING_BANK, cur)
    debit, credit = (bank, held) if into_wallet else (held, bank)
    return (Transfer(movement_id + ".sg", debit.id, credit.id, amount.amount_minor, held.ledger,
                     int(TransferCode.SAFEGUARD)), (debit, credit))
