"""After a failover: is everything a client saw acknowledged there, exactly once?

Read from the cluster's new primary. Ledger transfers: every acknowledged id is a row,
and the benchmark accounts' posted totals equal the number of its transfer rows (a
transfer applied twice, under any id, would break the equality). Escrow: every payment
a transition was acknowledged for has reached at least that transition's state, and
each buyer's wallet was debited exactly once per paid payment. Then ``paywarden verify``
(the ledger's invariants and the audit log) runs as its own process.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import Engine, bindparam, text

from ...api.ids import account_id_from_str
from ..payments.flows import PRICE
from ..payments.parties import Shopper
from .load import Ack, LedgerAccounts

# How far each acknowledged transition takes a payment (its state must be at least that).
_REACHED = {"checkout": 0, "pay": 1, "ship": 2, "confirm": 3}
_RANK = {"created": 0, "under_review": 1, "held": 1, "shipped": 2, "released": 3}
_PAID = ("under_review", "held", "shipped", "released")  # the buyer's wallet was debited
VERIFY_TIMEOUT_S = 600


@dataclass(frozen=True)
class Found:
    acknowledged: int
    lost: list[str]
    duplicated: list[str]

    def public(self) -> dict[str, object]:
        return {"acknowledged": self.acknowledged, "lost": len(self.lost),
                "duplicated": len(self.duplicated), "lost_examples": self.lost[:5],
                "duplicated_examples": self.duplicated[:5]}


def check(engine: Engine, acks: Iterable[Ack], accounts: LedgerAccounts,
          shoppers: list[Shopper]) -> Found:
    acks = list(acks)
    transfers = [a.key for a in acks if a.kind == "transfer"]
    transitions: dict[str, int] = {}
    for ack in acks:
        if ack.kind != "transfer":
            transitions[ack.key] = max(transitions.get(ack.key, 0), _REACHED[ack.kind])
    lost: list[str] = []
    duplicated: list[str] = []
    with engine.connect() as conn:
        conn.execution_options(isolation_level="REPEATABLE READ")  # one snapshot for all
        present = {r[0] for r in conn.execute(text(
            "SELECT id FROM transfers WHERE id IN :ids").bindparams(
            bindparam("ids", expanding=True)), {"ids": transfers or [""]})}
        lost += [f"transfer {t}" for t in transfers if t not in present]
        rows = conn.execute(text("SELECT count(*), count(DISTINCT id) FROM transfers "
                                 "WHERE id LIKE 'ha-%'")).one()
        if rows[0] != rows[1]:
            duplicated.append(f"{rows[0] - rows[1]} transfer ids stored twice")
        ids = [account_id_from_str(a) for a in accounts.ids]
        posted = conn.execute(text(
            "SELECT coalesce(sum(debits_posted), 0) FROM accounts WHERE id IN :ids"
        ).bindparams(bindparam("ids", expanding=True)), {"ids": ids}).scalar_one()
        if posted != rows[0]:
            duplicated.append(f"the benchmark accounts' debits ({posted}) differ from its "
                              f"{rows[0]} transfers of 1")
        states: dict[str, str] = dict(conn.execute(text("SELECT id, state FROM payments WHERE id IN :ids")
                                   .bindparams(bindparam("ids", expanding=True)),
                                   {"ids": list(transitions) or [""]}).all())
        lost += [f"payment {p} ({reached}, found {states.get(p)})"
                 for p, reached in transitions.items()
                 if _RANK.get(states.get(p, ""), -1) < reached]
        paid: dict[str, int] = defaultdict(int)
        for buyer, count in conn.execute(text(
                "SELECT buyer_id, count(*) FROM payments WHERE state IN :paid "
                "GROUP BY buyer_id").bindparams(bindparam("paid", expanding=True)),
                {"paid": list(_PAID)}):
            paid[buyer] = count
        for buyer in (b for shopper in shoppers for b in shopper.buyers):
            debited = conn.execute(text("SELECT debits_posted FROM accounts WHERE id = :id"),
                                   {"id": buyer.wallet.id}).scalar_one()
            if debited != paid[buyer.id] * PRICE.amount_minor:
                duplicated.append(f"wallet of {buyer.id}: debited {debited}, paid "
                                  f"{paid[buyer.id]} x {PRICE.amount_minor}")
    return Found(len(acks), lost, duplicated)


def verify(env: dict[str, str]) -> dict[str, object]:
    """``paywarden verify --json`` against the cluster: its answer."""
    done = subprocess.run([sys.executable, "-m", "paywarden", "verify", "--json"],
                          env={**os.environ, **env}, capture_output=True, text=True,
                          timeout=VERIFY_TIMEOUT_S, check=False)
    try:
        answer: dict[str, object] = json.loads(done.stdout.strip().splitlines()[-1])
    except (IndexError, ValueError):
        return {"ok": False, "violations": [{"check": "verify_failed",
                                             "detail": done.stderr[-500:]}]}
    return answer
