"""Features, computed on one connection within the screening's deadline.

A :class:`FeatureProvider` declares the features it gives (name → ``number``, ``boolean``
or ``string``: the rules are compiled against these declarations) and computes them for
a :class:`Subject`. The engine runs its providers in order; a provider may leave notes
for later ones in ``Context.notes`` (the origins provider leaves the device and address
digests the velocity provider counts). The credit registry, sanctions, circuit breakers
and the learned score plug in as more providers.

Providers read through ``Context.reads`` (:mod:`.reads`): statements built once at import
with named bind parameters, compiled once, run on the worker's own connection — a
screening's budget is a fraction of a millisecond and SQLAlchemy's per-call set-up alone
would spend it. ``Context.conn`` (a SQLAlchemy connection, opened on first use) remains
for a provider that needs more than a SELECT.

Velocity is a range count over ``risk_events`` — one row per key per screening, written
with the decision — in one query for every key and both windows.
"""

from __future__ import annotations

import bisect
import hashlib
import hmac
import math
import statistics
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar, Protocol

from sqlalchemy import Connection, and_, bindparam, case, func, select

from ...adapters.store import Database
from ...adapters.store.schema import (
    bank_payees,
    bank_transfers,
    risk_events,
    sign_in_origins,
    users,
)
from ...domain.risk import Value
from .reads import Reads

NS = 1_000_000_000
OWN_MONEY = frozenset({"own", "top_up"})  # money that stays the customer's: ``theirs`` false
MINUTE_NS, HOUR_NS, DAY_NS = 60 * NS, 3600 * NS, 86_400 * NS
DAY_S = 86_400
HISTORY_DAYS = 90
HISTORY_ROWS_MAX = 200  # the median of the last 200 movements in 90 days
VELOCITY_KEYS = ("customer", "account", "payee", "device", "address", "merchant", "card",
                 "bin")
WINDOWS = ("1m", "1h", "24h")
_KEY_PARAMS = tuple(f"key{i}" for i in range(len(VELOCITY_KEYS)))  # unused ones are NULL


@dataclass(frozen=True)
class Subject:
    """What is screened, in terms that are not banking's or payments' own."""

    operation: str  # bank.internal, bank.external, payment.pay …
    object_id: str  # the movement's or payment's id
    kind: str  # the movement kind: what the fallback is chosen by
    user_id: str | None
    amount_minor: int
    currency: str
    account_id: str | None = None  # the account money leaves
    counterparty: str | None = None  # the payee's IBAN
    merchant_id: str | None = None
    # What the registry, sanctions, breakers and graph providers read when the caller
    # knows it (services/risk/providers); none is required.
    counterparty_name: str | None = None  # the payee's name as the customer gave it
    merchant_name: str | None = None
    device_id: str | None = None  # the raw device identifier (registry kind device_id)
    card_fingerprint: str | None = None
    card_bin: str | None = None  # the card's first six to eight digits
    identifiers: tuple[tuple[str, str], ...] = ()  # more (registry kind, raw value) pairs

    @property
    def subject(self) -> str:
        return self.user_id or self.merchant_id or "-"


@dataclass(frozen=True)
class Earlier:
    """An earlier screening of the same batch (a payment file's payments) whose rows are
    not committed yet: counted as if they were, so that the tenth payment of a file is
    the tenth, as it would be one by one."""

    keys: tuple[str, ...]  # the velocity keys it counts in, once each, at ``at``
    account_id: str | None
    amount_minor: int
    at: int


