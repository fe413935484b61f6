"""Transfer limits: per transfer, per day and per payee, per currency.

The customer sets each within the bank's maximum (settings ``limit_*_max``; until they
set one, the bank's maximum is in force). **Lowering** takes effect at once and needs
nothing: it only takes risk away. **Raising** needs a passkey step-up over the operation
``limit_change`` (amount = the new limit, currency, payee = the limit's kind, reference
empty) and takes effect only ``raise_delay_s`` later: a thief who took over a session
and a passkey still cannot empty the account today, and the customer is notified in
time to stop it. A lowering cancels a raise still waiting.

"Per day" is a rolling 24 hours, so there is no midnight to send twice around. "Per
payee" is what one IBAN receives in those 24 hours, so deleting a payee and adding it
again does not reset it. The totals count :data:`transfer_limit_uses` rows whose
movement is posted, pending or held, or not yet written (earlier in the same group
commit): :func:`check_and_count` runs in the movement's transaction, on the write path,
so two transfers cannot both pass the same remaining allowance.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, replace
from typing import Any

from sqlalchemy import Connection, and_, bindparam, func, insert, or_, select, update

from ...adapters.clock import Clock
from ...adapters.store import Database
from ...adapters.store.schema import bank_limits, bank_transfers, transfer_limit_uses
from ...domain.errors import DomainError
from .. import audit
from ..identity.notices import notify
from ..identity.stepup import StepUp
from ..sealed import FieldKeys
from .confirm import Expected, confirm

DAY_NS = 24 * 3600 * 1_000_000_000
COUNTED = ("posted", "pending", "held")


class LimitKind(enum.StrEnum):
    PER_TRANSFER = "per_transfer"
    PER_DAY = "per_day"
    PER_PAYEE = "per_payee"


@dataclass(frozen=True)
class BankMaxima:
    per_transfer: int
    per_day: int
    per_payee: int

    def of(self, kind: LimitKind) -> int:
        return int(getattr(self, str(kind)))


@dataclass(frozen=True)
class Limit:
    kind: LimitKind
    currency: str
    amount: int  # in force now, minor units
    bank_max: int  # the most this customer may set: the bank's maximum, or an override's
    pending_amount: int | None = None  # a raise waiting
    pending_from_ns: int | None = None


# Built once: every transfer to another party runs these in its unit of the write path.
_LIMITS = select(bank_limits).where(bank_limits.c.user_id == bindparam("user"),
                                    bank_limits.c.currency == bindparam("currency"))
_COUNT = insert(transfer_limit_uses)


def in_force(conn: Connection, user_id: str, currency: str, *, now_ns: int,
             maxima: BankMaxima) -> dict[LimitKind, Limit]:
    """The user's limits in ``currency`` now: a raise whose time has come is in force."""
    rows = {r["kind"]: r for r in conn.execute(
        _LIMITS, {"user": user_id, "currency": currency}).mappings()}
    limits = {}
    for kind in LimitKind:
        cap = maxima.of(kind)
        row = rows.get(str(kind))
        if row is None:
            limits[kind] = Limit(kind, currency, cap, cap)
            continue
        cap = max(cap, row["override_max"] or 0)
        amount, pending, since = row["amount"], row["pending_amount"], row["pending_from"]
        if pending is not None and since is not None and since <= now_ns:
            amount, pending, since = pending, None, None
        limits[kind] = Limit(kind, currency, min(amount, cap), cap, pending, since)
    return limits


def used(conn: Connection, user_id: str, currency: str, *, since_ns: int,
         iban: str | None = None) -> int:
    """Minor units sent to other parties since ``since_ns`` (to ``iban`` only, if given)
    that still count: not voided or failed."""
    t, u = bank_transfers, transfer_limit_uses
    where = [u.c.user_id == user_id, u.c.currency == currency, u.c.created_at > since_ns,
             or_(t.c.id.is_(None), t.c.state.in_(COUNTED))]
    if iban is not None:
        where.append(u.c.counterparty_iban == iban)
    total = conn.execute(select(func.coalesce(func.sum(u.c.amount), 0)).select_from(
        u.outerjoin(t, t.c.id == u.c.movement_id)).where(and_(*where))).scalar_one()
    return int(total)


