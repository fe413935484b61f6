"""The executor of a limit override: a customer's transfer limit set at once, above the
bank's maximum if need be, by two members of staff (decision 0044).

A customer raising their own limit waits out the raise delay, so that a thief holding
their session cannot empty the account today. A member of staff setting it skips that
delay and the bank's maximum: alone, that would let an insider (or whoever talked them
into it on the phone) open an account wide before draining it. So support or risk
submit it, with a reason, and another member of risk approves it.

It runs as a :meth:`~.executors.Executor.commit`: the limit, its audit record
(``bank_limit.override``) and the customer's notice commit with the approval, once.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import Connection, select

from ...adapters.store import Database
from ...adapters.store.schema import users
from ...domain.approvals import Kind, check_reason
from ...domain.errors import DomainError
from ...domain.identity import Principal
from ..banking.limits import LimitKind, Limits
from ..ledger.currencies import currency as currency_of
from .executors import Approval, Checked, Executor
from .merchants import both

USER_ID_CHARS_MAX = 32


def _invalid(detail: str) -> DomainError:
    return DomainError("approval_command_invalid", detail)


class LimitOverride(Executor):
    """Params ``{"customer_id", "kind", "currency", "amount", "reason"}``."""

    kind = Kind.LIMIT_OVERRIDE

    def __init__(self, database: Database, limits: Limits) -> None:
        self._database = database
        self._limits = limits

    def check(self, params: Mapping[str, Any], submitter: Principal) -> Checked:
        customer_id, amount = params.get("customer_id"), params.get("amount")
        if not isinstance(customer_id, str) or not customer_id.startswith("usr_") \
                or len(customer_id) > USER_ID_CHARS_MAX:
            raise _invalid("a limit override names a customer_id (usr_…)")
        try:
            kind = LimitKind(str(params.get("kind")))
        except ValueError:
            raise _invalid("kind is one of " + ", ".join(LimitKind)) from None
        code = params.get("currency")
        if not isinstance(code, str):
            raise _invalid("currency is a three-letter code")
        currency_of(code)
        if type(amount) is not int or amount < 0:
            raise DomainError("money_amount_invalid", "a limit is a whole number of minor "
                              "units, zero or more")
        reason = check_reason(params.get("reason"))
        with self._database.engine.connect() as conn:
            found = conn.execute(select(users.c.kind).where(users.c.id == customer_id)).scalar()
        if found != "customer":
            raise DomainError("not_found", f"no customer {customer_id}")
        above = amount > self._limits.maxima.of(kind)
        return Checked({"customer_id": customer_id, "kind": str(kind), "currency": code,
                        "amount": amount, "reason": reason},
                       f"set {customer_id}'s {kind} limit to {amount} minor units of {code}"
                       + (" (above the bank's maximum)" if above else ""),
                       amount=amount, currency=code)

    def commit(self, conn: Connection, approval: Approval,
               effect: dict[str, Any] | None) -> dict[str, Any]:
        p = approval.params
        made = self._limits.override(conn, p["customer_id"], LimitKind(p["kind"]),
                                     p["currency"], p["amount"], actor=both(approval),
                                     reason=p["reason"], approval_id=approval.id)
        return {"customer_id": p["customer_id"], "kind": str(made.kind),
                "currency": made.currency, "amount": made.amount, "maximum": made.bank_max}
