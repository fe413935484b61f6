"""A child process for the concurrency and crash tests: an engine of its own.

    python -m tests.integration.ledger_worker drain URL PREFIX COUNT AMOUNT
        submit COUNT transfers of AMOUNT from account 2 to 3, print the results as JSON
    python -m tests.integration.ledger_worker ack URL PREFIX
        submit transfers forever, printing "ACK id" after each acknowledged batch
"""

from __future__ import annotations

import json
import sys

from paywarden.adapters.clock import SystemClock
from paywarden.adapters.store import open_database
from paywarden.domain.ledger import Transfer
from paywarden.services.ledger import LedgerEngine

EUR = 978


def drain(url: str, prefix: str, count: int, amount: int) -> None:
    engine = LedgerEngine(open_database(url), clock=SystemClock()).start()
    futures = [engine.submit([Transfer(f"{prefix}-{i}", 2, 3, amount, EUR, 1)])
               for i in range(count)]
    results = [f.result()[0].value for f in futures]
    engine.stop()
    print(json.dumps(results))


def ack(url: str, prefix: str) -> None:
    engine = LedgerEngine(open_database(url), clock=SystemClock()).start()
    n = 0
    while True:
        batch = [Transfer(f"{prefix}-{n + i}", 1, 2 + (n + i) % 2, 1 + (n + i) % 7, EUR, 1)
                 for i in range(50)]
        n += 50
        results = engine.execute(batch)
        for t, r in zip(batch, results):
            if r.value == "ok":
                sys.stdout.write(f"ACK {t.id}\n")
        sys.stdout.flush()


if __name__ == "__main__":
    command, url, prefix, *rest = sys.argv[1:]
    if command == "drain":
        drain(url, prefix, int(rest[0]), int(rest[1]))
    else:
        ack(url, prefix)