def check_and_count(conn: Connection, *, user_id: str, movement_id: str, amount: int,
                    currency: str, iban: str, now_ns: int, maxima: BankMaxima) -> None:
    """Refuse a transfer over a limit; otherwise count it (in the caller's transaction)."""
    limits = in_force(conn, user_id, currency, now_ns=now_ns, maxima=maxima)
    since = now_ns - DAY_NS
    if amount > limits[LimitKind.PER_TRANSFER].amount:
        raise DomainError("limit_per_transfer_exceeded", f"the limit per transfer is "
                          f"{limits[LimitKind.PER_TRANSFER].amount} minor units")
    totals = _in_transaction(conn)
    day, payee = (user_id, currency, None), (user_id, currency, iban)
    for key in (day, payee):
        if key not in totals:
            totals[key] = used(conn, user_id, currency, since_ns=since, iban=key[2])
    if totals[day] + amount > limits[LimitKind.PER_DAY].amount:
        raise DomainError("limit_per_day_exceeded", "this transfer would pass your limit "
                          f"of {limits[LimitKind.PER_DAY].amount} minor units in 24 hours")
    if totals[payee] + amount > limits[LimitKind.PER_PAYEE].amount:
        raise DomainError("limit_per_payee_exceeded", "this transfer would pass your limit "
                          f"of {limits[LimitKind.PER_PAYEE].amount} minor units to one payee "
                          "in 24 hours")
    conn.execute(_COUNT, {"movement_id": movement_id, "user_id": user_id,
                          "currency": currency, "counterparty_iban": iban, "amount": amount,
                          "created_at": now_ns})
    totals[day] += amount
    totals[payee] += amount


def _in_transaction(conn: Connection) -> dict[tuple[str, str, str | None], int]:
    """The sums :func:`used` answered within ``conn``'s current transaction, kept up to
    date as transfers are counted: a batch of a payment file's transfers sums the day
    once, not once per transfer (the sum grows with the day's transfers). Within one
    transaction (milliseconds) a kept sum can only count too much — a row that left the
    24 hours meanwhile, a transfer whose unit was undone — never too little."""
    current = conn.get_transaction()
    if current is None:  # no transaction to keep them in
        return {}
    kept = conn.info.get(_TOTALS)
    if kept is None or kept[0] is not current:
        kept = (current, {})
        conn.info[_TOTALS] = kept
    totals: dict[tuple[str, str, str | None], int] = kept[1]
    return totals


_TOTALS = "paywarden.limits.used"


