"""An approved command runs once, whatever dies: a real process approving a staff refund is
SIGKILLed after the approval commits and after the refund commits, and the approval is
finished by the approver asking again or by the maintenance chore. Each refund moved
once, each approval ended executed, and the ledger and the audit log verify."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from paywarden.adapters.clock import FakeClock
from paywarden.adapters.store import Database
from paywarden.api import create_app
from paywarden.services.audit.verify import verify_audit
from paywarden.services.ledger.verify import verify_ledger

from ..support.approvals import evidence, passkey_staff
from ..support.merchants import PUBLIC_URL, client_for, platform_for
from .test_approvals import balance, paid

AMOUNT = 1_000
CHILD_TIMEOUT_S = 120
# The point the first process dies at, and how the approval is finished afterwards.
POINTS = (("approval.approved:1", "approve"), ("approval.effect:1", "approve"),
          ("approval.approved:1", "resume"), ("approval.effect:1", "resume"))
APPROVE = """
import json, os, sys
from paywarden.bootstrap import build
from paywarden.settings import Settings
platform = build(Settings())
platform.start()
try:
    if sys.argv[1] == "resume":
        platform.approvals.resume()
        done = platform.approvals.get(sys.argv[2])
    else:
        principal = platform.sessions.authenticate(os.environ["APPROVER_TOKEN"])
        done = platform.approvals.approve(principal, sys.argv[2], evidence_id=sys.argv[3])
    print(json.dumps({"state": str(done.state), "result": done.result}))
finally:
    platform.stop()
"""


def _run(env: dict[str, str], *args: str, crash_at: str | None = None
         ) -> subprocess.CompletedProcess[str]:
    child_env = {**env, **({"PAYWARDEN_CRASH_AT": crash_at} if crash_at else {})}
    return subprocess.run([sys.executable, "-c", APPROVE, *args], env=child_env,
                          capture_output=True, text=True, timeout=CHILD_TIMEOUT_S, check=False)


@pytest.mark.slow
def test_an_approval_killed_after_any_step_is_carried_out_once(
        database: Database, database_url: str, clock: FakeClock, tmp_path: Path) -> None:
    clock.advance(ns=time.time_ns() - clock.now_ns())  # the children run on the real clock
    platform = platform_for(database, clock, tmp_path)
    with client_for(create_app(platform)) as api:
        api.app.state.platform = platform  # type: ignore[attr-defined]
        payment_id, wallet = paid(api)
        ann, ben = passkey_staff(api, "ann", "risk"), passkey_staff(api, "ben", "risk")
        asked = []
        for n in range(len(POINTS)):
            r = api.post(f"/v1/payments/{payment_id}/refunds", headers=ann.headers,
                         json={"amount": AMOUNT, "refund_id": f"r-{n}"})
            assert r.status_code == 202, r.text
            approval = r.json()["approval"]
            asked.append((approval["id"], evidence(api, ben, approval, "approve")))
        before = balance(api, wallet)
    env = {**os.environ, "PAYWARDEN_DATABASE_URL": database_url,
           "PAYWARDEN_DATA_DIR": str(tmp_path), "PAYWARDEN_PUBLIC_URL": PUBLIC_URL,
           "PAYWARDEN_LOG_JSON": "true", "APPROVER_TOKEN": ben.token}

    for (point, finish), (approval_id, proof) in zip(POINTS, asked, strict=True):
        killed = _run(env, "approve", approval_id, proof, crash_at=point)
        assert killed.returncode == -signal.SIGKILL, (point, killed.stderr[-2000:])
        again = _run(env, finish, approval_id, proof)
        assert again.returncode == 0, (point, again.stderr[-2000:])
        done = json.loads(again.stdout.strip().splitlines()[-1])
        assert done["state"] == "executed", (point, finish, done)
        assert done["result"]["refund_id"] == f"r-{asked.index((approval_id, proof))}"
        twice = json.loads(_run(env, "approve", approval_id, proof).stdout
                           .strip().splitlines()[-1])
        assert twice == done, point  # asked once more: the same outcome, nothing moves

    platform = platform_for(database, clock, tmp_path)
    with client_for(create_app(platform)) as api:
        api.app.state.platform = platform  # type: ignore[attr-defined]
        assert balance(api, wallet) == before + len(POINTS) * AMOUNT
    assert verify_ledger(database) == []
    assert verify_audit(database) == []
