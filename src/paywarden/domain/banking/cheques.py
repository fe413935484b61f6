"""Electronic cheques: the document, its lifecycle and the rules of presentation (0026).

No I/O and no clock: the service passes "today" (a UTC calendar day) in. A cheque
is written once, signed by the platform over :func:`claims` after the drawer
approved :func:`step_up_fields` with a passkey, and then only its state changes::

    issued ──pay──▶ paid
       ├──bounce──▶ bounced     (insufficient funds: for good)
       ├──stop────▶ stopped     (by the drawer, until presented)
       └──expire──▶ expired     (presented after its expiry)

A presentation is judged by :func:`judge`, in this order; the first failure wins:

    altered       the signature, the stored text or the passkey evidence fails (service)
    not_payee     the presenter does not hold the payee's IBAN      cheque unchanged
    duplicate     already paid, or already bounced                  cheque unchanged
    stopped       stopped by the drawer                             cheque unchanged
    expired       already expired                                   cheque unchanged
    (refusal)     before its date: ``cheque_not_yet_due``            cheque unchanged
    stale         after its expiry date                             cheque → expired
    insufficient_funds   the ledger refuses the debit (service)     cheque → bounced

Errors (``DomainError`` codes): ``cheque_invalid`` (a field breaks the rules),
``cheque_not_yet_due``, ``cheque_not_stoppable``, ``cheque_state_invalid``.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from ..errors import DomainError
from ..ledger.model import AMOUNT_MAX
from ..text import unsafe_text

CHEQUE_ID = re.compile(r"chq_[0-9a-f]{24}")
EVIDENCE_ID = re.compile(r"evd_[0-9a-f]{16,28}")
IBAN_SHAPE = re.compile(r"[A-Z]{2}[0-9]{2}[A-Z0-9]{11,30}")  # check digits: services (schwifty)
CURRENCY = re.compile(r"[A-Z]{3}")
SERIAL_MAX = 999_999_999
PAYEE_NAME_CHARS_MAX = 70  # the SEPA name length; fits the step-up's payee field with an IBAN
VALIDITY_DAYS_MAX = 180  # the common six-month stale rule
DATE_AHEAD_DAYS_MAX = 90  # how far ahead a cheque may be dated
OUTSTANDING_MAX = 100  # issued cheques per drawer account at once
STEP_UP_TYPE = "cheque"
JWS_TYPE = "paywarden-cheque+jwt"
CLAIMS = ("amount_minor", "currency", "date", "drawer_iban", "evidence_id", "expires_on",
          "jti", "payee_iban", "payee_name", "serial")


class ChequeState(StrEnum):
    ISSUED = "issued"
    PAID = "paid"
    BOUNCED = "bounced"
    STOPPED = "stopped"
    EXPIRED = "expired"


class BounceReason(StrEnum):
    """Stable strings: stored, shown to API callers, never renamed."""

    INSUFFICIENT_FUNDS = "insufficient_funds"
    STOPPED = "stopped"
    STALE = "stale"
    ALTERED = "altered"
    DUPLICATE = "duplicate"
    NOT_PAYEE = "not_payee"
    EXPIRED = "expired"


FINAL_STATES = frozenset(ChequeState) - {ChequeState.ISSUED}


@dataclass(frozen=True)
class Cheque:
    """What the drawer approved and the platform signed. ``amount_minor`` in minor units."""

    id: str
    drawer_iban: str
    payee_iban: str
    payee_name: str
    amount_minor: int
    currency: str
    date: dt.date
    expires_on: dt.date
    serial: int
    evidence_id: str

    def __post_init__(self) -> None:
        _check(self)


def _invalid(detail: str) -> DomainError:
    return DomainError("cheque_invalid", detail)


def _check(c: Cheque) -> None:
    for name, pattern in (("id", CHEQUE_ID), ("drawer_iban", IBAN_SHAPE),
                          ("payee_iban", IBAN_SHAPE), ("currency", CURRENCY),
                          ("evidence_id", EVIDENCE_ID)):
        value = getattr(c, name)
        if not isinstance(value, str) or pattern.fullmatch(value) is None:
            raise _invalid(f"{name} {value!r} does not match {pattern.pattern}")
    if type(c.amount_minor) is not int or not 0 < c.amount_minor <= AMOUNT_MAX:
        raise _invalid(f"amount {c.amount_minor!r} is not a positive integer of minor units")
    if type(c.serial) is not int or not 0 < c.serial <= SERIAL_MAX:
        raise _invalid(f"serial {c.serial!r} is not an integer in 1..{SERIAL_MAX}")
    name = c.payee_name
    if (not isinstance(name, str) or not name or len(name) > PAYEE_NAME_CHARS_MAX
            or name != name.strip() or not name.isprintable() or unsafe_text(name) is not None
            or any(0xD800 <= ord(ch) <= 0xDFFF for ch in name)):
        raise _invalid(f"the payee's name must be 1 to {PAYEE_NAME_CHARS_MAX} printable "
                       "characters without surrounding spaces")
    if c.payee_iban == c.drawer_iban:
        raise _invalid("a cheque is not drawn to its own account")
    if type(c.date) is not dt.date or type(c.expires_on) is not dt.date:
        raise _invalid("date and expiry are calendar days")
    days = (c.expires_on - c.date).days
    if not 1 <= days <= VALIDITY_DAYS_MAX:
        raise _invalid(f"the expiry is 1 to {VALIDITY_DAYS_MAX} days after the date, "
                       f"not {days}")


def check_dated(cheque: Cheque, today: dt.date) -> None:
    """When written: dated from today up to :data:`DATE_AHEAD_DAYS_MAX` days ahead."""
    ahead = (cheque.date - today).days
    if not 0 <= ahead <= DATE_AHEAD_DAYS_MAX:
        raise _invalid(f"a cheque is dated from today to {DATE_AHEAD_DAYS_MAX} days ahead "
                       f"({cheque.date.isoformat()} is {ahead} days from today)")


def claims(cheque: Cheque) -> dict[str, Any]:
    """The signed claims of the cheque (the service adds ``iss`` and ``iat``)."""
    return {"jti": cheque.id, "drawer_iban": cheque.drawer_iban,
            "payee_iban": cheque.payee_iban, "payee_name": cheque.payee_name,
            "amount_minor": cheque.amount_minor, "currency": cheque.currency,
            "date": cheque.date.isoformat(), "expires_on": cheque.expires_on.isoformat(),
            "serial": cheque.serial, "evidence_id": cheque.evidence_id}


def from_claims(found: object) -> Cheque:
    """The cheque a verified JWS payload names; ``cheque_invalid`` unless it is exactly one."""
    if not isinstance(found, dict) or not set(CLAIMS) <= set(found):
        raise _invalid(f"a cheque has the claims {', '.join(CLAIMS)}")
    try:
        date = _day(found["date"])
        expires_on = _day(found["expires_on"])
    except (TypeError, ValueError) as exc:
        raise _invalid("date and expiry are YYYY-MM-DD") from exc
    return Cheque(id=found["jti"], drawer_iban=found["drawer_iban"],
                  payee_iban=found["payee_iban"], payee_name=found["payee_name"],
                  amount_minor=found["amount_minor"], currency=found["currency"], date=date,
                  expires_on=expires_on, serial=found["serial"],
                  evidence_id=found["evidence_id"])


def _day(value: object) -> dt.date:
    if not isinstance(value, str) or len(value) != len("YYYY-MM-DD"):
        raise ValueError(f"{value!r} is not YYYY-MM-DD")
    return dt.date.fromisoformat(value)


def step_up_fields(*, drawer_iban: str, payee_iban: str, payee_name: str, amount_minor: int,
                   currency: str, date: dt.date, expires_on: dt.date,
                   serial: int) -> dict[str, Any]:
    """The operation the drawer approves with a passkey (without its user and nonce).

    Every field of the cheque is in it, so the passkey signs the whole cheque.
    """
    return {"type": STEP_UP_TYPE, "amount": amount_minor, "currency": currency,
            "payee": f"{payee_iban} {payee_name}",
            "reference": f"cheque {serial} on {drawer_iban} dated {date.isoformat()} "
                         f"until {expires_on.isoformat()}"}


def approved_fields(cheque: Cheque) -> dict[str, Any]:
    return step_up_fields(drawer_iban=cheque.drawer_iban, payee_iban=cheque.payee_iban,
                          payee_name=cheque.payee_name, amount_minor=cheque.amount_minor,
                          currency=cheque.currency, date=cheque.date,
                          expires_on=cheque.expires_on, serial=cheque.serial)


# -- the lifecycle ---------------------------------------------------------------------------


def stop(state: ChequeState) -> ChequeState:
    """The drawer stops a cheque: only an issued one (not yet presented)."""
    if state is not ChequeState.ISSUED:
        raise DomainError("cheque_not_stoppable", f"a cheque that is {state} cannot be stopped")
    return ChequeState.STOPPED


def settle(state: ChequeState, to: ChequeState) -> ChequeState:
    """Move an issued cheque to a final state; anything else breaks the lifecycle."""
    if state is not ChequeState.ISSUED or to not in FINAL_STATES:
        raise DomainError("cheque_state_invalid", f"a cheque does not go from {state} to {to}")
    return to


@dataclass(frozen=True)
class Judgement:
    """``pay`` (then the ledger decides on the funds), or a bounce and the state it leaves."""

    pay: bool
    reason: BounceReason | None = None
    state: ChequeState | None = None  # the cheque's new state; None: unchanged

    @classmethod
    def bounce(cls, reason: BounceReason, state: ChequeState | None = None) -> Judgement:
        return cls(False, reason, state)


PAYS = Judgement(True)
_ALREADY = {ChequeState.PAID: BounceReason.DUPLICATE, ChequeState.BOUNCED: BounceReason.DUPLICATE,
            ChequeState.STOPPED: BounceReason.STOPPED, ChequeState.EXPIRED: BounceReason.EXPIRED}


def judge(cheque: Cheque, state: ChequeState, *, presenter_is_payee: bool,
          today: dt.date) -> Judgement:
    """Whether a genuine cheque (its signature and evidence verified) is paid now.

    Raises ``cheque_not_yet_due`` before its date: a post-dated cheque stays good.
    """
    if not presenter_is_payee:
        return Judgement.bounce(BounceReason.NOT_PAYEE)
    if state in _ALREADY:
        return Judgement.bounce(_ALREADY[state])
    if today < cheque.date:
        raise DomainError("cheque_not_yet_due", f"the cheque is dated {cheque.date.isoformat()}; "
                          "present it on or after that day")
    if today > cheque.expires_on:
        return Judgement.bounce(BounceReason.STALE, ChequeState.EXPIRED)
    return PAYS