class Limits:
    def __init__(self, database: Database, *, clock: Clock, keys: FieldKeys, step_up: StepUp,
                 maxima: BankMaxima, raise_delay_s: int) -> None:
        self._database = database
        self._clock = clock
        self._keys = keys
        self._step_up = step_up
        self.maxima = maxima
        self.raise_delay_s = raise_delay_s

    def get(self, user_id: str, currency: str) -> list[Limit]:
        with self._database.engine.connect() as conn:
            return list(in_force(conn, user_id, currency, now_ns=self._clock.now_ns(),
                                 maxima=self.maxima).values())

    def set(self, user_id: str, kind: LimitKind, currency: str, amount: int, *,
            evidence_id: str | None, actor: str) -> Limit:
        """Lower at once, or raise after the delay with a step-up (module docstring)."""
        kind = LimitKind(kind)
        if type(amount) is not int or amount < 0:
            raise DomainError("money_amount_invalid", "a limit is a whole number of minor "
                              "units, zero or more")
        now = self._clock.now_ns()
        with self._database.engine.begin() as conn:
            current = in_force(conn, user_id, currency, now_ns=now, maxima=self.maxima)[kind]
            if amount > current.bank_max:
                raise DomainError("limit_above_bank_max", f"the bank's maximum for this "
                                  f"limit is {current.bank_max} minor units")
            if amount <= current.amount:
                made = replace(current, amount=amount, pending_amount=None, pending_from_ns=None)
            else:
                if evidence_id is None:
                    raise DomainError("step_up_required", "confirm a raised limit with your "
                                      "passkey")
                confirm(conn, self._step_up, user_id, evidence_id,
                        Expected("limit_change", amount, currency, str(kind), ""))
                made = replace(current, pending_amount=amount,
                               pending_from_ns=now + self.raise_delay_s * 1_000_000_000)
                notify(conn, user_id, "limit_raised", keys=self._keys, now_ns=now,
                       subject="A transfer limit of yours is being raised",
                       body=f"Your {kind.replace('_', ' ')} limit in {currency} rises to "
                            f"{amount} minor units in {self.raise_delay_s // 3600} hours. If "
                            "you did not ask for this, lower the limit now and call us.")
            _store(conn, user_id, made, now_ns=now)
            audit.record(conn, at_ns=now, actor=actor, action="bank_limit.set",
                         object_id=f"{user_id}:{currency}:{kind}"[:128],
                         detail={"amount": amount, "in_force": made.amount,
                                 "pending": made.pending_amount},
                         before={"amount": current.amount}, after={"amount": amount})
        return made

    def override(self, conn: Connection, user_id: str, kind: LimitKind, currency: str,
                 amount: int, *, actor: str, reason: str, approval_id: str) -> Limit:
        """Set a limit at once, above the bank's maximum if need be, in the caller's
        transaction: the effect of a limit override two members of staff approved
        (decision 0044), so neither the maximum nor the raise delay applies. A waiting
        raise is cancelled; the customer is told."""
        kind = LimitKind(kind)
        now = self._clock.now_ns()
        current = in_force(conn, user_id, currency, now_ns=now, maxima=self.maxima)[kind]
        bank_max = self.maxima.of(kind)
        made = replace(current, amount=amount, bank_max=max(bank_max, amount),
                       pending_amount=None, pending_from_ns=None)
        _store(conn, user_id, made, now_ns=now)
        conn.execute(update(bank_limits).where(
            bank_limits.c.user_id == user_id, bank_limits.c.currency == currency,
            bank_limits.c.kind == str(kind)
        ).values(override_max=amount if amount > bank_max else None))
        notify(conn, user_id, "limit_overridden", keys=self._keys, now_ns=now,
               subject="The bank changed a transfer limit of yours",
               body=f"Your {kind.replace('_', ' ')} limit in {currency} is now {amount} minor "
                    "units, set by the bank at your request. If you did not ask for this, "
                    "lower the limit now and call us.")
        audit.record(conn, at_ns=now, actor=actor, action="bank_limit.override",
                     object_id=f"{user_id}:{currency}:{kind}"[:128],
                     detail={"amount": amount, "bank_max": bank_max, "reason": reason,
                             "approval": approval_id},
                     before={"amount": current.amount, "pending": current.pending_amount},
                     after={"amount": amount})
        return made


def _store(conn: Connection, user_id: str, limit: Limit, *, now_ns: int) -> None:
    values: dict[str, Any] = {"amount": limit.amount, "pending_amount": limit.pending_amount,
                              "pending_from": limit.pending_from_ns, "updated_at": now_ns}
    key = (bank_limits.c.user_id == user_id, bank_limits.c.currency == limit.currency,
           bank_limits.c.kind == str(limit.kind))
    if conn.execute(update(bank_limits).where(*key).values(**values)).rowcount == 0:
        conn.execute(insert(bank_limits).values(user_id=user_id, currency=limit.currency,
                                                kind=str(limit.kind), **values))
