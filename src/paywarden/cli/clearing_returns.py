"""``paywarden clearing return UETR --reason CODE``: send back a transfer another bank
paid one of this bank's customers (pacs.004, decision 0060).

It takes money out of a customer's account without the customer, so it is four-eyes:
the command submits a ``clearing_return`` approval as the host's support role and prints
its id; another member of risk approves it with their passkey, and only then is the
account debited and the pacs.004 sent. What came of it: ``paywarden clearing payments``.
"""

from __future__ import annotations

from typing import Annotated, Any

import typer

from ..domain.clearing.messages import RETURN_REASONS
from .clearing import clearing_app
from .common import submit_for_approval


@clearing_app.command("return")
def return_(uetr: Annotated[str, typer.Argument(help="the incoming transfer's UETR")],
            reason: Annotated[str, typer.Option(
                help="ISO return reason: " + ", ".join(sorted(RETURN_REASONS)))],
            amount: Annotated[int | None, typer.Option(
                min=1, help="minor units; the whole transfer when left out")] = None) -> None:
    """Submit returning a settled transfer from another bank for approval (four eyes:
    a member of risk approves with a passkey); prints the approval id."""
    params: dict[str, Any] = {"uetr": uetr, "reason": reason}
    if amount is not None:
        params["amount"] = amount
    submit_for_approval("support", "clearing_return", params)
