"""The interrupt hook: before money leaves an account, a screening answers.

``allow`` lets the movement run; ``step_up`` asks for a fresh passkey assertion over it
(refused unless the caller brought one); ``hold`` reserves the money as a pending ledger
transfer that waits for review; ``decline`` refuses it with the reasons. The risk
engine (services/risk) fills the hook; :class:`AllowAll` answers in tests that want no
screening. Adding a payee has its own hook, :class:`PayeeScreening`.

A screening that must be written (the risk engine's decision) hands back its
``record``: the movement queues it in its own unit, so it commits with the money; a
movement that is declined, asks for a step-up or is refused writes it on its own.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from ..writepath import Recording
    from .movements import Movement


class Decision(enum.StrEnum):
    ALLOW = "allow"
    STEP_UP = "step_up"
    HOLD = "hold"
    DECLINE = "decline"


@dataclass(frozen=True)
class Screen:
    decision: Decision
    reasons: tuple[str, ...] = field(default=())
    record: Recording | None = None


ALLOWED = Screen(Decision.ALLOW)


class Screening(Protocol):
    def screen(self, movement: Movement, *, earlier: Sequence[Screen] = ()) -> Screen:
        """``earlier``: the screenings of the same batch before this one, whose records
        are not committed yet (a payment file's payments): counted as if they were."""


class AllowAll:
    """The default hook: every movement is allowed."""

    def screen(self, movement: Movement, *, earlier: Sequence[Screen] = ()) -> Screen:
        return ALLOWED


class PayeeScreening(Protocol):
    """Adding a payee (services/banking/payees.py): ``hold`` and ``decline`` refuse it;
    ``step_up`` is given already (a payee is added with a passkey over its details)."""

    def screen_payee(self, user_id: str, *, payee_id: str, iban: str, currency: str,
                     actor: str) -> Screen: ...


class AllowAllPayees:
    def screen_payee(self, user_id: str, *, payee_id: str, iban: str, currency: str,
                     actor: str) -> Screen:
        return ALLOWED
