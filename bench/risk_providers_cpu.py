#!/usr/bin/env python3
"""CPU per feature provider: ``python bench/risk_providers_cpu.py [DATABASE_URL]``.

A platform on a scratch SQLite file (or the database given), one subject with a payee, a
merchant and a card; each provider's ``compute()`` timed with ``time.process_time`` over
2,000 screenings' contexts on the engine's compiled reads. The last line of stdout is
JSON: microseconds of CPU per call, per provider, and their sum.
"""

from __future__ import annotations

import json
import sys
import tempfile
import time
from pathlib import Path

try:
    import paywarden  # noqa: F401
except ImportError:
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))

from paywarden.adapters.clock import FakeClock
from paywarden.adapters.store import open_database
from paywarden.bootstrap import build
from paywarden.services.risk import Context, Subject
from paywarden.services.risk.sanctions import SAMPLE_LIST
from paywarden.settings import Settings

CALLS = 2_000


def main() -> int:
    tmp = Path(tempfile.mkdtemp(prefix="paywarden-providers-"))
    url = sys.argv[1] if len(sys.argv) > 1 else f"sqlite:///{tmp}/p.db"
    clock = FakeClock(1_767_225_600 * 10**9)
    database = open_database(url)
    database.migrate()
    platform = build(Settings(database_url=url, data_dir=tmp, public_url="https://bank.example"),
                     clock=clock, database=database)
    platform.start()
    platform.sanctions.load(SAMPLE_LIST, actor="cli:bench")
    subject = Subject(operation="bank.external", object_id="m1", kind="external",
                      user_id="usr_x", amount_minor=12_00, currency="EUR", account_id="acc_x",
                      counterparty="DE89370400440532013000", counterparty_name="Jane Example",
                      merchant_id="mer_x", card_bin="411111", card_fingerprint="ab" * 16)
    risk = platform.risk
    out: dict[str, float] = {}
    try:
        for provider in risk.providers:
            def once() -> None:
                ctx = Context(risk.reads, subject, clock.now_ns(),
                              keys=["customer:usr_x", "payee:x"])
                with risk.reads.lent():
                    provider.compute(ctx)  # noqa: B023 - called in this iteration only
            for _ in range(50):
                once()
            t0 = time.process_time()
            for _ in range(CALLS):
                once()
            out[type(provider).__name__] = round((time.process_time() - t0) / CALLS * 1e6, 1)
    finally:
        platform.stop()
    print(json.dumps({"cpu_us": out, "total_cpu_us": round(sum(out.values()), 1),
                      "database": url.split(":", 1)[0]}, sort_keys=True))
    return 0


if __name__ == "__main__":
    sys.exit(main())