class Unwritten:
    """A batch's earlier screenings (:class:`Earlier`), indexed by velocity key and by
    account: a payment file's hundredth payment counts the ninety-nine before it in a few
    lookups, not by reading each (that was quadratic in the file's size).

    It also keeps what the batch's screenings read (:meth:`Context.read_once`): the
    customer's and the account's history is read at the first payment of a file, as of
    that payment's time (``read_at_ns``), not once per payment."""

    def __init__(self, entries: Iterable[Earlier] = ()) -> None:
        self._ats: dict[str, list[int]] = {}  # key -> times, ascending
        self._amounts: dict[str, list[tuple[int, int]]] = {}  # account -> (amount, at)
        self.size = 0
        self.tail: object = None  # what added the last entry (RiskEngine's bookkeeping)
        self.read: dict[tuple[Any, ...], list[tuple[Any, ...]]] = {}  # (statement, params)
        self.read_at_ns: int | None = None  # the time the batch's reads are as of
        for entry in entries:
            self.add(entry)

    def add(self, entry: Earlier) -> None:
        for key in entry.keys:
            bisect.insort(self._ats.setdefault(key, []), entry.at)
        if entry.account_id is not None:
            self._amounts.setdefault(entry.account_id, []).append(
                (entry.amount_minor, entry.at))
        self.size += 1

    def count(self, key: str, since_ns: int) -> int:
        """The screenings counted under ``key`` at or after ``since_ns``."""
        ats = self._ats.get(key)
        return len(ats) - bisect.bisect_left(ats, since_ns) if ats else 0

    def amounts(self, account_id: str) -> list[tuple[int, int]]:
        """(amount, at) of each screening of money leaving ``account_id``."""
        return list(self._amounts.get(account_id, ()))


@dataclass
class Context:
    reads: Reads
    subject: Subject
    now_ns: int
    database: Database | None = None
    earlier: Unwritten = field(default_factory=Unwritten)
    notes: dict[str, Any] = field(default_factory=dict)
    keys: list[str] = field(default_factory=list)  # velocity keys this screening counts in
    _conn: Connection | None = None

    @property
    def conn(self) -> Connection:
        """A SQLAlchemy connection, opened on first use and closed with the screening."""
        if self._conn is None:
            if self.database is None:
                raise RuntimeError("this screening has no database connection to open")
            self._conn = self.database.engine.connect()
        return self._conn

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    @property
    def read_at_ns(self) -> int:
        """The time the batch's reads are as of: its first screening's (windows such as
        "the last 24 hours" start from it, so a file's payments share one read)."""
        if self.earlier.read_at_ns is None:
            self.earlier.read_at_ns = self.now_ns
        return self.earlier.read_at_ns

    def read_once(self, statement: Any, params: Mapping[str, Any]) -> list[tuple[Any, ...]]:
        """``reads.rows(statement, params)``, read once per batch: what the database held
        at the batch's first read (the batch's own earlier screenings are added from
        ``earlier`` by each provider; another batch's committed meanwhile are not seen
        until the next batch)."""
        key = (statement, *sorted(params.items()))
        found = self.earlier.read.get(key)
        if found is None:
            found = self.earlier.read[key] = self.reads.rows(statement, params)
        return found


class FeatureProvider(Protocol):
    @property
    def provides(self) -> Mapping[str, str]:
        """The features given: name → ``number``, ``boolean`` or ``string``."""


    def compute(self, ctx: Context) -> Mapping[str, Value]: ...


def catalogue(providers: Sequence[FeatureProvider]) -> dict[str, str]:
    every: dict[str, str] = {}
    for p in providers:
        every.update(p.provides)
    return every


