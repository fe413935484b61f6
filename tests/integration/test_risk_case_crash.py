"""An analyst's outcome happens once, whatever dies: a real process answering a case is
SIGKILLed after each step — the outcome claimed, the held money released or voided, the
case completed — and another process answers the same case again (with the *other*
outcome, as a second analyst might). The first outcome stands, the held money moved once,
the customer was told once, and the ledger and the audit log verify."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import func, select

from paywarden.adapters.clock import FakeClock
from paywarden.adapters.store import Database
from paywarden.adapters.store.schema import (
    bank_transfers,
    notifications,
    risk_case_outcomes,
    risk_decisions,
)
from paywarden.services.audit.verify import verify_audit
from paywarden.services.ledger.verify import verify_ledger

from ..support.merchants import PUBLIC_URL
from ..support.transfers import COOLING_S, add_payee, balances, customer, send, transfer_api, wait

# Each point, the outcome the killed process gave, and the held money's end state.
POINTS = (("risk_case.claimed:1", "release", "posted"),
          ("risk_case.resolved:1", "decline", "voided"),
          ("risk_case.completed:1", "release", "posted"))
OTHER = {"release": "decline", "decline": "release"}
QUICK = 10 + len(POINTS)  # from the 11th transfer in a minute on, each is held
AMOUNT = 3_00
CHILD_TIMEOUT_S = 120
ANSWER = """
import json, sys
from pathlib import Path
from paywarden.bootstrap import build
from paywarden.settings import Settings
platform = build(Settings())
platform.start()
try:
    done = platform.risk_cases.answer(sys.argv[1], outcome=sys.argv[2], reason="checked",
                                      actor="usr_analyst_" + sys.argv[2])
    print(json.dumps(done.public()))
finally:
    platform.stop()
"""


def _answer(env: dict[str, str], case_id: str, outcome: str,
            crash_at: str | None = None) -> subprocess.CompletedProcess[str]:
    child_env = {**env, **({"PAYWARDEN_CRASH_AT": crash_at} if crash_at else {})}
    return subprocess.run([sys.executable, "-c", ANSWER, case_id, outcome], env=child_env,
                          capture_output=True, text=True, timeout=CHILD_TIMEOUT_S,
                          check=False)


@pytest.mark.slow
def test_a_case_answer_killed_after_any_step_is_carried_out_once(
        database: Database, database_url: str, clock: FakeClock, tmp_path: Path) -> None:
    api_cm = transfer_api(database, clock, tmp_path)
    api = next(api_cm)
    try:
        ada = customer(api, "ada", funds=500_00)
        bob = customer(api, "bob")
        payee = add_payee(api, ada, "Bob", bob.account["iban"])
        wait(api, COOLING_S + 60, ada)  # adding the payee was screened too: out of the hour
        answers = [send(api, ada, payee, AMOUNT, f"t{i}").json() for i in range(QUICK)]
        held = [a["id"] for a in answers if a["state"] == "held"]
        assert len(held) == len(POINTS), answers
        ada_before, bob_before = balances(api, ada)[0], balances(api, bob)[0]
    finally:
        api_cm.close()  # one process on the database at a time: the children's turn
    with database.engine.connect() as conn:
        cases = {row.object_id: row.id for row in conn.execute(select(
            risk_decisions.c.id, risk_decisions.c.object_id).where(
            risk_decisions.c.decision == "review", risk_decisions.c.object_id.in_(held)))}
    env = {**os.environ, "PAYWARDEN_DATABASE_URL": database_url,
           "PAYWARDEN_DATA_DIR": str(tmp_path), "PAYWARDEN_PUBLIC_URL": PUBLIC_URL,
           "PAYWARDEN_LOG_JSON": "true"}

    for (point, outcome, state), movement in zip(POINTS, held, strict=True):
        killed = _answer(env, cases[movement], outcome, crash_at=point)
        assert killed.returncode == -signal.SIGKILL, (point, killed.stderr[-2000:])
        again = _answer(env, cases[movement], OTHER[outcome])
        assert again.returncode == 0, (point, again.stderr[-2000:])
        answered = json.loads(again.stdout.strip().splitlines()[-1])
        assert (answered["outcome"], answered["created"]) == (outcome, False), point
        assert answered["result"] == state, point
        twice = json.loads(_answer(env, cases[movement], OTHER[outcome]).stdout
                           .strip().splitlines()[-1])
        assert (twice["outcome"], twice["result"]) == (outcome, state), point

    with database.engine.connect() as conn:
        states = dict(conn.execute(select(bank_transfers.c.id, bank_transfers.c.state).where(
            bank_transfers.c.id.in_(held))).all())
        outcomes = dict(conn.execute(select(risk_case_outcomes.c.decision_id,
                                            risk_case_outcomes.c.outcome)).all())
        told = conn.execute(select(func.count()).select_from(notifications).where(
            notifications.c.kind.like("review_%"))).scalar_one()
    assert [states[m] for m in held] == [state for _, _, state in POINTS]
    assert [outcomes[cases[m]] for m in held] == [outcome for _, outcome, _ in POINTS]
    assert told == len(POINTS)  # once per case, whichever process completed it
    posted = sum(AMOUNT for _, _, state in POINTS if state == "posted")
    api_cm = transfer_api(database, clock, tmp_path)
    api = next(api_cm)
    try:
        assert balances(api, ada)[0] == ada_before - posted
        assert balances(api, bob)[0] == bob_before + posted
    finally:
        api_cm.close()
    assert verify_ledger(database) == []
    assert verify_audit(database) == []
