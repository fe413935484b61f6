"""``paywarden clearing recall | recalls | recall-refuse | recall-accept``: asking
another bank for a transfer back, and answering when another bank asks (camt.056 /
camt.029, decision 0061).

    recall UETR --reason R [--amount N]   ask for one of our settled transfers back; a
                                          recall moves no money, the answer comes later
    recalls [--state open] --json         the cases this node asked, relayed or received
    recall-refuse CASE --reason R         answer no (ISO reason); no money moves
    recall-accept CASE                    answer yes: submits the return of the recalled
                                          amount for approval (four eyes, like
                                          ``clearing return``); the yes is sent once
                                          another member of risk approves
"""

from __future__ import annotations

import json
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from ..bootstrap import Platform
from ..domain.clearing.messages import RECALL_REASONS, RECALL_REFUSALS
from ..services.clearing.bank import ClearingBank
from ..services.clearing.recall_cases import Case
from .clearing import clearing_app
from .clearing_nodes import REFUSED_EXIT, Json, _node
from .common import err, operator_actor, submit_for_approval

out = Console()


def _bank(platform: Platform) -> ClearingBank:
    bank = platform.clearing_bank
    if bank is None:
        err.print("[red]this node is not a participant bank[/red]: set PAYWARDEN_CLEARING_HUB")
        raise typer.Exit(REFUSED_EXIT)
    return bank


def _line(case: Case) -> str:
    answer = {"open": "waiting for an answer", "accepted": "accepted: the money comes back "
              "as a return", "refused": f"refused ({case.answer_reason})"}[case.state]
    undelivered = "; not delivered yet, sent again by the chore" if case.owed else ""
    return (f"case {case.case_id}: recall of {case.original_uetr} "
            f"({case.amount.amount_minor} {case.amount.currency}, {case.reason}), "
            f"{answer}{undelivered}")


@clearing_app.command("recall")
def recall(uetr: Annotated[str, typer.Argument(help="our settled transfer's UETR")],
           reason: Annotated[str, typer.Option(
               help="ISO cancellation reason: " + ", ".join(sorted(RECALL_REASONS)))],
           amount: Annotated[int | None, typer.Option(
               min=1, help="minor units; the whole transfer when left out")] = None,
           as_json: Json = False) -> None:
    """Ask the bank we paid for a settled transfer back (camt.056); prints the case."""
    with _node(started=False) as platform:
        case = _bank(platform).recalls.request(uetr, reason=reason, amount_minor=amount,
                                               actor=operator_actor())
    print(json.dumps(case.public()) if as_json else _line(case))


@clearing_app.command("recalls")
def recalls(state: Annotated[str | None, typer.Option(
                help="open, accepted or refused")] = None,
            as_json: Json = False) -> None:
    """The recall cases this node asked, relayed or received, newest first."""
    with _node(started=False) as platform:
        assert platform.clearing is not None and platform.clearing.cases is not None
        cases = platform.clearing.cases.list(state=state)
    if as_json:
        print(json.dumps({"recalls": [c.public() for c in cases]}))
        return
    table = Table(title="recalls")
    for column in ("case", "role", "transfer", "amount", "reason", "state", "answer"):
        table.add_column(column)
    for c in cases:
        table.add_row(c.case_id, c.role, c.original_uetr,
                      f"{c.amount.amount_minor:,} {c.amount.currency}", c.reason, c.state,
                      c.answer_reason or "")
    out.print(table)


@clearing_app.command("recall-refuse")
def recall_refuse(case_id: Annotated[str, typer.Argument(help="the recall's case id")],
                  reason: Annotated[str, typer.Option(
                      help="ISO reason: " + ", ".join(sorted(RECALL_REFUSALS)))],
                  as_json: Json = False) -> None:
    """Answer another bank's recall no (camt.029); no money moves."""
    with _node(started=False) as platform:
        case = _bank(platform).recalls.refuse(case_id, reason=reason,
                                              actor=operator_actor())
    print(json.dumps(case.public()) if as_json else _line(case))


@clearing_app.command("recall-accept")
def recall_accept(case_id: Annotated[str, typer.Argument(help="the recall's case id")]
                  ) -> None:
    """Submit the yes to another bank's recall for approval (four eyes: the return of
    the recalled amount, reason FOCR); prints the approval id."""
    submit_for_approval("support", "clearing_return", {"case_id": case_id})