class Basics:
    provides: ClassVar[Mapping[str, str]] = {
        "amount_minor": "number", "kind": "string", "theirs": "boolean", "hour_utc": "number",
        "account_age_s": "number"}

    CREATED = select(users.c.created_at).where(users.c.id == bindparam("user"))

    def compute(self, ctx: Context) -> Mapping[str, Value]:
        s = ctx.subject
        found = [] if s.user_id is None else ctx.read_once(self.CREATED, {"user": s.user_id})
        created = found[0][0] if found else None
        age = (ctx.now_ns - created) // NS if created is not None else 0
        return {"amount_minor": s.amount_minor, "kind": s.kind,
                "theirs": s.kind not in OWN_MONEY,
                "hour_utc": (ctx.now_ns // HOUR_NS) % 24, "account_age_s": max(age, 0)}


class Origins:
    """A device or address first seen within ``new_s``, when the user had others before:
    someone signed in from somewhere new (the latest origin is the session's)."""

    provides: ClassVar[Mapping[str, str]] = {"new_device": "boolean", "new_address": "boolean"}

    def __init__(self, *, new_s: int) -> None:
        self._new_ns = new_s * NS

    SEEN = select(sign_in_origins.c.kind, sign_in_origins.c.digest,
                  sign_in_origins.c.first_seen_at, sign_in_origins.c.last_seen_at).where(
        sign_in_origins.c.user_id == bindparam("user"))

    def compute(self, ctx: Context) -> Mapping[str, Value]:
        out: dict[str, Value] = {"new_device": False, "new_address": False}
        if ctx.subject.user_id is None:
            return out
        rows = ctx.read_once(self.SEEN, {"user": ctx.subject.user_id})
        for kind in ("device", "address"):
            mine = [r for r in rows if r[0] == kind]
            if not mine:
                continue
            latest = max(mine, key=lambda r: r[3])
            ctx.notes[kind] = latest[1]
            older = any(r[2] < latest[2] for r in mine)
            out[f"new_{kind}"] = older and ctx.now_ns - latest[2] < self._new_ns
        return out


class Velocity:
    """Screenings per key in the last minute, hour and day (``velocity_<key>_1m`` /
    ``_1h`` / ``_24h``), every key and window in one query.

    The payee is counted under a keyed digest of its IBAN, so the table names no IBAN; a
    card under its fingerprint (already a digest), a BIN as it is."""

    provides: ClassVar[Mapping[str, str]] = {
        f"velocity_{k}_{w}": "number" for k in VELOCITY_KEYS for w in WINDOWS}

    COUNTS = select(
        risk_events.c.key,
        func.sum(case((risk_events.c.at >= bindparam("minute"), 1), else_=0)),
        func.sum(case((risk_events.c.at >= bindparam("hour"), 1), else_=0)),
        func.count()).where(and_(risk_events.c.key.in_([bindparam(p) for p in _KEY_PARAMS]),
                                 risk_events.c.at >= bindparam("day"))).group_by(
        risk_events.c.key)

    def __init__(self, *, key: bytes) -> None:
        self._key = key

    def digest(self, value: str) -> str:
        return hmac.new(self._key, value.encode(), hashlib.sha256).hexdigest()[:32]

    def compute(self, ctx: Context) -> Mapping[str, Value]:
        s = ctx.subject
        named = {"customer": s.user_id, "account": s.account_id,
                 "payee": self.digest(s.counterparty) if s.counterparty else None,
                 "device": ctx.notes.get("device"), "address": ctx.notes.get("address"),
                 "merchant": s.merchant_id, "card": s.card_fingerprint, "bin": s.card_bin}
        keys = {f"{k}:{v}"[:80]: k for k, v in named.items() if v}
        ctx.keys.extend(keys)
        out: dict[str, Value] = {name: 0 for name in self.provides}
        if not keys:
            return out
        for key, in_minute, in_hour, in_day in self._counts(ctx, list(keys)):
            out[f"velocity_{keys[key]}_1m"] = int(in_minute or 0)
            out[f"velocity_{keys[key]}_1h"] = int(in_hour or 0)
            out[f"velocity_{keys[key]}_24h"] = int(in_day)
        if ctx.earlier.size:
            for key, kind in keys.items():
                for window, span in (("1m", MINUTE_NS), ("1h", HOUR_NS), ("24h", DAY_NS)):
                    name = f"velocity_{kind}_{window}"
                    counted = out[name]
                    if isinstance(counted, int):
                        out[name] = counted + ctx.earlier.count(key, ctx.now_ns - span)
        return out


    def _counts(self, ctx: Context, keys: list[str]) -> list[tuple[Any, ...]]:
        """Each key's counts in one read for the keys the batch has not read yet (a file's
        customer and account at its first payment, a new payee's at its own)."""
        at, memo = ctx.read_at_ns, ctx.earlier.read
        missing = [k for k in keys if (self.COUNTS, k, at) not in memo]
        if missing:
            params: dict[str, Any] = dict.fromkeys(_KEY_PARAMS)
            params.update(zip(_KEY_PARAMS, missing, strict=False))
            params.update(minute=at - MINUTE_NS, hour=at - HOUR_NS, day=at - DAY_NS)
            got = {row[0]: row for row in ctx.reads.rows(self.COUNTS, params)}
            for k in missing:
                memo[(self.COUNTS, k, at)] = [got[k]] if k in got else []
        return [row for k in keys for row in memo[(self.COUNTS, k, at)]]


def hour_gap_h(now_ns: int, past_ns: Sequence[int]) -> float:
    """Hours between this movement's time of day (UTC) and the customer's habit — the
    circular mean of the past movements' times of day, as the simulator computes it
    (risk_sim/featurize.py); 0 without a past."""
    if not past_ns:
        return 0.0
    day_h = 24.0
    angles = [2 * math.pi * ((t // NS) % DAY_S) / DAY_S for t in past_ns]
    habit = (math.degrees(math.atan2(sum(map(math.sin, angles)),
                                     sum(map(math.cos, angles)))) % 360.0) / 15.0
    gap = abs(((now_ns // NS) % DAY_S) / 3600 - habit) % day_h
    return round(min(gap, day_h - gap), 3)


class AmountHistory:
    """The amount against the customer's own: the median of what left the account in the
    last 90 days, never below ``floor_minor`` (no history is not a licence); and the time
    of day against the same movements' habit (``hour_vs_habit_h``)."""

    provides: ClassVar[Mapping[str, str]] = {
        "history_n_90d": "number", "median_90d_minor": "number", "amount_ratio_90d": "number",
        "hour_vs_habit_h": "number"}

    AMOUNTS = select(bank_transfers.c.amount, bank_transfers.c.created_at).where(
        bank_transfers.c.from_account == bindparam("account"),
        bank_transfers.c.created_at >= bindparam("since")).order_by(
        bank_transfers.c.created_at.desc()).limit(HISTORY_ROWS_MAX)

    def __init__(self, *, floor_minor: int) -> None:
        self._floor = floor_minor

    def compute(self, ctx: Context) -> Mapping[str, Value]:
        s = ctx.subject
        rows: list[tuple[Any, ...]] = []
        if s.account_id is not None:
            rows = list(ctx.read_once(self.AMOUNTS, {
                "account": s.account_id, "since": ctx.read_at_ns - HISTORY_DAYS * DAY_NS}))
        if s.account_id is not None:
            rows += ctx.earlier.amounts(s.account_id)
        amounts = [r[0] for r in rows]
        median = int(statistics.median(amounts)) if amounts else 0
        return {"history_n_90d": len(amounts), "median_90d_minor": median,
                "amount_ratio_90d": s.amount_minor / max(median, self._floor),
                "hour_vs_habit_h": hour_gap_h(ctx.now_ns, [int(r[1]) for r in rows])}


class Payee:
    """Is the counterparty a payee the customer confirmed, since when, still cooling off?
    ``payee_present``: the movement names a counterparty at all (a card pay or a top-up
    does not; the model must not read that as a brand-new payee)."""

    provides: ClassVar[Mapping[str, str]] = {
        "payee_known": "boolean", "payee_age_s": "number", "payee_cooling": "boolean",
        "payee_present": "boolean"}

    CONFIRMED = select(bank_payees.c.created_at, bank_payees.c.cooling_until).where(
        bank_payees.c.user_id == bindparam("user"), bank_payees.c.iban == bindparam("iban"),
        bank_payees.c.deleted_at.is_(None)).order_by(bank_payees.c.created_at).limit(1)

    def compute(self, ctx: Context) -> Mapping[str, Value]:
        s = ctx.subject
        out: dict[str, Value] = {"payee_known": False, "payee_age_s": 0,
                                 "payee_cooling": False,
                                 "payee_present": s.counterparty is not None}
        if s.user_id is None or s.counterparty is None:
            return out
        found = ctx.read_once(self.CONFIRMED, {"user": s.user_id, "iban": s.counterparty})
        row = found[0] if found else None
        if row is not None:
            out.update(payee_known=True, payee_age_s=(ctx.now_ns - row[0]) // NS,
                       payee_cooling=row[1] > ctx.now_ns)
        return out


def built_in(*, key: bytes, new_origin_s: int, floor_minor: int) -> list[FeatureProvider]:
    return [Basics(), Origins(new_s=new_origin_s), Velocity(key=key), Payee(),
            AmountHistory(floor_minor=floor_minor)]
