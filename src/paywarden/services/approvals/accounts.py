"""The executor of an unfreeze: a frozen bank account sends money again only when a second
member of staff agrees (decision 0041).

Freezing stays one person's act: it stops money, and speed matters when an account is
being drained. Unfreezing is the opposite: alone, an insider could free the account a
colleague froze for fraud, or free their accomplice's. Support or risk submit it with a
reason; another member of risk approves.

It runs as an :meth:`~.executors.Executor.effect` (the accounts service commits its own
transaction). It is idempotent: only this command opens a frozen account, so an account
found open again after a crash was opened by it, and that is answered as done.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ...adapters.store import Database
from ...domain.approvals import Kind, check_reason
from ...domain.errors import DomainError
from ...domain.identity import Principal
from ..banking.accounts import BankAccounts, State, get_account
from .executors import Approval, Checked, Executor


class AccountUnfreeze(Executor):
    """Params ``{"account_id", "reason"}``."""

    kind = Kind.ACCOUNT_UNFREEZE

    def __init__(self, database: Database, accounts: BankAccounts) -> None:
        self._database = database
        self._accounts = accounts

    def check(self, params: Mapping[str, Any], submitter: Principal) -> Checked:
        account_id, reason = params.get("account_id"), check_reason(params.get("reason"))
        with self._database.engine.connect() as conn:
            account = get_account(conn, account_id) if isinstance(account_id, str) else None
        if account is None:
            raise DomainError("not_found", "no such account")
        if account.state is not State.FROZEN:
            raise DomainError("account_state_invalid", f"account {account.id} is "
                              f"{account.state}, not frozen")
        return Checked({"account_id": account.id, "reason": reason},
                       f"Unfreeze account {account.id}: {reason}", subject=account.user_id)

    def effect(self, approval: Approval) -> dict[str, Any]:
        p = approval.params
        with self._database.engine.connect() as conn:
            account = get_account(conn, p["account_id"])
        if account is not None and account.state is State.OPEN:
            return {"account_id": account.id, "state": str(State.OPEN)}  # done before a crash
        done = self._accounts.unfreeze(p["account_id"], reason=p["reason"],
                                       actor=f"{approval.submitted_by}+{approval.decided_by}")
        return {"account_id": done.id, "state": str(done.state)}
