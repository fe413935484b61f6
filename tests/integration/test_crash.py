"""SIGKILL a process that acknowledges transfers, many times: nothing acknowledged is lost."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import threading
import time

from sqlalchemy import text

from paywarden.adapters.store import Database
from paywarden.services.ledger import LedgerEngine, NewAccount
from paywarden.services.ledger.verify import verify_ledger

EUR = 978
KILLS = 12


def _read_acks(child: subprocess.Popen[str], acked: list[str]) -> None:
    assert child.stdout is not None
    for line in child.stdout:
        if line.startswith("ACK "):
            acked.append(line[4:].strip())


def test_every_acknowledged_transfer_survives_sigkill_and_verify_passes(
        engine: LedgerEngine, database: Database, database_url: str) -> None:
    engine.create_accounts([NewAccount(i, EUR, 1) for i in (1, 2, 3)]).result()
    engine.stop()
    rng = random.Random(os.environ.get("PAYWARDEN_CRASH_SEED", "2026"))
    for round_no in range(KILLS):
        acked: list[str] = []
        child = subprocess.Popen(
            [sys.executable, "-m", "tests.integration.ledger_worker", "ack", database_url,
             f"r{round_no}"], stdout=subprocess.PIPE, text=True)
        reader = threading.Thread(target=_read_acks, args=(child, acked))
        reader.start()
        deadline = time.monotonic() + 60
        while not acked and time.monotonic() < deadline:
            time.sleep(0.01)  # kill only once it is really writing
        time.sleep(rng.uniform(0.0, 0.4))
        child.send_signal(signal.SIGKILL)
        child.wait(timeout=30)
        reader.join(timeout=30)
        assert child.stdout is not None
        child.stdout.close()
        assert acked, f"round {round_no}: the child acknowledged nothing"
        with database.engine.connect() as conn:
            stored = {r[0] for r in conn.execute(
                text("SELECT id FROM transfers WHERE id LIKE :p"), {"p": f"r{round_no}-%"})}
        missing = set(acked) - stored
        assert not missing, f"round {round_no}: acknowledged but lost: {sorted(missing)[:5]}"
        assert verify_ledger(database) == [], f"round {round_no}"
